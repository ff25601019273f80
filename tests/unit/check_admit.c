/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: what the worker's admission counts connections by
 * (common/addrkey.c: an IPv6 client by its /64, SECURITY-REVIEW #7) and
 * the table of pending connections per source (worker/sources.c) that
 * limits.max-handshakes-per-address reads and that picks the busiest
 * source to lose a connection at limits.max-handshakes (#10). */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addrkey.h"
#include "worker/sources.h"

static void key6(const char *text, unsigned prefix6, uint8_t key[ADDRKEY_LEN])
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};

	ck_assert_int_eq(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
	addrkey_of_sockaddr((const struct sockaddr *)&s6, prefix6, key);
}

static void key4(const char *text, uint8_t key[ADDRKEY_LEN])
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(40000)};

	ck_assert_int_eq(inet_pton(AF_INET, text, &s4.sin_addr), 1);
	addrkey_of_sockaddr((const struct sockaddr *)&s4, 64, key);
}

static const char *text_of(const uint8_t key[ADDRKEY_LEN], unsigned prefix6)
{
	static char buf[64];

	addrkey_text(key, prefix6, buf, sizeof(buf));
	return buf;
}

START_TEST(test_key_ipv6_prefix)
{
	uint8_t a[ADDRKEY_LEN], b[ADDRKEY_LEN];
	char text[64];

	/* Any two addresses of one /64 are one source. */
	key6("2001:db8::1", 64, a);
	key6("2001:db8::ffff:ffff:ffff:1000", 64, b);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	ck_assert_str_eq(text_of(a, 64), "2001:db8::/64");
	key6("2001:db8:0:1::1", 64, b);
	ck_assert_mem_ne(a, b, ADDRKEY_LEN);
	/* Other lengths. */
	key6("2001:db8:0:1::1", 48, a);
	key6("2001:db8:0:ffff::1", 48, b);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	ck_assert_str_eq(text_of(a, 48), "2001:db8::/48");
	key6("2001:db8:0:1::1", 60, a);
	key6("2001:db8:0:f::1", 60, b);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	key6("2001:db8:0:10::1", 60, b);
	ck_assert_mem_ne(a, b, ADDRKEY_LEN);
	key6("2001:db8::1", 128, a);
	key6("2001:db8::2", 128, b);
	ck_assert_mem_ne(a, b, ADDRKEY_LEN);
	ck_assert_str_eq(text_of(a, 128), "2001:db8::1");
	/* From text, as the master has it. */
	ck_assert_int_eq(addrkey_of_text("2001:db8::77", 64, b), 0);
	key6("2001:db8::1", 64, a);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	ck_assert_int_eq(addrkey_of_text("2001:db8::77/64", 64, b), -EINVAL);
	ck_assert_int_eq(addrkey_of_text("", 64, b), -EINVAL);
	addrkey_text(a, 64, text, 8); /* cut short, still a string */
	ck_assert_uint_lt(strlen(text), 8);
}
END_TEST

START_TEST(test_key_ipv4)
{
	uint8_t a[ADDRKEY_LEN], b[ADDRKEY_LEN];

	/* IPv4 counts whole, also IPv4-mapped from a dual-stack listener:
	 * masking those to /64 would make all IPv4 clients one source. */
	key4("198.18.0.2", a);
	key6("::ffff:198.18.0.2", 64, b);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	ck_assert(addrkey_is_ipv4(a));
	ck_assert_str_eq(text_of(a, 64), "198.18.0.2");
	key6("::ffff:198.18.0.3", 64, b);
	ck_assert_mem_ne(a, b, ADDRKEY_LEN);
	key4("198.18.0.3", a);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	ck_assert_int_eq(addrkey_of_text("198.18.0.3", 64, a), 0);
	ck_assert_mem_eq(a, b, ADDRKEY_LEN);
	/* An IPv6 network never looks like an IPv4 address. */
	key6("::", 64, a);
	ck_assert(!addrkey_is_ipv4(a));
}
END_TEST

/* #7 at the worker: 0x1000 handshakes from as many addresses of one /64
 * count as 0x1000 from one source, which the per-address share refuses. */
