/* Unit tests: failed-login counting and bans (daemon/bans.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/bans.h"

static const struct ban_policy pol = {3, 60, 600};

START_TEST(test_addr_of_peer)
{
	char a[BAN_ADDR_LEN];

	ban_addr_of_peer("198.18.0.2:40000", 64, a);
	ck_assert_str_eq(a, "198.18.0.2");
	ban_addr_of_peer("[fd00::2]:443", 128, a);
	ck_assert_str_eq(a, "fd00::2");
	ban_addr_of_peer("198.18.0.9", 64, a);
	ck_assert_str_eq(a, "198.18.0.9");
	ban_addr_of_peer(":1", 64, a);
	ck_assert_str_eq(a, "");
	ban_addr_of_peer("[0123456789012345678901234567890123456789012345678901]:1", 64, a);
	ck_assert_str_eq(a, "");
	ban_addr_of_peer("[not an address]:1", 64, a);
	ck_assert_str_eq(a, "");
}
END_TEST

START_TEST(test_ban_after_failures)
{
	ban_reset();
	ck_assert(!ban_fail("198.18.0.2", 1000, &pol, 0));
	ck_assert(!ban_fail("198.18.0.2", 1001, &pol, 0));
	ck_assert_uint_eq(ban_left("198.18.0.2", 1001, 0), 0);
	ck_assert(ban_fail("198.18.0.2", 1002, &pol, 0)); /* the third starts the ban */
	ck_assert_uint_eq(ban_left("198.18.0.2", 1002, 0), 600);
	ck_assert_uint_eq(ban_left("198.18.0.3", 1002, 0), 0); /* others unaffected */
	ck_assert(!ban_fail("198.18.0.2", 1003, &pol, 0));     /* no second start */
	ck_assert_uint_eq(ban_left("198.18.0.2", 1601, 0), 1);
	ck_assert_uint_eq(ban_left("198.18.0.2", 1602, 0), 0); /* it ran out */

	const struct ban *b = ban_nth(0, 1100);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->addr, "198.18.0.2");
	ck_assert_uint_eq(b->failures, 3);
	ck_assert_ptr_null(ban_nth(1, 1100));
	ck_assert_ptr_null(ban_nth(0, 1602));
}
END_TEST

START_TEST(test_window)
{
	ban_reset();
	ck_assert(!ban_fail("198.18.0.2", 1000, &pol, 0));
	ck_assert(!ban_fail("198.18.0.2", 1059, &pol, 0));
	/* The window (60 s) has passed: counting starts over. */
	ck_assert(!ban_fail("198.18.0.2", 1060, &pol, 0));
	ck_assert(!ban_fail("198.18.0.2", 1061, &pol, 0));
	ck_assert(ban_fail("198.18.0.2", 1062, &pol, 0));
}
END_TEST

/* Only the window or tunnelctl unban clears failures: a successful login
 * does not (the master has no call for it), so one valid account does not
 * let an address guess other passwords without end. */
START_TEST(test_failures_persist_and_off)
{
	struct ban_policy off = {0, 60, 600};
	const struct ban_policy dflt = {10, 300, 600};
	bool banned = false;

	ban_reset();
	/* 9 failures, a login that works, 9 more...: the 10th failure in the
	 * window starts the ban. */
	for (int round = 0; round < 100 && !banned; round++)
		for (int i = 0; i < 9 && !banned; i++)
			banned = ban_fail("198.18.0.2", 1000 + round, &dflt, 0);
	ck_assert(banned);
	ck_assert_uint_eq(ban_left("198.18.0.2", 1001, 0), 600);
	for (int i = 0; i < 100; i++)
		ck_assert(!ban_fail("198.18.0.7", 1000 + i, &off, 0));
	ck_assert_uint_eq(ban_left("198.18.0.7", 1100, 0), 0);
}
END_TEST

/* Finding #14: the address is a worker's word.  While every failure came
 * through one worker, the ban holds on that worker only; a failure through
 * another one makes it hold on all. */
START_TEST(test_ban_scope_by_worker)
{
	const struct ban *b;

	ban_reset();
	ck_assert(!ban_fail("198.18.0.2", 1000, &pol, 3));
	ck_assert(!ban_fail("198.18.0.2", 1000, &pol, 3));
	b = ban_fail("198.18.0.2", 1000, &pol, 3);
	ck_assert_ptr_nonnull(b);
	ck_assert(!b->shared);
	ck_assert_uint_eq(b->worker, 3);
	ck_assert_uint_eq(ban_left("198.18.0.2", 1001, 3), 599);
	ck_assert_uint_eq(ban_left("198.18.0.2", 1001, 0), 0); /* other workers: not banned */
	/* The banned address fails through worker 0 as well: banned everywhere. */
	ck_assert(!ban_fail("198.18.0.2", 1002, &pol, 0));
	ck_assert_uint_eq(ban_left("198.18.0.2", 1002, 0), 598);
	ck_assert_uint_eq(ban_left("198.18.0.2", 1002, 7), 598);

	/* Failures from two workers before the ban: it holds on all at once. */
	ck_assert(!ban_fail("198.18.0.3", 1000, &pol, 1));
	ck_assert(!ban_fail("198.18.0.3", 1000, &pol, 2));
	b = ban_fail("198.18.0.3", 1000, &pol, 1);
	ck_assert_ptr_nonnull(b);
	ck_assert(b->shared);
	ck_assert_uint_gt(ban_left("198.18.0.3", 1000, 5), 0);

	/* A new window forgets who reported the old one. */
	ck_assert(!ban_fail("198.18.0.4", 1000, &pol, 1));
	ck_assert(!ban_fail("198.18.0.4", 1000, &pol, 2));
	ck_assert(!ban_fail("198.18.0.4", 1060, &pol, 4));
	ck_assert(!ban_fail("198.18.0.4", 1060, &pol, 4));
	b = ban_fail("198.18.0.4", 1060, &pol, 4);
	ck_assert_ptr_nonnull(b);
	ck_assert(!b->shared);
	ck_assert_uint_eq(ban_left("198.18.0.4", 1060, 1), 0);
}
END_TEST

