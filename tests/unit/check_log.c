/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: what reaches the master's log (common/log.c, the log side of
 * daemon/wchan.c).  Client text and worker records may hold any byte:
 * every line must come out as one line without control bytes, and a
 * worker must not choose a level above err (SECURITY-REVIEW #2, #13).
 * Lines go to stderr with journal "<N>" prefixes; each test catches them
 * in a file. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/authxml.h"
#include "common/ipc.h"
#include "common/log.h"
#include "daemon/wchan.h"

static char out_path[] = "/tmp/check_log.XXXXXX";
static int out_fd = -1, saved_err = -1;

/* stderr into a fresh file; "<N>" prefixes as under systemd. */
static void setup(void)
{
	setenv("JOURNAL_STREAM", "8:1", 1);
	log_init_master(LOG_DEBUG);
	ck_assert_int_eq(log_set_destination("stderr", 0), 0);
	strcpy(out_path, "/tmp/check_log.XXXXXX");
	out_fd = mkstemp(out_path);
	ck_assert_int_ge(out_fd, 0);
	saved_err = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(out_fd, STDERR_FILENO), STDERR_FILENO);
}

static void teardown(void)
{
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	close(out_fd);
	unlink(out_path);
}

/* What was written so far, NUL-terminated. */
static const char *output(void)
{
	static char buf[16384];
	ssize_t n = pread(out_fd, buf, sizeof(buf) - 1, 0);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

/* Forget what was written (stderr shares out_fd's offset). */
static void reset_output(void)
{
	ck_assert_int_eq(ftruncate(out_fd, 0), 0);
	ck_assert_int_eq(lseek(out_fd, 0, SEEK_SET), 0);
}

/* out is exactly one line (one LF, at its end) and holds no other byte
 * below 0x20 nor 0x7f. */
static void assert_one_clean_line(const char *out)
{
	size_t n = strlen(out);

	ck_assert_msg(n > 0 && out[n - 1] == '\n', "no line: '%s'", out);
	for (size_t i = 0; i + 1 < n; i++)
		ck_assert_msg((unsigned char)out[i] >= 0x20 && out[i] != 0x7f,
			      "byte 0x%02x at %zu in '%s'", (unsigned char)out[i], i, out);
}

START_TEST(test_escape)
{
	char o[64];

	ck_assert_uint_eq(log_escape("plain text", o, sizeof(o)), 10);
	ck_assert_str_eq(o, "plain text");
	log_escape("a\nb\rc\td\x1b[0m\x7f\x01", o, sizeof(o));
	ck_assert_str_eq(o, "a\\x0ab\\x0dc\\x09d\\x1b[0m\\x7f\\x01");
	/* UTF-8 passes untouched. */
	log_escape("gr\xc3\xbc\xc3\x9f", o, sizeof(o));
	ck_assert_str_eq(o, "gr\xc3\xbc\xc3\x9f");
	/* Cut short at a whole character or escape, NUL-terminated. */
	ck_assert_uint_eq(log_escape("abc\n", o, 6), 3);
	ck_assert_str_eq(o, "abc");
	ck_assert_uint_eq(log_escape("\n\n", o, 9), 8);
	ck_assert_str_eq(o, "\\x0a\\x0a");
	ck_assert_uint_eq(log_escape("\n\n", o, 8), 4);
}
END_TEST

/* SECURITY-REVIEW #2: the review's user name, as a client posts it. */
#define EVIL_USER "x&#10;&lt;0&gt;tunneld: EMERG fake line"
#define EVIL_DOC                                                                                   \
	"<?xml version=\"1.0\"?><config-auth client=\"vpn\" "                                      \
	"type=\"auth-reply\"><auth><username>" EVIL_USER                                           \
	"</username><password>p</password></auth></config-auth>"

START_TEST(test_injected_user_name)
{
	struct authxml ax;
	struct ipc_msg m = {.type = IPC_AUTH_REQ};
	char line[512], err[128];
	const char *out;

	/* The worker refuses the name at parse time, keeping it for its log
	 * line, and nothing of the password. */
	ck_assert_int_eq(authxml_parse(EVIL_DOC, strlen(EVIL_DOC), &ax), AUTHXML_BAD_USER);
	ck_assert_str_eq(ax.username, "x\n<0>tunneld: EMERG fake line");
	ck_assert(!ax.have_password);
	ck_assert_str_eq(ax.password, "");

	/* A taken-over worker sends it anyway: the master's checks let any
	 * byte but NUL through, so the log must make it harmless. */
	strcpy(m.u.auth_req.user, ax.username);
	strcpy(m.u.auth_req.peer, "198.18.0.2:40000");
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_WORKER, 0, err, sizeof(err)), 0);
	snprintf(line, sizeof(line), "login failed for user '%s' from %s", m.u.auth_req.user,
		 m.u.auth_req.peer);
	log_write_line(LOG_WARNING, "master", line);
	out = output();
	assert_one_clean_line(out);
	ck_assert_str_eq(out, "<4>master: login failed for user 'x\\x0a<0>tunneld: EMERG fake "
			      "line' from 198.18.0.2:40000\n");
}
END_TEST

/* Every destination format keeps a line one line. */
START_TEST(test_every_byte)
{
	char text[256];
	const char *out;

	for (int i = 1; i < 256; i++)
		text[i - 1] = (char)i;
	text[255] = '\0';
	log_write_line(LOG_INFO, "master", text);
	out = output();
	assert_one_clean_line(out);
	ck_assert_ptr_nonnull(strstr(out, "\\x01\\x02"));
	ck_assert_ptr_nonnull(strstr(out, "}~\\x7f\x80\x81"));

	/* Not under systemd: "tunneld: tag: level: text". */
	unsetenv("JOURNAL_STREAM");
	log_init_master(LOG_DEBUG);
	reset_output();
	log_write_line(LOG_ERR, "worker 1", "a\nb");
	ck_assert_str_eq(output(), "tunneld: worker 1: error: a\\x0ab\n");
}
END_TEST

/* SECURITY-REVIEW #13: a record on a worker's log socket. */
START_TEST(test_worker_record)
{
	static const char forged[] = "\x00"
				     "fake\nmaster: info: ready: 1 workers";
	static const char crit[] = "\x02worker says crit";
	static const char info[] = "\x06worker says info";
	int ep = epoll_create1(EPOLL_CLOEXEC), child_ipc, child_log;

	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(wchan_init(ep, 1, NULL), 0) /* no control messages here */;
	ck_assert_int_eq(wchan_open(0, &child_ipc, &child_log), 0);
	ck_assert_int_eq(send(child_log, forged, sizeof(forged) - 1, 0), sizeof(forged) - 1);
	wchan_on_log(0);
	/* Emerg (0) became err (3); the LF is escaped: one line. */
	ck_assert_str_eq(output(), "<3>worker 0: fake\\x0amaster: info: ready: 1 workers\n");

	reset_output();
	ck_assert_int_eq(send(child_log, crit, sizeof(crit) - 1, 0), sizeof(crit) - 1);
	ck_assert_int_eq(send(child_log, info, sizeof(info) - 1, 0), sizeof(info) - 1);
	wchan_on_log(0);
	/* Levels at or below err are the worker's own. */
	ck_assert_str_eq(output(),
			 "<3>worker 0: worker says crit\n<6>worker 0: worker says info\n");
	close(child_ipc);
	close(child_log);
	wchan_free();
	close(ep);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_injected_user_name);
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_worker_record);
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
