/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the radius.* keys of the config (conf/config.c): defaults,
 * a full setting, and a clear FILE:LINE error for every bad value or
 * combination (logins through the password file or RADIUS, not both). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf/config.h"

#define L_LISTEN "listen = [\"0.0.0.0:443\"];\n"
#define L_NET	 "network = { ipv4-pool = \"198.18.100.0/24\"; };\n"
#define BASE	 L_LISTEN L_NET

static struct cfg c;
static char err[CFG_ERR_LEN];

static int load(const char *text)
{
	cfg_free(&c);
	return cfg_load_string(text, "t.conf", &c, err, sizeof(err));
}

static void teardown(void)
{
	cfg_free(&c);
}

START_TEST(test_defaults)
{
	ck_assert_msg(load(BASE "auth = { password-file = \"p\"; };\n") == 0, "%s", err);
	ck_assert_uint_eq(c.n_radius_auth, 0);
	ck_assert_uint_eq(c.n_radius_acct, 0);
	ck_assert_uint_eq(c.n_radius_coa, 0);
	ck_assert_ptr_null(c.radius_secret_file);
	ck_assert_str_eq(c.radius_nas_id, "tunneld");
	ck_assert_str_eq(c.radius_dictionary, "/etc/radcli/dictionary");
	ck_assert_uint_eq(c.radius_timeout, 3);
	ck_assert_uint_eq(c.radius_retries, 2);
	ck_assert_uint_eq(c.radius_processes, 4);
	ck_assert(c.radius_accounting);
	ck_assert_uint_eq(c.radius_interim, 0);
	ck_assert_uint_eq(c.radius_min_interim, 60);
	ck_assert_uint_eq(c.radius_acct_queue, 4096);
	ck_assert_uint_eq(c.radius_stop_wait, 5);
}
END_TEST

START_TEST(test_full)
{
	const struct sockaddr_in6 *s6;

	ck_assert_msg(load(BASE "radius = {\n"
				"  auth-servers = [\"198.18.1.2:1812\", \"[fd00:1::2]:1645\"];\n"
				"  acct-servers = [\"198.18.1.3:1813\"];\n"
				"  secret-file = \"/etc/tunneld/radius-secret\";\n"
				"  nas-identifier = \"vpn-1\";\n"
				"  dictionary = \"dict\";\n"
				"  timeout = 5; retries = 0; processes = 16; accounting = false;\n"
				"  interim-interval = 600; min-interim-interval = 300;\n"
				"  acct-queue = 100; stop-wait = 0;\n"
				"  coa-listen = [\"198.18.1.1:3799\", \"[::]:3799\"];\n"
				"};\n") == 0,
		      "%s", err);
	ck_assert_ptr_null(c.password_file);
	ck_assert_uint_eq(c.n_radius_auth, 2);
	ck_assert_str_eq(c.radius_auth[0].text, "198.18.1.2:1812");
	s6 = (const struct sockaddr_in6 *)&c.radius_auth[1].ss;
	ck_assert_int_eq(s6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(s6->sin6_port), 1645);
	ck_assert_uint_eq(c.n_radius_acct, 1);
	ck_assert_str_eq(c.radius_secret_file, "/etc/tunneld/radius-secret");
	ck_assert_str_eq(c.radius_nas_id, "vpn-1");
	ck_assert_str_eq(c.radius_dictionary, "dict");
	ck_assert_uint_eq(c.radius_timeout, 5);
	ck_assert_uint_eq(c.radius_retries, 0);
	ck_assert_uint_eq(c.radius_processes, 16);
	ck_assert(!c.radius_accounting);
	ck_assert_uint_eq(c.radius_interim, 600);
	ck_assert_uint_eq(c.radius_min_interim, 300);
	ck_assert_uint_eq(c.radius_acct_queue, 100);
	ck_assert_uint_eq(c.radius_stop_wait, 0);
	ck_assert_uint_eq(c.n_radius_coa, 2);
}
END_TEST

#define RAD "  auth-servers = [\"198.18.1.2:1812\"];\n  secret-file = \"s\";\n"

