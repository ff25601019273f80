/* tunneld-load: the simulated clients.  One struct client per session, all
 * driven by one epoll loop; every socket and TLS session is non-blocking.
 *
 *   IDLE --client_start--> TCP --on_connected--> HANDSHAKE --handshake_step--> HTTP
 *   HTTP: POST init -> form -> POST auth-reply (one field per form, as many
 *         forms as the server asks, at most MAX_ROUNDS) -> success + webvpn
 *         cookie -> CONNECT --on_connect_reply--> TUNNEL
 *   TUNNEL --client_bye--> BYE --server closes--> IDLE
 *   any --client_close (error, timeout, server drop)--> IDLE
 *
 * A server that answers "Connection: close" during the login gets the next
 * request on a fresh TLS connection, as the stock client does. */
#include "config.h"
#include "bench/load.h"

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

#define HTTP_IN_MAX 16384
#define MAX_ROUNDS  6 /* login forms before we give up */
#define BYE_TIMEOUT (2 * NS_PER_SEC)

enum phase { PH_INIT, PH_REPLY, PH_CONNECT };

struct http_state {
	enum phase phase;
	unsigned rounds;
	bool reopen; /* the server closes after this response */
	char cookies[2048];
	char webvpn[1024];
	char action[256];
	char fields[1024]; /* <username>..</username> etc. for the next reply */
	char opaque[1024];
	size_t in_len;
	char in[HTTP_IN_MAX + 1];
};

static void set_state(struct load *L, struct client *c, enum cstate st)
{
	bool was_conn = c->st >= C_TCP && c->st <= C_HTTP;
	bool is_conn = st >= C_TCP && st <= C_HTTP;

	if (was_conn && !is_conn)
		L->in_connect--;
	if (!was_conn && is_conn)
		L->in_connect++;
	if (c->st == C_TUNNEL && st != C_TUNNEL)
		L->in_tunnel--;
	if (c->st != C_TUNNEL && st == C_TUNNEL)
		L->in_tunnel++;
	c->st = st;
}

static void want(struct load *L, struct client *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)c->gen << 32 | c->idx};

	if (c->events == ev)
		return;
	if (epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

void client_close(struct load *L, struct client *c)
{
	if (c->st == C_IDLE)
		return;
	if (c->tls) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	free(c->http);
	c->http = NULL;
	free(c->part);
	c->part = NULL;
	c->part_len = 0;
	free(c->fl);
	c->fl = NULL;
	dtls_close(L, c);
	c->send_pending = false;
	c->inflight = 0;
	c->events = 0;
	c->deadline = 0;
	c->gen++;
	set_state(L, c, C_IDLE);
}

static void fail(struct load *L, struct client *c, const char *why)
{
	if (c->st == C_TUNNEL || c->st == C_BYE)
		L->s.drops++;
	else
		L->s.connect_fail++;
	snprintf(L->s.fail_reason, sizeof(L->s.fail_reason), "%s", why);
	client_close(L, c);
}

/* Open the TCP connection (a fresh one also for a login that continues
 * after "Connection: close": c->http is kept then). */
static void tcp_open(struct load *L, struct client *c)
{
	const struct opts *o = L->o;
	struct epoll_event e;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->src_count) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(ntohl(o->src_base.s_addr) + c->idx % o->src_count);
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			die("bind(%s): %s", inet_ntoa(src.sin_addr), strerror(errno));
	}
	if (connect(c->fd, (const struct sockaddr *)&o->srv, sizeof(o->srv)) < 0 &&
	    errno != EINPROGRESS) {
		/* e.g. EADDRNOTAVAIL when the port range is used up */
		close(c->fd);
		c->fd = -1;
		L->s.connect_fail++;
		snprintf(L->s.fail_reason, sizeof(L->s.fail_reason), "connect: %s",
			 strerror(errno));
		c->gen++;
		set_state(L, c, C_IDLE);
		return;
	}
	e.events = EPOLLOUT;
	e.data.u64 = (uint64_t)c->gen << 32 | c->idx;
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->events = EPOLLOUT;
	set_state(L, c, C_TCP);
}

void client_start(struct load *L, struct client *c)
{
	c->t_start = now_ns();
	c->deadline = c->t_start + (uint64_t)(L->o->connect_timeout * NS_PER_SEC);
	c->http = calloc(1, sizeof(*c->http));
	if (!c->http)
		die("out of memory");
	c->http->phase = PH_INIT;
	tcp_open(L, c);
	if (c->st == C_IDLE) {
		free(c->http);
		c->http = NULL;
	}
}

