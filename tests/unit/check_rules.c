/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of common/rules.c: the per-packet rule matcher (port ranges,
 * protocols, client-to-client, global-only, IPv6 extension headers and
 * fragments) and the transparent DNS rewrite, whose checksums are checked
 * by summing the rewritten packets in full. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/offload.h"
#include "common/rules.h"

static struct pool_geom geom;
static struct rules r;

/* The lab's pools: 198.18.100.0/24 and fd00:100::/64 (leases 0..255). */
static void setup(void)
{
	struct cfg_prefix v4 = {.addr = {.family = AF_INET}, .len = 24};
	struct cfg_prefix v6 = {.addr = {.family = AF_INET6}, .len = 64};

	inet_pton(AF_INET, "198.18.100.0", &v4.addr.u.v4);
	inet_pton(AF_INET6, "fd00:100::", &v6.addr.u.v6);
	ck_assert_int_eq(pool_geom_init(&geom, &v4, &v6), 0);
	memset(&r, 0, sizeof(r));
	r.r.protocols = CFG_PROTO_ALL;
	r.r.tcp_ports = (struct cfg_ports){1, {{0, 65535}}};
	r.r.udp_ports = r.r.tcp_ports;
	rules_init(&r);
}

/* ---- packets ------------------------------------------------------------ */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A checksum over sum, into its field (memory order, as offload.h says). */
static void store_csum(uint8_t *at, uint64_t sum)
{
	uint16_t c = (uint16_t)~offload_csum_fold(sum);

	memcpy(at, &c, 2);
}

/* IPv4 (IHL 5) + a transport header of hl bytes + payload of plen bytes,
 * all checksums right.  Returns the length. */
static size_t pkt4(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t sport,
		   uint16_t dport, size_t plen)
{
	size_t hl = proto == 6 ? 20 : proto == 17 ? 8 : proto == 1 ? 8 : 0, len = 20 + hl + plen;
	uint64_t sum;

	memset(p, 0, len);
	p[0] = 0x45;
	put16(p + 2, (unsigned)len);
	p[6] = 0x40; /* DF */
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	for (size_t i = 20 + hl; i < len; i++)
		p[i] = (uint8_t)(i * 7);
	store_csum(p + 10, offload_csum_add(0, p, 20));
	if (proto == 6 || proto == 17) {
		put16(p + 20, sport);
		put16(p + 22, dport);
		if (proto == 17)
			put16(p + 24, (unsigned)(hl + plen));
		else
			p[32] = 0x50; /* data offset 5 */
		sum = offload_csum_pseudo(p, false, proto, hl + plen);
		store_csum(p + 20 + (proto == 6 ? 16 : 6),
			   offload_csum_add(sum, p + 20, hl + plen));
	}
	return len;
}

static size_t pkt6(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t sport,
		   uint16_t dport, size_t plen)
{
	size_t hl = proto == 6 ? 20 : 8, len = 40 + hl + plen;
	uint64_t sum;

	memset(p, 0, len);
	p[0] = 0x60;
	put16(p + 4, (unsigned)(hl + plen));
	p[6] = proto;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	for (size_t i = 40 + hl; i < len; i++)
		p[i] = (uint8_t)(i * 11);
	if (proto == 6 || proto == 17) {
		put16(p + 40, sport);
		put16(p + 42, dport);
		if (proto == 17)
			put16(p + 44, (unsigned)(hl + plen));
		else
			p[52] = 0x50;
		sum = offload_csum_pseudo(p, true, proto, hl + plen);
		store_csum(p + 40 + (proto == 6 ? 16 : 6),
			   offload_csum_add(sum, p + 40, hl + plen));
	}
	return len;
}

/* Whether every checksum of a (whole) packet adds up. */
static bool csums_ok(const uint8_t *p, size_t len)
{
	bool v6 = p[0] >> 4 == 6;
	size_t l4 = v6 ? 40 : 20;
	uint8_t proto = v6 ? p[6] : p[9];
	uint64_t sum;

	if (!v6 && offload_csum_fold(offload_csum_add(0, p, 20)) != 0xffff)
		return false;
	if (proto == 17 && !v6 && p[l4 + 6] == 0 && p[l4 + 7] == 0)
		return true; /* no UDP checksum */
	sum = offload_csum_pseudo(p, v6, proto, len - l4);
	return offload_csum_fold(offload_csum_add(sum, p + l4, len - l4)) == 0xffff;
}

