/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): what the monitoring endpoint (httpd.c) answers, made from
 * the master's state: the gauges of /metrics (sessions, tunnels, workers,
 * leases, handshakes) next to the totals of metrics.c, and /healthz.
 * Owns nothing but what it was opened with. */
#ifndef TUNNELD_MONITOR_H
#define TUNNELD_MONITOR_H

#include <stdbool.h>
#include <time.h>

#include "conf/config.h"

/* What the master tells of its phase, asked at each request. */
struct monitor_phase {
	bool (*draining)(void); /* master_draining() */
	bool (*stopping)(void);
};

/* Set up metrics.c for n workers and the endpoint on cfg's
 * metrics.listen (none without it; a reload may add one), in the epoll
 * ep.  cfg is the master's live config, read at each request.  0, or -1
 * logged. */
int monitor_open(int ep, const struct cfg *cfg, unsigned n, time_t started,
		 const struct monitor_phase *phase);
/* Close the endpoint and free metrics.c. */
void monitor_close(void);

#endif
