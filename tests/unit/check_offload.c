/* Unit tests for common/offload.c, run by `make check`: cutting TCP and
 * UDP super-packets into segments and datagrams, merging them back,
 * finishing partial checksums, and refusing malformed input.  Checksums are verified with a
 * plain 16-bit implementation written here, not with the code under test.
 * Malformed inputs live in exact-size heap copies so an over-read shows. */
#include "config.h"
#include "common/offload.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIN 0x01
#define SYN 0x02
#define PSH 0x08
#define ACK 0x10
#define CWR 0x80

/* ---- an independent checksum ------------------------------------------- */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	if (ip[0] >> 4 == 4)
		return sum16(0, ip + 12, 8) + proto + (uint32_t)l4len;
	return sum16(0, ip + 8, 32) + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

static size_t l4_off(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? (size_t)(ip[0] & 15) * 4 : 40;
}

/* A packet's transport checksum (TCP or UDP) adds up. */
static bool l4_csum_ok(const uint8_t *ip, size_t len, uint8_t proto)
{
	size_t l4 = l4_off(ip);

	return fold16(sum16(pseudo(ip, proto, len - l4), ip + l4, len - l4)) == 0xffff;
}

static bool ip4_csum_ok(const uint8_t *ip)
{
	return fold16(sum16(0, ip, l4_off(ip))) == 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void set32(uint8_t *p, uint32_t v)
{
	set16(p, v >> 16);
	set16(p + 2, v);
}

/* ---- building packets ------------------------------------------------------ */

struct tcpspec {
	bool v6;
	size_t payload;
	uint8_t flags;
	size_t opts; /* TCP option bytes, a multiple of 4 */
	uint32_t seq;
	uint16_t id;
	uint8_t pattern; /* payload byte i = pattern + i */
};

/* A complete IPv4 (DF) or IPv6 TCP packet with right checksums; returns
 * its length. */
static size_t make_tcp(uint8_t *p, const struct tcpspec *t)
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
static size_t make_super(uint8_t *buf, const struct tcpspec *t, uint16_t gso_size)
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

static uint8_t *heap;

static void teardown(void)
{
	free(heap);
	heap = NULL;
}

static uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
	free(heap);
	heap = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(heap);
	memcpy(heap, buf, len);
	return heap;
}

static int seg_init_exact(struct offload_seg *s, const uint8_t *buf, size_t len, size_t mtu)
{
	return offload_seg_init(s, exact_copy(buf, len), len, mtu);
}

static uint8_t big[OFFLOAD_BUF_LEN];
static uint8_t segs[64][2048];
static size_t seg_len[64];

/* Segment buf and check every segment against the spec it came from. */
static int segment_and_check(const struct tcpspec *t, uint16_t gso, size_t mtu)
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

START_TEST(test_seg_v4)
{
	struct tcpspec t = {.payload = 10000, .flags = ACK | PSH, .seq = 0xfffff000, .id = 0xfffe};

	/* 1360 * 7 = 9520: the eighth segment is shorter (480); seq and id wrap. */
	ck_assert_int_eq(segment_and_check(&t, 1360, 1400), 8);
	ck_assert_uint_eq(seg_len[7], 40 + 480);
}
END_TEST

START_TEST(test_seg_v6)
{
	struct tcpspec t = {.v6 = true, .payload = 65535 - 60 - 12, .flags = ACK | FIN, .opts = 12};

	ck_assert_int_eq(segment_and_check(&t, 1328, 1400), 50);
}
END_TEST

START_TEST(test_seg_flags)
{
	struct tcpspec t = {.payload = 4000, .flags = ACK | PSH | FIN | CWR, .seq = 7};
	struct offload_seg s;
	uint8_t out[1400];
	size_t n;
	int k = 0, r;

	ck_assert_int_eq(segment_and_check(&t, 1000, 1400), 4);
	/* GSO_ECN says the same: CWR on the first segment only. */
	n = make_super(big, &t, 1000);
	big[1] |= OFFLOAD_GSO_ECN;
	ck_assert_int_eq(offload_seg_init(&s, big, n, 1400), 4);
	while ((r = offload_seg_next(&s, out, sizeof(out))) > 0)
		ck_assert_uint_eq(out[33] & CWR, k++ == 0 ? CWR : 0);
	ck_assert_int_eq(k, 4);
}
END_TEST

