/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_http: the syntax of requests, and every error class. */
#include "config.h"
#include "tests/unit/check_http.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_lf_only)
{
	const char *r = "POST /auth HTTP/1.1\n"
			"Host: h\n"
			"Content-Length: 4\n"
			"\n"
			"abcd";

	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert(str_is(req.host, "h"));
	ck_assert(str_is(req.body, "abcd"));
	ck_assert_uint_eq(req.header_len, strlen(r) - 4);

	/* Mixed endings. */
	r = "GET / HTTP/1.1\r\nHost: h\n\r\n";
	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert(str_is(req.host, "h"));
}
END_TEST

START_TEST(test_case_insensitive_names)
{
	const char *r = "POST / HTTP/1.1\r\n"
			"hOsT: h\r\n"
			"content-length: 2\r\n"
			"COOKIE: webvpn=t\r\n"
			"x-cstp-mtu: 1400\r\n"
			"X-CSTP-BASE-MTU: 1500\r\n"
			"user-agent: ua\r\n"
			"x-cstp-hostname: vm\r\n"
			"x-cstp-full-ipv6-capability: TRUE\r\n"
			"connection: CLOSE\r\n"
			"\r\n"
			"ab";

	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert(str_is(req.host, "h"));
	ck_assert_uint_eq(req.content_length, 2);
	ck_assert(str_is(req.cookie_webvpn, "t"));
	ck_assert_int_eq(req.cstp_mtu, 1400);
	ck_assert_int_eq(req.cstp_base_mtu, 1500);
	ck_assert(str_is(req.user_agent, "ua"));
	ck_assert(str_is(req.cstp_hostname, "vm"));
	ck_assert(req.full_ipv6);
	ck_assert(!req.keep_alive);
}
END_TEST

START_TEST(test_value_trimming)
{
	const char *r = "GET / HTTP/1.1\r\n"
			"Host:h\r\n"
			"User-Agent: \t a  b \t \r\n"
			"X-CSTP-Hostname:\r\n"
			"\r\n";

	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert(str_is(req.host, "h"));
	ck_assert(str_is(req.user_agent, "a  b"));
	ck_assert_ptr_nonnull(req.cstp_hostname.p);
	ck_assert_uint_eq(req.cstp_hostname.n, 0);
}
END_TEST

