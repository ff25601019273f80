/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: a TLS stream service's stream after its handshake.  Handlers of
 * CS_SVC_CONNECT and CS_SVC_RELAY (conn.c's phases[] table); owns each
 * stream's destination socket, its queue of plaintext for the destination
 * (with a free list) and the flush list of those queues.
 *
 *   HANDSHAKE --handshake (conn.c)--> SVC_CONNECT --relay_connect_event-->
 *   SVC_RELAY; a destination that refuses or does not answer within
 *   connect-timeout: a log line with the reason, then DRAIN (close_notify).
 *
 * Back-pressure, never unbounded buffering: the client is read only while
 * the destination's queue has room for a whole read (UP_READ_ROOM), and
 * the destination only while the client's TLS queue (limits.queue-bytes)
 * has room for a record; the other side's kernel buffers fill, and TCP
 * slows the sender.  Half-close both ways: the client's close_notify (or
 * FIN) becomes shutdown(SHUT_WR) towards the destination once its queue
 * is sent; the destination's FIN becomes close_notify, then a FIN, towards
 * the client; the stream ends when both ways are closed, or at
 * idle-timeout.  No splice(): without kernel TLS every byte is encrypted
 * or decrypted here, so it passes through memory anyway. */
#include "config.h"
#include "worker/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define NIL	       UINT32_MAX
#define UP_BUF	       (128 << 10) /* a stream's queue for the destination, while it has data */
#define UP_READ_ROOM   (96 << 10)  /* one recv (64 KiB) and a record GnuTLS holds in part */
#define UP_FREE_KEEP   64	   /* idle queues kept for reuse */
#define DOWN_MIN       (TLS_RECORD_MAX + 2 * TLS_RECORD_OVERHEAD) /* read the destination */
#define DOWN_RESUME    (64 << 10)				  /* ... again */
#define DOWN_READS     4  /* reads from one destination per event */
#define RELAY_UP_UNREG 32 /* half: the destination's socket hung up while paused */

static struct obuf *free_up;
static unsigned n_free_up;
static uint32_t dirty_head = NIL;
static uint8_t scratch[64 << 10];

static const struct svc_def *def_of(const struct conn *c)
{
	return svc_def_of(c->svc - 1u);
}

/* ---- the destination's queue --------------------------------------------- */

static size_t up_queued(const struct conn *c)
{
	return c->up ? c->up->len - c->up->off : 0;
}

static size_t up_room(const struct conn *c)
{
	return c->up ? c->up->cap - up_queued(c) : UP_BUF;
}

static struct obuf *up_get(void)
{
	struct obuf *b = free_up;

	if (b) {
		free_up = b->next_free;
		n_free_up--;
	} else if ((b = malloc(sizeof(*b) + UP_BUF)) != NULL) {
		b->cap = UP_BUF;
	}
	if (b)
		b->off = b->len = 0;
	return b;
}

static void up_release(struct conn *c)
{
	struct obuf *b = c->up;

	c->up = NULL;
	if (!b)
		return;
	if (n_free_up >= UP_FREE_KEEP) {
		free(b);
		return;
	}
	b->next_free = free_up;
	free_up = b;
	n_free_up++;
}

static int up_append(struct conn *c, const void *data, size_t len)
{
	struct obuf *b;

	if (!c->up && !(c->up = up_get()))
		return -ENOMEM;
	b = c->up;
	if (b->cap - b->len < len && b->off) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < len)
		return -ENOBUFS;
	memcpy(b->data + b->len, data, len);
	b->len += (uint32_t)len;
	return 0;
}

static void mark_dirty(struct conn *c)
{
	if (c->up_dirty)
		return;
	c->up_dirty = true;
	c->next_up = dirty_head;
	dirty_head = conn_index(c);
}

struct conn *relay_next_dirty(void)
{
	struct conn *c;

	if (dirty_head == NIL)
		return NULL;
	c = &W.conns[dirty_head];
	dirty_head = c->next_up;
	c->up_dirty = false;
	return c;
}

