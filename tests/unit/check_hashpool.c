/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the hashing processes and their queues (daemon/hashpool.c,
 * daemon/hasher.c) with real processes on a real epoll, as the master
 * runs them, but without workers: checks are submitted as the master's
 * auth.c does, and their ends are collected. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/passwd.h"
#include "daemon/events.h"
#include "daemon/hashpool.h"

#define MAX_DONE 64

static struct {
	unsigned w;
	uint32_t slot;
	int result;
	bool cancelled;
} done[MAX_DONE];
static unsigned n_done;
static int ep = -1;
static struct passwd_db *db1, *db2;

static void on_done(const struct hash_done *d)
{
	ck_assert_uint_lt(n_done, MAX_DONE);
	done[n_done].w = d->w;
	done[n_done].slot = d->ref.slot;
	done[n_done].result = d->result;
	done[n_done].cancelled = d->cancelled;
	n_done++;
}

static void forget(void)
{
}

static struct passwd_db *db_of(const char *user, const char *pass, const char *method)
{
	char h[256], text[1024], err[256];
	struct passwd_db *db = NULL;

	ck_assert_int_eq(passwd_hash(pass, method, h, sizeof(h)), 0);
	snprintf(text, sizeof(text), "%s:%s\nlocked:!%s\n", user, h, h);
	ck_assert_msg(passwd_db_parse(text, strlen(text), "t.pw", &db, err, sizeof(err)) == 0, "%s",
		      err);
	return db;
}

static void start(unsigned n, unsigned workers, const struct passwd_db *db)
{
	struct hashpool_env env = {.n = n, .n_workers = workers, .forget = forget, .done = on_done};

	env.id.uid = getuid();
	env.id.gid = getgid();
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	n_done = 0;
	ck_assert_int_eq(hashpool_setup(ep, &env), 0);
	ck_assert_int_eq(hashpool_start(db), 0);
}

static void setup(void)
{
	db1 = db_of("alice", "one", "$6$");
	db2 = db_of("alice", "two", "$6$");
}

static void teardown(void)
{
	hashpool_free();
	if (ep >= 0)
		close(ep);
	ep = -1;
	passwd_db_free(db1);
	passwd_db_free(db2);
}

static int submit(unsigned w, uint32_t slot, const char *user, const char *pass, unsigned max)
{
	struct ipc_msg m = {.type = IPC_AUTH_REQ, .ref = {slot, 1}};

	snprintf(m.u.auth_req.user, sizeof(m.u.auth_req.user), "%s", user);
	snprintf(m.u.auth_req.pass, sizeof(m.u.auth_req.pass), "%s", pass);
	snprintf(m.u.auth_req.peer, sizeof(m.u.auth_req.peer), "198.18.0.%u:1", slot);
	return hashpool_submit(w, &m, max);
}

/* The master's loop, for the pool only, until want checks have ended (at
 * most 20 s). */
static void run_until(unsigned want)
{
	struct epoll_event evs[8];
	time_t end = time(NULL) + 20;

	while (n_done < want && time(NULL) < end) {
		int n = epoll_wait(ep, evs, 8, 1000);
		for (int i = 0; i < n; i++) {
			ck_assert_uint_eq(ev_kind_of(&evs[i]), EV_HASHER);
			hashpool_on_event(ev_index_of(&evs[i]), evs[i].events);
		}
		hashpool_reap();
		hashpool_tick(time(NULL));
	}
	ck_assert_uint_eq(n_done, want);
}

static unsigned done_at(unsigned w, uint32_t slot)
{
	for (unsigned i = 0; i < n_done; i++)
		if (done[i].w == w && done[i].slot == slot)
			return i;
	ck_abort_msg("check %u/%u never ended", w, slot);
	return 0;
}

/* Answers come back right, and a free process takes the workers in turn:
 * worker 0's backlog does not hold up workers 1 and 2. */