/* Send one TLS record.  0 when it is sent or queued in GnuTLS (resumed on
 * EPOLLOUT), -EAGAIN when an earlier record is still pending, -1 after an
 * error closed the client. */
static int send_record(struct load *L, struct client *c, const void *buf, size_t len)
{
	ssize_t r;

	if (c->send_pending) {
		r = gnutls_record_send(c->tls, NULL, 0);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return -EAGAIN;
		if (r < 0) {
			fail(L, c, gnutls_strerror((int)r));
			return -1;
		}
		c->send_pending = false;
		want(L, c, EPOLLIN);
	}
	if (!buf)
		return 0; /* only the flush was asked for */
	r = gnutls_record_send(c->tls, buf, len);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		c->send_pending = true;
		want(L, c, EPOLLIN | EPOLLOUT);
		return 0;
	}
	if (r < 0 || (size_t)r != len) {
		fail(L, c, r < 0 ? gnutls_strerror((int)r) : "short TLS write");
		return -1;
	}
	return 0;
}

static void b64(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		*out++ = t[in[i + 2] & 63];
	}
	if (n - i == 1) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

/* The first certificate is checked against the pin (SHA-256 of its public
 * key); later handshakes only compare the certificate's bytes with it. */
static int check_peer(struct load *L, struct client *c)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;
	gnutls_pubkey_t pk;
	gnutls_datum_t spki = {NULL, 0};
	uint8_t dig[32];
	char pin[64];
	int ok;

	if (L->o->insecure)
		return 0;
	certs = gnutls_certificate_get_peers(c->tls, &n);
	if (!certs || n == 0)
		return -1;
	if (L->cert_der.data)
		return certs[0].size == L->cert_der.size &&
			       memcmp(certs[0].data, L->cert_der.data, certs[0].size) == 0
			   ? 0
			   : -1;
	if (gnutls_pubkey_init(&pk) < 0)
		return -1;
	ok = gnutls_pubkey_import_x509_raw(pk, &certs[0], GNUTLS_X509_FMT_DER, 0) == 0 &&
	     gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki) == 0 &&
	     gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, dig) == 0;
	gnutls_pubkey_deinit(pk);
	gnutls_free(spki.data);
	if (!ok)
		return -1;
	memcpy(pin, "pin-sha256:", 11);
	b64(dig, sizeof(dig), pin + 11);
	if (strcmp(pin, L->o->pin) != 0) {
		fprintf(stderr, "tunneld-load: server key %s does not match --servercert\n", pin);
		return -1;
	}
	L->cert_der.data = malloc(certs[0].size);
	if (!L->cert_der.data)
		die("out of memory");
	memcpy(L->cert_der.data, certs[0].data, certs[0].size);
	L->cert_der.size = certs[0].size;
	return 0;
}

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
static void send_request(struct load *L, struct client *c)
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

static void handshake_step(struct load *L, struct client *c)
{
	int r = gnutls_handshake(c->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		want(L, c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (r < 0) {
		fail(L, c, gnutls_strerror(r));
		return;
	}
	if (check_peer(L, c) < 0) {
		fail(L, c, "server certificate does not match the pin");
		return;
	}
	L->s.handshakes++;
	if (!L->s.tls_desc[0]) {
		char *d = gnutls_session_get_desc(c->tls);
		snprintf(L->s.tls_desc, sizeof(L->s.tls_desc), "%s", d ? d : "?");
		gnutls_free(d);
	}
	set_state(L, c, C_HTTP);
	want(L, c, EPOLLIN);
	send_request(L, c);
}

static void on_connected(struct load *L, struct client *c)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
		fail(L, c, err ? strerror(err) : "connect failed");
		return;
	}
	if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
		die("gnutls_init failed");
	gnutls_priority_set(c->tls, L->prio);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, L->cred);
	gnutls_transport_set_int(c->tls, c->fd);
	set_state(L, c, C_HANDSHAKE);
	handshake_step(L, c);
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

static void tunnel_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len);

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

static void http_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len)
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

/* ---- tunnel ---- */

/* Forget in-flight packet i (the last one takes its place). */
static void fl_drop(struct client *c, uint32_t i)
{
	c->fl[i] = c->fl[--c->inflight];
}