/* ---- port ranges -------------------------------------------------------- */

START_TEST(test_port_ranges)
{
	struct cfg_ports p = {4, {{22, 22}, {80, 90}, {443, 443}, {8000, 8100}}};
	static const struct {
		uint16_t port;
		bool in;
	} cases[] = {{0, false},    {21, false},   {22, true},	  {23, false},	{79, false},
		     {80, true},    {85, true},	   {90, true},	  {91, false},	{442, false},
		     {443, true},   {444, false},  {7999, false}, {8000, true}, {8100, true},
		     {8101, false}, {65535, false}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(rules_port_allowed(&p, cases[i].port) == cases[i].in, "port %u",
			      cases[i].port);
	p.n = 0;
	ck_assert(!rules_port_allowed(&p, 80));
	p = (struct cfg_ports){1, {{0, 65535}}};
	ck_assert(rules_port_allowed(&p, 0) && rules_port_allowed(&p, 65535));
}
END_TEST

/* Every port of a list of 256 ranges, against a linear search. */
START_TEST(test_port_ranges_many)
{
	static struct cfg_ports p;

	p.n = CFG_MAX_PORTS;
	for (unsigned i = 0; i < p.n; i++) {
		p.r[i].lo = (uint16_t)(i * 250 + (i % 7));
		p.r[i].hi = (uint16_t)(p.r[i].lo + i % 13);
	}
	for (unsigned port = 0; port <= 65535; port++) {
		bool in = false;

		for (unsigned i = 0; i < p.n; i++)
			in |= port >= p.r[i].lo && port <= p.r[i].hi;
		ck_assert_msg(rules_port_allowed(&p, (uint16_t)port) == in, "port %u", port);
	}
}
END_TEST

/* ---- addresses ----------------------------------------------------------- */

static bool g4(const char *s)
{
	uint8_t a[4];

	ck_assert_int_eq(inet_pton(AF_INET, s, a), 1);
	return rules_global4(a);
}

static bool g6(const char *s)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(AF_INET6, s, a), 1);
	return rules_global6(a);
}

START_TEST(test_global)
{
	static const char *const no4[] = {
	    "0.1.2.3",	   "10.0.0.1",	 "100.64.0.1",	   "100.127.255.255", "127.0.0.1",
	    "169.254.1.1", "172.16.0.1", "172.31.255.1",   "192.168.1.1",     "192.0.0.8",
	    "192.0.2.1",   "198.18.0.1", "198.19.255.255", "198.51.100.7",    "203.0.113.9",
	    "224.0.0.1",   "239.1.1.1",	 "240.0.0.1",	   "255.255.255.255",
	};
	static const char *const yes4[] = {
	    "1.1.1.1",	  "8.8.8.8",	 "100.63.255.255", "100.128.0.1", "172.15.0.1",
	    "172.32.0.1", "169.253.1.1", "192.0.1.1",	   "192.169.0.1", "198.17.1.1",
	    "198.20.0.1", "203.0.114.1", "223.255.255.255"};
	static const char *const no6[] = {
	    "::1",	   "::",	"fe80::1", "fd00::1",	     "fc00::1", "ff02::1",
	    "2001:db8::1", "2001:2::1", "3fff::1", "::ffff:8.8.8.8", "4000::1", "1fff:ffff::1"};
	static const char *const yes6[] = {"2001:4860::8888", "2a00:1450::1", "2001:2:1::1",
					   "3ffe::1",	      "2001:db9::1",  "3fff:1000::1"};

	for (size_t i = 0; i < sizeof(no4) / sizeof(no4[0]); i++)
		ck_assert_msg(!g4(no4[i]), "%s is not global", no4[i]);
	for (size_t i = 0; i < sizeof(yes4) / sizeof(yes4[0]); i++)
		ck_assert_msg(g4(yes4[i]), "%s is global", yes4[i]);
	for (size_t i = 0; i < sizeof(no6) / sizeof(no6[0]); i++)
		ck_assert_msg(!g6(no6[i]), "%s is not global", no6[i]);
	for (size_t i = 0; i < sizeof(yes6) / sizeof(yes6[0]); i++)
		ck_assert_msg(g6(yes6[i]), "%s is global", yes6[i]);
}
END_TEST

/* ---- the matcher --------------------------------------------------------- */

static enum rules_verdict from4(uint8_t proto, const char *dst, uint16_t dport)
{
	uint8_t p[128];
	size_t n = pkt4(p, "198.18.100.2", dst, proto, 40000, dport, 10);

