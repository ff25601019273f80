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
#define TCP_FLAG_ACK 0x10

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
 * with 1..4 blocks.  Fills a's blocks; false for anything else. */
static bool parse_options(const uint8_t *o, size_t n, struct ackf *a)
{
	size_t k = 0, len;
	unsigned b;

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
		if (o[k] != TCPOPT_SACK || a->nsack || len < 10 || (len - 2) % 8 ||
		    len > 2 + 8 * ACKF_SACK_MAX)
			return false;
		a->nsack = (unsigned)(len - 2) / 8;
		for (b = 0; b < a->nsack; b++) {
			a->left[b] = rd32(o + k + 2 + 8 * b);
			a->right[b] = rd32(o + k + 6 + 8 * b);
		}
		k += len;
	}
	return true;
}

bool ackf_parse(const uint8_t *pkt, size_t len, size_t l4, struct ackf *a)
{
	const uint8_t *tcp = pkt + l4;
	size_t doff;

	memset(a, 0, sizeof(*a));
	if (len < l4 + 20)
		return false;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || l4 + doff != len || tcp[13] != TCP_FLAG_ACK)
		return false;
	a->ack = rd32(tcp + 8);
	return parse_options(tcp + 20, doff - 20, a);
}

/* A D-SACK (RFC 2883) reports a duplicate: its first block lies below the
 * ACK number or inside the second block.  The sender uses it to undo a
 * needless slow-down, and no later ACK repeats it. */
static bool has_dsack(const struct ackf *s)
{
	if (s->nsack == 0)
		return false;
	if (!seq_le(s->ack, s->left[0]))
		return true;
	return s->nsack > 1 && seq_le(s->left[1], s->left[0]) && seq_le(s->right[0], s->right[1]);
}

/* Does the newer ACK s say all the older block [left, right) says? */
static bool covered(uint32_t left, uint32_t right, const struct ackf *s)
{
	unsigned b;

	if (seq_le(right, s->ack))
		return true;
	for (b = 0; b < s->nsack; b++)
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

bool ackf_supersedes(const uint8_t *old, const struct ackf *ao, const uint8_t *pkt,
		     const struct ackf *an, size_t l4, bool v6)
{
	unsigned b;

	if (!same_flow(old, pkt, l4, v6) || !seq_le(ao->ack, an->ack))
		return false;
	/* The same number: a duplicate ACK.  Only one that adds SACK blocks
	 * carries the older one's news; without SACK the sender counts
	 * duplicates, so they all go through. */
	if (ao->ack == an->ack && (an->nsack == 0 || !memcmp(ao, an, sizeof(*ao))))
		return false;
	if (has_dsack(ao))
		return false;
	for (b = 0; b < ao->nsack; b++)
		if (!covered(ao->left[b], ao->right[b], an))
			return false;
	return true;
}
