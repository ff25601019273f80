/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the master's session table (daemon/sessions.c): the byte it
 * writes into the shared owner[] map. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sessions.h"

#define CONF                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"passwd\"; };\n"                                                \
	"network = { ipv4-pool = \"198.18.0.0/16\"; };\n"

static struct cfg cfg;
static struct sess_table t;
static uint8_t *owner;

static void setup(void)
{
	char err[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(CONF, "t.conf", &cfg, err, sizeof(err)) == 0, "%s", err);
	owner = calloc(POOL_MAX_SIZE, 1);
	ck_assert_ptr_nonnull(owner);
	ck_assert_int_eq(sess_table_init(&t, &cfg, owner), 0);
}

static void teardown(void)
{
	sess_table_free(&t);
	free(owner);
	cfg_free(&cfg);
}

/* #15: owner[lease] is worker slot + 1 in a byte, 0 meaning nobody.  Every
 * slot a config allows must come out non-zero; slot 255 cannot, so it is
 * refused rather than written as "nobody". */
START_TEST(test_bind_owner_byte)
{
	static const int slots[] = {0, 1, 127, 253, 254};
	struct ipc_ref ref = {1, 1};
	struct session *s;

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		s = sess_create(&t, "alice", "198.18.0.2:1");
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(sess_bind(&t, s, slots[i], ref), 0);
		ck_assert_int_ge(s->lease, 0);
		ck_assert_uint_eq(owner[s->lease], (unsigned)slots[i] + 1);
		sess_unbind(&t, s);
		ck_assert_uint_eq(owner[s->lease], 0);
	}
	s = sess_create(&t, "bob", "198.18.0.3:1");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sess_bind(&t, s, 255, ref), -ERANGE);
	ck_assert_int_eq(sess_bind(&t, s, 256, ref), -ERANGE);
	ck_assert_int_eq(sess_bind(&t, s, -1, ref), -ERANGE);
	ck_assert_int_eq(s->worker, -1);
	ck_assert_uint_eq(t.tunnels, 0);
	ck_assert_int_eq(sess_bind(&t, s, 254, ref), 0);
	ck_assert_uint_eq(owner[s->lease], 255);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bind_owner_byte);
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
