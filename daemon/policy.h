/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): what the config's groups and lifetimes mean for sessions
 * (issue 15): a session's group at login, the leases its group's pool
 * carves out, and when a session has lived or idled too long.  auth.c
 * asks; the session table stays auth.c's.  (The workers' share of the
 * policy is common/policy.h, sent by reload.c.) */
#ifndef TUNNELD_MPOLICY_H
#define TUNNELD_MPOLICY_H

#include <stdint.h>
#include <time.h>

#include "common/pool.h"
#include "conf/config.h"

struct sess_table;
struct session;

/* At login: the user's groups from the backend (comma-separated, "" for
 * none) and the session's group, the first of them cfg defines. */
void mpolicy_assign(struct session *s, const struct cfg *cfg, const char *groups);
/* The pools of cfg's groups carve their leases out of t's pool (at start
 * and on each reload); a pool that does not fit the running pools (they
 * change at a restart only) or overlaps another there is left out, with a
 * warning. */
void mpolicy_carve(struct sess_table *t, const struct cfg *cfg);
/* Before a CONNECT binds s: where its lease comes from, its group's pool
 * in the running pools (geom; in a fleet, this node's share of it), or the
 * leases no group took (a group gone since the login, or without a pool:
 * the latter). */
void mpolicy_lease_range(struct session *s, const struct cfg *cfg, const struct pool_geom *geom);
/* Why s may not go on at now (session.max-lifetime since its login,
 * session.idle-timeout since its client's last data), or NULL; *cause is
 * then its accounting cause (Session-Timeout, Idle-Timeout). */
const char *mpolicy_expired(const struct session *s, const struct cfg *cfg, time_t now,
			    uint8_t *cause);
/* A worker reported the client's last data at t (0: none). */
void mpolicy_active(struct session *s, int64_t t, time_t now);

#endif
