/* Unit tests for common/http.c, run by `make check`: the stock client's
 * requests (PROTOCOL.md 2.2, 2.5, 3), partial input, limits and every
 * error class.  Inputs live in exact-size heap copies with no NUL after
 * them, so an over-read shows up under valgrind or ASan. */
#include "config.h"
#include "tests/unit/check_http.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT_BODY                                                                                  \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\"><version "         \
	"who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id><capabilities><auth-"         \
	"method>single-sign-on-v2</auth-method><auth-method>single-sign-on-external-browser</"     \
	"auth-method></capabilities><group-access>https://127.0.0.1:4443/</group-access></"        \
	"config-auth>\n"

/* PROTOCOL.md 2.2, with the placeholders filled in. */
#define INIT_HEAD                                                                                  \
	"POST / HTTP/1.1\r\n"                                                                      \
	"Host: 127.0.0.1:4443\r\n"                                                                 \
	"User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"                                        \
	"Accept: */*\r\n"                                                                          \
	"Accept-Encoding: identity\r\n"                                                            \
	"X-Transcend-Version: 1\r\n"                                                               \
	"X-Aggregate-Auth: 1\r\n"                                                                  \
	"X-Support-HTTP-Auth: true\r\n"                                                            \
	"X-AnyConnect-STRAP-Pubkey: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\r\n"                      \
	"X-AnyConnect-STRAP-DH-Pubkey: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAF\r\n"                   \
	"X-Pad: 000000000000000\r\n"                                                               \
	"Content-Type: application/xml; charset=utf-8\r\n"                                         \
	"Content-Length: 369\r\n"                                                                  \
	"\r\n"
#define INIT_REQ INIT_HEAD INIT_BODY

/* PROTOCOL.md 2.5: same headers plus the cookies set so far. */
#define REPLY_BODY                                                                                 \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\"><version "   \
	"who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id><auth><username>testuser</"   \
	"username><password>test123</password></auth></config-auth>\n"
#define REPLY_REQ                                                                                  \
	"POST /auth HTTP/1.1\r\n"                                                                  \
	"Host: 127.0.0.1:4443\r\n"                                                                 \
	"User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"                                        \
	"Accept: */*\r\n"                                                                          \
	"Accept-Encoding: identity\r\n"                                                            \
	"X-Transcend-Version: 1\r\n"                                                               \
	"X-Aggregate-Auth: 1\r\n"                                                                  \
	"X-Support-HTTP-Auth: true\r\n"                                                            \
	"X-Pad: 0000000\r\n"                                                                       \
	"Cookie: webvpncontext=ctx1; webvpn=tok-en_1\r\n"                                          \
	"Content-Type: application/xml; charset=utf-8\r\n"                                         \
	"Content-Length: 262\r\n"                                                                  \
	"\r\n" REPLY_BODY

/* PROTOCOL.md 3. */
#define CONNECT_REQ                                                                                \
	"CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"                                                    \
	"Host: 127.0.0.1:4443\r\n"                                                                 \
	"User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"                                        \
	"Cookie: webvpn=Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg\r\n"                           \
	"X-CSTP-Version: 1\r\n"                                                                    \
	"X-CSTP-Hostname: vm\r\n"                                                                  \
	"X-AnyConnect-STRAP-Verify: c2lnbmF0dXJl\r\n"                                              \
	"X-AnyConnect-STRAP-Pubkey: cHVia2V5\r\n"                                                  \
	"X-CSTP-Accept-Encoding: oc-lz4,lzs\r\n"                                                   \
	"X-CSTP-Base-MTU: 65535\r\n"                                                               \
	"X-CSTP-MTU: 65425\r\n"                                                                    \
	"X-CSTP-Address-Type: IPv6,IPv4\r\n"                                                       \
	"X-CSTP-Full-IPv6-Capability: true\r\n"                                                    \
	"X-DTLS-Master-Secret: "                                                                   \
	"D185CE0011223344556677889900AABBCCDDEEFF00112233445566778899AABBCCDDEEFF0011223344556677" \
	"8899AABB"                                                                                 \
	"\r\n"                                                                                     \
	"X-DTLS-CipherSuite: "                                                                     \
	"PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:OC2-DTLS1_2-CHACHA20-POLY1305:OC-DTLS1_2-AES128-GCM:" \
	"DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA\r\n"                          \
	"X-DTLS12-CipherSuite: "                                                                   \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-"    \
	"SHA256:DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA\r\n"                   \
	"X-DTLS-Accept-Encoding: oc-lz4,lzs\r\n"                                                   \
	"\r\n"