/* ---- the destination's socket -------------------------------------------- */

/* Its epoll registration as the stream's state asks: read unless paused
 * or closed; write while its queue waits.  A socket that hung up while
 * not read leaves the epoll (it would report the hang-up for ever) and
 * comes back when reading resumes. */
static void up_sync(struct conn *c)
{
	uint32_t want = (c->up_paused || (c->half & RELAY_UP_EOF) ? 0 : EPOLLIN) |
			(up_queued(c) && c->state == CS_SVC_RELAY ? EPOLLOUT : 0);
	struct epoll_event ev = {.events = want, .data.u64 = ev_data(K_UP, conn_index(c), c->gen)};
	int op = EPOLL_CTL_MOD;

	if (c->up_fd < 0)
		return;
	if (c->half & RELAY_UP_UNREG) {
		if (!want)
			return;
		op = EPOLL_CTL_ADD;
		c->half &= (uint8_t)~RELAY_UP_UNREG;
	} else if (want == c->up_events) {
		return;
	}
	if (epoll_ctl(W.ep, op, c->up_fd, &ev) == 0)
		c->up_events = want;
}

static void touch(struct conn *c)
{
	c->sv_deadline = time(NULL) + def_of(c)->idle_timeout;
}

/* What happens next, given which ways are closed. */
static struct conn_step progress(struct conn *c)
{
	if ((c->half & RELAY_CL_EOF) && !(c->half & RELAY_CL_SENT) && !up_queued(c) &&
	    c->state == CS_SVC_RELAY) {
		(void)shutdown(c->up_fd, SHUT_WR); /* fails only for a socket gone: seen next */
		c->half |= RELAY_CL_SENT;
	}
	if ((c->half & RELAY_UP_EOF) && !(c->half & RELAY_UP_SENT)) {
		tls_bye(c);
		tls_mark_dirty(c);
		c->half |= RELAY_UP_SENT;
	}
	if ((c->half & RELAY_CL_SENT) && (c->half & RELAY_BYE_OUT))
		return step_close("stream ended both ways");
	up_sync(c);
	return step_to(c->state);
}

/* ---- CS_SVC_CONNECT -------------------------------------------------------- */

static struct conn_step connect_failed(struct conn *c, int err)
{
	const struct svc_def *d = def_of(c);

	log_info("service %s: %s: destination %s: %s; closing the stream", d->name, c->peer,
		 d->connect.text,
		 err == ETIMEDOUT ? "no answer within connect-timeout" : strerror(err));
	svc_count_connect_failure(c->svc - 1u);
	c->deadline = time(NULL) + W.cfg->handshake_timeout; /* for the close_notify */
	return step_to(CS_DRAIN);
}

/* The PROXY protocol v2 header (TCP over IPv4 or IPv6): who the client
 * is and where it connected to. */
static int proxy_header(struct conn *c, const struct sockaddr_storage *peer)
{
	static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	struct sockaddr_storage local;
	socklen_t sl = sizeof(local);
	uint8_t h[16 + 36];
	size_t n;

	if (getsockname(c->fd, (struct sockaddr *)&local, &sl) < 0 ||
	    local.ss_family != peer->ss_family)
		return -errno ? -errno : -EAFNOSUPPORT;
	memcpy(h, sig, sizeof(sig));
	h[12] = 0x21; /* version 2, PROXY */
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)peer, *d = (const void *)&local;

		h[13] = 0x11; /* TCP over IPv4 */
		memcpy(h + 16, &s->sin_addr, 4);
		memcpy(h + 20, &d->sin_addr, 4);
		memcpy(h + 24, &s->sin_port, 2);
		memcpy(h + 26, &d->sin_port, 2);
		n = 12;
	} else {
		const struct sockaddr_in6 *s = (const void *)peer, *d = (const void *)&local;

		h[13] = 0x21; /* TCP over IPv6 */
		memcpy(h + 16, &s->sin6_addr, 16);
		memcpy(h + 32, &d->sin6_addr, 16);
		memcpy(h + 48, &s->sin6_port, 2);
		memcpy(h + 50, &d->sin6_port, 2);
		n = 36;
	}
	h[14] = 0;
	h[15] = (uint8_t)n;
	return up_append(c, h, 16 + n);
}

