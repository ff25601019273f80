/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the table of RADIUS challenges waiting for answers
 * (daemon/radchal.c): ids, the State kept as it came, the bound, the
 * expiry, an old id that never finds its slot's next entry. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "daemon/radchal.h"

static struct radchal_table t;

static void setup(void)
{
	memset(&t, 0, sizeof(t));
}

/* A challenge kept, found by its id, its State as it came (binary). */
START_TEST(test_keep_and_find)
{
	const uint8_t state[] = {0x00, 0xff, 0x10, 'S', 0x00};
	struct radchal *c = radchal_new(&t, 1000), *f;
	uint32_t id;

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_ne(c->id, 0);
	id = c->id;
	c->sid = 0x0100000000000abcull;
	c->nas_port = 7;
	ck_assert_int_eq(radchal_set_state(c, state, sizeof(state), 1000), 0);
	f = radchal_find(&t, id, 1010);
	ck_assert_ptr_eq(f, c);
	ck_assert_uint_eq(f->state_len, sizeof(state));
	ck_assert_mem_eq(f->state, state, sizeof(state));
	ck_assert_uint_eq(radchal_count(&t, 1010), 1);
	/* Ids that are not its own, and 0, find nothing. */
	ck_assert_ptr_null(radchal_find(&t, 0, 1010));
	ck_assert_ptr_null(radchal_find(&t, id + RADCHAL_MAX, 1010));
	ck_assert_ptr_null(radchal_find(&t, id + 1, 1010));
	/* A State longer than an attribute holds is refused, c unchanged. */
	ck_assert_int_eq(radchal_set_state(c, state, RADIUS_STATE_MAX + 1, 1020), -1);
	ck_assert_uint_eq(c->state_len, sizeof(state));
	ck_assert_int_eq(radchal_set_state(c, NULL, 0, 1020), 0);
	ck_assert_uint_eq(c->state_len, 0);
	/* Dropped: gone, and wiped. */
	radchal_drop(&t, id);
	ck_assert_ptr_null(radchal_find(&t, id, 1020));
	ck_assert_uint_eq(c->id, 0);
	ck_assert_uint_eq(c->sid, 0);
	ck_assert_uint_eq(radchal_count(&t, 1020), 0);
	radchal_drop(&t, id); /* twice: nothing */
	radchal_drop(&t, 0);
}
END_TEST

/* RADCHAL_MAX at once, then none; a slot reused has a new id, and the old
 * one does not find it. */
START_TEST(test_bound_and_reuse)
{
	uint32_t ids[RADCHAL_MAX], old;
	struct radchal *c;

	for (unsigned i = 0; i < RADCHAL_MAX; i++) {
		c = radchal_new(&t, 2000);
		ck_assert_ptr_nonnull(c);
		ids[i] = c->id;
		for (unsigned k = 0; k < i; k++)
			ck_assert_uint_ne(ids[k], ids[i]);
	}
	ck_assert_ptr_null(radchal_new(&t, 2000 + RADCHAL_LIFE));
	ck_assert_uint_eq(radchal_count(&t, 2000), RADCHAL_MAX);
	old = ids[5];
	radchal_drop(&t, old);
	c = radchal_new(&t, 2001);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_ne(c->id, old);
	ck_assert_uint_eq(c->id % RADCHAL_MAX, old % RADCHAL_MAX);
	ck_assert_ptr_null(radchal_find(&t, old, 2001));
	ck_assert_ptr_eq(radchal_find(&t, c->id, 2001), c);
}
END_TEST

/* A challenge waits RADCHAL_LIFE seconds for its answer, counted from
 * the last challenge; then it is gone, and its slot free for another. */
START_TEST(test_expiry)
{
	struct radchal *c = radchal_new(&t, 3000), *d;
	uint32_t id = c->id;

	ck_assert_ptr_eq(radchal_find(&t, id, 3000 + RADCHAL_LIFE), c);
	/* Challenged again: its time starts anew. */
	ck_assert_int_eq(radchal_set_state(c, "x", 1, 3100), 0);
	ck_assert_ptr_eq(radchal_find(&t, id, 3100 + RADCHAL_LIFE), c);
	ck_assert_ptr_null(radchal_find(&t, id, 3101 + RADCHAL_LIFE));
	ck_assert_uint_eq(c->id, 0); /* wiped */
	/* A full table of expired entries makes room for a new one. */
	for (unsigned i = 0; i < RADCHAL_MAX; i++)
		ck_assert_ptr_nonnull(radchal_new(&t, 4000));
	ck_assert_ptr_null(radchal_new(&t, 4000));
	ck_assert_uint_eq(radchal_count(&t, 4001 + RADCHAL_LIFE), 0);
	d = radchal_new(&t, 4001 + RADCHAL_LIFE);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(radchal_count(&t, 4001 + RADCHAL_LIFE), 1);
	/* A clock that went far back does not keep an entry forever. */
	ck_assert_ptr_null(radchal_find(&t, d->id, 3000));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("radchal");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_keep_and_find);
	tcase_add_test(tc, test_bound_and_reuse);
	tcase_add_test(tc, test_expiry);
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
	return failed ? 1 : 0;
}
