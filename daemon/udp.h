/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the DTLS sockets.  One UDP socket per worker and listen
 * address, all of one address in a SO_REUSEPORT group with the steering
 * program (udpsteer.c), plus one datagram pair per worker on which other
 * workers hand it datagrams that reached them first. */
#ifndef TUNNELD_UDP_H
#define TUNNELD_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ipc.h"
#include "conf/config.h"

/* Open everything for n workers when cfg says dtls.enable.  A failure
 * turns DTLS off with a warning naming it (clients then stay on TLS, which
 * is never advertised otherwise): DTLS is offered only over sockets that
 * exist.  Returns whether DTLS is on. */
bool udp_setup(const struct cfg *cfg, unsigned n);
/* Worker w's sockets, by listen address; NULL when DTLS is off. */
const int *udp_fds(unsigned w);
/* The UDP port of each listen address (host order); NULL when off. */
const uint16_t *udp_ports(void);
/* Worker w's hand-off inbox (receive end), and the send ends of all
 * workers' inboxes (ours included; the worker skips its own). */
int udp_inbox(unsigned w);
const int *udp_peer_inboxes(void);
/* Whether datagrams are steered to their session's worker in the kernel. */
bool udp_steered(void);
/* In worker w after fork: close what belongs to the other workers. */
void udp_close_others(unsigned w);
/* A worker's DTLS channel came up from peer (or went down): steer that
 * peer's datagrams to worker w (or stop). */
void udp_peer(unsigned w, const struct ipc_peer *peer, bool up);
void udp_free(void);

#endif