/* The tunnel MTU is smaller than the sender's segments: cut smaller. */
START_TEST(test_seg_mtu_bound)
{
	struct tcpspec t = {.payload = 3000, .flags = ACK, .opts = 12, .pattern = 9};

	ck_assert_int_eq(segment_and_check(&t, 1448, 1000), 4);
	ck_assert_uint_eq(seg_len[0], 1000);
}
END_TEST

/* The checksum field's content does not matter: segments are summed anew. */
START_TEST(test_seg_garbage_csum)
{
	struct tcpspec t = {.payload = 3000, .flags = ACK};
	struct offload_seg s;
	size_t n = make_super(big, &t, 1360);
	uint8_t out[1400];
	int r;

	big[OFFLOAD_VNET_LEN + 20 + 16] ^= 0x5a;
	big[0] = 0; /* no NEEDS_CSUM */
	ck_assert_int_eq(offload_seg_init(&s, big, n, 1400), 3);
	while ((r = offload_seg_next(&s, out, sizeof(out))) > 0)
		ck_assert(l4_csum_ok(out, (size_t)r, 6));
	ck_assert_int_eq(r, 0);
}
END_TEST

START_TEST(test_seg_small_out)
{
	struct tcpspec t = {.payload = 3000, .flags = ACK};
	struct offload_seg s;
	uint8_t out[1400];

	ck_assert_int_eq(offload_seg_init(&s, big, make_super(big, &t, 1360), 1400), 3);
	ck_assert_int_eq(offload_seg_next(&s, out, 1399), -ENOBUFS);
	ck_assert_int_eq(offload_seg_next(&s, out, 1400), 1400);
}
END_TEST

/* A packet without GSO but with NEEDS_CSUM (forwarded local traffic):
 * UDP and TCP finished in place, and a plain one left alone. */
START_TEST(test_needs_csum)
{
	uint8_t buf[OFFLOAD_VNET_LEN + 200], out[300];
	uint8_t *p = buf + OFFLOAD_VNET_LEN;
	struct offload_vnet h = {.flags = OFFLOAD_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 6};
	struct offload_seg s;
	struct tcpspec t = {.payload = 77, .flags = ACK | PSH};
	size_t i, len;

	/* IPv6 UDP, 8 + 51 bytes (odd length) */
	memset(buf, 0, sizeof(buf));
	p[0] = 0x60;
	set16(p + 4, 59);
	p[6] = 17;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 1;
	p[24] = 0xfd;
	p[39] = 2;
	set16(p + 40, 53);
	set16(p + 42, 5353);
	set16(p + 44, 59);
	for (i = 0; i < 51; i++)
		p[48 + i] = (uint8_t)(i * 7);
	set16(p + 46, fold16(pseudo(p, 17, 59)));
	offload_vnet_put(buf, &h);
	ck_assert_int_eq(offload_seg_init(&s, buf, OFFLOAD_VNET_LEN + 99, 1400), 1);
	ck_assert(!s.gso);
	ck_assert(l4_csum_ok(p, 99, 17));
	/* the flag is cleared: parsing again leaves the packet alone */
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_int_eq(offload_seg_init(&s, buf, OFFLOAD_VNET_LEN + 99, 1400), 1);
	ck_assert(l4_csum_ok(p, 99, 17));
	ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 99);
	ck_assert_mem_eq(out, p, 99);
	ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 0);

	/* IPv4 TCP */
	len = make_tcp(p, &t);
	set16(p + 36, fold16(pseudo(p, 6, len - 20)));
	h.csum_start = 20;
	h.csum_offset = 16;
	offload_vnet_put(buf, &h);
	ck_assert_int_eq(offload_seg_init(&s, buf, OFFLOAD_VNET_LEN + len, 1400), 1);
	ck_assert(l4_csum_ok(p, len, 6));

	/* DATA_VALID: untouched, even a wrong sum */
	p[36] ^= 1;
	memset(&h, 0, sizeof(h));
	h.flags = OFFLOAD_F_DATA_VALID;
	offload_vnet_put(buf, &h);
	ck_assert_int_eq(offload_seg_init(&s, buf, OFFLOAD_VNET_LEN + len, 1400), 1);
	ck_assert(!l4_csum_ok(p, len, 6));
}
END_TEST