/* The client's address from its text (conn.c keeps no sockaddr). */
static int peer_addr(const struct conn *c, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(c->peer, ':');
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - c->peer);
	if (c->peer[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (hl < 2 || hl - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, c->peer + 1, hl - 2);
		host[hl - 2] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(colon + 1));
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, c->peer, hl);
	host[hl] = 0;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -EINVAL;
}

struct conn_step relay_connect_enter(struct conn *c, const char *why)
{
	const struct svc_def *d = def_of(c);
	struct epoll_event ev = {.events = EPOLLOUT,
				 .data.u64 = ev_data(K_UP, conn_index(c), c->gen)};
	struct sockaddr_storage peer;
	int r;

	(void)why;
	c->half = 0;
	c->up_paused = c->rx_paused = c->rx_unreg = false;
	c->sv_in = c->sv_out = 0;
	if (d->proxy_protocol && (peer_addr(c, &peer) < 0 || proxy_header(c, &peer) < 0))
		return step_close("PROXY header: addresses not available");
	c->up_fd = socket(d->connect.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->up_fd < 0)
		return connect_failed(c, errno);
	r = connect(c->up_fd, (const struct sockaddr *)&d->connect.ss, d->connect.sslen);
	if (r == 0)
		return step_to(CS_SVC_RELAY);
	if (errno != EINPROGRESS)
		return connect_failed(c, errno);
	if (epoll_ctl(W.ep, EPOLL_CTL_ADD, c->up_fd, &ev) < 0)
		return connect_failed(c, errno);
	c->up_events = EPOLLOUT;
	c->sv_deadline = time(NULL) + d->connect_timeout;
	return step_to(CS_SVC_CONNECT);
}

/* A second connect() tells how the first ended, without getsockopt(). */
struct conn_step relay_connect_event(struct conn *c, uint32_t events)
{
	const struct svc_def *d = def_of(c);

	(void)events;
	if (connect(c->up_fd, (const struct sockaddr *)&d->connect.ss, d->connect.sslen) == 0 ||
	    errno == EISCONN)
		return step_to(CS_SVC_RELAY);
	if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)
		return step_to(CS_SVC_CONNECT);
	return connect_failed(c, errno);
}

struct conn_step relay_connect_tick(struct conn *c, time_t now, unsigned tick)
{
	(void)tick;
	return now > c->sv_deadline ? connect_failed(c, ETIMEDOUT) : step_to(c->state);
}

/* ---- CS_SVC_RELAY ------------------------------------------------------------ */

struct conn_step relay_enter(struct conn *c, const char *why)
{
	(void)why;
	touch(c);
	if (up_queued(c))
		mark_dirty(c);
	return progress(c);
}

/* A record from the client (CS_SVC_CONNECT too: kept until connected). */
struct conn_step relay_on_data(struct conn *c, const uint8_t *buf, size_t len)
{
	if (up_append(c, buf, len) < 0)
		return step_close("out of room for the destination"); /* room was checked */
	c->sv_in += len;
	svc_count_bytes(c->svc - 1u, len, 0);
	c->rx_paused = up_room(c) < UP_READ_ROOM;
	if (c->state == CS_SVC_RELAY) {
		touch(c);
		mark_dirty(c);
	}
	return step_to(c->state);
}

struct conn_step relay_flush_up(struct conn *c)
{
	ssize_t n;

	while (up_queued(c) && c->state == CS_SVC_RELAY) {
		n = send(c->up_fd, c->up->data + c->up->off, up_queued(c),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_debug("service %s: %s: destination: send: %s", def_of(c)->name, c->peer,
				  strerror(errno));
			return step_close("destination gone");
		}
		c->up->off += (uint32_t)n;
	}
	if (c->up && !up_queued(c))
		up_release(c);
	c->rx_paused = up_room(c) < UP_READ_ROOM;
	return progress(c);
}

