/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged after set-up): W, what every file of the worker
 * shares: the environment from the master, the live config (the inherited
 * one, updated by IPC_SETTINGS), the epoll set and the connection table.
 * Each file keeps the rest of its state to itself. */
#include "config.h"
#include "worker/worker.h"

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
