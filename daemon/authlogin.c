/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): logins (see auth.h): the rules before the password (a
 * stopping server, bans, limits.max-pending-logins), the check sent to the
 * hashing processes and its answer: a session and its cookie
 * (limits.max-sessions-per-user) or a refusal.  Owns only its count of
 * password checks; the session table and the password db are auth.c's. */
#include "config.h"
#include "daemon/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/passwd.h"
#include "daemon/bans.h"
#include "daemon/cookies.h"
#include "daemon/fleet.h"
#include "daemon/hashpool.h"
#include "daemon/metrics.h"
#include "daemon/ownermap.h"
#include "daemon/policy.h"
#include "daemon/resume.h"
#include "daemon/radsess.h"
#include "daemon/sessions.h"
#include "daemon/steer.h"
#include "daemon/udp.h"
#include "daemon/wchan.h"

static unsigned long password_checks; /* sent to the hashing processes */

unsigned long auth_password_checks(void)
{
	return password_checks;
}

static unsigned user_sessions(const char *user)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < auth_sessions()->cap; i++)
		n += auth_sessions()->s[i].used && !strcmp(auth_sessions()->s[i].user, user);
	return n;
}

/* A login refused for a reason the user should read (not a bad password). */
static void refuse(unsigned w, struct ipc_msg *r, const char *why)
{
	r->u.auth_resp.result = -1;
	snprintf(r->u.auth_resp.reason, sizeof(r->u.auth_resp.reason), "%s", why);
	wchan_send(w, r);
}

/* Before the password: a auth_logins_stopped() server or a banned address.  True when
 * the login was refused (and answered). */
static bool refused_early(unsigned w, struct ipc_msg *m, struct ipc_msg *r, const char *addr,
			  time_t now)
{
	unsigned left;

	if (auth_logins_stopped()) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		metrics_login(LOGIN_STOPPING, false, 0);
		log_info("login for user '%s' from %s refused: the server is stopping",
			 m->u.auth_req.user, m->u.auth_req.peer);
		r->u.auth_resp.result = -1;
		wchan_send(w, r);
		return true;
	}
	if ((left = ban_left(addr, now, w)) > 0) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		metrics_login(LOGIN_BANNED, false, 0);
		log_warn("login for user '%s' from %s refused: address banned for %u more s",
			 m->u.auth_req.user, m->u.auth_req.peer, left);
		refuse(w, r, "Too many failed logins from your address: banned, try again later");
		return true;
	}
	return false;
}

/* A login refused because the checks are full; a flood must not become a
 * flood of lines: one line a second with a count. */
static void log_busy(unsigned w, int r)
{
	static time_t logged;
	static unsigned long n;
	time_t now = time(NULL);

	n++;
	if (now == logged)
		return;
	logged = now;
	if (r == -EBUSY)
		log_warn("worker %u: %lu login(s) refused: limits.max-pending-logins (%u password "
			 "checks waiting or running for one worker)",
			 w, n, auth_config()->max_pending_logins);
	else
		log_err("worker %u: %lu login(s) refused: %s", w, n, strerror(-r));
	n = 0;
}

void auth_login(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = m->ref};
	char addr[BAN_ADDR_LEN];
	int rc;

	m->u.auth_req.user[sizeof(m->u.auth_req.user) - 1] = 0;
	m->u.auth_req.pass[sizeof(m->u.auth_req.pass) - 1] = 0;
	m->u.auth_req.peer[sizeof(m->u.auth_req.peer) - 1] = 0;
	ban_addr_of_peer(m->u.auth_req.peer, auth_config()->ipv6_prefix, addr);
	if (refused_early(w, m, &r, addr, time(NULL)))
		return;
	/* The hash runs in a hashing process; auth_login_done goes on. */
	rc = hashpool_submit(w, m, auth_config()->max_pending_logins);
	explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
	if (rc == 0) {
		password_checks++;
		return;
	}
	metrics_login(rc == -EBUSY ? LOGIN_BUSY : LOGIN_ERROR, false, 0);
	log_busy(w, rc);
	refuse(w, &r, "Too many logins in progress: try again in a moment");
}

