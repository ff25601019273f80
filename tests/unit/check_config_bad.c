/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_config: broken files, each refused with its exact "FILE:LINE:". */
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

struct bad {
	const char *text;
	const char *prefix; /* "t.conf:LINE: " or "t.conf: " */
	const char *reason; /* substring of the rest */
};

static const struct bad bad[] = {
    /* log destinations */
    {BASE "log = { destination = \"t.log\"; };\n",
     "t.conf:5: ", "log.destination: expected \"auto\", \"stderr\", \"syslog\" or a file path"},
    {BASE "log = {\n destination = \"journal\"; };\n", "t.conf:6: ", "got \"journal\""},
    /* libconfig syntax */
    {BASE "mtu = ;\n", "t.conf:5: ", "syntax error"},
    {BASE "session = {\n  dpd = 5;\n", "t.conf:7: ", "syntax error"},
    {BASE "user = \"abc\n", "t.conf:6: ", "syntax error"},
    {BASE "\nworkers = 2;\nworkers = 3;\n", "t.conf:7: ", "duplicate setting"},
    {BASE "log = { level = \"info\"; };\nlog = { level = \"info\"; };\n",
     "t.conf:6: ", "duplicate setting"},
    {BASE "routes = [\"198.18.1.0/24\",\n 5];\n", "t.conf:6: ", "mismatched element type"},
    /* names */
    {BASE "\nworker = 2;\n", "t.conf:6: ", "unknown setting worker"},
    {BASE3 NET("  foo = 1;\n"), "t.conf:6: ", "unknown setting network.foo"},
    {BASE3 NET("  MTU = 1400;\n"), "t.conf:6: ", "unknown setting network.MTU"},
    {BASE "logging = { level = \"info\"; };\n", "t.conf:5: ", "unknown setting logging"},
    {BASE "mtu = 1400;\n", "t.conf:5: ", "unknown setting mtu"},
    {BASE "session = { tls = { key = \"k\"; }; };\n", "t.conf:5: ", "unknown setting session.tls"},
    {BASE
     "session = {\n"
     "  "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1;\n"
     "};\n",
     "t.conf:6: ", "unknown setting session.aaaaaaaa"},
    {BASE "@include \"other.conf\"\n", "t.conf:5: ", "@include is not supported"},
    /* types */
    {L_LISTEN L_AUTH L_NET "\ntls = \"x\";\n", "t.conf:5: ", "tls: expected a group"},
    {BASE "session = 5;\n", "t.conf:5: ", "session: expected a group like session = {"},
    {BASE "session = { dpd = \"60\"; };\n",
     "t.conf:5: ", "session.dpd: expected an integer, got a string"},
    {BASE "limits = {\n  queue-bytes = 65536.0;\n};\n",
     "t.conf:6: ", "limits.queue-bytes: expected an integer, got a floating-point number"},
    {BASE "session = { keepalive = true; };\n", "t.conf:5: ", "got a boolean"},
    {BASE "user = 0;\n", "t.conf:5: ", "user: expected a string, got an integer"},
    {BASE "group = [\"wheel\"];\n", "t.conf:5: ", "group: expected a string, got a list"},
    {BASE "user = { name = \"x\"; };\n", "t.conf:5: ", "user: expected a string, got a group"},
    {BASE3 "network = { tun = 0; };\n", "t.conf:4: ", "network.tun: expected a string"},
    {BASE "log = { level = 7; };\n", "t.conf:5: ", "log.level: expected a string"},
    /* empty strings */
    {BASE "user = \"\";\n", "t.conf:5: ", "user: must not be empty"},
    {L_LISTEN L_AUTH L_NET "tls = { certificate = \"\"; key = \"k\"; };\n",
     "t.conf:4: ", "tls.certificate: must not be empty"},
    /* workers */
    {BASE "workers = \"many\";\n",
     "t.conf:5: ", "workers: expected \"auto\" or an integer 1..255, got \"many\""},
    {BASE "workers = \"AUTO\";\n", "t.conf:5: ", "workers: expected \"auto\""},
    {BASE "workers = \"\";\n", "t.conf:5: ", "workers: expected \"auto\""},
    {BASE "workers = true;\n", "t.conf:5: ", "workers: expected \"auto\" or an integer"},
    {BASE "workers = 0;\n", "t.conf:5: ", "workers: 0 is out of range 1..255"},
    /* owner[] names slot + 1 in a byte: 256 workers cannot be told apart */
    {BASE "workers = 256;\n", "t.conf:5: ", "workers: 256 is out of range 1..255"},
    {BASE "workers = -1;\n", "t.conf:5: ", "workers: -1 is out of range"},
    /* integer ranges */
    {BASE3 NET("  mtu = 575;\n"), "t.conf:6: ", "network.mtu: 575 is out of range 576..9000"},
    {BASE3 NET("  mtu = 9001;\n"), "t.conf:6: ", "network.mtu: 9001 is out of range"},
    {BASE "session = { keepalive = -1; };\n",
     "t.conf:5: ", "session.keepalive: -1 is out of range 0..3600"},
    {BASE "session = { dpd = 3601; };\n", "t.conf:5: ", "session.dpd: 3601 is out of range"},
    {BASE "session = { reconnect-timeout = 9; };\n",
     "t.conf:5: ", "session.reconnect-timeout: 9 is out of range 10..86400"},
    {BASE "session = { reconnect-timeout = 86401; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { max-clients = 0; };\n",
     "t.conf:5: ", "limits.max-clients: 0 is out of range 1..1000000"},
    {BASE "limits = { max-clients = 1000001; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { handshake-timeout = 0; };\n",
     "t.conf:5: ", "limits.handshake-timeout: 0 is out of range 1..600"},
    {BASE "limits = { auth-timeout = 3601; };\n",
     "t.conf:5: ", "limits.auth-timeout: 3601 is out of range 1..3600"},
    {BASE "limits = { queue-bytes = 16383; };\n",
     "t.conf:5: ", "limits.queue-bytes: 16383 is out of range 16384..67108864"},
    {BASE "limits = { queue-bytes = 67108865; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { max-clients = 5000000000L; };\n",
     "t.conf:5: ", "limits.max-clients: 5000000000 is out of range"},
    /* literals libconfig 1.5 would wrap to an in-range value */
    {BASE "limits = {\n  queue-bytes = 4295229440;\n};\n",
     "t.conf:6: ", "integer 4295229440 is out of range"},
    {BASE3 NET("  mtu = -4294965896;\n"), "t.conf:6: ", "integer -4294965896 is out of range"},
    {BASE3 NET("  mtu = 0x100000578;\n"), "t.conf:6: ", "integer 0x100000578 is out of range"},
    {BASE "workers = 99999999999999999999999;\n", "t.conf:5: ", "is out of range"},
    /* log level */
    {BASE "log = { level = \"verbose\"; };\n", "t.conf:5: ",
     "log.level: expected one of \"error\", \"warning\", \"info\", \"debug\", got \"verbose\""},
    {BASE "log = { level = \"INFO\"; };\n", "t.conf:5: ", "log.level: expected one of"},
    {BASE "log = { level = \"\"; };\n", "t.conf:5: ", "log.level: expected one of"},
    /* tun name */
    {BASE3 NET("  tun = \"tun 0\";\n"),
     "t.conf:6: ", "network.tun: \"tun 0\" is not a valid interface name"},
    {BASE3 NET("  tun = \"abcdefghijklmnop\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"..\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \".\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"a/b\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"tun%d\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"tun:0\";\n"), "t.conf:6: ", "not a valid interface name"},
    /* pools */
    {BASE3 "network = {\n  ipv4-pool = \"198.18.100.0\";\n};\n",
     "t.conf:5: ", "network.ipv4-pool: expected an IPv4 prefix like \"198.18.100.0/24\""},
    {BASE3 "network = { ipv4-pool = \"fd00:100::/64\"; };\n",
     "t.conf:4: ", "network.ipv4-pool: expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = 5; };\n", "t.conf:4: ",
     "network.ipv4-pool: expected an IPv4 prefix like \"198.18.100.0/24\", got an integer"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/24 \"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/+24\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"/24\"; };\n", "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100/24\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/33\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/31\"; };\n",
     "t.conf:4: ", "network.ipv4-pool: prefix length /31 is out of range /8../30"},
    {BASE3 "network = { ipv4-pool = \"198.0.0.0/7\"; };\n",
     "t.conf:4: ", "prefix length /7 is out of range"},
    {BASE3 "network = {\n\n  ipv4-pool = \"198.18.100.1/24\";\n};\n", "t.conf:6: ",
     "network.ipv4-pool: \"198.18.100.1/24\" has host bits set; did you mean "
     "\"198.18.100.0/24\"?"},
    {BASE3 "network = { ipv4-pool = \"198.18.101.0/23\"; };\n",
     "t.conf:4: ", "did you mean \"198.18.100.0/23\"?"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::/48\"; };\n",
     "t.conf:4: ", "network.ipv6-pool: prefix length /48 is out of range /64../126"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::/127\"; };\n",
     "t.conf:4: ", "prefix length /127 is out of range"},
    {BASE3 "network = { ipv6-pool = \"198.18.100.0/24\"; };\n",
     "t.conf:4: ", "network.ipv6-pool: expected an IPv6 prefix like \"fd00:100::/64\""},
    {BASE3 "network = { ipv6-pool = \"fd00:100::1/64\"; };\n",
     "t.conf:4: ", "has host bits set; did you mean \"fd00:100::/64\"?"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::1:1/112\"; };\n",
     "t.conf:4: ", "did you mean \"fd00:100::1:0/112\"?"},
    /* no pool */
    {BASE3 "\nnetwork = {\n  mtu = 1400;\n};\n",
     "t.conf:5: ", "network.ipv4-pool, network.ipv6-pool or both"},
    {BASE3, "t.conf: ", "network.ipv4-pool, network.ipv6-pool or both"},
    /* missing required */
    {NO_LISTEN, "t.conf: ", "missing required key listen"},
    {"", "t.conf: ", "missing required key listen"},
    {L_LISTEN L_AUTH L_NET "\ntls = {\n  certificate = \"c\";\n};\n",
     "t.conf:5: ", "set tls.certificate and tls.key together, or neither"},
    {L_LISTEN L_AUTH L_NET "\ntls = {\n  key = \"k\";\n};\n",
     "t.conf:5: ", "set tls.certificate and tls.key together, or neither"},
    {L_LISTEN L_TLS L_NET "auth = {};\n", "t.conf:4: ", "missing required key auth.password-file"},
    /* listen */
    {NO_LISTEN "listen = [];\n", "t.conf:4: ", "listen: needs at least 1 entry"},
    {NO_LISTEN "listen = \"0.0.0.0:443\";\n",
     "t.conf:4: ", "listen: expected a list of strings like [\"0.0.0.0:443\"], got a string"},
    {NO_LISTEN "listen = [443];\n",
     "t.conf:4: ", "listen: entries must be strings like \"0.0.0.0:443\", got an integer"},
    {NO_LISTEN "listen = (\"0.0.0.0:443\",\n (\"[::]:443\"));\n",
     "t.conf:5: ", "listen: entries must be strings"},
    {NO_LISTEN "listen = [\"198.18.0.1\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.1\": missing \":PORT\""},
    {NO_LISTEN "listen = [\"198.18.0.1:0\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.1:0\": the port must be a number 1..65535"},
    {NO_LISTEN "listen = [\"198.18.0.1:65536\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:https\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:-443\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:443 \"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.256:443\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.256:443\": not an IP address"},
    {NO_LISTEN "listen = [\"vpn.example.com:443\"];\n",
     "t.conf:4: ", "host names are not resolved"},
    {NO_LISTEN "listen = [\":443\"];\n", "t.conf:4: ", "not an IP address"},
    {NO_LISTEN "listen = [\"::1:443\"];\n",
     "t.conf:4: ", "an IPv6 address needs brackets, as in \"[::]:443\""},
    {NO_LISTEN "listen = [\"[::1]\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[::1]443\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[::1:443\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[198.18.0.1]:443\"];\n", "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[fe80::1%eth0]:443\"];\n", "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	       "0000]:443\"];\n",
     "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	       "0000:0000:0000:0000:0000:0000:0000]:443\"];\n",
     "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"198.018.000.001:443\"];\n", "t.conf:4: ", "not an IP address"},
    /* libconfig dates a list entry by the token after it: keep "]" on its line. */
    {NO_LISTEN "listen = [\n  \"0.0.0.0:443\",\n  \"[::]:443\",\n  \"0.0.0.0:0443\"];\n",
     "t.conf:7: ", "listen: \"0.0.0.0:0443\" duplicates \"0.0.0.0:443\""},
    {NO_LISTEN "listen = [\"[::1]:443\", \"[0::1]:443\"];\n",
     "t.conf:4: ", "duplicates \"[::1]:443\""},
    {NO_LISTEN "listen = [\"198.18.0.1:1\", \"198.18.0.1:2\", \"198.18.0.1:3\", \"198.18.0.1:4\",\n"
	       "  \"198.18.0.1:5\", \"198.18.0.1:6\", \"198.18.0.1:7\", \"198.18.0.1:8\",\n"
	       "  \"198.18.0.1:9\", \"198.18.0.1:10\", \"198.18.0.1:11\", \"198.18.0.1:12\",\n"
	       "  \"198.18.0.1:13\", \"198.18.0.1:14\", \"198.18.0.1:15\", \"198.18.0.1:16\",\n"
	       "  \"198.18.0.1:17\"];\n",
     "t.conf:4: ", "listen: too many entries (17, at most 16)"},
    /* dns */
    {BASE3 NET("  dns = [\"198.18.100.1\", \"198.18.100.2\", \"198.18.100.3\",\n"
	       "    \"198.18.100.4\", \"198.18.100.5\", \"198.18.100.6\", \"198.18.100.7\",\n"
	       "    \"198.18.100.8\", \"fd00::9\"];\n"),
     "t.conf:6: ", "network.dns: too many entries (9, at most 8)"},
    {BASE3 NET("  dns = [\"198.18.100.1\",\n    \"198.18.100.1/32\"];\n"), "t.conf:7: ",
     "network.dns: expected an IP address like \"198.18.100.1\" or \"fd00:100::1\", got "
     "\"198.18.100.1/32\""},
    {BASE3 NET("  dns = [\"dns.example.com\"];\n"), "t.conf:6: ", "expected an IP address"},
    {BASE3 NET("  dns = [\"198.18.100.1 \"];\n"), "t.conf:6: ", "expected an IP address"},
    {BASE3 NET("  dns = ((\"198.18.100.1\"));\n"), "t.conf:6: ",
     "network.dns: entries must be strings like \"198.18.100.1\" or \"fd00:100::1\", got a "
     "list"},
    {BASE3 NET("  dns = \"198.18.100.1\";\n"),
     "t.conf:6: ", "network.dns: expected a list of strings"},
    /* routes */
    {BASE3 NET("  routes = [\"198.18.1.0\"];\n"), "t.conf:6: ",
     "network.routes: expected a prefix like \"198.18.1.0/24\" or \"fd00:1::/64\", got "
     "\"198.18.1.0\""},
    {BASE3 NET("  routes = [\"198.18.1.0/33\"];\n"), "t.conf:6: ", "expected a prefix"},
    {BASE3 NET("  routes = [\"fd00:1::/129\"];\n"), "t.conf:6: ", "expected a prefix"},
    {BASE3 NET("  routes = [\"198.18.1.0/24\",\n    \"fd00:1::1/64\"];\n"), "t.conf:7: ",
     "network.routes: \"fd00:1::1/64\" has host bits set; did you mean \"fd00:1::/64\"?"},
    {BASE3 NET("  routes = [\"198.18.1.128/24\"];\n"),
     "t.conf:6: ", "did you mean \"198.18.1.0/24\"?"},
    {BASE3 NET("  routes = [\"0.0.0.1/0\"];\n"), "t.conf:6: ", "did you mean \"0.0.0.0/0\"?"},
    {BASE3 NET("  routes = (\"198.18.1.0/24\", 5);\n"),
     "t.conf:6: ", "network.routes: entries must be strings"},
};

