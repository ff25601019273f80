/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_offload: merging UDP datagrams back into super-packets. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <errno.h>
#include <string.h>

/* ---- UDP coalescing -------------------------------------------------------- */

/* Cut a UDP super-packet, merge the datagrams back into one write: the
 * very super-packet, and the segmenter gives the same datagrams again. */
static void udp_round_trip(const struct udpspec *u, uint16_t gso, size_t mtu)
{
	struct offload_gro g;
	struct offload_seg s;
	struct offload_vnet h;
	int count = udp_segment_and_check(u, gso, mtu), k, r;
	size_t n, l4 = u->v6 ? 40 : 20, want_len;
	uint8_t orig[OFFLOAD_BUF_LEN], out[2048];
	uint8_t *p = gbuf + OFFLOAD_VNET_LEN;

	want_len = make_udp(orig, u);
	offload_gro_init(&g, gbuf, true);
	for (k = 0; k < count; k++)
		ck_assert_int_eq(offload_gro_add(&g, segs[k], seg_len[k]), OFFLOAD_GRO_ADDED);
	ck_assert_uint_eq(g.count, (unsigned)count);
	n = offload_gro_take(&g);
	ck_assert_uint_eq(n, OFFLOAD_VNET_LEN + want_len);
	offload_vnet_get(gbuf, &h);
	ck_assert_uint_eq(h.flags, OFFLOAD_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, OFFLOAD_GSO_UDP_L4);
	ck_assert_uint_eq(h.gso_size, count > 1 ? gso : u->payload);
	ck_assert_uint_eq(h.hdr_len, l4 + 8);
	ck_assert_uint_eq(h.csum_start, l4);
	ck_assert_uint_eq(h.csum_offset, 6);
	/* the UDP length is the whole; the partial sum is the pseudo-header's */
	ck_assert_uint_eq(be16(p + l4 + 4), want_len - l4);
	ck_assert_uint_eq(be16(p + l4 + 6), fold16(pseudo(p, 17, want_len - l4)));
	if (!u->v6)
		ck_assert(ip4_csum_ok(p));

	ck_assert_int_eq(offload_seg_init(&s, gbuf, n, mtu), count);
	for (k = 0; (r = offload_seg_next(&s, out, sizeof(out))) > 0; k++) {
		ck_assert_uint_eq((size_t)r, seg_len[k]);
		ck_assert_mem_eq(out, segs[k], seg_len[k]);
	}
	ck_assert_int_eq(k, count);

	kernel_finish(p, want_len, &h);
	ck_assert_mem_eq(p, orig, want_len);
}

START_TEST(test_gro_udp_round_trip)
{
	struct udpspec u = {.payload = 13077, .id = 0xfff0, .pattern = 5};
	struct udpspec u6 = {.v6 = true, .payload = 65535 - 48};

	udp_round_trip(&u, 1300, 1400);
	u.no_df = true; /* ids follow each other: still merged */
	u.payload = 65535 - 28;
	udp_round_trip(&u, 1372, 1400);
	u.payload = 5 * 1300; /* all full */
	udp_round_trip(&u, 1300, 1400);
	udp_round_trip(&u6, 1352, 1400);
	u6.payload = 3001;
	udp_round_trip(&u6, 100, 1400);
}
END_TEST

