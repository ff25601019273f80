/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the PROXY protocol header (common/proxyproto.c): versions 1
 * and 2 as HAProxy writes them, every prefix of a good header asking for
 * more, and the malformed, foreign and oversized ones refused. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/proxyproto.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static long parse(const void *b, size_t n, struct proxy_hdr *h)
{
	const char *why;
	long r = proxy_parse(b, n, h, &why);

	ck_assert(r >= 0 || why != NULL);
	return r;
}

/* Every proper prefix of a good header asks for more. */
static void prefixes_wait(const uint8_t *b, size_t n)
{
	struct proxy_hdr h;

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(parse(b, i, &h) == 0, "prefix of %zu bytes: not 0", i);
}

START_TEST(test_v1)
{
	static const char l4[] = "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443\r\n";
	static const char l6[] = "PROXY TCP6 fd00::10 fd00:4::11 65535 0\r\n";
	static const char unk[] = "PROXY UNKNOWN ffff:f...f:ffff 1 2\r\n";
	uint8_t buf[256];
	struct proxy_hdr h;
	struct in_addr a;

	/* The TLS bytes that follow are not the header's. */
	snprintf((char *)buf, sizeof(buf), "%s\x16\x03\x01", l4);
	ck_assert_int_eq(parse(buf, strlen((char *)buf), &h), (long)strlen(l4));
	ck_assert_uint_eq(h.version, 1);
	ck_assert_int_eq(h.family, AF_INET);
	inet_pton(AF_INET, "198.18.0.10", &a);
	ck_assert_mem_eq(h.src, &a, 4);
	ck_assert_uint_eq(h.sport, 40000);
	ck_assert_uint_eq(h.dport, 4443);
	prefixes_wait((const uint8_t *)l4, strlen(l4));

	ck_assert_int_eq(parse(l6, strlen(l6), &h), (long)strlen(l6));
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_uint_eq(h.src[0], 0xfd);
	ck_assert_uint_eq(h.src[15], 0x10);
	ck_assert_uint_eq(h.sport, 65535);
	ck_assert_uint_eq(h.dport, 0);

	ck_assert_int_eq(parse(unk, strlen(unk), &h), (long)strlen(unk));
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_int_eq(parse("PROXY UNKNOWN\r\n", 15, &h), 15);
}
END_TEST

START_TEST(test_v1_bad)
{
	static const char *const bad[] = {
	    "GET / HTTP/1.1\r\n",
	    "\x16\x03\x01\x02\x00\x01",
	    "PROXY TCP5 198.18.0.10 198.18.4.11 40000 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443\rX",
	    "PROXY TCP4 198.18.0.10  198.18.4.11 40000 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 40000\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443 \r\n",
	    "PROXY TCP4 fd00::10 198.18.4.11 40000 4443\r\n",
	    "PROXY TCP6 198.18.0.10 fd00::1 40000 4443\r\n",
	    "PROXY TCP4 198.18.0.256 198.18.4.11 40000 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 65536 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 04000 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 -1 4443\r\n",
	    "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443x\r\n",
	    "PROXY\tTCP4 198.18.0.10 198.18.4.11 40000 4443\r\n",
	    "proxy TCP4 198.18.0.10 198.18.4.11 40000 4443\r\n",
	    "PROXY UNKNOWNX\r\n",
	};
	char longl[200];
	struct proxy_hdr h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], strlen(bad[i]), &h) == -EBADMSG, "accepted: %s",
			      bad[i]);
	/* No CRLF within 107 bytes: refused as soon as 107 bytes are in. */
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(parse(longl, 106, &h), 0);
	ck_assert_int_eq(parse(longl, 107, &h), -EBADMSG);
	/* 107 bytes with the CRLF is the longest line. */
	longl[105] = '\r';
	longl[106] = '\n';
	ck_assert_int_eq(parse(longl, 107, &h), 107);
	longl[105] = 'a';
	longl[106] = '\r';
	longl[107] = '\n';
	ck_assert_int_eq(parse(longl, 108, &h), -EBADMSG);
}
END_TEST

/* A version 2 header: command, family/protocol, address block and extra
 * bytes (TLVs). */
