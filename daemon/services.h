/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the TLS stream services.  Owns each service's listening
 * sockets (one per worker slot, SO_REUSEPORT, as the VPN's), its
 * certificate and CA bytes for the workers, the generation of its key in
 * the key process, the IPC_SVC table every worker gets (at fork, and
 * after a reload), and the counters the workers report.  A reload is a
 * transaction like the rest (reload.c): services_load() sets everything
 * aside, services_commit() swaps it in, services_discard() drops it. */
#ifndef TUNNELD_SERVICES_H
#define TUNNELD_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"
#include "conf/config.h"

struct services_set; /* a loaded, uncommitted set of services */

/* At start, after the key process: cfg's services loaded and committed,
 * n_slots listeners each.  Whether the workers may serve services at all
 * (their seccomp rows) is decided here, for the daemon's lifetime.  0, or
 * -1 logged. */
int services_start(const struct cfg *cfg, unsigned n_slots);
/* Load cfg's services aside: certificates, CAs, keys (into the key
 * process, uncommitted), listeners for addresses not open yet.  NULL on
 * error, logged with lead first ("reload failed, nothing changed: FILE"). */
struct services_set *services_load(const struct cfg *cfg, const char *lead);
/* The set becomes the live one; listeners nobody uses any more close (a
 * worker keeps serving its open streams); every worker gets the new table.
 * Takes set. */
void services_commit(struct services_set *set);
/* Drop an uncommitted set (NULL is fine). */
void services_discard(struct services_set *set);
/* Whether workers were set up to serve services (services at start). */
bool services_enabled(void);

/* For worker slot i, at fork: the table (IPC_SVC) and its n listeners, in
 * table order.  *msg NULL when there is none. */
void services_worker_env(unsigned i, const void **msg, size_t *len, const int **fds, unsigned *n);
/* In worker slot i after fork: close every other slot's listeners. */
void services_close_others(unsigned i);
/* IPC_SVC_STATS from worker w; and w is gone (its open streams with it). */
void services_on_stats(unsigned w, struct ipc_msg *m);
void services_worker_gone(unsigned w);
/* Close everything at exit. */
void services_free(void);

/* What tunnelctl shows of service i (0..services_count()-1). */
struct services_view {
	const char *name, *listen, *connect;
	bool client_cert, proxy_protocol;
	unsigned max_connections;
	uint64_t open; /* streams open now, all workers */
	struct svc_counters ctr;
};
unsigned services_count(void);
bool services_nth(unsigned i, struct services_view *v);

#endif
