/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_offload: the ACK filter of the TUN write batch. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <string.h>

/* A pure ACK: no payload, acknowledging ack, with timestamps (NOP NOP TS)
 * when ts, else no options. */
static size_t pure_ack(uint8_t *p, bool v6, uint32_t ack, bool ts)
{
	struct tcpspec t = {.v6 = v6, .flags = ACK, .seq = 77, .opts = ts ? 12 : 0};
	size_t n = make_tcp(p, &t), l4 = v6 ? 40 : 20;
	uint8_t *o = p + l4 + 20;

	set32(p + l4 + 8, ack);
	if (ts) {
		o[0] = o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		set32(o + 4, ack ^ 0x5a5a); /* TSval */
		set32(o + 8, 1234);	    /* TSecr */
	}
	fix_tcp_csum(p, n);
	return n;
}

static void filter_init(struct offload_gro *g)
{
	offload_gro_init(g, gbuf, true);
	g->ack_filter = true;
}

/* A run of ACKs of one flow leaves one write: the last. */
static void superseded_run(bool v6, bool ts)
{
	struct offload_gro g;
	uint32_t ack = 0xfffff000u; /* the numbers wrap past 2^32 */
	size_t n = 0;
	int k;

	filter_init(&g);
	for (k = 0; k < 5; k++) {
		n = pure_ack(pk[k], v6, ack, ts);
		ck_assert_int_eq(offload_gro_add(&g, pk[k], n),
				 k ? OFFLOAD_GRO_REPLACED : OFFLOAD_GRO_ADDED);
		ack += 2800;
	}
	ck_assert_uint_eq(g.count, 1);
	ck_assert_uint_eq(g.superseded, 4);
	ck_assert_uint_eq(offload_gro_take(&g), OFFLOAD_VNET_LEN + n);
	ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, pk[4], n);
	ck_assert_uint_eq(g.superseded, 0);
}

START_TEST(test_ack_superseded)
{
	superseded_run(false, false);
	superseded_run(false, true);
	superseded_run(true, false);
	superseded_run(true, true);
}
END_TEST

/* add a then b to a fresh filtered batch: b must not replace a. */
static void kept(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct offload_gro g;

	filter_init(&g);
	ck_assert_int_eq(offload_gro_add(&g, a, an), OFFLOAD_GRO_ADDED);
	ck_assert_int_eq(offload_gro_add(&g, b, bn), OFFLOAD_GRO_FLUSH);
	ck_assert_uint_eq(offload_gro_take(&g), OFFLOAD_VNET_LEN + an);
	ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, a, an);
}

/* What the filter must never drop: what tells the sender more than the
 * ACK after it, or belongs to another flow. */
START_TEST(test_ack_kept)
{
	uint8_t *a = pk[0], *b = pk[1];
	size_t an = pure_ack(a, false, 1000, true), bn;
	struct offload_gro g;

	/* a duplicate ACK (loss is being signalled), an older one */
	bn = pure_ack(b, false, 1000, true);
	kept(a, an, b, bn);
	bn = pure_ack(b, false, 999, true);
	kept(a, an, b, bn);
	/* a malformed SACK option (9 bytes), an unknown option */
	bn = pure_ack(b, false, 2000, true);
	b[20 + 22] = 5;
	b[20 + 23] = 9;
	fix_tcp_csum(b, bn);
	kept(a, an, b, bn);
	kept(b, bn, a, an);
	b[20 + 22] = 30;
	b[20 + 23] = 10;
	fix_tcp_csum(b, bn);
	kept(a, an, b, bn);
	/* other flags: ECE, PSH, FIN, RST, SYN */
	{
		static const uint8_t flags[] = {0x40, PSH, FIN, 0x04, SYN};
		for (size_t k = 0; k < sizeof(flags); k++) {
			bn = pure_ack(b, false, 2000, true);
			b[20 + 13] |= flags[k];
			fix_tcp_csum(b, bn);
			kept(a, an, b, bn);
		}
	}
	/* another port, address, sequence, TOS, TTL */
	{
		static const size_t at[] = {20 + 1, 15, 20 + 7, 1, 8};
		for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			bn = pure_ack(b, false, 2000, true);
			b[at[k]] ^= 1;
			fix_tcp_csum(b, bn);
			kept(a, an, b, bn);
		}
	}
	/* a broken checksum: the kernel would drop the newer one */
	bn = pure_ack(b, false, 2000, true);
	b[20 + 16] ^= 1;
	kept(a, an, b, bn);
	/* IPv6 after IPv4, data after an ACK, an ACK after data */
	bn = pure_ack(b, true, 2000, true);
	kept(a, an, b, bn);
	{
		struct tcpspec t = {.payload = 100, .flags = ACK, .seq = 77};
		bn = make_tcp(b, &t);
	}
	kept(a, an, b, bn);
	kept(b, bn, a, an);
	/* the filter off */
	bn = pure_ack(b, false, 2000, true);
	offload_gro_init(&g, gbuf, true);
	ck_assert_int_eq(offload_gro_add(&g, a, an), OFFLOAD_GRO_ADDED);
	ck_assert_int_eq(offload_gro_add(&g, b, bn), OFFLOAD_GRO_FLUSH);
	/* an IPv4 ACK without DF is not classified */
	bn = pure_ack(b, false, 2000, true);
	a[6] = 0;
	fix_tcp_csum(a, an);
	kept(a, an, b, bn);
}
END_TEST

