/* Worker: the HTTP phase of a connection (PROTOCOL.md sections 2-4): the
 * XML login dialogue and CONNECT.  Owns the connection's request buffer
 * (hbuf) until the tunnel starts.  Password checks and cookie look-ups go
 * to the master, so this loop never waits on a hash. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/authxml.h"
#include "common/cookie.h"
#include "common/log.h"

#define RESP_MAX 8192

static size_t hbuf_cap(void)
{
	return W.http_lim.max_header + W.http_lim.max_body;
}

static void respond(struct conn *c, int status, const char *reason, const char *extra,
		    const char *body, bool close_after)
{
	char resp[RESP_MAX];
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/xml\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Transcend-Version: 1\r\n"
		     "%s%s\r\n"
		     "%s",
		     status, reason, blen, extra ? extra : "",
		     close_after ? "Connection: close\r\n" : "", body ? body : "");
	if (n < 0 || (size_t)n >= sizeof(resp)) {
		conn_close(c, "response too large");
		return;
	}
	if (tls_send(c, resp, (size_t)n) < 0)
		return;
	explicit_bzero(resp, sizeof(resp));
	if (close_after) {
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		c->state = CS_DRAIN;
	}
}

static void send_form(struct conn *c, const char *message, bool close_after)
{
	char body[2048];

	if (authxml_write_form(body, sizeof(body), message) < 0) {
		conn_close(c, "cannot write login form");
		return;
	}
	respond(c, 200, "OK", NULL, body, close_after);
}

static void on_post(struct conn *c, const struct http_req *req)
{
	struct authxml ax;
	struct ipc_msg m = {.type = IPC_AUTH_REQ, .ref = {conn_index(c), c->gen}};

	if (authxml_parse(req->body.p, req->body.n, &ax) < 0) {
		/* Not our XML (e.g. a browser's form post): offer the form. */
		send_form(c, NULL, !req->keep_alive);
		return;
	}
	if (ax.type != AUTHXML_REPLY || !ax.have_username || !ax.have_password) {
		send_form(c, NULL, !req->keep_alive);
		explicit_bzero(&ax, sizeof(ax));
		return;
	}
	if (strlen(ax.username) >= sizeof(m.u.auth_req.user) ||
	    strlen(ax.password) >= sizeof(m.u.auth_req.pass)) {
		explicit_bzero(&ax, sizeof(ax));
		log_info("login from %s refused: user name or password too long", c->peer);
		respond(c, 401, "Unauthorized", NULL, NULL, true);
		return;
	}
	memcpy(m.u.auth_req.user, ax.username, strlen(ax.username) + 1);
	memcpy(m.u.auth_req.pass, ax.password, strlen(ax.password) + 1);
	snprintf(m.u.auth_req.peer, sizeof(m.u.auth_req.peer), "%s", c->peer);
	explicit_bzero(&ax, sizeof(ax));
	c->state = CS_AUTH_WAIT;
	if (worker_ipc_send(&m) < 0)
		conn_close(c, "master unreachable");
	explicit_bzero(&m, sizeof(m));
}

static bool str_eq(const struct http_str *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->n == n && memcmp(s->p, lit, n) == 0;
}

static bool wants_ipv6(const struct http_req *req)
{
	const struct http_str *t = &req->cstp_address_type;

	if (req->full_ipv6)
		return true;
	if (!t->p) /* no statement: assume a modern client */
		return true;
	for (size_t i = 0; i + 4 <= t->n; i++)
		if (memcmp(t->p + i, "IPv6", 4) == 0)
			return true;
	return false;
}

static void on_connect(struct conn *c, const struct http_req *req)
{
	struct ipc_msg m = {.type = IPC_CONNECT_REQ, .ref = {conn_index(c), c->gen}};

	if (!str_eq(&req->path, "/CSCOSSLC/tunnel") && !str_eq(&req->path, "CSCOSSLC/tunnel")) {
		respond(c, 404, "Not Found", NULL, NULL, !req->keep_alive);
		return;
	}
	if (!req->cookie_webvpn.p ||
	    cookie_decode(req->cookie_webvpn.p, req->cookie_webvpn.n, m.u.connect_req.cookie) < 0) {
		log_warn("CONNECT from %s refused: %s", c->peer,
			 req->cookie_webvpn.p ? "malformed cookie" : "no cookie");
		respond(c, 401, "Cookie is not valid", NULL, NULL, true);
		return;
	}
	snprintf(m.u.connect_req.peer, sizeof(m.u.connect_req.peer), "%s", c->peer);
	c->have6 = wants_ipv6(req); /* narrowed to the pools in tunnel_start */
	c->state = CS_CONNECT_WAIT;
	if (worker_ipc_send(&m) < 0)
		conn_close(c, "master unreachable");
	explicit_bzero(&m, sizeof(m));
}

