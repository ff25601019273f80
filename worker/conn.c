/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the connection table and each connection's life cycle.  Owns
 * admission (the pending list, limits.max-handshakes and its per-address
 * share, eviction), the phases[] table, the epoll registration of client
 * sockets and the only code that moves a connection to another phase or
 * closes it: conn_apply().  Handlers in login.c and tunnel.c return a
 * struct conn_step; nothing below this file closes a connection, so no
 * caller has to ask whether its connection survived a call.
 *
 * The life cycle: worker/phase.h.
 */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "worker/phase.h"
#include "worker/sources.h"

#define NIL	  UINT32_MAX
#define BIT(type) (1u << (type))

static struct conn_step handshake(struct conn *c);
static struct conn_step drain_enter(struct conn *c, const char *why);

/* Fields left out are none: no handler, P_NO, T_NONE. */
static const struct phase phases[CS_CLOSING] = {
    [CS_HANDSHAKE] = {.pending = P_YES,
		      .timer = T_HANDSHAKE,
		      .expired = "TLS handshake timed out",
		      .readable = handshake},
    [CS_HTTP] = {.pending = P_YES,
		 .timer = T_LOGIN,
		 .expired = "login timed out",
		 .data = login_on_data},
    [CS_AUTH_WAIT] = {.pending = P_YES,
		      .timer = T_LOGIN,
		      .expired = "login timed out",
		      .enter = login_auth_enter,
		      .data = login_on_data, /* kept until the answer */
		      .takes = BIT(IPC_AUTH_RESP),
		      .reply = login_auth_reply,
		      .leave = login_auth_leave},
    [CS_CONNECT_WAIT] = {.pending = P_YES,
			 .timer = T_LOGIN,
			 .expired = "login timed out",
			 .data = login_on_data, /* kept until the answer */
			 .takes = BIT(IPC_CONNECT_RESP),
			 .reply = login_connect_reply},
    [CS_TUNNEL] = {.enter = tunnel_enter,
		   .data = tunnel_on_data,
		   .takes = BIT(IPC_KICK) | BIT(IPC_DISCONNECT),
		   .reply = tunnel_on_master,
		   .dgram = tunnel_on_dgram,
		   .tick = tunnel_tick,
		   .leave = tunnel_leave},
    [CS_PROXY] = {.pending = P_YES,
		  .timer = T_HANDSHAKE,
		  .expired = "no PROXY header within limits.handshake-timeout",
		  .raw = proxy_read,
		  .leave = proxy_leave},
    [CS_DRAIN] = {.pending = P_KEEP,
		  .timer = T_KEEP,
		  .expired = "login timed out", /* only a login's clock runs on */
		  .enter = drain_enter},
    /* A service's stream: its own clocks (relay.c's ticks), not the login's. */
    [CS_SVC_CONNECT] = {.enter = relay_connect_enter,
			.data = relay_on_data, /* kept until connected */
			.tick = relay_connect_tick,
			.leave = relay_leave,
			.eof = relay_on_eof,
			.upstream = relay_connect_event},
    [CS_SVC_RELAY] = {.enter = relay_enter,
		      .data = relay_on_data,
		      .tick = relay_tick,
		      .leave = relay_leave,
		      .eof = relay_on_eof,
		      .upstream = relay_on_upstream,
		      .flushed = relay_flushed},
};

static uint32_t n_conns, free_hint;
static unsigned ticks;

/* Connections not yet tunnels, oldest first (limits.max-handshakes), and
 * the refusals since the last log line about them. */
static struct {
	uint32_t head, tail, n;
	uint64_t refused_addr, evicted, refused_full;
	time_t refused_logged, evicted_logged, full_logged;
	uint64_t rng; /* evict_one()'s random picks */
} pend = {NIL, NIL, 0, 0, 0, 0, 0, 0, 0, 0};

/* ---- pending connections (TLS handshake or login in progress) ---------- */

static void pend_push(struct conn *c)
{
	uint32_t i = conn_index(c);

	/* Out of memory for a larger table, the source goes uncounted; its
	 * pend_remove() then changes nothing. */
	if (srcs_add(c->addr) < 0)
		log_warn("out of memory: a connection from %s is not counted for "
			 "limits.max-handshakes-per-address",
			 c->peer);

	c->pending = true;
	c->pend_next = NIL;
	c->pend_prev = pend.tail;
	if (pend.tail != NIL)
		W.conns[pend.tail].pend_next = i;
	else
		pend.head = i;
	pend.tail = i;
	pend.n++;
}

