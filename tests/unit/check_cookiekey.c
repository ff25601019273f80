/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the cookie key kept in the state directory when no
 * session.cookie-key-file is configured (daemon/cookies.c): made on the
 * first load (mode 0600, "1 KEY"), the same key at the next start, so a
 * cookie sealed before a restart opens after it; a state directory that
 * cannot hold a safe key leaves a key in memory only, and the file as it
 * was. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cookies.h"

#define DIR_TEMPLATE "/tmp/check_cookiekey.XXXXXX"
static char dir[] = DIR_TEMPLATE;
static char text[TICKET_MAX_TEXT_LEN + 1];
static uint8_t tok[TICKET_MAX_LEN];

static void setup(void)
{
	/* A fresh template each time: without fork, one process runs every test. */
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[64];

	cookies_forget();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A start: the ring for c put in use, what it says of itself in desc. */
static int start(const struct cfg *c, char *desc, size_t len)
{
	char err[CFG_ERR_LEN];
	struct cookie_ring *ring;

	cookies_forget(); /* the previous process is gone */
	if (cookies_load(c, &ring, err, sizeof(err)) < 0)
		return -1;
	cookies_commit(&ring);
	cookies_free(ring);
	cookies_describe(desc, len);
	return 0;
}

static void seal(void)
{
	struct ticket tk = {.sid = 9, .created = 1, .expires = 2000000000};

	snprintf(tk.user, sizeof(tk.user), "alice");
	ck_assert_int_eq(cookies_seal(&tk, text), 0);
	ck_assert_int_eq(ticket_decode(text, strlen(text), tok), TICKET_V1_LEN);
}

static char *read_all(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	return buf;
}

/* Made at the first start, in a directory made for it; the next start
 * uses it: the cookie of the first opens. */
START_TEST(test_made_and_kept)
{
	char state[128], path[160], desc[512], first[256];
	struct cfg c = {.fleet_state_dir = state};
	struct ticket o;
	struct stat st;
	size_t n;

	snprintf(state, sizeof(state), "%s/lib/fleet", dir);
	snprintf(path, sizeof(path), "%s/%s", state, COOKIES_STATE_KEY);
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_msg(strstr(desc, "the key kept in ") && strstr(desc, path), "%s", desc);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, geteuid());
	snprintf(first, sizeof(first), "%s", read_all(path));
	n = strlen(first);
	ck_assert_uint_eq(n, 2 + 2 * TICKET_KEY_LEN + 1);
	ck_assert(!strncmp(first, "1 ", 2) && first[n - 1] == '\n');
	ck_assert_uint_eq(strspn(first + 2, "0123456789abcdef"), 2 * TICKET_KEY_LEN);
	seal();
	/* A restart: the same file, the same key. */
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_str_eq(read_all(path), first);
	ck_assert_int_eq(cookies_open(tok, TICKET_V1_LEN, &o), 0);
	ck_assert_str_eq(o.user, "alice");
	/* Another state directory holds another key: the cookie is refused. */
	snprintf(state, sizeof(state), "%s/other", dir);
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_int_eq(cookies_open(tok, TICKET_V1_LEN, &o), -EBADMSG);
}
END_TEST

/* A key file others could read is not used (and left as it is), nor is a
 * directory where none can be made: a key in memory only, said so. */
START_TEST(test_unsafe_or_unwritable)
{
	char state[128], path[160], desc[512], before[256];
	struct cfg c = {.fleet_state_dir = state};
	struct ticket o;

	snprintf(state, sizeof(state), "%s", dir);
	snprintf(path, sizeof(path), "%s/%s", state, COOKIES_STATE_KEY);
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
	snprintf(before, sizeof(before), "%s", read_all(path));
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_msg(strstr(desc, "a random key"), "%s", desc);
	ck_assert_str_eq(read_all(path), before);
	seal();
	ck_assert_int_eq(cookies_open(tok, TICKET_V1_LEN, &o), 0);
	/* Under a regular file: no directory, no key file. */
	snprintf(state, sizeof(state), "%s/%s/fleet", dir, COOKIES_STATE_KEY);
	ck_assert_int_eq(start(&c, desc, sizeof(desc)), 0);
	ck_assert_msg(strstr(desc, "a random key"), "%s", desc);
	ck_assert_int_eq(access(state, F_OK), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cookiekey");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_made_and_kept);
	tcase_add_test(tc, test_unsafe_or_unwritable);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
