/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the per-worker channels (see wchan.h).  Owns, per slot,
 * the master's ends of the control and log socketpairs, the backlog of
 * control messages and the log rate window.  The slot table (slots.c)
 * opens a channel at each spawn and closes it at each reap. */
#include "config.h"
#include "daemon/wchan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common/log.h"
#include "daemon/events.h"
#include "daemon/fsutil.h"
#include "daemon/msgq.h"

#define LOG_SOCKET_BUF (1 << 20)
#define IPC_SOCKET_BUF (4 << 20)

/* The variable-size messages (IPC_TLS, IPC_POLICY, IPC_SVC): of each
 * only the newest matters, so one of each kind waits at most. */
enum { LATEST_TLS, LATEST_POLICY, LATEST_SVC, LATEST_KINDS };

struct latest {
	void *buf; /* NULL: none waits */
	size_t len;
	int *fds; /* our own copies of the fds it carries (IPC_SVC) */
	unsigned nfds;
};

struct wchan {
	int ipc; /* master end of the control socketpair, -1 if none */
	int log; /* master end of the log socketpair, -1 if none */
	/* Control messages the worker's socket had no room for yet, oldest
	 * first (a ring); sent as soon as it drains (EPOLLOUT).  A waiting
	 * variable-size message holds its place here as an ipc_msg of its
	 * type (a marker), and goes out from latest[] when its turn comes. */
	struct msgq backlog;
	struct latest latest[LATEST_KINDS];
	/* The log rate limit; kept across respawns of the slot. */
	time_t log_window;
	unsigned log_lines;
	unsigned long log_suppressed;
};

static struct wchan *chans;
static unsigned n_chans;
static int ep_fd = -1;		 /* the master's epoll (master.c) */
static wchan_handler handler;	 /* the master's (master.c) */
static unsigned long ipc_waited; /* control messages that waited in a backlog */

/* Which latest[] slot a variable-size message of this type waits in, or
 * -1 for the fixed-size ones. */
static int latest_kind(uint32_t type)
{
	switch (type) {
	case IPC_TLS:
		return LATEST_TLS;
	case IPC_POLICY:
		return LATEST_POLICY;
	case IPC_SVC:
		return LATEST_SVC;
	default:
		return -1;
	}
}