START_TEST(test_seg_malformed)
{
	struct tcpspec t = {.payload = 3000, .flags = ACK, .opts = 4};
	struct tcpspec t6 = {.v6 = true, .payload = 3000, .flags = ACK};
	struct offload_seg s;
	uint8_t b[OFFLOAD_BUF_LEN], *p = b + OFFLOAD_VNET_LEN;
	size_t n;
	uint8_t out[1500];
	int r;

	n = make_super(b, &t, 1360);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), 3);
	/* every prefix of the packet is refused or read within bounds */
	for (size_t k = 0; k < n; k++) {
		r = seg_init_exact(&s, b, k, 1400);
		ck_assert_int_lt(r, 0);
	}
	ck_assert_int_eq(seg_init_exact(&s, b, 0, 1400), -EINVAL);
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN, 1400), -EINVAL);
	/* trailing bytes after the IP length are ignored */
	memset(b + n, 0xee, 5);
	ck_assert_int_eq(seg_init_exact(&s, b, n + 5, 1400), 3);
	ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 1400);

	b[4] = b[5] = 0; /* gso_size 0 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	b[1] = 3; /* GSO_UDP */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EPROTONOSUPPORT);
	b[1] = OFFLOAD_GSO_UDP_L4; /* a TCP packet called UDP datagrams */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	b[1] = OFFLOAD_GSO_UDP_L4 | OFFLOAD_GSO_ECN; /* ECN is TCP's */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EPROTONOSUPPORT);
	b[1] = OFFLOAD_GSO_TCPV6; /* type and version disagree */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	p[0] = 0x44; /* IHL 4 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	p[0] = 0x4f; /* IHL 15: the "TCP header" is payload, data offset 4 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	set16(p + 2, 3100); /* total length beyond the buffer */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	set16(p + 2, 30); /* shorter than IP + TCP headers */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	p[6] = 0x20; /* a fragment */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	p[9] = 17; /* not TCP */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	p[32] = 0x40; /* data offset 4 */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	set16(p + 2, 42); /* data offset 24 > IP length 42 - 20 */
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 42, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	b[6] = 14; /* csum_start is not the TCP header */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	b[8] = 6; /* csum_offset is not TCP's */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t, 1360);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 44), -EMSGSIZE);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 45), 3000);
	ck_assert_int_eq(offload_seg_next(&s, out, sizeof(out)), 45);

	n = make_super(b, &t6, 1360);
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), 3);
	p[6] = 0; /* hop-by-hop header: not segmented here */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t6, 1360);
	set16(p + 4, 0); /* jumbogram */
	ck_assert_int_eq(seg_init_exact(&s, b, n, 1400), -EINVAL);
	n = make_super(b, &t6, 1360);
	ck_assert_int_eq(seg_init_exact(&s, b, 59, 1400), -EINVAL);

	/* NEEDS_CSUM without GSO, field out of the packet or at an odd offset */
	memset(b, 0, 200);
	b[0] = OFFLOAD_F_NEEDS_CSUM;
	b[6] = 20;
	b[8] = 16;
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 37, 1400), -EINVAL);
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 38, 1400), 1);
	b[8] = 15;
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 100, 1400), -EINVAL);
	b[6] = 0xff;
	b[7] = 0xff;
	b[8] = 0xfe;
	b[9] = 0xff;
	ck_assert_int_eq(seg_init_exact(&s, b, OFFLOAD_VNET_LEN + 100, 1400), -EINVAL);
}
END_TEST

/* ---- UDP (USO) ------------------------------------------------------------- */

struct udpspec {
	bool v6;
	size_t payload;
	bool no_df;	 /* IPv4: DF clear */
	uint16_t id;	 /* IPv4 id */
	uint16_t sport;	 /* 0: 40000 */
	uint8_t pattern; /* payload byte i = pattern + i */
};

/* A complete IPv4 or IPv6 UDP datagram with right checksums (0 sent as
 * 0xffff); returns its length. */
static size_t make_udp(uint8_t *p, const struct udpspec *u)
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
static size_t make_udp_super(uint8_t *buf, const struct udpspec *u, uint16_t gso_size)
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
static int udp_segment_and_check(const struct udpspec *u, uint16_t gso, size_t mtu)
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

/* ---- coalescing ------------------------------------------------------------ */

static uint8_t gbuf[OFFLOAD_BUF_LEN];

/* The kernel's view of a CHECKSUM_PARTIAL packet: sum from csum_start with
 * the field as it is, complement, store (for UDP 0 as 0xffff).  The
 * result must be a packet whose checksum adds up. */
static void kernel_finish(uint8_t *p, size_t len, const struct offload_vnet *h)
{
	uint16_t c = (uint16_t)~fold16(sum16(0, p + h->csum_start, len - h->csum_start));

	if (c == 0 && h->csum_offset == 6)
		c = 0xffff;
	set16(p + h->csum_start + h->csum_offset, c);
}

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

