/* Master: FIFO of control messages (see msgq.h). */
#include "config.h"
#include "daemon/msgq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int msgq_push(struct msgq *q, const struct ipc_msg *m, unsigned max)
{
	if (q->len == q->cap) {
		unsigned cap = q->cap ? 2 * q->cap : 64, i, n = q->len;
		struct ipc_msg *v;

		if (cap > max || !(v = malloc((size_t)cap * sizeof(*v))))
			return -ENOBUFS;
		for (i = 0; i < n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		msgq_free(q);
		q->v = v;
		q->cap = cap;
		q->len = n;
	}
	q->v[(q->head + q->len) % q->cap] = *m;
	q->len++;
	return 0;
}

void msgq_pop(struct msgq *q)
{
	if (!q->len)
		return;
	explicit_bzero(&q->v[q->head], sizeof(q->v[q->head]));
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

void msgq_free(struct msgq *q)
{
	if (q->v)
		explicit_bzero(q->v, (size_t)q->cap * sizeof(*q->v));
	free(q->v);
	memset(q, 0, sizeof(*q));
}
