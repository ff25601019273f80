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
	struct cfg *c = &W.live;

	c->reconnect_timeout = st->reconnect_timeout;
	c->dpd = st->dpd;
	c->keepalive = st->keepalive;
	/* The connection table was sized at start; a larger limit waits
	 * for a restart (the master says so). */
	c->max_clients = st->max_clients;
	c->handshake_timeout = st->handshake_timeout;
	c->auth_timeout = st->auth_timeout;
	c->queue_bytes = st->queue_bytes;
	c->max_handshakes = st->max_handshakes;
	c->max_handshakes_per_addr = st->max_handshakes_per_addr;
	c->http_max_header = st->http_max_header;
	c->http_max_body = st->http_max_body;
	set_http_limits();
	c->log_level = (enum cfg_log_level)st->log_level;
	log_set_level(st->log_level);
	c->n_dns = st->n_dns <= CFG_MAX_DNS ? st->n_dns : CFG_MAX_DNS;
	c->n_routes = st->n_routes <= CFG_MAX_ROUTES ? st->n_routes : CFG_MAX_ROUTES;
	memcpy(c->dns, st->dns, sizeof(c->dns));
	memcpy(c->routes, st->routes, sizeof(c->routes));
	log_debug("settings reloaded");
}
