/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the server-wide figures.  Owns the counters that only
 * grow (traffic and drops of every session, ended ones included; logins
 * by result and the histogram of their time; bans; reconnects; ended
 * sessions) and what each worker last reported of itself (IPC_WSTATS).
 * auth.c counts into it; control.c (tunnelctl status) reads it; /metrics
 * (httpd.c) is written from it and the gauges the master fills in. */
#ifndef TUNNELD_METRICS_H
#define TUNNELD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/ipc.h"
#include "daemon/services.h"

/* How a login ended: one row per result.  X(ID, NAME): the enum is
 * LOGIN_ID, NAME the label (result="NAME") and tunnelctl's key. */
#define LOGIN_RESULTS(X)                                                                           \
	X(OK, "ok")			  /* a session */                                          \
	X(BAD_PASSWORD, "bad_password")	  /* wrong password */                                     \
	X(UNKNOWN_USER, "unknown_user")	  /* no such user */                                       \
	X(LOCKED, "locked")		  /* a locked user */                                      \
	X(REFUSED_HASH, "refused_hash")	  /* md5crypt or NT hash: set the password again */        \
	X(BANNED, "banned")		  /* the address is banned (auth.ban-*) */                 \
	X(BUSY, "busy")			  /* limits.max-pending-logins */                          \
	X(SESSION_LIMIT, "session_limit") /* limits.max-sessions-per-user */                       \
	X(STOPPING, "stopping")		  /* the server drains or stops */                         \
	X(CANCELLED, "cancelled")	  /* the client left before the answer */                  \
	X(ERROR, "error")		  /* the check failed (a hashing process died, memory) */

enum login_result {
#define LOGIN_ENUM(id, name) LOGIN_##id,
	LOGIN_RESULTS(LOGIN_ENUM)
#undef LOGIN_ENUM
	    LOGIN_N
};
extern const char *const login_result_names[LOGIN_N];

/* Upper bounds (seconds) of the login-time histogram's buckets; +Inf
 * follows. */
#define LOGIN_BUCKETS 12
extern const double login_bucket_le[LOGIN_BUCKETS];

struct metrics_totals {
	struct sess_counters traffic; /* every session's, ended ones included */
	uint64_t drop_no_client;      /* TUN packets for no tunnel (workers) */
	uint64_t logins[LOGIN_N];
	uint64_t login_hist[LOGIN_BUCKETS + 1]; /* per bucket, not cumulative */
	uint64_t login_count;
	double login_sum_s;
	uint64_t bans, reconnects, sessions_ended;
};

/* What the master knows of its state when /metrics is asked for. */
struct metrics_gauges {
	unsigned sessions, tunnels, tunnels_dtls;
	unsigned workers, workers_up;
	unsigned leases_used, leases_free;
	unsigned handshakes;	 /* from the workers' last reports */
	unsigned workers_behind; /* metrics_workers_behind(slots_tls_generation()) */
	unsigned max_clients;
	bool draining;
	time_t started;
	const struct services_view *svc; /* the TLS stream services, n_svc of them */
	unsigned n_svc;
};

/* Per-worker reports for n slots.  0 or -ENOMEM. */
int metrics_setup(unsigned n);
void metrics_free(void);

/* Counting (auth.c). */
void metrics_traffic(const struct sess_counters *c);
/* A login ended with r; hashed: it had its password checked, taking
 * usec microseconds from the worker's request (the histogram's share). */
void metrics_login(enum login_result r, bool hashed, uint64_t usec);
void metrics_ban(void);
void metrics_reconnect(void);
void metrics_session_ended(void);
/* IPC_WSTATS from worker w (vetted by ipc_check). */
void metrics_worker(unsigned w, struct ipc_msg *m);
/* The key generation of the certificate worker w said it serves (0: not
 * said yet). */
uint32_t metrics_worker_tls_generation(unsigned w);
/* Workers that said they serve another certificate than that of
 * generation current, the last one loaded: a reload not delivered (yet). */
unsigned metrics_workers_behind(uint32_t current);
/* Worker w is gone: its drops stay counted, its handshakes are over. */
void metrics_worker_gone(unsigned w);

const struct metrics_totals *metrics_totals(void);
/* Handshakes in progress on all workers, as last reported. */
unsigned metrics_handshakes(void);

/* The Prometheus text exposition of the totals and g, malloc'ed (free()
 * it) with its length in *len; NULL when out of memory. */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

#endif
