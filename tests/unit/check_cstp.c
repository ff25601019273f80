/* Unit tests for common/cstp.c, run by `make check`: CSTP frame parsing
 * (whole, partial, hostile headers) and the checks on client packets.
 * Inputs live in exact-size heap copies so an over-read shows up. */
#include "config.h"
#include "common/cstp.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX CSTP_MAX_PAYLOAD

static uint8_t *heap_copy;

static void teardown(void)
{
	free(heap_copy);
	heap_copy = NULL;
}

/* Copies buf[0..len) to a buffer of exactly len bytes and parses it. */
static int parse(const uint8_t *buf, size_t len, size_t max, struct cstp_frame *f)
{
	free(heap_copy);
	heap_copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(heap_copy);
	memcpy(heap_copy, buf, len);
	return cstp_parse(heap_copy, len, max, f);
}

/* A frame of the given type whose payload is plen bytes of 0xA5. */
static size_t make_frame(uint8_t *out, uint8_t type, uint16_t plen)
{
	cstp_put_header(out, type, plen);
	memset(out + CSTP_HDR_LEN, 0xa5, plen);
	return CSTP_HDR_LEN + plen;
}

START_TEST(test_put_header)
{
	static const uint8_t want[8] = {0x53, 0x54, 0x46, 0x01, 0x12, 0x34, 0x05, 0x00};
	uint8_t hdr[8];

	memset(hdr, 0xff, sizeof(hdr));
	cstp_put_header(hdr, CSTP_DISCONNECT, 0x1234);
	ck_assert_mem_eq(hdr, want, 8);
}
END_TEST

START_TEST(test_every_type)
{
	static const uint8_t types[] = {CSTP_DATA,	 CSTP_DPD_REQ,	 CSTP_DPD_RESP,
					CSTP_DISCONNECT, CSTP_KEEPALIVE, CSTP_TERMINATE};
	uint8_t buf[64];
	struct cstp_frame f;
	size_t i, n;

	for (i = 0; i < sizeof(types); i++) {
		n = make_frame(buf, types[i], 20);
		memset(&f, 0, sizeof(f));
		ck_assert_int_eq(parse(buf, n, MAX, &f), 28);
		ck_assert_uint_eq(f.type, types[i]);
		ck_assert_uint_eq(f.len, 20);
		ck_assert_ptr_eq(f.payload, heap_copy + 8);
		ck_assert_uint_eq(f.payload[19], 0xa5);
	}
}
END_TEST

/* The client's BYE as seen on the wire (PROTOCOL.md 5.2). */
START_TEST(test_client_bye)
{
	static const uint8_t bye[] = "\x53\x54\x46\x01\x00\x12\x05\x00\xb0"
				     "Aborted by caller";
	struct cstp_frame f;

	ck_assert_int_eq(parse(bye, sizeof(bye) - 1, MAX, &f), 26);
	ck_assert_uint_eq(f.type, CSTP_DISCONNECT);
	ck_assert_uint_eq(f.len, 18);
	ck_assert_uint_eq(f.payload[0], 0xb0);
	ck_assert_mem_eq(f.payload + 1, "Aborted by caller", 17);
}
END_TEST

START_TEST(test_zero_length)
{
	uint8_t buf[8];
	struct cstp_frame f;

	make_frame(buf, CSTP_KEEPALIVE, 0);
	ck_assert_int_eq(parse(buf, 8, MAX, &f), 8);
	ck_assert_uint_eq(f.type, CSTP_KEEPALIVE);
	ck_assert_uint_eq(f.len, 0);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
	uint8_t buf[64];
	struct cstp_frame f;
	size_t n = make_frame(buf, CSTP_DATA, 40), i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(parse(buf, i, MAX, &f), CSTP_NEED_MORE);
	ck_assert_int_eq(parse(buf, n, MAX, &f), (int)n);
	ck_assert_uint_eq(f.len, 40);
}
END_TEST