/* An IPv4 pure ACK of ack with SACK blocks blk[0..n) (left, right pairs):
 * NOP NOP SACK, no timestamps. */
static size_t sack_ack(uint8_t *p, uint32_t ack, const uint32_t *blk, unsigned n)
{
	struct tcpspec t = {.flags = ACK, .seq = 77, .opts = n ? 4 + 8 * n : 0};
	size_t len = make_tcp(p, &t);
	uint8_t *o = p + 20 + 20;

	set32(p + 20 + 8, ack);
	if (n) {
		o[0] = o[1] = 1;
		o[2] = 5;
		o[3] = (uint8_t)(2 + 8 * n);
		for (unsigned k = 0; k < 2 * n; k++)
			set32(o + 4 + 4 * k, blk[k]);
	}
	fix_tcp_csum(p, len);
	return len;
}

/* Is b (ack, SACK blocks) allowed to replace a? */
static bool replaces(uint32_t a_ack, const uint32_t *a_blk, unsigned an, uint32_t b_ack,
		     const uint32_t *b_blk, unsigned bn)
{
	struct offload_gro g;
	size_t al = sack_ack(pk[0], a_ack, a_blk, an), bl = sack_ack(pk[1], b_ack, b_blk, bn);
	int r;

	filter_init(&g);
	ck_assert_int_eq(offload_gro_add(&g, pk[0], al), OFFLOAD_GRO_ADDED);
	r = offload_gro_add(&g, pk[1], bl);
	ck_assert_int_ne(r, OFFLOAD_GRO_ADDED);
	/* What the batch holds is the newer one when replaced, else the older. */
	ck_assert_uint_eq(offload_gro_take(&g), OFFLOAD_VNET_LEN + (r ? bl : al));
	ck_assert_mem_eq(gbuf + OFFLOAD_VNET_LEN, r ? pk[1] : pk[0], r ? bl : al);
	return r == OFFLOAD_GRO_REPLACED;
}

/* During a loss every ACK carries SACK blocks: a later one replaces an
 * older one only when it repeats all of them (RFC 2018, 2883). */
START_TEST(test_ack_sack)
{
	static const uint32_t b1[] = {3000, 4000}, b1x[] = {3000, 5400}, b2[] = {5000, 6000},
			      both[] = {5000, 6000, 3000, 4000}, dsack_low[] = {500, 1000},
			      dsack_in[] = {3000, 3500, 3000, 4000}, wrap[] = {0xfffffff0u, 0x100};

	/* the same hole, more received beyond it */
	ck_assert(replaces(1000, b1, 1, 1000, b1x, 1));
	/* the hole filled: the block is below the new ACK number */
	ck_assert(replaces(1000, b1, 1, 4000, NULL, 0));
	ck_assert(replaces(1000, b1, 1, 2000, both, 2));
	/* a first block after a plain ACK of the same number */
	ck_assert(replaces(1000, NULL, 0, 1000, b1, 1));
	/* the older block not repeated: kept */
	ck_assert(!replaces(1000, b1, 1, 2000, b2, 1));
	ck_assert(!replaces(1000, b1, 1, 3500, NULL, 0));
	/* the very same duplicate */
	ck_assert(!replaces(1000, b1, 1, 1000, b1, 1));
	/* D-SACKs: below the ACK number, or inside the second block */
	ck_assert(!replaces(1000, dsack_low, 1, 9000, NULL, 0));
	ck_assert(!replaces(1000, dsack_in, 2, 9000, NULL, 0));
	/* sequence numbers wrap */
	ck_assert(replaces(0xffffff00u, wrap, 1, 0x100, NULL, 0));
	ck_assert(!replaces(0xffffff00u, wrap, 1, 0x50, NULL, 0));
}
END_TEST

void offload_ack_tests(TCase *tc)
{
	tcase_add_test(tc, test_ack_superseded);
	tcase_add_test(tc, test_ack_kept);
	tcase_add_test(tc, test_ack_sack);
}