START_TEST(test_gro_udp_rules)
{
	struct offload_gro g;
	unsigned c[8];

	offload_gro_init(&g, gbuf, true);
	four_udp(false);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
	ck_assert_uint_eq(c[0], 4);
	four_udp(true);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);

	/* another source port, another destination port */
	four_udp(false);
	set16(pk[1] + 20, 40001);
	fix_udp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	set16(pk[2] + 42, 5202);
	fix_udp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 2);

	/* another address, IPv4 and IPv6 */
	four_udp(false);
	pk[1][19] = 3;
	fix_udp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	pk[3][23] = 9;
	fix_udp_csum(pk[3], pklen[3]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);

	/* another TTL, TOS, hop limit, flow label */
	four_udp(false);
	pk[1][8] = 63;
	fix_udp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(false);
	pk[2][1] = 0x11;
	fix_udp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	pk[1][7] = 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	pk[3][3] = 0x79;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);

	/* a shorter datagram is the last of its batch */
	four_udp(false);
	{
		struct udpspec u = {.payload = 500, .id = 1};
		pklen[1] = make_udp(pk[1], &u);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	ck_assert_uint_eq(c[0], 2);
	ck_assert_uint_eq(c[1], 2);

	/* a longer one does not fit the datagram size */
	four_udp(true);
	{
		struct udpspec u = {.v6 = true, .payload = 1001};
		pklen[1] = make_udp(pk[1], &u);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 2, c), 2);

	/* DF on some only */
	four_udp(false);
	pk[2][6] = 0;
	fix_udp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 2);

	/* DF: any ids; without DF only ids that follow each other, as the
	 * kernel numbers the segments */
	four_udp(false);
	for (int k = 0; k < 4; k++) {
		set16(pk[k] + 4, (uint32_t)(0x1000 * k + 7));
		fix_udp_csum(pk[k], pklen[k]);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
	for (int k = 0; k < 4; k++) {
		struct udpspec u = {
		    .payload = 1000, .no_df = true, .id = (uint16_t)(0xffff + k), .pattern = 1};
		pklen[k] = make_udp(pk[k], &u);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
	set16(pk[2] + 4, 5);
	fix_udp_csum(pk[2], pklen[2]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 2);

	/* a TCP segment between the datagrams, same addresses */
	four_udp(false);
	{
		struct tcpspec t = {.payload = 1000, .flags = ACK, .id = 1};
		pklen[1] = make_tcp(pk[1], &t);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[2], 2);

	/* IPv6 in the middle of an IPv4 flow */
	four_udp(false);
	{
		struct udpspec u = {.v6 = true, .payload = 1000};
		pklen[2] = make_udp(pk[2], &u);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
}
END_TEST

START_TEST(test_gro_udp_refuses)
{
	struct offload_gro g;
	struct offload_vnet h;
	unsigned c[8];

	offload_gro_init(&g, gbuf, true);
	/* a wrong UDP checksum is not hidden in a super-packet */
	four_udp(false);
	pk[1][100] ^= 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	pk[3][47] ^= 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	/* nor a wrong IPv4 header checksum */
	four_udp(false);
	pk[2][10] ^= 1;
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	/* IPv4 "no checksum": nothing proves it intact */
	four_udp(false);
	set16(pk[1] + 26, 0);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[0], 1);
	ck_assert_uint_eq(c[1], 1);
	/* ... even when 0 would add up: a datagram whose checksum is 0xffff
	 * sums right with 0 in the field too (ones' complement), so "none"
	 * must be refused by itself.  Found by search over two payload bytes. */
	for (uint32_t v = 0;; v++) {
		ck_assert_uint_le(v, 0xffff);
		four_udp(false);
		set16(pk[1] + 28, v);
		fix_udp_csum(pk[1], pklen[1]);
		if (be16(pk[1] + 26) != 0xffff)
			continue;
		ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
		set16(pk[1] + 26, 0);
		ck_assert(l4_csum_ok(pk[1], pklen[1], 17));
		ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
		break;
	}
	/* a UDP length that is not the IP one's */
	four_udp(false);
	set16(pk[1] + 24, 1007);
	fix_udp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	four_udp(true);
	set16(pk[0] + 44, 1009);
	fix_udp_csum(pk[0], pklen[0]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 2);
	ck_assert_uint_eq(c[0], 1);
	/* fragments: one among datagrams, and a run of first fragments */
	four_udp(false);
	pk[1][6] |= 0x20;
	fix_udp_csum(pk[1], pklen[1]);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	for (int k = 0; k < 4; k++) {
		pk[k][6] = 0x20;
		fix_udp_csum(pk[k], pklen[k]);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 4);
	/* an IPv4 length that is not the packet's */
	four_udp(false);
	ck_assert_int_eq(offload_gro_add(&g, pk[0], pklen[0]), OFFLOAD_GRO_ADDED);
	ck_assert_int_eq(offload_gro_add(&g, pk[1], pklen[1] - 1), OFFLOAD_GRO_FLUSH);
	offload_gro_take(&g);
	/* an empty datagram: gso_size would be 0, so it goes alone */
	four_udp(true);
	{
		struct udpspec u = {.v6 = true};
		pklen[1] = make_udp(pk[1], &u);
	}
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 3);
	ck_assert_uint_eq(c[1], 1);
	/* a lone datagram goes out as it came, with a zero vnet header */
	four_udp(false);
	ck_assert_int_eq(offload_gro_add(&g, pk[0], pklen[0]), OFFLOAD_GRO_ADDED);
	ck_assert_uint_eq(offload_gro_take(&g), OFFLOAD_VNET_LEN + pklen[0]);
	offload_vnet_get(gbuf, &h);
	ck_assert_uint_eq(h.flags | h.gso_type | h.gso_size | h.csum_start | h.hdr_len, 0);
	ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, pk[0], pklen[0]);

	/* without USO the device cannot take them: never merged */
	offload_gro_init(&g, gbuf, false);
	four_udp(false);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 4);
	four_udp(true);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 4);
	/* while TCP still is */
	four(false);
	ck_assert_int_eq(add_all(&g, pk, pklen, 4, c), 1);
}
END_TEST

