/* HTTP/1.1 request parser for the login and CONNECT phase.  Runs in the
 * worker on decrypted bytes; takes a buffer, never a socket, so it can be
 * fuzzed.  Zero-copy: string fields point into the caller's buffer. */
#ifndef TUNNELD_HTTP_H
#define TUNNELD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

enum http_method { HTTP_GET, HTTP_POST, HTTP_CONNECT, HTTP_OTHER };

struct http_limits {
	size_t max_header;    /* request line + headers + CRLFCRLF, default 8192 */
	size_t max_body;      /* Content-Length limit, default 16384 */
	unsigned max_headers; /* number of header lines, default 64 */
};

struct http_str {
	const char *p;
	size_t n; /* p == NULL, n == 0 when absent */
};

struct http_req {
	enum http_method method;
	struct http_str method_text;
	struct http_str path;
	int minor;	 /* HTTP/1.minor; 0 or 1 */
	bool keep_alive; /* 1.1 without "Connection: close", or 1.0 with keep-alive */
	bool has_length; /* Content-Length seen */
	size_t content_length;
	bool chunked; /* Transfer-Encoding: chunked (rejected with 501 by caller) */
	struct http_str cookie_webvpn; /* value of the webvpn cookie in Cookie: */
	struct http_str host;
	struct http_str user_agent;
	struct http_str cstp_hostname;	   /* X-CSTP-Hostname */
	struct http_str cstp_address_type; /* X-CSTP-Address-Type */
	struct http_str cstp_address;	   /* X-CSTP-Address (reconnect hint) */
	struct http_str dtls_suites;	   /* X-DTLS-CipherSuite */
	struct http_str dtls12_suites;	   /* X-DTLS12-CipherSuite */
	struct http_str dtls_master;	   /* X-DTLS-Master-Secret (hex) */
	long cstp_base_mtu;		   /* X-CSTP-Base-MTU, 0 when absent */
	long cstp_mtu;			   /* X-CSTP-MTU, 0 when absent */
	bool full_ipv6;			   /* X-CSTP-Full-IPv6-Capability: true */
	size_t header_len;		   /* bytes of request line + headers + blank line */
	struct http_str body;		   /* content_length bytes after the header */
	int status;	   /* on error: HTTP status to answer (400/413/431/501/505) */
	const char *error; /* on error: static reason text for logs */
};

void http_limits_default(struct http_limits *lim);

/* Parse one request at the start of buf[0..len).
 * Returns the total length of the request (header + body) when complete,
 * 0 when more bytes are needed, or -1 on a malformed or oversized request
 * (req->status and req->error say why).  Header names are matched without
 * regard to case; lines may end in CRLF or LF. */
long http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req);

/* Where the parse of an unfinished request stopped, so that the next call,
 * with more bytes, goes on from there: each byte is looked at a bounded
 * number of times however the request is cut up (one byte per TLS record
 * costs O(total), not O(total^2)).  Only the lines read so far are kept;
 * they point into the caller's buffer. */
struct http_parser {
	struct http_req req; /* what the lines read so far say */
	size_t off;	     /* the first line not read yet */
	size_t scanned;	     /* buf[off..scanned) holds no LF */
	unsigned nheaders;
	bool have_request_line, header_done;
	bool conn_close, conn_keep_alive;
	size_t work; /* bytes looked at, all calls together (tests) */
};

/* Start a request: before its first byte, and after every result but 0. */
void http_parser_init(struct http_parser *p);

/* http_parse() of buf[0..len), going on where p stopped.  Between calls
 * buf stays where it is and only grows at its end.  The same results as
 * http_parse() on the same bytes. */
long http_parse_more(struct http_parser *p, const char *buf, size_t len,
		     const struct http_limits *lim, struct http_req *req);

#endif
