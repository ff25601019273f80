/* hostile (test tool, lab client namespace): one client connection to
 * tunneld, driven step by step with deadlines.  TCP + GnuTLS on a
 * non-blocking socket, poll() for every wait; the HTTP login, CONNECT and
 * CSTP frames (PROTOCOL.md sections 2-5) written by hand so a scenario can
 * bend any of them. */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int tls_err(int r)
{
	switch (r) {
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

int hc_open(struct hc *h, unsigned src_i)
{
	int64_t deadline = now_ms() + O.timeout_ms;
	socklen_t sl = sizeof(int);
	int r, err = 0;

	h->rlen = 0;
	h->eof = false;
	h->raw_in = 0;
	h->tls = NULL;
	h->fd = tcp_start(src_i);
	if (h->fd < 0)
		return h->fd;
	r = wait_fd(h->fd, POLLOUT, deadline);
	if (r == 0 && getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err)
		r = -err;
	if (r < 0)
		goto fail;
	if (gnutls_init(&h->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		h->tls = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (gnutls_priority_set_direct(h->tls, O.priority, NULL) < 0 ||
	    gnutls_credentials_set(h->tls, GNUTLS_CRD_CERTIFICATE, H_CRED) < 0) {
		r = -EINVAL;
		goto fail;
	}
	gnutls_transport_set_int(h->tls, h->fd);
	for (;;) {
		r = gnutls_handshake(h->tls);
		if (r == 0)
			return 0;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			vlog("TLS handshake: %s", gnutls_strerror(r));
			r = tls_err(r);
			goto fail;
		}
		r = wait_fd(h->fd, gnutls_record_get_direction(h->tls) ? POLLOUT : POLLIN,
			    deadline);
		if (r < 0)
			goto fail;
	}
fail:
	hc_close(h);
	return r;
}

void hc_close(struct hc *h)
{
	if (h->tls)
		gnutls_deinit(h->tls);
	h->tls = NULL;
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int hc_send(struct hc *h, const void *buf, size_t len)
{
	int64_t deadline = now_ms() + O.timeout_ms;
	const uint8_t *p = buf;
	size_t max = 16384, n;
	ssize_t r;

	while (len > 0) {
		n = len < max ? len : max;
		r = gnutls_record_send(h->tls, p, n);
		while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			int w = wait_fd(h->fd, POLLOUT, deadline);
			if (w < 0)
				return w;
			/* GnuTLS wants the same call again after EAGAIN. */
			r = gnutls_record_send(h->tls, NULL, 0);
		}
		if (r < 0)
			return tls_err((int)r);
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Read more decrypted bytes into rbuf.  >0 bytes added, 0 at a clean or
 * abrupt end (h->eof set), -ETIMEDOUT, -ENOBUFS (rbuf full), -EPROTO. */
static int fill(struct hc *h, int64_t deadline)
{
	ssize_t r;

	if (h->eof)
		return 0;
	if (h->rlen == sizeof(h->rbuf))
		return -ENOBUFS;
	for (;;) {
		r = gnutls_record_recv(h->tls, h->rbuf + h->rlen, sizeof(h->rbuf) - h->rlen);
		if (r > 0) {
			h->rlen += (size_t)r;
			return (int)r;
		}
		if (r == 0 || tls_err((int)r) == -ECONNRESET) {
			h->eof = true;
			return 0;
		}
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			vlog("TLS receive: %s", gnutls_strerror((int)r));
			if (r == GNUTLS_E_FATAL_ALERT_RECEIVED || r == GNUTLS_E_INVALID_SESSION) {
				h->eof = true;
				return 0;
			}
			return -EPROTO;
		}
		int w = wait_fd(h->fd, POLLIN, deadline);
		if (w < 0)
			return w;
	}
}

static void consume(struct hc *h, size_t n)
{
	memmove(h->rbuf, h->rbuf + n, h->rlen - n);
	h->rlen -= n;
}

static const char *find_head_end(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return (const char *)p + i + 4;
	return NULL;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

/* Header line "Name: value" (no CRLF). */
static void header(struct hresp *r, const char *l, size_t n, size_t *clen)
{
	const char *colon = memchr(l, ':', n);
	size_t kn;
	char tmp[32];

	if (!colon)
		return;
	kn = (size_t)(colon - l);
	const char *v = colon + 1;
	size_t vn = n - kn - 1;
#define IS(k) (kn == strlen(k) && strncasecmp(l, k, kn) == 0)
	if (IS("Content-Length")) {
		copy_value(tmp, sizeof(tmp), v, vn);
		*clen = strtoul(tmp, NULL, 10);
	} else if (IS("Connection")) {
		copy_value(tmp, sizeof(tmp), v, vn);
		r->conn_close = strcasecmp(tmp, "close") == 0;
	} else if (IS("X-Reason")) {
		copy_value(r->x_reason, sizeof(r->x_reason), v, vn);
	} else if (IS("X-CSTP-Address")) {
		copy_value(r->addr4, sizeof(r->addr4), v, vn);
	} else if (IS("X-CSTP-MTU")) {
		copy_value(tmp, sizeof(tmp), v, vn);
		r->mtu = (unsigned)strtoul(tmp, NULL, 10);
	} else if (IS("Set-Cookie")) {
		char c[H_COOKIE_MAX + 16];
		copy_value(c, sizeof(c), v, vn);
		if (strncmp(c, "webvpn=", 7) == 0) {
			size_t cl = strcspn(c + 7, "; ");
			if (cl < sizeof(r->cookie)) {
				memcpy(r->cookie, c + 7, cl);
				r->cookie[cl] = 0;
			}
		}
	}
#undef IS
}

/* The text of the first element named tag in the body ("" when none). */
static bool element_text(const char *body, const char *tag, char *out, size_t cap)
{
	char open[32], close[32];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(s = strstr(body, open)) || !(s = strchr(s, '>')) || !(e = strstr(s, close)))
		return false;
	copy_value(out, cap, s + 1, (size_t)(e - s - 1));
	return true;
}

/* What the server tells the user: an <error>, or else a <message> (the
 * login form carries a refusal's reason in either, and clients show both). */
static void body_text(struct hresp *r, const char *b, size_t n)
{
	char *copy = strndup(b, n);

	if (!copy)
		return;
	if (!element_text(copy, "error", r->error, sizeof(r->error)))
		element_text(copy, "message", r->error, sizeof(r->error));
	r->success = strstr(copy, "<auth id=\"success\"") != NULL;
	free(copy);
}

int hc_response(struct hc *h, struct hresp *r, bool connect)
{
	int64_t deadline = now_ms() + O.timeout_ms;
	const char *end, *p, *lf;
	size_t head, clen = 0;
	int f;

	memset(r, 0, sizeof(*r));
	while (!(end = find_head_end(h->rbuf, h->rlen))) {
		f = fill(h, deadline);
		if (f == 0) {
			r->closed = true;
			return -ECONNRESET;
		}
		if (f < 0)
			return f;
	}
	head = (size_t)(end - (const char *)h->rbuf);
	p = (const char *)h->rbuf;
	r->head_len = head < sizeof(r->head) ? head : sizeof(r->head);
	memcpy(r->head, p, r->head_len);
	lf = memchr(p, '\n', head);
	if (!lf || lf - p < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -EPROTO;
	r->status = atoi(p + 9);
	copy_value(r->reason, sizeof(r->reason), p + 12, (size_t)(lf - p) - 12);
	for (p = lf + 1; p < end - 2; p = lf + 1) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (!lf)
			break;
		header(r, p, (size_t)(lf - p), &clen);
	}
	if (connect && r->status == 200) {
		consume(h, head);
		return 0;
	}
	if (clen > sizeof(h->rbuf) - head)
		return -EPROTO;
	while (h->rlen < head + clen) {
		f = fill(h, deadline);
		if (f <= 0)
			return f == 0 ? -ECONNRESET : f;
	}
	body_text(r, (const char *)h->rbuf + head, clen);
	consume(h, head + clen);
	return 0;
}

static int post(struct hc *h, const char *path, const char *body, struct hresp *r)
{
	char req[4096];
	int n, rc;

	n = snprintf(
	    req, sizeof(req),
	    "POST %s HTTP/1.1\r\nHost: tunneld-lab\r\nUser-Agent: hostile (tunneld tests)\r\n"
	    "Accept: */*\r\nX-Transcend-Version: 1\r\nX-Aggregate-Auth: 1\r\n"
	    "Content-Type: application/xml; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
	    path, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -E2BIG;
	rc = hc_send(h, req, (size_t)n);
	explicit_bzero(req, sizeof(req));
	if (rc < 0)
		return rc;
	return hc_response(h, r, false);
}

int hc_login(struct hc *h, const char *user, const char *pass, struct hresp *r)
{
	char u[512], p[1024], body[2048];
	int rc;

	rc =
	    post(h, "/",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth client=\"vpn\" "
		 "type=\"init\" aggregate-auth-version=\"2\"><version who=\"vpn\">hostile</version>"
		 "<device-id>linux-64</device-id></config-auth>",
		 r);
	if (rc < 0)
		return rc;
	if (r->status != 200 || r->conn_close)
		return 1;
	xml_escape(user, u, sizeof(u));
	xml_escape(pass, p, sizeof(p));
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth client=\"vpn\" "
		 "type=\"auth-reply\" aggregate-auth-version=\"2\"><version who=\"vpn\">hostile"
		 "</version><device-id>linux-64</device-id><auth><username>%s</username>"
		 "<password>%s</password></auth></config-auth>",
		 u, p);
	rc = post(h, "/auth", body, r);
	explicit_bzero(body, sizeof(body));
	explicit_bzero(p, sizeof(p));
	if (rc < 0)
		return rc;
	return r->status == 200 && r->success && r->cookie[0] ? 0 : 1;
}

int hc_connect(struct hc *h, const char *cookie, struct hresp *r)
{
	const struct tc_connect cr = {.host = "tunneld-lab",
				      .agent = "hostile (tunneld tests)",
				      .cookie = cookie,
				      .hostname = "hostile",
				      .mtu = 1400,
				      .dtls = O.dtls};
	char req[3072]; /* a cookie (up to 1024 bytes) and the DTLS headers */
	int n, rc;

	n = tc_connect_request(req, sizeof(req), &cr);
	if (n < 0)
		return -E2BIG;
	rc = hc_send(h, req, (size_t)n);
	explicit_bzero(req, sizeof(req));
	if (rc < 0)
		return rc;
	rc = hc_response(h, r, true);
	if (rc < 0)
		return rc;
	return r->status;
}

int hc_frame(struct hc *h, uint8_t type, const void *payload, size_t len)
{
	uint8_t f[TC_CSTP_HDR + 16384];

	if (len > sizeof(f) - TC_CSTP_HDR)
		return -E2BIG;
	tc_cstp_header(f, type, len);
	if (len)
		memcpy(f + TC_CSTP_HDR, payload, len);
	return hc_send(h, f, TC_CSTP_HDR + len);
}

int hc_next_frame(struct hc *h, int timeout_ms, uint8_t *type, uint8_t *payload, size_t cap,
		  size_t *len)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t flen;
	int f;

	for (;;) {
		if (h->rlen >= TC_CSTP_HDR) {
			if (!tc_cstp_magic(h->rbuf))
				return -EPROTO;
			flen = tc_cstp_frame_len(h->rbuf);
			if (h->rlen >= flen) {
				*type = h->rbuf[6];
				*len = flen - TC_CSTP_HDR;
				if (payload)
					memcpy(payload, h->rbuf + TC_CSTP_HDR,
					       *len < cap ? *len : cap);
				consume(h, flen);
				return 1;
			}
		}
		f = fill(h, deadline);
		if (f == -ETIMEDOUT)
			return 0;
		if (f == 0)
			return -ECONNRESET;
		if (f < 0)
			return f;
	}
}

long hc_wait_closed(struct hc *h, int timeout_ms)
{
	int64_t t0 = now_ms(), deadline = t0 + timeout_ms;
	int f;

	for (;;) {
		h->rlen = 0; /* whatever comes is discarded */
		f = fill(h, deadline);
		if (f == 0 || f == -EPROTO)
			return (long)(now_ms() - t0);
		if (f == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

int hc_tunnel(struct hc *h, unsigned src_i, struct hresp *r)
{
	int rc = hc_open(h, src_i);

	if (rc < 0)
		return rc;
	rc = hc_login(h, O.user, O.pass, r);
	if (rc != 0) {
		rc = rc < 0 ? rc : (r->status ? r->status : -EPROTO);
		hc_close(h);
		return rc;
	}
	char cookie[H_COOKIE_MAX];
	memcpy(cookie, r->cookie, sizeof(cookie));
	rc = hc_connect(h, cookie, r);
	memcpy(r->cookie, cookie, sizeof(cookie));
	explicit_bzero(cookie, sizeof(cookie));
	if (rc != 200) {
		hc_close(h);
		return rc == 0 ? -EPROTO : rc;
	}
	return 0;
}

/* GnuTLS writes the ClientHello here and finds nothing to read. */
struct capture {
	gnutls_session_t s;
	uint8_t *out;
	size_t cap, len;
};

static ssize_t cap_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct capture *c = p;

	if (c->len + len > c->cap) {
		gnutls_transport_set_errno(c->s, ENOBUFS);
		return -1;
	}
	memcpy(c->out + c->len, data, len);
	c->len += len;
	return (ssize_t)len;
}

static ssize_t cap_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct capture *c = p;

	gnutls_transport_set_errno(c->s, EAGAIN);
	return -1;
}

int client_hello(uint8_t *out, size_t cap, size_t *len)
{
	struct capture c = {.out = out, .cap = cap};
	int r;

	if (gnutls_init(&c.s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
		return -ENOMEM;
	r = gnutls_priority_set_direct(c.s, O.priority, NULL);
	if (r == 0)
		r = gnutls_credentials_set(c.s, GNUTLS_CRD_CERTIFICATE, H_CRED);
	if (r == 0) {
		gnutls_transport_set_ptr(c.s, &c);
		gnutls_transport_set_push_function(c.s, cap_push);
		gnutls_transport_set_pull_function(c.s, cap_pull);
		r = gnutls_handshake(c.s);
	}
	gnutls_deinit(c.s);
	if (r != GNUTLS_E_AGAIN || c.len < 6)
		return -EPROTO;
	*len = c.len;
	return 0;
}
