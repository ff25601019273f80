/* Unit tests for common/offload.c, run by `make check`: cutting TCP and
 * UDP super-packets into segments and datagrams, merging them back,
 * finishing partial checksums, and refusing malformed input.  Checksums are verified with a
 * plain 16-bit implementation written here, not with the code under test.
 * Malformed inputs live in exact-size heap copies so an over-read shows. */
#include "config.h"
#include "tests/unit/check_offload.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- TCP (TSO) and the checksum helpers ------------------------------------ */

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

/* Cutting in place gives the very packets copying gives, each where its
 * payload lay, with a frame header's room before it inside the buffer. */
static void same_inplace(uint8_t *buf, size_t n, size_t mtu, int want)
{
	static uint8_t copy[OFFLOAD_BUF_LEN], out[2048];
	struct offload_seg a, b;
	uint8_t *at, *prev_end = NULL;
	int k = 0, r, q;

	memcpy(copy, buf, n);
	ck_assert_int_eq(offload_seg_init(&a, copy, n, mtu), want);
	ck_assert_int_eq(offload_seg_init(&b, buf, n, mtu), want);
	while ((r = offload_seg_next(&a, out, sizeof(out))) > 0) {
		q = offload_seg_next_inplace(&b, &at);
		ck_assert_int_eq(q, r);
		ck_assert_mem_eq(at, out, (size_t)r);
		ck_assert(at - 8 >= buf && at + q <= buf + n);
		if (prev_end) /* it starts before the end of the one before */
			ck_assert(at < prev_end);
		/* What a reader does to a packet it took: frame it, scribble. */
		memset(at - 8, 0xee, 8);
		memset(at, 0xdd, (size_t)q);
		prev_end = at + q;
		k++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(offload_seg_next_inplace(&b, &at), 0);
	ck_assert_int_eq(k, want);
}

START_TEST(test_seg_inplace)
{
	struct tcpspec t4 = {.payload = 10000,
			     .flags = ACK | PSH | FIN,
			     .seq = 0xfffff000,
			     .id = 0xfffe,
			     .opts = 40,
			     .pattern = 3};
	struct tcpspec t6 = {.v6 = true, .payload = 60000, .flags = ACK | CWR, .opts = 12};
	struct tcpspec tiny = {.payload = 20, .flags = ACK, .pattern = 5};
	struct udpspec u4 = {.payload = 5000, .id = 7, .pattern = 1};
	struct udpspec u6 = {.v6 = true, .payload = 4000, .pattern = 2};
	struct tcpspec one = {.payload = 100, .flags = ACK};

	same_inplace(big, make_super(big, &t4, 1360), 1400, 8);
	same_inplace(big, make_super(big, &t6, 1328), 1400, 46);
	same_inplace(big, make_super(big, &tiny, 1), 1400, 20); /* payload < frame header */
	same_inplace(big, make_udp_super(big, &u4, 1000), 1400, 5);
	same_inplace(big, make_udp_super(big, &u6, 1200), 1400, 4);
	/* not GSO: the packet as it is */
	memset(big, 0, OFFLOAD_VNET_LEN);
	same_inplace(big, OFFLOAD_VNET_LEN + make_tcp(big + OFFLOAD_VNET_LEN, &one), 1400, 1);
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
	tcase_add_test(seg, test_seg_inplace);
	tcase_add_test(seg, test_needs_csum);
	tcase_add_test(seg, test_seg_malformed);
	offload_udp_seg_tests(seg);
	suite_add_tcase(s, seg);
	offload_tcp_gro_tests(gro);
	offload_udp_gro_tests(gro);
	offload_ack_tests(gro);
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
