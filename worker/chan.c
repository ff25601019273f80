/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged after set-up): messages to the master over the
 * control socket inherited at fork, one struct ipc_msg per datagram.
 * Owns nothing but the sending; loop.c receives. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

int chan_send(const struct ipc_msg *m)
{
	if (send(W.env->ipc_fd, m, sizeof(*m), MSG_NOSIGNAL) != sizeof(*m))
		return log_errno(-errno, "control message to the master");
	return 0;
}

void chan_report_closed(struct conn *c, bool end_session, const char *reason)
{
	struct ipc_msg m = {.type = IPC_CLOSED, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.end_session = end_session;
	m.u.closed.ctr = c->ctr;
	snprintf(m.u.closed.reason, sizeof(m.u.closed.reason), "%s", reason);
	memset(&c->ctr, 0, sizeof(c->ctr));
	chan_send(&m);
}

void chan_report_stats(struct conn *c)
{
	struct ipc_msg m = {.type = IPC_STATS, .ref = {conn_index(c), c->gen}};

	m.u.closed.sess_id = c->sess_id;
	m.u.closed.ctr = c->ctr;
	memset(&c->ctr, 0, sizeof(c->ctr));
	chan_send(&m);
}
