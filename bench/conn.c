/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load: a simulated client's connection: its state and the
 * counters that follow it, the TCP connect, TLS records out, and closing. */
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

void set_state(struct load *L, struct client *c, enum cstate st)
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

void want(struct load *L, struct client *c, uint32_t ev)
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

void fail(struct load *L, struct client *c, const char *why)
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
void tcp_open(struct load *L, struct client *c)
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
int send_record(struct load *L, struct client *c, const void *buf, size_t len)
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
