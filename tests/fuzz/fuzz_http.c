/* libFuzzer harness for common/http.c (http_parse), which the worker runs
 * on decrypted bytes from any client.  Checks, for every input and both
 * the default and tight limits: the result is -1, 0 or a length within
 * the input; errors carry a status and a reason; every string field and
 * the body point inside the request; and parsing is incremental: every
 * shorter prefix of a complete request asks for more bytes, the request
 * alone parses to the same length, and the same bytes given in pieces to
 * http_parse_more() read the same at a linear cost. */
#include "config.h"
#include "common/http.h"

#include <string.h>

#include "tests/fuzz/fuzz.h"

static void check_str(const struct http_str *s, const char *buf, size_t len)
{
	if (s->p == NULL)
		FUZZ_ASSERT(s->n == 0);
	else
		FUZZ_ASSERT(FUZZ_INSIDE(s->p, s->n, buf, len));
}

static void check_complete(const char *buf, long r, const struct http_limits *lim,
			   const struct http_req *req)
{
	size_t hl = req->header_len;

	FUZZ_ASSERT(hl > 0 && hl <= (size_t)r && hl <= lim->max_header);
	FUZZ_ASSERT(req->minor == 0 || req->minor == 1);
	check_str(&req->method_text, buf, hl);
	check_str(&req->path, buf, hl);
	check_str(&req->cookie_webvpn, buf, hl);
	check_str(&req->host, buf, hl);
	check_str(&req->user_agent, buf, hl);
	check_str(&req->cstp_hostname, buf, hl);
	check_str(&req->cstp_address_type, buf, hl);
	check_str(&req->cstp_address, buf, hl);
	FUZZ_ASSERT(req->method_text.n > 0 && req->path.n > 0);
	FUZZ_ASSERT((req->method == HTTP_GET) ==
		    (req->method_text.n == 3 && memcmp(req->method_text.p, "GET", 3) == 0));
	FUZZ_ASSERT((req->method == HTTP_CONNECT) ==
		    (req->method_text.n == 7 && memcmp(req->method_text.p, "CONNECT", 7) == 0));
	FUZZ_ASSERT(req->cstp_mtu >= 0 && req->cstp_mtu <= 1000000000L);
	FUZZ_ASSERT(req->cstp_base_mtu >= 0 && req->cstp_base_mtu <= 1000000000L);
	FUZZ_ASSERT(!req->chunked);
	if (req->has_length) {
		FUZZ_ASSERT(req->content_length <= lim->max_body);
		FUZZ_ASSERT((size_t)r == hl + req->content_length);
		FUZZ_ASSERT(req->body.p == buf + hl && req->body.n == req->content_length);
	} else {
		FUZZ_ASSERT((size_t)r == hl && req->body.p == NULL && req->body.n == 0);
	}
}

/* The same bytes in pieces to one parser (http_parse_more), as records
 * arrive: the first answer that is not "more" is what http_parse() says
 * of the same prefix, and no byte is looked at more than twice. */
static void run_pieces(const char *buf, size_t len, const struct http_limits *lim)
{
	struct http_parser p;
	struct http_req req, once;
	size_t i = 0, step = 1 + len % 13;
	long r = 0;

	http_parser_init(&p);
	while (r == 0 && i < len) {
		i = i + step < len ? i + step : len;
		r = http_parse_more(&p, buf, i, lim, &req);
	}
	FUZZ_ASSERT(p.work <= 2 * i);
	FUZZ_ASSERT(http_parse(buf, i, lim, &once) == r);
	if (r < 0)
		FUZZ_ASSERT(req.status == once.status && strcmp(req.error, once.error) == 0);
	if (r > 0)
		FUZZ_ASSERT(req.header_len == once.header_len &&
			    req.keep_alive == once.keep_alive && req.body.p == once.body.p &&
			    req.path.p == once.path.p);
}

static void run(const char *buf, size_t len, const struct http_limits *lim)
{
	struct http_req req, again;
	long r = http_parse(buf, len, lim, &req);

	run_pieces(buf, len, lim);
	FUZZ_ASSERT(r >= -1 && (r < 0 || (size_t)r <= len));
	if (r < 0) {
		FUZZ_ASSERT(req.error != NULL && req.error[0] != '\0');
		FUZZ_ASSERT(req.status == 400 || req.status == 413 || req.status == 431 ||
			    req.status == 501 || req.status == 505);
		return;
	}
	if (r == 0)
		return;
	check_complete(buf, r, lim, &req);
	/* What the worker does as bytes trickle in: any prefix is "more". */
	FUZZ_ASSERT(http_parse(buf, (size_t)r - 1, lim, &again) == 0);
	FUZZ_ASSERT(http_parse(buf, req.header_len - 1, lim, &again) == 0);
	FUZZ_ASSERT(http_parse(buf, (size_t)r / 2, lim, &again) == 0);
	/* The request alone, without what follows it, reads the same. */
	FUZZ_ASSERT(http_parse(buf, (size_t)r, lim, &again) == r);
	FUZZ_ASSERT(again.header_len == req.header_len && again.keep_alive == req.keep_alive);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;

	http_limits_default(&lim);
	run((const char *)data, size, &lim);
	/* Small limits reach the 413 and 431 paths with short inputs. */
	lim.max_header = 300;
	lim.max_body = 40;
	lim.max_headers = 4;
	run((const char *)data, size, &lim);
	return 0;
}