START_TEST(test_bad)
{
	const struct bad *b = &bad[_i];
	size_t n = strlen(b->prefix);

	ck_assert_msg(load(b->text) == -1, "case %d loaded:\n%s", _i, b->text);
	ck_assert_msg(!strncmp(err, b->prefix, n), "case %d: want prefix \"%s\", got \"%s\"", _i,
		      b->prefix, err);
	ck_assert_msg(strstr(err + n, b->reason) != NULL, "case %d: want \"%s\", got \"%s\"", _i,
		      b->reason, err);
	ck_assert_msg(is_zero(&c, sizeof(c)), "case %d: cfg not cleared", _i);
}
END_TEST

START_TEST(test_routes_limit)
{
	char text[8192];
	int n =
	    snprintf(text, sizeof(text), "%snetwork = { ipv4-pool = \"198.18.100.0/24\";\n", BASE3);

	n += snprintf(text + n, sizeof(text) - (size_t)n, "  routes = [");
	for (int i = 0; i < CFG_MAX_ROUTES; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"198.19.%d.0/24\"",
			      i ? ", " : "", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "];\n};\n");
	ck_assert_msg(load(text) == 0, "%s", err);
	ck_assert_uint_eq(c.n_routes, CFG_MAX_ROUTES);
	check_prefix(&c.routes[CFG_MAX_ROUTES - 1], "198.19.63.0/24");
	cfg_free(&c);

	/* One more is refused. */
	snprintf(text + n, sizeof(text) - (size_t)n, ", \"198.19.200.0/24\"];\n};\n");
	ck_assert_int_eq(load(text), -1);
	ck_assert_str_eq(err, "t.conf:5: network.routes: too many entries (65, at most 64)");
}
END_TEST

START_TEST(test_err_buffer)
{
	char small[12];

	/* Truncated but terminated; NULL err is allowed. */
	memset(small, 'X', sizeof(small));
	ck_assert_int_eq(cfg_load_string("x = 1;", "name.conf", &c, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "name.conf:1");
	ck_assert_int_eq(cfg_load_string("x = 1;", "name.conf", &c, NULL, 0), -1);
	ck_assert(is_zero(&c, sizeof(c)));
	ck_assert_int_eq(cfg_load_string("x = 1;", NULL, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "(string):1: unknown setting x");
	/* A success clears a stale message. */
	ck_assert_int_eq(cfg_load_string(BASE, "t.conf", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	cfg_free(&c);
}
END_TEST

void config_bad_tests(TCase *tc)
{
	tcase_add_loop_test(tc, test_bad, 0, (int)ARRAY_SIZE(bad));
	tcase_add_test(tc, test_routes_limit);
	tcase_add_test(tc, test_err_buffer);
}
