/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master: steering of DTLS datagrams to the worker that owns their session,
 * on each listen address's SO_REUSEPORT group of UDP sockets. */
#ifndef TUNNELD_UDPSTEER_H
#define TUNNELD_UDPSTEER_H

#include <stdint.h>
#include <sys/socket.h>

/* Key of the peer map: the client's address and port as the program loads
 * them (host byte order words), port 0 for "any port of this address". */
struct udpsteer_key {
	uint32_t addr[4]; /* IPv4: addr[0] only */
	uint16_t port;
	uint16_t family; /* 4 or 6 */
};

/* Create the peer map (max_entries peers) and attach the program to the
 * reuseport group of each fd in fds[0..n_groups): socket k of a group is
 * worker k's, so the group's sockets must have been bound in worker order.
 * Returns the map fd, or -errno (the caller falls back to hand-offs). */
int udpsteer_attach(const int *fds, unsigned n_groups, unsigned n_workers, unsigned max_entries);

/* Datagrams from peer go to worker w: the exact address and port, and the
 * address alone (a NAT that moves the client to a new port still lands on
 * its worker).  0 or -errno. */
int udpsteer_set(int map_fd, const struct sockaddr *peer, uint32_t w);
/* Forget the exact address and port (the address entry stays until another
 * session from it replaces it, or it is unset here too when all is true). */
int udpsteer_unset(int map_fd, const struct sockaddr *peer, int all);

/* The key for a peer; -EAFNOSUPPORT for other families.  For tests. */
int udpsteer_key(const struct sockaddr *peer, int with_port, struct udpsteer_key *k);

#endif