START_TEST(test_answers_in_turn)
{
	/* One process: answers come back in the order the checks went out,
	 * whatever the scheduler does (with two, a slow process could finish
	 * its one check after the other's two). */
	start(1, 3, db1);
	ck_assert_int_eq(submit(0, 1, "alice", "one", 10), 0);
	ck_assert_int_eq(submit(0, 2, "alice", "bad", 10), 0);
	ck_assert_int_eq(submit(0, 3, "nobody", "one", 10), 0);
	ck_assert_int_eq(submit(0, 4, "locked", "one", 10), 0);
	ck_assert_int_eq(submit(1, 5, "alice", "one", 10), 0);
	ck_assert_int_eq(submit(2, 6, "alice", "one", 10), 0);
	ck_assert_uint_eq(hashpool_pending(0), 4);
	run_until(6);
	ck_assert_int_eq(done[done_at(0, 1)].result, PW_OK);
	ck_assert_int_eq(done[done_at(0, 2)].result, PW_BAD_PASSWORD);
	ck_assert_int_eq(done[done_at(0, 3)].result, PW_UNKNOWN_USER);
	ck_assert_int_eq(done[done_at(0, 4)].result, PW_LOCKED);
	ck_assert_int_eq(done[done_at(1, 5)].result, PW_OK);
	/* Worker 0's first went out at once; then workers 1 and 2 came
	 * before worker 0's second, third and fourth. */
	ck_assert_uint_eq(done_at(0, 1), 0);
	ck_assert_uint_lt(done_at(1, 5), done_at(0, 2));
	ck_assert_uint_lt(done_at(2, 6), done_at(0, 2));
	ck_assert_uint_lt(done_at(0, 2), done_at(0, 3));
	ck_assert_uint_lt(done_at(0, 3), done_at(0, 4));
	for (unsigned i = 0; i < n_done; i++)
		ck_assert(!done[i].cancelled);
	ck_assert_uint_eq(hashpool_pending(0), 0);
}
END_TEST

/* A check withdrawn while it waits is dropped without an end; one
 * withdrawn while it is hashed ends with cancelled set; a dead worker's
 * checks go the same ways. */
START_TEST(test_cancel)
{
	start(1, 2, db1);
	ck_assert_int_eq(submit(0, 1, "alice", "one", 10), 0); /* sent at once */
	ck_assert_int_eq(submit(0, 2, "alice", "one", 10), 0);
	ck_assert_int_eq(submit(0, 3, "alice", "bad", 10), 0);
	ck_assert_int_eq(submit(1, 4, "alice", "one", 10), 0);
	ck_assert_int_eq(submit(1, 5, "alice", "one", 10), 0);
	hashpool_cancel(0, (struct ipc_ref){2, 1});
	hashpool_cancel(0, (struct ipc_ref){1, 1});
	hashpool_cancel(0, (struct ipc_ref){9, 1}); /* not there: nothing */
	hashpool_drop_worker(1);
	ck_assert_uint_eq(hashpool_pending(0), 2); /* 1 being hashed, 3 waiting */
	ck_assert_uint_eq(hashpool_pending(1), 0);
	run_until(2);
	usleep(100 * 1000);
	run_until(2); /* and nothing more comes */
	ck_assert_uint_eq(done[0].slot, 1);
	ck_assert(done[0].cancelled);
	ck_assert_int_eq(done[0].result, PW_OK);
	ck_assert_uint_eq(done[1].slot, 3);
	ck_assert(!done[1].cancelled);
	ck_assert_int_eq(done[1].result, PW_BAD_PASSWORD);
}
END_TEST

/* limits.max-pending-logins, per worker: the queue of one worker is
 * bounded, the others are not affected. */
START_TEST(test_bound_per_worker)
{
	start(1, 2, db1);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(submit(0, i, "alice", "bad", 3), 0);
	ck_assert_int_eq(submit(0, 3, "alice", "bad", 3), -EBUSY);
	ck_assert_int_eq(submit(1, 4, "alice", "one", 3), 0);
	ck_assert_int_eq(submit(7, 5, "alice", "one", 3), -EINVAL); /* no such worker */
	run_until(4);
	ck_assert_int_eq(submit(0, 6, "alice", "one", 3), 0);
	run_until(5);
}
END_TEST

/* A reload: checks in progress are run again by new processes, with the
 * new db; the old processes are gone. */
START_TEST(test_restart)
{
	start(1, 1, db1);
	ck_assert_int_eq(submit(0, 1, "alice", "two", 10), 0);
	ck_assert_int_eq(submit(0, 2, "alice", "one", 10), 0);
	hashpool_restart(db2);
	run_until(2);
	ck_assert_int_eq(done[done_at(0, 1)].result, PW_OK);
	ck_assert_int_eq(done[done_at(0, 2)].result, PW_BAD_PASSWORD);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hashpool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_answers_in_turn);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_bound_per_worker);
	tcase_add_test(tc, test_restart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