START_TEST(test_back_to_back)
{
	uint8_t buf[128];
	struct cstp_frame f;
	size_t a = make_frame(buf, CSTP_DPD_REQ, 3);
	size_t b = make_frame(buf + a, CSTP_DATA, 60);

	ck_assert_int_eq(parse(buf, a + b, MAX, &f), (int)a);
	ck_assert_uint_eq(f.type, CSTP_DPD_REQ);
	ck_assert_uint_eq(f.len, 3);
	/* A partial second frame does not change the answer. */
	ck_assert_int_eq(parse(buf, a + 5, MAX, &f), (int)a);
	ck_assert_int_eq(parse(buf + a, b, MAX, &f), (int)b);
	ck_assert_uint_eq(f.type, CSTP_DATA);
	ck_assert_uint_eq(f.len, 60);
}
END_TEST

START_TEST(test_length_limit)
{
	static uint8_t buf[CSTP_HDR_LEN + MAX + 1];
	struct cstp_frame f;

	/* Exactly the limit is fine. */
	make_frame(buf, CSTP_DATA, MAX);
	ck_assert_int_eq(parse(buf, CSTP_HDR_LEN + MAX, MAX, &f), CSTP_HDR_LEN + MAX);

	/* One more is refused as soon as bytes 4-5 are in, not before. */
	make_frame(buf, CSTP_DATA, MAX + 1);
	ck_assert_int_eq(parse(buf, 5, MAX, &f), CSTP_NEED_MORE);
	ck_assert_int_eq(parse(buf, 6, MAX, &f), CSTP_ETOOBIG);
	ck_assert_int_eq(parse(buf, sizeof(buf), MAX, &f), CSTP_ETOOBIG);

	cstp_put_header(buf, CSTP_DATA, 0xffff);
	ck_assert_int_eq(parse(buf, 6, MAX, &f), CSTP_ETOOBIG);

	/* The caller's limit is the one that counts. */
	cstp_put_header(buf, CSTP_DATA, 1401);
	ck_assert_int_eq(parse(buf, 8, 1400, &f), CSTP_ETOOBIG);
	cstp_put_header(buf, CSTP_DATA, 1);
	ck_assert_int_eq(parse(buf, 8, 0, &f), CSTP_ETOOBIG);
}
END_TEST

/* A wrong byte at position i of the magic is reported with only i+1 bytes
 * in hand; the i bytes before it are still a valid beginning. */
START_TEST(test_bad_magic_each_position)
{
	uint8_t buf[16];
	struct cstp_frame f;
	size_t pos, n;

	for (pos = 0; pos < 4; pos++) {
		n = make_frame(buf, CSTP_KEEPALIVE, 0);
		buf[pos] ^= 0x20;
		ck_assert_int_eq(parse(buf, pos, MAX, &f), CSTP_NEED_MORE);
		ck_assert_int_eq(parse(buf, pos + 1, MAX, &f), CSTP_EMAGIC);
		ck_assert_int_eq(parse(buf, n, MAX, &f), CSTP_EMAGIC);
	}
	/* HTTP arriving where frames are expected. */
	ck_assert_int_eq(parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, MAX, &f), CSTP_EMAGIC);
	/* Version byte other than 1. */
	make_frame(buf, CSTP_DATA, 0);
	buf[3] = 2;
	ck_assert_int_eq(parse(buf, 4, MAX, &f), CSTP_EMAGIC);
}
END_TEST

/* Nothing at or past len is looked at: the bytes that follow each prefix
 * would be an error if they were read. */
START_TEST(test_no_read_past_len)
{
	static const uint8_t bad[8] = {'X', 'X', 'X', 'X', 0xff, 0xff, 0xff, 0xff};
	uint8_t good[8], buf[8];
	struct cstp_frame f;
	size_t k;

	cstp_put_header(good, CSTP_DATA, 4);
	for (k = 0; k < 8; k++) {
		memcpy(buf, good, k);
		memcpy(buf + k, bad + k, 8 - k);
		ck_assert_int_eq(cstp_parse(buf, k, MAX, &f), CSTP_NEED_MORE);
	}
}
END_TEST

