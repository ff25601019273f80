/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/rulecost: the per-packet cost of the traffic rules alone
 * (common/rules.c), in nanoseconds of one core: rules_from_client() over a
 * mix of TCP and UDP packets (IPv4 and IPv6, to ports in and out of the
 * list), with the default rules and with N port ranges per protocol and
 * the protocols limited (every transport header read, a binary search over
 * the ranges).  make bench prints it beside the CPU-s/GB rows; run alone:
 *   bench/rulecost [RANGES [MILLION_PACKETS]]    (default 100, 20)
 * Prints one line: "RULECOST ranges=N ns_default=X ns_ranges=Y". */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rules.h"

#define MIX 64 /* packets in the mix */

static uint8_t pkts[MIX][80];
static size_t lens[MIX];

/* TCP or UDP over IPv4 or IPv6 from the first client to the lan. */
static void build(void)
{
	for (unsigned i = 0; i < MIX; i++) {
		uint8_t *p = pkts[i];
		bool v6 = i & 1, tcp = i & 2;
		size_t ip = v6 ? 40 : 20, hl = tcp ? 20 : 8;
		unsigned port = 1000 + (i * 37) % 500;

		memset(p, 0, sizeof(pkts[i]));
		if (v6) {
			p[0] = 0x60;
			p[5] = (uint8_t)hl;
			p[6] = tcp ? 6 : 17;
			inet_pton(AF_INET6, "fd00:100::2", p + 8);
			inet_pton(AF_INET6, "fd00:1::2", p + 24);
		} else {
			p[0] = 0x45;
			p[3] = (uint8_t)(ip + hl);
			p[9] = tcp ? 6 : 17;
			inet_pton(AF_INET, "198.18.100.2", p + 12);
			inet_pton(AF_INET, "198.18.1.2", p + 16);
		}
		p[ip + 2] = (uint8_t)(port >> 8);
		p[ip + 3] = (uint8_t)port;
		lens[i] = ip + hl;
	}
}

static double ns_per_packet(const struct rules *r, const struct pool_geom *g, unsigned long n)
{
	struct timespec a, b;
	volatile unsigned sink = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (unsigned long k = 0; k < n; k++)
		sink += (unsigned)rules_from_client(r, g, pkts[k % MIX], lens[k % MIX]);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	(void)sink;
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(int argc, char **argv)
{
	unsigned ranges = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
	unsigned long n = (argc > 2 ? strtoul(argv[2], NULL, 10) : 20) * 1000000ul;
	struct cfg_prefix v4 = {.addr = {.family = AF_INET}, .len = 24};
	struct cfg_prefix v6 = {.addr = {.family = AF_INET6}, .len = 64};
	static struct rules none, many;
	struct pool_geom g;

	if (ranges > CFG_MAX_PORTS || n == 0) {
		fprintf(stderr, "usage: rulecost [RANGES (at most %d) [MILLION_PACKETS]]\n",
			CFG_MAX_PORTS);
		return 2;
	}
	inet_pton(AF_INET, "198.18.100.0", &v4.addr.u.v4);
	inet_pton(AF_INET6, "fd00:100::", &v6.addr.u.v6);
	pool_geom_init(&g, &v4, &v6);
	build();
	none.r.protocols = CFG_PROTO_ALL;
	none.r.tcp_ports = (struct cfg_ports){1, {{0, 65535}}};
	none.r.udp_ports = none.r.tcp_ports;
	rules_init(&none);
	/* Single ports 1000, 1010, ...: about one packet in ten allowed. */
	many.r.protocols = CFG_PROTO_TCP | CFG_PROTO_UDP | CFG_PROTO_ICMP;
	for (unsigned i = 0; i < ranges; i++)
		many.r.tcp_ports.r[i].lo = many.r.tcp_ports.r[i].hi = (uint16_t)(1000 + 10 * i);
	many.r.tcp_ports.n = ranges;
	many.r.udp_ports = many.r.tcp_ports;
	rules_init(&many);
	ns_per_packet(&many, &g, n / 10); /* warm up */
	printf("RULECOST ranges=%u ns_default=%.2f ns_ranges=%.2f\n", ranges,
	       ns_per_packet(&none, &g, n), ns_per_packet(&many, &g, n));
	return 0;
}