void client_echo(struct load *L, struct client *c, const uint8_t *p, size_t len)
{
	const struct echo_hdr *eh = pkt_parse(p, len, c->addr);
	uint64_t now;
	uint32_t i;

	if (!eh || eh->client != c->idx) {
		L->s.bad_pkts++;
		return;
	}
	for (i = 0; i < c->inflight && c->fl[i].seq != eh->seq; i++)
		;
	if (i == c->inflight) {
		L->s.late++; /* after it was counted lost, or twice */
		return;
	}
	fl_drop(c, i);
	now = now_ns();
	L->s.rx_pkts++;
	L->s.rx_bytes += len;
	if (eh->sent_ns <= now)
		hist_add(&L->s.rtt, now - eh->sent_ns);
	c->last_progress = now;
	client_pump(L, c, now);
}

static bool on_frame(struct load *L, struct client *c, uint8_t type, const uint8_t *p, size_t n)
{
	uint8_t dpd_resp[TC_CSTP_HDR];

	switch (type) {
	case TC_DATA:
		client_echo(L, c, p, n);
		break;
	case TC_DPD_REQ:
		L->s.dpd++;
		tc_cstp_header(dpd_resp, TC_DPD_RESP, 0);
		if (send_record(L, c, dpd_resp, sizeof(dpd_resp)) == -1)
			return false;
		break;
	case TC_DPD_RESP:
	case TC_KEEPALIVE:
		break;
	default: /* DISCONNECT, TERMINATE, or something we do not know */
		if (c->st == C_BYE) {
			L->s.byes++;
			client_close(L, c);
		} else {
			fail(L, c,
			     type == TC_DISCONNECT ? "server sent DISCONNECT"
						   : "server ended the tunnel");
		}
		return false;
	}
	return c->st == C_TUNNEL || c->st == C_BYE;
}

static void keep_part(struct client *c, const uint8_t *buf, size_t len)
{
	if (!c->part && !(c->part = malloc(TC_CSTP_HDR + 65535)))
		die("out of memory");
	memcpy(c->part, buf, len);
	c->part_len = (uint32_t)len;
}

/* CSTP frames from the decrypted stream.  The server should send one frame
 * per record, but a frame split across records is put together in
 * c->part. */
static void tunnel_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len)
{
	uint32_t gen = c->gen;

	while (len > 0 && c->gen == gen) {
		const uint8_t *f;
		size_t flen;

		if (c->part_len) {
			size_t need = c->part_len < TC_CSTP_HDR
					  ? TC_CSTP_HDR - c->part_len
					  : tc_cstp_frame_len(c->part) - c->part_len;
			if (need > len)
				need = len;
			memcpy(c->part + c->part_len, buf, need);
			c->part_len += (uint32_t)need;
			buf += need;
			len -= need;
			if (c->part_len < TC_CSTP_HDR)
				return;
			if (!tc_cstp_magic(c->part)) {
				fail(L, c, "bad CSTP frame");
				return;
			}
			if (c->part_len == tc_cstp_frame_len(c->part)) {
				c->part_len = 0;
				if (!on_frame(L, c, c->part[6], c->part + TC_CSTP_HDR,
					      tc_cstp_frame_len(c->part) - TC_CSTP_HDR))
					return;
			}
			continue;
		}
		if (len < TC_CSTP_HDR) {
			keep_part(c, buf, len);
			return;
		}
		if (!tc_cstp_magic(buf)) {
			fail(L, c, "bad CSTP frame");
			return;
		}
		flen = tc_cstp_frame_len(buf);
		if (len < flen) {
			keep_part(c, buf, len);
			return;
		}
		f = buf;
		buf += flen;
		len -= flen;
		if (!on_frame(L, c, f[6], f + TC_CSTP_HDR, flen - TC_CSTP_HDR))
			return;
	}
}

void client_bye(struct load *L, struct client *c)
{
	static const char reason[] = "\xb0"
				     "load done"; /* 0xb0: the user quits, the session ends */
	uint8_t bye[TC_CSTP_HDR + sizeof(reason) - 1];

	if (c->st != C_TUNNEL)
		return;
	tc_cstp_header(bye, TC_DISCONNECT, sizeof(reason) - 1);
	memcpy(bye + TC_CSTP_HDR, reason, sizeof(reason) - 1);
	if (send_record(L, c, bye, sizeof(bye)) < 0 && c->st != C_TUNNEL)
		return;
	set_state(L, c, C_BYE);
	c->deadline = now_ns() + BYE_TIMEOUT;
}

