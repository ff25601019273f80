/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged after set-up): W, what every file of the worker
 * shares: the environment from the master, the live config (the inherited
 * one, updated by IPC_SETTINGS), the epoll set and the connection table.
 * Each file keeps the rest of its state to itself. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct worker W;

/* HTTP buffers of connections in the login phase keep the size they were
 * allocated with; new requests see the new limits. */
static void set_http_limits(void)
{
	http_limits_default(&W.http_lim);
	W.http_lim.max_header = W.cfg->http_max_header;
	W.http_lim.max_body = W.cfg->http_max_body;
}

void ctx_init(const struct worker_env *env)
{
	memset(&W, 0, sizeof(W));
	W.env = env;
	W.live = *env->cfg;
	W.cfg = &W.live;
	W.ep = -1;
	set_http_limits();
}

void ctx_apply_settings(const struct ipc_settings *st)
{
	char why[160];

	/* ipc_check() vetted it; a refusal here would be a bug.  The
	 * connection table was sized at start: a larger limits.max-clients
	 * waits for a restart (the master says so). */
	if (cfg_settings_apply(st->blob, st->len, &W.live, why, sizeof(why)) < 0) {
		log_err("settings refused: %s", why);
		return;
	}
	set_http_limits();
	log_set_level((int)W.live.log_level);
	log_debug("settings reloaded");
}

int ctx_policy_init(void)
{
	size_t cap = policy_packed_size(W.cfg);
	uint8_t *buf = malloc(cap);
	char why[128];
	int r;

	if (!buf)
		return -ENOMEM;
	r = policy_pack(W.cfg, buf, cap);
	if (r >= 0)
		r = policy_unpack(buf, (size_t)r, &W.policy, why, sizeof(why));
	free(buf);
	if (r == -EBADMSG) /* the master's own config: a bug */
		log_err("the groups' policy: %s", why);
	return r < 0 ? r : 0;
}

void ctx_apply_policy(const void *buf, size_t len)
{
	struct policy *p;
	char why[128];
	int r = policy_unpack(buf, len, &p, why, sizeof(why));

	if (r < 0) {
		log_err("the groups' policy refused: %s", r == -EBADMSG ? why : strerror(-r));
		return;
	}
	policy_put(W.policy);
	W.policy = p;
	log_debug("groups' policy reloaded: %u groups", p->n - 1);
}
