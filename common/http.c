/* Worker (unprivileged): parses one HTTP/1.x request from decrypted bytes
 * during login and CONNECT.  Owns no state: the caller keeps a struct
 * http_parser per unfinished request, so a call with more bytes reads only
 * what is new (whole lines once, and a line still without its LF from
 * where the last search for it stopped). */
#include "config.h"
#include "common/http.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* All calls for one request together scan at most max_header bytes of
 * header once for line ends and read each line once (plus a fixed amount
 * of work per header line), and never touch the body. */

/* Beyond this an MTU header is nonsense; refusing it keeps the arithmetic
 * far from overflow on every platform. */
#define HTTP_MAX_NUMERIC 1000000000L

struct line {
	const char *p;
	size_t n; /* without the LF and an optional CR before it */
};

/* What the header lines say, before it is folded into struct http_req. */
struct hdr_state {
	bool conn_close, conn_keep_alive;
};

void http_limits_default(struct http_limits *lim)
{
	lim->max_header = 8192;
	lim->max_body = 16384;
	lim->max_headers = 64;
}

static int fail(struct http_req *req, int status, const char *why)
{
	req->status = status;
	req->error = why;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 token characters: what methods and header names are made of. */
static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* ASCII only: the C library's tolower() follows the locale. */
static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *p, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lit[i] == '\0' || ascii_lower(p[i]) != ascii_lower(lit[i]))
			return false;
	return lit[n] == '\0';
}

static bool eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* X-CSTP-*MTU: digits only, at least one, at most HTTP_MAX_NUMERIC;
 * anything else leaves *out alone (0, "not sent"). */
static void parse_number(const char *p, size_t n, long *out)
{
	long v = 0;
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return;
		v = v * 10 + (p[i] - '0');
		if (v > HTTP_MAX_NUMERIC)
			return;
	}
	*out = v;
}

/* The line that starts at p->off and ends with an LF before end.  Returns
 * the offset just past the LF, or 0 when no LF has arrived yet; the search
 * starts where the last one gave up. */
static size_t next_line(struct http_parser *p, const char *buf, size_t end, struct line *l)
{
	const char *lf;

	if (p->scanned < p->off)
		p->scanned = p->off;
	if (p->scanned >= end)
		return 0;
	lf = memchr(buf + p->scanned, '\n', end - p->scanned);
	if (lf == NULL) {
		p->work += end - p->scanned;
		p->scanned = end;
		return 0;
	}
	p->work += (size_t)(lf - (buf + p->scanned)) + 1;
	l->p = buf + p->off;
	l->n = (size_t)(lf - l->p);
	p->work += l->n; /* the line is read once more, by its parser */
	if (l->n > 0 && l->p[l->n - 1] == '\r')
		l->n--;
	return (size_t)(lf - buf) + 1;
}

static enum http_method method_of(const char *p, size_t n)
{
	if (eq(p, n, "GET"))
		return HTTP_GET;
	if (eq(p, n, "POST"))
		return HTTP_POST;
	if (eq(p, n, "CONNECT"))
		return HTTP_CONNECT;
	return HTTP_OTHER;
}

