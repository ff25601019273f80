/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): a set of fleet-wide session ids, each with the expiry of
 * its cookie and a word of its owner's (fleet.c: flags, or a node).  The
 * fleet's lists of ended, revoked and claimed sessions hold one entry per
 * session for as long as its cookie lives, so an entry is small: 16 bytes,
 * open addressing with linear probing, at most 3/4 full, deletion by
 * backward shift (no tombstones).  Owns its array. */
#ifndef TUNNELD_SIDSET_H
#define TUNNELD_SIDSET_H

#include <stdint.h>

struct sid_entry {
	uint64_t sid; /* 0: an empty slot (no session has sid 0 in a set) */
	uint32_t expires;
	uint32_t val;
};

struct sidset {
	struct sid_entry *e;
	uint32_t cap, n; /* cap: a power of two */
};

/* Empty, with room for about n entries.  0 or -ENOMEM. */
int sidset_init(struct sidset *s, uint32_t n);
void sidset_free(struct sidset *s);
/* Add sid, or replace its expiry and value.  0, -EINVAL for sid 0, or
 * -ENOMEM when the set could not grow. */
int sidset_put(struct sidset *s, uint64_t sid, uint32_t expires, uint32_t val);
/* sid's entry, or NULL; valid until the set changes. */
struct sid_entry *sidset_get(const struct sidset *s, uint64_t sid);
void sidset_del(struct sidset *s, uint64_t sid);
/* Drop every entry whose expiry is at or before now. */
void sidset_expire(struct sidset *s, uint32_t now);

#endif