struct http_limits lim;
struct http_req req;
char *heap_copy;

void setup(void)
{
	http_limits_default(&lim);
	memset(&req, 0, sizeof(req));
}

void teardown(void)
{
	free(heap_copy);
	heap_copy = NULL;
}

/* Parses a copy of text[0..n) in a buffer of exactly n bytes; the copy
 * stays alive so that req's pointers into it can be checked. */
long parse_n(const char *text, size_t n)
{
	free(heap_copy);
	heap_copy = malloc(n > 0 ? n : 1);
	ck_assert_ptr_nonnull(heap_copy);
	memcpy(heap_copy, text, n);
	return http_parse(heap_copy, n, &lim, &req);
}

long parse(const char *text)
{
	return parse_n(text, strlen(text));
}

bool str_is(struct http_str s, const char *lit)
{
	return s.p != NULL && s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

void expect_ok(const char *text)
{
	long r = parse(text);

	ck_assert_msg(r == (long)strlen(text), "expected %zu for \"%s\", got %ld (status %d)",
		      strlen(text), text, r, req.status);
}

void expect_error(const char *text, int status)
{
	long r = parse(text);

	ck_assert_msg(r == -1, "expected -1 for \"%s\", got %ld", text, r);
	ck_assert_msg(req.status == status, "expected %d for \"%s\", got %d", status, text,
		      req.status);
	ck_assert_ptr_nonnull(req.error);
}

START_TEST(test_init_post)
{
	size_t n = strlen(INIT_REQ);

	ck_assert_uint_eq(strlen(INIT_BODY), 369);
	ck_assert_int_eq(parse(INIT_REQ), (long)n);
	ck_assert_int_eq(req.method, HTTP_POST);
	ck_assert(str_is(req.method_text, "POST"));
	ck_assert(str_is(req.path, "/"));
	ck_assert_int_eq(req.minor, 1);
	ck_assert(req.keep_alive);
	ck_assert(req.has_length);
	ck_assert_uint_eq(req.content_length, 369);
	ck_assert(!req.chunked);
	ck_assert(str_is(req.host, "127.0.0.1:4443"));
	ck_assert(str_is(req.user_agent, "Open AnyConnect VPN Agent v9.01-3"));
	ck_assert_ptr_null(req.cookie_webvpn.p);
	ck_assert_uint_eq(req.cookie_webvpn.n, 0);
	ck_assert_ptr_null(req.cstp_hostname.p);
	ck_assert_int_eq(req.cstp_mtu, 0);
	ck_assert_uint_eq(req.header_len, strlen(INIT_HEAD));
	ck_assert_ptr_eq(req.body.p, heap_copy + strlen(INIT_HEAD));
	ck_assert(str_is(req.body, INIT_BODY));
	ck_assert_ptr_eq(req.path.p, heap_copy + 5);
}
END_TEST

START_TEST(test_auth_reply_post)
{
	ck_assert_int_eq(parse(REPLY_REQ), (long)strlen(REPLY_REQ));
	ck_assert_int_eq(req.method, HTTP_POST);
	ck_assert(str_is(req.path, "/auth"));
	ck_assert(str_is(req.cookie_webvpn, "tok-en_1"));
	ck_assert(str_is(req.body, REPLY_BODY));
}
END_TEST

START_TEST(test_connect)
{
	ck_assert_int_eq(parse(CONNECT_REQ), (long)strlen(CONNECT_REQ));
	ck_assert_int_eq(req.method, HTTP_CONNECT);
	ck_assert(str_is(req.method_text, "CONNECT"));
	ck_assert(str_is(req.path, "/CSCOSSLC/tunnel"));
	ck_assert(str_is(req.cookie_webvpn, "Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg"));
	ck_assert(str_is(req.cstp_hostname, "vm"));
	ck_assert(str_is(req.cstp_address_type, "IPv6,IPv4"));
	ck_assert_ptr_null(req.cstp_address.p);
	ck_assert_int_eq(req.cstp_base_mtu, 65535);
	ck_assert_int_eq(req.cstp_mtu, 65425);
	ck_assert(req.full_ipv6);
	ck_assert(req.keep_alive);
	ck_assert(!req.has_length);
	ck_assert_ptr_null(req.body.p);
	ck_assert_uint_eq(req.header_len, strlen(CONNECT_REQ));
	/* What the DTLS channel needs (worker/dtls.c). */
	ck_assert_uint_eq(req.dtls_master.n, 96);
	ck_assert(!strncmp(req.dtls_suites.p, "PSK-NEGOTIATE:", 14));
	ck_assert(!strncmp(req.dtls12_suites.p, "ECDHE-RSA-AES256-GCM-SHA384:", 28));
}
END_TEST

/* The reconnect CONNECT: DTLS headers gone, X-CSTP-Address hints at the
 * old lease, the legacy IPv6 one second. */
START_TEST(test_connect_reconnect)
{
	const char *r = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"
			"Host: vpn.example.com\r\n"
			"Cookie: webvpn=abc\r\n"
			"X-CSTP-Version: 1\r\n"
			"X-CSTP-Address: 10.251.0.2\r\n"
			"X-CSTP-Address: fd00::2\r\n"
			"X-CSTP-Address-Type: IPv4\r\n"
			"\r\n";

	ck_assert_int_eq(parse(r), (long)strlen(r));
	ck_assert(str_is(req.cstp_address, "10.251.0.2"));
	ck_assert(str_is(req.cstp_address_type, "IPv4"));
	ck_assert(!req.full_ipv6);
	ck_assert_int_eq(req.cstp_base_mtu, 0);
}
END_TEST

/* Every proper prefix is "need more"; the whole is its length.  Each
 * prefix is tried twice: alone in an exact-size copy, and at the start of
 * the whole text, where reading past len would find the rest. */
static void check_byte_by_byte(const char *text)
{
	size_t n = strlen(text), i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(parse_n(text, i) == 0, "prefix of %zu bytes of %zu", i, n);
		ck_assert_msg(http_parse(text, i, &lim, &req) == 0, "in place: %zu of %zu", i, n);
	}
	ck_assert_int_eq(parse_n(text, n), (long)n);
}

