/* Unit tests for common/http.c, run by `make check`: the stock client's
 * requests (PROTOCOL.md 2.2, 2.5, 3), partial input, limits and every
 * error class.  Inputs live in exact-size heap copies with no NUL after
 * them, so an over-read shows up under valgrind or ASan. */
#include "config.h"
#include "common/http.h"

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

static struct http_limits lim;
static struct http_req req;
static char *heap_copy;

static void setup(void)
{
	http_limits_default(&lim);
	memset(&req, 0, sizeof(req));
}

static void teardown(void)
{
	free(heap_copy);
	heap_copy = NULL;
}

/* Parses a copy of text[0..n) in a buffer of exactly n bytes; the copy
 * stays alive so that req's pointers into it can be checked. */
static long parse_n(const char *text, size_t n)
{
	free(heap_copy);
	heap_copy = malloc(n > 0 ? n : 1);
	ck_assert_ptr_nonnull(heap_copy);
	memcpy(heap_copy, text, n);
	return http_parse(heap_copy, n, &lim, &req);
}

static long parse(const char *text)
{
	return parse_n(text, strlen(text));
}

static bool str_is(struct http_str s, const char *lit)
{
	return s.p != NULL && s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static void expect_ok(const char *text)
{
	long r = parse(text);

	ck_assert_msg(r == (long)strlen(text), "expected %zu for \"%s\", got %ld (status %d)",
		      strlen(text), text, r, req.status);
}

static void expect_error(const char *text, int status)
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

static void build_header_of_size(char *out, size_t size);

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

static void build_header_of_size(char *out, size_t size)
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
	suite_add_tcase(s, syntax);

	tcase_add_checked_fixture(limits, setup, teardown);
	tcase_add_test(limits, test_body);
	tcase_add_test(limits, test_body_limit);
	tcase_add_test(limits, test_header_limit);
	tcase_add_test(limits, test_header_count_limit);
	suite_add_tcase(s, limits);

	tcase_add_checked_fixture(fields, setup, teardown);
	tcase_add_test(fields, test_cookies);
	tcase_add_test(fields, test_keep_alive);
	tcase_add_test(fields, test_numeric_headers);
	tcase_add_test(fields, test_full_ipv6);
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
