/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed-size hash map from a UDP peer (address and port, or an address
 * alone) to a 32-bit value: the worker's index of its DTLS peers.  Open
 * addressing with linear probing and backward-shift deletion, so there are
 * no tombstones and a lookup stops at the first empty slot.  No allocation
 * after peermap_init(); pure otherwise, unit-tested. */
#ifndef TUNNELD_PEERMAP_H
#define TUNNELD_PEERMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct peer_key {
	uint32_t addr[4]; /* as stored in the sockaddr (network order bytes) */
	uint16_t port;	  /* network order; 0 for "the address alone" */
	uint16_t family;  /* AF_INET or AF_INET6; 0 marks an empty slot */
};

struct peermap {
	struct {
		struct peer_key k;
		uint32_t v;
	} * slot;
	uint32_t mask; /* capacity - 1 */
	uint32_t n;
};

/* Room for at least want entries at a load of at most 1/2.  0 or -ENOMEM. */
int peermap_init(struct peermap *m, uint32_t want);
void peermap_free(struct peermap *m);

/* The key of sa (AF_INET or AF_INET6; with_port false: port 0).  -1 for
 * other families. */
int peer_key_of(const struct sockaddr *sa, bool with_port, struct peer_key *k);

/* Insert or update.  0, or -ENOSPC when the map is at its load limit. */
int peermap_put(struct peermap *m, const struct peer_key *k, uint32_t v);
/* The value, or false when absent. */
bool peermap_get(const struct peermap *m, const struct peer_key *k, uint32_t *v);
/* Remove if present with value v (another value means someone else took
 * the key since: leave it).  Returns whether it removed. */
bool peermap_del(struct peermap *m, const struct peer_key *k, uint32_t v);

#endif
