/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of groups and their policy: the config of groups, rules,
 * network.dns-intercept and the lifetimes (conf/groups.c, conf/rules.c),
 * each broken file checked for its "FILE:LINE:"; the packed policy the
 * workers get (common/policy.c); the leases group pools carve
 * (common/pool.c); and the password file's group column (common/passwd.c). */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/passwd.h"
#include "common/policy.h"
#include "common/pool.h"
#include "conf/config.h"

#define BASE                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"passwd\"; };\n"                                                \
	"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"            \
	"  dns = [\"198.18.1.2\", \"fd00:1::2\"]; routes = [\"198.18.1.0/24\"]; };\n" /* 1-4 */

static struct cfg c;
static char err[CFG_ERR_LEN];

static int load(const char *text)
{
	return cfg_load_string(text, "t.conf", &c, err, sizeof(err));
}

static void load_ok(const char *text)
{
	ck_assert_msg(load(text) == 0, "%s", err);
}

/* text must fail with "t.conf:LINE: " and a message holding why. */
static void load_bad(const char *text, unsigned line, const char *why)
{
	char prefix[32];

	ck_assert_msg(load(text) == -1, "loaded: %s", text);
	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "want '%s', got '%s'", prefix, err);
	ck_assert_msg(strstr(err, why), "want '%s' in '%s'", why, err);
}

static void teardown(void)
{
	cfg_free(&c);
}

static const char good[] = BASE
    "rules = { tcp-ports = [ \"8000-8100\", \"80\", \"8050-8200\", \"81\", \"22\" ];\n"	 /* 5 */
    "  udp-ports = ( 53, \"5000-5001\" ); protocols = [ \"udp\", \"tcp\" ]; };\n"	 /* 6 */
    "session = { idle-timeout = 900; max-lifetime = 86400; };\n"			 /* 7 */
    "groups = (\n"									 /* 8 */
    "  { name = \"staff\"; ipv4-pool = \"198.18.100.128/26\";\n"			 /* 9 */
    "    ipv6-pool = \"fd00:100::80/122\"; rules = { client-to-client = true; }; },\n"	 /* 10 */
    "  { name = \"eng.x_1-2\"; routes = []; dns = [ \"198.18.1.3\" ];\n"		 /* 11 */
    "    ipv6-pool = \"fd00:100::40/123\";\n"						 /* 12 */
    "    rules = { protocols = \"all\"; tcp-ports = \"all\"; global-only = true; }; }\n" /* 13 */
    ");\n";

START_TEST(test_groups_parse)
{
	const struct cfg_group *g;

	load_ok(good);
	/* Ranges sorted and merged: 22, 80-81, 8000-8200. */
	ck_assert_uint_eq(c.rules.tcp_ports.n, 3);
	ck_assert_uint_eq(c.rules.tcp_ports.r[0].lo, 22);
	ck_assert_uint_eq(c.rules.tcp_ports.r[1].lo, 80);
	ck_assert_uint_eq(c.rules.tcp_ports.r[1].hi, 81);
	ck_assert_uint_eq(c.rules.tcp_ports.r[2].lo, 8000);
	ck_assert_uint_eq(c.rules.tcp_ports.r[2].hi, 8200);
	ck_assert_uint_eq(c.rules.udp_ports.n, 2);
	ck_assert_uint_eq(c.rules.protocols, CFG_PROTO_TCP | CFG_PROTO_UDP);
	ck_assert(!c.rules.client_to_client && !c.rules.global_only);
	ck_assert_uint_eq(c.idle_timeout, 900);
	ck_assert_uint_eq(c.max_lifetime, 86400);
	ck_assert_uint_eq(c.n_groups, 2);
	/* staff: the top level's routes, DNS and rules but client-to-client. */
	g = cfg_group_find(&c, "staff");
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->n_routes, 1);
	ck_assert_uint_eq(g->n_dns, 2);
	ck_assert(g->rules.client_to_client && !g->rules.global_only);
	ck_assert_uint_eq(g->rules.protocols, CFG_PROTO_TCP | CFG_PROTO_UDP);
	ck_assert_uint_eq(g->rules.tcp_ports.n, 3);
	ck_assert_uint_eq(g->lease_lo, 128);
	ck_assert_uint_eq(g->lease_hi, 192);
	/* eng: its own (empty) routes, DNS and rules; an IPv6 pool only. */
	g = cfg_group_find(&c, "eng.x_1-2");
	ck_assert_ptr_nonnull(g);
	ck_assert(g->have_routes && g->n_routes == 0);
	ck_assert_uint_eq(g->n_dns, 1);
	ck_assert(g->rules.global_only && !g->rules.client_to_client);
	ck_assert_uint_eq(g->rules.protocols, CFG_PROTO_ALL);
	ck_assert_uint_eq(g->rules.tcp_ports.n, 1);
	ck_assert_uint_eq(g->rules.tcp_ports.r[0].hi, 65535);
	ck_assert_uint_eq(g->rules.udp_ports.n, 2); /* inherited */
	ck_assert_uint_eq(g->lease_lo, 64);
	ck_assert_uint_eq(g->lease_hi, 96);
	ck_assert_ptr_null(cfg_group_find(&c, "sales"));
}
END_TEST

