/* Master: a FIFO of control messages for one worker, for when its socket
 * is full (wchan.c wchan_send).  A ring that doubles up to a bound; freed
 * memory is wiped, since messages carry cookies. */
#ifndef TUNNELD_MSGQ_H
#define TUNNELD_MSGQ_H

#include "common/ipc.h"

struct msgq {
	struct ipc_msg *v;
	unsigned head, len, cap;
};

/* Append a copy of m; -ENOBUFS past max messages or without memory. */
int msgq_push(struct msgq *q, const struct ipc_msg *m, unsigned max);

/* The oldest message, NULL when empty. */
static inline struct ipc_msg *msgq_front(struct msgq *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

/* Drop (and wipe) the oldest message. */
void msgq_pop(struct msgq *q);

/* Wipe and free everything; the queue is then empty and reusable. */
void msgq_free(struct msgq *q);

#endif