static void pend_remove(struct conn *c)
{
	if (!c->pending)
		return;
	srcs_remove(c->addr);
	if (c->pend_prev != NIL)
		W.conns[c->pend_prev].pend_next = c->pend_next;
	else
		pend.head = c->pend_next;
	if (c->pend_next != NIL)
		W.conns[c->pend_next].pend_prev = c->pend_prev;
	else
		pend.tail = c->pend_prev;
	c->pending = false;
	pend.n--;
}

/* A worker's share of a server-wide limit among n workers. */
static uint32_t share_of(uint32_t limit, unsigned n)
{
	n = n ? n : 1;
	return (limit + n - 1) / n;
}

/* This worker's share of a server-wide limit. */
static uint32_t share(uint32_t limit)
{
	return share_of(limit, W.env->n_workers);
}

/* One line a second at most for each kind of refusal: a flood must not
 * become a flood of log lines. */
static void log_refusals(time_t now)
{
	if (pend.refused_addr && now != pend.refused_logged) {
		log_warn("refused %llu connection(s) from addresses at "
			 "limits.max-handshakes-per-address (%u on this worker)",
			 (unsigned long long)pend.refused_addr,
			 share(W.cfg->max_handshakes_per_addr));
		pend.refused_addr = 0;
		pend.refused_logged = now;
	}
	if (pend.refused_full && now != pend.full_logged) {
		log_warn("refused %llu connection(s): this worker's table is full (%u "
			 "connections: limits.max-clients plus its share of "
			 "limits.max-handshakes, as at start)",
			 (unsigned long long)pend.refused_full, n_conns);
		pend.refused_full = 0;
		pend.full_logged = now;
	}
	if (pend.evicted && now != pend.evicted_logged) {
		log_warn("limits.max-handshakes reached (%u on this worker): closed %llu "
			 "unfinished connection(s), each the oldest of the busiest source",
			 share(W.cfg->max_handshakes), (unsigned long long)pend.evicted);
		pend.evicted = 0;
		pend.evicted_logged = now;
	}
}

/* ---- moving between phases --------------------------------------------- */

static time_t timer_start(enum timer t)
{
	switch (t) {
	case T_HANDSHAKE:
		return time(NULL) + W.cfg->handshake_timeout;
	case T_LOGIN:
		return time(NULL) + W.cfg->auth_timeout;
	default:
		return 0;
	}
}

static void conn_close(struct conn *c, const char *why)
{
	const struct phase *p = &phases[c->state];

	pend_remove(c);
	login_forget(c);
	rxcoal_forget(c);
	if (p->leave)
		p->leave(c, CS_CLOSING, why);
	else
		log_debug("connection from %s closed: %s", c->peer, why);
	if (c->svc)
		svc_close(c->svc - 1u, c->state);
	c->svc = 0;
	tls_conn_done(c);
	close(c->fd);
	c->fd = -1;
	if (c->hbuf) {
		explicit_bzero(c->hbuf, c->hlen);
		free(c->hbuf);
		c->hbuf = NULL;
	}
	free(c->hp);
	c->hp = NULL;
	free(c->part);
	c->part = NULL;
	c->part_len = 0;
	dtls_forget(c); /* an offer whose tunnel never came */
	c->hlen = 0;
	c->state = CS_FREE;
	c->events = 0;
	c->gen++;
	n_conns--;
	if (conn_index(c) < free_hint)
		free_hint = conn_index(c);
}

static void conn_want(struct conn *c, uint32_t events);

/* The client's epoll events: read it unless a service's stream is paused
 * (its destination's queue is full, or the client closed its way). */
static uint32_t rx_mask(const struct conn *c)
{
	return c->rx_paused ? 0 : EPOLLIN;
}

/* A stream's reading paused or resumed: its registration follows.  One
 * that hung up while paused has left the epoll (it would report the
 * hang-up for ever) and comes back when reading resumes. */
static void sync_rx(struct conn *c)
{
	if (c->rx_unreg && !c->rx_paused) {
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.u64 = ev_data(K_CONN, conn_index(c), c->gen)};

		if (epoll_ctl(W.ep, EPOLL_CTL_ADD, c->fd, &ev) == 0) {
			c->rx_unreg = false;
			c->events = EPOLLIN;
		}
		return;
	}
	if (!c->rx_unreg)
		conn_want(c, rx_mask(c) | (c->events & EPOLLOUT));
}

/* Take step s and whatever the phases entered on the way ask for.  The only
 * writer of c->state and the only caller of conn_close().  Returns false
 * when c was closed. */
