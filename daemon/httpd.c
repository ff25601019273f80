/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the monitoring endpoint (see httpd.h).  A connection
 * lives in one slot of a fixed table:
 *
 *   accept --> READING --http_parse: complete, bad or too big--> WRITING
 *   WRITING --all sent: shutdown(SHUT_WR)--> LINGERING --EOF from the client--> closed
 *   any --deadline (httpd_tick), error--> closed
 *
 * LINGERING reads and drops what the client still sends until it closes:
 * closing with unread bytes would reset the connection, and the reset can
 * destroy the answer before the client has read it.
 *
 * The answer is made at once from the master's state (no other process is
 * asked), so a scrape sees the figures of one instant.  Requests are
 * parsed by common/http.c, the parser the workers use for clients (and
 * the fuzzers test).  Epoll events carry the slot and a generation, so an
 * event of a connection closed earlier in the same batch is dropped. */
#include "config.h"
#include "daemon/httpd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http.h"
#include "common/log.h"
#include "daemon/events.h"

#define ACCEPT_BATCH 16

struct hconn {
	int fd; /* -1: free */
	uint32_t gen;
	time_t deadline;
	size_t in_len;
	bool lingering; /* the answer is out: waiting for the client's EOF */
	char *out;	/* the answer, once made (malloc'ed) */
	size_t out_len, out_off;
	char in[HTTPD_REQ_MAX];
};

static struct {
	bool started; /* httpd_start() ran: the table is set up */
	int ep, lfd;
	struct httpd_ops ops;
	struct hconn c[HTTPD_MAX_CONNS];
	unsigned long refused; /* connections closed at accept: the table was full */
	time_t refused_logged;
} H = {.ep = -1, .lfd = -1};

static unsigned idx_of(const struct hconn *c)
{
	return (c->gen & 0xffffffu) << 8 | (unsigned)(c - H.c + 1);
}

int httpd_listen(const struct cfg_listen *l, int *fd)
{
	int one = 1, s, r;

	s = socket(l->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (const struct sockaddr *)&l->ss, l->sslen) < 0 || listen(s, 64) < 0) {
		r = -errno;
		close(s);
		return r;
	}
	*fd = s;
	return 0;
}

static int watch_listener(void)
{
	return H.lfd < 0 ? 0 : ev_ctl(H.ep, EPOLL_CTL_ADD, H.lfd, EPOLLIN, EV_HTTP, 0);
}

int httpd_start(int ep, int lfd, const struct httpd_ops *ops)
{
	for (unsigned i = 0; i < HTTPD_MAX_CONNS; i++)
		H.c[i].fd = -1;
	H.ep = ep;
	H.lfd = lfd;
	H.ops = *ops;
	H.started = true;
	return watch_listener();
}

void httpd_swap(int lfd)
{
	if (H.lfd >= 0)
		close(H.lfd); /* leaves the epoll with it */
	H.lfd = lfd;
	if (watch_listener() < 0)
		log_warn("metrics.listen: cannot watch the new socket: %s", strerror(errno));
}

static void conn_close(struct hconn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->lingering = false;
	c->gen++;
}

/* ---- answers ------------------------------------------------------------ */

/* The whole answer into c->out; body is taken over (NULL: none). */
static void answer(struct hconn *c, int status, const char *reason, const char *type, char *body,
		   size_t blen, bool head_only, const char *extra)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		     status, reason, type, blen, extra ? extra : "");
	c->out = malloc((size_t)n + (head_only ? 0 : blen));
	if (c->out) {
		memcpy(c->out, hdr, (size_t)n);
		if (!head_only && blen)
			memcpy(c->out + n, body, blen);
		c->out_len = (size_t)n + (head_only ? 0 : blen);
	}
	c->out_off = 0;
	free(body);
}

static void answer_text(struct hconn *c, int status, const char *reason, const char *text,
			bool head_only, const char *extra)
{
	char *b = strdup(text);

	answer(c, status, reason, "text/plain; charset=utf-8", b, b ? strlen(b) : 0, head_only,
	       extra);
}

static bool path_is(const struct http_str *p, const char *want)
{
	size_t n = strlen(want);

	/* A query string is allowed and ignored: Prometheus may add one. */
	return p->n >= n && !memcmp(p->p, want, n) && (p->n == n || p->p[n] == '?');
}

static void route(struct hconn *c, const struct http_req *rq)
{
	bool head = rq->method_text.n == 4 && !memcmp(rq->method_text.p, "HEAD", 4);
	const char *why;
	size_t len = 0;
	char *body, msg[64];

	if (rq->method != HTTP_GET && !head) {
		answer_text(c, 405, "Method Not Allowed", "GET or HEAD only\n", false,
			    "Allow: GET, HEAD\r\n");
	} else if (path_is(&rq->path, "/metrics")) {
		body = H.ops.metrics(&len);
		if (body)
			answer(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, len,
			       head, NULL);
		else
			answer_text(c, 503, "Service Unavailable", "out of memory\n", head, NULL);
	} else if (path_is(&rq->path, "/healthz")) {
		why = H.ops.health();
		snprintf(msg, sizeof(msg), "%s\n", why ? why : "ok");
		answer_text(c, why ? 503 : 200, why ? "Service Unavailable" : "OK", msg, head,
			    NULL);
	} else {
		answer_text(c, 404, "Not Found", "/metrics or /healthz\n", head, NULL);
	}
}

