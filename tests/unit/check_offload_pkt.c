/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_offload's helpers: an independent checksum, TCP and UDP packets
 * and super-packets built by hand, and the checks every segment of a cut
 * super-packet must pass. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- an independent checksum ------------------------------------------- */

uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	if (ip[0] >> 4 == 4)
		return sum16(0, ip + 12, 8) + proto + (uint32_t)l4len;
	return sum16(0, ip + 8, 32) + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

size_t l4_off(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? (size_t)(ip[0] & 15) * 4 : 40;
}

/* A packet's transport checksum (TCP or UDP) adds up. */
bool l4_csum_ok(const uint8_t *ip, size_t len, uint8_t proto)
{
	size_t l4 = l4_off(ip);

	return fold16(sum16(pseudo(ip, proto, len - l4), ip + l4, len - l4)) == 0xffff;
}

bool ip4_csum_ok(const uint8_t *ip)
{
	return fold16(sum16(0, ip, l4_off(ip))) == 0xffff;
}

uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void set16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void set32(uint8_t *p, uint32_t v)
{
	set16(p, v >> 16);
	set16(p + 2, v);
}

/* ---- building packets ------------------------------------------------------ */

/* A complete IPv4 (DF) or IPv6 TCP packet with right checksums; returns
 * its length. */
size_t make_tcp(uint8_t *p, const struct tcpspec *t)
{
	size_t l4 = t->v6 ? 40 : 20, hl = l4 + 20 + t->opts, len = hl + t->payload, i;
	uint8_t *tcp = p + l4;

	memset(p, 0, hl);
	if (t->v6) {
		p[0] = 0x60;
		p[1] = 0x01; /* flow label 0x1234 */
		p[2] = 0x12;
		p[3] = 0x34;
		set16(p + 4, (uint32_t)(len - 40));
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 2;
		p[24] = 0xfd;
		p[25] = 1;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		set16(p + 2, (uint32_t)len);
		set16(p + 4, t->id);
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = 6;
		p[12] = 198;
		p[13] = 18;
		p[14] = 100;
		p[15] = 2;
		p[16] = 198;
		p[17] = 18;
		p[18] = 1;
		p[19] = 2;
	}
	set16(tcp, 40000);
	set16(tcp + 2, 5201);
	set32(tcp + 4, t->seq);
	set32(tcp + 8, 0x01020304);
	tcp[12] = (uint8_t)((20 + t->opts) / 4 << 4);
	tcp[13] = t->flags;
	set16(tcp + 14, 502);
	for (i = 0; i < t->opts; i++)
		tcp[20 + i] = i % 4 == 0 ? 1 : (uint8_t)(0x30 + i); /* NOP + filler */
	for (i = 0; i < t->payload; i++)
		p[hl + i] = (uint8_t)(t->pattern + i);
	if (!t->v6)
		set16(p + 10, (uint16_t)~fold16(sum16(0, p, 20)));
	set16(tcp + 16, (uint16_t)~fold16(sum16(pseudo(p, 6, len - l4), tcp, len - l4)));
	return len;
}

/* vnet header + super-packet: the TCP checksum field holds the pseudo-header
 * sum (CHECKSUM_PARTIAL), as the kernel leaves it. */
size_t make_super(uint8_t *buf, const struct tcpspec *t, uint16_t gso_size)
{
	uint8_t *p = buf + OFFLOAD_VNET_LEN;
	size_t len = make_tcp(p, t), l4 = t->v6 ? 40 : 20;
	struct offload_vnet h = {
	    .flags = OFFLOAD_F_NEEDS_CSUM,
	    .gso_type = t->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4,
	    .hdr_len = (uint16_t)(l4 + 20 + t->opts),
	    .gso_size = gso_size,
	    .csum_start = (uint16_t)l4,
	    .csum_offset = 16,
	};

	set16(p + l4 + 16, fold16(pseudo(p, 6, len - l4)));
	offload_vnet_put(buf, &h);
	return OFFLOAD_VNET_LEN + len;
}

uint8_t *heap;

void teardown(void)
{
	free(heap);
	heap = NULL;
}

uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
	free(heap);
	heap = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(heap);
	memcpy(heap, buf, len);
	return heap;
}

int seg_init_exact(struct offload_seg *s, const uint8_t *buf, size_t len, size_t mtu)
{
	return offload_seg_init(s, exact_copy(buf, len), len, mtu);
}

uint8_t big[OFFLOAD_BUF_LEN];
uint8_t segs[64][2048];
size_t seg_len[64];