static bool conn_apply(struct conn *c, struct conn_step s)
{
	while (s.next != c->state) {
		const struct phase *from = &phases[c->state], *to;

		if (s.next == CS_CLOSING) {
			conn_close(c, s.why);
			return false;
		}
		to = &phases[s.next];
		if (from->leave)
			from->leave(c, s.next, s.why);
		c->state = s.next;
		if (to->pending != P_KEEP && (to->pending == P_YES) != c->pending) {
			if (to->pending == P_YES)
				pend_push(c);
			else
				pend_remove(c);
		}
		if (to->timer != T_KEEP && to->timer != from->timer)
			c->deadline = timer_start(to->timer);
		if (to->enter)
			s = to->enter(c, s.why);
	}
	if (c->svc)
		sync_rx(c);
	return true;
}

/* CS_HANDSHAKE's readable handler. */
static struct conn_step handshake(struct conn *c)
{
	int r = tls_handshake(c);

	if (r == -EAGAIN)
		return step_to(CS_HANDSHAKE);
	if (r < 0)
		return step_close("TLS handshake failed");
	return step_to(c->svc ? CS_SVC_CONNECT : CS_HTTP);
}

/* CS_DRAIN: close_notify after the last answer; closed once all is sent. */
static struct conn_step drain_enter(struct conn *c, const char *why)
{
	(void)why;
	tls_bye(c);
	tls_mark_dirty(c);
	return step_to(CS_DRAIN);
}

/* ---- events ------------------------------------------------------------ */