/* A good password: a session, unless its user holds too many already. */
static void grant(const struct hash_done *d, struct ipc_msg *r)
{
	struct session *s;
	uint64_t stamp = 0;
	unsigned held;

	if (!d->grant && passwd_db_user(auth_users(), d->user, &stamp) != PW_OK) {
		/* Checked against a db a reload replaced since (a reload runs
		 * checks in progress again: this is a safety net). */
		metrics_login(LOGIN_ERROR, true, d->usec);
		refuse(d->w, r, "The login could not be checked: try again");
		return;
	}
	if (auth_config()->max_sessions_per_user &&
	    (held = user_sessions(d->user)) >= auth_config()->max_sessions_per_user) {
		metrics_login(LOGIN_SESSION_LIMIT, true, d->usec);
		log_warn("login for user '%s' from %s refused: %u sessions held "
			 "(limits.max-sessions-per-user = %u)",
			 d->user, d->peer, held, auth_config()->max_sessions_per_user);
		refuse(d->w, r,
		       "Too many sessions for this user (limits.max-sessions-per-user); log out "
		       "elsewhere first");
		return;
	}
	/* With RADIUS the session takes the sid its Access-Request named
	 * (Acct-Session-Id), and what the Access-Accept granted. */
	s = d->grant ? sess_create_sid(auth_sessions(), d->user, d->peer, d->sid)
		     : sess_create(auth_sessions(), d->user, d->peer);
	if (s && d->grant && radsess_grant(s, d, &auth_sessions()->pool) < 0) {
		metrics_login(LOGIN_ERROR, true, d->usec);
		sess_end(auth_sessions(), s, "RADIUS answer refused");
		refuse(d->w, r, "The login could not be completed: ask your administrator");
		return;
	}
	if (s) { /* its group, and the group's pool for the lease sealed in */
		char groups[SESS_GROUPS_MAX];

		snprintf(groups, sizeof(groups), "%s",
			 d->grant ? s->groups : passwd_db_groups(auth_users(), d->user));
		mpolicy_assign(s, auth_config(), groups);
		mpolicy_lease_range(s, auth_config(), &auth_sessions()->pool.g);
	}
	metrics_login(s ? LOGIN_OK : LOGIN_ERROR, true, d->usec);
	if (!s || resume_seal(auth_sessions(), s, d->grant ? 0 : stamp,
			      auth_config()->cookie_lifetime, r->u.auth_resp.cookie) < 0) {
		log_err("login for user '%s' from %s: cannot create a session", d->user, d->peer);
		if (s)
			sess_end(auth_sessions(), s, "no cookie could be sealed");
		r->u.auth_resp.result = -1;
		wchan_send(d->w, r);
		return;
	}
	r->u.auth_resp.result = PW_OK;
	r->u.auth_resp.sess_id = sess_id(auth_sessions(), s);
	if (s->rad)
		log_info("session %u: user '%s' logged in from %s (worker %u), RADIUS "
			 "Acct-Session-Id %016llx, groups '%s'%s%s%s",
			 s->serial, s->user, s->peer, d->w, (unsigned long long)s->sid, s->groups,
			 s->group[0] ? ", group '" : "", s->group, s->group[0] ? "'" : "");
	else
		log_info("session %u: user '%s' logged in from %s (worker %u)%s%s%s", s->serial,
			 s->user, s->peer, d->w, s->group[0] ? ", group '" : "", s->group,
			 s->group[0] ? "'" : "");
	wchan_send(d->w, r);
}

/* A failed password check, as /metrics counts it. */
static enum login_result login_result_of(enum passwd_result r)
{
	switch (r) {
	case PW_BAD_PASSWORD:
		return LOGIN_BAD_PASSWORD;
	case PW_UNKNOWN_USER:
		return LOGIN_UNKNOWN_USER;
	case PW_LOCKED:
		return LOGIN_LOCKED;
	case PW_WEAK_HASH:
		return LOGIN_REFUSED_HASH;
	default:
		return LOGIN_ERROR;
	}
}

void auth_login_done(const struct hash_done *d)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = d->ref};
	struct ban_policy pol = auth_ban_policy();
	char addr[BAN_ADDR_LEN];

	if (d->result < 0 || d->result == HASH_NO_ANSWER || d->result == HASH_ERROR) {
		metrics_login(LOGIN_ERROR, false, 0);
		log_err("login for user '%s' from %s: %s", d->user, d->peer,
			d->result < 0 ? "the hashing process died"
			: d->result == HASH_NO_ANSWER
			    ? "no RADIUS server answered (radius.timeout, "
			      "radius.retries)"
			    : "the RADIUS answer was unusable");
		if (!d->cancelled)
			refuse(d->w, &r, "The login could not be checked: try again");
		return;
	}
	if (d->result != PW_OK) {
		/* Counted even when the client left meanwhile: closing the
		 * connection early must not dodge a ban. */
		ban_addr_of_peer(d->peer, auth_config()->ipv6_prefix, addr);
		metrics_login(login_result_of((enum passwd_result)d->result), true, d->usec);
		log_warn("login failed for user '%s' from %s: %s", d->user, d->peer,
			 passwd_result_str((enum passwd_result)d->result));
		auth_log_ban(ban_fail(addr, time(NULL), &pol, d->w), &pol);
		r.u.auth_resp.result = d->result;
		if (!d->cancelled)
			wchan_send(d->w, &r);
		return;
	}
	if (d->cancelled) { /* nobody to give the cookie to */
		metrics_login(LOGIN_CANCELLED, true, d->usec);
		return;
	}
	if (auth_logins_stopped()) {
		metrics_login(LOGIN_STOPPING, true, d->usec);
		log_info("login for user '%s' from %s refused: the server is stopping", d->user,
			 d->peer);
		r.u.auth_resp.result = -1;
		wchan_send(d->w, &r);
		return;
	}
	grant(d, &r);
	explicit_bzero(&r, sizeof(r));
}

void auth_cancel(unsigned w, struct ipc_msg *m)
{
	hashpool_cancel(w, m->ref);
}
