/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the packet path as it was set up, for tunnelctl status.
 * The parts that decide it (tun.c: offloads, slots.c: TUN steering, udp.c:
 * DTLS steering, UDP GSO and GRO) record here what they got and, for what
 * is off, why; control.c reads it.  Owns only that record: set once at
 * start-up, never changed by a reload (none of it is reloadable). */
#ifndef TUNNELD_PKTPATH_H
#define TUNNELD_PKTPATH_H

#include <stdbool.h>

#define PKTPATH_WHY_LEN 160

/* One feature: on, or off and why ("" while on). */
struct pktpath_item {
	bool on;
	char why[PKTPATH_WHY_LEN];
};

struct pktpath {
	unsigned tun_queues;		   /* one per worker: worker i reads queue i */
	unsigned udp_sockets;		   /* per worker (one per listen address), 0: no DTLS */
	struct pktpath_item tun_steering;  /* eBPF: a packet to its client's queue */
	struct pktpath_item tun_offload;   /* IFF_VNET_HDR: checksums, TSO4, TSO6 */
	struct pktpath_item tun_uso;	   /* UDP super-packets (USO4, USO6) */
	struct pktpath_item dtls;	   /* the UDP sockets exist */
	struct pktpath_item dtls_steering; /* reuseport eBPF: a datagram to its worker */
	struct pktpath_item udp_gso;	   /* UDP_SEGMENT for a worker's sends */
	struct pktpath_item udp_gro;	   /* UDP_GRO on every socket */
};

/* Record a feature: on, or off with the reason (printf-style). */
void pktpath_on(struct pktpath_item *it);
void pktpath_off(struct pktpath_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The record, for the parts that fill it and for control.c. */
struct pktpath *pktpath(void);

/* Why the kernel refused an eBPF program or map (errno r < 0), with what
 * usually causes it: "Operation not permitted: needs CAP_BPF ...". */
const char *pktpath_bpf_why(int r);

#endif