START_TEST(test_unknown_types)
{
	static const uint8_t bad[] = {0x01, 0x02, 0x06, CSTP_COMPRESSED, 0x0a, 0x10, 0x80, 0xff};
	uint8_t buf[16];
	struct cstp_frame f;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		make_frame(buf, bad[i], 4);
		ck_assert_int_eq(parse(buf, 6, MAX, &f), CSTP_NEED_MORE);
		ck_assert_int_eq(parse(buf, 7, MAX, &f), CSTP_ETYPE);
		ck_assert_int_eq(parse(buf, 12, MAX, &f), CSTP_ETYPE);
	}
}
END_TEST

START_TEST(test_byte7_nonzero)
{
	uint8_t buf[16];
	struct cstp_frame f;

	make_frame(buf, CSTP_DATA, 4);
	buf[7] = 1;
	ck_assert_int_eq(parse(buf, 7, MAX, &f), CSTP_NEED_MORE);
	ck_assert_int_eq(parse(buf, 8, MAX, &f), CSTP_ETYPE);
	ck_assert_int_eq(parse(buf, 12, MAX, &f), CSTP_ETYPE);
}
END_TEST

/* Errors come in header order: the length is judged before the type. */
START_TEST(test_error_order)
{
	uint8_t buf[8];
	struct cstp_frame f;

	cstp_put_header(buf, 0x42, 0xffff);
	buf[7] = 9;
	ck_assert_int_eq(parse(buf, 8, MAX, &f), CSTP_ETOOBIG);
	cstp_put_header(buf, 0x42, 0);
	buf[7] = 9;
	ck_assert_int_eq(parse(buf, 8, MAX, &f), CSTP_ETYPE);
}
END_TEST

START_TEST(test_strerror)
{
	const char *e[] = {cstp_strerror(CSTP_NEED_MORE), cstp_strerror(CSTP_EMAGIC),
			   cstp_strerror(CSTP_ETOOBIG), cstp_strerror(CSTP_ETYPE),
			   cstp_strerror(-99)};
	size_t i, j;

	for (i = 0; i < 5; i++) {
		ck_assert_ptr_nonnull(e[i]);
		ck_assert_uint_gt(strlen(e[i]), 0);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(e[i], e[j]);
	}
	ck_assert_ptr_nonnull(strstr(cstp_strerror(CSTP_EMAGIC), "magic"));
}
END_TEST

/* Packet checks ---------------------------------------------------------- */

static struct in_addr lease4;
static struct in6_addr lease6;

static void setup_leases(void)
{
	ck_assert_int_eq(inet_pton(AF_INET, "10.251.0.2", &lease4), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:251::2", &lease6), 1);
}

/* IPv4 header with the given IHL (in words) and total length, followed by
 * zeros; source and destination from text. */
static void make_v4(uint8_t *p, size_t bufsize, unsigned ihl, uint16_t total, const char *src,
		    const char *dst)
{
	memset(p, 0, bufsize);
	p[0] = (uint8_t)(0x40 | ihl);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[8] = 64;
	p[9] = 17;
	ck_assert_int_eq(inet_pton(AF_INET, src, p + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, p + 16), 1);
}

static void make_v6(uint8_t *p, size_t bufsize, uint16_t plen, const char *src, const char *dst)
{
	memset(p, 0, bufsize);
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = 58;
	p[7] = 64;
	ck_assert_int_eq(inet_pton(AF_INET6, src, p + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, p + 24), 1);
}

static enum pkt_verdict check(const uint8_t *p, size_t len, const struct in_addr *v4,
			      const struct in6_addr *v6, size_t *ip_len)
{
	free(heap_copy);
	heap_copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(heap_copy);
	memcpy(heap_copy, p, len);
	return pkt_check_client(heap_copy, len, v4, v6, ip_len);
}

START_TEST(test_v4_good)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, &lease6, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 28);
	/* Minimal header-only packet. */
	make_v4(p, sizeof(p), 5, 20, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 20, &lease4, NULL, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 20);
	/* Options: IHL 6 and IHL 15 (the maximum). */
	make_v4(p, sizeof(p), 6, 30, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 30, &lease4, NULL, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 30);
	make_v4(p, sizeof(p), 15, 60, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 60, &lease4, NULL, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 60);
}
END_TEST

START_TEST(test_v4_trailing_padding)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 64, &lease4, NULL, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 28);
}
END_TEST