START_TEST(test_defaults_and_choice)
{
	char out[CFG_GROUP_NAME];

	load_ok(BASE);
	ck_assert_uint_eq(c.n_groups, 0);
	ck_assert_ptr_null(c.groups);
	ck_assert_uint_eq(c.rules.protocols, CFG_PROTO_ALL);
	ck_assert_uint_eq(c.rules.tcp_ports.n, 1);
	ck_assert(!c.rules.client_to_client); /* off unless allowed */
	ck_assert_uint_eq(c.idle_timeout + c.max_lifetime + c.n_dns_intercept, 0);
	ck_assert_str_eq(cfg_group_choose(&c, "staff", out), "");
	cfg_free(&c);
	load_ok(good);
	ck_assert_str_eq(cfg_group_choose(&c, "sales,staff,eng.x_1-2", out), "staff");
	ck_assert_str_eq(cfg_group_choose(&c, "eng.x_1-2,staff", out), "eng.x_1-2");
	ck_assert_str_eq(cfg_group_choose(&c, "staf,staffs,sales", out), "");
	ck_assert_str_eq(cfg_group_choose(&c, "", out), "");
}
END_TEST

START_TEST(test_groups_errors)
{
	load_bad(BASE "groups = { name = \"a\"; };\n", 5, "expected a list like");
	load_bad(BASE "groups = ( \"a\" );\n", 5, "expected groups like");
	load_bad(BASE "groups = ( { routes = []; } );\n", 5, "a group needs a name");
	load_bad(BASE "groups = ( { name = \"a b\"; } );\n", 5, "is not a group name");
	load_bad(BASE "groups = (\n { name = \"a\"; },\n { name = \"a\"; } );\n", 7,
		 "\"a\" is defined twice");
	load_bad(BASE "groups = ( { name = \"a\";\n pool = \"x\"; } );\n", 6,
		 "groups: unknown setting pool");
	load_bad(BASE "groups = ( { name = \"a\";\n rules = { x = 1; }; } );\n", 6,
		 "groups: unknown setting rules.x");
	load_bad(BASE "groups = ( { name = \"a\"; dns = [ \"x\" ]; } );\n", 5,
		 "groups: dns: expected an IP address");
	load_bad(BASE "groups = ( { name = \"a\";\n ipv4-pool = \"10.0.0.0/24\"; } );\n", 5,
		 "\"a\": ipv4-pool \"10.0.0.0/24\" is not inside network.ipv4-pool");
	load_bad(BASE "groups = ( { name = \"a\"; ipv6-pool = \"fd00:100::1:0:0/112\"; } );\n", 5,
		 "reaches past the 256 leases");
	load_bad(BASE "groups = ( { name = \"a\"; ipv4-pool = \"198.18.100.0/26\";\n"
		      " ipv6-pool = \"fd00:100::40/122\"; } );\n",
		 5, "leases 0..63 and ipv6-pool leases 64..127: they must name the same ones");
	load_bad(BASE "groups = ( { name = \"a\"; ipv4-pool = \"198.18.100.0/25\"; },\n"
		      " { name = \"b\"; ipv4-pool = \"198.18.100.64/26\"; } );\n",
		 6, "\"b\": its pool overlaps the pool of group \"a\"");
	load_bad(BASE "groups = ( { name = \"a\"; ipv4-pool = \"198.18.100.64/25\"; } );\n", 5,
		 "has host bits set");
	load_bad(BASE "groups = ( { name = \"a\";\n banner = 1; } );\n", 6,
		 "groups: banner: expected a string");
	load_bad(BASE "groups = ( { name = \"a\";\n banner = \"x\\ty\"; } );\n", 6,
		 "groups: banner: control character at offset 1");
}
END_TEST

