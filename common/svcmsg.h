/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLS stream services between the master and its workers: the table of
 * services a worker serves (IPC_SVC, also what a new worker inherits at
 * fork) and the counters it reports (IPC_SVC_STATS).  Both ends are the
 * same binary, so host layout is fine; a worker still checks every
 * length before use (svcmsg_check). */
#ifndef TUNNELD_SVCMSG_H
#define TUNNELD_SVCMSG_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

/* One service as a worker needs it.  In IPC_SVC its certificate chain
 * (PEM) and its CA list (PEM, ca_len 0: no client certificate asked)
 * follow the table, in table order. */
struct svc_def {
	uint32_t id;	  /* the master's: stable while the service keeps its name */
	uint32_t lgen;	  /* its listening sockets' generation: new sockets, new number */
	uint32_t key_gen; /* the key process's generation of its key */
	char name[CFG_SVC_NAME_MAX];
	struct cfg_listen listen, connect;
	uint32_t proxy_protocol; /* 0 or 1 */
	uint32_t max_connections, connect_timeout, idle_timeout;
	uint32_t cert_len, ca_len;
};

/* IPC_SVC: this header, n struct svc_def, the priority string (prio_len
 * bytes, no NUL), then each service's certificate and CA bytes.  It
 * carries n listening sockets (SCM_RIGHTS), one per service in order:
 * the receiving worker's own socket of each one's reuseport group. */
struct ipc_svc {
	uint32_t type; /* IPC_SVC */
	uint32_t n;
	uint32_t prio_len;
	uint32_t pad;
};
#define IPC_SVC_MAX  (1024 * 1024)
#define SVC_CERT_MAX (64 * 1024)  /* one certificate chain */
#define SVC_CA_MAX   (256 * 1024) /* one CA list */

/* A service's counters on one worker: totals since the last report,
 * and the streams open now. */
struct svc_counters {
	uint64_t accepted;	     /* streams admitted (handshake started) */
	uint64_t refused;	     /* max-connections or a full table */
	uint64_t handshake_failures; /* TLS handshakes that failed (client certificates too) */
	uint64_t connect_failures;   /* the destination refused, timed out or was unreachable */
	uint64_t bytes_in;	     /* client -> destination */
	uint64_t bytes_out;	     /* destination -> client */
};

/* IPC_SVC_STATS: the worker's streams and counters of up to
 * SVC_STATS_MAX services, each named by its id. */
#define SVC_STATS_MAX CFG_MAX_SERVICES
struct svc_stats_entry {
	uint32_t id;
	uint32_t open; /* streams open now on this worker */
	struct svc_counters ctr;
};

/* Vet an IPC_SVC of len bytes in buf: header, table, lengths adding up to
 * len exactly, names and texts terminated, numbers in the config's
 * bounds.  0, or -EBADMSG with the reason in err.  Pure. */
int svcmsg_check(const void *buf, size_t len, char *err, size_t errlen);

/* The parts of a checked IPC_SVC (buf needs no alignment): service i's
 * entry copied out, the priorities (prio_len bytes), and service i's
 * certificate and CA (cert_len and ca_len bytes). */
void svcmsg_def(const void *buf, uint32_t i, struct svc_def *out);
const char *svcmsg_prio(const void *buf);
void svcmsg_part(const void *buf, uint32_t i, const char **cert, const char **ca);

#endif
