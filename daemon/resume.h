/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): sessions and their sealed cookies (common/ticket.h).  What
 * a session's cookie says, and a session re-created from a cookie that
 * another node gave out (or this one, before a restart): same sid, same
 * start, same user and groups, same addresses.  Owns nothing: it works on
 * the session table and password db auth.c hands it. */
#ifndef TUNNELD_RESUME_H
#define TUNNELD_RESUME_H

#include "common/ticket.h"

struct passwd_db;
struct sess_table;
struct session;

/* The ticket of s (its lease's addresses in t's pools). */
void resume_ticket_of(const struct sess_table *t, const struct session *s, struct ticket *tk);

/* A new session's address (from this node's slice of the pools; none when
 * it is exhausted: its CONNECT tries again), the user's stamp, the
 * cookie's expiry (lifetime seconds from now) and the cookie, sealed
 * (cookies.h), which carries all that: 0, or -errno. */
int resume_seal(struct sess_table *t, struct session *s, uint64_t stamp, unsigned lifetime,
		char text[TICKET_MAX_TEXT_LEN + 1]);

/* The session of a CONNECT's cookie tok (len bytes): held in t, or re-created (below)
 * when another node (or this one before a restart) gave it out.  NULL when
 * the cookie is refused, with *why: "" when it does not open (forged,
 * tampered, a key not held), else the reason (expired, revoked, cannot be
 * re-created); logged here when a re-creation is tried. */
struct session *resume_find(struct sess_table *t, const struct passwd_db *users, const uint8_t *tok,
			    size_t len, const char *peer, const char **why);

/* Re-create the session of an opened, unexpired, unrevoked ticket that t
 * does not hold, for a client at peer: the user is checked against users
 * (when the ticket has a stamp: present, not locked, the same hash), the
 * addresses must lie in t's pools and be free here (not held by another
 * session); the claim is published (fleet.h).  The session, or NULL with
 * the reason in *why (for the log). */
struct session *resume_session(struct sess_table *t, const struct passwd_db *users,
			       const struct ticket *tk, const char *peer, const char **why);

#endif
