/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The peer map (common/peermap.h).  Owns its slot array; nothing else. */
#include "config.h"
#include "common/peermap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

int peermap_init(struct peermap *m, uint32_t want)
{
	uint32_t cap = 16;

	while (cap < 2 * (uint64_t)want && cap < (1u << 30))
		cap <<= 1;
	m->slot = calloc(cap, sizeof(*m->slot));
	if (!m->slot)
		return -ENOMEM;
	m->mask = cap - 1;
	m->n = 0;
	return 0;
}

void peermap_free(struct peermap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->n = m->mask = 0;
}

int peer_key_of(const struct sockaddr *sa, bool with_port, struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		memcpy(k->addr, &s->sin_addr, 4);
		k->port = with_port ? s->sin_port : 0;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		memcpy(k->addr, &s->sin6_addr, 16);
		k->port = with_port ? s->sin6_port : 0;
	} else {
		return -1;
	}
	k->family = sa->sa_family;
	return 0;
}

/* FNV-1a over the key's words, then mixed: the bits used are the low ones. */
static uint32_t hash(const struct peer_key *k)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 4; i++)
		h = (h ^ k->addr[i]) * 16777619u;
	h = (h ^ ((uint32_t)k->port << 16 | k->family)) * 16777619u;
	return h ^ h >> 15;
}

static bool key_eq(const struct peer_key *a, const struct peer_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The slot holding k, or the empty slot where it would go. */
static uint32_t find(const struct peermap *m, const struct peer_key *k)
{
	uint32_t i = hash(k) & m->mask;

	while (m->slot[i].k.family && !key_eq(&m->slot[i].k, k))
		i = (i + 1) & m->mask;
	return i;
}

int peermap_put(struct peermap *m, const struct peer_key *k, uint32_t v)
{
	uint32_t i = find(m, k);

	if (!m->slot[i].k.family) {
		if (m->n >= (m->mask + 1) / 2)
			return -ENOSPC;
		m->slot[i].k = *k;
		m->n++;
	}
	m->slot[i].v = v;
	return 0;
}

bool peermap_get(const struct peermap *m, const struct peer_key *k, uint32_t *v)
{
	uint32_t i = find(m, k);

	if (!m->slot[i].k.family)
		return false;
	*v = m->slot[i].v;
	return true;
}

bool peermap_del(struct peermap *m, const struct peer_key *k, uint32_t v)
{
	uint32_t i = find(m, k), j, home;

	if (!m->slot[i].k.family || m->slot[i].v != v)
		return false;
	/* Backward shift: move each later entry of the run into the hole
	 * when the hole lies between its home slot and where it sits. */
	for (j = (i + 1) & m->mask; m->slot[j].k.family; j = (j + 1) & m->mask) {
		home = hash(&m->slot[j].k) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	memset(&m->slot[i], 0, sizeof(m->slot[i]));
	m->n--;
	return true;
}