void client_pump(struct load *L, struct client *c, uint64_t now)
{
	const struct opts *o = L->o;
	uint8_t *buf = L->scratch + L->scratch_cap / 2; /* the receive half is in use */
	struct echo_hdr eh = {.magic = LOAD_MAGIC, .client = c->idx};
	unsigned guard = 0;

	if (!c->fl && L->sending && !(c->fl = calloc(o->window, sizeof(*c->fl))))
		die("out of memory");
	while (L->sending && c->st == C_TUNNEL && c->inflight < o->window && guard++ < 64) {
		size_t n;
		if (o->interval_us) {
			if (now < c->next_send)
				return;
			c->next_send += (uint64_t)o->interval_us * 1000;
			if (c->next_send < now)
				c->next_send = now + (uint64_t)o->interval_us * 1000;
		}
		eh.seq = ++c->seq;
		eh.sent_ns = now_ns();
		n = pkt_build(buf + 8, o->payload, c->addr, &o->echo,
			      (uint16_t)(20000 + c->idx % 40000), &eh, o->tcp);
		buf[0] = 'S';
		buf[1] = 'T';
		buf[2] = 'F';
		buf[3] = 1;
		buf[4] = (uint8_t)(n >> 8);
		buf[5] = (uint8_t)n;
		buf[6] = 0;
		buf[7] = 0; /* also the DTLS record's type byte: DATA */
		if (dtls_send(L, c, buf + 7, n + 1))
			;
		else if (send_record(L, c, buf, n + 8) < 0)
			return; /* pending (retried on EPOLLOUT) or closed */
		else
			L->s.tls_tx_pkts++;
		c->fl[c->inflight++] = (struct inflight){eh.seq, eh.sent_ns};
		L->s.tx_pkts++;
		L->s.tx_bytes += n;
	}
}

static void on_readable(struct load *L, struct client *c)
{
	uint32_t gen = c->gen;
	size_t half = L->scratch_cap / 2;
	unsigned budget = 256; /* records per wake-up: fairness among clients */

	while (budget-- && c->gen == gen) {
		ssize_t r = gnutls_record_recv(c->tls, L->scratch, half);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION) {
			if (c->st == C_BYE) {
				L->s.byes++;
				client_close(L, c);
			} else {
				fail(L, c, "server closed the connection");
			}
			return;
		}
		if (r < 0) {
			if (gnutls_error_is_fatal((int)r)) {
				fail(L, c, gnutls_strerror((int)r));
				return;
			}
			continue;
		}
		if (c->st == C_HTTP)
			http_feed(L, c, L->scratch, (size_t)r);
		else
			tunnel_feed(L, c, L->scratch, (size_t)r);
	}
}

