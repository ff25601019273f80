/* libFuzzer harness for common/offload.c (`make fuzz FUZZ_TARGETS=offload`).
 *
 * Input: byte 0 picks the tunnel MTU, the rest is what a TUN read returns
 * (vnet header + packet).  The packet is segmented; the segments are fed to
 * the coalescer and every super-packet it writes is segmented again, which
 * must give back exactly the segments that went in (what the kernel does
 * between a TUN write and a TUN read).  Then the raw input is also cut into
 * arbitrary "packets" for the coalescer, whose output must be accepted by
 * the segmenter. */
#include "config.h"
#include "common/offload.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

static uint8_t in[OFFLOAD_BUF_LEN];
static uint8_t gbuf[OFFLOAD_BUF_LEN];
static uint8_t seg[2048], again[2048];
static uint8_t saved[64][2048];
static size_t saved_len[64];

/* Segment what the coalescer wrote and compare with saved[first..]. */
static void check_batch(struct offload_gro *g, unsigned *first, size_t mtu)
{
	struct offload_seg s;
	unsigned count = g->count, k;
	size_t n = offload_gro_take(g);
	int r;

	if (n == 0)
		return;
	r = offload_seg_init(&s, gbuf, n, mtu);
	if (r != (int)count)
		abort();
	for (k = 0; k < count; k++) {
		r = offload_seg_next(&s, again, sizeof(again));
		if (r <= 0 || (size_t)r != saved_len[*first + k] ||
		    memcmp(again, saved[*first + k], (size_t)r))
			abort();
	}
	if (offload_seg_next(&s, again, sizeof(again)) != 0)
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
	offload_gro_init(&g, gbuf);
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

/* Arbitrary packets: lengths from the input, contents the input itself. */
static void raw_gro(const uint8_t *data, size_t size)
{
	struct offload_gro g;
	struct offload_seg s;
	size_t off = 1;

	offload_gro_init(&g, gbuf);
	while (off + 2 <= size) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]);
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len == 0)
			break;
		if (offload_gro_add(&g, data + off, len) == OFFLOAD_GRO_FLUSH) {
			size_t n = offload_gro_take(&g);
			if (offload_seg_init(&s, gbuf, n, OFFLOAD_MAX_IP) < 1)
				abort();
			if (offload_gro_add(&g, data + off, len) != OFFLOAD_GRO_ADDED)
				abort();
		}
		off += len;
	}
	if (g.count > 1 && offload_seg_init(&s, gbuf, offload_gro_take(&g), OFFLOAD_MAX_IP) < 1)
		abort();
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