static void conn_want(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events,
				 .data.u64 = ev_data(K_CONN, conn_index(c), c->gen)};

	if (c->events == events || c->rx_unreg)
		return;
	if (epoll_ctl(W.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/* Returns false when c was closed. */
static bool conn_flush(struct conn *c)
{
	int r = tls_flush(c);

	if (r == -EAGAIN) {
		conn_want(c, rx_mask(c) | EPOLLOUT);
		return !phases[c->state].flushed ||
		       conn_apply(c, phases[c->state].flushed(c, false));
	}
	if (r < 0)
		return conn_apply(c, step_close(r == -EPIPE    ? "connection reset"
						: r == -EPROTO ? TLS_SEND_FAILED
							       : "send failed"));
	if (c->state == CS_DRAIN)
		return conn_apply(c, step_close("response sent"));
	if (c->events & EPOLLOUT)
		conn_want(c, rx_mask(c));
	return !phases[c->state].flushed || conn_apply(c, phases[c->state].flushed(c, true));
}

void conn_flush_all(void)
{
	struct conn *c;

	/* The destinations' queues first: sending them may let clients be
	 * read again. */
	while ((c = relay_next_dirty()))
		if (c->state == CS_SVC_RELAY)
			conn_apply(c, relay_flush_up(c));
	while ((c = tls_next_dirty()))
		if (c->state != CS_FREE)
			conn_flush(c);
}

/* Hand each whole record to the phase, while it takes records. */
static void read_records(struct conn *c)
{
	const uint8_t *rec;
	const char *why;
	ssize_t n;

	while (phases[c->state].data) {
		n = tls_record(c, &rec, &why);
		if (n == 0)
			return;
		if (n == -ESHUTDOWN && phases[c->state].eof) {
			conn_apply(c, phases[c->state].eof(c));
			return;
		}
		if (n < 0) {
			conn_apply(c, step_close(why));
			return;
		}
		if (!conn_apply(c, phases[c->state].data(c, rec, (size_t)n)))
			return;
	}
}

static void conn_readable(struct conn *c, uint32_t events)
{
	const struct phase *p = &phases[c->state];
	ssize_t n;

	if (c->rx_paused) {
		/* Hung up while not read: out of the epoll until reading resumes. */
		if ((events & (EPOLLHUP | EPOLLERR)) &&
		    epoll_ctl(W.ep, EPOLL_CTL_DEL, c->fd, NULL) == 0) {
			c->rx_unreg = true;
			c->events = 0;
		}
		return;
	}
	if (p->raw) {
		conn_apply(c, p->raw(c));
		return;
	}
	n = tls_recv(c);
	if (n == 0 && p->eof) {
		conn_apply(c, p->eof(c));
		return;
	}
	if (n == 0) {
		conn_apply(c, step_close("client closed the connection"));
		return;
	}
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n < 0) {
		conn_apply(c, step_close(n == -ECONNRESET ? "connection reset" : "recv failed"));
		return;
	}
	if (c->state == CS_TUNNEL)
		rxcoal_read(c, (size_t)n);
	if (!p->readable || conn_apply(c, p->readable(c)))
		read_records(c);
	tls_recv_done();
}

void conn_read_now(struct conn *c)
{
	conn_readable(c, EPOLLIN);
}

void conn_on_event(uint32_t idx, uint32_t gen, uint32_t events)
{
	struct conn *c = &W.conns[idx];

	/* An event queued for a connection closed earlier in this batch. */
	if (c->state == CS_FREE || c->gen != gen)
		return;
	if ((events & EPOLLOUT) && !conn_flush(c))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_readable(c, events);
}

void conn_on_upstream(uint32_t idx, uint32_t gen, uint32_t events)
{
	struct conn *c = &W.conns[idx];

	if (c->state == CS_FREE || c->gen != gen || !phases[c->state].upstream)
		return;
	conn_apply(c, phases[c->state].upstream(c, events));
}

static struct conn *conn_by_ref(struct ipc_ref ref)
{
	if (ref.slot >= W.max_conns)
		return NULL;
	struct conn *c = &W.conns[ref.slot];
	return c->state != CS_FREE && c->gen == ref.gen ? c : NULL;
}

void conn_reply(const struct ipc_msg *m)
{
	struct conn *c = conn_by_ref(m->ref);
	const struct phase *p;

	if (!c) {
		if (m->type == IPC_CONNECT_RESP && m->u.connect_resp.status == 200) {
			/* The client left while the master granted it: tell the
			 * master the tunnel is already gone. */
			struct ipc_msg r = {.type = IPC_CLOSED, .ref = m->ref};
			r.u.closed.sess_id = m->u.connect_resp.sess_id;
			snprintf(r.u.closed.reason, sizeof(r.u.closed.reason),
				 "client left during CONNECT");
			chan_send(&r);
		}
		return;
	}
	p = &phases[c->state];
	if (p->reply && (p->takes & BIT(m->type)))
		conn_apply(c, p->reply(c, m));
}

void conn_dgram(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n)
{
	const struct phase *p = &phases[c->state];

	if (p->dgram)
		conn_apply(c, p->dgram(c, from, d, n));
}

uint32_t conn_pending(void)
{
	return pend.n;
}

void conn_tick(time_t now)
{
	unsigned tick = ++ticks;
	uint32_t i;

	log_refusals(now);
	for (i = 0; i < W.max_conns; i++) {
		struct conn *c = &W.conns[i];
		const struct phase *p = &phases[c->state];

		if (c->state == CS_FREE)
			continue;
		if (c->deadline && now > c->deadline)
			conn_apply(c, step_close(p->expired));
		else if (p->tick)
			conn_apply(c, p->tick(c, now, tick));
	}
}

void conn_shutdown(bool tell)
{
	uint32_t i;

	for (i = 0; tell && i < W.max_conns; i++)
		if (W.conns[i].state == CS_TUNNEL)
			tunnel_notify_stop(&W.conns[i]);
	conn_flush_all();
	for (i = 0; i < W.max_conns; i++)
		if (W.conns[i].state != CS_FREE)
			conn_apply(&W.conns[i],
				   step_close(tell ? "server shutting down"
						   : "server restarting: the client reconnects"));
}

void conn_drain_tunnels(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < W.max_conns; i++)
		if (W.conns[i].state == CS_TUNNEL) {
			conn_apply(&W.conns[i], step_close("drained: the client reconnects to "
							   "another node"));
			n++;
		}
	log_info("draining: %u tunnel(s) ended", n);
}

/* ---- admission ----------------------------------------------------------- */

/* Room for max-clients tunnels and this worker's share of connections
 * still logging in, so that a full server can still answer CONNECT with a
 * 503 naming the limit (the master counts the tunnels). */
uint32_t conn_table_size(const struct cfg *cfg, unsigned n_workers)
{
	return cfg->max_clients + share_of(cfg->max_handshakes, n_workers) +
	       svc_table_room(cfg, n_workers);
}

