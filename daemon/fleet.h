/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): what the nodes of a fleet tell each other, through files
 * in fleet.state-dir, a directory they share (NFS, or kept in step by
 * configuration management); there is no protocol of their own.  Node N
 * writes only its own two files, each replaced whole (a temporary file
 * renamed over it), and reads the others' when they change (a stat of each
 * once a second):
 *
 *   node-N.revoked  sessions ended for good on N (the client logged out,
 *                   tunnelctl disconnect, the user was changed, its time
 *                   ran out: reconnect-timeout, lifetimes): every node
 *                   refuses their cookies until the cookies expire, and one
 *                   that holds such a session ends it.
 *   node-N.claims   sessions N re-created from a cookie and the address each
 *                   holds: no other node hands that address to a new login,
 *                   and one that still holds such a session idle (it moved)
 *                   lets it go.
 *
 * Lines are "SID EXPIRES" and "SID EXPIRES IPV4 IPV6" (16 hex digits, Unix
 * time, addresses or "-"); '#' starts a comment.  Owns the sets read from
 * the others' files, this node's own lists, and the addresses it keeps
 * taken for the others' claims. */
#ifndef TUNNELD_FLEET_H
#define TUNNELD_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/config.h"

struct sess_table;
struct session;

/* The default of fleet.state-dir. */
#define FLEET_STATE_DIR LOCALSTATEDIR "/lib/tunneld/fleet"

/* Start on cfg (read at each use: a reload applies) and the session table
 * whose pool takes the others' claimed addresses; this node's own revoked
 * list of an earlier run is read back.  0, or -ENOMEM. */
int fleet_open(const struct cfg *cfg, struct sess_table *t);
void fleet_close(void);
/* This node's files written now if they changed (the master, on its way
 * out): a revocation of the last second outlives a restart too. */
void fleet_flush(void);

/* s ended here: its cookie is refused here until it expires, unless
 * another node now holds the session; on every node (fleet_revoke) when
 * its time ran out (end_cause).  Its claim, if any, is withdrawn. */
void fleet_ended(const struct session *s);
/* s ends for good: refused on every node (node-N.revoked). */
void fleet_revoke(const struct session *s);
/* A session this node does not hold, named by its sid (a RADIUS
 * Disconnect-Request on any node of a fleet): its revocation is published
 * as if it ended here, so the node that holds it ends it within a second
 * and every node refuses its cookie.  False without a fleet (fleet.nodes
 * 1) or for a sid no node of it could have made. */
bool fleet_revoke_elsewhere(uint64_t sid, time_t now);
/* s was re-created here from its cookie: published in node-N.claims. */
void fleet_claim(const struct session *s);

/* Lease idx, kept taken for another node's claim of session sid, is given
 * back to the pool: the session came here (sess_claim may take it).  true
 * when it was so kept. */
bool fleet_unreserve(uint64_t sid, uint32_t idx);

/* Why a cookie of session sid is refused here ("ended here", "revoked on
 * node 2"), or NULL. */
const char *fleet_refused(uint64_t sid, char *buf, size_t len);
/* The node (+ 1) that claims the session, 0 for none. */
unsigned fleet_claimed_by(uint64_t sid);
/* The node (+ 1) that revoked the session, 0 for none. */
unsigned fleet_revoked_by(uint64_t sid);

/* Once a second: this node's files written if they changed, the others'
 * read if theirs did, claimed addresses taken or given back.  True when
 * the others' lists changed: the caller then checks its sessions
 * (fleet_revoked_by, fleet_claimed_by). */
bool fleet_tick(time_t now);

/* Where the files are: fleet.state-dir or its default. */
const char *fleet_dir(void);

#endif
