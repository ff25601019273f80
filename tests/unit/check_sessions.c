/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the master's session table (daemon/sessions.c): the byte it
 * writes into the shared owner[] map, what a forked worker can still find
 * of the keys that seal the sessions' cookies (daemon/cookies.c), and the
 * bookkeeping that spares a login a walk of the table (the free slot it
 * takes, its user's count of sessions). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secmem.h"
#include "daemon/cookies.h"
#include "daemon/sessions.h"

#define CONF                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"passwd\"; };\n"                                                \
	"network = { ipv4-pool = \"198.18.0.0/16\"; };\n"

static struct cfg cfg;
static struct sess_table t;
static uint8_t *owner;

static void setup(void)
{
	char err[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(CONF, "t.conf", &cfg, err, sizeof(err)) == 0, "%s", err);
	owner = calloc(POOL_MAX_SIZE, 1);
	ck_assert_ptr_nonnull(owner);
	ck_assert_int_eq(sess_table_init(&t, &cfg, owner), 0);
}

static void teardown(void)
{
	sess_table_free(&t);
	free(owner);
	cfg_free(&cfg);
}

/* #15: owner[lease] is worker slot + 1 in a byte, 0 meaning nobody.  Every
 * slot a config allows must come out non-zero; slot 255 cannot, so it is
 * refused rather than written as "nobody". */
START_TEST(test_bind_owner_byte)
{
	static const int slots[] = {0, 1, 127, 253, 254};
	struct ipc_ref ref = {1, 1};
	struct session *s;

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		s = sess_create(&t, "alice", "198.18.0.2:1");
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(sess_bind(&t, s, slots[i], ref), 0);
		ck_assert_int_ge(s->lease, 0);
		ck_assert_uint_eq(owner[s->lease], (unsigned)slots[i] + 1);
		sess_unbind(&t, s);
		ck_assert_uint_eq(owner[s->lease], 0);
	}
	s = sess_create(&t, "bob", "198.18.0.3:1");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sess_bind(&t, s, 255, ref), -ERANGE);
	ck_assert_int_eq(sess_bind(&t, s, 256, ref), -ERANGE);
	ck_assert_int_eq(sess_bind(&t, s, -1, ref), -ERANGE);
	ck_assert_int_eq(s->worker, -1);
	ck_assert_uint_eq(t.tunnels, 0);
	ck_assert_int_eq(sess_bind(&t, s, 254, ref), 0);
	ck_assert_uint_eq(owner[s->lease], 255);
}
END_TEST

#define N_SESS 257 /* one more than the table's first size: it grows */
#define N_KEYS TICKET_MAX_KEYS

_Static_assert(TICKET_KEY_LEN == COOKIE_BYTES, "the scan looks for 32-byte secrets");

/* The test's own copy of the keys, inverted, so that scanning memory for
 * the keys cannot find this copy. */
static uint8_t inv[N_KEYS][COOKIE_BYTES];

static bool live_cookie_at(const uint8_t *p)
{
	for (unsigned i = 0; i < N_KEYS; i++) {
		unsigned k = 0;
		while (k < COOKIE_BYTES && (p[k] ^ inv[i][k]) == 0xff)
			k++;
		if (k == COOKIE_BYTES)
			return true;
	}
	return false;
}

/* Copies of live cookies in this process's writable private memory (heap,
 * anonymous mappings, stack, data), read through /proc/self/mem so that
 * free heap chunks are read as bytes, not as memory a checker (valgrind)
 * would call uninitialised. */
static unsigned scan_for_cookies(void)
{
	static uint8_t buf[(64 << 10) + COOKIE_BYTES];
	static uint8_t first[8192]; /* a bit per value of a cookie's first two bytes */
	unsigned found = 0;
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "re");
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	ck_assert_ptr_nonnull(maps);
	ck_assert_int_ge(mem, 0);
	memset(first, 0, sizeof(first));
	for (unsigned i = 0; i < N_KEYS; i++) {
		unsigned v = (unsigned)(inv[i][0] ^ 0xff) << 8 | (inv[i][1] ^ 0xff);
		first[v >> 3] |= (uint8_t)(1u << (v & 7));
	}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[8];

		/* Larger regions are reservations (a sanitizer's shadow memory),
		 * not the heap or a table of this test's size. */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || strcmp(perms, "rw-p") ||
		    hi - lo > (1ul << 30))
			continue;
		/* Chunks overlap by a cookie's length less one byte. */
		for (unsigned long at = lo; at < hi; at += sizeof(buf) - (COOKIE_BYTES - 1)) {
			size_t want = hi - at < sizeof(buf) ? hi - at : sizeof(buf);
			ssize_t n = pread(mem, buf, want, (off_t)at);

			for (ssize_t i = 0; i + COOKIE_BYTES <= n; i++) {
				unsigned v = (unsigned)buf[i] << 8 | buf[i + 1];
				if ((first[v >> 3] >> (v & 7) & 1) && live_cookie_at(buf + i))
					found++;
			}
			if (n < (ssize_t)sizeof(buf))
				break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	close(mem);
	fclose(maps);
	return found;
}

/* A key file of N_KEYS random keys, loaded and put in use; the test keeps
 * its inverted copy in inv. */
