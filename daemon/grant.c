/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): a login that passed becomes a session (auth_grant, from
 * daemon/logins.c): the rules of its start (a stopping server, the user's
 * session cap), its sid and what RADIUS granted, its group and the lease
 * sealed in its cookie, its login line.  The table, the db and the config
 * are auth.c's. */
#include "config.h"
#include "daemon/auth.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/passwd.h"
#include "daemon/hashpool.h"
#include "daemon/metrics.h"
#include "daemon/policy.h"
#include "daemon/radsess.h"
#include "daemon/resume.h"
#include "daemon/sessions.h"
#include "daemon/wchan.h"

/* A login refused for a reason the user should read (not a bad password). */
static void refuse(unsigned w, struct ipc_msg *r, const char *why)
{
	r->u.auth_resp.result = -1;
	snprintf(r->u.auth_resp.reason, sizeof(r->u.auth_resp.reason), "%s", why);
	wchan_send(w, r);
}

/* The session's group: its user's groups choose one the config defines,
 * unless the login form picked one (auth.group-select: the dialogue saw
 * that the user is in it); then the group's pool for its lease. */
static void assign_group(struct session *s, const struct auth_login *g)
{
	const struct cfg *cfg = auth_config();
	char groups[SESS_GROUPS_MAX];

	snprintf(groups, sizeof(groups), "%s",
		 s->rad				? s->groups
		 : g->groups && g->groups[0]	? g->groups
		 : g->backend == SESS_BK_PASSWD ? passwd_db_groups(auth_users(), g->user)
						: "");
	mpolicy_assign(s, cfg, groups);
	if (g->group && g->group[0])
		snprintf(s->group, sizeof(s->group), "%s", g->group);
	mpolicy_lease_range(s, cfg, &auth_sessions()->pool.g);
}

/* A new session for g: with RADIUS it takes the sid its Access-Request
 * named (Acct-Session-Id) and what the Access-Accept granted.  NULL when
 * refused (answered in r). */
static struct session *new_session(unsigned w, const struct auth_login *g, struct ipc_msg *r)
{
	const struct hash_done *d = g->done;
	struct session *s;

	s = d && d->grant ? sess_create_sid(auth_sessions(), g->user, g->peer, d->sid)
			  : sess_create(auth_sessions(), g->user, g->peer);
	if (s && d && d->grant && radsess_grant(s, d, &auth_sessions()->pool) < 0) {
		metrics_login(LOGIN_ERROR, true, d->usec);
		sess_end(auth_sessions(), s, "RADIUS answer refused");
		refuse(w, r, "The login could not be completed: ask your administrator");
		return NULL;
	}
	if (s) {
		s->backend = (uint8_t)g->backend;
		assign_group(s, g);
	}
	return s;
}

/* The login line: how, the user's groups and the session's group (and
 * whether the form picked it); RADIUS's Acct-Session-Id. */
static void log_login(unsigned w, const struct session *s, const struct auth_login *g)
{
	char groups[SESS_GROUPS_MAX + 64] = "", group[SESS_GROUP_MAX + 32] = "";

	if (s->groups[0])
		snprintf(groups, sizeof(groups), ", groups '%s'", s->groups);
	if (s->group[0])
		snprintf(group, sizeof(group), ", group '%s'%s", s->group,
			 g->group && g->group[0] ? " chosen" : "");
	if (s->rad)
		log_info("session %u: user '%s' logged in from %s (worker %u), RADIUS "
			 "Acct-Session-Id %016llx%s%s",
			 s->serial, s->user, s->peer, w, (unsigned long long)s->sid, groups, group);
	else
		log_info("session %u: user '%s' logged in from %s (worker %u%s%s%s%s)", s->serial,
			 s->user, s->peer, w, g->how ? ", " : "", g->how ? g->how : "", groups,
			 group);
}

/* A login that passed: a session, unless the server stops or its user
 * holds too many already. */
void auth_grant(unsigned w, struct ipc_ref ref, const struct auth_login *g)
{
	const struct cfg *cfg = auth_config();
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = ref};
	uint64_t usec = g->done ? g->done->usec : 0;
	struct session *s;
	uint64_t stamp = 0;
	unsigned held;

	if (auth_draining()) {
		metrics_login(LOGIN_STOPPING, true, usec);
		log_info("login for user '%s' from %s refused: the server is stopping", g->user,
			 g->peer);
		r.u.auth_resp.result = -1;
		wchan_send(w, &r);
		return;
	}
	if (g->backend == SESS_BK_PASSWD &&
	    passwd_db_user(auth_users(), g->user, &stamp) != PW_OK) {
		/* Checked against a db a reload replaced since (a reload runs
		 * checks in progress again: this is a safety net). */
		metrics_login(LOGIN_ERROR, true, usec);
		refuse(w, &r, "The login could not be checked: try again");
		return;
	}
	if (cfg->max_sessions_per_user &&
	    (held = sess_user_count(auth_sessions(), g->user)) >= cfg->max_sessions_per_user) {
		metrics_login(LOGIN_SESSION_LIMIT, true, usec);
		log_warn("login for user '%s' from %s refused: %u sessions held "
			 "(limits.max-sessions-per-user = %u)",
			 g->user, g->peer, held, cfg->max_sessions_per_user);
		refuse(w, &r,
		       "Too many sessions for this user (limits.max-sessions-per-user); log out "
		       "elsewhere first");
		return;
	}
	s = new_session(w, g, &r);
	if (!s && r.u.auth_resp.result == -1)
		return; /* refused, answered */
	metrics_login(s ? LOGIN_OK : LOGIN_ERROR, true, usec);
	if (!s || resume_seal(auth_sessions(), s, stamp, cfg->cookie_lifetime,
			      r.u.auth_resp.cookie) < 0) {
		log_err("login for user '%s' from %s: cannot create a session", g->user, g->peer);
		if (s)
			sess_end(auth_sessions(), s, "no cookie could be sealed");
		r.u.auth_resp.result = -1;
		wchan_send(w, &r);
		return;
	}
	r.u.auth_resp.result = PW_OK;
	r.u.auth_resp.sess_id = sess_id(auth_sessions(), s);
	log_login(w, s, g);
	wchan_send(w, &r);
	explicit_bzero(&r, sizeof(r));
}
