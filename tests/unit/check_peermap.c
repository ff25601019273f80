/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/peermap.c: keys of both families, the load limit,
 * and a long random run of puts and deletes checked against a plain array,
 * which catches any slip of the backward-shift deletion. */
#include "config.h"
#include "common/peermap.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct peer_key key4(uint32_t a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct peer_key k;

	s.sin_addr.s_addr = htonl(a);
	ck_assert_int_eq(peer_key_of((struct sockaddr *)&s, port != 0, &k), 0);
	return k;
}

START_TEST(test_keys)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(443)};
	struct peer_key a, b;

	inet_pton(AF_INET, "198.18.0.10", &s4.sin_addr);
	inet_pton(AF_INET6, "::ffff:198.18.0.10", &s6.sin6_addr);
	ck_assert_int_eq(peer_key_of((struct sockaddr *)&s4, true, &a), 0);
	ck_assert_int_eq(peer_key_of((struct sockaddr *)&s6, true, &b), 0);
	ck_assert_int_ne(memcmp(&a, &b, sizeof(a)), 0); /* families differ */
	ck_assert_int_eq(peer_key_of((struct sockaddr *)&s4, false, &b), 0);
	ck_assert_uint_eq(b.port, 0);
	ck_assert_uint_eq(a.port, htons(443));
	s4.sin_family = AF_UNIX;
	ck_assert_int_eq(peer_key_of((struct sockaddr *)&s4, true, &a), -1);
}
END_TEST

START_TEST(test_basic)
{
	struct peermap m;
	struct peer_key k = key4(0xc612000a, 5000), k0 = key4(0xc612000a, 0);
	uint32_t v;

	ck_assert_int_eq(peermap_init(&m, 4), 0);
	ck_assert(!peermap_get(&m, &k, &v));
	ck_assert_int_eq(peermap_put(&m, &k, 7), 0);
	ck_assert_int_eq(peermap_put(&m, &k0, 8), 0);
	ck_assert(peermap_get(&m, &k, &v) && v == 7);
	ck_assert(peermap_get(&m, &k0, &v) && v == 8);
	ck_assert_int_eq(peermap_put(&m, &k, 9), 0); /* update */
	ck_assert_uint_eq(m.n, 2);
	ck_assert(!peermap_del(&m, &k, 7)); /* someone else's now */
	ck_assert(peermap_del(&m, &k, 9));
	ck_assert(!peermap_get(&m, &k, &v));
	ck_assert(peermap_get(&m, &k0, &v) && v == 8);
	peermap_free(&m);
}
END_TEST

START_TEST(test_full)
{
	struct peermap m;
	uint32_t cap, i;
	struct peer_key k;

	ck_assert_int_eq(peermap_init(&m, 100), 0);
	cap = m.mask + 1;
	for (i = 0; i < cap / 2; i++) {
		k = key4(i, 1);
		ck_assert_int_eq(peermap_put(&m, &k, i), 0);
	}
	k = key4(i, 1);
	ck_assert_int_eq(peermap_put(&m, &k, i), -ENOSPC);
	k = key4(3, 1); /* an update still works when full */
	ck_assert_int_eq(peermap_put(&m, &k, 99), 0);
	peermap_free(&m);
}
END_TEST

/* A model: which of N keys are present, with what value. */
START_TEST(test_random)
{
	enum { N = 3000 };
	static bool in[N];
	static uint32_t val[N];
	struct peermap m;
	uint32_t v;

	srandom(12345);
	memset(in, 0, sizeof(in));
	ck_assert_int_eq(peermap_init(&m, N), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)random() % N;
		/* Few distinct addresses, many ports: long probe runs. */
		struct peer_key k = key4(i % 7, (uint16_t)(1 + i));

		if (random() % 3) {
			val[i] = (uint32_t)random();
			ck_assert_int_eq(peermap_put(&m, &k, val[i]), 0);
			in[i] = true;
		} else if (in[i]) {
			ck_assert(peermap_del(&m, &k, val[i]));
			in[i] = false;
		} else {
			ck_assert(!peermap_del(&m, &k, 0));
		}
		if (step % 10000 == 0)
			for (uint32_t j = 0; j < N; j++) {
				struct peer_key kj = key4(j % 7, (uint16_t)(1 + j));
				bool got = peermap_get(&m, &kj, &v);
				ck_assert_int_eq(got, in[j]);
				if (got)
					ck_assert_uint_eq(v, val[j]);
			}
	}
	peermap_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peermap");
	TCase *tc = tcase_create("peermap");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60); /* test_random: a long model, slow under valgrind */

	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
