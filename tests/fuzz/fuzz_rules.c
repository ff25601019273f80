/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the traffic rules and the transparent DNS rewrite
 * (common/rules.c) on the packets a client sends (after the checks of
 * common/cstp.c, as worker/tunnel.c calls them) and on those the TUN device
 * hands a worker for a client.  Input: a 36-byte header that sets the rules
 * (byte 0: bit 0 client-to-client, 1 global-only, 2 and 3 DNS for IPv4 and
 * IPv6, 4 the direction (set: to the client); byte 1 the protocols; bytes 2
 * and 3 the number of TCP and UDP port ranges; then 16 pairs of steps that
 * build sorted, disjoint ranges), then the packet, in a heap copy of its
 * exact length.  Checks: verdicts are known; nothing outside the packet is
 * read (the sanitizers); a rewrite changes no more than the address and
 * two checksums, puts the resolver (or intercept) address in place, and
 * leaves the checksums of a whole TCP or UDP packet valid if they were. */
#include "config.h"
#include "common/cstp.h"
#include "common/offload.h"
#include "common/rules.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

#define HDR 36

static struct pool_geom geom;

static void init_geom(void)
{
	struct cfg_prefix v4 = {.addr = {.family = AF_INET}, .len = 24};
	struct cfg_prefix v6 = {.addr = {.family = AF_INET6}, .len = 64};

	if (geom.size)
		return;
	inet_pton(AF_INET, "198.18.100.0", &v4.addr.u.v4);
	inet_pton(AF_INET6, "fd00:100::", &v6.addr.u.v6);
	pool_geom_init(&geom, &v4, &v6);
}

/* Ranges from steps: each starts past the last one's end. */
static void ranges(struct cfg_ports *p, unsigned n, const uint8_t *steps)
{
	unsigned at = 0;

	p->n = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned lo = at + steps[2 * i] * 97u, hi = lo + steps[2 * i + 1] * 13u;

		if (hi > 65535)
			break;
		p->r[p->n].lo = (uint16_t)lo;
		p->r[p->n].hi = (uint16_t)hi;
		p->n++;
		at = hi + 2;
	}
}

static void make_rules(struct rules *r, const uint8_t *h)
{
	unsigned nt = h[2] % 9, nu = h[3] % 9;

	memset(r, 0, sizeof(*r));
	r->r.client_to_client = h[0] & 1;
	r->r.global_only = h[0] & 2;
	r->r.protocols = h[1] & CFG_PROTO_ALL;
	ranges(&r->r.tcp_ports, nt, h + 4);
	ranges(&r->r.udp_ports, nu, h + 4 + 2 * nt);
	r->dns4 = h[0] & 4;
	r->dns6 = h[0] & 8;
	inet_pton(AF_INET, "198.18.100.1", r->icpt4);
	inet_pton(AF_INET, "198.18.1.2", r->res4);
	inet_pton(AF_INET6, "fd00:100::1", r->icpt6);
	inet_pton(AF_INET6, "fd00:1::2", r->res6);
	rules_init(r);
}

/* A whole, unfragmented TCP or UDP packet without IPv4 options or IPv6
 * extension headers whose checksums all add up: the case whose checksums
 * a rewrite must keep valid. */
static bool whole_and_valid(const uint8_t *p, size_t len)
{
	bool v6 = len >= 40 && p[0] >> 4 == 6;
	size_t l4 = v6 ? 40 : 20;
	uint8_t proto;

	if (v6 ? (size_t)(p[4] << 8 | p[5]) + 40 != len
	       : len < 20 || p[0] != 0x45 || (size_t)(p[2] << 8 | p[3]) != len || (p[6] & 0x3f) ||
		     p[7] || offload_csum_fold(offload_csum_add(0, p, 20)) != 0xffff)
		return false;
	proto = v6 ? p[6] : p[9];
	if ((proto != 6 || len < l4 + 20) && (proto != 17 || len < l4 + 8))
		return false;
	if (proto == 17 && !v6 && !p[26] && !p[27])
		return true;
	return offload_csum_fold(offload_csum_add(offload_csum_pseudo(p, v6, proto, len - l4),
						  p + l4, len - l4)) == 0xffff;
}

static size_t changed(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += a[i] != b[i];
	return k;
}

/* A rewritten packet: the new address at `at`, little else changed. */
static void check_rewrite(const uint8_t *before, const uint8_t *after, size_t len, size_t at,
			  const uint8_t *want)
{
	size_t alen = after[0] >> 4 == 6 ? 16 : 4;

	FUZZ_ASSERT(at + alen <= len && !memcmp(after + at, want, alen));
	FUZZ_ASSERT(changed(before, after, len) <= alen + 4);
	if (whole_and_valid(before, len))
		FUZZ_ASSERT(whole_and_valid(after, len));
}

static void from_client(const struct rules *r, const uint8_t *pkt, size_t len)
{
	struct in_addr v4;
	struct in6_addr v6;
	size_t ip_len = 0;
	uint8_t *p, *q;
	enum rules_verdict v;

	if (len < 40 && (len < 20 || pkt[0] >> 4 != 4))
		return;
	memcpy(&v4, pkt + 12, 4);
	memcpy(&v6, pkt + 8, len >= 40 ? 16 : 4);
	if (pkt_check_client(pkt, len, &v4, len >= 40 ? &v6 : NULL, &ip_len) != PKT_OK)
		return;
	p = malloc(ip_len);
	q = malloc(ip_len);
	FUZZ_ASSERT(p && q);
	memcpy(p, pkt, ip_len);
	memcpy(q, pkt, ip_len);
	v = rules_from_client(r, &geom, p, ip_len);
	FUZZ_ASSERT(v >= RV_PASS && v <= RV_MALFORMED);
	FUZZ_ASSERT(!memcmp(p, q, ip_len)); /* judging changes nothing */
	if (v == RV_DNS) {
		FUZZ_ASSERT(p[0] >> 4 == 6 ? r->dns6 : r->dns4);
		rules_dns_rewrite(r, p, ip_len);
		check_rewrite(q, p, ip_len, p[0] >> 4 == 6 ? 24 : 16,
			      p[0] >> 4 == 6 ? r->res6 : r->res4);
	}
	free(p);
	free(q);
}

static void to_client(const struct rules *r, const uint8_t *pkt, size_t len)
{
	uint8_t *p = malloc(len ? len : 1), *q = malloc(len ? len : 1);
	enum rules_verdict v;

	FUZZ_ASSERT(p && q);
	memcpy(p, pkt, len);
	memcpy(q, pkt, len);
	v = rules_to_client(r, &geom, p, len);
	FUZZ_ASSERT(v == RV_PASS || v == RV_C2C);
	if (v == RV_C2C)
		FUZZ_ASSERT(!r->r.client_to_client && !memcmp(p, q, len));
	else if (memcmp(p, q, len))
		check_rewrite(q, p, len, p[0] >> 4 == 6 ? 8 : 12,
			      p[0] >> 4 == 6 ? r->icpt6 : r->icpt4);
	free(p);
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules r;

	if (size < HDR)
		return 0;
	init_geom();
	make_rules(&r, data);
	if (data[0] & 16)
		to_client(&r, data + HDR, size - HDR);
	else
		from_client(&r, data + HDR, size - HDR);
	return 0;
}
