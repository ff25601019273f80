/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load: the login dialogue as openconnect 9.01 speaks it (POST
 * init, the forms, the webvpn cookie), and the answer to CONNECT. */
#include "config.h"
#include "bench/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define MAX_ROUNDS 6 /* login forms before we give up */

static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* The next request of the login dialogue, as openconnect 9.01 sends it. */
void send_request(struct load *L, struct client *c)
{
	const struct opts *o = L->o;
	struct http_state *h = c->http;
	char host[64], body[3072];
	char *req = (char *)L->scratch;
	size_t n = 0, bn = 0;
	int bad = 0;

	snprintf(host, sizeof(host), "%s:%u", inet_ntoa(o->srv.sin_addr), ntohs(o->srv.sin_port));
	if (h->phase == PH_CONNECT) {
		char name[32];
		struct tc_connect cr = {.host = host,
					.agent = LOAD_UA,
					.cookie = h->webvpn,
					.hostname = name,
					.mtu = 1406,
					.ipv4_only = o->ipv4_only,
					.dtls = o->dtls && !L->cycle};
		int w;

		snprintf(name, sizeof(name), "load%u", c->idx);
		w = tc_connect_request(req, L->scratch_cap, &cr);
		bad |= w < 0;
		n = w < 0 ? 0 : (size_t)w;
	} else {
		bad |=
		    put(body, sizeof(body), &bn,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth client=\"vpn\" "
			"type=\"%s\" aggregate-auth-version=\"2\"><version "
			"who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>",
			h->phase == PH_INIT ? "init" : "auth-reply");
		if (h->phase == PH_INIT)
			bad |= put(body, sizeof(body), &bn,
				   "<capabilities><auth-method>single-sign-on-v2</auth-method>"
				   "</capabilities><group-access>https://%s/</group-access>",
				   host);
		else
			bad |=
			    put(body, sizeof(body), &bn, "%s<auth>%s</auth>", h->opaque, h->fields);
		bad |= put(body, sizeof(body), &bn, "</config-auth>");
		bad |= put(req, L->scratch_cap, &n,
			   "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
			   "Accept-Encoding: identity\r\nX-Transcend-Version: 1\r\n"
			   "X-Aggregate-Auth: 1\r\n",
			   h->phase == PH_INIT ? "/" : h->action, host, LOAD_UA);
		if (h->cookies[0])
			bad |= put(req, L->scratch_cap, &n, "Cookie: %s\r\n", h->cookies);
		bad |= put(req, L->scratch_cap, &n,
			   "Content-Type: application/xml; charset=utf-8\r\n"
			   "Content-Length: %zu\r\n\r\n%s",
			   bn, body);
	}
	if (bad) {
		fail(L, c, "request too large");
		return;
	}
	h->in_len = 0;
	send_record(L, c, req, n);
}

/* ---- parsing the server's answers ---- */

