/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_http: bodies and the limits of a request, and the fields the
 * parser takes out of the headers. */
#include "config.h"
#include "tests/unit/check_http.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_body)
{
	const char *r = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
	size_t n = strlen(r);

	ck_assert_int_eq(parse_n(r, n - 5), 0);
	ck_assert_int_eq(parse_n(r, n - 1), 0);
	ck_assert_int_eq(parse_n(r, n), (long)n);
	ck_assert(str_is(req.body, "hello"));

	expect_ok("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	ck_assert(req.has_length);
	ck_assert_uint_eq(req.body.n, 0);
}
END_TEST

START_TEST(test_body_limit)
{
	char r[256];

	lim.max_body = 10;
	snprintf(r, sizeof(r), "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
	ck_assert_int_eq(parse(r), (long)strlen(r));

	/* Refused before the body arrives. */
	expect_error("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413);
	/* Saturates rather than wrapping around to a small number. */
	expect_error("POST / HTTP/1.1\r\nContent-Length: 18446744073709551617\r\n\r\n", 413);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999999\r\n\r\n",
		     413);
}
END_TEST

void build_header_of_size(char *out, size_t size)
{
	/* "GET / HTTP/1.1\r\n" + "X: " + filler + "\r\n" + "\r\n" */
	size_t fixed = 16 + 3 + 2 + 2;

	ck_assert_uint_ge(size, fixed);
	strcpy(out, "GET / HTTP/1.1\r\nX: ");
	memset(out + 19, 'a', size - fixed);
	strcpy(out + 19 + (size - fixed), "\r\n\r\n");
	ck_assert_uint_eq(strlen(out), size);
}

START_TEST(test_header_limit)
{
	static char r[9000];

	build_header_of_size(r, lim.max_header);
	ck_assert_int_eq(parse(r), (long)lim.max_header);

	build_header_of_size(r, lim.max_header + 1);
	expect_error(r, 431);

	/* No end in sight: wait while within the limit, refuse past it. */
	memset(r, 'a', sizeof(r));
	memcpy(r, "GET / HTTP/1.1\r\nX: ", 19);
	ck_assert_int_eq(parse_n(r, lim.max_header), 0);
	ck_assert_int_eq(parse_n(r, lim.max_header + 1), -1);
	ck_assert_int_eq(req.status, 431);
	/* Even without a single line break. */
	memset(r, 'A', sizeof(r));
	ck_assert_int_eq(parse_n(r, lim.max_header), 0);
	ck_assert_int_eq(parse_n(r, sizeof(r)), -1);
	ck_assert_int_eq(req.status, 431);

	/* A smaller configured limit. */
	lim.max_header = 20;
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nA:b\r\n"), -1);
	ck_assert_int_eq(req.status, 431);
	expect_ok("GET / HTTP/1.1\r\n\r\n");
}
END_TEST

START_TEST(test_header_count_limit)
{
	lim.max_headers = 3;
	expect_ok("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
	expect_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431);
	lim.max_headers = 0;
	expect_error("GET / HTTP/1.1\r\nA: 1\r\n\r\n", 431);
}
END_TEST

static void check_cookie(const char *cookie_lines, const char *want)
{
	char r[512];

	snprintf(r, sizeof(r), "GET / HTTP/1.1\r\n%s\r\n", cookie_lines);
	ck_assert_int_eq(parse(r), (long)strlen(r));
	if (want == NULL)
		ck_assert_msg(req.cookie_webvpn.p == NULL, "no webvpn cookie in %s", cookie_lines);
	else
		ck_assert_msg(str_is(req.cookie_webvpn, want), "webvpn=%s in %s", want,
			      cookie_lines);
}

START_TEST(test_cookies)
{
	check_cookie("Cookie: webvpn=XYZ\r\n", "XYZ");
	check_cookie("Cookie: a=b; webvpn=XYZ; c=d\r\n", "XYZ");
	check_cookie("Cookie: a=b;webvpn=XYZ;c=d\r\n", "XYZ");
	check_cookie("Cookie: a=b; webvpn=XYZ\r\n", "XYZ");
	check_cookie("Cookie: webvpn = XYZ ;c=d\r\n", "XYZ");
	check_cookie("Cookie: webvpn=a=b==\r\n", "a=b==");
	check_cookie("Cookie: a=b\r\nCookie: webvpn=XYZ\r\n", "XYZ");
	check_cookie("Cookie: webvpn=first\r\nCookie: webvpn=second\r\n", "first");
	check_cookie("Cookie: webvpn=first; webvpn=second\r\n", "first");
	check_cookie("Cookie: xwebvpn=1; webvpn=2\r\n", "2");
	check_cookie("Cookie: webvpncontext=1; webvpnc=2; webvpn=3\r\n", "3");
	check_cookie("Cookie: webvpn=\r\n", "");
	check_cookie("Cookie: ;;; webvpn=XYZ;;\r\n", "XYZ");
	check_cookie("Cookie: webvpnx=1\r\n", NULL);
	check_cookie("Cookie: WEBVPN=1\r\n", NULL);
	check_cookie("Cookie: webvpn\r\n", NULL);
	check_cookie("Cookie: a=webvpn=1\r\n", NULL);
	check_cookie("Cookie:\r\n", NULL);
	check_cookie("Set-Cookie: webvpn=1\r\n", NULL);
	check_cookie("X-Cookie: webvpn=1\r\n", NULL);
}
END_TEST

static bool keep_alive_of(const char *version, const char *headers)
{
	char r[256];

	snprintf(r, sizeof(r), "GET / %s\r\n%s\r\n", version, headers);
	ck_assert_int_eq(parse(r), (long)strlen(r));
	return req.keep_alive;
}

START_TEST(test_keep_alive)
{
	ck_assert(keep_alive_of("HTTP/1.1", ""));
	ck_assert(!keep_alive_of("HTTP/1.1", "Connection: close\r\n"));
	ck_assert(!keep_alive_of("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n"));
	ck_assert(!keep_alive_of("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n"));
	ck_assert(keep_alive_of("HTTP/1.1", "Connection: keep-alive\r\n"));
	ck_assert(keep_alive_of("HTTP/1.1", "Connection: closed\r\n"));

	ck_assert(!keep_alive_of("HTTP/1.0", ""));
	ck_assert(keep_alive_of("HTTP/1.0", "Connection: keep-alive\r\n"));
	ck_assert(keep_alive_of("HTTP/1.0", "Connection: Upgrade , Keep-Alive\r\n"));
	ck_assert(!keep_alive_of("HTTP/1.0", "Connection: keep-alive, close\r\n"));
	ck_assert(!keep_alive_of("HTTP/1.0", "Connection: keep-alive-ish\r\n"));
}
END_TEST

static long mtu_of(const char *value)
{
	char r[256];

	snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nX-CSTP-MTU: %s\r\n\r\n", value);
	ck_assert_int_eq(parse(r), (long)strlen(r));
	return req.cstp_mtu;
}

START_TEST(test_numeric_headers)
{
	ck_assert_int_eq(mtu_of("1400"), 1400);
	ck_assert_int_eq(mtu_of("  1400  "), 1400);
	ck_assert_int_eq(mtu_of("0001280"), 1280);
	ck_assert_int_eq(mtu_of("1000000000"), 1000000000L);
	ck_assert_int_eq(mtu_of("1000000001"), 0);
	ck_assert_int_eq(mtu_of("99999999999999999999999999"), 0);
	ck_assert_int_eq(mtu_of("18446744073709551616"), 0);
	ck_assert_int_eq(mtu_of("-5"), 0);
	ck_assert_int_eq(mtu_of("+5"), 0);
	ck_assert_int_eq(mtu_of("14 00"), 0);
	ck_assert_int_eq(mtu_of("1400x"), 0);
	ck_assert_int_eq(mtu_of("none"), 0);
	ck_assert_int_eq(mtu_of(""), 0);
}
END_TEST

START_TEST(test_full_ipv6)
{
	expect_ok("GET / HTTP/1.1\r\nX-CSTP-Full-IPv6-Capability: false\r\n\r\n");
	ck_assert(!req.full_ipv6);
	expect_ok("GET / HTTP/1.1\r\nX-CSTP-Full-IPv6-Capability: truest\r\n\r\n");
	ck_assert(!req.full_ipv6);
}
END_TEST

void http_limits_tests(TCase *limits)
{
	tcase_add_test(limits, test_body);
	tcase_add_test(limits, test_body_limit);
	tcase_add_test(limits, test_header_limit);
	tcase_add_test(limits, test_header_count_limit);
}

void http_fields_tests(TCase *fields)
{
	tcase_add_test(fields, test_cookies);
	tcase_add_test(fields, test_keep_alive);
	tcase_add_test(fields, test_numeric_headers);
	tcase_add_test(fields, test_full_ipv6);
}