static void on_request(struct conn *c, const struct http_req *req)
{
	switch (req->method) {
	case HTTP_POST:
		on_post(c, req);
		break;
	case HTTP_CONNECT:
		on_connect(c, req);
		break;
	case HTTP_GET:
		respond(c, 404, "Not Found", NULL, NULL, !req->keep_alive);
		break;
	default:
		respond(c, 405, "Method Not Allowed", "Allow: GET, POST, CONNECT\r\n", NULL, true);
	}
}

/* Parse and answer whole requests from hbuf while the connection is in
 * plain HTTP state; stop while the master is asked something. */
static void process(struct conn *c)
{
	struct http_req req;
	uint32_t gen = c->gen;
	long n;

	while (c->state == CS_HTTP && c->hlen > 0) {
		n = http_parse(c->hbuf, c->hlen, &W.http_lim, &req);
		if (n == 0)
			return;
		if (n < 0) {
			log_info("bad HTTP request from %s: %s", c->peer, req.error);
			respond(c, req.status, req.error, NULL, NULL, true);
			return;
		}
		on_request(c, &req);
		if (c->state == CS_FREE || c->gen != gen)
			return;
		/* Drop the request (and any password in it) from the buffer. */
		memmove(c->hbuf, c->hbuf + n, c->hlen - (size_t)n);
		explicit_bzero(c->hbuf + c->hlen - n, (size_t)n);
		c->hlen -= (uint32_t)n;
	}
}

void login_on_data(struct conn *c, const uint8_t *buf, size_t len)
{
	if (!c->hbuf) {
		c->hcap = (uint32_t)hbuf_cap();
		c->hbuf = malloc(c->hcap);
		if (!c->hbuf) {
			conn_close(c, "out of memory");
			return;
		}
		c->hlen = 0;
	}
	/* Take what fits and parse it: the parser answers an oversized
	 * header section (431) or body (413) as soon as it sees one; then the
	 * rest, if the connection still wants it. */
	while (len > 0) {
		uint32_t gen = c->gen;
		size_t n = c->hcap - c->hlen < len ? c->hcap - c->hlen : len;

		if (n == 0) {
			/* Full, and no request ends inside: only possible while
			 * a request waits for the master (pipelining). */
			log_info("bad HTTP request from %s: too many pipelined bytes", c->peer);
			conn_close(c, "request too large");
			return;
		}
		memcpy(c->hbuf + c->hlen, buf, n);
		c->hlen += (uint32_t)n;
		buf += n;
		len -= n;
		process(c);
		if (c->state == CS_FREE || c->gen != gen || c->state == CS_DRAIN || !c->hbuf)
			return;
	}
}

