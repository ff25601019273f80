/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for conf/settings.c: the worker settings packed from the key
 * table (round trip, every bound and count, all-or-nothing apply) and the
 * restart-only keys kept on reload. */
#include "config.h"
#include "conf/config.h"
#include "conf/keys.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE                                                                                       \
	"listen = [\"198.18.0.1:4443\"];\n"                                                        \
	"tls = { certificate = \"c.pem\"; key = \"k.pem\"; };\n"                                   \
	"auth = { password-file = \"passwd\"; };\n"

/* Every worker key away from its default, every list at its maximum. */
static const char rich[] =
    BASE "network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
	 "  dns = [\"198.18.100.1\", \"fd00:100::1\", \"198.18.1.2\", \"fd00:1::2\",\n"
	 "         \"198.18.1.3\", \"fd00:1::3\", \"198.18.1.4\", \"fd00:1::4\"]; };\n"
	 "session = { reconnect-timeout = 77; dpd = 11; keepalive = 12; };\n"
	 "limits = { max-clients = 13; handshake-timeout = 14; auth-timeout = 15;\n"
	 "  queue-bytes = 16385; max-handshakes = 17; max-handshakes-per-address = 18;\n"
	 "  http-max-header-bytes = 1025; http-max-body-bytes = 1026; };\n"
	 "log = { level = \"debug\"; };\n";

static struct cfg c;
static uint8_t blob[CFG_SETTINGS_MAX];
static char err[160];

static void load(const char *text)
{
	char e[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(text, "t.conf", &c, e, sizeof(e)) == 0, "%s", e);
}

/* 64 routes, alternating families, as the loader would clear them. */
static void max_routes(struct cfg *x)
{
	for (unsigned i = 0; i < CFG_MAX_ROUTES; i++) {
		struct cfg_prefix *p = &x->routes[i];
		memset(p, 0, sizeof(*p));
		p->addr.family = i % 2 ? AF_INET6 : AF_INET;
		if (i % 2)
			p->addr.u.v6.s6_addr[0] = (uint8_t)(0xfc + (i & 1));
		else
			p->addr.u.v4.s_addr = htonl(0xc6120000u + (i << 8));
		p->len = i % 2 ? 64 : 24;
	}
	x->n_routes = CFG_MAX_ROUTES;
}

static int pack(void)
{
	int n = cfg_settings_pack(&c, blob, sizeof(blob));

	ck_assert_int_gt(n, 0);
	return n;
}

static void want_refused(int n, const char *needle)
{
	struct cfg out;

	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)n, NULL, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, needle), "'%s' does not say '%s'", err, needle);
	/* All or nothing: a refused message stores nothing. */
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)n, &out, err, sizeof(err)), -EBADMSG);
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_int_eq(((uint8_t *)&out)[i], 0);
}

START_TEST(test_table_flags)
{
	size_t workers = 0;

	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (!(k->flags & KEY_WORKER))
			continue;
		workers++;
		ck_assert_msg(k->flags & KEY_RELOADABLE, "%s: KEY_WORKER without reload", k->path);
		ck_assert_msg(k->type == CT_UINT || k->type == CT_BOOL || k->type == CT_LOGLEVEL ||
				  k->type == CT_ADDRS || k->type == CT_PREFIXES,
			      "%s: a type workers cannot take", k->path);
	}
	/* The keys worker/ reads from its live config. */
	ck_assert_uint_eq(workers, 20);
}
END_TEST

START_TEST(test_round_trip)
{
	struct cfg out, zero;
	size_t n = cfg_key_count();
	int len;

	load(rich);
	max_routes(&c);
	len = pack();
	ck_assert_int_le(len, CFG_SETTINGS_MAX);
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)len, &out, err, sizeof(err)), 0);
	/* Exactly the worker keys arrived; nothing else was touched. */
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < n; i++) {
		bool worker = cfg_keys[i].flags & KEY_WORKER;
		ck_assert_msg(cfg_key_next_diff(worker ? &c : &zero, &out, i) != i, "%s %s",
			      cfg_key_name(i), worker ? "did not arrive" : "was touched");
	}
	ck_assert_ptr_null(out.user);
	ck_assert_uint_eq(out.n_routes, CFG_MAX_ROUTES);
	ck_assert_uint_eq(out.n_dns, CFG_MAX_DNS);
	/* One byte short or over is refused. */
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)len - 1, NULL, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)len + 1, NULL, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_msg(strstr(err, "after the last setting"), "%s", err);
	ck_assert_int_eq(cfg_settings_pack(&c, blob, (size_t)len - 1), -ENOBUFS);
	cfg_free(&c);
}
END_TEST

/* Each numeric worker key: its bounds pass, one beyond them is refused and
 * the message names the key. */
START_TEST(test_bounds)
{
	const struct cfg_key *k = &cfg_keys[_i];
	unsigned *f;
	char want[96];

	if (k->type != CT_UINT || !(k->flags & KEY_WORKER))
		return;
	load(rich);
	f = cfg_field(&c, k->off);
	*f = (unsigned)k->min;
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)pack(), NULL, err, sizeof(err)), 0);
	*f = (unsigned)k->max;
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)pack(), NULL, err, sizeof(err)), 0);
	*f = (unsigned)k->max + 1;
	snprintf(want, sizeof(want), "%s: %u is outside", k->path, *f);
	want_refused(pack(), want);
	if (k->min > 0) {
		*f = (unsigned)k->min - 1;
		want_refused(pack(), k->path);
	}
	cfg_free(&c);
}
END_TEST