/* Value of attribute 'name' inside the tag starting at p (up to '>'). */
static int tag_attr(const char *p, const char *name, char *out, size_t cap)
{
	const char *end = strchr(p, '>');
	size_t nl = strlen(name);

	if (!end)
		return -1;
	for (const char *q = p; q + nl + 2 < end; q++) {
		if ((q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n') && strncmp(q, name, nl) == 0 &&
		    q[nl] == '=' && (q[nl + 1] == '"' || q[nl + 1] == '\'')) {
			const char *v = q + nl + 2, *ve = strchr(v, q[nl + 1]);
			if (!ve || ve > end || (size_t)(ve - v) >= cap)
				return -1;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Fill the form the way openconnect's CLI does: a text input whose name
 * starts with "user"/"uname" gets the user name, a password input the
 * password, hidden inputs echo their value. */
static int fill_form(struct load *L, struct http_state *h, const char *body)
{
	const char *p = strstr(body, "<form"), *q;
	char type[32], name[64], value[256], esc[600];
	size_t n = 0;
	int inputs = 0;

	if (!p)
		return -1;
	if (tag_attr(p, "action", h->action, sizeof(h->action)) < 0 || !h->action[0])
		strcpy(h->action, "/");
	h->opaque[0] = '\0';
	if ((q = strstr(body, "<opaque")) != NULL) {
		const char *e = strstr(q, "</opaque>");
		if (e && (size_t)(e + 9 - q) < sizeof(h->opaque)) {
			memcpy(h->opaque, q, (size_t)(e + 9 - q));
			h->opaque[e + 9 - q] = '\0';
		}
	}
	h->fields[0] = '\0';
	for (q = p; (q = strstr(q, "<input")) != NULL; q += 6) {
		if (tag_attr(q, "type", type, sizeof(type)) < 0 ||
		    tag_attr(q, "name", name, sizeof(name)) < 0)
			continue;
		if (!strcasecmp(type, "password"))
			xml_escape(L->o->pass, esc, sizeof(esc));
		else if (!strcasecmp(type, "text") &&
			 (!strncasecmp(name, "user", 4) || !strncasecmp(name, "uname", 5)))
			xml_escape(L->o->user, esc, sizeof(esc));
		else if (!strcasecmp(type, "hidden") &&
			 tag_attr(q, "value", value, sizeof(value)) == 0)
			snprintf(esc, sizeof(esc), "%s", value);
		else
			continue;
		if (put(h->fields, sizeof(h->fields), &n, "<%s>%s</%s>", name, esc, name) < 0)
			return -1;
		inputs++;
	}
	return inputs > 0 ? 0 : -1;
}

static void add_cookie(struct http_state *h, const char *v, size_t len)
{
	const char *eq = memchr(v, '=', len);
	char name[64], rebuilt[sizeof(h->cookies)];
	size_t nl, n = 0;

	if (!eq || (nl = (size_t)(eq - v)) == 0 || nl >= sizeof(name))
		return;
	memcpy(name, v, nl);
	name[nl] = '\0';
	if (!strcmp(name, "webvpn")) {
		size_t vl = len - nl - 1;
		if (vl == 0 || vl >= sizeof(h->webvpn))
			return;
		memcpy(h->webvpn, eq + 1, vl);
		h->webvpn[vl] = '\0';
	}
	/* Replace a cookie of the same name. */
	rebuilt[0] = '\0';
	for (char *s = h->cookies, *tok; (tok = strsep(&s, ";")) != NULL;) {
		while (*tok == ' ')
			tok++;
		if (!*tok || (!strncmp(tok, name, nl) && tok[nl] == '='))
			continue;
		if (put(rebuilt, sizeof(rebuilt), &n, "%s%s", n ? "; " : "", tok) < 0)
			return;
	}
	if (put(rebuilt, sizeof(rebuilt), &n, "%s%.*s", n ? "; " : "", (int)len, v) < 0)
		return;
	memcpy(h->cookies, rebuilt, n + 1);
}

static void on_connect_reply(struct load *L, struct client *c, int status, const char *hdr,
			     size_t hlen)
{
	struct http_state *h = c->http;
	const char *a = strstr(hdr, "\r\nX-CSTP-Address: ");
	char ip[INET_ADDRSTRLEN];
	size_t i, rest = h->in_len - hlen;
	uint8_t *tail;
	uint64_t now = now_ns();

	if (status != 200 || !a) {
		fail(L, c, status != 200 ? "CONNECT refused" : "no X-CSTP-Address");
		return;
	}
	a += 18;
	for (i = 0; i < sizeof(ip) - 1 && (isdigit((unsigned char)a[i]) || a[i] == '.'); i++)
		ip[i] = a[i];
	ip[i] = '\0';
	if (inet_pton(AF_INET, ip, &c->addr) != 1) {
		fail(L, c, "bad X-CSTP-Address");
		return;
	}
	L->s.connects++;
	hist_add(&L->s.connect_lat, now - c->t_start);
	if (!L->cycle)
		dtls_begin(L, c, hdr, strlen(hdr)); /* hdr lives in c->http */
	/* Bytes after the header are already CSTP. */
	tail = rest ? malloc(rest) : NULL;
	if (rest && !tail)
		die("out of memory");
	if (rest)
		memcpy(tail, h->in + hlen, rest);
	free(c->http);
	c->http = NULL;
	c->deadline = 0;
	c->inflight = 0;
	c->last_progress = c->next_send = now;
	set_state(L, c, C_TUNNEL);
	if (rest) {
		uint32_t gen = c->gen;
		tunnel_feed(L, c, tail, rest);
		free(tail);
		if (c->gen != gen)
			return;
	}
	if (L->cycle)
		client_bye(L, c);
	else
		client_pump(L, c, now);
}

/* The response head up to hend: Content-Length into *clen, and whether
 * the server closes after it (HTTP/1.0, "Connection: close") into
 * h->reopen.  -1 after failing the client (a chunked body). */
static int read_headers(struct load *L, struct client *c, const char *hend, size_t *clen)
{
	struct http_state *h = c->http;
	const char *line;

	h->reopen = h->in[7] == '0';
	for (line = strstr(h->in, "\r\n"); line && line < hend; line = strstr(line + 2, "\r\n")) {
		const char *v = line + 2;
		if (!strncasecmp(v, "Content-Length:", 15))
			*clen = strtoul(v + 15, NULL, 10);
		else if (!strncasecmp(v, "Connection:", 11) && strcasestr(v, "close") &&
			 strcasestr(v, "close") < strstr(v, "\r\n"))
			h->reopen = true;
		else if (!strncasecmp(v, "Transfer-Encoding:", 18)) {
			fail(L, c, "chunked responses are not supported");
			return -1;
		}
	}
	return 0;
}

/* Cookies of the head up to hend: "Set-Cookie: name=value; attributes". */
static void take_cookies(struct http_state *h, const char *hend)
{
	for (const char *line = strstr(h->in, "\r\n"); line && line < hend;
	     line = strstr(line + 2, "\r\n")) {
		const char *v = line + 2;
		if (!strncasecmp(v, "Set-Cookie:", 11)) {
			v += 11;
			while (*v == ' ')
				v++;
			add_cookie(h, v, strcspn(v, ";\r"));
		}
	}
}

/* The next step of the login after a 200 answer with this body: CONNECT
 * after a success, else the reply to the next form.  False after failing
 * the client. */
static bool next_phase(struct load *L, struct client *c, const char *body)
{
	struct http_state *h = c->http;
	bool success = strstr(body, "id=\"success\"") != NULL;

	if (success && h->webvpn[0]) {
		h->phase = PH_CONNECT;
	} else if (success) {
		fail(L, c, "login succeeded without a webvpn cookie");
		return false;
	} else if (++h->rounds > MAX_ROUNDS || fill_form(L, h, body) < 0) {
		fail(L, c,
		     strstr(body, "<error") ? "login failed (error in form)"
					    : "no usable login form");
		return false;
	} else {
		h->phase = PH_REPLY;
	}
	return true;
}

/* The server closes after this response: the next request goes on a new
 * connection, keeping the login state and the connect's start and
 * deadline. */
static void reopen(struct load *L, struct client *c)
{
	struct http_state *keep = c->http;
	uint64_t t0 = c->t_start, dl = c->deadline;

	c->http = NULL;
	client_close(L, c);
	c->http = keep;
	c->t_start = t0;
	c->deadline = dl;
	keep->reopen = false;
	keep->in_len = 0;
	tcp_open(L, c);
	if (c->st == C_IDLE) {
		free(c->http);
		c->http = NULL;
	}
}

/* A complete response is in h->in: act on it.  Returns false when the
 * client was closed or has left the login. */
static bool on_response(struct load *L, struct client *c)
{
	struct http_state *h = c->http;
	char *hend = strstr(h->in, "\r\n\r\n");
	size_t hlen, clen = 0;
	int status;

	if (!hend)
		return false;
	hlen = (size_t)(hend + 4 - h->in);
	if (strncmp(h->in, "HTTP/1.", 7) != 0 || sscanf(h->in + 8, " %d", &status) != 1) {
		fail(L, c, "bad HTTP status line");
		return false;
	}
	if (h->phase == PH_CONNECT) {
		hend[2] = '\0';
		on_connect_reply(L, c, status, h->in, hlen);
		return false;
	}
	if (read_headers(L, c, hend, &clen) < 0)
		return false;
	if (clen > HTTP_IN_MAX - hlen) {
		fail(L, c, "response too large");
		return false;
	}
	if (h->in_len < hlen + clen)
		return false; /* wait for the body */
	take_cookies(h, hend);
	if (status != 200) {
		snprintf(L->s.fail_reason, sizeof(L->s.fail_reason), "login refused: HTTP %d",
			 status);
		L->s.connect_fail++;
		client_close(L, c);
		return false;
	}
	h->in[hlen + clen] = '\0';
	if (!next_phase(L, c, h->in + hlen))
		return false;
	memmove(h->in, h->in + hlen + clen, h->in_len - hlen - clen);
	h->in_len -= hlen + clen;
	h->in[h->in_len] = '\0';
	if (h->reopen) {
		reopen(L, c);
		return false;
	}
	send_request(L, c);
	return c->st == C_HTTP;
}

void http_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len)
{
	struct http_state *h = c->http;

	if (len > HTTP_IN_MAX - h->in_len) {
		fail(L, c, "response too large");
		return;
	}
	memcpy(h->in + h->in_len, buf, len);
	h->in_len += len;
	h->in[h->in_len] = '\0';
	while (c->st == C_HTTP && c->http && on_response(L, c))
		;
}
