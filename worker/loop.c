/* Worker (one per CPU, forked by the master): the epoll loop over its
 * listeners, its TUN queue, its inbox, its control socket and every client
 * connection it accepted.  Owns the connection table.  After set-up it
 * opens no files and creates no sockets other than accepted ones. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cstp.h"
#include "common/log.h"

struct worker W;

enum ev_kind { K_LISTEN = 1, K_TUN, K_INBOX, K_IPC, K_TIMER, K_SIGNAL, K_CONN };

/* epoll data: kind, index and, for connections, the generation, so an
 * event queued for a closed connection is not applied to its successor. */
static inline uint64_t ev_data(unsigned kind, uint32_t idx, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(idx & 0xffffff) << 32 | gen;
}

#define STATS_PERIOD   10 /* s between counter reports to the master */
#define TUN_WAIT_TURNS 4  /* loop turns a TUN write batch may wait */

static int ep_add(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(W.ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void conn_want(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events,
				 .data.u64 = ev_data(K_CONN, conn_index(c), c->gen)};

	if (c->events == events)
		return;
	if (epoll_ctl(W.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

void conn_mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = W.dirty_head;
	W.dirty_head = conn_index(c);
}

int worker_ipc_send(const struct ipc_msg *m)
{
	if (send(W.env->ipc_fd, m, sizeof(*m), MSG_NOSIGNAL) != sizeof(*m))
		return log_errno(-errno, "control message to the master");
	return 0;
}

void worker_report_closed(struct conn *c, bool end_session, const char *reason)
{
	struct ipc_msg m = {.type = IPC_CLOSED, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.end_session = end_session;
	m.u.closed.ctr = c->ctr;
	snprintf(m.u.closed.reason, sizeof(m.u.closed.reason), "%s", reason);
	memset(&c->ctr, 0, sizeof(c->ctr));
	worker_ipc_send(&m);
}

/* ---- pending connections (TLS handshake or login in progress) ---------- */

#define NIL UINT32_MAX

static void pend_push(struct conn *c)
{
	uint32_t i = conn_index(c);

	c->pending = true;
	c->pend_next = NIL;
	c->pend_prev = W.pend_tail;
	if (W.pend_tail != NIL)
		W.conns[W.pend_tail].pend_next = i;
	else
		W.pend_head = i;
	W.pend_tail = i;
	W.n_pending++;
}

void conn_pending_done(struct conn *c)
{
	if (!c->pending)
		return;
	if (c->pend_prev != NIL)
		W.conns[c->pend_prev].pend_next = c->pend_next;
	else
		W.pend_head = c->pend_next;
	if (c->pend_next != NIL)
		W.conns[c->pend_next].pend_prev = c->pend_prev;
	else
		W.pend_tail = c->pend_prev;
	c->pending = false;
	W.n_pending--;
}

/* This worker's share of a server-wide limit. */
static uint32_t share(uint32_t limit)
{
	uint32_t n = W.env->n_workers ? W.env->n_workers : 1;

	return (limit + n - 1) / n;
}

static uint32_t pending_from(const uint8_t addr[16])
{
	uint32_t n = 0;

	for (uint32_t i = W.pend_head; i != NIL; i = W.conns[i].pend_next)
		n += !memcmp(W.conns[i].addr, addr, 16);
	return n;
}

/* One line a second at most for each kind of refusal: a flood must not
 * become a flood of log lines. */
static void log_refusals(time_t now)
{
	if (W.refused_addr && now != W.refused_logged) {
		log_warn("refused %llu connection(s) from addresses at "
			 "limits.max-handshakes-per-address (%u on this worker)",
			 (unsigned long long)W.refused_addr, share(W.cfg->max_handshakes_per_addr));
		W.refused_addr = 0;
		W.refused_logged = now;
	}
	if (W.evicted && now != W.evicted_logged) {
		log_warn("limits.max-handshakes reached (%u on this worker): closed the %llu "
			 "oldest unfinished connection(s)",
			 share(W.cfg->max_handshakes), (unsigned long long)W.evicted);
		W.evicted = 0;
		W.evicted_logged = now;
	}
}

void conn_close(struct conn *c, const char *why)
{
	if (c->state == CS_FREE)
		return;
	conn_pending_done(c);
	if (c->state == CS_TUNNEL) {
		log_info("session %u: tunnel from %s closed: %s", c->serial, c->peer, why);
		tunnel_stop(c);
		worker_report_closed(c, c->bye, why);
	} else {
		log_debug("connection from %s closed: %s", c->peer, why);
	}
	tls_conn_done(c);
	close(c->fd);
	c->fd = -1;
	if (c->hbuf) {
		explicit_bzero(c->hbuf, c->hlen);
		free(c->hbuf);
		c->hbuf = NULL;
	}
	free(c->part);
	c->part = NULL;
	c->part_len = 0;
	c->hlen = 0;
	obuf_release(c);
	c->state = CS_FREE;
	c->events = 0;
	c->gen++;
	W.n_conns--;
	if (conn_index(c) < W.free_hint)
		W.free_hint = conn_index(c);
}

static struct conn *conn_alloc(void)
{
	uint32_t i;

	for (i = W.free_hint; i < W.max_conns; i++)
		if (W.conns[i].state == CS_FREE) {
			W.free_hint = i + 1;
			return &W.conns[i];
		}
	return NULL;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

static void addr_key(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* May a new connection from addr start?  Refuses one from an address at its
 * share of limits.max-handshakes-per-address; at limits.max-handshakes
 * closes the oldest unfinished connection to make room. */
static bool admit(const uint8_t addr[16])
{
	if (pending_from(addr) >= share(W.cfg->max_handshakes_per_addr)) {
		W.refused_addr++;
		return false;
	}
	while (W.n_pending >= share(W.cfg->max_handshakes) && W.pend_head != NIL) {
		struct conn *old = &W.conns[W.pend_head];
		log_debug("closing the oldest unfinished connection, from %s", old->peer);
		conn_close(old, "limits.max-handshakes reached");
		W.evicted++;
	}
	return true;
}

static void on_accept(int lfd)
{
	struct sockaddr_storage ss;
	uint8_t addr[16];
	socklen_t sl;
	int budget = 64, fd;

	while (budget-- > 0 && !W.stopping) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_errno(-errno, "accept");
			return;
		}
		addr_key(&ss, addr);
		if (!admit(addr)) {
			close(fd);
			continue;
		}
		struct conn *c = W.n_conns < W.max_conns ? conn_alloc() : NULL;
		if (!c) {
			log_warn("connection refused: this worker's table is full (%u connections: "
				 "limits.max-clients plus its share of limits.max-handshakes, as "
				 "at start)",
				 W.n_conns);
			close(fd);
			continue;
		}
		memset(&c->ctr, 0, sizeof(c->ctr));
		c->fd = fd;
		c->out = NULL;
		c->lease = -1;
		c->sess_id = 0;
		c->serial = 0;
		c->have4 = c->have6 = false;
		c->bye = false;
		peer_text(&ss, c->peer, sizeof(c->peer));
		memcpy(c->addr, addr, sizeof(c->addr));
		if (tls_conn_init(c) < 0) {
			close(fd);
			continue;
		}
		c->state = CS_HANDSHAKE;
		c->deadline = time(NULL) + W.cfg->handshake_timeout;
		c->events = EPOLLIN;
		W.n_conns++;
		pend_push(c);
		if (ep_add(fd, EPOLLIN, ev_data(K_CONN, conn_index(c), c->gen)) < 0) {
			conn_close(c, "epoll_ctl failed");
			continue;
		}
	}
}

static struct conn *conn_by_ref(struct ipc_ref ref)
{
	if (ref.slot >= W.max_conns)
		return NULL;
	struct conn *c = &W.conns[ref.slot];
	return c->state != CS_FREE && c->gen == ref.gen ? c : NULL;
}

/* HTTP buffers of connections in the login phase keep the size they were
 * allocated with; new requests see the new limits. */
static void set_http_limits(void)
{
	http_limits_default(&W.http_lim);
	W.http_lim.max_header = W.cfg->http_max_header;
	W.http_lim.max_body = W.cfg->http_max_body;
}

static void apply_settings(const struct ipc_settings *st)
{
	char why[160];

	/* ipc_check() vetted it; a refusal here would be a bug. */
	if (cfg_settings_apply(st->blob, st->len, &W.live, why, sizeof(why)) < 0) {
		log_err("settings refused: %s", why);
		return;
	}
	set_http_limits();
	log_set_level((int)W.live.log_level);
	log_debug("settings reloaded");
}

static void on_ipc_msg(const struct ipc_msg *m)
{
	struct conn *c = conn_by_ref(m->ref);

	switch (m->type) {
	case IPC_AUTH_RESP:
		if (c)
			login_auth_reply(c, m);
		break;
	case IPC_CONNECT_RESP:
		if (c)
			login_connect_reply(c, m);
		else if (m->u.connect_resp.status == 200) {
			/* The client left while the master granted it: tell the
			 * master the tunnel is already gone. */
			struct ipc_msg r = {.type = IPC_CLOSED, .ref = m->ref};
			r.u.closed.sess_id = m->u.connect_resp.sess_id;
			snprintf(r.u.closed.reason, sizeof(r.u.closed.reason),
				 "client left during CONNECT");
			worker_ipc_send(&r);
		}
		break;
	case IPC_KICK:
		if (c && c->state == CS_TUNNEL && c->sess_id == m->u.kick.sess_id)
			conn_close(c, "replaced by a newer connection of its session");
		break;
	case IPC_DISCONNECT:
		if (c && c->state == CS_TUNNEL && c->sess_id == m->u.kick.sess_id)
			tunnel_disconnect(c, "Disconnected by administrator");
		break;
	case IPC_SETTINGS:
		apply_settings(&m->u.settings);
		break;
	default:
		log_err("unknown control message %u", m->type);
	}
}

static void on_ipc(void)
{
	static uint8_t buf[IPC_TLS_MAX];
	char why[128];
	int budget = 256;
	uint32_t type;
	ssize_t n;

	while (budget-- > 0) {
		/* MSG_TRUNC: n is the datagram's real size, so an oversized one
		 * is refused rather than read cut short. */
		n = recv(W.env->ipc_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The master is gone: nobody is left to route for. */
			log_err("control socket closed; exiting");
			exit(1);
		}
		if (ipc_check(buf, (size_t)n, IPC_FROM_MASTER, W.env->geom.size, why, sizeof(why)) <
		    0) {
			log_err("control message refused: %s", why);
			explicit_bzero(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
			continue;
		}
		memcpy(&type, buf, sizeof(type));
		if (type == IPC_TLS) {
			if (tls_reload(buf, (size_t)n) == 0)
				log_info("new certificate loaded for new connections");
		} else if ((size_t)n == sizeof(struct ipc_msg)) {
			struct ipc_msg m;
			memcpy(&m, buf, sizeof(m));
			on_ipc_msg(&m);
			explicit_bzero(&m, sizeof(m));
		}
		explicit_bzero(buf, (size_t)n);
	}
}

static void send_stats(struct conn *c)
{
	struct ipc_msg m = {.type = IPC_STATS, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.ctr = c->ctr;
	memset(&c->ctr, 0, sizeof(c->ctr));
	worker_ipc_send(&m);
}

static void on_timer(void)
{
	static unsigned ticks;
	time_t now = time(NULL);
	uint32_t i;
	bool stats;

	stats = ++ticks % STATS_PERIOD == 0;
	log_refusals(now);
	for (i = 0; i < W.max_conns; i++) {
		struct conn *c = &W.conns[i];
		if (c->state == CS_FREE)
			continue;
		if (c->deadline && now > c->deadline) {
			conn_close(c, c->state == CS_HANDSHAKE ? "TLS handshake timed out"
							       : "login timed out");
			continue;
		}
		if (c->state != CS_TUNNEL)
			continue;
		/* The client sends DPD after session.dpd idle seconds; three
		 * periods of silence mean it is gone (its session is kept). */
		if (W.cfg->dpd && now - c->last_rx > 3 * (time_t)W.cfg->dpd) {
			conn_close(c, "peer dead: no data for 3 DPD periods");
			continue;
		}
		if (stats && (c->ctr.rx_pkts || c->ctr.tx_pkts || c->ctr.drop_queue ||
			      c->ctr.drop_spoofed || c->ctr.drop_malformed))
			send_stats(c);
	}
}

static void flush_dirty(void)
{
	while (W.dirty_head != UINT32_MAX) {
		struct conn *c = &W.conns[W.dirty_head];
		W.dirty_head = c->next_dirty;
		c->dirty = false;
		if (c->state != CS_FREE)
			tls_flush(c);
	}
}

/* Graceful stop: take no new connections; tunnels run on. */
static void stop_listening(void)
{
	unsigned i;

	for (i = 0; i < W.env->n_listen; i++) {
		epoll_ctl(W.ep, EPOLL_CTL_DEL, W.env->listen_fds[i], NULL);
		close(W.env->listen_fds[i]);
	}
	W.draining = true;
	log_info("graceful stop: no longer accepting connections");
}

static void shutdown_clients(void)
{
	uint32_t i;

	for (i = 0; i < W.max_conns; i++) {
		struct conn *c = &W.conns[i];
		if (c->state == CS_TUNNEL)
			tunnel_send_control(c, CSTP_DISCONNECT, "\xb0Server shutting down", 21);
	}
	flush_dirty();
	for (i = 0; i < W.max_conns; i++)
		if (W.conns[i].state != CS_FREE)
			conn_close(&W.conns[i], "server shutting down");
}

static int setup(const struct worker_env *env, int *sigfd, int *tfd)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t mask;
	unsigned i;

	memset(&W, 0, sizeof(W));
	W.env = env;
	W.live = *env->cfg;
	W.cfg = &W.live;
	static struct tls_ctx inherited;
	inherited.cred = env->cred;
	inherited.prio = env->prio;
	W.tls = &inherited;
	W.dirty_head = UINT32_MAX;
	/* Room for max-clients tunnels and this worker's share of connections
	 * still logging in, so that a full server can still answer CONNECT
	 * with a 503 naming the limit (the master counts the tunnels). */
	W.max_conns = W.cfg->max_clients + share(W.cfg->max_handshakes);
	W.conns = calloc(W.max_conns, sizeof(*W.conns));
	W.lease_conn = calloc(env->geom.size, sizeof(*W.lease_conn));
	W.scratch_cap = 1 << 16;
	W.scratch = malloc(2 * W.scratch_cap);
	set_http_limits();
	W.pend_head = W.pend_tail = NIL;
	if (!W.conns || !W.lease_conn || !W.scratch)
		return log_errno(-ENOMEM, "worker tables");
	for (i = 0; i < W.max_conns; i++)
		W.conns[i].fd = -1;

	W.ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (W.ep < 0 || *sigfd < 0 || *tfd < 0 || timerfd_settime(*tfd, 0, &its, NULL) < 0)
		return log_errno(-errno, "worker event set-up");
	for (i = 0; i < env->n_listen; i++)
		if (ep_add(env->listen_fds[i], EPOLLIN | EPOLLEXCLUSIVE, ev_data(K_LISTEN, i, 0)) <
		    0)
			return log_errno(-errno, "epoll_ctl");
	if (ep_add(env->tun_fd, EPOLLIN, ev_data(K_TUN, 0, 0)) < 0 ||
	    ep_add(env->inbox_fd, EPOLLIN, ev_data(K_INBOX, 0, 0)) < 0 ||
	    ep_add(env->ipc_fd, EPOLLIN, ev_data(K_IPC, 0, 0)) < 0 ||
	    ep_add(*tfd, EPOLLIN, ev_data(K_TIMER, 0, 0)) < 0 ||
	    ep_add(*sigfd, EPOLLIN, ev_data(K_SIGNAL, 0, 0)) < 0)
		return log_errno(-errno, "epoll_ctl");
	return 0;
}

int worker_main(const struct worker_env *env)
{
	struct epoll_event evs[256];
	struct ipc_msg ready = {.type = IPC_READY};
	int sigfd = -1, tfd = -1, n, i;
	unsigned tun_turns = 0; /* loop turns the TUN write batch has waited */
	uint64_t ticks;

	log_init_worker(env->log_fd, (int)env->cfg->log_level);
	if (setup(env, &sigfd, &tfd) < 0 || sandbox_enter(env) < 0)
		return 1;
	if (worker_ipc_send(&ready) < 0)
		return 1;
	log_debug("worker %u ready (pid %d)", env->id, (int)getpid());

	while (!W.stopping) {
		/* A TUN write batch (a client's segments of one flow, coalesced)
		 * waits while more events are ready, so a busy worker writes
		 * bigger batches; it goes out before the loop would sleep, or
		 * after TUN_WAIT_TURNS turns at most. */
		n = epoll_wait(W.ep, evs, 256, tunnel_tun_pending() ? 0 : -1);
		if (n == 0 || (tunnel_tun_pending() && ++tun_turns >= TUN_WAIT_TURNS)) {
			tunnel_flush_tun();
			tun_turns = 0;
			if (n == 0) {
				flush_dirty();
				continue;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_errno(-errno, "epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			unsigned kind = (unsigned)(d >> 56);
			uint32_t idx = (uint32_t)(d >> 32) & 0xffffff;
			switch (kind) {
			case K_LISTEN:
				if (!W.draining)
					on_accept(env->listen_fds[idx]);
				break;
			case K_TUN:
				tunnel_on_tun();
				break;
			case K_INBOX:
				tunnel_on_inbox();
				break;
			case K_IPC:
				on_ipc();
				break;
			case K_TIMER:
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					on_timer();
				break;
			case K_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
						W.stopping = true;
					if (si.ssi_signo == SIGQUIT)
						stop_listening();
#ifdef TEST_HOOKS
					/* Test builds: prove the sandbox by trying
					 * what a taken-over worker would. */
					if (si.ssi_signo == SIGUSR2)
						close(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
#endif
				}
				break;
			}
			case K_CONN: {
				struct conn *c = &W.conns[idx];
				if (c->state == CS_FREE || c->gen != (uint32_t)d)
					break;
				if (evs[i].events & EPOLLOUT)
					tls_flush(c);
				if (c->state != CS_FREE && c->gen == (uint32_t)d &&
				    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					tls_on_readable(c);
				break;
			}
			}
		}
		/* One send() per connection for everything this turn produced:
		 * the send queues are bounded, so they do not wait. */
		flush_dirty();
	}
	shutdown_clients();
	log_info("stopping: handed off %llu packets to other workers, took %llu, dropped %llu "
		 "with no client",
		 (unsigned long long)W.handoffs_out, (unsigned long long)W.handoffs_in,
		 (unsigned long long)W.drop_no_client);
	tunnel_log_io();
	return 0;
}
