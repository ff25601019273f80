/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth processes: what every login backend (backend.h) shares. */
#include "config.h"
#include "daemon/backend.h"

#include <string.h>

const char *bk_answer(const struct bk_request *rq, const char *name)
{
	for (uint32_t i = 0; i < rq->n_ans; i++)
		if (!name || !strcmp(rq->ans[i].name, name))
			return rq->ans[i].value;
	return NULL;
}
