/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the master's side of groups and lifetimes
 * (daemon/policy.c) with the real session table: a session's group at
 * login, the lease its first CONNECT gets (its group's pool, never its
 * network or broadcast address; the others' leases outside every group's
 * pool), pools that no longer fit the running pools, and when a session
 * has lived or idled too long. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/policy.h"
#include "daemon/sessions.h"

#define CONF                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"passwd\"; };\n"                                                \
	"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\"; };\n"         \
	"session = { idle-timeout = 60; max-lifetime = 3600; };\n"                                 \
	"groups = ( { name = \"staff\"; ipv4-pool = \"198.18.100.128/30\"; },\n"                   \
	"  { name = \"v6only\"; ipv6-pool = \"fd00:100::40/126\"; },\n"                            \
	"  { name = \"nopool\"; } );\n"

static struct cfg cfg;
static struct sess_table t;
static uint8_t *owner;
static const struct ipc_ref ref = {1, 1};

static void load(const char *text, struct cfg *out)
{
	char err[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(text, "t.conf", out, err, sizeof(err)) == 0, "%s", err);
}

static void setup(void)
{
	load(CONF, &cfg);
	owner = calloc(POOL_MAX_SIZE, 1);
	ck_assert_ptr_nonnull(owner);
	ck_assert_int_eq(sess_table_init(&t, &cfg, owner), 0);
	mpolicy_carve(&t, &cfg);
}

static void teardown(void)
{
	sess_table_free(&t);
	free(owner);
	cfg_free(&cfg);
}

/* A new session of groups, bound: its lease. */
static int64_t lease_of(const char *groups)
{
	struct session *s = sess_create(&t, "u", "198.18.0.2:1");

	ck_assert_ptr_nonnull(s);
	mpolicy_assign(s, &cfg, groups);
	mpolicy_lease_range(s, &cfg, &t.pool.g);
	if (sess_bind(&t, s, 0, ref) < 0)
		return -1;
	return s->lease;
}

START_TEST(test_assign)
{
	struct session *s = sess_create(&t, "u", "198.18.0.2:1");

	mpolicy_assign(s, &cfg, "sales,nopool,staff");
	ck_assert_str_eq(s->groups, "sales,nopool,staff");
	ck_assert_str_eq(s->group, "nopool");
	mpolicy_assign(s, &cfg, "sales");
	ck_assert_str_eq(s->group, "");
	mpolicy_assign(s, &cfg, "");
	ck_assert_str_eq(s->group, "");
}
END_TEST

START_TEST(test_group_leases)
{
	int64_t a, b;

	/* 198.18.100.128/30: .129 and .130, not .128 or .131. */
	a = lease_of("staff");
	b = lease_of("staff");
	ck_assert(a >= 129 && a <= 130 && b >= 129 && b <= 130 && a != b);
	ck_assert_int_eq(lease_of("staff"), -1); /* exhausted: -ENOSPC */
	/* An IPv6 pool has no network or broadcast address: all four. */
	for (int i = 0; i < 4; i++) {
		a = lease_of("v6only");
		ck_assert(a >= 64 && a < 68);
	}
	ck_assert_int_eq(lease_of("v6only"), -1);
	/* Everyone else: outside both carved ranges. */
	for (int i = 0; i < 253 - 8; i++) {
		a = lease_of(i % 2 ? "nopool" : "");
		ck_assert_msg(a >= 2 && !(a >= 64 && a < 68) && !(a >= 128 && a < 132),
			      "default lease %lld inside a group's pool", (long long)a);
	}
	ck_assert_int_eq(lease_of(""), -1);
}
END_TEST

/* A fleet of three nodes: each leases from its own share of a group's
 * pool (as of the network pools), so no two nodes hand out one address;
 * together they hand out all of it.  198.18.100.128/28: .129 to .142. */
