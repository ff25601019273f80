/* Worker: the HTTP phases of a connection (PROTOCOL.md sections 2-4): the
 * XML login dialogue and CONNECT, up to the master's grant (tunnel.c then
 * answers CONNECTED).  Owns the connection's request buffer (hbuf) until
 * the tunnel starts, and the count of logins waiting for the master.
 * Password checks and cookie look-ups go to the master, so this loop never
 * waits on a hash; beyond this worker's share of limits.max-pending-logins
 * a login is answered 503 at once.  Handlers return a step; conn.c applies
 * it, and drops an answer from the master that comes in a phase not
 * waiting for it. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/authxml.h"
#include "common/dtls.h"
#include "common/formenc.h"
#include "common/log.h"
#include "common/ticket.h"
#include "worker/cert.h"

#define RESP_MAX 8192
/* A form: inputs, a message and a banner, escaped (at most six bytes a
 * character). */
#define FORM_MAX 16384

/* The banner of the last CONNECT the master granted, for tunnel_enter(),
 * which the same step runs right after login_connect_reply(). */
static char banner[IPC_TEXT_MAX];

static size_t hbuf_cap(void)
{
	return W.http_lim.max_header + W.http_lim.max_body;
}

/* Answer the current request: the head in one record, a body in records
 * of at most 16 KiB.  Back to CS_HTTP for the next one, or CS_DRAIN when
 * the connection ends after this answer. */
static struct conn_step answer(struct conn *c, int status, const char *reason, const char *type,
			       const char *extra, const char *body, size_t blen, bool close_after)
{
	char head[RESP_MAX];
	int n, r;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Transcend-Version: 1\r\n"
		     "%s%s\r\n",
		     status, reason, type, blen, extra ? extra : "",
		     close_after ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return step_close("response too large");
	r = tls_send(c, head, (size_t)n);
	explicit_bzero(head, sizeof(head));
	for (size_t off = 0; r == 0 && off < blen; off += 16384)
		r = tls_send(c, body + off, blen - off < 16384 ? blen - off : 16384);
	if (r == -EPIPE)
		return step_close(TLS_SEND_FAILED);
	if (r < 0)
		return step_close("answer does not fit the send queue");
	return step_to(close_after ? CS_DRAIN : CS_HTTP);
}

static struct conn_step respond(struct conn *c, int status, const char *reason, const char *extra,
				const char *body, bool close_after)
{
	return answer(c, status, reason, "text/xml", extra, body, body ? strlen(body) : 0,
		      close_after);
}

/* A form of the dialogue the master runs; without inputs the dialogue is
 * over and the connection ends after it. */
static struct conn_step send_dialog(struct conn *c, const struct ipc_form *f)
{
	static char body[FORM_MAX];
	struct conn_step st;

	c->dlg_open = f->n > 0;
	if (authxml_write_dialog(body, sizeof(body), f) < 0)
		return step_close("cannot write login form");
	st = respond(c, 200, "OK", NULL, body, f->n == 0);
	explicit_bzero(body, sizeof(body));
	return st;
}

/* The end of a login with a message for the user (no inputs). */
static struct conn_step send_final(struct conn *c, const char *error)
{
	struct ipc_form f = {.n = 0};

	snprintf(f.auth_id, sizeof(f.auth_id), "failure");
	snprintf(f.error, sizeof(f.error), "%s", error);
	return send_dialog(c, &f);
}

/* This worker's share of limits.max-pending-logins. */
static uint32_t pending_share(void)
{
	uint32_t n = W.env->n_workers ? W.env->n_workers : 1;

	return (W.cfg->max_pending_logins + n - 1) / n;
}

/* The master is not asked: too many logins wait for it already, or the
 * control socket's queue is full.  One log line a second with a count. */
static struct conn_step busy(struct conn *c)
{
	static time_t logged;
	static unsigned long n;
	time_t now = time(NULL);

	n++;
	if (now != logged) {
		log_warn("%lu login(s) answered 503 busy, the last from %s: %u password checks "
			 "pending on this worker (its share of limits.max-pending-logins, %u)",
			 n, c->peer, W.auth_pending, pending_share());
		logged = now;
		n = 0;
	}
	return respond(c, 503, "Service Unavailable",
		       "X-Reason: busy, try again (limits.max-pending-logins)\r\n", NULL, true);
}

/* What the client posted (or nothing: a GET, an init) as an IPC_AUTH_REQ
 * for the master's dialogue. */
