/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the master's own log lines to stderr never make it wait
 * (common/log.c, finding #17): a full pipe or socket on stderr (a stalled
 * journal or terminal) costs lines, counted and reported once it drains,
 * and lines stay whole.  Each test runs in its own fork (Check), so it may
 * replace fd 2; an alarm turns a write that waits into a failure. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* Write into fd until it takes nothing more, through a description of
 * our own (O_NONBLOCK on fd itself would prove nothing). */
static void fill(int fd)
{
	char path[64], buf[4096];
	int w;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w = open(path, O_WRONLY | O_NONBLOCK);
	if (w < 0) { /* a socket: MSG_DONTWAIT does the same */
		memset(buf, 'x', sizeof(buf));
		while (send(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 ||
		       send(fd, buf, 1, MSG_DONTWAIT) > 0)
			;
		ck_assert_int_eq(errno, EAGAIN);
		return;
	}
	memset(buf, 'x', sizeof(buf));
	while (write(w, buf, sizeof(buf)) > 0 || write(w, buf, 1) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	close(w);
}

/* Everything readable from fd (made non-blocking), NUL-terminated. */
static size_t drain(int fd, char *out, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < cap - 1 && (n = read(fd, out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	ck_assert_uint_lt(got, cap - 1);
	out[got] = 0;
	return got;
}

/* Every line of text starts with "tunneld: " (none was cut and glued to
 * the next), counting the lines that contain what. */
static unsigned whole_lines(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		ck_assert_msg(nl, "a line without its end: '%s'", p);
		ck_assert_msg(!strncmp(p, "tunneld: ", 9), "a broken line: '%.*s'", (int)(nl - p),
			      p);
		if (memmem(p, (size_t)(nl - p), what, strlen(what)))
			n++;
		p = nl + 1;
	}
	return n;
}

/* stderr is a pipe nobody reads (a stalled terminal or logger). */
START_TEST(test_full_pipe)
{
	static char got[1 << 20];
	unsigned long before;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
	fill(p[1]);
	alarm(10); /* a write that waits fails the test */
	log_init_master(LOG_INFO);
	ck_assert_int_eq(log_set_destination("stderr", 0), 0);
	before = log_dropped();
	for (int i = 0; i < 100; i++)
		log_write_line(LOG_WARNING, "master", "a line the pipe has no room for");
	ck_assert_uint_eq(log_dropped() - before, 100);
	/* Our parent's description of the pipe is as it was. */
	ck_assert_int_eq(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	/* Room again: the next line, and the count of the lost ones. */
	drain(p[0], got, sizeof(got)); /* the filler and nothing else */
	ck_assert_ptr_null(strstr(got, "tunneld"));
	log_write_line(LOG_INFO, "master", "back");
	drain(p[0], got, sizeof(got));
	ck_assert_uint_eq(whole_lines(got, "master: info: back"), 1);
	ck_assert_ptr_nonnull(strstr(got, "100 log line(s) lost"));
	alarm(0);
}
END_TEST

/* stderr is the journal's stream socket, full: lines are dropped, and
 * those written are whole even when the socket took part of one. */
START_TEST(test_full_socket)
{
	static char got[1 << 20];
	char text[900], *p;
	size_t len = 0;
	int sv[2], small = 4096;
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ck_assert_int_ge(dup2(sv[0], STDERR_FILENO), 0);
	fill(STDERR_FILENO);
	alarm(10);
	log_init_master(LOG_INFO);
	ck_assert_int_eq(log_set_destination("stderr", 0), 0);
	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	for (int round = 0; round < 50; round++) {
		/* A little room, less than a line: a write may be cut. */
		ck_assert_int_gt(n = read(sv[1], got + len, 300), 0);
		len += (size_t)n;
		for (int i = 0; i < 5; i++)
			log_write_line(LOG_WARNING, "master", text);
	}
	ck_assert_uint_gt(log_dropped(), 0);
	len += drain(sv[1], got + len, sizeof(got) - len);
	log_write_line(LOG_INFO, "master", "back");
	len += drain(sv[1], got + len, sizeof(got) - len);
	/* After the filler, the stream is whole lines only. */
	for (p = got; *p == 'x'; p++)
		;
	ck_assert_uint_ge(whole_lines(p, "master: warning: yyy"), 1);
	ck_assert_uint_eq(whole_lines(p, "master: info: back"), 1);
	alarm(0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("log_stderr");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_full_pipe);
	tcase_add_test(tc, test_full_socket);
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