START_TEST(test_one_prefix_one_source)
{
	uint8_t k[ADDRKEY_LEN], other[ADDRKEY_LEN];
	char text[64];

	ck_assert_int_eq(srcs_init(64, 42), 0);
	for (unsigned i = 1; i <= 0x1000; i++) {
		snprintf(text, sizeof(text), "2001:db8::%x", i);
		key6(text, 64, k);
		ck_assert_int_eq(srcs_add(k), 0);
	}
	ck_assert_uint_eq(srcs_sources(), 1);
	ck_assert_uint_eq(srcs_count(k), 0x1000);
	key6("2001:db8:0:1::1", 64, other);
	ck_assert_uint_eq(srcs_count(other), 0);
	srcs_free();
}
END_TEST

/* The table against a plain array, through growth and deletions. */
START_TEST(test_table_model)
{
	enum { N = 3000 };
	static uint32_t model[N];
	uint8_t k[ADDRKEY_LEN];
	uint32_t live = 0;

	memset(model, 0, sizeof(model));
	ck_assert_int_eq(srcs_init(4, 0x1234567890abcdefull), 0);
	srand(7);
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)rand() % N;

		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		if (rand() % 3 && model[i]) {
			srcs_remove(k);
			live -= --model[i] == 0;
		} else {
			ck_assert_int_eq(srcs_add(k), 0);
			live += model[i]++ == 0;
		}
		ck_assert_uint_eq(srcs_count(k), model[i]);
		if (step % 1000 == 0) {
			ck_assert_uint_eq(srcs_sources(), live);
			for (uint32_t j = 0; j < N; j++) {
				memset(k, 0, sizeof(k));
				memcpy(k, &j, sizeof(j));
				ck_assert_uint_eq(srcs_count(k), model[j]);
			}
		}
	}
	for (uint32_t j = 0; j < N; j++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &j, sizeof(j));
		while (model[j]--)
			srcs_remove(k);
	}
	ck_assert_uint_eq(srcs_sources(), 0);
	ck_assert_uint_eq(srcs_busiest(1, k), 0);
	srcs_free();
}
END_TEST

/* #10: 20 attacker addresses hold most pending connections, a real client
 * one: the busiest source is always an attacker's, whatever the pick. */
START_TEST(test_busiest)
{
	uint8_t k[ADDRKEY_LEN], real[ADDRKEY_LEN], got[ADDRKEY_LEN];
	char text[32];
	bool seen[3] = {false, false, false};

	ck_assert_int_eq(srcs_init(64, 99), 0);
	for (int a = 0; a < 20; a++) {
		snprintf(text, sizeof(text), "198.18.0.%d", 100 + a);
		key4(text, k);
		for (int n = 0; n < 3 + a % 5; n++)
			ck_assert_int_eq(srcs_add(k), 0);
	}
	key4("198.18.0.11", real);
	ck_assert_int_eq(srcs_add(real), 0);
	for (uint64_t pick = 0; pick < 1000; pick++) {
		ck_assert_uint_eq(srcs_busiest(pick * 0x9e3779b97f4a7c15ull, got), 7);
		ck_assert_mem_ne(got, real, ADDRKEY_LEN);
		/* 7 = 3 + a % 5 for a = 4, 9, 14, 19 */
		ck_assert_int_eq((got[15] - 100) % 5, 4);
	}
	srcs_free();

	/* Equals: each of them is picked at times. */
	ck_assert_int_eq(srcs_init(8, 5), 0);
	for (int a = 0; a < 3; a++) {
		snprintf(text, sizeof(text), "198.18.0.%d", a);
		key4(text, k);
		srcs_add(k);
		srcs_add(k);
	}
	key4("198.18.0.9", k);
	srcs_add(k);
	for (uint64_t pick = 0; pick < 64; pick++) {
		ck_assert_uint_eq(srcs_busiest(pick, got), 2);
		ck_assert_uint_lt(got[15], 3);
		seen[got[15]] = true;
	}
	ck_assert(seen[0] && seen[1] && seen[2]);
	srcs_free();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("admit");
	TCase *tc = tcase_create("core");

	/* test_table_model runs a long random model: slow under valgrind
	 * and the sanitizers on a loaded 2-core machine, not a deadline. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_key_ipv6_prefix);
	tcase_add_test(tc, test_key_ipv4);
	tcase_add_test(tc, test_one_prefix_one_source);
	tcase_add_test(tc, test_table_model);
	tcase_add_test(tc, test_busiest);
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