START_TEST(test_methods)
{
	expect_ok("GET /x?y=1 HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.method, HTTP_GET);
	ck_assert(str_is(req.path, "/x?y=1"));

	expect_ok("PUT / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.method, HTTP_OTHER);
	ck_assert(str_is(req.method_text, "PUT"));

	/* Methods are case-sensitive. */
	expect_ok("post / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.method, HTTP_OTHER);
	expect_ok("CONNECTX / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.method, HTTP_OTHER);
}
END_TEST

START_TEST(test_connect_targets)
{
	expect_ok("CONNECT CSCOSSLC/tunnel HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.method, HTTP_CONNECT);
	ck_assert(str_is(req.path, "CSCOSSLC/tunnel"));
	expect_ok("CONNECT host:443 HTTP/1.1\r\n\r\n");
	ck_assert(str_is(req.path, "host:443"));
	/* Only CONNECT may leave out the leading slash. */
	expect_error("GET CSCOSSLC/tunnel HTTP/1.1\r\n\r\n", 400);
	expect_error("POST http://h/ HTTP/1.1\r\n\r\n", 400);
	expect_error("OPTIONS * HTTP/1.1\r\n\r\n", 400);
}
END_TEST

START_TEST(test_leading_empty_lines)
{
	const char *r = "\r\n\nGET / HTTP/1.1\r\n\r\n";

	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert_int_eq(req.method, HTTP_GET);
	ck_assert_int_eq(parse("\r\n\r\n"), 0);
}
END_TEST

START_TEST(test_versions)
{
	expect_ok("GET / HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(req.minor, 0);
	expect_ok("GET / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(req.minor, 1);

	expect_error("GET / HTTP/2.0\r\n\r\n", 505);
	expect_error("GET / HTTP/1.2\r\n\r\n", 505);
	expect_error("GET / HTTP/0.9\r\n\r\n", 505);
	expect_error("GET / HTTP/1.10\r\n\r\n", 505);
	expect_error("GET / HTTP/01.1\r\n\r\n", 505);

	expect_error("GET / HTTP/2\r\n\r\n", 400);
	expect_error("GET / HTTP/1.\r\n\r\n", 400);
	expect_error("GET / HTTP/.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
	expect_error("GET / HTTP/1.1x\r\n\r\n", 400);
	expect_error("GET / http/1.1\r\n\r\n", 400);
	expect_error("GET / HTTPS/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP\r\n\r\n", 400);
	expect_error("GET /\r\n\r\n", 400);
}
END_TEST

START_TEST(test_bad_request_line)
{
	expect_error("GET\r\n\r\n", 400);
	expect_error("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_error(" GET / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /  HTTP/1.1\r\n\r\n", 400);
	expect_error("GET\t/ HTTP/1.1\r\n\r\n", 400);
	expect_error("G(T / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\r\n\r\n", 400);
	expect_error("\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\n", 400);
	expect_error("SSH-2.0-OpenSSH_9.2p1\r\n", 400);
}
END_TEST

/* A request line with a NUL in it: strlen() cannot build this one. */
START_TEST(test_nul_bytes)
{
	static const char r1[] = "GET /\0 HTTP/1.1\r\n\r\n";
	static const char r2[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	static const char r3[] = "GET / HTTP/1.1\r\nX\0: ab\r\n\r\n";

	ck_assert_int_eq(parse_n(r1, sizeof(r1) - 1), -1);
	ck_assert_int_eq(req.status, 400);
	ck_assert_int_eq(parse_n(r2, sizeof(r2) - 1), -1);
	ck_assert_int_eq(req.status, 400);
	ck_assert_int_eq(parse_n(r3, sizeof(r3) - 1), -1);
	ck_assert_int_eq(req.status, 400);
}
END_TEST

START_TEST(test_bad_headers)
{
	expect_error("GET / HTTP/1.1\r\nHost h\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400);
	ck_assert_ptr_nonnull(strstr(req.error, "folding"));
	expect_error("GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\n: h\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\rz\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: az\x1b\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	/* Tab and obs-text are fine in values. */
	expect_ok("GET / HTTP/1.1\r\nX: a\tb\xe9\r\n\r\n");
}
END_TEST

/* An error is reported as soon as the line that shows it is complete. */
START_TEST(test_early_errors)
{
	expect_error("GET / HTTP/1.1\r\nbad line\r\nHost: a", 400);
	expect_error("GET / HTTP/3.0\r\nHo", 505);
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHo", 501);
}
END_TEST

START_TEST(test_content_length_errors)
{
	expect_error("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5.0\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 0\r\ncontent-length: 00001\r\n\r\n", 400);

	/* The same value twice is one length. */
	expect_ok("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nab");
	ck_assert_uint_eq(req.content_length, 2);
}
END_TEST

START_TEST(test_transfer_encoding)
{
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
	ck_assert(req.chunked);
	expect_error("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n", 501);
	ck_assert(req.chunked);
	expect_error(
	    "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 501);
}
END_TEST

void http_syntax_tests(TCase *syntax)
{
	tcase_add_test(syntax, test_lf_only);
	tcase_add_test(syntax, test_case_insensitive_names);
	tcase_add_test(syntax, test_value_trimming);
	tcase_add_test(syntax, test_methods);
	tcase_add_test(syntax, test_connect_targets);
	tcase_add_test(syntax, test_leading_empty_lines);
	tcase_add_test(syntax, test_versions);
	tcase_add_test(syntax, test_bad_request_line);
	tcase_add_test(syntax, test_nul_bytes);
	tcase_add_test(syntax, test_bad_headers);
	tcase_add_test(syntax, test_early_errors);
	tcase_add_test(syntax, test_content_length_errors);
	tcase_add_test(syntax, test_transfer_encoding);
}
