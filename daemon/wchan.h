/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the channel to each worker slot.  A control socketpair
 * (one struct ipc_msg per SOCK_SEQPACKET datagram) whose messages to the
 * worker wait in a backlog when it is full, and a log socketpair whose
 * records the master writes tagged "worker N", with a rate limit. */
#ifndef TUNNELD_WCHAN_H
#define TUNNELD_WCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"

/* Most control messages queued for one worker: far more than its
 * connections can have requests pending (limits.max-handshakes). */
#define IPC_BACKLOG_MAX 65536
#define LOG_RATE	500 /* log lines a second per worker */

/* What the master does with a control message from worker w. */
typedef void (*wchan_handler)(unsigned w, struct ipc_msg *m);

/* n channels, all closed, registered with the epoll ep when opened; each
 * control message that passes ipc_check() goes to handle.  0 or -ENOMEM
 * (logged). */
int wchan_init(int ep, unsigned n, wchan_handler handle);
/* Close every channel and wipe the backlogs. */
void wchan_free(void);

/* New socketpairs for slot w; the master's ends join the epoll (EV_IPC and
 * EV_LOG), the worker's ends are returned for the child.  0 or -errno
 * (logged), nothing left open on error. */
int wchan_open(unsigned w, int *child_ipc, int *child_log);
/* The worker is gone: handle the control messages it sent before it went
 * (its closing tunnels' counters; nothing is sent back to it), write its
 * last log lines, close both sockets, drop what waited for it. */
void wchan_close(unsigned w);
/* In a forked worker: close the master's ends of every channel and wipe
 * every backlog (cookies meant for other connections). */
void wchan_forget(void);
/* Whether slot w has a control socket to send on. */
bool wchan_up(unsigned w);

/* Send m to worker w.  Never dropped for want of socket room: it waits in
 * the backlog, in order, until the worker reads (EPOLLOUT).  Lost only
 * when the socket fails or past IPC_BACKLOG_MAX; both are logged. */
void wchan_send(unsigned w, const struct ipc_msg *m);
/* One variable-size datagram (IPC_TLS, IPC_POLICY, or IPC_SVC with nfds
 * listening sockets passed as SCM_RIGHTS).  When anything waits, or the
 * socket has no room, it waits in the backlog's order like the rest (the
 * fds duplicated meanwhile); of each kind only the newest matters, so a
 * newer one replaces the waiting one in its place.  Kinds never replace
 * each other.  0, -ENOTCONN when w has no control socket, -EINVAL for
 * another type, or -errno. */
int wchan_send_raw(unsigned w, const void *buf, size_t len);
int wchan_send_fds(unsigned w, const void *buf, size_t len, const int *fds, unsigned nfds);

/* EV_IPC on slot w: flush the backlog on EPOLLOUT, then read up to a
 * budget of messages for the handler, each wiped afterwards.  The handler
 * may send on any channel. */
void wchan_on_ipc(unsigned w, uint32_t events);
/* EV_LOG on slot w: write the waiting records. */
void wchan_on_log(unsigned w);

/* Control messages that had to wait in a backlog since start. */
unsigned long wchan_waited(void);

#endif
