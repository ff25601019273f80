/* libFuzzer harness for common/offload.c (`make fuzz FUZZ_TARGETS=offload`).
 *
 * Input: byte 0 picks the tunnel MTU, the rest is what a TUN read returns
 * (vnet header + packet: TCP or UDP super-packets, or anything).  The
 * packet is segmented; the segments are fed to the coalescer (UDP allowed)
 * and every super-packet it writes is segmented again, in place (each
 * framed over the one before, as the worker does), which must give
 * back exactly the segments that went in (what the kernel does between a
 * TUN write and a TUN read).  Then the raw input is also cut into arbitrary
 * "packets" for the coalescer (UDP allowed if byte 0 is odd), whose output
 * must be accepted by the segmenter; a UDP super-packet must give back the
 * very datagrams that went in, but for the IPv4 id of DF datagrams (the
 * kernel numbers them on from the first) and the header checksum. */
#include "config.h"
#include "common/offload.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

static uint8_t in[OFFLOAD_BUF_LEN];
static uint8_t gbuf[OFFLOAD_BUF_LEN];
static uint8_t seg[2048], again[OFFLOAD_MAX_IP];
static uint8_t saved[64][2048];
static size_t saved_len[64];
/* raw_gro: the packets in the batch, inside the input */
static const uint8_t *batch[OFFLOAD_UDP_MAX_SEGS];
static size_t batch_len[OFFLOAD_UDP_MAX_SEGS];

/* Segment what the coalescer wrote and compare with saved[first..]. */
static void check_batch(struct offload_gro *g, unsigned *first, size_t mtu)
{
	struct offload_seg s;
	unsigned count = g->count, k;
	size_t n = offload_gro_take(g);
	uint8_t *at;
	int r;

	if (n == 0)
		return;
	r = offload_seg_init(&s, gbuf, n, mtu);
	if (r != (int)count)
		abort();
	/* Cut in place, as the worker does; the first cut copied. */
	for (k = 0; k < count; k++) {
		r = offload_seg_next_inplace(&s, &at);
		if (r <= 0 || (size_t)r != saved_len[*first + k] ||
		    memcmp(at, saved[*first + k], (size_t)r) || at - 8 < gbuf || at + r > gbuf + n)
			abort();
		memset(at - 8, 0xee, 8); /* a frame header over the one before */
	}
	if (offload_seg_next_inplace(&s, &at) != 0)
		abort();
	*first += count;
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct offload_seg s;
	struct offload_gro g;
	size_t mtu = 576 + (size_t)data[0] * 4; /* 576 .. 1596 */
	unsigned n = 0, done = 0;
	int r;

	if (size - 1 > sizeof(in))
		return;
	memcpy(in, data + 1, size - 1);
	r = offload_seg_init(&s, in, size - 1, mtu);
	if (r <= 0 || !s.gso || r > 64)
		return;
	offload_gro_init(&g, gbuf, true);
	while ((r = offload_seg_next(&s, seg, sizeof(seg))) > 0) {
		if ((size_t)r > mtu)
			abort();
		memcpy(saved[n], seg, (size_t)r);
		saved_len[n] = (size_t)r;
		if (offload_gro_add(&g, seg, (size_t)r) == OFFLOAD_GRO_FLUSH) {
			check_batch(&g, &done, mtu);
			if (offload_gro_add(&g, seg, (size_t)r) != OFFLOAD_GRO_ADDED)
				abort();
		}
		n++;
	}
	if (r < 0)
		abort();
	check_batch(&g, &done, mtu);
	if (done != n)
		abort();
}

/* Does the datagram out[0..n) read back from a UDP super-packet equal the
 * one that went in, but for the IPv4 id (DF) and header checksum? */
static bool same_datagram(const uint8_t *out, size_t n, const uint8_t *in_pkt, size_t len)
{
	if (n != len)
		return false;
	if (in_pkt[0] >> 4 == 6)
		return !memcmp(out, in_pkt, n);
	/* the segmenter's header checksum is right, whatever it is */
	if (offload_csum_fold(offload_csum_add(0, out, 20)) != 0xffff)
		return false;
	return !memcmp(out, in_pkt, 4) && !memcmp(out + 6, in_pkt + 6, 4) &&
	       !memcmp(out + 12, in_pkt + 12, n - 12) &&
	       ((in_pkt[6] & 0x40) || !memcmp(out + 4, in_pkt + 4, 2));
}

/* Take the batch; it must segment, a UDP one into what went in. */
static void raw_take(struct offload_gro *g)
{
	struct offload_seg s;
	unsigned count = g->count, k;
	bool udp = g->udp && count > 1;
	size_t n = offload_gro_take(g);
	int r;

	if (n == 0)
		return;
	r = offload_seg_init(&s, gbuf, n, OFFLOAD_MAX_IP);
	FUZZ_ASSERT(r >= 1);
	if (!udp)
		return;
	FUZZ_ASSERT(r == (int)count && s.udp && count <= OFFLOAD_UDP_MAX_SEGS);
	for (k = 0; k < count; k++) {
		r = offload_seg_next(&s, again, sizeof(again));
		FUZZ_ASSERT(r > 0 && same_datagram(again, (size_t)r, batch[k], batch_len[k]));
	}
	FUZZ_ASSERT(offload_seg_next(&s, again, sizeof(again)) == 0);
}

/* Arbitrary packets: lengths from the input, contents the input itself. */
static void raw_gro(const uint8_t *data, size_t size)
{
	struct offload_gro g;
	size_t off = 1;

	offload_gro_init(&g, gbuf, data[0] & 1);
	g.ack_filter = data[0] & 2;
	while (off + 2 <= size) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]);
		int r;
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len == 0)
			break;
		r = offload_gro_add(&g, data + off, len);
		if (r == OFFLOAD_GRO_FLUSH) {
			raw_take(&g);
			FUZZ_ASSERT(offload_gro_add(&g, data + off, len) == OFFLOAD_GRO_ADDED);
		}
		/* A superseded ACK leaves the batch holding the newer one alone. */
		if (r == OFFLOAD_GRO_REPLACED)
			FUZZ_ASSERT(g.ack_filter && g.count == 1 &&
				    g.len == OFFLOAD_VNET_LEN + len &&
				    !memcmp(gbuf + OFFLOAD_VNET_LEN, data + off, len));
		/* A UDP batch holds at most OFFLOAD_UDP_MAX_SEGS. */
		if (g.count <= OFFLOAD_UDP_MAX_SEGS) {
			batch[g.count - 1] = data + off;
			batch_len[g.count - 1] = len;
		}
		off += len;
	}
	raw_take(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	round_trip(data, size);
	raw_gro(data, size);
	return 0;
}