START_TEST(test_v4_spoofed)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.3", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	/* Destination equal to the lease does not make it ours. */
	make_v4(p, sizeof(p), 5, 28, "192.0.2.1", "10.251.0.2");
	ck_assert_int_eq(check(p, 28, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	/* Byte order: the lease is compared as on the wire. */
	make_v4(p, sizeof(p), 5, 28, "2.0.251.10", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	make_v4(p, sizeof(p), 5, 28, "0.0.0.0", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, &lease6, &ip_len), PKT_SPOOFED);
}
END_TEST

START_TEST(test_v4_malformed)
{
	uint8_t p[64];
	size_t ip_len = 0;
	unsigned ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		make_v4(p, sizeof(p), ihl, 28, "10.251.0.2", "192.0.2.1");
		ck_assert_int_eq(check(p, 28, &lease4, NULL, &ip_len), PKT_MALFORMED);
	}
	/* Header longer than the packet. */
	make_v4(p, sizeof(p), 15, 40, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 40, &lease4, NULL, &ip_len), PKT_MALFORMED);
	/* Total length beyond what arrived, by one byte. */
	make_v4(p, sizeof(p), 5, 29, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, NULL, &ip_len), PKT_MALFORMED);
	make_v4(p, sizeof(p), 5, 0xffff, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 64, &lease4, NULL, &ip_len), PKT_MALFORMED);
	/* Total length shorter than the header. */
	make_v4(p, sizeof(p), 5, 19, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, NULL, &ip_len), PKT_MALFORMED);
	make_v4(p, sizeof(p), 6, 20, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, &lease4, NULL, &ip_len), PKT_MALFORMED);
	/* Fewer than 20 bytes. */
	make_v4(p, sizeof(p), 5, 19, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 19, &lease4, NULL, &ip_len), PKT_MALFORMED);
	ck_assert_int_eq(check(p, 1, &lease4, NULL, &ip_len), PKT_MALFORMED);
	ck_assert_int_eq(check(p, 0, &lease4, NULL, &ip_len), PKT_MALFORMED);
	/* Malformed outranks a missing lease. */
	make_v4(p, sizeof(p), 4, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, NULL, NULL, &ip_len), PKT_MALFORMED);
	ck_assert_uint_eq(ip_len, 0);
}
END_TEST

START_TEST(test_v4_no_lease)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(check(p, 28, NULL, &lease6, &ip_len), PKT_NOADDR);
	ck_assert_int_eq(check(p, 28, NULL, NULL, &ip_len), PKT_NOADDR);
}
END_TEST

START_TEST(test_v6_good)
{
	uint8_t p[128];
	size_t ip_len = 0;

	make_v6(p, sizeof(p), 8, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, &lease4, &lease6, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 48);
	/* Header only (no next header), and with trailing padding. */
	make_v6(p, sizeof(p), 0, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 40, NULL, &lease6, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 40);
	make_v6(p, sizeof(p), 8, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 128, NULL, &lease6, &ip_len), PKT_OK);
	ck_assert_uint_eq(ip_len, 48);
}
END_TEST

START_TEST(test_v6_spoofed)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v6(p, sizeof(p), 8, "fd00:251::3", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	/* Differs only in the first byte, then only in the last. */
	make_v6(p, sizeof(p), 8, "fe00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	make_v6(p, sizeof(p), 8, "fd00:251::", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, &lease4, &lease6, &ip_len), PKT_SPOOFED);
	/* Link-local source is not the lease either. */
	make_v6(p, sizeof(p), 8, "fe80::2", "ff02::2");
	ck_assert_int_eq(check(p, 48, &lease4, &lease6, &ip_len), PKT_SPOOFED);
}
END_TEST

START_TEST(test_v6_malformed)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v6(p, sizeof(p), 0, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 39, NULL, &lease6, &ip_len), PKT_MALFORMED);
	ck_assert_int_eq(check(p, 20, NULL, &lease6, &ip_len), PKT_MALFORMED);
	make_v6(p, sizeof(p), 9, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, NULL, &lease6, &ip_len), PKT_MALFORMED);
	make_v6(p, sizeof(p), 0xffff, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 64, NULL, &lease6, &ip_len), PKT_MALFORMED);
	ck_assert_int_eq(check(p, 64, NULL, NULL, &ip_len), PKT_MALFORMED);
	ck_assert_uint_eq(ip_len, 0);
}
END_TEST

