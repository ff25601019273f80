/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): groups and lifetimes of sessions (see policy.h).  Owns
 * nothing: it reads the config and writes the session fields auth.c asks
 * it to. */
#include "config.h"
#include "daemon/policy.h"

#include <stdio.h>

#include "daemon/sessions.h"

void mpolicy_assign(struct session *s, const struct cfg *cfg, const char *groups)
{
	char g[CFG_GROUP_NAME];

	snprintf(s->groups, sizeof(s->groups), "%s", groups);
	snprintf(s->group, sizeof(s->group), "%s", cfg_group_choose(cfg, s->groups, g));
}

void mpolicy_carve(struct sess_table *t, const struct cfg *cfg)
{
	uint32_t r[CFG_MAX_GROUPS][2];
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].lease_hi) {
			r[n][0] = cfg->groups[i].lease_lo;
			r[n][1] = cfg->groups[i].lease_hi;
			n++;
		}
	pool_carve(&t->pool, (const uint32_t(*)[2])r, n);
}

void mpolicy_lease_range(struct session *s, const struct cfg *cfg)
{
	const struct cfg_group *g = s->group[0] ? cfg_group_find(cfg, s->group) : NULL;

	s->lease_lo = g ? g->lease_lo : 0;
	s->lease_hi = g ? g->lease_hi : 0;
	/* Clients get the group's netmask: the network and broadcast
	 * addresses of its IPv4 pool are no clients' addresses. */
	if (g && g->have_ipv4_pool && g->ipv4_pool.len <= 30) {
		s->lease_lo++;
		s->lease_hi--;
	}
}

const char *mpolicy_expired(const struct session *s, const struct cfg *cfg, time_t now)
{
	if (cfg->max_lifetime && now - s->created >= (time_t)cfg->max_lifetime)
		return "session expired (session.max-lifetime)";
	if (cfg->idle_timeout && now - s->last_active >= (time_t)cfg->idle_timeout)
		return "idle timeout (session.idle-timeout)";
	return NULL;
}

void mpolicy_active(struct session *s, int64_t t, time_t now)
{
	/* A worker's clock is ours; a time ahead of it is no reason to keep a
	 * session longer. */
	if (t > (int64_t)now)
		t = now;
	if (t > (int64_t)s->last_active)
		s->last_active = (time_t)t;
}