/* Segment buf and check every segment against the spec it came from. */
int segment_and_check(const struct tcpspec *t, uint16_t gso, size_t mtu)
{
	struct offload_seg s;
	size_t n = make_super(big, t, gso), hl = (t->v6 ? 40 : 20) + 20 + t->opts, off = 0;
	size_t mss = mtu - hl < gso ? mtu - hl : gso;
	int count, k = 0, r;

	count = offload_seg_init(&s, big, n, mtu);
	ck_assert_int_eq(count, (int)((t->payload + mss - 1) / mss));
	ck_assert_int_le(count, 64);
	while ((r = offload_seg_next(&s, segs[k], sizeof(segs[k]))) > 0) {
		uint8_t *p = segs[k], *tcp = p + (t->v6 ? 40 : 20);
		size_t chunk = t->payload - off < mss ? t->payload - off : mss, i;
		bool first = k == 0, last = k + 1 == count;

		seg_len[k] = (size_t)r;
		ck_assert_uint_eq((size_t)r, hl + chunk);
		ck_assert_uint_le((size_t)r, mtu);
		if (t->v6) {
			ck_assert_uint_eq(be16(p + 4), r - 40);
			ck_assert_uint_eq(be32(p), 0x60011234);
		} else {
			ck_assert_uint_eq(be16(p + 2), r);
			ck_assert_uint_eq(be16(p + 4), (uint16_t)(t->id + k));
			ck_assert(ip4_csum_ok(p));
		}
		ck_assert_uint_eq(be32(tcp + 4), t->seq + (uint32_t)off);
		ck_assert_uint_eq(tcp[13] & FIN, last ? t->flags & FIN : 0);
		ck_assert_uint_eq(tcp[13] & PSH, last ? t->flags & PSH : 0);
		ck_assert_uint_eq(tcp[13] & CWR, first ? t->flags & CWR : 0);
		ck_assert_uint_eq(tcp[13] & ACK, t->flags & ACK);
		ck_assert(l4_csum_ok(p, (size_t)r, 6));
		for (i = 0; i < chunk; i++)
			ck_assert_uint_eq(p[hl + i], (uint8_t)(t->pattern + off + i));
		off += chunk;
		k++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(k, count);
	ck_assert_uint_eq(off, t->payload);
	return count;
}

/* ---- UDP (USO) ------------------------------------------------------------- */

/* A complete IPv4 or IPv6 UDP datagram with right checksums (0 sent as
 * 0xffff); returns its length. */
size_t make_udp(uint8_t *p, const struct udpspec *u)
{
	size_t l4 = u->v6 ? 40 : 20, len = l4 + 8 + u->payload, i;
	uint8_t *udp = p + l4;
	uint16_t c;

	memset(p, 0, l4 + 8);
	if (u->v6) {
		p[0] = 0x60;
		p[1] = 0x0b; /* traffic class 0, flow label 0xb5678 */
		p[2] = 0x56;
		p[3] = 0x78;
		set16(p + 4, (uint32_t)(len - 40));
		p[6] = 17;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 2;
		p[24] = 0xfd;
		p[25] = 1;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[1] = 0x10;
		set16(p + 2, (uint32_t)len);
		set16(p + 4, u->id);
		p[6] = u->no_df ? 0 : 0x40;
		p[8] = 64;
		p[9] = 17;
		p[12] = 198;
		p[13] = 18;
		p[14] = 100;
		p[15] = 2;
		p[16] = 198;
		p[17] = 18;
		p[18] = 1;
		p[19] = 2;
		set16(p + 10, (uint16_t)~fold16(sum16(0, p, 20)));
	}
	set16(udp, u->sport ? u->sport : 40000);
	set16(udp + 2, 5201);
	set16(udp + 4, (uint32_t)(len - l4));
	for (i = 0; i < u->payload; i++)
		p[l4 + 8 + i] = (uint8_t)(u->pattern + i);
	c = (uint16_t)~fold16(sum16(pseudo(p, 17, len - l4), udp, len - l4));
	set16(udp + 6, c ? c : 0xffff);
	return len;
}

/* vnet header + UDP super-packet as the kernel hands it over: the UDP
 * length is the whole, the checksum field the pseudo-header sum. */
size_t make_udp_super(uint8_t *buf, const struct udpspec *u, uint16_t gso_size)
{
	uint8_t *p = buf + OFFLOAD_VNET_LEN;
	size_t len = make_udp(p, u), l4 = u->v6 ? 40 : 20;
	struct offload_vnet h = {
	    .flags = OFFLOAD_F_NEEDS_CSUM,
	    .gso_type = OFFLOAD_GSO_UDP_L4,
	    .hdr_len = (uint16_t)(l4 + 8),
	    .gso_size = gso_size,
	    .csum_start = (uint16_t)l4,
	    .csum_offset = 6,
	};

	set16(p + l4 + 6, fold16(pseudo(p, 17, len - l4)));
	offload_vnet_put(buf, &h);
	return OFFLOAD_VNET_LEN + len;
}

/* Cut a UDP super-packet and check every datagram against the spec. */
int udp_segment_and_check(const struct udpspec *u, uint16_t gso, size_t mtu)
{
	struct offload_seg s;
	size_t n = make_udp_super(big, u, gso), l4 = u->v6 ? 40 : 20, off = 0;
	int count, k = 0, r;

	count = offload_seg_init(&s, big, n, mtu);
	ck_assert_int_eq(count, u->payload ? (int)((u->payload + gso - 1) / gso) : 1);
	ck_assert_int_le(count, 64);
	ck_assert(s.udp && s.gso);
	while ((r = offload_seg_next(&s, segs[k], sizeof(segs[k]))) > 0) {
		uint8_t *p = segs[k], *udp = p + l4;
		size_t chunk = u->payload - off < gso ? u->payload - off : gso, i;

		seg_len[k] = (size_t)r;
		ck_assert_uint_eq((size_t)r, l4 + 8 + chunk);
		ck_assert_uint_le((size_t)r, mtu);
		if (u->v6) {
			ck_assert_uint_eq(be16(p + 4), r - 40);
			ck_assert_uint_eq(be32(p), 0x600b5678);
			ck_assert_uint_eq(p[6], 17);
		} else {
			ck_assert_uint_eq(be16(p + 2), r);
			ck_assert_uint_eq(be16(p + 4), (uint16_t)(u->id + k));
			ck_assert_uint_eq(p[6], u->no_df ? 0 : 0x40);
			ck_assert_uint_eq(p[1], 0x10);
			ck_assert(ip4_csum_ok(p));
		}
		ck_assert_uint_eq(be16(udp), u->sport ? u->sport : 40000);
		ck_assert_uint_eq(be16(udp + 2), 5201);
		ck_assert_uint_eq(be16(udp + 4), r - l4);
		ck_assert_uint_ne(be16(udp + 6), 0);
		ck_assert(l4_csum_ok(p, (size_t)r, 17));
		for (i = 0; i < chunk; i++)
			ck_assert_uint_eq(p[l4 + 8 + i], (uint8_t)(u->pattern + off + i));
		off += chunk;
		k++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(k, count);
	ck_assert_uint_eq(off, u->payload);
	return count;
}

/* ---- coalescing ------------------------------------------------------------ */

uint8_t gbuf[OFFLOAD_BUF_LEN];

/* The kernel's view of a CHECKSUM_PARTIAL packet: sum from csum_start with
 * the field as it is, complement, store (for UDP 0 as 0xffff).  The
 * result must be a packet whose checksum adds up. */
void kernel_finish(uint8_t *p, size_t len, const struct offload_vnet *h)
{
	uint16_t c = (uint16_t)~fold16(sum16(0, p + h->csum_start, len - h->csum_start));

	if (c == 0 && h->csum_offset == 6)
		c = 0xffff;
	set16(p + h->csum_start + h->csum_offset, c);
}

/* Send a run of segments built by hand; returns the vnet header and packet
 * count of what is written, one batch after another. */
int add_all(struct offload_gro *g, uint8_t pkts[][2048], const size_t *len, int n, unsigned *counts)
{
	int writes = 0, k;

	for (k = 0; k < n; k++) {
		unsigned before = g->count;
		int r = offload_gro_add(g, pkts[k], len[k]);
		if (r == OFFLOAD_GRO_FLUSH) {
			counts[writes++] = before;
			offload_gro_take(g);
			r = offload_gro_add(g, pkts[k], len[k]);
		}
		ck_assert_int_eq(r, OFFLOAD_GRO_ADDED);
	}
	counts[writes++] = g->count;
	offload_gro_take(g);
	return writes;
}

uint8_t pk[8][2048];
size_t pklen[8];

/* Four contiguous 1000-byte segments, sequence 1000, 2000, ... */
void four(bool v6)
{
	for (int k = 0; k < 4; k++) {
		struct tcpspec t = {.v6 = v6,
				    .payload = 1000,
				    .flags = ACK,
				    .seq = 1000 * (uint32_t)(k + 1),
				    .id = (uint16_t)k};
		pklen[k] = make_tcp(pk[k], &t);
	}
}

void fix_tcp_csum(uint8_t *p, size_t len)
{
	size_t l4 = l4_off(p);

	if (p[0] >> 4 == 4) {
		set16(p + 10, 0);
		set16(p + 10, (uint16_t)~fold16(sum16(0, p, l4)));
	}
	set16(p + l4 + 16, 0);
	set16(p + l4 + 16, (uint16_t)~fold16(sum16(pseudo(p, 6, len - l4), p + l4, len - l4)));
}

/* Four 1000-byte datagrams of one flow, ids 0..3. */
void four_udp(bool v6)
{
	for (int k = 0; k < 4; k++) {
		struct udpspec u = {
		    .v6 = v6, .payload = 1000, .id = (uint16_t)k, .pattern = (uint8_t)k};
		pklen[k] = make_udp(pk[k], &u);
	}
}

void fix_udp_csum(uint8_t *p, size_t len)
{
	size_t l4 = l4_off(p);
	uint16_t c;

	if (p[0] >> 4 == 4) {
		set16(p + 10, 0);
		set16(p + 10, (uint16_t)~fold16(sum16(0, p, l4)));
	}
	set16(p + l4 + 6, 0);
	c = (uint16_t)~fold16(sum16(pseudo(p, 17, len - l4), p + l4, len - l4));
	set16(p + l4 + 6, c ? c : 0xffff);
}
