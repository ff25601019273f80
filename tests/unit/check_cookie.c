/* Unit tests for common/cookie.c: run by `make check`, no privileges.
 * Owns nothing beyond the tables each test sets up. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cookie.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Deterministic distinct cookies: the counter lands in the hash bytes and
 * in the tail, so tests can also build keys differing in one place only. */
static void make_cookie(uint8_t c[COOKIE_BYTES], uint32_t n)
{
	uint64_t x = n * 0x9e3779b97f4a7c15ull;

	memset(c, 0x5a, COOKIE_BYTES);
	memcpy(c, &x, sizeof(x));
	memcpy(c + COOKIE_BYTES - 4, &n, sizeof(n));
}

START_TEST(test_init_cap)
{
	struct cookie_table t;

	ck_assert_int_eq(cookie_table_init(&t, 0), 0);
	ck_assert_uint_eq(t.cap, 16);
	ck_assert_uint_eq(t.count, 0);
	cookie_table_free(&t);
	ck_assert_int_eq(cookie_table_init(&t, 100), 0);
	ck_assert_uint_eq(t.cap, 128);
	cookie_table_free(&t);
	ck_assert_int_eq(cookie_table_init(&t, 256), 0);
	ck_assert_uint_eq(t.cap, 256);
	cookie_table_free(&t);
	ck_assert_int_eq(cookie_table_init(&t, UINT32_MAX), -EINVAL);
	ck_assert_ptr_null(t.slots);
}
END_TEST

START_TEST(test_insert_lookup_remove)
{
	struct cookie_table t;
	uint8_t a[COOKIE_BYTES], b[COOKIE_BYTES];
	uint32_t v = 0;

	make_cookie(a, 1);
	make_cookie(b, 2);
	ck_assert_int_eq(cookie_table_init(&t, 16), 0);
	ck_assert_int_eq(cookie_lookup(&t, a, &v), -ENOENT);
	ck_assert_int_eq(cookie_insert(&t, a, 111), 0);
	ck_assert_int_eq(cookie_insert(&t, b, 222), 0);
	ck_assert_int_eq(cookie_insert(&t, a, 333), -EEXIST);
	ck_assert_uint_eq(t.count, 2);
	ck_assert_int_eq(cookie_lookup(&t, a, &v), 0);
	ck_assert_uint_eq(v, 111);
	ck_assert_int_eq(cookie_lookup(&t, b, &v), 0);
	ck_assert_uint_eq(v, 222);
	ck_assert_int_eq(cookie_remove(&t, a), 0);
	ck_assert_int_eq(cookie_remove(&t, a), -ENOENT);
	ck_assert_int_eq(cookie_lookup(&t, a, &v), -ENOENT);
	ck_assert_int_eq(cookie_lookup(&t, b, &v), 0);
	ck_assert_uint_eq(v, 222);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_int_eq(cookie_insert(&t, a, 444), 0);
	ck_assert_int_eq(cookie_lookup(&t, a, &v), 0);
	ck_assert_uint_eq(v, 444);
	cookie_table_free(&t);
}
END_TEST

/* Keys equal except in the last byte, or in the first (hash) bytes only:
 * the comparison must look at all 32 bytes. */
