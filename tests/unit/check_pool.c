/* Unit tests for common/pool.c: run by `make check`, no privileges.
 * Owns nothing beyond the pools each test sets up. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/pool.h"

static struct cfg_prefix pfx(const char *addr, unsigned len)
{
	struct cfg_prefix p;

	memset(&p, 0, sizeof(p));
	if (strchr(addr, ':')) {
		p.addr.family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &p.addr.u.v6), 1);
	} else {
		p.addr.family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addr, &p.addr.u.v4), 1);
	}
	p.len = len;
	return p;
}

static uint32_t v4(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct in6_addr v6(const char *s)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static void init4(struct pool *p, const char *addr, unsigned len)
{
	struct cfg_prefix a = pfx(addr, len);

	ck_assert_int_eq(pool_init(p, &a, NULL), 0);
}

static void init6(struct pool *p, const char *addr, unsigned len)
{
	struct cfg_prefix a = pfx(addr, len);

	ck_assert_int_eq(pool_init(p, NULL, &a), 0);
}

START_TEST(test_slash29_exhaustion)
{
	struct pool p;
	bool seen[8] = {false};

	init4(&p, "10.0.0.0", 29);
	ck_assert_uint_eq(p.g.size, 8);
	ck_assert_uint_eq(p.usable, 5);
	for (int i = 0; i < 5; i++) {
		int64_t idx = pool_alloc(&p);
		ck_assert_int_ge(idx, 2);
		ck_assert_int_le(idx, 6);
		ck_assert(!seen[idx]);
		seen[idx] = true;
	}
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	ck_assert_uint_eq(p.used, 5);
	/* Network, server and broadcast stay reserved. */
	ck_assert(pool_in_use(&p, 0));
	ck_assert(pool_in_use(&p, POOL_SERVER_INDEX));
	ck_assert(pool_in_use(&p, 7));
	ck_assert(!pool_in_use(&p, 8));
	pool_free(&p);
}
END_TEST

START_TEST(test_never_reserved_large)
{
	struct pool p;
	int64_t idx;
	uint32_t n = 0;

	init4(&p, "192.168.0.0", 22);
	ck_assert_uint_eq(p.usable, 1024 - 3);
	while ((idx = pool_alloc(&p)) >= 0) {
		ck_assert_int_ne(idx, 0);
		ck_assert_int_ne(idx, 1);
		ck_assert_int_ne(idx, 1023);
		n++;
	}
	ck_assert_int_eq(idx, -ENOSPC);
	ck_assert_uint_eq(n, 1024 - 3);
	pool_free(&p);
}
END_TEST

