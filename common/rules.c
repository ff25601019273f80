/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged), data path: the traffic rules and the transparent
 * DNS rewrite (see rules.h).  Owns nothing; every function is pure over
 * the caller's packet and allocates nothing. */
#include "config.h"
#include "common/rules.h"

#include <string.h>

#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMP   1
#define PROTO_ICMP6  58
#define DNS_PORT     53
#define MAX_EXT_HDRS 8 /* IPv6 extension headers walked before giving up */

void rules_init(struct rules *r)
{
	const struct cfg_port_range all = {0, 65535};
	const struct cfg_ports *t = &r->r.tcp_ports, *u = &r->r.udp_ports;

	r->l4 = r->r.protocols != CFG_PROTO_ALL ||
		!(t->n == 1 && !memcmp(&t->r[0], &all, sizeof(all))) ||
		!(u->n == 1 && !memcmp(&u->r[0], &all, sizeof(all)));
}

/* IPv6: the extension headers a host may put before the transport header
 * (hop-by-hop, routing, fragment, destination options, AH).  0, or -1
 * when they run past the packet. */
static int l4_parse6(const uint8_t *p, size_t len, struct rules_l4 *o)
{
	uint8_t nh = p[6];
	size_t off = 40, hl;

	o->frag = false;
	o->first = true;
	for (unsigned i = 0; i < MAX_EXT_HDRS; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > len) /* every one of them is at least 8 bytes */
			return -1;
		if (nh == 44) {
			o->frag = true;
			o->first = (((unsigned)p[off + 2] << 8 | p[off + 3]) & 0xfff8) == 0;
			hl = 8;
		} else if (nh == 51) {
			hl = ((size_t)p[off + 1] + 2) * 4;
		} else {
			hl = ((size_t)p[off + 1] + 1) * 8;
		}
		nh = p[off];
		off += hl;
		if (off > len)
			return -1;
	}
	o->proto = nh;
	o->off = off;
	return 0;
}

int rules_l4_parse(const uint8_t *p, size_t len, bool v6, struct rules_l4 *o)
{
	size_t ihl;
	unsigned fo;

	if (v6)
		return len < 40 ? -1 : l4_parse6(p, len, o);
	if (len < 20)
		return -1;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return -1;
	fo = ((unsigned)p[6] & 0x1f) << 8 | p[7];
	o->proto = p[9];
	o->first = fo == 0;
	o->frag = fo != 0 || (p[6] & 0x20);
	o->off = ihl;
	return 0;
}