static size_t v2(uint8_t *b, uint8_t cmd, uint8_t fam, size_t addrs, size_t extra)
{
	size_t len = addrs + extra;

	memcpy(b, sig, 12);
	b[12] = cmd;
	b[13] = fam;
	b[14] = (uint8_t)(len >> 8);
	b[15] = (uint8_t)len;
	for (size_t i = 0; i < len; i++)
		b[16 + i] = (uint8_t)(i + 1);
	return 16 + len;
}

START_TEST(test_v2)
{
	uint8_t b[2048];
	struct proxy_hdr h;
	size_t n;

	/* IPv4: 198.18.0.10:40000 -> 198.18.4.11:4443, as HAProxy sends it. */
	n = v2(b, 0x21, 0x11, 12, 0);
	memcpy(b + 16, (const uint8_t[]){198, 18, 0, 10, 198, 18, 4, 11, 0x9c, 0x40, 0x11, 0x5b},
	       12);
	b[n] = 0x16; /* TLS follows */
	ck_assert_int_eq(parse(b, n + 1, &h), (long)n);
	ck_assert_uint_eq(h.version, 2);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_uint_eq(h.src[3], 10);
	ck_assert_uint_eq(h.dst[3], 11);
	ck_assert_uint_eq(h.sport, 40000);
	ck_assert_uint_eq(h.dport, 4443);
	prefixes_wait(b, n);

	/* IPv6 with TLVs after the addresses: skipped. */
	n = v2(b, 0x21, 0x21, 36, 40);
	ck_assert_int_eq(parse(b, n, &h), (long)n);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_uint_eq(h.src[0], 1);
	ck_assert_uint_eq(h.dst[0], 17);
	ck_assert_uint_eq(h.sport, 33 << 8 | 34);
	prefixes_wait(b, n);

	/* LOCAL (a health check): the connection's own addresses. */
	n = v2(b, 0x20, 0x00, 0, 0);
	ck_assert_int_eq(parse(b, n, &h), 16);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	n = v2(b, 0x20, 0x11, 12, 0);
	ck_assert_int_eq(parse(b, n, &h), (long)n);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	/* PROXY with an unspecified or UNIX family: the same. */
	n = v2(b, 0x21, 0x00, 0, 0);
	ck_assert_int_eq(parse(b, n, &h), 16);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	n = v2(b, 0x21, 0x31, 216, 0);
	ck_assert_int_eq(parse(b, n, &h), (long)n);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	/* The longest header accepted. */
	n = v2(b, 0x21, 0x11, 12, PROXY_MAX - 16 - 12);
	ck_assert_int_eq(parse(b, n, &h), PROXY_MAX);
}
END_TEST

START_TEST(test_v2_bad)
{
	uint8_t b[2048];
	struct proxy_hdr h;
	size_t n;

	n = v2(b, 0x11, 0x11, 12, 0); /* version 1 in a v2 header */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x22, 0x11, 12, 0); /* command 2 */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x21, 0x12, 12, 0); /* UDP */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x21, 0x41, 12, 0); /* family 4 */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x21, 0x13, 12, 0); /* protocol 3 */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x21, 0x11, 11, 0); /* IPv4 block cut short */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	n = v2(b, 0x21, 0x21, 35, 0); /* IPv6 block cut short */
	ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	/* Too long: refused from its 16 bytes on, before the rest comes. */
	v2(b, 0x21, 0x11, 12, PROXY_MAX - 16 - 11);
	ck_assert_int_eq(parse(b, 16, &h), -EBADMSG);
	b[14] = b[15] = 0xff;
	ck_assert_int_eq(parse(b, 16, &h), -EBADMSG);
	/* A broken signature, at any of its bytes. */
	for (size_t i = 0; i < 12; i++) {
		n = v2(b, 0x21, 0x11, 12, 0);
		b[i] ^= 0x40;
		ck_assert_int_eq(parse(b, i + 1, &h), -EBADMSG);
		ck_assert_int_eq(parse(b, n, &h), -EBADMSG);
	}
	ck_assert_int_eq(parse(b, 0, &h), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_v1);
	tcase_add_test(tc, test_v1_bad);
	tcase_add_test(tc, test_v2);
	tcase_add_test(tc, test_v2_bad);
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
