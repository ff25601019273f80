/* Address pools: runs in the master, which owns the lease bitmap.  The
 * geometry (struct pool_geom) is copied to workers before fork and only
 * read there, to map packet addresses back to lease indexes. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/pool.h"

/* 2^bits, saturating above POOL_MAX_SIZE so callers never shift by >= 64. */
static uint64_t host_count(unsigned bits)
{
	if (bits >= 32)
		return (uint64_t)POOL_MAX_SIZE + 1;
	return (uint64_t)1 << bits;
}

/* The IPv4 broadcast address is only reserved when the pool covers the
 * whole IPv4 prefix; when the size was cut down (by the cap or a smaller
 * IPv6 pool) the last index is an ordinary host address. */
static bool broadcast_reserved(const struct pool_geom *g)
{
	return g->have4 && g->size == host_count(32 - g->len4);
}

static bool is_reserved(const struct pool_geom *g, uint32_t idx)
{
	return idx <= POOL_SERVER_INDEX || (broadcast_reserved(g) && idx == g->size - 1);
}

static void bit_set(uint64_t *bm, uint32_t idx)
{
	bm[idx / 64] |= (uint64_t)1 << (idx % 64);
}

static void bit_clear(uint64_t *bm, uint32_t idx)
{
	bm[idx / 64] &= ~((uint64_t)1 << (idx % 64));
}

static bool bit_test(const uint64_t *bm, uint32_t idx)
{
	return bm[idx / 64] >> (idx % 64) & 1;
}

int pool_init(struct pool *p, const struct cfg_prefix *v4, const struct cfg_prefix *v6)
{
	struct pool_geom g;
	uint64_t size = POOL_MAX_SIZE;
	uint32_t words, idx;

	memset(p, 0, sizeof(*p));
	memset(&g, 0, sizeof(g));
	if (!v4 && !v6)
		return -EINVAL;

	/* A pool must leave at least one lease besides network, server and
	 * broadcast: /30 for IPv4, /126 for IPv6. */
	if (v4) {
		if (v4->addr.family != AF_INET || v4->len > 30)
			return -EINVAL;
		g.have4 = true;
		g.len4 = v4->len;
		g.base4 = ntohl(v4->addr.u.v4.s_addr);
		if (g.len4 > 0)
			g.base4 &= ~(uint32_t)0 << (32 - g.len4);
		else
			g.base4 = 0;
		if (host_count(32 - g.len4) < size)
			size = host_count(32 - g.len4);
	}
	if (v6) {
		if (v6->addr.family != AF_INET6 || v6->len > 126)
			return -EINVAL;
		g.have6 = true;
		g.len6 = v6->len;
		g.base6 = v6->addr.u.v6;
		/* Clear host bits so that base6 | idx is the address of idx. */
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = g.len6 > i * 8 ? g.len6 - i * 8 : 0;
			if (keep < 8)
				g.base6.s6_addr[i] &= (uint8_t)(0xff00 >> keep);
		}
		if (host_count(128 - g.len6) < size)
			size = host_count(128 - g.len6);
	}
	g.size = (uint32_t)size;

	words = (g.size + 63) / 64;
	p->bitmap = calloc(words, sizeof(*p->bitmap));
	if (!p->bitmap)
		return -ENOMEM;
	p->g = g;

	/* Bits past the end are marked used so the word scan in pool_alloc
	 * needs no bounds check of its own. */
	for (idx = g.size; idx < words * 64; idx++)
		bit_set(p->bitmap, idx);
	bit_set(p->bitmap, 0);
	bit_set(p->bitmap, POOL_SERVER_INDEX);
	p->usable = g.size - 2;
	if (broadcast_reserved(&g)) {
		bit_set(p->bitmap, g.size - 1);
		p->usable--;
	}
	p->next = POOL_SERVER_INDEX + 1;
	p->lo = 0;
	p->hi = g.size;
	p->slice_usable = p->usable;
	return 0;
}

static bool in_slice(const struct pool *p, uint32_t idx)
{
	return idx >= p->lo && idx < p->hi;
}

int pool_slice(struct pool *p, uint32_t lo, uint32_t hi)
{
	uint32_t usable = 0, used = 0;

	if (lo >= hi || hi > p->g.size)
		return -ERANGE;
	for (uint32_t i = lo; i < hi; i++) {
		usable += !is_reserved(&p->g, i);
		used += !is_reserved(&p->g, i) && bit_test(p->bitmap, i);
	}
	if (!usable)
		return -ERANGE;
	p->lo = lo;
	p->hi = hi;
	p->slice_usable = usable;
	p->slice_used = used;
	if (!in_slice(p, p->next))
		p->next = lo;
	return 0;
}