	return rules_from_client(&r, &geom, p, n);
}

static enum rules_verdict from6(uint8_t proto, const char *dst, uint16_t dport)
{
	uint8_t p[160];
	size_t n = pkt6(p, "fd00:100::2", dst, proto, 40000, dport, 10);

	return rules_from_client(&r, &geom, p, n);
}

START_TEST(test_client_to_client)
{
	uint8_t p[128];
	size_t n;

	/* Off (the default): other leases, not the server's own address. */
	ck_assert_int_eq(from4(1, "198.18.100.7", 0), RV_C2C);
	ck_assert_int_eq(from4(17, "198.18.100.255", 53), RV_C2C);
	ck_assert_int_eq(from4(1, "198.18.100.1", 0), RV_PASS);
	ck_assert_int_eq(from4(1, "198.18.101.7", 0), RV_PASS);
	ck_assert_int_eq(from6(17, "fd00:100::7", 9), RV_C2C);
	ck_assert_int_eq(from6(17, "fd00:100::1", 9), RV_PASS);
	ck_assert_int_eq(from6(17, "fd00:100::1:0:7", 9), RV_PASS); /* past the leases */
	/* Arriving from another client: dropped at its receiver too. */
	n = pkt4(p, "198.18.100.9", "198.18.100.2", 1, 0, 0, 8);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_C2C);
	n = pkt4(p, "198.18.100.1", "198.18.100.2", 1, 0, 0, 8);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	n = pkt4(p, "198.18.1.2", "198.18.100.2", 1, 0, 0, 8);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	n = pkt6(p, "fd00:100::9", "fd00:100::2", 17, 1, 2, 8);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_C2C);
	/* On: both ways, and before global-only (leases are not global). */
	r.r.client_to_client = true;
	r.r.global_only = true;
	ck_assert_int_eq(from4(1, "198.18.100.7", 0), RV_PASS);
	ck_assert_int_eq(from6(17, "fd00:100::7", 9), RV_PASS);
	n = pkt4(p, "198.18.100.9", "198.18.100.2", 1, 0, 0, 8);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	ck_assert_int_eq(from4(1, "198.18.100.1", 0), RV_NONGLOBAL);
}
END_TEST

START_TEST(test_global_only)
{
	r.r.global_only = true;
	ck_assert_int_eq(from4(6, "198.18.1.2", 80), RV_NONGLOBAL);
	ck_assert_int_eq(from4(6, "8.8.8.8", 80), RV_PASS);
	ck_assert_int_eq(from6(6, "fd00:1::2", 80), RV_NONGLOBAL);
	ck_assert_int_eq(from6(6, "2a00:1450::1", 80), RV_PASS);
	ck_assert_int_eq(from4(1, "224.0.0.1", 0), RV_NONGLOBAL);
}
END_TEST

START_TEST(test_protocols_and_ports)
{
	r.r.protocols = CFG_PROTO_TCP | CFG_PROTO_UDP;
	r.r.tcp_ports = (struct cfg_ports){2, {{80, 80}, {443, 443}}};
	r.r.udp_ports = (struct cfg_ports){1, {{53, 53}}};
	rules_init(&r);
	ck_assert(r.l4);
	ck_assert_int_eq(from4(6, "8.8.8.8", 443), RV_PASS);
	ck_assert_int_eq(from4(6, "8.8.8.8", 22), RV_PORT);
	ck_assert_int_eq(from4(17, "8.8.8.8", 53), RV_PASS);
	ck_assert_int_eq(from4(17, "8.8.8.8", 443), RV_PORT);
	ck_assert_int_eq(from4(1, "8.8.8.8", 0), RV_PROTOCOL);
	ck_assert_int_eq(from4(47, "8.8.8.8", 0), RV_PROTOCOL);
	ck_assert_int_eq(from6(6, "2a00::1", 80), RV_PASS);
	ck_assert_int_eq(from6(17, "2a00::1", 54), RV_PORT);
	/* ICMP means ICMPv6 over IPv6, and protocol 1 there is "other". */
	r.r.protocols = CFG_PROTO_ICMP;
	rules_init(&r);
	ck_assert_int_eq(from4(1, "8.8.8.8", 0), RV_PASS);
	ck_assert_int_eq(from6(58, "2a00::1", 0), RV_PASS);
	ck_assert_int_eq(from6(1, "2a00::1", 0), RV_PROTOCOL);
	ck_assert_int_eq(from4(6, "8.8.8.8", 80), RV_PROTOCOL);
	/* "all" includes every other protocol. */
	r.r.protocols = CFG_PROTO_ALL;
	rules_init(&r);
	ck_assert_int_eq(from4(47, "8.8.8.8", 0), RV_PASS);
	ck_assert_int_eq(from4(6, "8.8.8.8", 22), RV_PORT);
}
END_TEST