/* ---- connections -------------------------------------------------------- */

static void want(struct hconn *c, uint32_t events)
{
	if (ev_ctl(H.ep, EPOLL_CTL_MOD, c->fd, events, EV_HTTP, idx_of(c)) < 0)
		conn_close(c);
}

/* Drop what the client sends until it closes (or the deadline). */
static void linger(struct hconn *c)
{
	char sink[512];
	ssize_t n;

	while ((n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

/* Write what the answer has left; then stop sending and linger. */
static void write_out(struct hconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			want(c, EPOLLOUT);
			return;
		}
		conn_close(c); /* the client is gone */
		return;
	}
	if (shutdown(c->fd, SHUT_WR) < 0) {
		conn_close(c);
		return;
	}
	c->lingering = true;
	want(c, EPOLLIN);
	if (c->fd >= 0)
		linger(c);
}

static const char *status_text(int status)
{
	switch (status) {
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Bad Request";
	}
}

/* The request so far: answer once it is whole, bad or too big. */
static void parse(struct hconn *c)
{
	static const struct http_limits lim = {HTTPD_REQ_MAX, 0, 32};
	struct http_req rq;
	long r = http_parse(c->in, c->in_len, &lim, &rq);

	if (r == 0 && c->in_len < sizeof(c->in))
		return; /* more to come */
	if (r > 0) {
		route(c, &rq);
	} else {
		int st = r == 0 ? 431 : rq.status ? rq.status : 400;

		log_debug("metrics: bad request: %d %s", st,
			  r == 0     ? "too large"
			  : rq.error ? rq.error
				     : "?");
		answer_text(c, st, status_text(st), "bad request\n", false, NULL);
	}
	if (!c->out) {
		conn_close(c);
		return;
	}
	write_out(c);
}

static void read_in(struct hconn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n > 0) {
			c->in_len += (size_t)n;
			if (c->in_len == sizeof(c->in))
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		conn_close(c); /* EOF before a whole request, or an error */
		return;
	}
	parse(c);
}

static struct hconn *free_slot(void)
{
	for (unsigned i = 0; i < HTTPD_MAX_CONNS; i++)
		if (H.c[i].fd < 0)
			return &H.c[i];
	return NULL;
}

static void on_listener(void)
{
	for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(H.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct hconn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("metrics: accept: %s", strerror(errno));
			return;
		}
		c = free_slot();
		if (!c) {
			close(fd);
			H.refused++;
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->lingering = false;
		c->out = NULL; /* freed when it was closed */
		c->deadline = time(NULL) + HTTPD_DEADLINE_S;
		if (ev_ctl(H.ep, EPOLL_CTL_ADD, fd, EPOLLIN, EV_HTTP, idx_of(c)) < 0)
			conn_close(c);
	}
}

void httpd_on_event(unsigned idx, uint32_t events)
{
	struct hconn *c;
	unsigned slot = idx & 0xff;

	if (!H.started)
		return;
	if (idx == 0) {
		if (H.lfd >= 0)
			on_listener();
		return;
	}
	if (slot == 0 || slot > HTTPD_MAX_CONNS)
		return;
	c = &H.c[slot - 1];
	if (c->fd < 0 || idx_of(c) != idx)
		return; /* closed earlier in this batch */
	if (c->lingering)
		linger(c);
	else if (c->out)
		write_out(c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_in(c);
}

void httpd_tick(time_t now)
{
	if (!H.started)
		return;
	for (unsigned i = 0; i < HTTPD_MAX_CONNS; i++)
		if (H.c[i].fd >= 0 && now >= H.c[i].deadline)
			conn_close(&H.c[i]);
	if (H.refused && now != H.refused_logged) {
		log_warn("metrics: %lu connection(s) closed at once: %d are being served already",
			 H.refused, HTTPD_MAX_CONNS);
		H.refused = 0;
		H.refused_logged = now;
	}
}

void httpd_forget(void)
{
	if (!H.started)
		return;
	if (H.lfd >= 0)
		close(H.lfd);
	H.lfd = -1;
	for (unsigned i = 0; i < HTTPD_MAX_CONNS; i++)
		if (H.c[i].fd >= 0) {
			close(H.c[i].fd);
			H.c[i].fd = -1;
		}
}

void httpd_stop(void)
{
	if (!H.started)
		return;
	httpd_forget();
	for (unsigned i = 0; i < HTTPD_MAX_CONNS; i++) {
		free(H.c[i].out);
		H.c[i].out = NULL;
		H.c[i].lingering = false;
	}
}
