/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the monitoring endpoint (metrics.listen), a small HTTP/1.x
 * server in the master's own loop: GET /metrics (Prometheus text format)
 * and GET /healthz.  Owns its listening socket and a fixed table of
 * HTTPD_MAX_CONNS connections; no worker serves it.  It never blocks the
 * loop: sockets are non-blocking, a request is at most HTTPD_REQ_MAX
 * bytes, one request per connection, and a connection that has not been
 * answered and written within HTTPD_DEADLINE_S is closed. */
#ifndef TUNNELD_HTTPD_H
#define TUNNELD_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/config.h"

#define HTTPD_MAX_CONNS	 16   /* at once; another one is closed at accept */
#define HTTPD_REQ_MAX	 4096 /* request line and headers */
#define HTTPD_DEADLINE_S 5    /* from accept to the last byte of the answer */

/* What the answers are made of (the master's). */
struct httpd_ops {
	/* The body of /metrics, malloc'ed (*len bytes); NULL when out of
	 * memory. */
	char *(*metrics)(size_t *len);
	/* NULL when the server takes clients, else why not ("draining",
	 * "full", "no worker running"): /healthz answers 503 with it. */
	const char *(*health)(void);
};

/* A non-blocking listening socket bound to l (SO_REUSEADDR): 0 and *fd,
 * or -errno. */
int httpd_listen(const struct cfg_listen *l, int *fd);
/* Serve on lfd (the endpoint takes it over; -1 for none) from the epoll
 * ep (EV_HTTP events), answering with ops.  0 or -errno. */
int httpd_start(int ep, int lfd, const struct httpd_ops *ops);
/* A reload: lfd (or -1) replaces the listening socket; connections being
 * served finish. */
void httpd_swap(int lfd);

/* EV_HTTP: idx 0 is the listening socket, others a connection. */
void httpd_on_event(unsigned idx, uint32_t events);
/* Once a second: connections past their deadline are closed. */
void httpd_tick(time_t now);

/* In a forked child: close every socket without touching the epoll. */
void httpd_forget(void);
/* Close everything. */
void httpd_stop(void);

#endif
