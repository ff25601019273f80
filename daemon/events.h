/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the events of the master's one epoll loop.  data.u64
 * carries the kind in its high 32 bits and the worker slot (0 when none)
 * in the low ones; master.c dispatches on them, wchan.c registers the
 * worker channels with them. */
#ifndef TUNNELD_EVENTS_H
#define TUNNELD_EVENTS_H

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>

enum ev_kind {
	EV_SIGNAL = 1, /* the signalfd */
	EV_TIMER,      /* the 1 s timerfd */
	EV_IPC,	       /* a worker's control socket (wchan.c) */
	EV_LOG,	       /* a worker's log socket (wchan.c) */
	EV_CONTROL,    /* the tunnelctl socket (control.c) */
	EV_HASHER,     /* a hashing process's socket (hashpool.c) */
	EV_HTTP,       /* the monitoring endpoint (httpd.c): 0 its socket, else a client */
	EV_ACCT,       /* the accounting process's socket (acct.c) */
	EV_COA,	       /* a Disconnect/CoA socket (coa.c) */
};

/* epoll_ctl(op) of fd for events, tagged kind and idx.  0 or -errno. */
static inline int ev_ctl(int ep, int op, int fd, uint32_t events, enum ev_kind kind, unsigned idx)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)kind << 32 | idx};

	return epoll_ctl(ep, op, fd, &ev) < 0 ? -errno : 0;
}

static inline enum ev_kind ev_kind_of(const struct epoll_event *ev)
{
	return (enum ev_kind)(ev->data.u64 >> 32);
}

static inline unsigned ev_index_of(const struct epoll_event *ev)
{
	return (unsigned)ev->data.u64;
}

#endif