START_TEST(test_lift_and_expire)
{
	ban_reset();
	for (int i = 0; i < 3; i++)
		ban_fail("fd00::2", 1000, &pol, 0);
	ck_assert(!ban_lift("fd00::3", 1001));
	ck_assert(ban_lift("fd00::2", 1001));
	ck_assert_uint_eq(ban_left("fd00::2", 1001, 0), 0);
	ck_assert(!ban_lift("fd00::2", 1001));
	ck_assert(!ban_fail("fd00::2", 1002, &pol, 0)); /* counting starts over */

	ban_fail("198.18.0.5", 1000, &pol, 0);
	ban_expire(1061, &pol); /* both windows over, nothing banned */
	ck_assert_ptr_null(ban_nth(0, 1061));
	ck_assert(!ban_fail("198.18.0.5", 1062, &pol, 0));
	ck_assert(!ban_fail("198.18.0.5", 1063, &pol, 0));
	ck_assert(ban_fail("198.18.0.5", 1064, &pol, 0));
}
END_TEST

START_TEST(test_table_full_keeps_bans)
{
	char a[BAN_ADDR_LEN];

	ban_reset();
	for (int i = 0; i < 3; i++)
		ban_fail("198.18.9.9", 1000, &pol, 0);
	/* Far more addresses than the table holds, each failing once. */
	for (int i = 0; i < 3 * BAN_MAX; i++) {
		snprintf(a, sizeof(a), "fd00::%x", i);
		ban_fail(a, 1001, &pol, 0);
	}
	ck_assert_uint_gt(ban_left("198.18.9.9", 1002, 0), 0);
}
END_TEST

/* SECURITY-REVIEW #7: failures from 2001:db8::1, ::2, ... count for the
 * /64 (limits.ipv6-prefix), so the network is banned after ban-failures
 * of them, and an address in it cannot log in. */
START_TEST(test_ipv6_prefix)
{
	char a[BAN_ADDR_LEN], peer[64];
	unsigned i, started = 0;

	ban_reset();
	for (i = 1; i <= 0x1000; i++) {
		snprintf(peer, sizeof(peer), "[2001:db8::%x]:40000", i);
		ban_addr_of_peer(peer, 64, a);
		if (ban_fail(a, 1000, &pol, 0) && !started)
			started = i;
	}
	ck_assert_uint_eq(started, pol.failures);
	ban_addr_of_peer("[2001:db8::ffff:1]:1", 64, a);
	ck_assert_str_eq(a, "2001:db8::/64");
	ck_assert_uint_eq(ban_left(a, 1001, 0), 599);
	ban_addr_of_peer("[2001:db8:0:1::1]:1", 64, a); /* the next /64 */
	ck_assert_uint_eq(ban_left(a, 1001, 0), 0);
	ck_assert_ptr_null(ban_nth(1, 1001));
	/* IPv4 through a dual-stack listener counts as itself. */
	ban_addr_of_peer("[::ffff:198.18.0.2]:1", 64, a);
	ck_assert_str_eq(a, "198.18.0.2");
	/* tunnelctl unban takes an address of the network. */
	ck_assert(!ban_lift("2001:db8:0:1::1", 1001));
	ck_assert(ban_lift("2001:db8::5", 1001));
	ck_assert_uint_eq(ban_left("2001:db8::/64", 1001, 0), 0);
	/* A /128 policy counts each address. */
	ban_reset();
	for (i = 1; i <= 0x1000; i++) {
		snprintf(peer, sizeof(peer), "[2001:db8::%x]:40000", i);
		ban_addr_of_peer(peer, 128, a);
		ck_assert(!ban_fail(a, 1000, &pol, 0));
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bans");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_addr_of_peer);
	tcase_add_test(tc, test_ban_after_failures);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_failures_persist_and_off);
	tcase_add_test(tc, test_ban_scope_by_worker);
	tcase_add_test(tc, test_lift_and_expire);
	tcase_add_test(tc, test_table_full_keeps_bans);
	tcase_add_test(tc, test_ipv6_prefix);
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
