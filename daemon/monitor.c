/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the answers of the monitoring endpoint (see monitor.h).
 * /healthz says whether a balancer should send clients here: 503 while
 * stopping or draining, with no worker ready, or with limits.max-clients
 * tunnels up; 200 "ok" otherwise. */
#include "config.h"
#include "daemon/monitor.h"

#include "common/log.h"
#include "daemon/auth.h"
#include "daemon/httpd.h"
#include "daemon/metrics.h"
#include "daemon/services.h"
#include "daemon/sessions.h"
#include "daemon/slots.h"

static struct {
	const struct cfg *cfg;
	unsigned n;
	time_t started;
	struct monitor_phase phase;
} O;

static char *metrics_text(size_t *len)
{
	const struct sess_table *t = auth_sessions();
	static struct services_view svc[CFG_MAX_SERVICES];
	struct metrics_gauges g = {
	    .sessions = t->count,
	    .tunnels = t->tunnels,
	    .workers = O.n,
	    .workers_up = slots_up(),
	    .workers_behind = metrics_workers_behind(slots_tls_generation()),
	    .leases_used = t->pool.used,
	    .leases_free = t->pool.usable - t->pool.used,
	    .handshakes = metrics_handshakes(),
	    .max_clients = O.cfg->max_clients,
	    .draining = O.phase.draining(),
	    .started = O.started,
	    .svc = svc,
	};

	for (uint32_t i = 0; i < t->cap; i++)
		g.tunnels_dtls += t->s[i].used && t->s[i].worker >= 0 && t->s[i].dtls_up;
	while (g.n_svc < CFG_MAX_SERVICES && services_nth(g.n_svc, &svc[g.n_svc]))
		g.n_svc++;
	return metrics_render(&g, len);
}

static const char *health(void)
{
	if (O.phase.stopping())
		return "stopping";
	if (O.phase.draining())
		return "draining";
	if (slots_up() == 0)
		return "no worker running";
	if (auth_sessions()->tunnels >= O.cfg->max_clients)
		return "full";
	return NULL;
}

int monitor_open(int ep, const struct cfg *cfg, unsigned n, time_t started,
		 const struct monitor_phase *phase)
{
	const struct httpd_ops ops = {.metrics = metrics_text, .health = health};
	int fd = -1, r;

	O.cfg = cfg;
	O.n = n;
	O.started = started;
	O.phase = *phase;
	r = metrics_setup(n);
	if (r < 0)
		return log_errno(r, "metrics");
	/* Bound before the workers exist; they close it (httpd_forget). */
	if (cfg->have_metrics && (r = httpd_listen(&cfg->metrics_listen, &fd)) < 0)
		return log_errno(r, "metrics.listen %s", cfg->metrics_listen.text);
	r = httpd_start(ep, fd, &ops);
	if (r < 0)
		return log_errno(r, "metrics.listen %s", cfg->metrics_listen.text);
	if (fd >= 0)
		log_info("metrics: http://%s/metrics and /healthz", cfg->metrics_listen.text);
	return 0;
}

void monitor_close(void)
{
	httpd_stop();
	metrics_free();
}