static unsigned proto_class(uint8_t proto, bool v6)
{
	if (proto == PROTO_TCP)
		return CFG_PROTO_TCP;
	if (proto == PROTO_UDP)
		return CFG_PROTO_UDP;
	if (proto == (v6 ? PROTO_ICMP6 : PROTO_ICMP))
		return CFG_PROTO_ICMP;
	return CFG_PROTO_OTHER;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool rules_port_allowed(const struct cfg_ports *p, uint16_t port)
{
	unsigned lo = 0, hi = p->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (port < p->r[mid].lo)
			hi = mid;
		else if (port > p->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool rules_global4(const uint8_t a[4])
{
	switch (a[0]) {
	case 0:	  /* "this network" */
	case 10:  /* private */
	case 127: /* loopback */
		return false;
	case 100: /* 100.64.0.0/10, shared address space */
		return (a[1] & 0xc0) != 64;
	case 169: /* 169.254.0.0/16, link-local */
		return a[1] != 254;
	case 172: /* 172.16.0.0/12, private */
		return (a[1] & 0xf0) != 16;
	case 192: /* 192.168/16 private; 192.0.0/24 IETF; 192.0.2/24 documentation */
		return a[1] != 168 && !(a[1] == 0 && (a[2] == 0 || a[2] == 2));
	case 198: /* 198.18.0.0/15 benchmarking; 198.51.100.0/24 documentation */
		return (a[1] & 0xfe) != 18 && !(a[1] == 51 && a[2] == 100);
	case 203: /* 203.0.113.0/24, documentation */
		return !(a[1] == 0 && a[2] == 113);
	default: /* 224/4 multicast, 240/4 reserved and the broadcast address */
		return a[0] < 224;
	}
}

bool rules_global6(const uint8_t a[16])
{
	if ((a[0] & 0xe0) != 0x20) /* 2000::/3 */
		return false;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) /* 2001:db8::/32 */
		return false;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02 && a[4] == 0 &&
	    a[5] == 0) /* 2001:2::/48, benchmarking */
		return false;
	return !(a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0); /* 3fff::/20 */
}

/* Whether a is a client's address: a lease of the network pools, the
 * server's own (the pool's first) excepted. */
static bool is_client(const struct pool_geom *g, const uint8_t *a, bool v6)
{
	int64_t i;
	uint32_t v4;

	if (v6) {
		i = pool_index6_bytes(g, a);
	} else {
		memcpy(&v4, a, 4);
		i = pool_index4(g, v4);
	}
	return i >= 0 && i != POOL_SERVER_INDEX;
}

/* RFC 1624, eqn. 3: the checksum at c after n bytes (even) change from
 * `from` to `to`: HC' = ~(~HC + ~m + m'), summed in 16-bit words. */
static void csum_fix(uint8_t *c, const uint8_t *from, const uint8_t *to, size_t n)
{
	uint32_t sum = (uint16_t)~be16(c);

	for (size_t i = 0; i < n; i += 2) {
		sum += (uint16_t)~be16(from + i);
		sum += be16(to + i);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	c[0] = (uint8_t)(sum >> 8);
	c[1] = (uint8_t)sum;
}

/* The address at p + at becomes to; the IPv4 header checksum and, where
 * the transport header is in the packet, its checksum follow. */
static void rewrite(uint8_t *p, size_t len, bool v6, size_t at, const uint8_t *to,
		    const struct rules_l4 *t)
{
	size_t n = v6 ? 16 : 4;
	uint8_t old[16];

	memcpy(old, p + at, n);
	if (!v6)
		csum_fix(p + 10, old, to, 4);
	if (t->first && t->proto == PROTO_TCP && t->off + 18 <= len) {
		csum_fix(p + t->off + 16, old, to, n);
	} else if (t->first && t->proto == PROTO_UDP && t->off + 8 <= len) {
		uint8_t *c = p + t->off + 6;

		/* 0 over IPv4: the sender computed none, and none is kept. */
		if (v6 || c[0] || c[1]) {
			csum_fix(c, old, to, n);
			if (!c[0] && !c[1]) /* 0 means "none" in UDP */
				c[0] = c[1] = 0xff;
		}
	}
	memcpy(p + at, to, n);
}

/* A whole (unfragmented) TCP or UDP packet to the intercept address,
 * port 53, with its transport header in full. */
static bool dns_query(const struct rules *r, const uint8_t *p, size_t len, bool v6,
		      struct rules_l4 *t)
{
	const uint8_t *dst = v6 ? p + 24 : p + 16;

	if (!(v6 ? r->dns6 : r->dns4) || memcmp(dst, v6 ? r->icpt6 : r->icpt4, v6 ? 16 : 4))
		return false;
	if (rules_l4_parse(p, len, v6, t) < 0 || t->frag)
		return false;
	if (t->proto == PROTO_UDP)
		return t->off + 8 <= len && be16(p + t->off + 2) == DNS_PORT;
	return t->proto == PROTO_TCP && t->off + 20 <= len && be16(p + t->off + 2) == DNS_PORT;
}

enum rules_verdict rules_from_client(const struct rules *r, const struct pool_geom *g,
				     const uint8_t *pkt, size_t len)
{
	bool v6 = pkt[0] >> 4 == 6, client;
	const uint8_t *dst = v6 ? pkt + 24 : pkt + 16;
	const struct cfg_ports *ports;
	struct rules_l4 t;
	unsigned cls;

	if ((r->dns4 || r->dns6) && dns_query(r, pkt, len, v6, &t))
		return RV_DNS;
	client = is_client(g, dst, v6);
	if (client && !r->r.client_to_client)
		return RV_C2C;
	if (!client && r->r.global_only && !(v6 ? rules_global6(dst) : rules_global4(dst)))
		return RV_NONGLOBAL;
	if (!r->l4)
		return RV_PASS;
	if (rules_l4_parse(pkt, len, v6, &t) < 0)
		return RV_MALFORMED;
	cls = proto_class(t.proto, v6);
	if (!(r->r.protocols & cls))
		return RV_PROTOCOL;
	if ((cls != CFG_PROTO_TCP && cls != CFG_PROTO_UDP) || !t.first)
		return RV_PASS;
	/* A first fragment too short to show its port (RFC 1858's tiny
	 * fragment) cannot be judged: refused. */
	if (t.off + 4 > len)
		return RV_MALFORMED;
	ports = cls == CFG_PROTO_TCP ? &r->r.tcp_ports : &r->r.udp_ports;
	return rules_port_allowed(ports, be16(pkt + t.off + 2)) ? RV_PASS : RV_PORT;
}

void rules_dns_rewrite(const struct rules *r, uint8_t *pkt, size_t len)
{
	bool v6 = pkt[0] >> 4 == 6;
	struct rules_l4 t;

	if (!dns_query(r, pkt, len, v6, &t))
		return;
	rewrite(pkt, len, v6, v6 ? 24 : 16, v6 ? r->res6 : r->res4, &t);
}

enum rules_verdict rules_to_client(const struct rules *r, const struct pool_geom *g, uint8_t *pkt,
				   size_t len)
{
	bool v6;
	const uint8_t *src;
	struct rules_l4 t;

	if (len < 20 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return RV_PASS;
	v6 = pkt[0] >> 4 == 6;
	if (v6 && len < 40)
		return RV_PASS;
	src = v6 ? pkt + 8 : pkt + 12;
	if (!r->r.client_to_client && is_client(g, src, v6))
		return RV_C2C;
	if (!(v6 ? r->dns6 : r->dns4) || memcmp(src, v6 ? r->res6 : r->res4, v6 ? 16 : 4))
		return RV_PASS;
	if (rules_l4_parse(pkt, len, v6, &t) < 0 || (t.proto != PROTO_TCP && t.proto != PROTO_UDP))
		return RV_PASS;
	/* A later fragment shows no port: the client speaks to the resolver
	 * through the intercept address only, so it is the answer's. */
	if (t.first && (t.off + 4 > len || be16(pkt + t.off) != DNS_PORT))
		return RV_PASS;
	rewrite(pkt, len, v6, v6 ? 8 : 12, v6 ? r->icpt6 : r->icpt4, &t);
	return RV_PASS;
}