START_TEST(test_near_keys)
{
	struct cookie_table t;
	uint8_t a[COOKIE_BYTES], b[COOKIE_BYTES], c[COOKIE_BYTES];
	uint32_t v;

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[COOKIE_BYTES - 1] ^= 0x80;
	memcpy(c, a, sizeof(c));
	c[9] ^= 1;
	ck_assert_int_eq(cookie_table_init(&t, 16), 0);
	ck_assert_int_eq(cookie_insert(&t, a, 1), 0);
	ck_assert_int_eq(cookie_lookup(&t, b, &v), -ENOENT);
	ck_assert_int_eq(cookie_lookup(&t, c, &v), -ENOENT);
	ck_assert_int_eq(cookie_insert(&t, b, 2), 0);
	ck_assert_int_eq(cookie_insert(&t, c, 3), 0);
	ck_assert_int_eq(cookie_lookup(&t, a, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cookie_lookup(&t, b, &v), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(cookie_lookup(&t, c, &v), 0);
	ck_assert_uint_eq(v, 3);
	cookie_table_free(&t);
}
END_TEST

START_TEST(test_many_with_growth)
{
	struct cookie_table t;
	uint8_t c[COOKIE_BYTES];
	uint32_t v, n = 100000;

	ck_assert_int_eq(cookie_table_init(&t, 0), 0);
	for (uint32_t i = 0; i < n; i++) {
		make_cookie(c, i);
		ck_assert_int_eq(cookie_insert(&t, c, i + 7), 0);
		/* The load limit holds after every insert. */
		ck_assert_uint_le((uint64_t)(t.count + t.tomb) * 10, (uint64_t)t.cap * 7);
	}
	ck_assert_uint_eq(t.count, n);
	ck_assert_uint_ge(t.cap, 131072);
	for (uint32_t i = 0; i < n; i++) {
		make_cookie(c, i);
		ck_assert_int_eq(cookie_lookup(&t, c, &v), 0);
		ck_assert_uint_eq(v, i + 7);
	}
	/* Remove every other one; the rest stay findable past the
	 * tombstones, and the removed ones are gone. */
	for (uint32_t i = 0; i < n; i += 2) {
		make_cookie(c, i);
		ck_assert_int_eq(cookie_remove(&t, c), 0);
	}
	ck_assert_uint_eq(t.count, n / 2);
	for (uint32_t i = 0; i < n; i++) {
		make_cookie(c, i);
		if (i % 2) {
			ck_assert_int_eq(cookie_lookup(&t, c, &v), 0);
			ck_assert_uint_eq(v, i + 7);
		} else {
			ck_assert_int_eq(cookie_lookup(&t, c, &v), -ENOENT);
		}
	}
	make_cookie(c, n);
	ck_assert_int_eq(cookie_lookup(&t, c, &v), -ENOENT);
	cookie_table_free(&t);
}
END_TEST

/* Same first 8 bytes: all land in one probe chain. */
START_TEST(test_collisions_and_tombstones)
{
	struct cookie_table t;
	uint8_t c[6][COOKIE_BYTES];
	uint32_t v, tomb;

	ck_assert_int_eq(cookie_table_init(&t, 16), 0);
	for (int i = 0; i < 6; i++) {
		memset(c[i], 0xab, COOKIE_BYTES);
		c[i][20] = (uint8_t)i;
		ck_assert_int_eq(cookie_insert(&t, c[i], (uint32_t)i), 0);
	}
	ck_assert_int_eq(cookie_remove(&t, c[1]), 0);
	ck_assert_int_eq(cookie_remove(&t, c[2]), 0);
	ck_assert_int_eq(cookie_remove(&t, c[4]), 0);
	ck_assert_uint_eq(t.tomb, 3);
	ck_assert_int_eq(cookie_lookup(&t, c[0], &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cookie_lookup(&t, c[3], &v), 0);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_eq(cookie_lookup(&t, c[5], &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(cookie_lookup(&t, c[2], &v), -ENOENT);
	/* A live key behind a tombstone is still a duplicate. */
	ck_assert_int_eq(cookie_insert(&t, c[5], 9), -EEXIST);
	/* Re-inserting reuses a tombstone. */
	tomb = t.tomb;
	ck_assert_int_eq(cookie_insert(&t, c[2], 22), 0);
	ck_assert_uint_eq(t.tomb, tomb - 1);
	ck_assert_int_eq(cookie_lookup(&t, c[2], &v), 0);
	ck_assert_uint_eq(v, 22);
	ck_assert_int_eq(cookie_lookup(&t, c[5], &v), 0);
	ck_assert_uint_eq(v, 5);
	cookie_table_free(&t);
}
END_TEST

/* Churn with a few live entries must not make the table grow without
 * bound: rehashing drops tombstones instead. */
START_TEST(test_churn_does_not_grow)
{
	struct cookie_table t;
	uint8_t c[COOKIE_BYTES], keep[COOKIE_BYTES];
	uint32_t v;

	ck_assert_int_eq(cookie_table_init(&t, 16), 0);
	make_cookie(keep, 0xffffffffu);
	ck_assert_int_eq(cookie_insert(&t, keep, 42), 0);
	for (uint32_t i = 0; i < 100000; i++) {
		make_cookie(c, i);
		ck_assert_int_eq(cookie_insert(&t, c, i), 0);
		ck_assert_int_eq(cookie_remove(&t, c), 0);
	}
	ck_assert_uint_eq(t.cap, 16);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_uint_lt(t.tomb, 16);
	ck_assert_int_eq(cookie_lookup(&t, keep, &v), 0);
	ck_assert_uint_eq(v, 42);
	cookie_table_free(&t);
}
END_TEST

START_TEST(test_encode_vectors)
{
	uint8_t c[COOKIE_BYTES];
	char s[COOKIE_TEXT_LEN + 1];

	for (int i = 0; i < COOKIE_BYTES; i++)
		c[i] = (uint8_t)i;
	cookie_encode(c, s);
	ck_assert_str_eq(s, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");

	memset(c, 0xff, sizeof(c));
	cookie_encode(c, s);
	ck_assert_str_eq(s, "__________________________________________8");

	for (int i = 0; i < 30; i += 3) {
		c[i] = 0xfb;
		c[i + 1] = 0xef;
		c[i + 2] = 0xbe;
	}
	c[30] = 0xfb;
	c[31] = 0xf0;
	cookie_encode(c, s);
	ck_assert_str_eq(s, "-----------------------------------------_A");

	memset(c, 0, sizeof(c));
	cookie_encode(c, s);
	ck_assert_str_eq(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	ck_assert_uint_eq(strlen(s), COOKIE_TEXT_LEN);
}
END_TEST

START_TEST(test_decode_round_trip)
{
	uint8_t c[COOKIE_BYTES], d[COOKIE_BYTES];
	char s[COOKIE_TEXT_LEN + 1], t[COOKIE_TEXT_LEN + 1];

	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(cookie_generate(c), 0);
		cookie_encode(c, s);
		ck_assert_uint_eq(strlen(s), COOKIE_TEXT_LEN);
		ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN, d), 0);
		ck_assert_mem_eq(c, d, COOKIE_BYTES);
	}
	ck_assert_int_eq(cookie_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43, d), 0);
	for (int i = 0; i < COOKIE_BYTES; i++)
		ck_assert_uint_eq(d[i], i);

	/* Every character of the alphabet, in every position class. */
	for (int k = 0; k < 64; k++) {
		for (int i = 0; i < COOKIE_TEXT_LEN - 1; i++)
			s[i] = alphabet[(k + i) % 64];
		s[COOKIE_TEXT_LEN - 1] = 'A';
		s[COOKIE_TEXT_LEN] = '\0';
		ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN, d), 0);
		cookie_encode(d, t);
		ck_assert_str_eq(s, t);
	}
}
END_TEST

START_TEST(test_decode_rejects)
{
	const char *good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	uint8_t d[COOKIE_BYTES];
	char s[COOKIE_TEXT_LEN + 2];
	int accepted = 0;

	ck_assert_int_eq(cookie_decode(good, 42, d), -EINVAL);
	ck_assert_int_eq(cookie_decode(good, 0, d), -EINVAL);
	memcpy(s, good, COOKIE_TEXT_LEN);
	s[COOKIE_TEXT_LEN] = 'A';
	ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN + 1, d), -EINVAL);

	/* Each byte value in the middle: accepted exactly for the alphabet. */
	for (int ch = 0; ch < 256; ch++) {
		memcpy(s, good, COOKIE_TEXT_LEN);
		s[17] = (char)ch;
		if (cookie_decode(s, COOKIE_TEXT_LEN, d) == 0) {
			ck_assert_ptr_nonnull(memchr(alphabet, ch, 64));
			ck_assert(ch != 0);
			accepted++;
		}
	}
	ck_assert_int_eq(accepted, 64);

	/* Last character: 4 data bits, 2 bits that must be zero. */
	accepted = 0;
	for (int i = 0; i < 64; i++) {
		memcpy(s, good, COOKIE_TEXT_LEN);
		s[COOKIE_TEXT_LEN - 1] = alphabet[i];
		if (cookie_decode(s, COOKIE_TEXT_LEN, d) == 0) {
			ck_assert_int_eq(i & 3, 0);
			accepted++;
		}
	}
	ck_assert_int_eq(accepted, 16);

	/* Standard base64 and padding are not base64url. */
	memcpy(s, good, COOKIE_TEXT_LEN);
	s[0] = '+';
	ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN, d), -EINVAL);
	s[0] = '/';
	ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN, d), -EINVAL);
	memcpy(s, good, COOKIE_TEXT_LEN);
	s[COOKIE_TEXT_LEN - 1] = '=';
	ck_assert_int_eq(cookie_decode(s, COOKIE_TEXT_LEN, d), -EINVAL);
	/* A rejected decode leaves no partial cookie behind. */
	for (int i = 0; i < COOKIE_BYTES; i++)
		ck_assert_uint_eq(d[i], 0);
}
END_TEST

START_TEST(test_generate)
{
	uint8_t a[COOKIE_BYTES], b[COOKIE_BYTES], zero[COOKIE_BYTES] = {0};

	ck_assert_int_eq(cookie_generate(a), 0);
	ck_assert_int_eq(cookie_generate(b), 0);
	ck_assert(memcmp(a, b, COOKIE_BYTES) != 0);
	ck_assert(memcmp(a, zero, COOKIE_BYTES) != 0);
	/* The tail is random too, not only the hash bytes. */
	ck_assert(memcmp(a + 16, b + 16, 16) != 0);
}
END_TEST

static Suite *cookie_suite(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_init_cap);
	tcase_add_test(tc, test_insert_lookup_remove);
	tcase_add_test(tc, test_near_keys);
	tcase_add_test(tc, test_many_with_growth);
	tcase_add_test(tc, test_collisions_and_tombstones);
	tcase_add_test(tc, test_churn_does_not_grow);
	tcase_add_test(tc, test_encode_vectors);
	tcase_add_test(tc, test_decode_round_trip);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_generate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cookie_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
