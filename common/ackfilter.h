/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ACK filter of the TUN write batch (common/offload.h): a download's
 * client acknowledges every other packet, and each of its pure ACKs costs
 * a TUN write here and an ACK to process at the sender.  Within one batch
 * a pure ACK whose every news a later ACK of its flow repeats is dropped,
 * in the manner of the ack-filter of Linux's cake qdisc:
 *   - a pure ACK: no payload, only the ACK flag (no SYN, FIN, RST, PSH,
 *     URG, ECE, CWR), options only NOP, end, timestamps and SACK;
 *   - the later one is of the same flow (addresses, ports, sequence, IP
 *     fields) and acknowledges at least as much; with the same number
 *     (a duplicate ACK) it must add SACK blocks, as without SACK the
 *     sender counts duplicates;
 *   - every SACK block of the older one lies below the later one's ACK
 *     number or inside one of its blocks, and the older one carries no
 *     D-SACK (RFC 2883), which no later ACK repeats.
 * The packets are IPv4 (no options, l4 = 20) or IPv6 (l4 = 40) whose IP
 * header offload.c has checked. */
#ifndef TUNNELD_ACKFILTER_H
#define TUNNELD_ACKFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a pure ACK tells the sender: its number and SACK blocks. */
#define ACKF_SACK_MAX 4
struct ackf {
	uint32_t ack;
	unsigned nsack;
	uint32_t left[ACKF_SACK_MAX], right[ACKF_SACK_MAX]; /* [left, right) */
};

/* Is the TCP segment at pkt (TCP header at l4, IP length len) a pure ACK
 * the filter may drop or keep?  If so, fills a.  Its checksum is the
 * caller's to check. */
bool ackf_parse(const uint8_t *pkt, size_t len, size_t l4, struct ackf *a);

/* Both pure ACKs (ackf_parse): does pkt (an) tell the sender all that old
 * (ao) does? */
bool ackf_supersedes(const uint8_t *old, const struct ackf *ao, const uint8_t *pkt,
		     const struct ackf *an, size_t l4, bool v6);

#endif
