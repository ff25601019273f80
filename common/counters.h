/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A session's traffic counters (all processes): counted by the worker
 * holding its tunnel, reported to the master in IPC_STATS and IPC_CLOSED,
 * summed there per session and server-wide, shown by tunnelctl, written
 * in the session-end line and served as Prometheus counters.  Every field
 * is a uint64_t, so a sum is a loop over them (sess_counters_add). */
#ifndef TUNNELD_COUNTERS_H
#define TUNNELD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a packet was dropped: one row per reason.  X(ID, NAME, HELP): the
 * enum is DROP_ID; NAME is how logs, tunnelctl (drop_NAME) and /metrics
 * (reason="NAME") call it; HELP says what it means.  New reasons are new
 * rows; a sum, a report and every output pick them up from the table. */
#define DROP_REASONS(X)                                                                            \
	X(SPOOFED, "spoofed", "from the client, with a source that is not its lease")              \
	X(MALFORMED, "malformed", "from the client, not a well-formed IPv4 or IPv6 packet")        \
	X(QUEUE, "queue", "the client's send queue or the TUN queue was full")                     \
	X(C2C, "client_to_client", "to or from another client (rules.client-to-client)")           \
	X(NONGLOBAL, "non_global", "not a global unicast destination (rules.global-only)")         \
	X(PROTOCOL, "protocol", "a protocol the traffic rules leave out")                          \
	X(PORT, "port", "a TCP or UDP port the traffic rules leave out")

enum drop_reason {
#define DROP_ENUM(id, name, help) DROP_##id,
	DROP_REASONS(DROP_ENUM)
#undef DROP_ENUM
	    DROP_N
};

struct drop_reason_info {
	const char *name, *help;
};
extern const struct drop_reason_info drop_reasons[DROP_N];

/* Packets split by the IP protocol they carry (IPv6: the first next
 * header, so a packet behind extension headers counts as other). */
enum ctr_proto { CTR_TCP, CTR_UDP, CTR_OTHER, CTR_PROTOS };
extern const char *const ctr_proto_names[CTR_PROTOS]; /* "tcp", "udp", "other" */

struct ctr_flow {
	uint64_t pkts, bytes; /* IP bytes */
};

struct sess_counters {
	uint64_t rx_pkts, rx_bytes; /* from the client, written to TUN */
	uint64_t tx_pkts, tx_bytes; /* to the client */
	uint64_t drop[DROP_N];	    /* by enum drop_reason */
	/* The part of rx and tx that went over DTLS (the rest went over TLS). */
	uint64_t dtls_rx_pkts, dtls_rx_bytes;
	uint64_t dtls_tx_pkts, dtls_tx_bytes;
	uint64_t dns_intercepted; /* queries to network.dns-intercept sent on */
	/* rx and tx by enum ctr_proto: each sums to rx_* and tx_*. */
	struct ctr_flow rx_proto[CTR_PROTOS], tx_proto[CTR_PROTOS];
};

/* The protocol of an IP packet (CTR_OTHER when too short to tell). */
static inline enum ctr_proto ctr_proto_of(const uint8_t *pkt, size_t len)
{
	uint8_t p;

	if (len >= 20 && pkt[0] >> 4 == 4)
		p = pkt[9];
	else if (len >= 40 && pkt[0] >> 4 == 6)
		p = pkt[6];
	else
		return CTR_OTHER;
	return p == 6 ? CTR_TCP : p == 17 ? CTR_UDP : CTR_OTHER;
}

/* pkts packets of bytes IP bytes of protocol p, from the client (rx) or
 * to it (tx): the total and its protocol's share move together. */
static inline void ctr_rx(struct sess_counters *c, enum ctr_proto p, uint64_t pkts, uint64_t bytes)
{
	c->rx_pkts += pkts;
	c->rx_bytes += bytes;
	c->rx_proto[p].pkts += pkts;
	c->rx_proto[p].bytes += bytes;
}

static inline void ctr_tx(struct sess_counters *c, enum ctr_proto p, uint64_t pkts, uint64_t bytes)
{
	c->tx_pkts += pkts;
	c->tx_bytes += bytes;
	c->tx_proto[p].pkts += pkts;
	c->tx_proto[p].bytes += bytes;
}

/* *dst += *src, field by field. */
void sess_counters_add(struct sess_counters *dst, const struct sess_counters *src);
/* Whether any counter is not zero (a report is worth sending). */
bool sess_counters_any(const struct sess_counters *c);
/* The drops of all reasons together. */
uint64_t sess_counters_drops(const struct sess_counters *c);
/* Every counter as fn(arg, key, value), in this order: rx_pkts, rx_bytes,
 * tx_pkts, tx_bytes; rx_tcp_pkts, rx_tcp_bytes, rx_udp_..., rx_other_...,
 * tx_tcp_... (each protocol, each way); drop_NAME for each reason;
 * dtls_rx_pkts, dtls_rx_bytes, dtls_tx_pkts, dtls_tx_bytes, dns_intercepted.
 * The names
 * tunnelctl and the session-end line both use.  key is valid for the
 * call only. */
void sess_counters_each(const struct sess_counters *c,
			void (*fn)(void *arg, const char *key, uint64_t v), void *arg);

#endif
