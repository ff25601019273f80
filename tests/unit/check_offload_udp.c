/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_offload: cutting UDP super-packets (USO) into datagrams. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <errno.h>
#include <string.h>

/* ---- UDP (USO) ------------------------------------------------------------- */

START_TEST(test_seg_udp_v4)
{
	struct udpspec u = {.payload = 13000 + 77, .id = 0xfffe, .pattern = 3};

	/* ten full datagrams of 1300 and one of 77; the id wraps */
	ck_assert_int_eq(udp_segment_and_check(&u, 1300, 1400), 11);
	ck_assert_uint_eq(seg_len[10], 28 + 77);
	/* without DF, as a sender that does no path MTU discovery */
	u.no_df = true;
	u.payload = 65535 - 28;
	ck_assert_int_eq(udp_segment_and_check(&u, 1372, 1400), 48);
	/* all of the same size; and one datagram no bigger than gso_size */
	u.payload = 4 * 1000;
	ck_assert_int_eq(udp_segment_and_check(&u, 1000, 1400), 4);
	ck_assert_uint_eq(seg_len[3], 1028);
	u.payload = 999;
	ck_assert_int_eq(udp_segment_and_check(&u, 1000, 1400), 1);
	u.payload = 0;
	ck_assert_int_eq(udp_segment_and_check(&u, 1000, 1400), 1);
	ck_assert_uint_eq(seg_len[0], 28);
}
END_TEST

START_TEST(test_seg_udp_v6)
{
	struct udpspec u = {.v6 = true, .payload = 65535 - 48, .pattern = 200};

	ck_assert_int_eq(udp_segment_and_check(&u, 1352, 1400), 49);
	ck_assert_uint_eq(seg_len[48], 48 + (65535 - 48) % 1352);
	/* small datagrams: many of them */
	u.payload = 3001;
	ck_assert_int_eq(udp_segment_and_check(&u, 100, 1400), 31);
	ck_assert_uint_eq(seg_len[30], 48 + 1);
}
END_TEST

/* Datagrams are never cut smaller than gso_size, unlike TCP segments: one
 * that does not fit the tunnel refuses the whole super-packet. */
START_TEST(test_seg_udp_mtu)
{
	struct udpspec u = {.payload = 5000};
	struct udpspec u6 = {.v6 = true, .payload = 5000};
	struct offload_seg s;
	uint8_t out[1500];
	size_t n;

	n = make_udp_super(big, &u, 1372);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 1399), -EMSGSIZE);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 1400), 4);
	ck_assert_int_eq(offload_seg_next(&s, out, 1399), -ENOBUFS);
	ck_assert_int_eq(offload_seg_next(&s, out, 1400), 1400);
	n = make_udp_super(big, &u6, 1352);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 1399), -EMSGSIZE);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 1400), 4);
	/* a lone datagram shorter than gso_size only needs its own size */
	u.payload = 100;
	n = make_udp_super(big, &u, 1372);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 128), 1);
	ck_assert_int_eq(seg_init_exact(&s, big, n, 127), -EMSGSIZE);
}
END_TEST

/* Whatever the checksum field and the NEEDS_CSUM flag say, each datagram
 * is summed anew. */
START_TEST(test_seg_udp_csum)
{
	struct udpspec u = {.payload = 2600};
	struct offload_seg s;
	uint8_t out[1400];
	size_t n = make_udp_super(big, &u, 1300);
	int r, k = 0;

	big[OFFLOAD_VNET_LEN + 26] ^= 0x5a;
	big[0] = 0;
	ck_assert_int_eq(offload_seg_init(&s, big, n, 1400), 2);
	while ((r = offload_seg_next(&s, out, sizeof(out))) > 0) {
		ck_assert(l4_csum_ok(out, (size_t)r, 17));
		k++;
	}
	ck_assert_int_eq(k, 2);
	/* the super-packet is left alone: a hand-off parses it again */
	ck_assert_uint_eq(big[0], 0);
	ck_assert_uint_eq(be16(big + OFFLOAD_VNET_LEN + 24), 2608);
}
END_TEST