START_TEST(test_byte_by_byte)
{
	check_byte_by_byte(INIT_REQ);
	check_byte_by_byte(REPLY_REQ);
	check_byte_by_byte(CONNECT_REQ);
	check_byte_by_byte("GET / HTTP/1.0\n\n");
}
END_TEST

/* Feeds text one byte at a time to one parser, as a client sending 1-byte
 * TLS records makes the worker do: every call but the last asks for more,
 * the last gives the request, parsed as in one piece.  Returns the
 * parser's work (bytes looked at). */
static size_t feed_bytewise(const char *text, size_t n)
{
	struct http_parser p;
	struct http_req whole;
	char *buf = malloc(n);
	size_t i;
	long r = 0;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, text, n);
	http_parser_init(&p);
	for (i = 1; i <= n && r == 0; i++)
		r = http_parse_more(&p, buf, i, &lim, &req);
	ck_assert_int_eq(r, (long)n);
	ck_assert_uint_eq(i - 1, n);
	ck_assert_int_eq(http_parse(buf, n, &lim, &whole), (long)n);
	ck_assert_uint_eq(req.header_len, whole.header_len);
	ck_assert_int_eq(req.method, whole.method);
	ck_assert_uint_eq(req.content_length, whole.content_length);
	ck_assert(req.keep_alive == whole.keep_alive);
	ck_assert_ptr_eq(req.body.p, whole.body.p);
	ck_assert_ptr_eq(req.cookie_webvpn.p, whole.cookie_webvpn.p);
	ck_assert_uint_eq(req.cookie_webvpn.n, whole.cookie_webvpn.n);
	free(buf);
	return p.work;
}

/* SECURITY-REVIEW #11: a header of about 7 KB sent one byte per record
 * costs O(total bytes), not a rescan of the header per byte (24 million
 * bytes looked at before: n^2/2). */