static void on_event(struct load *L, struct client *c, uint32_t ev)
{
	uint32_t gen = c->gen;

	switch (c->st) {
	case C_TCP:
		on_connected(L, c);
		return;
	case C_HANDSHAKE:
		handshake_step(L, c);
		return;
	case C_HTTP:
	case C_TUNNEL:
	case C_BYE:
		if ((ev & EPOLLOUT) && c->send_pending) {
			if (send_record(L, c, NULL, 0) < 0 && c->gen != gen)
				return;
			if (!c->send_pending && c->st == C_TUNNEL)
				client_pump(L, c, now_ns());
		}
		if (c->gen == gen && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			on_readable(L, c);
		return;
	case C_IDLE:
		return;
	}
}

/* The tunnel-less probe: one datagram per interval, half an interval
 * after the tunnel's, so the two never wait for each other. */
void raw_probe_send(struct load *L, uint64_t now)
{
	struct echo_hdr eh = {.magic = LOAD_MAGIC, .client = RAW_TAG};
	uint8_t buf[128] = {0};

	if (L->raw_fd < 0 || now < L->raw_next)
		return;
	if (L->raw_next == 0)
		L->raw_next = now + (uint64_t)L->o->interval_us * 500;
	L->raw_next += (uint64_t)L->o->interval_us * 1000;
	if (L->raw_next < now)
		L->raw_next = now + (uint64_t)L->o->interval_us * 1000;
	eh.seq = ++L->raw_seq;
	eh.sent_ns = now_ns();
	memcpy(buf, &eh, sizeof(eh));
	if (send(L->raw_fd, buf,
		 L->o->payload > 28 + sizeof(buf) ? sizeof(buf) : L->o->payload - 28,
		 MSG_DONTWAIT) < 0)
		L->raw_lost++;
}

static void raw_probe_recv(struct load *L)
{
	struct echo_hdr eh;
	uint8_t buf[2048];
	ssize_t r;

	while ((r = recv(L->raw_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= (ssize_t)sizeof(eh)) {
		uint64_t now = now_ns();
		memcpy(&eh, buf, sizeof(eh));
		if (eh.magic == LOAD_MAGIC && eh.client == RAW_TAG && eh.sent_ns <= now)
			hist_add(&L->raw, now - eh.sent_ns);
	}
}

void load_poll(struct load *L, int timeout_ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(L->ep, ev, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)ev[i].data.u64, gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (idx == RAW_TAG)
			raw_probe_recv(L);
		else if ((idx & UDP_TAG) && (idx & ~UDP_TAG) < L->n &&
			 L->c[idx & ~UDP_TAG].gen == gen)
			dtls_event(L, &L->c[idx & ~UDP_TAG]);
		else if (idx < L->n && L->c[idx].gen == gen)
			on_event(L, &L->c[idx], ev[i].events);
	}
}

void load_sweep(struct load *L, uint64_t now)
{
	for (unsigned i = 0; i < L->n; i++) {
		struct client *c = &L->c[i];
		if (c->st == C_IDLE)
			continue;
		if (c->deadline && now > c->deadline) {
			if (c->st == C_BYE) { /* the server never closed: give up on it */
				L->s.drops++;
				snprintf(L->s.fail_reason, sizeof(L->s.fail_reason),
					 "server did not close after DISCONNECT");
				client_close(L, c);
			} else {
				fail(L, c, "connect timeout");
			}
			continue;
		}
		if (c->st == C_TUNNEL)
			dtls_sweep(L, c, now);
		if (c->st == C_TUNNEL && L->sending) {
			/* Echoes lost (a full queue or the path dropped them):
			 * forgotten after LOSS_NS so the window refills. */
			for (uint32_t k = 0; k < c->inflight;) {
				if (now - c->fl[k].sent_ns > LOSS_NS) {
					L->s.lost++;
					fl_drop(c, k);
				} else {
					k++;
				}
			}
			client_pump(L, c, now);
		}
	}
}

int load_init(struct load *L, const struct opts *o, unsigned n)
{
	const char *errpos = NULL;
	int r;

	memset(L, 0, sizeof(*L));
	L->o = o;
	L->n = n;
	L->c = calloc(n, sizeof(*L->c));
	L->scratch_cap = 2 * (HTTP_IN_MAX + 8 + 65536);
	L->scratch = malloc(L->scratch_cap);
	if (!L->c || !L->scratch)
		die("out of memory");
	for (unsigned i = 0; i < n; i++) {
		L->c[i].idx = i;
		L->c[i].fd = -1;
	}
	L->ep = epoll_create1(EPOLL_CLOEXEC);
	if (L->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	if (gnutls_certificate_allocate_credentials(&L->cred) < 0)
		die("gnutls_certificate_allocate_credentials failed");
	r = gnutls_priority_init(&L->prio, o->priority, &errpos);
	if (r < 0)
		die("bad --priority at '%s': %s", errpos ? errpos : "?", gnutls_strerror(r));
	hist_init(&L->s.connect_lat);
	hist_init(&L->s.rtt);
	hist_init(&L->s.dtls_lat);
	hist_init(&L->s.rehs_lat);
	hist_init(&L->raw);
	L->raw_fd = -1;
	if (o->raw_compare) {
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = RAW_TAG};
		L->raw_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (L->raw_fd < 0 ||
		    connect(L->raw_fd, (const struct sockaddr *)&o->echo, sizeof(o->echo)) < 0 ||
		    epoll_ctl(L->ep, EPOLL_CTL_ADD, L->raw_fd, &e) < 0)
			die("raw probe socket: %s", strerror(errno));
	}
	return 0;
}

void load_free(struct load *L)
{
	for (unsigned i = 0; i < L->n; i++)
		client_close(L, &L->c[i]);
	gnutls_priority_deinit(L->prio);
	gnutls_certificate_free_credentials(L->cred);
	free(L->cert_der.data);
	hist_free(&L->s.connect_lat);
	hist_free(&L->s.rtt);
	hist_free(&L->s.dtls_lat);
	hist_free(&L->s.rehs_lat);
	hist_free(&L->raw);
	if (L->raw_fd >= 0)
		close(L->raw_fd);
	close(L->ep);
	free(L->scratch);
	free(L->c);
}
