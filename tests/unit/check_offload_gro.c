/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_offload: merging TCP segments back into super-packets. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <errno.h>
#include <string.h>

/* ---- coalescing ------------------------------------------------------------ */

/* Segment a super-packet, merge the segments back, and compare. */
static void round_trip(const struct tcpspec *t, uint16_t gso, size_t mtu, int want_writes)
{
	struct offload_gro g;
	struct offload_vnet h;
	int count = segment_and_check(t, gso, mtu), k, writes = 0;
	size_t n, l4 = t->v6 ? 40 : 20, want_len;
	uint8_t orig[OFFLOAD_BUF_LEN];

	want_len = make_tcp(orig, t);
	offload_gro_init(&g, gbuf, true);
	for (k = 0; k < count; k++) {
		int r = offload_gro_add(&g, segs[k], seg_len[k]);
		if (r == OFFLOAD_GRO_FLUSH) {
			writes++;
			ck_assert_uint_gt(offload_gro_take(&g), 0);
			r = offload_gro_add(&g, segs[k], seg_len[k]);
		}
		ck_assert_int_eq(r, OFFLOAD_GRO_ADDED);
	}
	n = offload_gro_take(&g);
	writes++;
	ck_assert_int_eq(writes, want_writes);
	if (want_writes != 1)
		return;
	ck_assert_uint_eq(n, OFFLOAD_VNET_LEN + want_len);
	ck_assert_uint_eq(offload_gro_take(&g), 0);
	offload_vnet_get(gbuf, &h);
	ck_assert_uint_eq(h.flags, OFFLOAD_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, t->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, seg_len[0] - l4 - 20 - t->opts);
	ck_assert_uint_eq(h.hdr_len, l4 + 20 + t->opts);
	ck_assert_uint_eq(h.csum_start, l4);
	ck_assert_uint_eq(h.csum_offset, 16);
	/* Partial sum = the pseudo-header of the whole super-packet. */
	ck_assert_uint_eq(be16(gbuf + OFFLOAD_VNET_LEN + l4 + 16),
			  fold16(pseudo(gbuf + OFFLOAD_VNET_LEN, 6, want_len - l4)));
	kernel_finish(gbuf + OFFLOAD_VNET_LEN, want_len, &h);
	if (!t->v6)
		ck_assert(ip4_csum_ok(gbuf + OFFLOAD_VNET_LEN));
	/* Byte for byte the packet we started from. */
	ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, orig, want_len);
}

START_TEST(test_round_trip_v4)
{
	struct tcpspec t = {.payload = 40000, .flags = ACK | PSH, .seq = 123456, .id = 77};

	round_trip(&t, 1360, 1400, 1);
	t.opts = 12; /* timestamps-sized options, last segment shorter */
	t.payload = 9999;
	round_trip(&t, 1348, 1400, 1);
}
END_TEST

START_TEST(test_round_trip_v6)
{
	struct tcpspec t = {.v6 = true, .payload = 20000, .flags = ACK, .seq = 0xffffff00};

	round_trip(&t, 1340, 1400, 1);
	t.payload = 13400; /* all segments full */
	round_trip(&t, 1340, 1400, 1);
}
END_TEST

/* FIN is never merged: the last segment goes alone. */
START_TEST(test_round_trip_fin)
{
	struct tcpspec t = {.payload = 5000, .flags = ACK | FIN};

	round_trip(&t, 1000, 1400, 2);
}
END_TEST

START_TEST(test_gro_rules)
{
	struct offload_gro g;
	unsigned c[8];

	offload_gro_init(&g, gbuf, true);
	four(false);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
	ck_assert_uint_eq(c[0], 4);

	/* a gap in the sequence */
	four(false);
	set32(pk[2] + 24, 3001);
	fix_tcp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 2);

	/* another port */
	four(false);
	set16(pk[1] + 20, 40001);
	fix_tcp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);

	/* another source address, IPv4 and IPv6 */
	four(false);
	pk[1][15] = 3;
	fix_tcp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four(true);
	pk[2][39] = 9;
	fix_tcp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);

	/* ECE on some segments only */
	four(false);
	pk[2][33] |= 0x40;
	fix_tcp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);

	/* other option bytes (a newer timestamp) */
	for (int k = 0; k < 4; k++) {
		struct tcpspec t = {
		    .payload = 1000, .flags = ACK, .opts = 12, .seq = 1000 * (uint32_t)(k + 1)};
		pklen[k] = make_tcp(pk[k], &t);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
	pk[3][20 + 20 + 7] ^= 1;
	fix_tcp_csum(pk[3], pklen[3]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);

	/* another ack number or window */
	four(true);
	set32(pk[3] + 48, 99);
	fix_tcp_csum(pk[3], pklen[3]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	ck_assert_uint_eq(c[0], 3);
	four(true);
	set16(pk[1] + 54, 1);
	fix_tcp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);

	/* PSH in the middle ends the batch there and is kept */
	four(false);
	pk[1][33] |= PSH;
	fix_tcp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	ck_assert_uint_eq(c[0], 2);
	ck_assert_uint_eq(c[1], 2);

	/* a shorter segment ends it too */
	four(false);
	{
		struct tcpspec t = {.payload = 500, .flags = ACK, .seq = 2000, .id = 1};
		pklen[1] = make_tcp(pk[1], &t);
		t.seq = 2500;
		pklen[2] = make_tcp(pk[2], &t);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 2);

	/* a longer one does not fit the segment size */
	four(false);
	{
		struct tcpspec t = {.payload = 1001, .flags = ACK, .seq = 2000, .id = 1};
		pklen[1] = make_tcp(pk[1], &t);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 2, c), 2);
}
END_TEST