START_TEST(test_release_not_reused_at_once)
{
	struct pool p;

	init4(&p, "10.0.0.0", 29);
	ck_assert_int_eq(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_alloc(&p), 3);
	pool_release(&p, 2);
	ck_assert(!pool_in_use(&p, 2));
	ck_assert_uint_eq(p.used, 1);
	/* Next-fit: the freed 2 comes back only after the cursor wraps. */
	ck_assert_int_eq(pool_alloc(&p), 4);
	ck_assert_int_eq(pool_alloc(&p), 5);
	ck_assert_int_eq(pool_alloc(&p), 6);
	ck_assert_int_eq(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_release(&p, 4);
	ck_assert_int_eq(pool_alloc(&p), 4);
	pool_free(&p);
}
END_TEST

START_TEST(test_wrap_across_words)
{
	struct pool p;
	int64_t idx;

	init4(&p, "10.9.8.0", 24);
	while (pool_alloc(&p) >= 0)
		;
	ck_assert_uint_eq(p.used, 253);
	pool_release(&p, 200);
	pool_release(&p, 100);
	pool_release(&p, 64);
	/* Cursor sits just past 254; the search wraps to the first word. */
	ck_assert_int_eq(pool_alloc(&p), 64);
	ck_assert_int_eq(pool_alloc(&p), 100);
	idx = pool_alloc(&p);
	ck_assert_int_eq(idx, 200);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_release_hostile)
{
	struct pool p;

	init4(&p, "10.0.0.0", 29);
	/* Reserved indexes cannot be released into circulation. */
	pool_release(&p, 0);
	pool_release(&p, 1);
	pool_release(&p, 7);
	pool_release(&p, 8);
	pool_release(&p, UINT32_MAX);
	ck_assert(pool_in_use(&p, 0));
	ck_assert(pool_in_use(&p, 1));
	ck_assert(pool_in_use(&p, 7));
	/* Releasing a free index must not corrupt the count. */
	pool_release(&p, 3);
	ck_assert_uint_eq(p.used, 0);
	ck_assert_int_eq(pool_alloc(&p), 2);
	pool_release(&p, 2);
	pool_release(&p, 2);
	ck_assert_uint_eq(p.used, 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_ge(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_take)
{
	struct pool p;

	init4(&p, "10.0.0.0", 29);
	ck_assert_int_eq(pool_take(&p, 5), 0);
	ck_assert(pool_in_use(&p, 5));
	ck_assert_int_eq(pool_take(&p, 5), -EBUSY);
	ck_assert_int_eq(pool_take(&p, 0), -EBUSY);
	ck_assert_int_eq(pool_take(&p, 1), -EBUSY);
	ck_assert_int_eq(pool_take(&p, 7), -EBUSY);
	ck_assert_int_eq(pool_take(&p, 8), -ERANGE);
	ck_assert_int_eq(pool_take(&p, UINT32_MAX), -ERANGE);
	ck_assert_int_eq(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_take(&p, 2), -EBUSY);
	ck_assert_int_eq(pool_alloc(&p), 3);
	ck_assert_int_eq(pool_alloc(&p), 4);
	ck_assert_int_eq(pool_alloc(&p), 6); /* 5 was taken */
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	ck_assert_uint_eq(p.used, 5);
	pool_release(&p, 5);
	ck_assert_int_eq(pool_take(&p, 5), 0);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_v4_round_trip)
{
	struct pool p;
	struct in_addr a;
	char buf[INET_ADDRSTRLEN];

	/* Host bits in the configured prefix are ignored. */
	init4(&p, "10.1.77.5", 16);
	ck_assert_uint_eq(p.g.base4, 0x0a010000);
	pool_addr4(&p.g, POOL_SERVER_INDEX, &a);
	ck_assert_str_eq(inet_ntop(AF_INET, &a, buf, sizeof(buf)), "10.1.0.1");
	pool_addr4(&p.g, 0x1234, &a);
	ck_assert_str_eq(inet_ntop(AF_INET, &a, buf, sizeof(buf)), "10.1.18.52");
	for (uint32_t idx = 0; idx < p.g.size; idx += 97) {
		pool_addr4(&p.g, idx, &a);
		ck_assert_int_eq(pool_index4(&p.g, a.s_addr), idx);
	}
	ck_assert_int_eq(pool_index4(&p.g, v4("10.1.255.255")), 65535);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.1.0.0")), 0);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.0.255.255")), -1);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.2.0.0")), -1);
	ck_assert_int_eq(pool_index4(&p.g, v4("0.0.0.0")), -1);
	ck_assert_int_eq(pool_index4(&p.g, v4("255.255.255.255")), -1);
	ck_assert_int_eq(pool_index6(&p.g, &(struct in6_addr){{{0}}}), -1);
	ck_assert(!p.g.have6);
	pool_free(&p);
}
END_TEST

