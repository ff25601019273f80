/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): what RADIUS means for a session that logged in through
 * it.  Owns struct radius_sess (session->rad): the grant (address, routes,
 * Class, timeouts), the accounting state and its clock.  auth.c calls in
 * at each step of the session's life; accounting records go to acct.c.
 *
 *   login (radsess_grant) -> first CONNECT (radsess_connected: Start)
 *   -> every interim interval (radsess_due: Interim-Update)
 *   -> end, whatever ends it (radsess_end, the table's on_end: Stop)
 *
 * Session-Timeout counts from the login (the session's created, which a
 * reconnect keeps), Idle-Timeout from the last packet the client sent (as
 * the tunnel's counters report it, every 10 s); a CoA-Request's
 * Session-Timeout counts from the CoA. */
#ifndef TUNNELD_RADSESS_H
#define TUNNELD_RADSESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/ipc.h"
#include "common/pool.h"
#include "common/ticket.h"
#include "conf/config.h"
#include "daemon/radattr.h"

struct session;
struct hash_done;

struct radius_sess {
	struct radius_grant g; /* as granted, updated by CoA */
	uint32_t nas_port;
	uint8_t acct;	     /* enum acct_state */
	time_t deadline;     /* Session-Timeout: the session ends then; 0: never */
	time_t next_interim; /* 0: none due */
	uint32_t interim;    /* s between Interim-Updates, 0: none */
	time_t active_at;    /* the client's last packet (or the CONNECT) */
};

/* The live config (accounting, interim keys) and the pools' geometry
 * (the addresses of a lease). */
void radsess_use(const struct cfg *cfg, const struct pool_geom *geom);

/* A RADIUS login d succeeded and s was made for it: attach the grant,
 * the address it names (s->want_lease), the groups of its Class.  0, or
 * -1 with the reason logged (an address outside the pools or held by
 * another session): the caller ends s and refuses the login. */
int radsess_grant(struct session *s, const struct hash_done *d, const struct pool *pool);

/* The tunnel is up (each CONNECT): the first one sends Start. */
void radsess_connected(struct session *s, time_t now);
/* What the CONNECT answer tells the worker for s: routes, timeouts. */
void radsess_connect_resp(const struct session *s, struct ipc_msg *r, time_t now);
/* The shortest Idle-Timeout applied (s): the workers report a tunnel's
 * traffic every 10 s (worker/tunnel.c), so a shorter one would end
 * sessions that are busy. */
#define RADSESS_IDLE_MIN 15

/* Counters came for s: traffic from the client resets its idle clock. */
void radsess_traffic(struct session *s, const struct sess_counters *c, time_t now);
/* Once a second for each session: an Interim-Update when one is due;
 * why s must end now (Session-Timeout, Idle-Timeout, with s->end_cause
 * set), or NULL. */
const char *radsess_due(struct session *s, time_t now);
/* The session ends (sess_table.on_end): Stop, once, if Start went. */
void radsess_end(struct session *s, const char *why);
/* The grant of s for its cookie (common/ticket.h, version 2): false when
 * s has none (not a RADIUS login) or it does not fit a cookie
 * (ticket_rad_fits: too many routes or too much Class). */
bool radsess_ticket(const struct session *s, struct ticket_rad *out);
/* s was re-created from a cookie that carried tr (resume.c): attach the
 * grant, with nas_port, as at its login; its first CONNECT here sends
 * Start under the same Acct-Session-Id, and Session-Time counts from the
 * login (s->created).  0, or -1 with the reason logged (a grant out of
 * range). */
int radsess_resume(struct session *s, const struct ticket_rad *tr, uint32_t nas_port);
/* A CoA-Request's grant for s: Session-Timeout (from now), Idle-Timeout,
 * Acct-Interim-Interval, Class (and so the groups). */
void radsess_coa(struct session *s, const struct radius_grant *g, time_t now);

#endif
