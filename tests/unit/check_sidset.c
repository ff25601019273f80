/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the set of session ids behind the fleet's lists
 * (daemon/sidset.c). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "daemon/sidset.h"

/* The set behind the fleet's lists: every entry found after any mix of
 * insertions, replacements and deletions (backward shift), none of the
 * deleted, expiry drops exactly the old ones. */
START_TEST(test_sidset)
{
	struct sidset s;
	const unsigned n = 20000;

	ck_assert_int_eq(sidset_init(&s, 16), 0);
	ck_assert_int_eq(sidset_put(&s, 0, 1, 1), -EINVAL);
	for (unsigned i = 1; i <= n; i++)
		ck_assert_int_eq(sidset_put(&s, (uint64_t)i << 20 | 5, 1000 + i % 2, i), 0);
	ck_assert_uint_eq(s.n, n);
	ck_assert_uint_le((uint64_t)s.n * 4, (uint64_t)s.cap * 3);
	ck_assert_int_eq(sidset_put(&s, (uint64_t)7 << 20 | 5, 1001, 77), 0); /* replaced */
	ck_assert_uint_eq(s.n, n);
	ck_assert_uint_eq(sidset_get(&s, (uint64_t)7 << 20 | 5)->val, 77);
	for (unsigned i = 1; i <= n; i += 3)
		sidset_del(&s, (uint64_t)i << 20 | 5);
	for (unsigned i = 1; i <= n; i++) {
		struct sid_entry *e = sidset_get(&s, (uint64_t)i << 20 | 5);
		ck_assert_msg((i % 3 == 1) == (e == NULL), "sid %u", i);
	}
	sidset_expire(&s, 1000); /* the even ones expire at 1000 */
	for (unsigned i = 1; i <= n; i++) {
		struct sid_entry *e = sidset_get(&s, (uint64_t)i << 20 | 5);
		ck_assert_msg((i % 3 != 1 && i % 2 == 1) == (e != NULL), "sid %u", i);
	}
	sidset_free(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sidset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sidset);
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
