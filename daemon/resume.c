/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): a session's cookie, and a session re-created from one (see
 * resume.h).  Owns nothing between calls. */
#include "config.h"
#include "daemon/resume.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/grouplist.h"
#include "common/log.h"
#include "common/passwd.h"
#include "daemon/cookies.h"
#include "daemon/fleet.h"
#include "daemon/hashpool.h"
#include "daemon/radsess.h"
#include "daemon/sessions.h"

void resume_ticket_of(const struct sess_table *t, const struct session *s, struct ticket *tk)
{
	memset(tk, 0, sizeof(*tk));
	tk->sid = s->sid;
	tk->node = (uint8_t)(s->sid >> 56);
	tk->created = (int64_t)s->created;
	tk->expires = (int64_t)s->expires;
	tk->have_stamp = s->have_stamp;
	tk->stamp = s->have_stamp ? s->stamp : 0;
	if (s->lease >= 0) {
		tk->have4 = t->pool.g.have4;
		tk->have6 = t->pool.g.have6;
		if (tk->have4)
			pool_addr4(&t->pool.g, (uint32_t)s->lease, &tk->v4);
		if (tk->have6)
			pool_addr6(&t->pool.g, (uint32_t)s->lease, &tk->v6);
	}
	snprintf(tk->user, sizeof(tk->user), "%s", s->user);
	/* Its group first: a node that re-creates it chooses the first of
	 * the user's groups it defines, which is then the same group, also
	 * one picked at the login (auth.group-select). */
	grouplist_first(s->groups, s->group, tk->groups, sizeof(tk->groups));
	/* A RADIUS session's grant goes with it: the node that re-creates
	 * it keeps its limits, routes and accounting. */
	tk->have_rad = radsess_ticket(s, &tk->rad);
}

/* Why the ticket's user may not have a session now, or NULL. */
static const char *user_changed(const struct passwd_db *users, const struct ticket *tk)
{
	uint64_t stamp;

	if (!tk->have_stamp)
		return NULL;
	switch (passwd_db_user(users, tk->user, &stamp)) {
	case PW_OK:
		return stamp == tk->stamp ? NULL : "the user's password changed";
	case PW_UNKNOWN_USER:
		return "the user is not in the password file";
	case PW_LOCKED:
		return "the user is locked";
	default:
		return "the user's hash is refused";
	}
}

/* The lease the ticket's addresses name in t's pools: 0 and *idx; -1 when
 * they name none (other pools, or only one family of two). */
static int ticket_lease(const struct sess_table *t, const struct ticket *tk, uint32_t *idx)
{
	const struct pool_geom *g = &t->pool.g;
	int64_t i4 = tk->have4 ? pool_index4(g, tk->v4.s_addr) : -1;
	int64_t i6 = tk->have6 ? pool_index6(g, &tk->v6) : -1;

	if (tk->have4 != g->have4 || tk->have6 != g->have6 || (tk->have4 && i4 < 0) ||
	    (tk->have6 && i6 < 0) || (tk->have4 && tk->have6 && i4 != i6))
		return -1;
	*idx = (uint32_t)(tk->have4 ? i4 : i6);
	return 0;
}

struct session *resume_session(struct sess_table *t, const struct passwd_db *users,
			       const struct ticket *tk, const char *peer, const char **why)
{
	bool addressed = tk->have4 || tk->have6;
	struct session *s;
	uint32_t idx = 0;
	int r;

	if ((*why = user_changed(users, tk)) != NULL)
		return NULL;
	if (addressed && ticket_lease(t, tk, &idx) < 0) {
		*why = "its addresses are not in this node's pools (network.ipv4-pool, "
		       "network.ipv6-pool must be the same on every node)";
		return NULL;
	}
	s = sess_create_sid(t, tk->user, peer, tk->sid);
	if (!s) {
		*why = "no room for a session";
		return NULL;
	}
	s->created = (time_t)tk->created; /* its time goes on, never starts over */
	s->expires = (time_t)tk->expires;
	s->have_stamp = tk->have_stamp;
	s->stamp = tk->stamp;
	snprintf(s->groups, sizeof(s->groups), "%s", tk->groups);
	if (tk->have_rad && radsess_resume(s, &tk->rad, hashpool_nas_port()) < 0) {
		*why = "its RADIUS grant is refused";
		sess_end(t, s, *why);
		return NULL;
	}
	/* A ticket without addresses (the pool was full at login) gets a
	 * lease at its CONNECT, as on the node that made it. */
	r = addressed ? sess_claim(t, s, idx) : 0;
	/* Kept for another node's claim of this very session: it moved here
	 * (that node's claim is stale, or it lets its copy go). */
	if (r == -EBUSY && fleet_unreserve(s->sid, idx))
		r = sess_claim(t, s, idx);
	if (r < 0) {
		*why = "its address is held by another session here: the client must log in "
		       "again";
		sess_end(t, s, *why);
		return NULL;
	}
	fleet_claim(s);
	return s;
}

int resume_seal(struct sess_table *t, struct session *s, uint64_t stamp, unsigned lifetime,
		char text[TICKET_MAX_TEXT_LEN + 1])
{
	struct ticket tk;
	int r;

	s->stamp = stamp;
	s->have_stamp = !s->rad && s->backend == SESS_BK_PASSWD; /* else no password file entry */
	s->expires = s->created + (time_t)lifetime;
	(void)sess_lease(t, s);
	resume_ticket_of(t, s, &tk);
	if (s->rad && !tk.have_rad)
		log_warn("session %u of '%s': its RADIUS grant (%u routes, %u bytes of Class) does "
			 "not fit a cookie: a node that re-creates the session will not have its "
			 "routes, its limits or its accounting",
			 s->serial, s->user, s->rad->g.n_routes, s->rad->g.class_len);
	r = cookies_seal(&tk, text);
	explicit_bzero(&tk, sizeof(tk));
	return r;
}

/* A ticket's own reasons to be refused, before any session is looked up. */
static const char *refused(const struct ticket *tk)
{
	static char buf[64];

	if (ticket_expired(tk, time(NULL)))
		return "the cookie expired (session.cookie-lifetime)";
	return fleet_refused(tk->sid, buf, sizeof(buf));
}

struct session *resume_find(struct sess_table *t, const struct passwd_db *users, const uint8_t *tok,
			    size_t len, const char *peer, const char **why)
{
	struct session *s = NULL;
	struct ticket tk;

	if (cookies_open(tok, len, &tk) < 0) {
		*why = "";
		return NULL;
	}
	if ((*why = refused(&tk)) != NULL) {
		explicit_bzero(&tk, sizeof(tk));
		return NULL;
	}
	s = sess_by_sid(t, tk.sid);
	if (s && strcmp(s->user, tk.user)) {
		s = NULL;
		*why = "the cookie names another user";
	} else if (!s && (s = resume_session(t, users, &tk, peer, why)) != NULL) {
		log_info("session %u: re-created for user '%s' from %s: a cookie of node %u "
			 "(session %016llx, started %lld s ago)",
			 s->serial, s->user, peer, tk.node, (unsigned long long)s->sid,
			 (long long)(time(NULL) - s->created));
	} else if (!s) {
		log_info("CONNECT from %s for user '%s' refused: session %016llx cannot be "
			 "re-created: %s",
			 peer, tk.user, (unsigned long long)tk.sid, *why);
	}
	explicit_bzero(&tk, sizeof(tk));
	return s;
}
