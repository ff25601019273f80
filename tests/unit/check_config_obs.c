/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the keys of observability and NAT (log.format,
 * metrics.listen, network.nat.interface), each refused with FILE:LINE
 * and the problem, taken on reload; and the nftables rules network.nat
 * makes (daemon/nat.c). */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "daemon/nat.h"

#define BASE                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"p\"; };\n"                                                     \
	"tls = { certificate = \"c\"; key = \"k\"; };\n"

static struct cfg c;
static char err[CFG_ERR_LEN];

static int load(const char *net, const char *rest)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 BASE "network = {\n  ipv4-pool = \"198.18.100.0/24\";\n%s};\n%s", net, rest);
	cfg_free(&c);
	return cfg_load_string(text, "t.conf", &c, err, sizeof(err));
}

static void refused(const char *net, const char *rest, const char *want)
{
	ck_assert_int_eq(load(net, rest), -1);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "got \"%s\", want \"%s...\"", err, want);
}

START_TEST(test_log_format)
{
	ck_assert_int_eq(load("", ""), 0);
	ck_assert_uint_eq(c.log_format, LOG_FMT_TEXT);
	ck_assert_int_eq(load("", "log = { format = \"json\"; };\n"), 0);
	ck_assert_uint_eq(c.log_format, LOG_FMT_JSON);
	ck_assert_int_eq(load("", "log = { format = \"text\"; };\n"), 0);
	ck_assert_uint_eq(c.log_format, LOG_FMT_TEXT);
	refused("", "log = {\n format = \"xml\"; };\n",
		"t.conf:8: log.format: expected one of \"text\", \"json\", got \"xml\"");
	refused("", "log = { format = \"js\"; };\n", "t.conf:7: log.format: expected one of");
	refused("", "log = { format = 1; };\n",
		"t.conf:7: log.format: expected one of \"text\", \"json\", got an integer");
}
END_TEST

START_TEST(test_metrics_listen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c.metrics_listen.ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c.metrics_listen.ss;

	ck_assert_int_eq(load("", ""), 0);
	ck_assert(!c.have_metrics);
	ck_assert_int_eq(load("", "metrics = { listen = \"127.0.0.1:9611\"; };\n"), 0);
	ck_assert(c.have_metrics);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 9611);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	ck_assert_str_eq(c.metrics_listen.text, "127.0.0.1:9611");
	ck_assert_int_eq(load("", "metrics = { listen = \"[::1]:9100\"; };\n"), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 9100);
	refused("", "metrics = {\n  listen = \"127.0.0.1\"; };\n",
		"t.conf:8: metrics.listen: \"127.0.0.1\": missing \":PORT\"");
	refused("", "metrics = { listen = \"localhost:9611\"; };\n",
		"t.conf:7: metrics.listen: \"localhost:9611\": not an IP address");
	refused("", "metrics = { listen = \"127.0.0.1:0\"; };\n",
		"t.conf:7: metrics.listen: \"127.0.0.1:0\": the port must be a number 1..65535");
	refused("", "metrics = { listen = \"::1:9611\"; };\n",
		"t.conf:7: metrics.listen: \"::1:9611\": an IPv6 address needs brackets");
	refused("", "metrics = { listen = [\"127.0.0.1:9611\"]; };\n",
		"t.conf:7: metrics.listen: expected \"ADDRESS:PORT\"");
}
END_TEST

START_TEST(test_nat_interface)
{
	ck_assert_int_eq(load("", ""), 0);
	ck_assert_ptr_null(c.nat_interface);
	ck_assert_int_eq(load("  nat = { interface = \"lo\"; };\n", ""), 0);
	ck_assert_str_eq(c.nat_interface, "lo");
	refused("  nat = {\n    interface = \"nosuch0\"; };\n", "",
		"t.conf:7: network.nat.interface: no interface \"nosuch0\" here");
	refused("  nat = { interface = \"a b\"; };\n", "",
		"t.conf:6: network.nat.interface: \"a b\" is not a valid interface name");
	refused("  nat = { interface = \"0123456789abcdef\"; };\n", "",
		"t.conf:6: network.nat.interface: \"0123456789abcdef\" is not a valid");
	refused("  nat = { iface = \"lo\"; };\n", "",
		"t.conf:6: unknown setting network.nat.iface");
	refused("  nat = \"lo\";\n", "", "t.conf:6: network.nat: expected a group");
}
END_TEST

/* All three apply on reload. */
START_TEST(test_reloadable)
{
	static const char *const keys[] = {"log.format", "metrics.listen", "network.nat.interface"};
	char buf[64];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t i;

		for (i = 0; i < cfg_key_count() && strcmp(cfg_key_name(i), keys[k]); i++)
			;
		ck_assert_msg(i < cfg_key_count(), "%s is no key", keys[k]);
		ck_assert_msg(cfg_key_reloadable(i), "%s", keys[k]);
		if (!strcmp(keys[k], "log.format"))
			ck_assert_str_eq(cfg_key_default_text(i, buf, sizeof(buf)), "\"text\"");
		else
			ck_assert_ptr_null(cfg_key_default_text(i, buf, sizeof(buf)));
	}
}
END_TEST

START_TEST(test_nat_ruleset)
{
	char rules[1024];

	ck_assert_int_eq(load("", ""), 0);
	ck_assert_int_eq(nat_ruleset(&c, rules, sizeof(rules)), 0);
	ck_assert_str_eq(rules, "");
	ck_assert_int_eq(
	    load("  ipv6-pool = \"fd00:100::/64\";\n  nat = { interface = \"lo\"; };\n", ""), 0);
	ck_assert_int_eq(nat_ruleset(&c, rules, sizeof(rules)), 0);
	ck_assert_str_eq(rules, "table inet tunneld {\n"
				"\tchain postrouting {\n"
				"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
				"\t\toifname \"lo\" ip saddr 198.18.100.0/24 masquerade\n"
				"\t\toifname \"lo\" ip6 saddr fd00:100::/64 masquerade\n"
				"\t}\n"
				"}\n");
	ck_assert_int_eq(nat_ruleset(&c, rules, 40), -ENOBUFS);
	ck_assert_int_eq(load("  nat = { interface = \"lo\"; };\n", ""), 0);
	ck_assert_int_eq(nat_ruleset(&c, rules, sizeof(rules)), 0);
	ck_assert_ptr_null(strstr(rules, "ip6"));
	ck_assert_ptr_nonnull(strstr(rules, "ip saddr 198.18.100.0/24 masquerade"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config_obs");
	TCase *tc = tcase_create("keys");

	tcase_add_test(tc, test_log_format);
	tcase_add_test(tc, test_metrics_listen);
	tcase_add_test(tc, test_nat_interface);
	tcase_add_test(tc, test_reloadable);
	tcase_add_test(tc, test_nat_ruleset);
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
	cfg_free(&c);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
