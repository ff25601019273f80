/* Unit tests: the master's per-worker FIFO of control messages
 * (daemon/msgq.c): order across wrap-around and growth, the bound, reuse. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "daemon/msgq.h"

static struct ipc_msg numbered(uint32_t n)
{
	struct ipc_msg m = {.type = IPC_KICK};

	m.u.kick.sess_id = n;
	return m;
}

START_TEST(test_fifo_through_wrap_and_growth)
{
	struct msgq q = {0};
	uint32_t in = 0, out = 0;

	ck_assert_ptr_null(msgq_front(&q));
	/* Interleave pushes and pops so the ring wraps, then grows while
	 * wrapped: the order must survive both. */
	for (int round = 0; round < 50; round++) {
		for (int k = 0; k < 7; k++) {
			struct ipc_msg m = numbered(in++);
			ck_assert_int_eq(msgq_push(&q, &m, 1u << 20), 0);
		}
		for (int k = 0; k < 5; k++) {
			ck_assert_ptr_nonnull(msgq_front(&q));
			ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, out++);
			msgq_pop(&q);
		}
	}
	ck_assert_uint_eq(q.len, in - out);
	ck_assert_uint_ge(q.cap, q.len);
	while (msgq_front(&q)) {
		ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, out++);
		msgq_pop(&q);
	}
	ck_assert_uint_eq(out, in);
	msgq_pop(&q); /* popping an empty queue is harmless */
	ck_assert_uint_eq(q.len, 0);
	msgq_free(&q);
}
END_TEST

START_TEST(test_bound)
{
	struct msgq q = {0};
	struct ipc_msg m = numbered(1);
	unsigned n = 0;

	while (msgq_push(&q, &m, 128) == 0)
		n++;
	ck_assert_uint_eq(n, 128);
	ck_assert_int_eq(msgq_push(&q, &m, 128), -ENOBUFS);
	ck_assert_uint_eq(q.len, 128); /* nothing lost from the queue itself */
	msgq_free(&q);
	ck_assert_ptr_null(q.v);
	ck_assert_uint_eq(q.len, 0);
	/* Reusable after free. */
	ck_assert_int_eq(msgq_push(&q, &m, 128), 0);
	ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, 1);
	msgq_free(&q);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("msgq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fifo_through_wrap_and_growth);
	tcase_add_test(tc, test_bound);
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