/* The free bits of word w that lie in the slice. */
static uint64_t free_in_slice(const struct pool *p, uint32_t w)
{
	uint64_t f = ~p->bitmap[w];
	uint32_t base = w * 64;

	if (p->lo > base)
		f &= p->lo - base >= 64 ? 0 : ~(uint64_t)0 << (p->lo - base);
	if (p->hi < base + 64)
		f &= p->hi <= base ? 0 : ~(uint64_t)0 >> (64 - (p->hi - base));
	return f;
}

void pool_free(struct pool *p)
{
	free(p->bitmap);
	memset(p, 0, sizeof(*p));
}

/* Next-fit: start at the cursor and wrap once, so an address that was just
 * released is the last one handed out again, not given to a new client
 * while packets and conntrack entries for the old one are still around. */
int64_t pool_alloc(struct pool *p)
{
	uint32_t first = p->lo / 64, last = (p->hi - 1) / 64;
	uint32_t w = p->next / 64;
	uint64_t free_bits = free_in_slice(p, w) & (~(uint64_t)0 << (p->next % 64));
	uint32_t idx;

	if (p->slice_used >= p->slice_usable)
		return -ENOSPC;
	/* One visit more than the slice has words: the cursor's word is seen
	 * twice, first from the cursor up, at the end in full to pick up bits
	 * below the cursor. */
	for (uint32_t step = 0; !free_bits && step <= last - first; step++) {
		w = w == last ? first : w + 1;
		free_bits = free_in_slice(p, w);
	}
	if (!free_bits)
		return -ENOSPC;
	idx = w * 64 + (uint32_t)__builtin_ctzll(free_bits);
	bit_set(p->bitmap, idx);
	p->used++;
	p->slice_used++;
	p->next = idx + 1 < p->hi ? idx + 1 : p->lo;
	return idx;
}

int pool_take(struct pool *p, uint32_t idx)
{
	if (idx >= p->g.size)
		return -ERANGE;
	if (bit_test(p->bitmap, idx))
		return -EBUSY;
	bit_set(p->bitmap, idx);
	p->used++;
	p->slice_used += in_slice(p, idx);
	return 0;
}

void pool_release(struct pool *p, uint32_t idx)
{
	if (idx >= p->g.size || is_reserved(&p->g, idx) || !bit_test(p->bitmap, idx))
		return;
	bit_clear(p->bitmap, idx);
	p->used--;
	p->slice_used -= in_slice(p, idx);
}

bool pool_in_use(const struct pool *p, uint32_t idx)
{
	return idx < p->g.size && bit_test(p->bitmap, idx);
}

void pool_addr4(const struct pool_geom *g, uint32_t idx, struct in_addr *out)
{
	out->s_addr = htonl(g->base4 + idx);
}

/* idx < size <= 2^(128 - len6) fits in the zeroed host bits, and size is
 * at most 2^20, so only the last 32 bits ever change. */
void pool_addr6(const struct pool_geom *g, uint32_t idx, struct in6_addr *out)
{
	uint32_t low;

	*out = g->base6;
	memcpy(&low, &out->s6_addr[12], 4);
	low = htonl(ntohl(low) | idx);
	memcpy(&out->s6_addr[12], &low, 4);
}

/* Every pool address shares its first 96 bits with base6 (see pool_addr6),
 * so comparing those and subtracting the last 32 bits both checks the
 * prefix and yields the index; offsets >= size fall outside the prefix or
 * past the pool. */
int64_t pool_index6(const struct pool_geom *g, const struct in6_addr *a)
{
	return pool_index6_bytes(g, a->s6_addr);
}

int64_t pool_index6_bytes(const struct pool_geom *g, const uint8_t a[16])
{
	uint64_t a_hi, b_hi;
	uint32_t a_mid, b_mid, a_lo, b_lo, off;

	if (!g->have6)
		return -1;
	memcpy(&a_hi, &a[0], 8);
	memcpy(&b_hi, &g->base6.s6_addr[0], 8);
	memcpy(&a_mid, &a[8], 4);
	memcpy(&b_mid, &g->base6.s6_addr[8], 4);
	if (a_hi != b_hi || a_mid != b_mid)
		return -1;
	memcpy(&a_lo, &a[12], 4);
	memcpy(&b_lo, &g->base6.s6_addr[12], 4);
	off = ntohl(a_lo) - ntohl(b_lo);
	return off < g->size ? (int64_t)off : -1;
}