START_TEST(test_gro_refuses)
{
	struct offload_gro g;
	unsigned c[8];
	uint8_t copy[2048];

	offload_gro_init(&g, gbuf, true);
	/* SYN, FIN, RST, URG, CWR, no ACK: each alone */
	static const uint8_t bad_flags[] = {SYN | ACK,	FIN | ACK, 0x04 | ACK,
					    0x20 | ACK, CWR | ACK, 0};
	for (size_t i = 0; i < sizeof(bad_flags); i++) {
		four(i % 2 == 1);
		pk[0][(i % 2 ? 40 : 20) + 13] = bad_flags[i];
		fix_tcp_csum(pk[0], pklen[0]);
		ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
		ck_assert_uint_eq(c[0], 1);
		ck_assert_uint_eq(c[1], 3);
	}
	/* a wrong TCP checksum is not hidden in a super-packet */
	four(false);
	pk[1][100] ^= 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	/* a wrong IPv4 header checksum neither */
	four(false);
	pk[2][11] ^= 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	/* no DF */
	four(false);
	pk[0][6] = 0;
	fix_tcp_csum(pk[0], pklen[0]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	/* another TTL, another TOS */
	four(false);
	pk[1][8] = 63;
	fix_tcp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four(false);
	pk[3][1] = 3; /* ECN CE */
	fix_tcp_csum(pk[3], pklen[3]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	/* another flow label */
	four(true);
	pk[2][3] = 0x35;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	/* IPv6 in the middle of an IPv4 flow */
	four(false);
	{
		struct tcpspec t6 = {.v6 = true, .payload = 1000, .flags = ACK, .seq = 2000};
		pklen[1] = make_tcp(pk[1], &t6);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	/* pure ACKs, UDP, ICMP: alone, unchanged, zero vnet header */
	{
		struct tcpspec t = {.payload = 0, .flags = ACK, .seq = 5};
		size_t n = make_tcp(copy, &t);
		struct offload_vnet h;
		ck_assert_int_eq(offload_gro_add(&g, copy, n), OFFLOAD_GRO_ADDED);
		ck_assert_int_eq(offload_gro_add(&g, copy, n), OFFLOAD_GRO_FLUSH);
		ck_assert_uint_eq(offload_gro_take(&g), OFFLOAD_VNET_LEN + n);
		offload_vnet_get(gbuf, &h);
		ck_assert_uint_eq(h.flags | h.gso_type | h.gso_size | h.csum_start | h.hdr_len, 0);
		ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, copy, n);
		copy[9] = 17;
		ck_assert_int_eq(offload_gro_add(&g, copy, n), OFFLOAD_GRO_ADDED);
		ck_assert_int_eq(offload_gro_add(&g, copy, n), OFFLOAD_GRO_FLUSH);
		offload_gro_take(&g);
	}
	ck_assert_int_eq(offload_gro_add(&g, copy, 0), -EINVAL);
	ck_assert_int_eq(offload_gro_add(&g, big, OFFLOAD_MAX_IP + 1), -EINVAL);
}
END_TEST

/* At most 64 KiB: the batch is written before it would grow past. */
START_TEST(test_gro_limit)
{
	struct offload_gro g;
	int k, writes = 0;
	unsigned first = 0;

	offload_gro_init(&g, gbuf, true);
	for (k = 0; k < 60; k++) {
		struct tcpspec t = {.payload = 1360, .flags = ACK, .seq = 1360 * (uint32_t)k};
		size_t n = make_tcp(pk[0], &t);
		if (offload_gro_add(&g, pk[0], n) == OFFLOAD_GRO_FLUSH) {
			if (!writes)
				first = g.count;
			ck_assert_uint_le(offload_gro_take(&g), OFFLOAD_BUF_LEN);
			writes++;
			ck_assert_int_eq(offload_gro_add(&g, pk[0], n), OFFLOAD_GRO_ADDED);
		}
	}
	ck_assert_int_eq(writes, 1);
	ck_assert_uint_eq(first, (65535 - 40) / 1360); /* 48 */
}
END_TEST

/* What the coalescer writes, the segmenter reads back as the same packets:
 * the kernel does the same between tun_get_user and tun_put_user. */
START_TEST(test_gro_then_seg)
{
	struct tcpspec t = {.payload = 30000, .flags = ACK | PSH, .seq = 42, .id = 9, .opts = 12};
	struct offload_gro g;
	struct offload_seg s;
	uint8_t out[2048];
	int count = segment_and_check(&t, 1348, 1400), k, r;
	size_t n;

	offload_gro_init(&g, gbuf, true);
	for (k = 0; k < count; k++)
		ck_assert_int_eq(offload_gro_add(&g, segs[k], seg_len[k]), OFFLOAD_GRO_ADDED);
	n = offload_gro_take(&g);
	ck_assert_int_eq(offload_seg_init(&s, gbuf, n, 1400), count);
	for (k = 0; (r = offload_seg_next(&s, out, sizeof(out))) > 0; k++) {
		ck_assert_uint_eq((size_t)r, seg_len[k]);
		ck_assert_mem_eq(out, segs[k], seg_len[k]);
	}
	ck_assert_int_eq(k, count);
}
END_TEST

void offload_tcp_gro_tests(TCase *tc)
{
	tcase_add_test(tc, test_round_trip_v4);
	tcase_add_test(tc, test_round_trip_v6);
	tcase_add_test(tc, test_round_trip_fin);
	tcase_add_test(tc, test_gro_rules);
	tcase_add_test(tc, test_gro_refuses);
	tcase_add_test(tc, test_gro_limit);
	tcase_add_test(tc, test_gro_then_seg);
}
