/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth process with RADIUS: the table of challenges waiting for answers
 * (see radchal.h).  An id names its slot (its low bits) and a counter
 * above them, so an old id never finds the entry that reuses its slot. */
#include "config.h"
#include "daemon/radchal.h"

#include <stdbool.h>
#include <string.h>

static bool expired(const struct radchal *c, int64_t now)
{
	return now - c->asked > RADCHAL_LIFE || now < c->asked - RADCHAL_LIFE;
}

static void wipe(struct radchal *c)
{
	explicit_bzero(c, sizeof(*c));
}

struct radchal *radchal_new(struct radchal_table *t, int64_t now)
{
	struct radchal *c = NULL;

	for (unsigned i = 0; i < RADCHAL_MAX; i++)
		if (t->c[i].id && expired(&t->c[i], now))
			wipe(&t->c[i]);
	for (unsigned i = 0; i < RADCHAL_MAX && !c; i++)
		if (!t->c[i].id)
			c = &t->c[i];
	if (!c)
		return NULL;
	t->next += RADCHAL_MAX;
	if (!t->next)
		t->next = RADCHAL_MAX;
	c->id = t->next | (uint32_t)(c - t->c);
	c->asked = now;
	return c;
}

struct radchal *radchal_find(struct radchal_table *t, uint32_t id, int64_t now)
{
	struct radchal *c = &t->c[id % RADCHAL_MAX];

	if (!id || c->id != id)
		return NULL;
	if (expired(c, now)) {
		wipe(c);
		return NULL;
	}
	return c;
}

int radchal_set_state(struct radchal *c, const void *state, size_t len, int64_t now)
{
	if (len > sizeof(c->state))
		return -1;
	explicit_bzero(c->state, sizeof(c->state));
	if (len)
		memcpy(c->state, state, len);
	c->state_len = (uint32_t)len;
	c->asked = now;
	return 0;
}

void radchal_drop(struct radchal_table *t, uint32_t id)
{
	struct radchal *c = &t->c[id % RADCHAL_MAX];

	if (id && c->id == id)
		wipe(c);
}

unsigned radchal_count(const struct radchal_table *t, int64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < RADCHAL_MAX; i++)
		n += t->c[i].id && !expired(&t->c[i], now);
	return n;
}