/* Send a run of segments built by hand; returns the vnet header and packet
 * count of what is written, one batch after another. */
static int add_all(struct offload_gro *g, uint8_t pk[][2048], const size_t *len, int n,
		   unsigned *counts)
{
	int writes = 0, k;

	for (k = 0; k < n; k++) {
		unsigned before = g->count;
		int r = offload_gro_add(g, pk[k], len[k]);
		if (r == OFFLOAD_GRO_FLUSH) {
			counts[writes++] = before;
			offload_gro_take(g);
			r = offload_gro_add(g, pk[k], len[k]);
		}
		ck_assert_int_eq(r, OFFLOAD_GRO_ADDED);
	}
	counts[writes++] = g->count;
	offload_gro_take(g);
	return writes;
}

static uint8_t pk[8][2048];
static size_t pklen[8];

/* Four contiguous 1000-byte segments, sequence 1000, 2000, ... */
static void four(bool v6)
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

static void fix_tcp_csum(uint8_t *p, size_t len)
{
	size_t l4 = l4_off(p);

	if (p[0] >> 4 == 4) {
		set16(p + 10, 0);
		set16(p + 10, (uint16_t)~fold16(sum16(0, p, l4)));
	}
	set16(p + l4 + 16, 0);
	set16(p + l4 + 16, (uint16_t)~fold16(sum16(pseudo(p, 6, len - l4), p + l4, len - l4)));
}

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

/* Four 1000-byte datagrams of one flow, ids 0..3. */
static void four_udp(bool v6)
{
	for (int k = 0; k < 4; k++) {
		struct udpspec u = {
		    .v6 = v6, .payload = 1000, .id = (uint16_t)k, .pattern = (uint8_t)k};
		pklen[k] = make_udp(pk[k], &u);
	}
}

static void fix_udp_csum(uint8_t *p, size_t len)
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

START_TEST(test_csum_helpers)
{
	uint8_t b[101];
	size_t i, n;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(b); n++) {
		uint16_t mine = offload_csum_fold(offload_csum_add(0, b, n));
		uint8_t m[2];

		/* stored in memory order, it reads as the wire-order sum */
		memcpy(m, &mine, 2);
		ck_assert_uint_eq(be16(m) % 0xffff, fold16(sum16(0, b, n)) % 0xffff);
	}
	/* carries out of 64 bits */
	memset(b, 0xff, sizeof(b));
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(~0ull, b, 100)), 0xffff);
}
END_TEST

static Suite *offload_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *seg = tcase_create("segment");
	TCase *gro = tcase_create("coalesce");

	tcase_add_checked_fixture(seg, NULL, teardown);
	tcase_add_checked_fixture(gro, NULL, teardown);
	tcase_add_test(seg, test_csum_helpers);
	tcase_add_test(seg, test_seg_v4);
	tcase_add_test(seg, test_seg_v6);
	tcase_add_test(seg, test_seg_flags);
	tcase_add_test(seg, test_seg_mtu_bound);
	tcase_add_test(seg, test_seg_garbage_csum);
	tcase_add_test(seg, test_seg_small_out);
	tcase_add_test(seg, test_needs_csum);
	tcase_add_test(seg, test_seg_malformed);
	tcase_add_test(seg, test_seg_udp_v4);
	tcase_add_test(seg, test_seg_udp_v6);
	tcase_add_test(seg, test_seg_udp_mtu);
	tcase_add_test(seg, test_seg_udp_csum);
	tcase_add_test(seg, test_seg_udp_csum_zero);
	tcase_add_test(seg, test_seg_udp_malformed);
	suite_add_tcase(s, seg);
	tcase_add_test(gro, test_round_trip_v4);
	tcase_add_test(gro, test_round_trip_v6);
	tcase_add_test(gro, test_round_trip_fin);
	tcase_add_test(gro, test_gro_rules);
	tcase_add_test(gro, test_gro_refuses);
	tcase_add_test(gro, test_gro_limit);
	tcase_add_test(gro, test_gro_then_seg);
	tcase_add_test(gro, test_gro_udp_round_trip);
	tcase_add_test(gro, test_gro_udp_rules);
	tcase_add_test(gro, test_gro_udp_refuses);
	tcase_add_test(gro, test_gro_udp_limit);
	tcase_add_test(gro, test_gro_short);
	suite_add_tcase(s, gro);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(offload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
