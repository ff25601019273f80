/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the owner[lease] map shared with the workers.  The master
 * writes it (sessions.c: worker slot + 1, 0 for nobody); workers only
 * read it, to hand a TUN packet to its client's worker, and cannot write
 * it even if taken over: their view is a read-only mapping of a sealed
 * memfd, and the master's writable mapping is not inherited by a fork. */
#ifndef TUNNELD_OWNERMAP_H
#define TUNNELD_OWNERMAP_H

#include <stddef.h>
#include <stdint.h>

struct owner_map {
	uint8_t *rw;	   /* the master's: MADV_DONTFORK */
	const uint8_t *ro; /* what workers inherit: PROT_READ, never writable */
	size_t len;
};

/* len zeroed bytes, both mappings.  0, or -errno. */
int owner_map_open(struct owner_map *m, size_t len);
/* Unmap both; safe on a zeroed or closed map. */
void owner_map_close(struct owner_map *m);

#endif