/* Read from the destination into the client's TLS queue, record by
 * record, while it has room. */
static struct conn_step read_down(struct conn *c)
{
	for (int k = 0; k < DOWN_READS && tls_room(c) >= DOWN_MIN; k++) {
		size_t room = tls_room(c), want = sizeof(scratch);
		size_t records = room / TLS_RECORD_MAX + 1;
		ssize_t n;

		if (room - records * TLS_RECORD_OVERHEAD < want)
			want = room - records * TLS_RECORD_OVERHEAD;
		n = recv(c->up_fd, scratch, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			log_debug("service %s: %s: destination: recv: %s", def_of(c)->name, c->peer,
				  strerror(errno));
			return step_close("destination reset the stream");
		}
		if (n == 0) {
			c->half |= RELAY_UP_EOF;
			break;
		}
		for (size_t off = 0; off < (size_t)n; off += TLS_RECORD_MAX) {
			size_t len =
			    (size_t)n - off < TLS_RECORD_MAX ? (size_t)n - off : TLS_RECORD_MAX;
			if (tls_send(c, scratch + off, len) < 0)
				return step_close(TLS_SEND_FAILED); /* room was checked */
		}
		c->sv_out += (uint64_t)n;
		svc_count_bytes(c->svc - 1u, 0, (uint64_t)n);
		touch(c);
	}
	c->up_paused = tls_room(c) < DOWN_MIN;
	return step_to(c->state);
}

struct conn_step relay_on_upstream(struct conn *c, uint32_t events)
{
	struct conn_step s;

	if (events & EPOLLOUT) {
		s = relay_flush_up(c);
		if (s.next != c->state)
			return s;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || (c->half & RELAY_UP_EOF))
		return progress(c);
	if (c->up_paused) {
		/* Hung up while we do not read: out of the epoll until then. */
		if (c->up_events && epoll_ctl(W.ep, EPOLL_CTL_DEL, c->up_fd, NULL) == 0) {
			c->up_events = 0;
			c->half |= RELAY_UP_UNREG;
		}
		return step_to(c->state);
	}
	s = read_down(c);
	return s.next != c->state ? s : progress(c);
}

struct conn_step relay_flushed(struct conn *c, bool empty)
{
	if (c->up_paused && tls_room(c) >= DOWN_RESUME) {
		c->up_paused = false;
		if (!(c->half & RELAY_UP_EOF)) {
			struct conn_step s = read_down(c);
			if (s.next != c->state)
				return s;
		}
	}
	if (empty && (c->half & RELAY_UP_SENT) && !(c->half & RELAY_BYE_OUT)) {
		(void)shutdown(c->fd, SHUT_WR); /* the FIN after close_notify */
		c->half |= RELAY_BYE_OUT;
	}
	return progress(c);
}

struct conn_step relay_on_eof(struct conn *c)
{
	c->half |= RELAY_CL_EOF;
	c->rx_paused = true; /* nothing more to read */
	return progress(c);
}

struct conn_step relay_tick(struct conn *c, time_t now, unsigned tick)
{
	(void)tick;
	return now > c->sv_deadline ? step_close("idle-timeout") : step_to(c->state);
}

void relay_leave(struct conn *c, enum conn_state next, const char *why)
{
	if (next == CS_SVC_RELAY)
		return; /* connected: the socket goes on */
	if (c->state == CS_SVC_RELAY)
		log_debug("service %s: %s: stream closed: %llu bytes in, %llu out (%s)",
			  def_of(c)->name, c->peer, (unsigned long long)c->sv_in,
			  (unsigned long long)c->sv_out, why ? why : "");
	if (c->up_fd >= 0)
		close(c->up_fd); /* out of the epoll with it */
	c->up_fd = -1;
	c->up_events = 0;
	up_release(c);
}