/* A group's own banner replaces the top level's for its sessions. */
START_TEST(test_group_banner)
{
	char big[CFG_BANNER_MAX + 1024];
	int n;

	load_ok(BASE "banner = \"Top.\";\n"
		     "groups = ( { name = \"a\"; banner = \"Group a: logged.\"; },\n"
		     " { name = \"b\"; } );\n");
	ck_assert_str_eq(cfg_group_find(&c, "a")->banner, "Group a: logged.");
	ck_assert_str_eq(cfg_group_find(&c, "b")->banner, "");
	ck_assert_str_eq(c.banner, "Top.");
	cfg_free(&c);
	n = snprintf(big, sizeof(big), BASE "groups = ( { name = \"a\"; banner = \"");
	memset(big + n, 'x', CFG_BANNER_MAX);
	snprintf(big + n + CFG_BANNER_MAX, sizeof(big) - (size_t)n - CFG_BANNER_MAX, "\"; } );\n");
	load_bad(big, 5, "groups: banner: longer than 511 bytes");
}
END_TEST

START_TEST(test_rules_errors)
{
	char big[8192];
	int n;

	load_bad(BASE "rules = { protocols = [ \"gre\" ]; };\n", 5, "unknown protocol \"gre\"");
	load_bad(BASE "rules = { protocols = \"tcp\"; };\n", 5, "expected \"all\" or a list");
	load_bad(BASE "rules = { tcp-ports = [ \"80-20\" ]; };\n", 5,
		 "\"80-20\": the range ends below its start");
	load_bad(BASE "rules = { tcp-ports = [ \"70000\" ]; };\n", 5, "expected a port 0..65535");
	load_bad(BASE "rules = { udp-ports = ( 65536 ); };\n", 5, "port 65536 is out of range");
	load_bad(BASE "rules = { udp-ports = [ \"1-2-3\" ]; };\n", 5, "expected a port");
	load_bad(BASE "rules = { udp-ports = [ \"\" ]; };\n", 5, "expected a port");
	load_bad(BASE "rules = { udp-ports = 53; };\n", 5, "expected \"all\" or a list");
	load_bad(BASE "rules = { global-only = 1; };\n", 5, "expected true or false");
	n = snprintf(big, sizeof(big), BASE "rules = { tcp-ports = [ ");
	for (int i = 0; i <= CFG_MAX_PORTS; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "\"%d\", ", i * 2);
	snprintf(big + n - 2, sizeof(big) - (size_t)n + 2, " ]; };\n");
	load_bad(big, 5, "too many entries (257, at most 256)");
	load_bad(BASE "session = { max-lifetime = -1; };\n", 5, "out of range");
}
END_TEST