/* "HTTP/" 1*DIGIT "." 1*DIGIT, of which only 1.0 and 1.1 are served. */
static int parse_version(const char *p, size_t n, struct http_req *req)
{
	size_t i = 5, minor_start;

	if (n < 5 || memcmp(p, "HTTP/", 5) != 0)
		return fail(req, 400, "malformed HTTP version");
	while (i < n && is_digit(p[i]))
		i++;
	if (i == 5 || i == n || p[i] != '.')
		return fail(req, 400, "malformed HTTP version");
	minor_start = ++i;
	while (i < n && is_digit(p[i]))
		i++;
	if (i == minor_start || i != n)
		return fail(req, 400, "malformed HTTP version");
	if (n != 8 || p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return fail(req, 505, "unsupported HTTP version");
	req->minor = p[7] - '0';
	return 0;
}

static int parse_request_line(const struct line *l, struct http_req *req)
{
	const char *p = l->p;
	size_t n = l->n, i = 0, start;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return fail(req, 400, "malformed method");
	req->method_text = (struct http_str){p, i};
	req->method = method_of(p, i);

	start = ++i;
	while (i < n && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == start || i == n || p[i] != ' ')
		return fail(req, 400, "malformed request target");
	req->path = (struct http_str){p + start, i - start};
	/* CONNECT targets are checked by the caller: the stock client sends
	 * "/CSCOSSLC/tunnel", older ones "CSCOSSLC/tunnel". */
	if (req->method != HTTP_CONNECT && p[start] != '/')
		return fail(req, 400, "request target is not a path");

	i++;
	return parse_version(p + i, n - i, req);
}

static void parse_connection(const char *p, size_t n, struct hdr_state *st)
{
	size_t i = 0, s, e;

	while (i < n) {
		s = i;
		while (i < n && p[i] != ',')
			i++;
		e = i++;
		while (s < e && is_ows(p[s]))
			s++;
		while (e > s && is_ows(p[e - 1]))
			e--;
		if (ieq(p + s, e - s, "close"))
			st->conn_close = true;
		else if (ieq(p + s, e - s, "keep-alive"))
			st->conn_keep_alive = true;
	}
}

/* "a=b; webvpn=XYZ; c=d": the first webvpn pair wins.  Cookie names are
 * case-sensitive (RFC 6265). */
static void parse_cookie(const char *p, size_t n, struct http_req *req)
{
	size_t i = 0, s, e, eqpos, v;

	while (i < n && req->cookie_webvpn.p == NULL) {
		s = i;
		while (i < n && p[i] != ';')
			i++;
		e = i++;
		while (s < e && is_ows(p[s]))
			s++;
		while (e > s && is_ows(p[e - 1]))
			e--;
		eqpos = s;
		while (eqpos < e && p[eqpos] != '=')
			eqpos++;
		if (eqpos == e)
			continue;
		v = eqpos + 1;
		while (eqpos > s && is_ows(p[eqpos - 1]))
			eqpos--;
		while (v < e && is_ows(p[v]))
			v++;
		if (eq(p + s, eqpos - s, "webvpn"))
			req->cookie_webvpn = (struct http_str){p + v, e - v};
	}
}

/* Headers kept as text: the first occurrence wins. */
static const struct {
	const char *name;
	size_t offset;
} text_headers[] = {
    {"User-Agent", offsetof(struct http_req, user_agent)},
    {"X-CSTP-Hostname", offsetof(struct http_req, cstp_hostname)},
    {"X-CSTP-Address-Type", offsetof(struct http_req, cstp_address_type)},
    {"X-CSTP-Address", offsetof(struct http_req, cstp_address)},
    {"X-DTLS-CipherSuite", offsetof(struct http_req, dtls_suites)},
    {"X-DTLS12-CipherSuite", offsetof(struct http_req, dtls12_suites)},
    {"X-DTLS-Master-Secret", offsetof(struct http_req, dtls_master)},
};

static int parse_content_length(const char *v, size_t vn, struct http_req *req)
{
	size_t cl = 0, i;

	if (vn == 0)
		return fail(req, 400, "malformed Content-Length");
	for (i = 0; i < vn; i++) {
		if (!is_digit(v[i]))
			return fail(req, 400, "malformed Content-Length");
		/* Saturate: such a length is far beyond max_body anyway, and
		 * the answer should be 413, not 400. */
		if (cl > (SIZE_MAX - 9) / 10)
			cl = SIZE_MAX;
		else
			cl = cl * 10 + (size_t)(v[i] - '0');
	}
	if (req->has_length && req->content_length != cl)
		return fail(req, 400, "conflicting Content-Length headers");
	req->has_length = true;
	req->content_length = cl;
	return 0;
}

static int parse_header(const struct line *l, struct http_req *req, struct hdr_state *st)
{
	const char *p = l->p, *v;
	size_t n = l->n, i = 0, s, e, k;

	/* RFC 9112 5.2: a server must reject obs-fold or replace it; it has
	 * no use here, and rejecting is the safe choice. */
	if (is_ows(p[0]))
		return fail(req, 400, "obsolete header line folding");
	while (i < n && p[i] != ':') {
		if (!is_tchar(p[i]))
			return fail(req, 400, "malformed header name");
		i++;
	}
	if (i == n)
		return fail(req, 400, "header line without a colon");
	if (i == 0)
		return fail(req, 400, "empty header name");

	s = i + 1;
	while (s < n && is_ows(p[s]))
		s++;
	e = n;
	while (e > s && is_ows(p[e - 1]))
		e--;
	for (k = s; k < e; k++) {
		unsigned char c = (unsigned char)p[k];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(req, 400, "control character in header value");
	}
	v = p + s;

	if (ieq(p, i, "Content-Length"))
		return parse_content_length(v, e - s, req);
	if (ieq(p, i, "Transfer-Encoding")) {
		req->chunked = true;
		return fail(req, 501, "Transfer-Encoding is not supported");
	}
	if (ieq(p, i, "Host")) {
		/* RFC 9112 3.2: more than one Host is a 400. */
		if (req->host.p != NULL)
			return fail(req, 400, "duplicate Host header");
		req->host = (struct http_str){v, e - s};
	} else if (ieq(p, i, "Connection")) {
		parse_connection(v, e - s, st);
	} else if (ieq(p, i, "Cookie")) {
		parse_cookie(v, e - s, req);
	} else if (ieq(p, i, "X-CSTP-Base-MTU")) {
		parse_number(v, e - s, &req->cstp_base_mtu);
	} else if (ieq(p, i, "X-CSTP-MTU")) {
		parse_number(v, e - s, &req->cstp_mtu);
	} else if (ieq(p, i, "X-CSTP-Full-IPv6-Capability")) {
		req->full_ipv6 = ieq(v, e - s, "true");
	} else {
		for (k = 0; k < sizeof(text_headers) / sizeof(text_headers[0]); k++) {
			struct http_str *dst =
			    (struct http_str *)((char *)req + text_headers[k].offset);

			if (ieq(p, i, text_headers[k].name)) {
				if (dst->p == NULL)
					*dst = (struct http_str){v, e - s};
				break;
			}
		}
	}
	return 0;
}

void http_parser_init(struct http_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* The header block, line by line from where p stopped: 1 when it ended
 * (at the empty line), 0 when more bytes are needed, -1 on an error. */
static int parse_lines(struct http_parser *p, const char *buf, size_t len,
		       const struct http_limits *lim)
{
	/* The whole header block must fit in max_header bytes, so its end is
	 * never searched for beyond them. */
	size_t end = len < lim->max_header ? len : lim->max_header;
	struct hdr_state st;
	size_t next;
	struct line l;

	for (;;) {
		next = next_line(p, buf, end, &l);
		if (next == 0) {
			if (len > lim->max_header)
				return fail(&p->req, 431, "request header too large");
			return 0;
		}
		p->off = next;
		if (!p->have_request_line) {
			/* RFC 9112 2.2: ignore empty lines before the request
			 * line, e.g. a stray CRLF after the previous body. */
			if (l.n == 0)
				continue;
			if (parse_request_line(&l, &p->req) < 0)
				return -1;
			p->have_request_line = true;
			continue;
		}
		if (l.n == 0)
			return 1;
		if (++p->nheaders > lim->max_headers)
			return fail(&p->req, 431, "too many header lines");
		st = (struct hdr_state){p->conn_close, p->conn_keep_alive};
		if (parse_header(&l, &p->req, &st) < 0)
			return -1;
		p->conn_close = st.conn_close;
		p->conn_keep_alive = st.conn_keep_alive;
	}
}

static long parse_more(struct http_parser *p, const char *buf, size_t len,
		       const struct http_limits *lim)
{
	struct http_req *req = &p->req;
	int r;

	if (!p->header_done) {
		r = parse_lines(p, buf, len, lim);
		if (r <= 0)
			return r;
		p->header_done = true;
		req->header_len = p->off;
		req->keep_alive = !p->conn_close && (req->minor == 1 || p->conn_keep_alive);
		if (req->has_length && req->content_length > lim->max_body)
			return fail(req, 413, "request body too large");
	}
	if (!req->has_length)
		return (long)p->off;
	if (len - p->off < req->content_length)
		return 0;
	req->body = (struct http_str){buf + p->off, req->content_length};
	return (long)(p->off + req->content_length);
}

long http_parse_more(struct http_parser *p, const char *buf, size_t len,
		     const struct http_limits *lim, struct http_req *req)
{
	long r = parse_more(p, buf, len, lim);

	*req = p->req;
	return r;
}

long http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req)
{
	struct http_parser p;

	http_parser_init(&p);
	return http_parse_more(&p, buf, len, lim, req);
}