static void fill_request(struct ipc_msg *m, const struct conn *c, const struct authxml *ax)
{
	struct ipc_answer *an;

	snprintf(m->u.auth_req.peer, sizeof(m->u.auth_req.peer), "%s", c->peer);
	if (!ax || ax->type != AUTHXML_REPLY)
		m->u.auth_req.flags |= IPC_AUTH_START;
	if (ax && ax->cert_fail)
		m->u.auth_req.flags |= IPC_AUTH_CERT_FAIL;
	/* The group chosen, also in an init (the stock client's request for
	 * the form of the group it picked). */
	if (ax)
		memcpy(m->u.auth_req.group, ax->group, strlen(ax->group) + 1); /* fits() */
	if (!ax || ax->type != AUTHXML_REPLY)
		return;
	memcpy(m->u.auth_req.user, ax->username, strlen(ax->username) + 1);
	memcpy(m->u.auth_req.pass, ax->password, strlen(ax->password) + 1);
	for (unsigned i = 0; i < ax->n_ans && i < IPC_INPUTS_MAX; i++) {
		an = &m->u.auth_req.ans[m->u.auth_req.n_ans++];
		snprintf(an->name, sizeof(an->name), "%s", ax->ans[i].name);
		memcpy(an->value, ax->ans[i].value, strlen(ax->ans[i].value) + 1);
	}
}

/* The fields must fit the request: the user name and password their
 * arrays, the other answers theirs (the same size as the parser's). */
static bool fits(const struct authxml *ax)
{
	return strlen(ax->username) < IPC_USER_MAX && strlen(ax->password) < IPC_PASS_MAX &&
	       strlen(ax->group) < IPC_USER_MAX;
}

/* A login request to the master: the dialogue is its. */
static struct conn_step ask_master(struct conn *c, const struct authxml *ax)
{
	static struct ipc_msg m;
	int r;

	if (W.auth_pending >= pending_share())
		return busy(c);
	memset(&m, 0, sizeof(m));
	m.type = IPC_AUTH_REQ;
	m.ref = (struct ipc_ref){conn_index(c), c->gen};
	fill_request(&m, c, ax);
	login_cert(c, &m);
	r = chan_send(&m);
	explicit_bzero(&m, sizeof(m));
	if (r == -ENOBUFS)
		return busy(c);
	return r < 0 ? step_close("master unreachable") : step_to(CS_AUTH_WAIT);
}

static struct conn_step on_post(struct conn *c, const struct http_req *req)
{
	static struct authxml ax;
	struct conn_step st;
	int r;

	/* XML (the stock client), else a form (--no-xmlpost, old clients). */
	r = authxml_parse(req->body.p, req->body.n, &ax);
	if (r == -1)
		r = formenc_parse(req->body.p, req->body.n, &ax);
	if (r == AUTHXML_BAD_USER) {
		/* The master escapes the name in the line; the client gets
		 * what a wrong password gets. */
		log_warn("login from %s refused: control character in the user name '%s'", c->peer,
			 ax.username);
		explicit_bzero(&ax, sizeof(ax));
		return send_final(c, W.cfg->auth_failure_message);
	}
	if (r < 0) /* neither: a browser's post, say: the first form */
		return ask_master(c, NULL);
	if (!fits(&ax)) {
		explicit_bzero(&ax, sizeof(ax));
		log_info("login from %s refused: user name or password too long", c->peer);
		return send_final(c, W.cfg->auth_failure_message);
	}
	st = ask_master(c, &ax);
	explicit_bzero(&ax, sizeof(ax));
	return st;
}

struct conn_step login_auth_enter(struct conn *c, const char *why)
{
	(void)c;
	(void)why;
	W.auth_pending++;
	return step_to(CS_AUTH_WAIT);
}

void login_auth_leave(struct conn *c, enum conn_state next, const char *why)
{
	W.auth_pending--;
	if (next != CS_CLOSING)
		return; /* the answer came */
	/* Closed, evicted or timed out before the answer: the master drops
	 * the check if it still waits, rather than hash for nobody. */
	chan_cancel_login(c);
	c->dlg_open = false;
	log_debug("connection from %s closed while its login was checked: %s", c->peer, why);
}

void login_forget(struct conn *c)
{
	/* A dialogue waits for this client's answers at the master. */
	if (c->dlg_open && c->state != CS_AUTH_WAIT)
		chan_cancel_login(c);
	c->dlg_open = false;
}

void login_cert(struct conn *c, struct ipc_msg *m)
{
	const struct tls_ctx *t = c->tctx;
	const char *why = "";
	int r;

	if (!t || !t->client_ca)
		return;
	r = cert_identity(c->tls, t->user_field, t->group_field[0] ? t->group_field : NULL,
			  m->u.auth_req.cert_user, sizeof(m->u.auth_req.cert_user),
			  m->u.auth_req.cert_groups, sizeof(m->u.auth_req.cert_groups), &why);
	if (r < 0)
		log_info("client certificate from %s not taken: %s", c->peer, why);
}