START_TEST(test_group_pool_shared_by_a_fleet)
{
	static const char fmt[] =
	    "listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"passwd\"; };\n"
	    "network = { ipv4-pool = \"198.18.100.0/24\"; };\n"
	    "fleet = { nodes = 3; };\nsession = { node-id = %u; };\n"
	    "groups = ( { name = \"staff\"; ipv4-pool = \"198.18.100.128/28\"; } );\n";
	bool taken[256] = {false};
	unsigned total = 0;
	char text[512];

	for (unsigned node = 0; node < 3; node++) {
		struct cfg nc;
		struct sess_table nt;
		struct session *s;
		unsigned mine = 0;

		snprintf(text, sizeof(text), fmt, node);
		load(text, &nc);
		ck_assert_int_eq(sess_table_init(&nt, &nc, owner), 0);
		mpolicy_carve(&nt, &nc);
		for (;;) {
			s = sess_create(&nt, "u", "198.18.0.2:1");
			ck_assert_ptr_nonnull(s);
			mpolicy_assign(s, &nc, "staff");
			mpolicy_lease_range(s, &nc, &nt.pool.g);
			if (sess_bind(&nt, s, 0, ref) < 0)
				break;
			ck_assert_msg(s->lease >= 129 && s->lease <= 142, "node %u leased %lld",
				      node, (long long)s->lease);
			ck_assert_msg(!taken[s->lease],
				      "node %u leased .%lld, which another "
				      "node leases too",
				      node, (long long)s->lease);
			taken[s->lease] = true;
			mine++;
		}
		ck_assert_uint_ge(mine, 4); /* 14 in 3 shares: 4 or 5 each */
		total += mine;
		sess_table_free(&nt);
		memset(owner, 0, POOL_MAX_SIZE);
		cfg_free(&nc);
	}
	ck_assert_uint_eq(total, 14);
}
END_TEST

/* A reload whose groups' pools do not fit the running pools (a new
 * network pool waits for a restart): those groups get default leases. */
START_TEST(test_pools_past_the_running_ones)
{
	struct cfg nc;
	struct session *s;

	load("listen = [\"0.0.0.0:443\"];\nauth = { password-file = \"passwd\"; };\n"
	     "network = { ipv4-pool = \"198.18.200.0/24\"; };\n"
	     "groups = ( { name = \"staff\"; ipv4-pool = \"198.18.200.128/30\"; } );\n",
	     &nc);
	mpolicy_carve(&t, &nc);
	s = sess_create(&t, "u", "198.18.0.2:1");
	mpolicy_assign(s, &nc, "staff");
	ck_assert_str_eq(s->group, "staff");
	mpolicy_lease_range(s, &nc, &t.pool.g);
	ck_assert_uint_eq(s->lease_lo, 0);
	ck_assert_uint_eq(s->lease_hi, 0);
	/* ... and the old carving is gone: .128 and up are everyone's. */
	for (int i = 0; i < 253; i++)
		ck_assert_int_ge(lease_of(""), 2);
	cfg_free(&nc);
}
END_TEST

START_TEST(test_lifetimes)
{
	struct session *s = sess_create(&t, "u", "198.18.0.2:1");
	time_t now = 1000000;
	uint8_t cause = 0;

	s->created = now - 100;
	s->last_active = now - 10;
	ck_assert_ptr_null(mpolicy_expired(s, &cfg, now, &cause));
	ck_assert_ptr_nonnull(mpolicy_expired(s, &cfg, now + 50, &cause));
	ck_assert(strstr(mpolicy_expired(s, &cfg, now + 50, &cause), "session.idle-timeout"));
	ck_assert_uint_eq(cause, SESS_END_IDLE_TIMEOUT);
	/* Activity counts as reported, never ahead of the master's clock,
	 * never backwards. */
	mpolicy_active(s, now + 40, now + 30);
	ck_assert_int_eq(s->last_active, now + 30);
	mpolicy_active(s, now, now + 31);
	ck_assert_int_eq(s->last_active, now + 30);
	mpolicy_active(s, 0, now + 31);
	ck_assert_int_eq(s->last_active, now + 30);
	ck_assert_ptr_null(mpolicy_expired(s, &cfg, now + 89, &cause));
	/* The lifetime counts from the login, activity or not. */
	s->last_active = now + 3499;
	ck_assert_ptr_null(mpolicy_expired(s, &cfg, now + 3499, &cause));
	ck_assert(strstr(mpolicy_expired(s, &cfg, now + 3500, &cause), "session.max-lifetime"));
	ck_assert_uint_eq(cause, SESS_END_SESSION_TIMEOUT);
	/* 0: no limit. */
	cfg.idle_timeout = cfg.max_lifetime = 0;
	ck_assert_ptr_null(mpolicy_expired(s, &cfg, now + 1000000, &cause));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mpolicy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_assign);
	tcase_add_test(tc, test_group_leases);
	tcase_add_test(tc, test_group_pool_shared_by_a_fleet);
	tcase_add_test(tc, test_pools_past_the_running_ones);
	tcase_add_test(tc, test_lifetimes);
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