/* Every prefix of a datagram and of a segment, each in an exact-size heap
 * copy (so an over-read shows under valgrind or ASan): an empty batch takes
 * it, and nothing short merges. */
START_TEST(test_gro_short)
{
	struct udpspec u = {.payload = 100};
	struct tcpspec t = {.payload = 100, .flags = ACK};
	struct offload_gro g;
	size_t n[2], k;
	uint8_t *p;

	n[0] = make_udp(pk[0], &u);
	n[1] = make_tcp(pk[1], &t);
	/* Only the whole datagram merges with itself (a TCP segment repeated
	 * does not continue its sequence). */
	for (int i = 0; i < 2; i++) {
		for (k = 1; k <= n[i]; k++) {
			bool merges = i == 0 && k == n[i];
			offload_gro_init(&g, gbuf, true);
			p = exact_copy(pk[i], k);
			ck_assert_int_eq(offload_gro_add(&g, p, k), OFFLOAD_GRO_ADDED);
			ck_assert_int_eq(offload_gro_add(&g, p, k),
					 merges ? OFFLOAD_GRO_ADDED : OFFLOAD_GRO_FLUSH);
			ck_assert_uint_eq(offload_gro_take(&g),
					  OFFLOAD_VNET_LEN + k + (merges ? u.payload : 0));
		}
	}
}
END_TEST

/* At most 64 datagrams (the kernel's UDP GRO limit) and 64 KiB. */
START_TEST(test_gro_udp_limit)
{
	struct offload_gro g;
	unsigned first = 0, k;
	int writes = 0;

	for (unsigned round = 0; round < 2; round++) {
		size_t payload = round ? 1372 : 100;
		offload_gro_init(&g, gbuf, true);
		writes = 0;
		for (k = 0; k < 70; k++) {
			struct udpspec u = {.payload = payload, .id = (uint16_t)k};
			size_t n = make_udp(pk[0], &u);
			if (offload_gro_add(&g, pk[0], n) == OFFLOAD_GRO_FLUSH) {
				if (!writes)
					first = g.count;
				ck_assert_uint_le(offload_gro_take(&g), OFFLOAD_BUF_LEN);
				writes++;
				ck_assert_int_eq(offload_gro_add(&g, pk[0], n), OFFLOAD_GRO_ADDED);
			}
		}
		ck_assert_int_eq(writes, 1);
		ck_assert_uint_eq(first, round ? (65535 - 28) / 1372 : OFFLOAD_UDP_MAX_SEGS);
		ck_assert_uint_eq(g.count, 70 - first);
	}
}
END_TEST

void offload_udp_gro_tests(TCase *tc)
{
	tcase_add_test(tc, test_gro_udp_round_trip);
	tcase_add_test(tc, test_gro_udp_rules);
	tcase_add_test(tc, test_gro_udp_refuses);
	tcase_add_test(tc, test_gro_udp_limit);
	tcase_add_test(tc, test_gro_short);
}
