/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): a set of session ids (see sidset.h).  Owns nothing but the
 * array of each set. */
#include "config.h"
#include "daemon/sidset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The home slot: the sid multiplied by a large odd constant (Fibonacci
 * hashing), its top bits; a sid's low bits are random, but a file of
 * another node could be anything. */
static uint32_t home(const struct sidset *s, uint64_t sid)
{
	return (uint32_t)((sid * 0x9e3779b97f4a7c15ull) >> 32) & (s->cap - 1);
}

int sidset_init(struct sidset *s, uint32_t n)
{
	uint32_t cap = 16;

	while (cap < n + n / 3 + 1 && cap < (1u << 30))
		cap <<= 1;
	s->e = calloc(cap, sizeof(*s->e));
	s->cap = s->e ? cap : 0;
	s->n = 0;
	return s->e ? 0 : -ENOMEM;
}

void sidset_free(struct sidset *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

/* Into a set known to have room and not to hold sid. */
static void place(struct sidset *s, const struct sid_entry *x)
{
	uint32_t i = home(s, x->sid);

	while (s->e[i].sid)
		i = (i + 1) & (s->cap - 1);
	s->e[i] = *x;
	s->n++;
}

/* A new array of cap slots with the entries still good at now (all when
 * now is 0). */
static int rebuild(struct sidset *s, uint32_t cap, uint32_t now)
{
	struct sidset n = {calloc(cap, sizeof(struct sid_entry)), cap, 0};

	if (!n.e)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->e[i].sid && (!now || s->e[i].expires > now))
			place(&n, &s->e[i]);
	free(s->e);
	*s = n;
	return 0;
}

struct sid_entry *sidset_get(const struct sidset *s, uint64_t sid)
{
	if (!sid || !s->cap)
		return NULL;
	for (uint32_t i = home(s, sid);; i = (i + 1) & (s->cap - 1)) {
		if (s->e[i].sid == sid)
			return &s->e[i];
		if (!s->e[i].sid)
			return NULL;
	}
}

int sidset_put(struct sidset *s, uint64_t sid, uint32_t expires, uint32_t val)
{
	struct sid_entry *e = sidset_get(s, sid), x = {sid, expires, val};
	int r;

	if (!sid)
		return -EINVAL;
	if (e) {
		*e = x;
		return 0;
	}
	if ((uint64_t)(s->n + 1) * 4 > (uint64_t)s->cap * 3) {
		if (s->cap >= (1u << 30))
			return -ENOMEM;
		if ((r = rebuild(s, s->cap * 2, 0)) < 0)
			return r;
	}
	place(s, &x);
	return 0;
}

void sidset_del(struct sidset *s, uint64_t sid)
{
	struct sid_entry *e = sidset_get(s, sid);
	uint32_t mask = s->cap - 1, i, j, k;

	if (!e)
		return;
	i = (uint32_t)(e - s->e);
	s->e[i].sid = 0;
	s->n--;
	/* Backward shift: move up each entry of the run after i whose home
	 * does not lie cyclically in (i, j]. */
	for (j = (i + 1) & mask; s->e[j].sid; j = (j + 1) & mask) {
		k = home(s, s->e[j].sid);
		if (((j - k) & mask) >= ((j - i) & mask)) {
			s->e[i] = s->e[j];
			s->e[j].sid = 0;
			i = j;
		}
	}
}

void sidset_expire(struct sidset *s, uint32_t now)
{
	if (s->cap)
		(void)rebuild(s, s->cap, now); /* out of memory: they stay a while */
}
