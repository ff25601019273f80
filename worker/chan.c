/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged after set-up): messages to the master over the
 * control socket inherited at fork, one struct ipc_msg per datagram.
 * Owns the sending and a small bounded queue for when the socket is full;
 * loop.c receives.  Nothing here ever waits for the master: a message
 * that finds the socket full waits in the queue (sent on EPOLLOUT), and
 * one that finds the queue full is refused, so the caller can answer its
 * client (503) instead of stalling every other client of the worker.
 * Stopping is the exception: then every client is leaving anyway, and the
 * counters of the closing tunnels wait for room, for a bounded time. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/log.h"

/* Messages waiting, oldest first (a ring that doubles up to the bound);
 * they may hold passwords and cookies: wiped when sent or freed. */
static struct {
	struct ipc_msg *v;
	unsigned head, len, cap;
	bool want_out; /* EPOLLOUT registered on the control socket */
	unsigned long refused;
	time_t refused_logged;
	int64_t stop_by; /* stopping: wait for room until then (ms); 0: never wait */
} q;

static void want_out(bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
				 .data.u64 = ev_data(K_IPC, 0, 0)};

	if (q.want_out != on && epoll_ctl(W.ep, EPOLL_CTL_MOD, W.env->ipc_fd, &ev) == 0)
		q.want_out = on;
}

static int push(const struct ipc_msg *m)
{
	if (q.len == q.cap) {
		unsigned ncap = q.cap ? 2 * q.cap : 16;
		struct ipc_msg *nv;

		if (q.cap >= CHAN_QUEUE_MAX || !(nv = calloc(ncap, sizeof(*nv))))
			return -ENOBUFS;
		for (unsigned i = 0; i < q.len; i++)
			nv[i] = q.v[(q.head + i) % q.cap];
		if (q.v)
			explicit_bzero(q.v, q.cap * sizeof(*q.v));
		free(q.v);
		q.v = nv;
		q.cap = ncap;
		q.head = 0;
	}
	q.v[(q.head + q.len) % q.cap] = *m;
	q.len++;
	return 0;
}

static bool send_now(const struct ipc_msg *m)
{
	return send(W.env->ipc_fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*m);
}

void chan_flush(void)
{
	while (q.len) {
		struct ipc_msg *m = &q.v[q.head];

		if (!send_now(m)) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* EPOLLOUT stays on */
			/* The master is gone: loop.c exits when it reads EOF. */
			log_errno(-errno, "control message to the master");
			break;
		}
		explicit_bzero(m, sizeof(*m));
		q.head = (q.head + 1) % q.cap;
		q.len--;
	}
	want_out(false);
}

/* A full queue refuses; one line a second says how often. */
static int refuse(const struct ipc_msg *m)
{
	time_t now = time(NULL);

	q.refused++;
	if (now != q.refused_logged) {
		log_warn("%lu message(s) to the master refused (%s the last): %u waiting for "
			 "room in the control socket",
			 q.refused, ipc_type_name(m->type), q.len);
		q.refused = 0;
		q.refused_logged = now;
	}
	return -ENOBUFS;
}

/* Stopping: send what waits until fewer than room are left waiting, or
 * the time is up.  The loop's epoll wakes for the control socket's room
 * (EPOLLOUT is on while anything waits); its other events wait for no one
 * now. */
static void wait_room(unsigned room)
{
	struct epoll_event ev;

	chan_flush();
	while (q.len > CHAN_QUEUE_MAX - room && mono_ms() < q.stop_by) {
		if (epoll_wait(W.ep, &ev, 1, 50) < 0 && errno != EINTR)
			break;
		chan_flush();
	}
}

void chan_stopping(unsigned ms)
{
	q.stop_by = mono_ms() + ms;
}

void chan_finish(void)
{
	wait_room(CHAN_QUEUE_MAX);
	if (q.len)
		log_warn("stopping: %u message(s) to the master not sent (it did not read for "
			 "the time allowed)",
			 q.len);
}

int chan_send(const struct ipc_msg *m)
{
	if (!q.len) {
		if (send_now(m))
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return log_errno(-errno, "control message to the master");
	}
	if (q.len >= CHAN_QUEUE_MAX && q.stop_by)
		wait_room(1);
	if (push(m) < 0)
		return refuse(m);
	want_out(true);
	return 0;
}

void chan_report_closed(struct conn *c, bool end_session, const char *reason)
{
	struct ipc_msg m = {.type = IPC_CLOSED, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.end_session = end_session;
	m.u.closed.ctr = c->ctr;
	m.u.closed.last_active = c->last_active;
	snprintf(m.u.closed.reason, sizeof(m.u.closed.reason), "%s", reason);
	memset(&c->ctr, 0, sizeof(c->ctr));
	chan_send(&m);
}

void chan_report_stats(struct conn *c)
{
	struct ipc_msg m = {.type = IPC_STATS, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.ctr = c->ctr;
	m.u.closed.last_active = c->last_active;
	memset(&c->ctr, 0, sizeof(c->ctr));
	chan_send(&m);
}

void chan_report_worker(uint32_t handshakes, uint64_t no_client, uint32_t tls_gen)
{
	static struct {
		uint32_t handshakes;
		uint64_t no_client;
		uint32_t tls_gen;
	} last;
	struct ipc_msg m = {.type = IPC_WSTATS};

	if (handshakes == last.handshakes && no_client == last.no_client && tls_gen == last.tls_gen)
		return;
	m.u.wstats.handshakes = handshakes;
	m.u.wstats.no_client = no_client;
	m.u.wstats.tls_gen = tls_gen;
	if (chan_send(&m) == 0) {
		last.handshakes = handshakes;
		last.no_client = no_client;
		last.tls_gen = tls_gen;
	}
}

void chan_cancel_login(struct conn *c)
{
	struct ipc_msg m = {.type = IPC_AUTH_CANCEL, .ref = {conn_index(c), c->gen}};

	chan_send(&m);
}
