/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): groups and lifetimes of sessions (see policy.h).  Owns
 * nothing: it reads the config and writes the session fields auth.c asks
 * it to. */
#include "config.h"
#include "daemon/policy.h"

#include <stdio.h>

#include "common/log.h"
#include "daemon/sessions.h"

void mpolicy_assign(struct session *s, const struct cfg *cfg, const char *groups)
{
	char g[CFG_GROUP_NAME];

	snprintf(s->groups, sizeof(s->groups), "%s", groups);
	snprintf(s->group, sizeof(s->group), "%s", cfg_group_choose(cfg, s->groups, g));
}

/* The leases of grp's pools in the running pools (geom): 0, or -1 when
 * they do not fit them (the network pools need a restart to change, the
 * groups' pools do not). */
static int group_range(const struct cfg_group *grp, const struct pool_geom *geom, uint32_t *lo,
		       uint32_t *hi)
{
	uint32_t lo4 = 0, hi4 = 0, lo6 = 0, hi6 = 0;

	if (grp->have_ipv4_pool && pool_range(geom, &grp->ipv4_pool, &lo4, &hi4) < 0)
		return -1;
	if (grp->have_ipv6_pool && pool_range(geom, &grp->ipv6_pool, &lo6, &hi6) < 0)
		return -1;
	if (grp->have_ipv4_pool && grp->have_ipv6_pool && (lo4 != lo6 || hi4 != hi6))
		return -1;
	*lo = grp->have_ipv4_pool ? lo4 : lo6;
	*hi = grp->have_ipv4_pool ? hi4 : hi6;
	return 0;
}

/* The nodes of a fleet lease apart from a group's pool as from the
 * network pools (sess_slice): node k takes the k-th of fleet.nodes shares
 * of [lo, hi); a lone node all of it. */
static void group_share(const struct cfg *cfg, uint32_t *lo, uint32_t *hi)
{
	uint32_t a, b;

	sess_slice(cfg, *hi - *lo, &a, &b);
	*hi = *lo + b;
	*lo += a;
}

void mpolicy_carve(struct sess_table *t, const struct cfg *cfg)
{
	uint32_t r[CFG_MAX_GROUPS][2];
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_groups; i++) {
		const struct cfg_group *grp = &cfg->groups[i];
		bool overlap = false;

		if (!grp->have_ipv4_pool && !grp->have_ipv6_pool)
			continue;
		if (group_range(grp, &t->pool.g, &r[n][0], &r[n][1]) < 0) {
			log_warn("group '%s': its pool is not inside the running network pools (a "
				 "change of network.ipv4-pool or ipv6-pool needs a restart): its "
				 "sessions get leases outside the groups' pools",
				 grp->name);
			continue;
		}
		for (unsigned k = 0; k < n; k++)
			overlap |= r[n][0] < r[k][1] && r[k][0] < r[n][1];
		if (overlap) {
			log_warn("group '%s': its pool overlaps another group's in the running "
				 "network pools: not carved",
				 grp->name);
			continue;
		}
		if (cfg->fleet_nodes > 1 && r[n][1] - r[n][0] < 2 * cfg->fleet_nodes)
			log_warn("group '%s': its pool of %u addresses, shared by fleet.nodes = "
				 "%u nodes, leaves some nodes one address or none",
				 grp->name, r[n][1] - r[n][0], cfg->fleet_nodes);
		n++;
	}
	pool_carve(&t->pool, (const uint32_t(*)[2])r, n);
}

void mpolicy_lease_range(struct session *s, const struct cfg *cfg, const struct pool_geom *geom)
{
	const struct cfg_group *g = s->group[0] ? cfg_group_find(cfg, s->group) : NULL;

	s->lease_lo = s->lease_hi = 0;
	if (!g || (!g->have_ipv4_pool && !g->have_ipv6_pool) ||
	    group_range(g, geom, &s->lease_lo, &s->lease_hi) < 0) {
		s->lease_lo = s->lease_hi = 0;
		return;
	}
	/* Clients get the group's netmask: the network and broadcast
	 * addresses of its IPv4 pool are no clients' addresses. */
	if (g->have_ipv4_pool && g->ipv4_pool.len <= 30) {
		s->lease_lo++;
		s->lease_hi--;
	}
	group_share(cfg, &s->lease_lo, &s->lease_hi);
}

const char *mpolicy_expired(const struct session *s, const struct cfg *cfg, time_t now,
			    uint8_t *cause)
{
	if (cfg->max_lifetime && now - s->created >= (time_t)cfg->max_lifetime) {
		*cause = SESS_END_SESSION_TIMEOUT;
		return "session expired (session.max-lifetime)";
	}
	if (cfg->idle_timeout && now - s->last_active >= (time_t)cfg->idle_timeout) {
		*cause = SESS_END_IDLE_TIMEOUT;
		return "idle timeout (session.idle-timeout)";
	}
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