START_TEST(test_fragments)
{
	uint8_t p[128];
	size_t n;

	r.r.tcp_ports = (struct cfg_ports){1, {{443, 443}}};
	r.r.udp_ports = r.r.tcp_ports;
	rules_init(&r);
	/* A later fragment has no port: it passes. */
	n = pkt4(p, "198.18.100.2", "8.8.8.8", 17, 1, 9, 40);
	p[6] = 0x00;
	p[7] = 0x05; /* offset 40 bytes */
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_PASS);
	/* A first fragment is judged by its port... */
	n = pkt4(p, "198.18.100.2", "8.8.8.8", 17, 1, 9, 40);
	p[6] = 0x20; /* MF */
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_PORT);
	/* ... and one too short to show it is refused. */
	n = pkt4(p, "198.18.100.2", "8.8.8.8", 17, 1, 443, 0);
	p[3] = 22; /* IP length 22: two bytes of UDP header */
	ck_assert_int_eq(rules_from_client(&r, &geom, p, 22), RV_MALFORMED);
}
END_TEST

/* IPv6 extension headers before the transport header. */
START_TEST(test_ipv6_extension_headers)
{
	uint8_t p[256], q[256];
	size_t n;

	r.r.protocols = CFG_PROTO_UDP;
	r.r.udp_ports = (struct cfg_ports){1, {{53, 53}}};
	rules_init(&r);
	n = pkt6(q, "fd00:100::2", "2a00::1", 17, 1000, 53, 8);
	/* hop-by-hop (8 bytes) then a fragment header (first fragment) */
	memcpy(p, q, 40);
	p[6] = 0;
	memset(p + 40, 0, 16);
	p[40] = 44; /* next: fragment */
	p[48] = 17; /* fragment's next: UDP */
	p[51] = 1;  /* M flag, offset 0 */
	memcpy(p + 56, q + 40, n - 40);
	put16(p + 4, (unsigned)(n - 40 + 16));
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n + 16), RV_PASS);
	p[56 + 3] = 54; /* port 54 */
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n + 16), RV_PORT);
	/* A later fragment: no port to look at. */
	p[50] = 0x01; /* offset 32 */
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n + 16), RV_PASS);
	/* A hop-by-hop header that claims more than the packet has. */
	p[41] = 200;
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n + 16), RV_MALFORMED);
	/* TCP behind a destination options header: protocol tcp, not allowed. */
	n = pkt6(q, "fd00:100::2", "2a00::1", 6, 1000, 53, 0);
	memcpy(p, q, 40);
	p[6] = 60;
	memset(p + 40, 0, 8);
	p[40] = 6;
	memcpy(p + 48, q + 40, n - 40);
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n + 8), RV_PROTOCOL);
}
END_TEST

/* ---- transparent DNS ------------------------------------------------------ */

static void dns_setup(void)
{
	r.dns4 = r.dns6 = true;
	inet_pton(AF_INET, "198.18.100.1", r.icpt4);
	inet_pton(AF_INET, "198.18.1.2", r.res4);
	inet_pton(AF_INET6, "fd00:100::1", r.icpt6);
	inet_pton(AF_INET6, "fd00:1::2", r.res6);
}

/* A query to the intercept address, rewritten; then its answer. */
static void round_trip(bool v6, uint8_t proto, size_t plen)
{
	uint8_t p[2048];
	size_t n = v6 ? pkt6(p, "fd00:100::2", "fd00:100::1", proto, 33333, 53, plen)
		      : pkt4(p, "198.18.100.2", "198.18.100.1", proto, 33333, 53, plen);
	size_t at = v6 ? 24 : 16, alen = v6 ? 16 : 4;

	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_DNS);
	rules_dns_rewrite(&r, p, n);
	ck_assert_mem_eq(p + at, v6 ? r.res6 : r.res4, alen);
	ck_assert_msg(csums_ok(p, n), "query: checksums after the rewrite (v6 %d proto %u len %zu)",
		      v6, proto, plen);
	/* The answer from the resolver comes back from the intercept address. */
	n = v6 ? pkt6(p, "fd00:1::2", "fd00:100::2", proto, 53, 33333, plen + 31)
	       : pkt4(p, "198.18.1.2", "198.18.100.2", proto, 53, 33333, plen + 31);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	ck_assert_mem_eq(p + (v6 ? 8 : 12), v6 ? r.icpt6 : r.icpt4, alen);
	ck_assert_msg(csums_ok(p, n), "answer: checksums after the rewrite");
}

