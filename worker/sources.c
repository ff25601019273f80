/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: pending connections counted by source (see sources.h).  Owns
 * the table: open addressing with linear probing, at most half full, and
 * deletion by shifting back, so no tombstones build up under churn.  The
 * hash is keyed with a random seed: the keys are addresses the clients
 * choose, and a table of colliding keys would make every look-up walk it. */
#include "config.h"
#include "worker/sources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

struct src {
	uint8_t key[ADDRKEY_LEN];
	uint32_t count; /* 0: a free slot */
};

static struct src *tab;
static uint32_t cap, used;
static uint64_t seed;

/* A 64-bit finaliser (murmur3's): every input bit moves every output bit. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t home(const uint8_t key[ADDRKEY_LEN])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (uint32_t)mix(mix(a ^ seed) ^ b ^ (seed >> 17 | seed << 47)) & (cap - 1);
}

/* key's slot, or the free slot where it would go. */
static uint32_t find(const struct src *t, const uint8_t key[ADDRKEY_LEN])
{
	uint32_t i = home(key);

	while (t[i].count && memcmp(t[i].key, key, ADDRKEY_LEN) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

int srcs_init(uint32_t n, uint64_t s)
{
	uint32_t c = MIN_CAP;

	while (c < 2 * (uint64_t)n && c < (1u << 30))
		c *= 2;
	free(tab);
	tab = calloc(c, sizeof(*tab));
	if (!tab) {
		cap = used = 0;
		return -ENOMEM;
	}
	cap = c;
	used = 0;
	seed = s;
	return 0;
}

void srcs_free(void)
{
	free(tab);
	tab = NULL;
	cap = used = 0;
}

static int grow(void)
{
	struct src *old = tab, *t;
	uint32_t old_cap = cap, i;

	if (cap >= (1u << 30) || !(t = calloc((size_t)cap * 2, sizeof(*t))))
		return -ENOMEM;
	tab = t;
	cap *= 2;
	for (i = 0; i < old_cap; i++)
		if (old[i].count)
			tab[find(tab, old[i].key)] = old[i];
	free(old);
	return 0;
}

uint32_t srcs_count(const uint8_t key[ADDRKEY_LEN])
{
	return tab ? tab[find(tab, key)].count : 0;
}

int srcs_add(const uint8_t key[ADDRKEY_LEN])
{
	uint32_t i;

	if (!tab)
		return -ENOMEM;
	i = find(tab, key);
	if (tab[i].count) {
		tab[i].count++;
		return 0;
	}
	if (2 * (used + 1) > cap) {
		if (grow() < 0)
			return -ENOMEM;
		i = find(tab, key);
	}
	memcpy(tab[i].key, key, ADDRKEY_LEN);
	tab[i].count = 1;
	used++;
	return 0;
}

/* Whether h lies cyclically in (from, to]. */
static bool between(uint32_t from, uint32_t h, uint32_t to)
{
	return from <= to ? from < h && h <= to : from < h || h <= to;
}

void srcs_remove(const uint8_t key[ADDRKEY_LEN])
{
	uint32_t i, j, h;

	if (!tab)
		return;
	i = find(tab, key);
	if (!tab[i].count || --tab[i].count)
		return;
	/* Free slot i: move back each later entry of the run that may live
	 * there, so that every entry stays reachable from its home. */
	for (j = (i + 1) & (cap - 1); tab[j].count; j = (j + 1) & (cap - 1)) {
		h = home(tab[j].key);
		if (between(i, h, j))
			continue;
		tab[i] = tab[j];
		i = j;
	}
	memset(&tab[i], 0, sizeof(tab[i]));
	used--;
}

uint32_t srcs_sources(void)
{
	return used;
}

uint32_t srcs_busiest(uint64_t pick, uint8_t key[ADDRKEY_LEN])
{
	uint32_t best = 0, n, i;

	/* The scan starts at a random slot: among sources with as many
	 * connections, none is always the one to lose. */
	for (n = 0; n < cap; n++) {
		i = (uint32_t)(pick + n) & (cap - 1);
		if (tab[i].count > best) {
			best = tab[i].count;
			memcpy(key, tab[i].key, ADDRKEY_LEN);
		}
	}
	return best;
}