const char *login_banner(void)
{
	return banner;
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

static struct conn_step on_connect(struct conn *c, const struct http_req *req)
{
	struct ipc_msg m = {.type = IPC_CONNECT_REQ, .ref = {conn_index(c), c->gen}};
	int r;

	if (!str_eq(&req->path, "/CSCOSSLC/tunnel") && !str_eq(&req->path, "CSCOSSLC/tunnel"))
		return respond(c, 404, "Not Found", NULL, NULL, !req->keep_alive);
	if (!req->cookie_webvpn.p || (r = ticket_decode(req->cookie_webvpn.p, req->cookie_webvpn.n,
							m.u.connect_req.cookie)) < 0) {
		log_warn("CONNECT from %s refused: %s", c->peer,
			 req->cookie_webvpn.p ? "malformed cookie" : "no cookie");
		return respond(c, 401, "Cookie is not valid", NULL, NULL, true);
	}
	m.u.connect_req.cookie_len = (uint32_t)r;
	snprintf(m.u.connect_req.peer, sizeof(m.u.connect_req.peer), "%s", c->peer);
	c->have6 = wants_ipv6(req); /* narrowed to the pools by tunnel.c */
	c->cisco =
	    W.cfg->dtls_cisco_compat && dtls_cisco_agent(req->user_agent.p, req->user_agent.n);
	if (dtls_offer(c, req) < 0)
		return step_close("out of memory");
	r = chan_send(&m);
	explicit_bzero(&m, sizeof(m));
	if (r == -ENOBUFS)
		return respond(c, 503, "Service Unavailable", "X-Reason: busy, try again\r\n", NULL,
			       true);
	return r < 0 ? step_close("master unreachable") : step_to(CS_CONNECT_WAIT);
}

/* GET: the login form where clients look for it, the URLs of Cisco's
 * downloader, else 404. */
static struct conn_step on_get(struct conn *c, const struct http_req *req)
{
	struct cisco_answer a;

	/* The legacy login starts with a GET (openconnect --no-xmlpost). */
	if (str_eq(&req->path, "/") || str_eq(&req->path, "/auth") || str_eq(&req->path, "/VPN"))
		return ask_master(c, NULL);
	if (cisco_url(&req->path, &a))
		return answer(c, a.status, "OK", a.type, NULL, a.body, a.len, !req->keep_alive);
	return respond(c, 404, "Not Found", NULL, NULL, !req->keep_alive);
}

static struct conn_step on_request(struct conn *c, const struct http_req *req)
{
	switch (req->method) {
	case HTTP_POST:
		return on_post(c, req);
	case HTTP_CONNECT:
		return on_connect(c, req);
	case HTTP_GET:
		return on_get(c, req);
	default:
		return respond(c, 405, "Method Not Allowed", "Allow: GET, POST, CONNECT\r\n", NULL,
			       true);
	}
}

/* Parse and answer whole requests from hbuf while the connection stays in
 * CS_HTTP; stop where a request takes it (the master is asked something,
 * or the answer ends the connection). */
static struct conn_step process(struct conn *c)
{
	struct conn_step st = step_to(CS_HTTP);
	struct http_req req;
	long n;

	while (st.next == CS_HTTP && c->hlen > 0) {
		/* Goes on where the last call for this request stopped. */
		n = http_parse_more(c->hp, c->hbuf, c->hlen, &W.http_lim, &req);
		if (n == 0)
			break;
		if (n < 0) {
			log_info("bad HTTP request from %s: %s", c->peer, req.error);
			return respond(c, req.status, req.error, NULL, NULL, true);
		}
		st = on_request(c, &req);
		if (st.next == CS_CLOSING)
			break;
		/* Drop the request (and any password in it) from the buffer. */
		memmove(c->hbuf, c->hbuf + n, c->hlen - (size_t)n);
		explicit_bzero(c->hbuf + c->hlen - n, (size_t)n);
		c->hlen -= (uint32_t)n;
		http_parser_init(c->hp);
	}
	return st;
}

/* Data in CS_HTTP, and in the phases waiting for the master, whose
 * requests (pipelined) are kept until the answer comes. */
struct conn_step login_on_data(struct conn *c, const uint8_t *buf, size_t len)
{
	struct conn_step st = step_to(c->state);

	if (!c->hbuf) {
		c->hcap = (uint32_t)hbuf_cap();
		c->hbuf = malloc(c->hcap);
		c->hp = malloc(sizeof(*c->hp));
		if (!c->hbuf || !c->hp)
			return step_close("out of memory");
		c->hlen = 0;
		http_parser_init(c->hp);
	}
	/* Take what fits and parse it: the parser answers an oversized
	 * header section (431) or body (413) as soon as it sees one; then the
	 * rest, if the connection still wants it. */
	while (len > 0) {
		size_t n = c->hcap - c->hlen < len ? c->hcap - c->hlen : len;

		if (n == 0) {
			/* Full, and no request ends inside: only possible while
			 * a request waits for the master (pipelining). */
			log_info("bad HTTP request from %s: too many pipelined bytes", c->peer);
			return step_close("request too large");
		}
		memcpy(c->hbuf + c->hlen, buf, n);
		c->hlen += (uint32_t)n;
		buf += n;
		len -= n;
		if (st.next == CS_HTTP)
			st = process(c);
		if (st.next != CS_HTTP && st.next != CS_AUTH_WAIT && st.next != CS_CONNECT_WAIT)
			break;
	}
	return st;
}

/* A refusal or a failure: the form again (with its error), or the end
 * (no inputs; a refusal's reason, one the user should read such as a ban
 * or a limit, as its error, which clients show). */
static struct conn_step refused(struct conn *c, const struct ipc_msg *m)
{
	struct ipc_form f = m->u.auth_resp.form;

	if (f.n == 0) {
		if (m->u.auth_resp.reason[0])
			memcpy(f.error, m->u.auth_resp.reason, sizeof(f.error));
		if (!f.error[0])
			snprintf(f.error, sizeof(f.error), "%s", W.cfg->auth_failure_message);
		if (!f.auth_id[0])
			snprintf(f.auth_id, sizeof(f.auth_id), "failure");
	}
	f.error[sizeof(f.error) - 1] = '\0';
	return send_dialog(c, &f);
}

struct conn_step login_auth_reply(struct conn *c, const struct ipc_msg *m)
{
	char extra[TICKET_MAX_TEXT_LEN + 320], body[2048], manifest[512], webvpnc[224];
	struct conn_step st;

	if (m->u.auth_resp.result == IPC_AUTH_FORM) {
		st = send_dialog(c, &m->u.auth_resp.form);
		return st.next == CS_HTTP ? process(c) : st;
	}
	if (m->u.auth_resp.result != 0) {
		st = refused(c, m);
		return st.next == CS_HTTP ? process(c) : st;
	}
	c->dlg_open = false;
	if (cisco_login_extras(manifest, sizeof(manifest), webvpnc, sizeof(webvpnc)) < 0)
		return step_close("cannot write the profile manifest");
	snprintf(extra, sizeof(extra), "Set-Cookie: webvpn=%s; Secure; HttpOnly\r\n%s",
		 m->u.auth_resp.cookie, webvpnc);
	if (authxml_write_success_config(body, sizeof(body), manifest[0] ? manifest : NULL) < 0) {
		explicit_bzero(extra, sizeof(extra));
		return step_close("cannot write success document");
	}
	st = respond(c, 200, "OK", extra, body, false);
	explicit_bzero(extra, sizeof(extra));
	return st.next == CS_HTTP ? process(c) : st;
}

struct conn_step login_connect_reply(struct conn *c, const struct ipc_msg *m)
{
	char extra[160];

	if (m->u.connect_resp.status != 200) {
		int st = m->u.connect_resp.status;
		snprintf(extra, sizeof(extra), "X-Reason: %s\r\n", m->u.connect_resp.reason);
		return respond(c, st, st == 401 ? "Cookie is not valid" : "Service Unavailable",
			       st == 503 ? extra : NULL, NULL, true);
	}
	memcpy(banner, m->u.connect_resp.banner, sizeof(banner));
	banner[sizeof(banner) - 1] = '\0';
	c->sess_id = m->u.connect_resp.sess_id;
	c->serial = (uint32_t)(c->sess_id >> 32);
	c->lease = m->u.connect_resp.lease;
	/* Its group's policy as the worker has it now (tunnel_enter holds it)
	 * and the session's lifetimes, which a reconnect does not reset. */
	c->grp = policy_group(W.policy, m->u.connect_resp.group);
	c->created = (time_t)m->u.connect_resp.created;
	c->last_active = (time_t)m->u.connect_resp.last_active;
	c->granted = m; /* read by tunnel_enter, in this same call */
	/* What follows the CONNECT is CSTP, no more requests. */
	free(c->hp);
	c->hp = NULL;
	/* tunnel.c answers CONNECTED and logs the user in. */
	return (struct conn_step){CS_TUNNEL, m->u.connect_resp.user};
}