START_TEST(test_dns_rewrite)
{
	dns_setup();
	for (size_t plen = 0; plen < 70; plen += 7) {
		round_trip(false, 17, plen);
		round_trip(false, 6, plen);
		round_trip(true, 17, plen);
		round_trip(true, 6, plen);
	}
	round_trip(false, 17, 1200);
	round_trip(true, 6, 1300);
}
END_TEST

START_TEST(test_dns_not_rewritten)
{
	uint8_t p[256], copy[256];
	size_t n;

	dns_setup();
	r.r.protocols = CFG_PROTO_ICMP; /* DNS passes whatever the rules say */
	rules_init(&r);
	n = pkt4(p, "198.18.100.2", "198.18.100.1", 17, 4000, 53, 20);
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_DNS);
	/* Another port, another address, a fragment: the rules judge them. */
	n = pkt4(p, "198.18.100.2", "198.18.100.1", 17, 4000, 54, 20);
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_PROTOCOL);
	n = pkt4(p, "198.18.100.2", "198.18.100.3", 17, 4000, 53, 20);
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_C2C);
	n = pkt4(p, "198.18.100.2", "198.18.100.1", 17, 4000, 53, 20);
	p[6] = 0x20;
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_PROTOCOL);
	/* Off for a family without a resolver. */
	r.dns6 = false;
	n = pkt6(p, "fd00:100::2", "fd00:100::1", 17, 4000, 53, 20);
	ck_assert_int_eq(rules_from_client(&r, &geom, p, n), RV_PROTOCOL);
	/* Answers: only from the resolver's port 53; others untouched. */
	n = pkt4(p, "198.18.1.2", "198.18.100.2", 17, 54, 4000, 20);
	memcpy(copy, p, n);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	ck_assert_mem_eq(p, copy, n);
	n = pkt4(p, "198.18.1.3", "198.18.100.2", 17, 53, 4000, 20);
	memcpy(copy, p, n);
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	ck_assert_mem_eq(p, copy, n);
}
END_TEST

/* UDP over IPv4 without a checksum keeps none; a later fragment of an
 * answer gets its address (and the IPv4 header checksum) only. */
START_TEST(test_dns_zero_checksum_and_fragments)
{
	uint8_t p[256];
	size_t n;

	dns_setup();
	n = pkt4(p, "198.18.100.2", "198.18.100.1", 17, 4000, 53, 33);
	p[26] = p[27] = 0;
	rules_dns_rewrite(&r, p, n);
	ck_assert(p[26] == 0 && p[27] == 0);
	ck_assert(csums_ok(p, n));
	n = pkt4(p, "198.18.1.2", "198.18.100.2", 17, 0x1234, 0x5678, 40);
	p[6] = 0x00;
	p[7] = 0x10; /* a later fragment: bytes 20.. are payload, not a header */
	put16(p + 10, 0);
	store_csum(p + 10, offload_csum_add(0, p, 20));
	ck_assert_int_eq(rules_to_client(&r, &geom, p, n), RV_PASS);
	ck_assert_mem_eq(p + 12, r.icpt4, 4);
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, p, 20)), 0xffff);
	ck_assert_uint_eq(p[20] << 8 | p[21], 0x1234); /* payload untouched */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_port_ranges);
	tcase_add_test(tc, test_port_ranges_many);
	tcase_add_test(tc, test_global);
	tcase_add_test(tc, test_client_to_client);
	tcase_add_test(tc, test_global_only);
	tcase_add_test(tc, test_protocols_and_ports);
	tcase_add_test(tc, test_fragments);
	tcase_add_test(tc, test_ipv6_extension_headers);
	tcase_add_test(tc, test_dns_rewrite);
	tcase_add_test(tc, test_dns_not_rewritten);
	tcase_add_test(tc, test_dns_zero_checksum_and_fragments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