static void drop_latest(struct latest *l)
{
	for (unsigned i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	free(l->fds);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* The backlog and everything that waited with it. */
static void drop_waiting(struct wchan *c)
{
	msgq_free(&c->backlog);
	for (unsigned k = 0; k < LATEST_KINDS; k++)
		drop_latest(&c->latest[k]);
}

/* One datagram with fds; the result of sendmsg. */
static ssize_t send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CFG_MAX_SERVICES)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *h;

	if (nfds > CFG_MAX_SERVICES) {
		errno = EINVAL;
		return -1;
	}
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		h = CMSG_FIRSTHDR(&mh);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int wchan_init(int ep, unsigned n, wchan_handler handle)
{
	chans = calloc(n, sizeof(*chans));
	if (!chans)
		return log_errno(-ENOMEM, "worker slots");
	for (unsigned w = 0; w < n; w++)
		chans[w].ipc = chans[w].log = -1;
	n_chans = n;
	ep_fd = ep;
	handler = handle;
	return 0;
}

void wchan_free(void)
{
	for (unsigned w = 0; w < n_chans; w++) {
		close_fd(&chans[w].ipc);
		drop_waiting(&chans[w]);
		close_fd(&chans[w].log);
	}
	free(chans);
	chans = NULL;
	n_chans = 0;
}

/* Both ends get room for bursts.  Without CAP_NET_ADMIN (a test run as a
 * user) the FORCE options fail and the defaults stay: that costs dropped
 * log lines and more backlog use, nothing else, hence the (void)s. */
static int tune(int ipc[2], int lg[2])
{
	int big = LOG_SOCKET_BUF, ipcbuf = IPC_SOCKET_BUF;

	/* Room for bursts of log records; a full socket drops, never blocks. */
	(void)setsockopt(lg[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	/* Room for a login burst both ways; neither end ever waits: the
	 * worker's queues a little and then refuses (worker/chan.c), the
	 * master's queues (wchan_send). */
#ifdef TEST_HOOKS
	/* Tests shrink the socket to drive messages through the backlog. */
	if (getenv("TUNNELD_TEST_IPCBUF"))
		ipcbuf = atoi(getenv("TUNNELD_TEST_IPCBUF"));
#endif
	(void)setsockopt(ipc[0], SOL_SOCKET, SO_SNDBUFFORCE, &ipcbuf, sizeof(ipcbuf));
	(void)setsockopt(ipc[1], SOL_SOCKET, SO_SNDBUFFORCE, &ipcbuf, sizeof(ipcbuf));
	/* The master's ends only: a blocking one would stall the loop. */
	if (fcntl(lg[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(ipc[0], F_SETFL, O_NONBLOCK) < 0)
		return log_errno(-errno, "fcntl");
	return 0;
}

int wchan_open(unsigned w, int *child_ipc, int *child_log)
{
	struct wchan *c = &chans[w];
	int ipc[2], lg[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ipc) < 0)
		return log_errno(-errno, "socketpair");
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, lg) < 0) {
		r = log_errno(-errno, "socketpair");
		goto out_ipc;
	}
	r = tune(ipc, lg);
	if (r < 0)
		goto out_log;
	if ((r = ev_ctl(ep_fd, EPOLL_CTL_ADD, ipc[0], EPOLLIN, EV_IPC, w)) < 0 ||
	    (r = ev_ctl(ep_fd, EPOLL_CTL_ADD, lg[0], EPOLLIN, EV_LOG, w)) < 0) {
		log_errno(r, "epoll_ctl");
		goto out_log; /* closing ipc[0] takes it out of the epoll too */
	}
	c->ipc = ipc[0];
	c->log = lg[0];
	*child_ipc = ipc[1];
	*child_log = lg[1];
	return 0;
out_log:
	close(lg[0]);
	close(lg[1]);
out_ipc:
	close(ipc[0]);
	close(ipc[1]);
	return r;
}

/* Out of the epoll, then closed.  The DEL cannot fail for an fd we
 * registered; close alone would not remove it while a worker forked in
 * between still held a copy, hence the explicit DEL. */
static void drop_fd(int *fd)
{
	(void)epoll_ctl(ep_fd, EPOLL_CTL_DEL, *fd, NULL);
	close_fd(fd);
}

/* One control message from worker w, n bytes of m received: vetted (a
 * worker may be taken over), handled, wiped. */
static void take(unsigned w, struct ipc_msg *m, ssize_t n)
{
	char why[128];

	if (ipc_check(m, (size_t)n, IPC_FROM_WORKER, 0, why, sizeof(why)) < 0)
		log_err("worker %u: control message refused: %s", w, why);
	else
		handler(w, m);
	explicit_bzero(m, sizeof(*m));
}

/* What a gone worker said that still counts: its reports.  Its requests
 * (ready, a login, a CONNECT, a cancel) have no one left to answer, and
 * the reap ends what it had in progress. */
static bool is_report(uint32_t type)
{
	return type == IPC_CLOSED || type == IPC_STATS || type == IPC_DTLS || type == IPC_WSTATS ||
	       type == IPC_SVC_STATS;
}

void wchan_close(unsigned w)
{
	struct wchan *c = &chans[w];
	struct ipc_msg m;
	int fd = c->ipc;
	ssize_t n;

	/* Its last reports (the counters of the tunnels it closed), which
	 * the reap may come before; the channel is down meanwhile.  A dead
	 * worker's socket holds a bounded number; a failed fork's none. */
	c->ipc = -1;
	while (fd >= 0 && (n = recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC)) > 0) {
		if ((size_t)n >= sizeof(m.type) && is_report(m.type))
			take(w, &m, n);
		explicit_bzero(&m, sizeof(m));
	}
	if (c->log >= 0)
		wchan_on_log(w); /* its last words */
	if (fd >= 0)
		drop_fd(&fd);
	drop_waiting(c); /* answers for connections that died with it */
	if (c->log >= 0)
		drop_fd(&c->log);
}

void wchan_forget(void)
{
	for (unsigned w = 0; w < n_chans; w++) {
		close_fd(&chans[w].ipc);
		close_fd(&chans[w].log);
		drop_waiting(&chans[w]); /* cookies meant for other connections */
	}
}

bool wchan_up(unsigned w)
{
	return w < n_chans && chans[w].ipc >= 0;
}

static void want_out(unsigned w, bool on)
{
	int r =
	    ev_ctl(ep_fd, EPOLL_CTL_MOD, chans[w].ipc, EPOLLIN | (on ? EPOLLOUT : 0), EV_IPC, w);

	if (r < 0)
		log_errno(r, "worker %u: epoll_ctl", w);
}

/* Send what waits, in order, a marker's turn sending the newest message
 * of its kind; stop at a full socket. */
static void flush(unsigned w)
{
	struct wchan *c = &chans[w];
	struct ipc_msg *m;
	struct latest *l;
	ssize_t n;
	int k;

	while ((m = msgq_front(&c->backlog)) != NULL) {
		k = latest_kind(m->type);
		l = k < 0 ? NULL : &c->latest[k];
		if (l && !l->buf) { /* sent by an earlier marker of its kind */
			msgq_pop(&c->backlog);
			continue;
		}
		n = l ? send_fds(c->ipc, l->buf, l->len, l->fds, l->nfds)
		      : send(c->ipc, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0 && !l) {
			log_warn("worker %u: control socket: %s", w, strerror(errno));
			drop_waiting(c);
			break;
		}
		if (n < 0)
			log_warn("worker %u: control message %u lost: %s", w, m->type,
				 strerror(errno));
		if (l)
			drop_latest(l);
		msgq_pop(&c->backlog);
	}
	want_out(w, false);
}

void wchan_send(unsigned w, const struct ipc_msg *m)
{
	struct wchan *c = &chans[w];

	if (c->ipc < 0)
		return;
	if (!c->backlog.len &&
	    send(c->ipc, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*m))
		return;
	if (!c->backlog.len && errno != EAGAIN && errno != EINTR) {
		log_warn("worker %u: control message %u lost: %s", w, m->type, strerror(errno));
		return;
	}
	ipc_waited++;
	if (msgq_push(&c->backlog, m, IPC_BACKLOG_MAX) < 0) {
		log_err("worker %u: %u control messages waiting; message %u lost", w,
			c->backlog.len, m->type);
		return;
	}
	if (c->backlog.len == 1)
		want_out(w, true);
}

int wchan_send_raw(unsigned w, const void *buf, size_t len)
{
	return wchan_send_fds(w, buf, len, NULL, 0);
}

int wchan_send_fds(unsigned w, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	struct wchan *c = &chans[w];
	struct ipc_msg marker = {0};
	struct latest *l;
	bool placed;
	int k, r = -ENOMEM;

	if (len < sizeof(marker.type) || nfds > CFG_MAX_SERVICES)
		return -EINVAL;
	memcpy(&marker.type, buf, sizeof(marker.type));
	if ((k = latest_kind(marker.type)) < 0)
		return -EINVAL;
	if (!wchan_up(w))
		return -ENOTCONN;
	if (!c->backlog.len && send_fds(c->ipc, buf, len, fds, nfds) == (ssize_t)len)
		return 0;
	if (!c->backlog.len && errno != EAGAIN && errno != EINTR)
		return -errno;
	/* Kept until its turn (flush).  A newer one of its kind replaces it
	 * and takes its place in the order, which is never later. */
	l = &c->latest[k];
	placed = l->buf != NULL;
	drop_latest(l);
	l->buf = malloc(len);
	l->fds = calloc(nfds ? nfds : 1, sizeof(int));
	if (!l->buf || !l->fds)
		goto fail;
	memcpy(l->buf, buf, len);
	l->len = len;
	for (; l->nfds < nfds; l->nfds++) {
		l->fds[l->nfds] = fcntl(fds[l->nfds], F_DUPFD_CLOEXEC, 3);
		if (l->fds[l->nfds] < 0) {
			r = -errno;
			goto fail;
		}
	}
	ipc_waited++;
	if (placed)
		return 0;
	if (msgq_push(&c->backlog, &marker, IPC_BACKLOG_MAX) < 0) {
		r = -ENOBUFS;
		goto fail;
	}
	if (c->backlog.len == 1)
		want_out(w, true);
	return 0;
fail:
	drop_latest(l); /* an earlier marker finds nothing and moves on */
	return r;
}

void wchan_on_ipc(unsigned w, uint32_t events)
{
	struct ipc_msg m;
	ssize_t n;
	int budget = 256;

	if (chans[w].ipc >= 0 && (events & EPOLLOUT))
		flush(w);
	while (chans[w].ipc >= 0 && budget-- > 0) {
		n = recv(chans[w].ipc, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The worker is gone; SIGCHLD does the rest. */
			drop_fd(&chans[w].ipc);
			return;
		}
		take(w, &m, n);
	}
}

/* A flooding worker loses lines, not the master's time: past LOG_RATE
 * lines a second they are read, counted and dropped.  True when the line
 * may be written. */
static bool log_rate_ok(struct wchan *c, const char *tag)
{
	time_t now = time(NULL);

	if (now != c->log_window) {
		if (c->log_suppressed) {
			char msg[96];
			snprintf(msg, sizeof(msg), "%lu log lines suppressed (rate limit)",
				 c->log_suppressed);
			log_write_line(LOG_WARNING, tag, msg);
		}
		c->log_window = now;
		c->log_lines = 0;
		c->log_suppressed = 0;
	}
	if (++c->log_lines > LOG_RATE) {
		c->log_suppressed++;
		return false;
	}
	return true;
}

void wchan_on_log(unsigned w)
{
	char rec[LOG_RECORD_MAX + 1], tag[32];
	struct wchan *c = &chans[w];
	int budget = 512;
	ssize_t n;

	snprintf(tag, sizeof(tag), "worker %u", w);
	while (c->log >= 0 && budget-- > 0) {
		n = recv(c->log, rec, LOG_RECORD_MAX, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				drop_fd(&c->log);
			return;
		}
		if (n < 2 || !log_rate_ok(c, tag))
			continue;
		rec[n] = 0;
		/* A worker may be taken over: it does not choose a level above
		 * err (emerg, alert and crit walls them to terminals), and its
		 * text is escaped by log_write_line like any client text. */
		log_write_line((rec[0] & 7) < LOG_ERR ? LOG_ERR : rec[0] & 7, tag, rec + 1);
	}
}

unsigned long wchan_waited(void)
{
	return ipc_waited;
}