static const struct bad {
	const char *text;
	const char *want; /* the whole message, or its start */
} bad[] = {
    {BASE, "t.conf: missing required key auth.password-file (or radius.auth-servers"},
    {BASE "auth = {\n};\n", "t.conf:3: missing required key auth.password-file"},
    {BASE "auth = { password-file = \"p\"; };\nradius = {\n" RAD "};\n",
     "t.conf:4: radius.auth-servers: logins go through RADIUS or through auth.password-file"},
    {BASE "radius = {\n  auth-servers = [\"198.18.1.2:1812\"];\n};\n",
     "t.conf:3: radius: set radius.secret-file"},
    {BASE
     "auth = { password-file = \"p\"; };\nradius = {\n  coa-listen = [\"0.0.0.0:3799\"];\n};\n",
     "t.conf:4: radius: radius.coa-listen is set but radius.auth-servers is empty"},
    {BASE
     "auth = { password-file = \"p\"; };\nradius = {\n  acct-servers = [\"1.2.3.4:1813\"];\n};\n",
     "t.conf:4: radius: radius.acct-servers is set but radius.auth-servers is empty"},
    {BASE "auth = { password-file = \"p\"; };\nradius = {\n  secret-file = \"s\";\n};\n",
     "t.conf:4: radius: radius.secret-file is set but radius.auth-servers is empty"},
    {BASE "radius = {\n  auth-servers = [\"radius.example:1812\"];\n};\n",
     "t.conf:4: radius.auth-servers: \"radius.example:1812\": not an IP address"},
    {BASE "radius = {\n  auth-servers = [\"198.18.1.2\"];\n};\n",
     "t.conf:4: radius.auth-servers: \"198.18.1.2\": missing \":PORT\""},
    {BASE "radius = {\n" RAD "  timeout = 0;\n};\n", "t.conf:6: radius.timeout"},
    {BASE "radius = {\n" RAD "  timeout = 61;\n};\n", "t.conf:6: radius.timeout"},
    {BASE "radius = {\n" RAD "  retries = 11;\n};\n", "t.conf:6: radius.retries"},
    {BASE "radius = {\n" RAD "  processes = 65;\n};\n", "t.conf:6: radius.processes"},
    {BASE "radius = {\n" RAD "  min-interim-interval = 0;\n};\n",
     "t.conf:6: radius.min-interim-interval"},
    {BASE "radius = {\n" RAD "  acct-queue = 15;\n};\n", "t.conf:6: radius.acct-queue"},
    {BASE "radius = {\n" RAD "  stop-wait = 61;\n};\n", "t.conf:6: radius.stop-wait"},
    {BASE "radius = {\n" RAD "  accounting = 1;\n};\n", "t.conf:6: radius.accounting"},
    {BASE "radius = {\n" RAD "  nas-identifier = \"\";\n};\n", "t.conf:6: radius.nas-identifier"},
    {BASE "radius = {\n" RAD "  coa-listen = [\"a:1\", \"b:2\"];\n};\n",
     "t.conf:6: radius.coa-listen: \"a:1\""},
    {BASE "radius = {\n" RAD "  coa-listen = [\"0.0.0.0:1\", \"0.0.0.0:2\", \"0.0.0.0:3\", "
	  "\"0.0.0.0:4\", \"0.0.0.0:5\"];\n};\n",
     "t.conf:6: radius.coa-listen: too many entries (5, at most 4)"},
    {BASE "radius = {\n" RAD "  secret = \"x\";\n};\n", "t.conf:6: unknown setting radius.secret"},
};

START_TEST(test_bad)
{
	const struct bad *b = &bad[_i];

	ck_assert_msg(load(b->text) == -1, "case %d loaded:\n%s", _i, b->text);
	ck_assert_msg(!strncmp(err, b->want, strlen(b->want)),
		      "case %d: want \"%s...\", got \"%s\"", _i, b->want, err);
}
END_TEST

/* A reload can change the interim keys and stop-wait; the rest needs a
 * restart. */
START_TEST(test_reloadable)
{
	static const char *const reload[] = {"radius.interim-interval",
					     "radius.min-interim-interval", "radius.stop-wait"};
	unsigned seen = 0;

	for (size_t i = 0; i < cfg_key_count(); i++) {
		const char *name = cfg_key_name(i);
		bool want = false;

		if (strncmp(name, "radius.", 7))
			continue;
		seen++;
		for (size_t j = 0; j < sizeof(reload) / sizeof(reload[0]); j++)
			want |= !strcmp(name, reload[j]);
		ck_assert_msg(cfg_key_reloadable(i) == want, "%s", name);
	}
	ck_assert_uint_eq(seen, 14);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config_radius");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_reloadable);
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
