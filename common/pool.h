/* Address pools: one lease index names an IPv4 and an IPv6 address
 * (pool base + index).  Owned by the master; the geometry part is shared
 * read-only with workers for packet -> lease lookups. */
#ifndef TUNNELD_POOL_H
#define TUNNELD_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "conf/config.h"

#define POOL_MAX_SIZE	  (1u << 20) /* leases, whatever the prefix */
#define POOL_SERVER_INDEX 1	     /* server's own tunnel address */

struct pool_geom {
	bool have4, have6;
	uint32_t base4;	       /* host order, network address */
	struct in6_addr base6; /* network address */
	unsigned len4, len6;   /* prefix lengths */
	uint32_t size;	       /* number of indexes, incl. unusable 0 and 1 */
};

struct pool {
	struct pool_geom g;
	uint64_t *bitmap; /* bit set = index in use or reserved */
	uint32_t next;	  /* next-fit cursor */
	uint32_t used;	  /* leases handed out (not counting reserved) */
	uint32_t usable;  /* leases that can be handed out */
	/* pool_alloc's range (pool_slice): a fleet node's share of the pool
	 * for new leases; pool_take may still take any index. */
	uint32_t lo, hi;
	uint32_t slice_used, slice_usable; /* leases and usable indexes in it */
};

/* Set up from the configured pools (either may be absent, not both).
 * size = min over the configured pools of their host count, capped at
 * POOL_MAX_SIZE.  Reserves index 0 (network), 1 (server) and, for IPv4, the
 * broadcast index.  Returns 0 or -errno (-EINVAL: no pool; -ENOMEM). */
int pool_init(struct pool *p, const struct cfg_prefix *v4, const struct cfg_prefix *v6);
void pool_free(struct pool *p);

/* Lease a free index of the slice (all of the pool unless pool_slice was
 * called); returns index >= 2, or -ENOSPC when exhausted. */
int64_t pool_alloc(struct pool *p);
/* New leases from [lo, hi) only (lo < hi <= size): a fleet node's slice
 * (daemon/sessions.c).  Indexes taken outside it stay taken.  0, or
 * -ERANGE when the range is empty, too large, or holds no usable index. */
int pool_slice(struct pool *p, uint32_t lo, uint32_t hi);
/* Lease a specific index if free; 0 or -EBUSY / -ERANGE. */
int pool_take(struct pool *p, uint32_t idx);
void pool_release(struct pool *p, uint32_t idx);
bool pool_in_use(const struct pool *p, uint32_t idx);

/* Address of an index (index < size). */
void pool_addr4(const struct pool_geom *g, uint32_t idx, struct in_addr *out);
void pool_addr6(const struct pool_geom *g, uint32_t idx, struct in6_addr *out);

/* Index of an address, or -1 if outside the pool.  Hot path (per packet). */
static inline int64_t pool_index4(const struct pool_geom *g, uint32_t addr_be)
{
	uint32_t off;
	if (!g->have4)
		return -1;
	off = __builtin_bswap32(addr_be) - g->base4;
	return off < g->size ? (int64_t)off : -1;
}

int64_t pool_index6(const struct pool_geom *g, const struct in6_addr *a);
/* The same from the 16 bytes of an address anywhere in a packet (no
 * alignment needed: packets after a TUN vnet header are 2-byte aligned). */
int64_t pool_index6_bytes(const struct pool_geom *g, const uint8_t a[16]);

#endif