START_TEST(test_v6_round_trip)
{
	struct pool p;
	struct in6_addr a, b;
	char buf[INET6_ADDRSTRLEN];

	init6(&p, "fd00:1::", 64);
	ck_assert(!p.g.have4);
	ck_assert_uint_eq(p.g.size, POOL_MAX_SIZE);
	/* No broadcast in IPv6: only network and server are reserved. */
	ck_assert_uint_eq(p.usable, POOL_MAX_SIZE - 2);
	pool_addr6(&p.g, 0x12345, &a);
	ck_assert_str_eq(inet_ntop(AF_INET6, &a, buf, sizeof(buf)), "fd00:1::1:2345");
	ck_assert_int_eq(pool_index6(&p.g, &a), 0x12345);
	for (uint32_t idx = 0; idx < p.g.size; idx += 4099) {
		pool_addr6(&p.g, idx, &a);
		ck_assert_int_eq(pool_index6(&p.g, &a), idx);
	}
	b = v6("fd00:1::f:ffff");
	ck_assert_int_eq(pool_index6(&p.g, &b), POOL_MAX_SIZE - 1);
	/* Inside the /64 but past the pool. */
	b = v6("fd00:1::10:0");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	b = v6("fd00:1::1:0:5");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	b = v6("fd00:1:0:0:8000::5");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	b = v6("fd00:2::5");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	b = v6("fd00:0:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	ck_assert_int_eq(pool_index4(&p.g, v4("0.0.0.2")), -1);
	pool_free(&p);
}
END_TEST

/* A prefix longer than /96: the prefix reaches into the last 32 bits. */
START_TEST(test_v6_long_prefix)
{
	struct pool p;
	struct in6_addr a, b;
	char buf[INET6_ADDRSTRLEN];

	init6(&p, "fd00::ab:cdef", 116);
	ck_assert_uint_eq(p.g.size, 4096);
	ck_assert_uint_eq(p.usable, 4094);
	pool_addr6(&p.g, 0, &a);
	ck_assert_str_eq(inet_ntop(AF_INET6, &a, buf, sizeof(buf)), "fd00::ab:c000");
	pool_addr6(&p.g, 0xfff, &a);
	ck_assert_str_eq(inet_ntop(AF_INET6, &a, buf, sizeof(buf)), "fd00::ab:cfff");
	ck_assert_int_eq(pool_index6(&p.g, &a), 0xfff);
	b = v6("fd00::ab:d000");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	b = v6("fd00::ab:bfff");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	pool_free(&p);
}
END_TEST

START_TEST(test_v6_only_last_index_usable)
{
	struct pool p;

	init6(&p, "fd00::", 126);
	ck_assert_uint_eq(p.g.size, 4);
	ck_assert_int_eq(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_alloc(&p), 3);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_both_size_is_min)
{
	struct pool p;
	struct cfg_prefix a4, a6;
	struct in_addr a;
	struct in6_addr b;
	char buf[INET6_ADDRSTRLEN];

	/* v4 smaller: the broadcast index is reserved. */
	a4 = pfx("172.16.5.0", 24);
	a6 = pfx("fd00:5::", 64);
	ck_assert_int_eq(pool_init(&p, &a4, &a6), 0);
	ck_assert(p.g.have4 && p.g.have6);
	ck_assert_uint_eq(p.g.size, 256);
	ck_assert_uint_eq(p.usable, 253);
	ck_assert(pool_in_use(&p, 255));
	pool_addr4(&p.g, 77, &a);
	pool_addr6(&p.g, 77, &b);
	ck_assert_int_eq(pool_index4(&p.g, a.s_addr), 77);
	ck_assert_int_eq(pool_index6(&p.g, &b), 77);
	ck_assert_str_eq(inet_ntop(AF_INET6, &b, buf, sizeof(buf)), "fd00:5::4d");
	b = v6("fd00:5::100");
	ck_assert_int_eq(pool_index6(&p.g, &b), -1);
	pool_free(&p);

	/* v6 smaller: the last index is an ordinary address, since the IPv4
	 * pool is cut short before its broadcast address. */
	a4 = pfx("172.16.0.0", 16);
	a6 = pfx("fd00:5::", 120);
	ck_assert_int_eq(pool_init(&p, &a4, &a6), 0);
	ck_assert_uint_eq(p.g.size, 256);
	ck_assert_uint_eq(p.usable, 254);
	ck_assert(!pool_in_use(&p, 255));
	ck_assert_int_eq(pool_take(&p, 255), 0);
	ck_assert_int_eq(pool_index4(&p.g, v4("172.16.1.0")), -1);
	pool_free(&p);

	/* Equal sizes: broadcast reserved. */
	a4 = pfx("172.16.0.0", 30);
	a6 = pfx("fd00:5::", 126);
	ck_assert_int_eq(pool_init(&p, &a4, &a6), 0);
	ck_assert_uint_eq(p.g.size, 4);
	ck_assert_int_eq(pool_alloc(&p), 2);
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC);
	pool_free(&p);
}
END_TEST

START_TEST(test_slash8_capped)
{
	struct pool p;
	uint32_t n = 0;

	init4(&p, "10.0.0.0", 8);
	ck_assert_uint_eq(p.g.size, POOL_MAX_SIZE);
	/* The cap cuts the pool before 10.255.255.255: nothing at the end is
	 * reserved. */
	ck_assert_uint_eq(p.usable, POOL_MAX_SIZE - 2);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.15.255.255")), POOL_MAX_SIZE - 1);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.16.0.0")), -1);
	ck_assert_int_eq(pool_index4(&p.g, v4("10.255.255.255")), -1);
	while (pool_alloc(&p) >= 0)
		n++;
	ck_assert_uint_eq(n, POOL_MAX_SIZE - 2);
	ck_assert(pool_in_use(&p, POOL_MAX_SIZE - 1));
	pool_free(&p);
}
END_TEST

START_TEST(test_invalid)
{
	struct pool p;
	struct cfg_prefix a, b;

	ck_assert_int_eq(pool_init(&p, NULL, NULL), -EINVAL);
	a = pfx("10.0.0.0", 31);
	ck_assert_int_eq(pool_init(&p, &a, NULL), -EINVAL);
	a = pfx("10.0.0.0", 32);
	ck_assert_int_eq(pool_init(&p, &a, NULL), -EINVAL);
	a = pfx("fd00::", 127);
	ck_assert_int_eq(pool_init(&p, NULL, &a), -EINVAL);
	/* Families swapped. */
	a = pfx("fd00::", 64);
	b = pfx("10.0.0.0", 24);
	ck_assert_int_eq(pool_init(&p, &a, &b), -EINVAL);
	ck_assert_ptr_null(p.bitmap);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_slash29_exhaustion);
	tcase_add_test(tc, test_never_reserved_large);
	tcase_add_test(tc, test_release_not_reused_at_once);
	tcase_add_test(tc, test_wrap_across_words);
	tcase_add_test(tc, test_release_hostile);
	tcase_add_test(tc, test_take);
	tcase_add_test(tc, test_v4_round_trip);
	tcase_add_test(tc, test_v6_round_trip);
	tcase_add_test(tc, test_v6_long_prefix);
	tcase_add_test(tc, test_v6_only_last_index_usable);
	tcase_add_test(tc, test_both_size_is_min);
	tcase_add_test(tc, test_slash8_capped);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
