/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS CoA-Requests for sessions another node of the
 * fleet holds, passed on through fleet.state-dir like the revocations of
 * fleet.h (no protocol of its own).  A node that gets a CoA-Request naming
 * by Acct-Session-Id a session it does not hold publishes it in its file
 *
 *   node-N.coa   "ID SID AT HAVE SESSION-TIMEOUT IDLE-TIMEOUT INTERIM CLASS"
 *                (ID: increasing on N; SID: 16 hex digits; AT: the request's
 *                Unix time; the grant's RG_* bits and values; CLASS: the
 *                Class values in hex, "-" for none)
 *
 * for FLEETCOA_KEEP seconds; every node reads the others' files once a
 * second and applies each request it has not applied yet to the session
 * it holds, timed from AT (a Session-Timeout of 60 ends the session 60 s
 * after the request, wherever it is).  Owns this node's pending requests
 * and, per other node, the last request applied. */
#ifndef TUNNELD_FLEETCOA_H
#define TUNNELD_FLEETCOA_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/config.h"
#include "daemon/radattr.h"

#define FLEETCOA_KEEP 30 /* s a request stays in the file */

/* Start on cfg (read at each use).  Requests of the others older than now
 * are not applied: they were meant for an earlier run. */
void fleetcoa_open(const struct cfg *cfg, time_t now);
void fleetcoa_close(void);

/* Publish a CoA-Request's grant g for session sid, which this node does
 * not hold.  False without a fleet (fleet.nodes 1), for a sid no node of
 * it could have made, or out of memory (logged). */
bool fleetcoa_publish(uint64_t sid, const struct radius_grant *g, time_t now);

/* Once a second: this node's file written if it changed or a request
 * expired; the others' read if they changed, and each request not applied
 * yet goes to apply (which finds the session, if held here). */
void fleetcoa_tick(time_t now, void (*apply)(uint64_t sid, const struct radius_grant *g, time_t at,
					     unsigned node));

/* One line of a node-N.coa file (no newline) into its parts: 0, or -1
 * when malformed.  (Public for the unit test.) */
int fleetcoa_parse_line(const char *line, uint64_t *id, uint64_t *sid, int64_t *at,
			struct radius_grant *g);
/* The line of a request (NUL-terminated, no newline) into buf: its
 * length, or -1 when it does not fit. */
int fleetcoa_format_line(char *buf, size_t cap, uint64_t id, uint64_t sid, int64_t at,
			 const struct radius_grant *g);

#endif
