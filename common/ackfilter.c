/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ACK filter of the TUN write batch (common/ackfilter.h): which pure
 * TCP ACK tells the sender nothing that a later one of its flow does not. */
#include "config.h"
#include "common/ackfilter.h"

#include <string.h>

#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_SACK  5
#define TCPOPT_TS    8
#define SACK_MAX     4
#define TCP_FLAG_ACK 0x10

/* The SACK blocks of a pure ACK: [left, right) sequence ranges. */
struct sack {
	unsigned n;
	uint32_t left[SACK_MAX], right[SACK_MAX];
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sequence numbers compare modulo 2^32. */
static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) >= 0;
}

/* Options o[0..n): only NOP, end, timestamps and at most one SACK option
 * with 1..4 blocks.  Fills s; false for anything else. */
static bool parse_options(const uint8_t *o, size_t n, struct sack *s)
{
	size_t k = 0, len;
	unsigned b;

	memset(s, 0, sizeof(*s));
	while (k < n && o[k] != TCPOPT_EOL) {
		if (o[k] == TCPOPT_NOP) {
			k++;
			continue;
		}
		if (k + 2 > n)
			return false;
		len = o[k + 1];
		if (k + len > n)
			return false;
		if (o[k] == TCPOPT_TS && len == 10) {
			k += len;
			continue;
		}
		if (o[k] != TCPOPT_SACK || s->n || len < 10 || (len - 2) % 8 ||
		    len > 2 + 8 * SACK_MAX)
			return false;
		s->n = (unsigned)(len - 2) / 8;
		for (b = 0; b < s->n; b++) {
			s->left[b] = rd32(o + k + 2 + 8 * b);
			s->right[b] = rd32(o + k + 6 + 8 * b);
		}
		k += len;
	}
	return true;
}

static size_t tcp_hlen(const uint8_t *tcp)
{
	return (size_t)(tcp[12] >> 4) * 4;
}

bool ackf_pure(const uint8_t *pkt, size_t len, size_t l4)
{
	const uint8_t *tcp = pkt + l4;
	struct sack s;
	size_t doff;

	if (len < l4 + 20)
		return false;
	doff = tcp_hlen(tcp);
	return doff >= 20 && l4 + doff == len && tcp[13] == TCP_FLAG_ACK &&
	       parse_options(tcp + 20, doff - 20, &s);
}

/* A D-SACK (RFC 2883) reports a duplicate: its first block lies below the
 * ACK number or inside the second block.  The sender uses it to undo a
 * needless slow-down, and no later ACK repeats it. */
static bool has_dsack(const struct sack *s, uint32_t ack)
{
	if (s->n == 0)
		return false;
	if (!seq_le(ack, s->left[0]))
		return true;
	return s->n > 1 && seq_le(s->left[1], s->left[0]) && seq_le(s->right[0], s->right[1]);
}

/* Does the newer ACK (ack, its blocks) say all the older block says? */
static bool covered(uint32_t left, uint32_t right, uint32_t ack, const struct sack *s)
{
	unsigned b;

	if (seq_le(right, ack))
		return true;
	for (b = 0; b < s->n; b++)
		if (seq_le(s->left[b], left) && seq_le(right, s->right[b]))
			return true;
	return false;
}

/* The same flow: IP fields but lengths and checksum, ports, sequence. */
static bool same_flow(const uint8_t *a, const uint8_t *b, size_t l4, bool v6)
{
	if (!v6 && (a[1] != b[1] || memcmp(a + 6, b + 6, 4) || memcmp(a + 12, b + 12, 8)))
		return false;
	if (v6 && (memcmp(a, b, 4) || memcmp(a + 6, b + 6, 34)))
		return false;
	return !memcmp(a + l4, b + l4, 8) && (a[l4 + 12] & 0x0f) == (b[l4 + 12] & 0x0f);
}

bool ackf_supersedes(const uint8_t *old, const uint8_t *pkt, size_t l4, bool v6)
{
	const uint8_t *to = old + l4, *tp = pkt + l4;
	uint32_t ack_old = rd32(to + 8), ack_new = rd32(tp + 8);
	struct sack so, sn;
	unsigned b;

	if (!same_flow(old, pkt, l4, v6) || !seq_le(ack_old, ack_new))
		return false;
	if (!parse_options(to + 20, tcp_hlen(to) - 20, &so) ||
	    !parse_options(tp + 20, tcp_hlen(tp) - 20, &sn))
		return false;
	/* The same number: a duplicate ACK.  Only one that adds SACK blocks
	 * carries the older one's news; without SACK the sender counts
	 * duplicates, so they all go through. */
	if (ack_old == ack_new && (sn.n == 0 || (so.n == sn.n && !memcmp(&so, &sn, sizeof(so)))))
		return false;
	if (has_dsack(&so, ack_old))
		return false;
	for (b = 0; b < so.n; b++)
		if (!covered(so.left[b], so.right[b], ack_new, &sn))
			return false;
	return true;
}