START_TEST(test_bytewise_cost_linear)
{
	static char r[9000];
	size_t n, work;

	/* Many short header lines. */
	lim.max_headers = 400;
	n = (size_t)snprintf(r, sizeof(r), "POST /auth HTTP/1.1\r\nContent-Length: 5\r\n");
	while (n < 7000)
		n += (size_t)snprintf(r + n, sizeof(r) - n, "X-Pad-%04zu: %s\r\n", n,
				      "0123456789012345678901234567890123456789");
	n += (size_t)snprintf(r + n, sizeof(r) - n, "\r\nhello");
	work = feed_bytewise(r, n);
	ck_assert_msg(work <= 3 * n, "%zu bytes looked at for a %zu-byte request", work, n);

	/* One long header line, and a body. */
	build_header_of_size(r, 7000);
	work = feed_bytewise(r, 7000);
	ck_assert_msg(work <= 3 * 7000, "%zu bytes looked at for a 7000-byte header", work);

	/* The stock client's requests. */
	ck_assert_uint_le(feed_bytewise(INIT_REQ, strlen(INIT_REQ)), 3 * strlen(INIT_REQ));
	ck_assert_uint_le(feed_bytewise(CONNECT_REQ, strlen(CONNECT_REQ)), 3 * strlen(CONNECT_REQ));
}
END_TEST

/* Incremental parsing reports an error when the line showing it is
 * complete, and a limit as soon as it is passed. */
START_TEST(test_incremental_errors)
{
	static const char bad[] = "GET / HTTP/1.1\r\nbad line\r\nHost: a\r\n\r\n";
	static const char body[] = "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
	static char big[9000];
	struct http_parser p;
	size_t i;
	long r = 0;

	http_parser_init(&p);
	for (i = 1; i <= strlen(bad) && r == 0; i++)
		r = http_parse_more(&p, bad, i, &lim, &req);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(req.status, 400);
	ck_assert_uint_eq(i - 1, strlen("GET / HTTP/1.1\r\nbad line\r\n"));

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	http_parser_init(&p);
	for (i = 1, r = 0; i <= sizeof(big) && r == 0; i++)
		r = http_parse_more(&p, big, i, &lim, &req);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(req.status, 431);
	ck_assert_uint_eq(i - 1, lim.max_header + 1);
	ck_assert_uint_le(p.work, 3 * lim.max_header);

	/* A body over the limit: 413 at the end of the header. */
	lim.max_body = 10;
	http_parser_init(&p);
	ck_assert_int_eq(http_parse_more(&p, body, strlen(body) - 2, &lim, &req), 0);
	ck_assert_int_eq(http_parse_more(&p, body, strlen(body), &lim, &req), -1);
	ck_assert_int_eq(req.status, 413);
}
END_TEST

START_TEST(test_pipelined)
{
	const char *two = INIT_REQ CONNECT_REQ;
	size_t first = strlen(INIT_REQ);

	ck_assert_int_eq(parse(two), (long)first);
	ck_assert_int_eq(req.method, HTTP_POST);
	ck_assert(str_is(req.body, INIT_BODY));
	ck_assert_int_eq(parse(two + first), (long)strlen(CONNECT_REQ));
	ck_assert_int_eq(req.method, HTTP_CONNECT);
	/* Body complete but the next request only begun. */
	ck_assert_int_eq(parse_n(two, first + 3), (long)first);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *proto = tcase_create("client requests");
	TCase *syntax = tcase_create("syntax");
	TCase *limits = tcase_create("limits");
	TCase *fields = tcase_create("fields");

	tcase_add_checked_fixture(proto, setup, teardown);
	tcase_add_test(proto, test_init_post);
	tcase_add_test(proto, test_auth_reply_post);
	tcase_add_test(proto, test_connect);
	tcase_add_test(proto, test_connect_reconnect);
	tcase_add_test(proto, test_byte_by_byte);
	tcase_add_test(proto, test_pipelined);
	tcase_add_test(proto, test_bytewise_cost_linear);
	tcase_add_test(proto, test_incremental_errors);
	suite_add_tcase(s, proto);

	tcase_add_checked_fixture(syntax, setup, teardown);
	http_syntax_tests(syntax);
	suite_add_tcase(s, syntax);

	tcase_add_checked_fixture(limits, setup, teardown);
	http_limits_tests(limits);
	suite_add_tcase(s, limits);

	tcase_add_checked_fixture(fields, setup, teardown);
	http_fields_tests(fields);
	suite_add_tcase(s, fields);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