static void load_keys(void)
{
	char path[] = "/tmp/check_sessions.XXXXXX", err[CFG_ERR_LEN];
	struct cookie_ring *ring;
	uint8_t key[TICKET_KEY_LEN];
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < N_KEYS; i++) {
		ck_assert_int_eq((int)getrandom(key, sizeof(key), 0), (int)sizeof(key));
		fprintf(f, "%u ", i + 1);
		for (unsigned k = 0; k < sizeof(key); k++) {
			fprintf(f, "%02x", key[k]);
			inv[i][k] = (uint8_t)~key[k];
		}
		fprintf(f, "\n");
	}
	explicit_bzero(key, sizeof(key));
	ck_assert_int_eq(fclose(f), 0);
	cfg.cookie_key_file = path;
	ck_assert_msg(cookies_load(&cfg, &ring, err, sizeof(err)) == 0, "%s", err);
	cfg.cookie_key_file = NULL;
	unlink(path);
	cookies_commit(&ring);
	cookies_free(ring);
}

/* #16, now that cookies are sealed: the session table grows past its first
 * 256 slots (the array moves), the fleet keys are in use, then a worker is
 * forked and forgets as worker_child() does.  No copy of any key may be
 * left in its memory: not in the key ring, not in what the file was read
 * into, not on the stack. */
START_TEST(test_fork_inherits_no_cookie)
{
	void *pins[64];
	unsigned n_pins = 0;
	int status;
	pid_t pid;

	load_keys();
	for (unsigned i = 0; i < N_SESS; i++) {
		struct session *s = sess_create(&t, "alice", "198.18.0.2:1");
		ck_assert_ptr_nonnull(s);
		/* The master's other allocations land after the table, so
		 * growing a table kept on the heap moves it rather than
		 * extending it in place: a block past the table's end (an
		 * mmap'ed table lies above the heap: 64 tries, no more). */
		while (i == 255 && n_pins < 64 &&
		       (n_pins == 0 || (char *)pins[n_pins - 1] <= (char *)(t.s + t.cap))) {
			pins[n_pins] = malloc(4096);
			ck_assert_ptr_nonnull(pins[n_pins++]);
		}
	}
	ck_assert_uint_eq(t.count, N_SESS);
	ck_assert_uint_gt(t.cap, 256);
	/* Sanity: the scan sees the keys in use in this process. */
	ck_assert_uint_ge(scan_for_cookies(), N_KEYS);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsigned n;
		/* What a new worker does: worker_child() scrubs the stack and
		 * auth_forget() frees the table and the keys. */
		secmem_scrub_stack();
		sess_table_free(&t);
		cookies_forget();
		n = scan_for_cookies();
		if (n)
			fprintf(stderr, "child: %u copies of live keys\n", n);
		_exit(n ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "a forked child found live keys in its memory");
	cookies_forget();
	while (n_pins > 0)
		free(pins[--n_pins]);
}
END_TEST

static unsigned brute_user_count(const char *user)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < t.cap; i++)
		n += t.s[i].used && !strcmp(t.s[i].user, user);
	return n;
}

/* 4000 random creations and ends over 7 users, the table growing and
 * emptying: each new session takes the lowest free slot (what a walk from
 * slot 0 found, now found from a hint), and each user's count is what a
 * walk of the table counts. */
START_TEST(test_free_slot_and_user_counts)
{
	uint32_t rng = 12345, lowest;
	char user[IPC_USER_MAX];
	struct session *s;

	log_set_level(LOG_WARNING); /* not 2000 session-end lines */
	for (int op = 0; op < 4000; op++) {
		rng = rng * 1103515245u + 12345u;
		snprintf(user, sizeof(user), "user%u", (rng >> 16) % 7);
		/* Mostly creations until about 700 sessions, then both. */
		if ((rng >> 8) % 100 < (t.count < 700 ? 70u : 45u)) {
			for (lowest = 0; lowest < t.cap && t.s[lowest].used; lowest++)
				;
			s = sess_create(&t, user, "198.18.0.2:1");
			ck_assert_ptr_nonnull(s);
			ck_assert_uint_eq((uint32_t)(s - t.s), lowest);
		} else if (t.count) {
			uint32_t i = (rng >> 4) % t.cap;
			while (!t.s[i].used)
				i = (i + 1) % t.cap;
			snprintf(user, sizeof(user), "%s", t.s[i].user);
			sess_end(&t, &t.s[i], "test");
		}
		ck_assert_uint_eq(sess_user_count(&t, user), brute_user_count(user));
	}
	ck_assert_uint_gt(t.cap, 256);
	for (unsigned u = 0; u < 7; u++) {
		snprintf(user, sizeof(user), "user%u", u);
		ck_assert_uint_eq(sess_user_count(&t, user), brute_user_count(user));
	}
	ck_assert_uint_eq(sess_user_count(&t, "nobody"), 0);
	/* Every session ended: no user has any left. */
	for (uint32_t i = 0; i < t.cap; i++)
		if (t.s[i].used)
			sess_end(&t, &t.s[i], "test");
	ck_assert_uint_eq(sess_user_count(&t, "user3"), 0);
	ck_assert_ptr_eq(sess_create(&t, "user3", "198.18.0.2:1"), &t.s[0]);
	ck_assert_uint_eq(sess_user_count(&t, "user3"), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bind_owner_byte);
	tcase_add_test(tc, test_fork_inherits_no_cookie);
	tcase_add_test(tc, test_free_slot_and_user_counts);
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