START_TEST(test_log_level)
{
	static const unsigned bad[] = {0, 1, 2, 5, 8, 0xffffffffu};

	load(rich);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.log_level = (enum cfg_log_level)bad[i];
		want_refused(pack(), "log.level");
	}
	cfg_free(&c);
}
END_TEST

/* Where the count of a list sits in the packed bytes: pack it with n and
 * n - 1 entries; the first byte that differs is the count's. */
static size_t count_offset(unsigned *count, unsigned n)
{
	uint8_t a[CFG_SETTINGS_MAX];
	size_t i;

	*count = n;
	ck_assert_int_gt(cfg_settings_pack(&c, a, sizeof(a)), 0);
	*count = n - 1;
	pack();
	*count = n;
	for (i = 0; a[i] == blob[i]; i++)
		;
	return i - i % 4; /* the count is a uint32; its low byte differs */
}

START_TEST(test_counts)
{
	uint32_t v;
	size_t at;
	int len;

	load(rich);
	max_routes(&c);
	at = count_offset(&c.n_dns, CFG_MAX_DNS);
	len = pack();
	v = CFG_MAX_DNS + 1;
	memcpy(blob + at, &v, sizeof(v));
	want_refused(len, "network.dns: 9 entries, at most 8");
	v = 0xffffffffu;
	memcpy(blob + at, &v, sizeof(v));
	want_refused(len, "network.dns");

	at = count_offset(&c.n_routes, CFG_MAX_ROUTES);
	len = pack();
	v = CFG_MAX_ROUTES + 1;
	memcpy(blob + at, &v, sizeof(v));
	want_refused(len, "network.routes: 65 entries, at most 64");
	cfg_free(&c);
}
END_TEST

START_TEST(test_entries)
{
	load(rich);
	max_routes(&c);
	c.dns[1].family = AF_UNIX;
	want_refused(pack(), "network.dns: entry 1 is not a valid address");
	c.dns[1].family = 0;
	want_refused(pack(), "network.dns: entry 1");
	c.dns[1].family = AF_INET;
	/* Entries past the count are not sent. */
	c.n_dns = 1;
	c.dns[5].family = 12345;
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)pack(), NULL, err, sizeof(err)), 0);

	c.routes[10].len = 33;
	want_refused(pack(), "network.routes: entry 10 is not a valid prefix");
	c.routes[10].len = 24;
	c.routes[11].len = 129;
	want_refused(pack(), "network.routes: entry 11");
	c.routes[11].len = 64;
	/* Host bits set: the loader never makes such a route. */
	c.routes[12].addr.u.v4.s_addr |= htonl(1);
	want_refused(pack(), "network.routes: entry 12");
	c.routes[12].addr.u.v4.s_addr &= ~htonl(1);
	c.routes[63].addr.family = AF_PACKET;
	want_refused(pack(), "network.routes: entry 63");
	c.n_routes = 63;
	ck_assert_int_eq(cfg_settings_apply(blob, (size_t)pack(), NULL, err, sizeof(err)), 0);
	cfg_free(&c);
}
END_TEST

START_TEST(test_keep_restart_only)
{
	static const char old_text[] = BASE "workers = 3; user = \"olduser\";\n"
					    "network = { ipv4-pool = \"198.18.100.0/24\"; "
					    "mtu = 1300; tun = \"old0\"; };\n"
					    "control = { socket = \"/run/old.sock\"; };\n";
	struct cfg old, ref;
	char e[CFG_ERR_LEN];
	size_t n = cfg_key_count();

	ck_assert_int_eq(cfg_load_string(old_text, "old.conf", &old, e, sizeof(e)), 0);
	ck_assert_int_eq(cfg_load_string(old_text, "old.conf", &ref, e, sizeof(e)), 0);
	load("listen = [\"198.18.0.2:443\", \"[fd00::1]:443\"];\n"
	     "tls = { certificate = \"c2.pem\"; key = \"k2.pem\"; };\n"
	     "auth = { password-file = \"passwd2\"; };\n"
	     "workers = 5; user = \"newuser\";\n"
	     "network = { ipv6-pool = \"fd00:100::/64\"; mtu = 1400; tun = \"new0\";\n"
	     "  dns = [\"198.18.1.2\"]; };\n"
	     "session = { dpd = 5; };\n");
	cfg_keep_restart_only(&c, &old);
	for (size_t i = 0; i < n; i++) {
		bool same = cfg_key_next_diff(&c, &ref, i) != i;
		if (cfg_key_reloadable(i))
			continue;
		ck_assert_msg(same, "%s kept the new value", cfg_key_name(i));
	}
	ck_assert_str_eq(c.user, "olduser");
	ck_assert_str_eq(c.tun_name, "old0");
	ck_assert_uint_eq(c.n_listen, 1);
	ck_assert(c.have_ipv4_pool && !c.have_ipv6_pool);
	/* Reloadable keys keep the new file's values. */
	ck_assert_str_eq(c.password_file, "passwd2");
	ck_assert_uint_eq(c.dpd, 5);
	ck_assert_uint_eq(c.n_dns, 1);
	/* Each struct owns what it frees (strings were swapped). */
	ck_assert_str_eq(old.user, "newuser");
	cfg_free(&old);
	cfg_free(&ref);
	cfg_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("settings");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_table_flags);
	tcase_add_test(tc, test_round_trip);
	tcase_add_loop_test(tc, test_bounds, 0, (int)cfg_key_count());
	tcase_add_test(tc, test_log_level);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_entries);
	tcase_add_test(tc, test_keep_restart_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