START_TEST(test_intercept)
{
	load_ok("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
		"  dns = [\"198.18.1.2\", \"fd00:1::2\"];\n"
		"  dns-intercept = [ \"198.18.100.1\", \"fd00:53::1\" ]; };\n");
	ck_assert_uint_eq(c.n_dns_intercept, 2);
	cfg_free(&c);
	load_bad("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		 "network = { ipv4-pool = \"198.18.100.0/24\"; dns = [\"198.18.1.2\"];\n"
		 "  dns-intercept = [ \"198.18.100.1\", \"198.18.100.2\" ]; };\n",
		 4, "two IPv4 addresses");
	load_bad("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		 "network = { ipv4-pool = \"198.18.100.0/24\"; dns = [\"198.18.1.2\"];\n"
		 "  dns-intercept = [ \"198.18.100.7\" ]; };\n",
		 4, "198.18.100.7 is a client's address");
	load_bad("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		 "network = { ipv4-pool = \"198.18.100.0/24\"; dns = [\"198.18.1.2\"];\n"
		 "  dns-intercept = [ \"fd00:53::1\" ]; };\n",
		 4, "fd00:53::1 needs an IPv6 address in network.dns");
}
END_TEST

START_TEST(test_intercept_group_resolver)
{
	static const char text[] =
	    "listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
	    "network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
	    "  dns = [\"198.18.1.2\", \"fd00:1::2\"];\n"
	    "  dns-intercept = [ \"198.18.100.1\", \"fd00:100::1\" ]; };\n"
	    "groups = ( { name = \"g\"; dns = [ \"198.18.1.3\" ]; } );\n";

	load_bad(text, 5, "needs an IPv6 address in the dns of group \"g\"");
}
END_TEST

/* ---- the packed policy -------------------------------------------------- */

static int pack(uint8_t *buf, size_t cap)
{
	int n = policy_pack(&c, buf, cap);

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n, policy_packed_size(&c));
	return n;
}

START_TEST(test_policy_round_trip)
{
	static uint8_t buf[POLICY_MAX];
	const struct pol_group *g;
	struct policy *p;
	int n;

	load_ok("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
		"  dns = [\"198.18.1.2\", \"fd00:1::2\"]; dns-intercept = [ \"198.18.100.1\" ];\n"
		"  routes = [ \"198.18.1.0/24\" ]; };\n"
		"rules = { tcp-ports = [ \"22\", \"443\" ]; };\n"
		"groups = ( { name = \"staff\"; ipv4-pool = \"198.18.100.128/26\";\n"
		"  dns = [ \"198.18.1.3\", \"fd00:1::3\" ]; routes = [ \"198.18.2.0/24\", "
		"\"fd00:2::/64\" ];\n"
		"  rules = { udp-ports = [ \"53\" ]; client-to-client = true; }; } );\n");
	n = pack(buf, sizeof(buf));
	ck_assert_int_eq(policy_unpack(buf, (size_t)n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p->n, 2);
	g = policy_group(p, "");
	ck_assert_ptr_eq(g, &p->g[0]);
	ck_assert_uint_eq(g->len4, 24);
	/* Split routes: a host route to the intercept address comes along. */
	ck_assert_uint_eq(g->n_routes, 2);
	ck_assert_uint_eq(g->routes[1].len, 32);
	ck_assert_uint_eq(((const uint8_t *)&g->routes[1].addr.u.v4)[3], 1);
	/* Told the intercept address; queries go to the first IPv4 server. */
	ck_assert_uint_eq(g->n_dns, 1);
	ck_assert(g->rules.dns4 && !g->rules.dns6);
	ck_assert_uint_eq(g->rules.res4[3], 2);
	ck_assert(g->rules.l4);
	ck_assert_uint_eq(g->rules.r.tcp_ports.n, 2);
	g = policy_group(p, "staff");
	ck_assert_str_eq(g->name, "staff");
	ck_assert_uint_eq(g->len4, 26);
	ck_assert_uint_eq(g->len6, 64);
	ck_assert_uint_eq(g->n_routes, 3);
	ck_assert_uint_eq(g->rules.res4[3], 3);
	ck_assert(g->rules.r.client_to_client);
	ck_assert_uint_eq(g->rules.r.udp_ports.n, 1);
	ck_assert_uint_eq(g->rules.r.tcp_ports.n, 2);
	ck_assert_ptr_eq(policy_group(p, "nosuch"), &p->g[0]);
	ck_assert_uint_eq(p->refs, 1);
	ck_assert_ptr_eq(policy_get(p), p);
	policy_put(p);
	policy_put(p);
	/* One byte short or over, and a buffer too small, are refused. */
	ck_assert_int_eq(policy_unpack(buf, (size_t)n - 1, NULL, err, sizeof(err)), -EBADMSG);
	ck_assert_int_eq(policy_unpack(buf, (size_t)n + 1, NULL, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "after the last entry"), "%s", err);
	ck_assert_int_eq(policy_pack(&c, buf, (size_t)n - 1), -ENOBUFS);
}
END_TEST

/* The host route to the intercept address: not when a route covers it or
 * there are no split routes; refused when the routes leave no room. */
START_TEST(test_intercept_routes)
{
	static uint8_t buf[POLICY_MAX];
	static char text[8192];
	struct policy *p;
	int n;

	load_ok("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		"network = { ipv4-pool = \"198.18.100.0/24\"; dns = [\"198.18.1.2\"];\n"
		"  dns-intercept = [ \"198.18.100.1\" ]; routes = [ \"198.18.100.0/25\" ]; };\n"
		"groups = ( { name = \"all\"; routes = []; } );\n");
	n = pack(buf, sizeof(buf));
	ck_assert_int_eq(policy_unpack(buf, (size_t)n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p->g[0].n_routes, 1);
	ck_assert_uint_eq(p->g[1].n_routes, 0);
	policy_put(p);
	cfg_free(&c);
	n = snprintf(text, sizeof(text),
		     "listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"p\"; };\n"
		     "network = { ipv4-pool = \"198.18.100.0/24\"; dns = [\"198.18.1.2\"];\n"
		     "  dns-intercept = [ \"198.18.100.1\" ];\n  routes = [ ");
	for (int i = 0; i < CFG_MAX_ROUTES; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"10.%d.0.0/16\"",
			      i ? ", " : "", i);
	snprintf(text + n, sizeof(text) - (size_t)n, " ]; };\n");
	load_bad(text, 4, "the routes of network.routes leave no room for a route to it");
}
END_TEST

/* Corrupt one field at a time: each is refused, never built. */
START_TEST(test_policy_refused)
{
	static uint8_t buf[POLICY_MAX], bad[POLICY_MAX];
	size_t name = 8, flags = name + CFG_GROUP_NAME, counts = flags + 8 + 40;
	int n;

	load_ok(BASE "rules = { tcp-ports = [ \"22\", \"443\" ]; };\n");
	n = pack(buf, sizeof(buf));
	ck_assert_int_eq(policy_unpack(buf, (size_t)n, NULL, err, sizeof(err)), 0);
#define TRY(what, off, val)                                                                        \
	do {                                                                                       \
		memcpy(bad, buf, (size_t)n);                                                       \
		bad[off] = (val);                                                                  \
		ck_assert_msg(policy_unpack(bad, (size_t)n, NULL, err, sizeof(err)) == -EBADMSG,   \
			      "%s accepted", what);                                                \
	} while (0)
	TRY("no entries", 4, 0);
	TRY("66 entries", 4, 66);
	TRY("a name in entry 0", name, 'x');
	TRY("len4 33", flags, 33);
	TRY("client-to-client 2", flags + 2, 2);
	TRY("protocols 16", flags + 4, 16);
	TRY("65 routes", counts, 65);
	TRY("9 DNS servers", counts + 2, 9);
	TRY("a route's family", counts + 8, 7);
	/* The TCP ranges 22 and 443 are followed by UDP's 0-65535: its start
	 * in place of 443's makes them unsorted. */
	memcpy(bad, buf, (size_t)n);
	memcpy(bad + n - 8, bad + n - 4, 2);
	ck_assert_int_eq(policy_unpack(bad, (size_t)n, NULL, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "not sorted"), "%s", err);
#undef TRY
}
END_TEST

/* ---- pools carved by groups ----------------------------------------------- */

START_TEST(test_pool_carve)
{
	struct cfg_prefix v4 = {.addr = {.family = AF_INET}, .len = 24};
	const uint32_t r[2][2] = {{0, 64}, {128, 192}};
	struct pool p;
	bool seen[256] = {0};
	int64_t i;

	inet_pton(AF_INET, "198.18.100.0", &v4.addr.u.v4);
	ck_assert_int_eq(pool_init(&p, &v4, NULL), 0);
	pool_carve(&p, r, 2);
	/* The default allocation never enters the carved ranges... */
	while ((i = pool_alloc(&p)) >= 0) {
		ck_assert_msg((i >= 64 && i < 128) || (i >= 192 && i < 255), "got %lld",
			      (long long)i);
		seen[i] = true;
	}
	ck_assert_int_eq(i, -ENOSPC);
	/* ... which their groups fill, leases and reserved indexes apart. */
	for (unsigned k = 0; k < 2; k++) {
		while ((i = pool_alloc_in(&p, r[k][0], r[k][1])) >= 0) {
			ck_assert(i >= r[k][0] && i < r[k][1] && !seen[i]);
			seen[i] = true;
		}
		ck_assert_int_eq(i, -ENOSPC);
	}
	for (unsigned k = 2; k < 255; k++)
		ck_assert_msg(seen[k], "lease %u never handed out", k);
	ck_assert(!seen[0] && !seen[1]);
	/* A released lease comes back to its range; a new carving frees the
	 * old ranges for the default allocation. */
	pool_release(&p, 150);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	ck_assert_int_eq(pool_alloc_in(&p, 128, 192), 150);
	pool_release(&p, 150);
	pool_carve(&p, r, 1);
	ck_assert_int_eq(pool_alloc(&p), 150);
	ck_assert_int_eq(pool_alloc_in(&p, 300, 400), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_pool_range)
{
	struct cfg_prefix v4 = {.addr = {.family = AF_INET}, .len = 24}, q = v4;
	struct cfg_prefix v6 = {.addr = {.family = AF_INET6}, .len = 120}, q6 = v6;
	struct pool_geom g;
	uint32_t lo, hi;

	inet_pton(AF_INET, "198.18.100.0", &v4.addr.u.v4);
	inet_pton(AF_INET6, "fd00:100::", &v6.addr.u.v6);
	ck_assert_int_eq(pool_geom_init(&g, &v4, &v6), 0);
	inet_pton(AF_INET, "198.18.100.32", &q.addr.u.v4);
	q.len = 27;
	ck_assert_int_eq(pool_range(&g, &q, &lo, &hi), 0);
	ck_assert(lo == 32 && hi == 64);
	q.len = 23;
	ck_assert_int_eq(pool_range(&g, &q, &lo, &hi), -EDOM);
	inet_pton(AF_INET, "198.18.101.0", &q.addr.u.v4);
	q.len = 26;
	ck_assert_int_eq(pool_range(&g, &q, &lo, &hi), -EDOM);
	inet_pton(AF_INET6, "fd00:100::c0", &q6.addr.u.v6);
	q6.len = 122;
	ck_assert_int_eq(pool_range(&g, &q6, &lo, &hi), 0);
	ck_assert(lo == 192 && hi == 256);
	inet_pton(AF_INET6, "fd00:200::", &q6.addr.u.v6);
	ck_assert_int_eq(pool_range(&g, &q6, &lo, &hi), -EDOM);
}
END_TEST

/* ---- the password file's group column -------------------------------------- */

START_TEST(test_passwd_groups)
{
	static const char text[] = "alice:$6$x:staff,eng\n"
				   "bob:$6$y\n"
				   "carol:!$6$z:ops\n"
				   "dave:$6$w:\n";
	struct passwd_db *db;
	uint64_t stamp;

	ck_assert_int_eq(passwd_db_parse(text, strlen(text), "t.pw", &db, err, sizeof(err)), 0);
	ck_assert_str_eq(passwd_db_groups(db, "alice"), "staff,eng");
	ck_assert_str_eq(passwd_db_groups(db, "bob"), "");
	ck_assert_str_eq(passwd_db_groups(db, "carol"), "ops");
	ck_assert_str_eq(passwd_db_groups(db, "dave"), "");
	ck_assert_str_eq(passwd_db_groups(db, "nobody"), "");
	/* The hash ends at the group column. */
	ck_assert_int_eq(passwd_db_user(db, "carol", &stamp), PW_LOCKED);
	ck_assert_int_eq(passwd_db_user(db, "alice", &stamp), PW_OK);
	passwd_db_free(db);
	ck_assert(passwd_valid_groups(""));
	ck_assert(passwd_valid_groups("a"));
	ck_assert(passwd_valid_groups("staff,eng.x,o_p-q"));
	ck_assert(!passwd_valid_groups(","));
	ck_assert(!passwd_valid_groups("a,"));
	ck_assert(!passwd_valid_groups(",a"));
	ck_assert(!passwd_valid_groups("a,,b"));
	ck_assert(!passwd_valid_groups("a b"));
	ck_assert(!passwd_valid_groups("a:b"));
	ck_assert(!passwd_valid_groups(
	    "0123456789012345678901234567890123456789012345678901234567890123"));
	ck_assert_int_eq(passwd_db_parse("a:$6$x:b c\n", 11, "t.pw", &db, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "t.pw:1: invalid group list"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_groups_parse);
	tcase_add_test(tc, test_defaults_and_choice);
	tcase_add_test(tc, test_groups_errors);
	tcase_add_test(tc, test_group_banner);
	tcase_add_test(tc, test_rules_errors);
	tcase_add_test(tc, test_intercept);
	tcase_add_test(tc, test_intercept_group_resolver);
	tcase_add_test(tc, test_policy_round_trip);
	tcase_add_test(tc, test_policy_refused);
	tcase_add_test(tc, test_intercept_routes);
	tcase_add_test(tc, test_pool_carve);
	tcase_add_test(tc, test_pool_range);
	tcase_add_test(tc, test_passwd_groups);
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