int conn_init(void)
{
	uint64_t seed;
	uint32_t i;

	W.max_conns = conn_table_size(W.cfg, W.env->n_workers);
	W.conns = calloc(W.max_conns, sizeof(*W.conns));
	if (!W.conns)
		return -ENOMEM;
	if (getrandom(&pend.rng, sizeof(pend.rng), 0) != sizeof(pend.rng) ||
	    getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		return -EIO;
	pend.rng |= 1; /* xorshift never leaves 0 */
	if (srcs_init(share(W.cfg->max_handshakes), seed) < 0)
		return -ENOMEM;
	for (i = 0; i < W.max_conns; i++)
		W.conns[i].fd = W.conns[i].up_fd = -1;
	return 0;
}

static struct conn *conn_alloc(void)
{
	uint32_t i;

	for (i = free_hint; i < W.max_conns; i++)
		if (W.conns[i].state == CS_FREE) {
			free_hint = i + 1;
			return &W.conns[i];
		}
	return NULL;
}

/* A random number for eviction (xorshift64*: enough to break ties). */
static uint64_t next_pick(void)
{
	pend.rng ^= pend.rng >> 12;
	pend.rng ^= pend.rng << 25;
	pend.rng ^= pend.rng >> 27;
	return pend.rng * 0x2545f4914f6cdd1dull;
}

/* Make room at limits.max-handshakes: close the oldest unfinished
 * connection of the busiest source (the address key with the most of
 * them; among equals a random one).  Closing the globally oldest instead
 * let an attacker churning connections from more addresses than the
 * per-address share allows push out every real login before it could
 * finish (SECURITY-REVIEW #10); now its own sources lose, and a client
 * with one connection loses only when every source has one.  OpenSSH's
 * random early drop was the other choice: it refuses new connections,
 * real ones alike, while the flood's old ones stay. */
static void evict_one(void)
{
	uint8_t key[ADDRKEY_LEN];
	uint32_t i = pend.head;

	if (srcs_busiest(next_pick(), key))
		for (; i != NIL && memcmp(W.conns[i].addr, key, ADDRKEY_LEN);
		     i = W.conns[i].pend_next)
			;
	if (i == NIL)
		i = pend.head; /* uncounted (out of memory): the oldest */
	log_debug("closing an unfinished connection from %s (its source has %u)", W.conns[i].peer,
		  srcs_count(W.conns[i].addr));
	conn_apply(&W.conns[i], step_close("limits.max-handshakes reached"));
	pend.evicted++;
}

/* May a new connection from the source key start?  Refuses one from a
 * source at its share of limits.max-handshakes-per-address (not for a
 * load balancer's: its clients are counted once its PROXY header names
 * them, conn_readdress); at limits.max-handshakes makes room (evict_one). */
bool conn_admit(const uint8_t key[ADDRKEY_LEN], bool proxied)
{
	if (!proxied && srcs_count(key) >= share(W.cfg->max_handshakes_per_addr)) {
		pend.refused_addr++;
		return false;
	}
	while (pend.n >= share(W.cfg->max_handshakes) && pend.head != NIL)
		evict_one();
	return true;
}

bool conn_readdress(struct conn *c, const uint8_t key[ADDRKEY_LEN])
{
	bool was = c->pending;

	pend_remove(c);
	memcpy(c->addr, key, ADDRKEY_LEN);
	if (srcs_count(key) >= share(W.cfg->max_handshakes_per_addr)) {
		pend.refused_addr++;
		return false;
	}
	if (was)
		pend_push(c);
	return true;
}

/* A new connection in fd: set it up in a free slot, or refuse it. */
void conn_start(int fd, unsigned k, unsigned svc, const char *peer, const uint8_t addr[16])
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct conn *c = n_conns < W.max_conns ? conn_alloc() : NULL;

	if (!c) {
		pend.refused_full++; /* logged once a second at most (log_refusals) */
		if (svc)
			svc_refused(svc - 1);
		close(fd);
		return;
	}
	memset(&c->ctr, 0, sizeof(c->ctr));
	c->fd = fd;
	c->lease = -1;
	c->sess_id = 0;
	c->serial = 0;
	c->have4 = c->have6 = false;
	c->bye = false;
	c->dt = NULL;
	c->granted = NULL;
	c->listen = (uint8_t)k;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	memcpy(c->addr, addr, sizeof(c->addr));
	c->rx_paused = c->rx_unreg = c->up_paused = false;
	c->half = 0;
	if ((svc ? tls_conn_init_ctx(c, svc_ctx(svc - 1)) : tls_conn_init(c)) < 0) {
		close(fd);
		return;
	}
	c->svc = (uint8_t)svc;
	if (svc)
		svc_open(svc - 1);
	c->events = EPOLLIN;
	n_conns++;
	conn_apply(c, step_to(!svc && k >= W.env->n_plain ? CS_PROXY : CS_HANDSHAKE));
	ev.data.u64 = ev_data(K_CONN, conn_index(c), c->gen);
	if (epoll_ctl(W.ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		conn_apply(c, step_close("epoll_ctl failed"));
}