START_TEST(test_v6_no_lease)
{
	uint8_t p[64];
	size_t ip_len = 0;

	make_v6(p, sizeof(p), 8, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(check(p, 48, &lease4, NULL, &ip_len), PKT_NOADDR);
}
END_TEST

START_TEST(test_other_versions)
{
	uint8_t p[64];
	size_t ip_len = 0;
	unsigned v;

	for (v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
		p[0] = (uint8_t)(v << 4 | 5);
		ck_assert_int_eq(check(p, 64, &lease4, &lease6, &ip_len), PKT_MALFORMED);
	}
}
END_TEST

START_TEST(test_pkt_dst)
{
	uint8_t p[64], want[16];
	const uint8_t *dst = NULL;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(pkt_dst(p, 20, &dst), AF_INET);
	ck_assert_ptr_eq(dst, p + 16);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", want), 1);
	ck_assert_mem_eq(dst, want, 4);

	make_v6(p, sizeof(p), 8, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(pkt_dst(p, 40, &dst), AF_INET6);
	ck_assert_ptr_eq(dst, p + 24);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", want), 1);
	ck_assert_mem_eq(dst, want, 16);
}
END_TEST

START_TEST(test_pkt_dst_short)
{
	uint8_t p[64];
	const uint8_t *dst = NULL;

	make_v4(p, sizeof(p), 5, 28, "10.251.0.2", "192.0.2.1");
	ck_assert_int_eq(pkt_dst(p, 19, &dst), 0);
	ck_assert_int_eq(pkt_dst(p, 0, &dst), 0);
	make_v6(p, sizeof(p), 8, "fd00:251::2", "2001:db8::1");
	ck_assert_int_eq(pkt_dst(p, 39, &dst), 0);
	/* A v6 packet is not read as v4 just because 20 bytes are there. */
	ck_assert_int_eq(pkt_dst(p, 20, &dst), 0);
	p[0] = 0x50;
	ck_assert_int_eq(pkt_dst(p, 64, &dst), 0);
}
END_TEST

static Suite *cstp_suite(void)
{
	Suite *s = suite_create("cstp");
	TCase *frames = tcase_create("frames");
	TCase *pkts = tcase_create("packets");

	tcase_add_checked_fixture(frames, NULL, teardown);
	tcase_add_test(frames, test_put_header);
	tcase_add_test(frames, test_every_type);
	tcase_add_test(frames, test_client_bye);
	tcase_add_test(frames, test_zero_length);
	tcase_add_test(frames, test_byte_at_a_time);
	tcase_add_test(frames, test_back_to_back);
	tcase_add_test(frames, test_length_limit);
	tcase_add_test(frames, test_bad_magic_each_position);
	tcase_add_test(frames, test_no_read_past_len);
	tcase_add_test(frames, test_unknown_types);
	tcase_add_test(frames, test_byte7_nonzero);
	tcase_add_test(frames, test_error_order);
	tcase_add_test(frames, test_strerror);
	suite_add_tcase(s, frames);

	tcase_add_checked_fixture(pkts, setup_leases, teardown);
	tcase_add_test(pkts, test_v4_good);
	tcase_add_test(pkts, test_v4_trailing_padding);
	tcase_add_test(pkts, test_v4_spoofed);
	tcase_add_test(pkts, test_v4_malformed);
	tcase_add_test(pkts, test_v4_no_lease);
	tcase_add_test(pkts, test_v6_good);
	tcase_add_test(pkts, test_v6_spoofed);
	tcase_add_test(pkts, test_v6_malformed);
	tcase_add_test(pkts, test_v6_no_lease);
	tcase_add_test(pkts, test_other_versions);
	tcase_add_test(pkts, test_pkt_dst);
	tcase_add_test(pkts, test_pkt_dst_short);
	suite_add_tcase(s, pkts);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cstp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
