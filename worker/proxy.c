/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the PROXY phase of a connection accepted on a listen-proxy
 * address.  A load balancer (HAProxy's send-proxy or send-proxy-v2) opens
 * it with a header naming the real client (common/proxyproto.h); from then
 * on the connection is that client's: its peer text, its address key for
 * admission (conn_readdress), and through them the master's bans, logs and
 * tunnelctl.  The header is read off the socket exactly: each read peeks,
 * then takes only bytes that belong to the header, so the TLS bytes after
 * it stay in the socket for the handshake.  Owns the connection's request
 * buffer (hbuf) while in this phase; the deadline is the handshake's.
 * Handlers return a step; conn.c applies it. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/proxyproto.h"

/* A connection without a valid header: closed, and proxy_leave logs it. */
static struct conn_step refuse(struct conn *c, const char *why)
{
	(void)c;
	return step_close(why);
}

/* The client the header names becomes the connection's peer. */
static struct conn_step readdress(struct conn *c, const struct proxy_hdr *h)
{
	struct sockaddr_storage ss = {0};
	uint8_t key[ADDRKEY_LEN];
	char a[INET6_ADDRSTRLEN], was[sizeof(c->peer)];

	if (h->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, h->src, 4);
		s4->sin_port = htons(h->sport);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, h->src, 16);
		s6->sin6_port = htons(h->sport);
	}
	inet_ntop(h->family, h->src, a, sizeof(a));
	memcpy(was, c->peer, sizeof(was));
	snprintf(c->peer, sizeof(c->peer), h->family == AF_INET ? "%s:%u" : "[%s]:%u", a, h->sport);
	addrkey_of_sockaddr((const struct sockaddr *)&ss, W.cfg->ipv6_prefix, key);
	log_debug("connection from %s through %s (PROXY v%u)", c->peer, was, h->version);
	if (!conn_readdress(c, key))
		return step_close("limits.max-handshakes-per-address reached");
	return step_to(CS_HANDSHAKE);
}

struct conn_step proxy_read(struct conn *c)
{
	struct proxy_hdr h;
	const char *why;
	ssize_t n;
	long r;

	if (!c->hbuf) {
		c->hbuf = malloc(PROXY_MAX);
		if (!c->hbuf)
			return step_close("out of memory");
		c->hcap = PROXY_MAX;
		c->hlen = 0;
	}
	n = recv(c->fd, c->hbuf + c->hlen, PROXY_MAX - c->hlen, MSG_PEEK);
	if (n == 0)
		return refuse(c, "it ended before a whole PROXY header");
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? step_to(CS_PROXY)
							 : step_close("recv failed");
	r = proxy_parse((const uint8_t *)c->hbuf, c->hlen + (size_t)n, &h, &why);
	if (r < 0)
		return refuse(c, why);
	/* Take what belongs to the header: all that was peeked while it is
	 * not whole, else exactly up to its end. */
	n = r == 0 ? n : r - (long)c->hlen;
	if (recv(c->fd, c->hbuf + c->hlen, (size_t)n, 0) != n)
		return step_close("recv failed");
	c->hlen += (uint32_t)n;
	if (r == 0)
		return step_to(CS_PROXY);
	if (h.family == AF_UNSPEC) {
		/* LOCAL (the balancer's health check) or UNKNOWN: the
		 * connection is the balancer's own. */
		log_debug("connection from %s: PROXY v%u without a client address", c->peer,
			  h.version);
		return step_to(CS_HANDSHAKE);
	}
	return readdress(c, &h);
}

/* Closed before its header was read (none, a bad one, too slow): one line
 * a second with a count; only the balancer should reach this port. */
static void log_closed(const struct conn *c, const char *why)
{
	static time_t logged;
	static unsigned long n;
	time_t now = time(NULL);

	n++;
	if (now == logged)
		return;
	log_warn("connection from %s on a listen-proxy address closed: %s (%lu such "
		 "connection(s) since the last line)",
		 c->peer, why, n);
	logged = now;
	n = 0;
}

void proxy_leave(struct conn *c, enum conn_state next, const char *why)
{
	if (next == CS_CLOSING)
		log_closed(c, why);
	if (!c->hbuf)
		return;
	explicit_bzero(c->hbuf, c->hcap);
	free(c->hbuf);
	c->hbuf = NULL;
	c->hlen = c->hcap = 0;
}