/* A payload whose datagram sums to 0 goes out with 0xffff: 0 would say
 * "no checksum".  Found by search: two bytes of payload make the sum. */
START_TEST(test_seg_udp_csum_zero)
{
	struct udpspec u = {.payload = 20};
	struct offload_seg s;
	uint8_t out[1400], *p = big + OFFLOAD_VNET_LEN;
	size_t n;
	uint32_t v;
	bool found = false;

	for (v = 0; v <= 0xffff && !found; v++) {
		n = make_udp_super(big, &u, 10);
		set16(p + 38, v); /* the second datagram's first payload bytes */
		ck_assert_int_eq(offload_seg_init(&s, big, n, 1400), 2);
		ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 38);
		ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 38);
		ck_assert(l4_csum_ok(out, 38, 17));
		/* the sum without the field is 0 (ones' complement) */
		found = fold16(sum16(pseudo(out, 17, 18), out + 20, 6) + sum16(0, out + 28, 10)) ==
			0xffff;
		if (found)
			ck_assert_uint_eq(be16(out + 26), 0xffff);
		else
			ck_assert_uint_ne(be16(out + 26), 0);
	}
	ck_assert(found);
}
END_TEST

START_TEST(test_seg_udp_malformed)
{
	struct udpspec u = {.payload = 3000};
	struct udpspec u6 = {.v6 = true, .payload = 3000};
	struct offload_seg s;
	uint8_t b[OFFLOAD_BUF_LEN], *p = b + OFFLOAD_VNET_LEN;
	size_t n;

	n = make_udp_super(b, &u, 1300);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), 3);
	/* every prefix of the read is refused, within bounds */
	for (size_t k = 0; k < n; k++)
		ck_assert_int_lt(seg_init_exact(&s, b, k, 1400), 0);
	b[4] = b[5] = 0; /* gso_size 0 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	set16(p + 2, 3029); /* IP length beyond the read */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	set16(p + 2, 27); /* shorter than IP + UDP headers */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	set16(p + 24, 3009); /* UDP length longer than the IP packet */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	set16(p + 24, 1308); /* one datagram's length: not a super-packet's */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	set16(p + 24, 7);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	p[0] = 0x46; /* IHL 6: the "UDP header" starts 4 bytes on */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	p[0] = 0x44;
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	p[0] = 0x55; /* IP version 5 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	p[9] = 6; /* TCP */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	p[6] = 0x20; /* a fragment (MF) */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	p[7] = 1; /* fragment offset */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	b[6] = 21; /* csum_start is not the UDP header */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	b[8] = 16; /* csum_offset is TCP's */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u, 1300);
	b[1] = 3; /* GSO_UDP (UFO): IP fragments, never asked for */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EPROTONOSUPPORT);
	b[1] = OFFLOAD_GSO_TCPV4; /* a UDP packet called TCP segments */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);

	n = make_udp_super(b, &u6, 1300);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), 3);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_lt(seg_init_exact(&s, b, k, 1400), 0);
	p[6] = 0; /* hop-by-hop header */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u6, 1300);
	set16(p + 4, 0); /* jumbogram */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u6, 1300);
	set16(p + 4, 3009); /* payload length beyond the read */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u6, 1300);
	set16(p + 44, 3000); /* UDP length != payload length */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_udp_super(b, &u6, 1300);
	set16(p + 4, 7); /* no room for the UDP header */
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 47, 1400), -EINVAL);
	/* trailing bytes after the IP length are ignored */
	n = make_udp_super(b, &u6, 1300);
	memset(b + n, 0xee, 9);
	ck_assert_int_eq(seg_init_exact(&s, b, n + 9, 1400), 3);
}
END_TEST

void offload_udp_seg_tests(TCase *tc)
{
	tcase_add_test(tc, test_seg_udp_v4);
	tcase_add_test(tc, test_seg_udp_v6);
	tcase_add_test(tc, test_seg_udp_mtu);
	tcase_add_test(tc, test_seg_udp_csum);
	tcase_add_test(tc, test_seg_udp_csum_zero);
	tcase_add_test(tc, test_seg_udp_malformed);
}
