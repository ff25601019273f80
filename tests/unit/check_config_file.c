/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_config: loading from files, and paths relative to the file. */
#include "config.h"
#include "tests/unit/check_config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_tmp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_config.XXXXXX", want[64];
	static const char text[] = BASE "session = {\n  dpd = 5000;\n};\n";

	write_tmp(path, text, strlen(text));
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:6: session.dpd: 5000 is out of range", path);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
	ck_assert(is_zero(&c, sizeof(c)));
	unlink(path);

	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), BASE, strlen(BASE));
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.path, path);
	ck_assert_uint_eq(c.n_listen, 1);
	cfg_free(&c);
	unlink(path);
}
END_TEST

/* #18: relative file paths come out absolute, against the directory of the
 * config file, whatever the cwd: a reload after --daemon (chdir "/") must
 * read the same files as the start did. */
START_TEST(test_relative_paths)
{
	static const char text[] =
	    L_LISTEN "tls = { certificate = \"certs/c.pem\"; key = \"k.pem\"; };\n"
		     "auth = { password-file = \"passwd\"; };\n" L_NET
		     "log = { destination = \"./log/t.log\"; };\n"
		     "control = { socket = \"run/ctl.sock\"; };\n";
	char dir[] = "/tmp/check_config.XXXXXX", path[128], want[192], cwd[4096];
	const char *in[] = {"/", dir};

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	write_file(path, text);
	/* By its absolute path from "/", then by "./t.conf" from its directory. */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(chdir(in[i]), 0);
		ck_assert_msg(cfg_load(i ? "./t.conf" : path, &c, err, sizeof(err)) == 0, "%s",
			      err);
		snprintf(want, sizeof(want), "%s/passwd", dir);
		ck_assert_str_eq(c.password_file, want);
		snprintf(want, sizeof(want), "%s/certs/c.pem", dir);
		ck_assert_str_eq(c.tls_certificate, want);
		snprintf(want, sizeof(want), "%s/k.pem", dir);
		ck_assert_str_eq(c.tls_key, want);
		snprintf(want, sizeof(want), "%s/./log/t.log", dir);
		ck_assert_str_eq(c.log_destination, want);
		snprintf(want, sizeof(want), "%s/run/ctl.sock", dir);
		ck_assert_str_eq(c.control_socket, want);
		cfg_free(&c);
	}
	/* Absolute paths and log.destination's words stay as written. */
	write_file(path, BASE "log = { destination = \"syslog\"; };\n"
			      "control = { socket = \"/run/x.sock\"; };\n");
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.log_destination, "syslog");
	ck_assert_str_eq(c.control_socket, "/run/x.sock");
	cfg_free(&c);
	ck_assert_int_eq(chdir(cwd), 0);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_load_file_errors)
{
	char path[] = "/tmp/check_config.XXXXXX";
	static const char nul[] = BASE "# \0 hidden: x = 1;\n";
	size_t big_len = 1024 * 1024 + 1;
	char *big = malloc(big_len);

	ck_assert_int_eq(cfg_load("/nonexistent/tunneld.conf", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/tunneld.conf: cannot read: No such file or directory");
	ck_assert(is_zero(&c, sizeof(c)));

	ck_assert_int_eq(cfg_load("/tmp", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");

	/* A NUL would hide the rest of the file from libconfig. */
	write_tmp(path, nul, sizeof(nul) - 1);
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ": contains a NUL byte") && !strncmp(err, path, strlen(path)),
		      "%s", err);
	unlink(path);

	ck_assert_ptr_nonnull(big);
	memset(big, '\n', big_len);
	memcpy(big, BASE, strlen(BASE));
	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), big, big_len);
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ": larger than 1048576 bytes") != NULL, "%s", err);
	unlink(path);
	/* Exactly at the limit is fine. */
	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), big, big_len - 1);
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	cfg_free(&c);
	unlink(path);
	free(big);
}
END_TEST

void config_file_tests(TCase *tc)
{
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_file_errors);
	tcase_add_test(tc, test_relative_paths);
}
