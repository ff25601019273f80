/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Traffic rules and transparent DNS on the worker's data path: what a
 * client may send through the tunnel (rules = { ... }, per group) and the
 * rewriting of its DNS to the in-tunnel resolver address
 * (network.dns-intercept).  Pure functions over the caller's packet: no
 * allocation, no I/O; O(log n) in the port ranges (a binary search over
 * sorted, merged ranges), O(1) in everything else.  Used by worker/tunio.c
 * and worker/tunnel.c, unit-tested (tests/unit/check_rules.c) and fuzzed
 * (tests/fuzz/fuzz_rules.c). */
#ifndef TUNNELD_RULES_H
#define TUNNELD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pool.h"
#include "conf/config.h"

/* One group's rules as the data path applies them. */
struct rules {
	struct cfg_rules r;
	bool l4; /* protocols or ports restricted: the transport header is read */
	/* Transparent DNS per family: queries to icpt port 53 go to res, and
	 * the resolver's answers come back from icpt. */
	bool dns4, dns6;
	uint8_t icpt4[4], res4[4];
	uint8_t icpt6[16], res6[16];
};

enum rules_verdict {
	RV_PASS = 0,
	RV_DNS,	      /* a query to the intercept address: rules_dns_rewrite(), then pass */
	RV_C2C,	      /* to (or from) another client, and rules.client-to-client is off */
	RV_NONGLOBAL, /* not a global unicast destination, and rules.global-only is on */
	RV_PROTOCOL,  /* a protocol rules.protocols leaves out */
	RV_PORT,      /* a TCP or UDP destination port the port list leaves out */
	RV_MALFORMED, /* the headers the rules need are cut short */
};

/* Fill the derived fields (l4) of r from r->r. */
void rules_init(struct rules *r);

/* A packet the client sent: pkt[0..len) is a checked IPv4 or IPv6 packet
 * (common/cstp.h pkt_check_client; len is its IP length).  g is the
 * network pools (client addresses: every lease but the server's).  Checks,
 * in order: a DNS query to the intercept address (RV_DNS, no other rule
 * applies to it), client-to-client, global-only, protocol, destination
 * port (first fragments only; later fragments carry no port). */
enum rules_verdict rules_from_client(const struct rules *r, const struct pool_geom *g,
				     const uint8_t *pkt, size_t len);

/* RV_DNS: point the query at the resolver, checksums fixed incrementally
 * (IPv4 header, TCP or UDP: a UDP checksum of 0 over IPv4 stays 0). */
void rules_dns_rewrite(const struct rules *r, uint8_t *pkt, size_t len);

/* A packet for the client (from the TUN device, checksums complete):
 * RV_C2C when it comes from another client and client-to-client is off;
 * else RV_PASS, an answer of the resolver (from port 53, and every later
 * fragment from it) rewritten to come from the intercept address. */
enum rules_verdict rules_to_client(const struct rules *r, const struct pool_geom *g, uint8_t *pkt,
				   size_t len);

/* Whether port is in the sorted, merged ranges of p. */
bool rules_port_allowed(const struct cfg_ports *p, uint16_t port);

/* Where the transport header of an IPv4 or IPv6 packet is, as far as its
 * bytes tell (IPv6 extension headers walked).  0, or -1 when the headers
 * run past len. */
struct rules_l4 {
	uint8_t proto; /* after any IPv6 extension headers */
	bool frag;     /* a fragment, first or later */
	bool first;    /* not a fragment, or the first one: the header is here */
	size_t off;    /* offset of the transport header */
};
int rules_l4_parse(const uint8_t *p, size_t len, bool v6, struct rules_l4 *o);
/* Whether an address is global unicast: IPv4 outside the special-purpose
 * ranges (RFC 6890: private, shared, loopback, link-local, documentation,
 * benchmarking, multicast, reserved); IPv6 in 2000::/3 outside
 * documentation (2001:db8::/32, 3fff::/20) and benchmarking (2001:2::/48). */
bool rules_global4(const uint8_t a[4]);
bool rules_global6(const uint8_t a[16]);

#endif