void login_auth_reply(struct conn *c, const struct ipc_msg *m)
{
	char extra[160];

	if (c->state != CS_AUTH_WAIT)
		return;
	c->state = CS_HTTP;
	if (m->u.auth_resp.result != 0) {
		char reason[IPC_REASON_MAX];

		/* A refusal the user should read (a ban, a limit) comes back in
		 * the form's error text, which clients show. */
		memcpy(reason, m->u.auth_resp.reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		if (reason[0]) {
			send_form(c, reason, true);
			return;
		}
		/* A non-interactive client cannot answer a second form, and an
		 * interactive one reconnects: a plain 401 is clearest. */
		respond(c, 401, "Unauthorized", NULL, NULL, true);
		return;
	}
	snprintf(extra, sizeof(extra), "Set-Cookie: webvpn=%s; Secure; HttpOnly\r\n",
		 m->u.auth_resp.cookie);
	char body[1024];
	if (authxml_write_success(body, sizeof(body)) < 0) {
		conn_close(c, "cannot write success document");
		return;
	}
	respond(c, 200, "OK", extra, body, false);
	explicit_bzero(extra, sizeof(extra));
	if (c->state == CS_HTTP)
		process(c);
}

static size_t put_routes(char *p, size_t cap)
{
	const struct cfg *cfg = W.cfg;
	char a[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	size_t n = 0;
	unsigned i;

	for (i = 0; i < cfg->n_routes && n < cap; i++) {
		const struct cfg_prefix *r = &cfg->routes[i];
		int w;
		inet_ntop(r->addr.family, &r->addr.u, a, sizeof(a));
		if (r->addr.family == AF_INET) {
			struct in_addr m = {htonl(r->len ? ~0u << (32 - r->len) : 0)};
			inet_ntop(AF_INET, &m, mask, sizeof(mask));
			w = snprintf(p + n, cap - n, "X-CSTP-Split-Include: %s/%s\r\n", a, mask);
		} else {
			w = snprintf(p + n, cap - n, "X-CSTP-Split-Include-IP6: %s/%u\r\n", a,
				     r->len);
		}
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return n < cap ? n : cap;
}

static int build_connected(struct conn *c, char *out, size_t cap)
{
	const struct cfg *cfg = W.cfg;
	const struct pool_geom *g = &W.env->geom;
	char a[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	size_t n = 0;
	unsigned i;
	int w;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		w = snprintf(out + n, cap - n, __VA_ARGS__);                                       \
		if (w < 0 || (size_t)w >= cap - n)                                                 \
			return -1;                                                                 \
		n += (size_t)w;                                                                    \
	} while (0)

	/* Header names are matched case-sensitively by the client, and its
	 * values are taken verbatim: one space after the colon, no trailing
	 * blanks (PROTOCOL.md 4.1). */
	PUT("HTTP/1.1 200 CONNECTED\r\nX-CSTP-Version: 1\r\nX-CSTP-Server-Name: tunneld %s\r\n",
	    PACKAGE_VERSION);
	if (c->have4) {
		struct in_addr m = {htonl(~0u << (32 - g->len4))};
		inet_ntop(AF_INET, &c->v4, a, sizeof(a));
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
		PUT("X-CSTP-Address: %s\r\nX-CSTP-Netmask: %s\r\n", a, mask);
	}
	if (c->have6) {
		inet_ntop(AF_INET6, &c->v6, a, sizeof(a));
		PUT("X-CSTP-Address-IP6: %s/%u\r\n", a, g->len6);
	}
	for (i = 0; i < cfg->n_dns; i++) {
		inet_ntop(cfg->dns[i].family, &cfg->dns[i].u, a, sizeof(a));
		PUT("X-CSTP-DNS: %s\r\n", a);
	}
	n += put_routes(out + n, cap - n);
	PUT("X-CSTP-Keepalive: %u\r\nX-CSTP-DPD: %u\r\nX-CSTP-Idle-Timeout: none\r\n"
	    "X-CSTP-Session-Timeout: none\r\nX-CSTP-Disconnected-Timeout: %u\r\n"
	    "X-CSTP-Keep: true\r\nX-CSTP-Rekey-Method: none\r\nX-CSTP-MTU: %u\r\n\r\n",
	    cfg->keepalive, cfg->dpd, cfg->reconnect_timeout, cfg->mtu);
#undef PUT
	return (int)n;
}

void login_connect_reply(struct conn *c, const struct ipc_msg *m)
{
	char resp[RESP_MAX], extra[160];
	int n;

	if (c->state != CS_CONNECT_WAIT)
		return;
	c->state = CS_HTTP;
	if (m->u.connect_resp.status != 200) {
		int st = m->u.connect_resp.status;
		snprintf(extra, sizeof(extra), "X-Reason: %s\r\n", m->u.connect_resp.reason);
		respond(c, st, st == 401 ? "Cookie is not valid" : "Service Unavailable",
			st == 503 ? extra : NULL, NULL, true);
		return;
	}
	c->sess_id = m->u.connect_resp.sess_id;
	c->serial = (uint32_t)(c->sess_id >> 32);
	c->lease = m->u.connect_resp.lease;
	tunnel_start(c);
	n = build_connected(c, resp, sizeof(resp));
	if (n < 0 || tls_send(c, resp, (size_t)n) < 0) {
		conn_close(c, "cannot send CONNECT response");
		return;
	}
	log_info("session %u: user '%s' connected from %s", c->serial, m->u.connect_resp.user,
		 c->peer);
	/* The request is consumed; anything after it is already CSTP. */
	if (c->hbuf) {
		uint8_t *rest = (uint8_t *)c->hbuf;
		size_t rlen = c->hlen;
		c->hbuf = NULL;
		c->hlen = 0;
		if (rlen)
			tunnel_on_data(c, rest, rlen);
		free(rest);
	}
}
