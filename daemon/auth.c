/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): login and session answers (see auth.h).  Owns the session
 * table, the password db and the shared owner[lease] map.  Password checks
 * run in the hashing processes (hashpool.c), off the master's loop and
 * every worker's; the login dialogue is logins.c's, a login that passed
 * becomes a session in grant.c; the rules of a CONNECT (limits.max-clients,
 * one tunnel per session, the address pool) live in this file only. */
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
#include "daemon/fleetcoa.h"
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

#define BAD_COOKIE_LINES 5 /* lines a second about CONNECTs with unknown cookies */

static const struct cfg *cfg; /* the live config (master.c) */
static struct sess_table sess;
static struct passwd_db *users;
static struct owner_map owner; /* owner[lease] = worker slot + 1; workers read it */
static int steer_fd = -1;      /* BPF map lease -> TUN queue (slots.c), -1 if none */
static bool draining;	       /* stop or drain: no new logins or tunnels */

int auth_load_users(const char *path)
{
	char err[CFG_ERR_LEN];

	/* Logins through RADIUS: no password file, an empty db. */
	if (!path ? passwd_db_parse("", 0, "(none)", &users, err, sizeof(err)) < 0
		  : passwd_db_load(path, &users, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	if (passwd_db_warning(users))
		log_warn("%s: %s", path, passwd_db_warning(users));
	return 0;
}

void auth_swap_users(struct passwd_db **pw)
{
	struct passwd_db *old = users;

	users = *pw;
	*pw = old;
}

size_t auth_user_count(void)
{
	return passwd_db_count(users);
}

const struct passwd_db *auth_users(void)
{
	return users;
}

int auth_open(const struct cfg *c)
{
	int r;

	cfg = c;
	r = owner_map_open(&owner, POOL_MAX_SIZE);
	if (r < 0) {
		log_errno(r, "the shared owner map (memfd, sealed)");
		return -1;
	}
	if ((r = sess_table_init(&sess, cfg, owner.rw)) < 0) {
		log_err("cannot set up the address pools%s",
			r == -ERANGE ? ": this node's slice of them (fleet.nodes, session.node-id) "
				       "holds no address"
				     : "");
		return -1;
	}
	sess.ended = fleet_ended; /* its cookie is refused here from then on */
	if (fleet_open(cfg, &sess) < 0) {
		log_err("fleet: out of memory");
		return -1;
	}
	fleetcoa_open(cfg, time(NULL));
	mpolicy_carve(&sess, cfg);
	sess.on_end = radsess_end; /* RADIUS accounting's Stop */
	radsess_use(cfg, &sess.pool.g);
	return 0;
}

void auth_close(void)
{
	fleet_flush();
	fleet_close();
	fleetcoa_close();
	sess_table_free(&sess);
	passwd_db_free(users);
	users = NULL;
	owner_map_close(&owner);
}

const uint8_t *auth_owner_view(void)
{
	return owner.ro;
}

void auth_forget(void)
{
	fleet_close();
	fleetcoa_close();
	cookies_forget();
	sess_table_free(&sess);
	passwd_db_free(users);
	users = NULL;
}

void auth_forget_sessions(void)
{
	fleet_close();
	fleetcoa_close();
	cookies_forget();
	sess_table_free(&sess);
	owner_map_close(&owner); /* only the read-only view came with the fork */
}

void auth_use_steering(int map_fd)
{
	steer_fd = map_fd;
}

void auth_stop_logins(void)
{
	draining = true;
}

bool auth_draining(void)
{
	return draining;
}

const struct cfg *auth_config(void)
{
	return cfg;
}

struct sess_table *auth_sessions(void)
{
	return &sess;
}

struct ban_policy auth_ban_policy(void)
{
	struct ban_policy p = {cfg->ban_failures, cfg->ban_window, cfg->ban_time};

	return p;
}

/* A failure that started a ban (b not NULL) is logged once. */
void auth_log_ban(const struct ban *b, const struct ban_policy *pol)
{
	if (!b)
		return;
	metrics_ban();
	if (b->shared)
		log_warn("%s banned for %u s after %u failed logins in %u s (auth.ban-*)", b->addr,
			 pol->time, pol->failures, pol->window);
	else
		log_warn("%s banned for %u s after %u failed logins in %u s (auth.ban-*), on "
			 "worker %u only until another worker reports a failure from it",
			 b->addr, pol->time, pol->failures, pol->window, b->worker);
}

/* CONNECTs with a cookie that names no session: lines written and kept
 * quiet in the current second (rate-limited like a worker's log). */
static struct {
	time_t window;
	unsigned lines;
	unsigned long quiet;
	char last[64];
} badck;

/* One line for what the rate limit kept quiet since the last one. */
static void bad_cookie_summary(time_t now)
{
	if (badck.quiet)
		log_warn("%lu more CONNECT(s) with an unknown or expired cookie refused in %ld s, "
			 "the last from %s (a line each for at most %d a second, none for a "
			 "banned address)",
			 badck.quiet, (long)(now - badck.window), badck.last, BAD_COOKIE_LINES);
	badck.window = now;
	badck.lines = 0;
	badck.quiet = 0;
}

/* A CONNECT with a cookie nobody was given counts towards its address's
 * ban like a failed login (guessing cookies is guessing passwords), and
 * writes a line only within the rate limit, and none for an address
 * already banned: a flood of them is not a flood of lines. */
static void bad_cookie(unsigned w, const char *peer, const char *detail)
{
	struct ban_policy pol = auth_ban_policy();
	time_t now = time(NULL);
	char addr[BAN_ADDR_LEN];
	bool banned;

	ban_addr_of_peer(peer, cfg->ipv6_prefix, addr);
	banned = ban_left(addr, now, w) > 0;
	auth_log_ban(ban_fail(addr, now, &pol, w), &pol);
	if (now != badck.window)
		bad_cookie_summary(now);
	if (!banned && ++badck.lines <= BAD_COOKIE_LINES) {
		log_warn("CONNECT from %s refused: unknown or expired cookie%s%s", peer,
			 detail ? ": " : "", detail ? detail : "");
		return;
	}
	badck.quiet++;
	snprintf(badck.last, sizeof(badck.last), "%s", peer);
}

/* End s for why: its cookie is refused at once, here and (publish) on
 * every node of the fleet (fleet.h), so no CONNECT can use it any more; a
 * live tunnel gets a DISCONNECT (the client does not come back) and the
 * session ends when the worker reports the tunnel closed; without one it
 * ends now.  May free the slot of s. */
static void end_for_good(struct session *s, const char *why, bool publish)
{
	if (publish)
		fleet_revoke(s);
	if (s->worker >= 0 && wchan_up((unsigned)s->worker)) {
		struct ipc_msg m = {.type = IPC_DISCONNECT, .ref = s->ref};
		m.u.kick.sess_id = sess_id(&sess, s);
		s->revoked = why;
		wchan_send((unsigned)s->worker, &m);
		return;
	}
	sess_end(&sess, s, why);
}

static void revoke(struct session *s, const char *why)
{
	end_for_good(s, why, true);
}

/* Why s may no longer be used (its user is gone, locked, or has a new
 * password since the login), or NULL. */
static const char *revocation(const struct session *s)
{
	uint64_t stamp;

	/* PAM, certificates and RADIUS answer at login only (a Disconnect-
	 * Request says no to RADIUS); so does a session re-created from a
	 * cookie without a password-file stamp. */
	if (s->rad || s->backend != SESS_BK_PASSWD || !s->have_stamp)
		return NULL;
	switch (passwd_db_user(users, s->user, &stamp)) {
	case PW_OK:
		return stamp == s->stamp ? NULL : "the user's password changed";
	case PW_UNKNOWN_USER:
		return "the user was removed";
	case PW_LOCKED:
		return "the user was locked";
	default:
		return "the user's hash is refused";
	}
}

/* Revoked sessions whose tunnel is gone end now (a worker died). */
static void end_revoked_idle(void)
{
	for (uint32_t i = 0; i < sess.cap; i++)
		if (sess.s[i].used && sess.s[i].revoked && sess.s[i].worker < 0)
			sess_end(&sess, &sess.s[i], sess.s[i].revoked);
}

/* A CONNECT refused with an HTTP status and a reason for the client. */
static void connect_refuse(unsigned w, struct ipc_msg *r, int status, const char *why)
{
	r->u.connect_resp.status = status;
	snprintf(r->u.connect_resp.reason, sizeof(r->u.connect_resp.reason), "%s", why);
	wchan_send(w, r);
}

/* The tunnel's channel is gone with it: its peer no longer steers here. */
static void dtls_gone(struct session *s)
{
	if (s->dtls_steered && s->worker >= 0)
		udp_peer((unsigned)s->worker, &s->dtls_peer, false);
	if (s->dtls_hs_steered && s->worker >= 0)
		udp_peer((unsigned)s->worker, &s->dtls_hs_peer, false);
	s->dtls_up = s->dtls_steered = s->dtls_hs_steered = false;
}

/* One live tunnel per session: the newest wins (a client that reconnects
 * before we noticed its old TCP died). */
static void replace_tunnel(struct session *s)
{
	struct ipc_msg k = {.type = IPC_KICK, .ref = s->ref};

	k.u.kick.sess_id = sess_id(&sess, s);
	log_info("session %u: replacing its tunnel on worker %d", s->serial, s->worker);
	wchan_send((unsigned)s->worker, &k);
	/* Its last counters (IPC_CLOSED) still count. */
	s->kicked_worker = s->worker;
	s->kicked_ref = s->ref;
	dtls_gone(s);
	sess_unbind(&sess, s);
}

/* The session a CONNECT's cookie names (resume.c); NULL when the cookie is
 * refused (answered with a 401). */
static struct session *session_of(unsigned w, struct ipc_msg *m, struct ipc_msg *r)
{
	const char *why;
	struct session *s;

	s = resume_find(&sess, users, m->u.connect_req.cookie, m->u.connect_req.cookie_len,
			m->u.connect_req.peer, &why);
	if (!s) {
		bad_cookie(w, m->u.connect_req.peer, *why ? why : NULL);
		connect_refuse(w, r, 401, "Cookie is not valid");
	} else if (!s->group[0] && s->groups[0]) { /* re-created: its group here */
		char groups[SESS_GROUPS_MAX];

		memcpy(groups, s->groups, sizeof(groups));
		mpolicy_assign(s, cfg, groups);
	}
	return s;
}

/* The banner shown after login: its group's, else the top level's. */
static const char *banner_of(const struct session *s)
{
	const struct cfg_group *g = s->group[0] ? cfg_group_find(cfg, s->group) : NULL;

	return g && g->banner[0] ? g->banner : cfg->banner ? cfg->banner : "";
}

void auth_connect(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_CONNECT_RESP, .ref = m->ref};
	const char *why;
	struct session *s;
	bool again;
	int rc;

	m->u.connect_req.peer[sizeof(m->u.connect_req.peer) - 1] = 0;
	s = session_of(w, m, &r);
	explicit_bzero(m->u.connect_req.cookie, sizeof(m->u.connect_req.cookie));
	if (!s)
		return;
	/* The user is checked again at every CONNECT, reloads or not. */
	if ((why = revocation(s)) != NULL) {
		log_info("session %u: CONNECT from %s refused and session ended: %s", s->serial,
			 m->u.connect_req.peer, why);
		s->end_cause = SESS_END_ADMIN_RESET;
		revoke(s, why);
		connect_refuse(w, &r, 401, "Cookie is not valid");
		return;
	}
	/* Nor does a reconnect outlive the session's lifetimes. */
	if ((why = mpolicy_expired(s, cfg, time(NULL), &s->end_cause)) != NULL) {
		log_info("session %u: CONNECT from %s refused and session ended: %s", s->serial,
			 m->u.connect_req.peer, why);
		revoke(s, why);
		connect_refuse(w, &r, 401, "Cookie is not valid");
		return;
	}
	if (draining) {
		connect_refuse(w, &r, 503, "The server is draining: reconnect to another");
		return;
	}
	if (s->worker < 0 && sess.tunnels >= cfg->max_clients) {
		log_warn("session %u: CONNECT from %s refused: %u tunnels up (limits.max-clients)",
			 s->serial, m->u.connect_req.peer, cfg->max_clients);
		connect_refuse(w, &r, 503, "Server full (limits.max-clients)");
		return;
	}
	if (s->worker >= 0)
		replace_tunnel(s);
	again = s->lease >= 0;
	mpolicy_lease_range(s, cfg, &sess.pool.g);
	rc = sess_bind(&sess, s, (int)w, m->ref);
	if (rc == -EBUSY) {
		log_err("session %u: user '%s' from %s refused: the address RADIUS gave is held by "
			"another session",
			s->serial, s->user, m->u.connect_req.peer);
		connect_refuse(w, &r, 503, "Your address is in use");
		return;
	}
	if (rc < 0) {
		log_err("session %u: user '%s' from %s refused: address pool exhausted (%u leases "
			"in use)",
			s->serial, s->user, m->u.connect_req.peer, sess.pool.used);
		connect_refuse(w, &r, 503, "No free address in the pool");
		return;
	}
	if (again)
		metrics_reconnect();
	if (steer_fd >= 0 && (rc = steer_set(steer_fd, (uint32_t)s->lease, w)) < 0)
		log_warn("session %u: steering map update failed: %s", s->serial, strerror(-rc));
	r.u.connect_resp.status = 200;
	r.u.connect_resp.sess_id = sess_id(&sess, s);
	r.u.connect_resp.lease = (uint32_t)s->lease;
	snprintf(r.u.connect_resp.user, sizeof(r.u.connect_resp.user), "%s", s->user);
	snprintf(r.u.connect_resp.group, sizeof(r.u.connect_resp.group), "%s", s->group);
	r.u.connect_resp.created = s->created;
	r.u.connect_resp.last_active = s->last_active;
	radsess_connected(s, time(NULL));
	radsess_connect_resp(s, &r, time(NULL));
	snprintf(r.u.connect_resp.banner, sizeof(r.u.connect_resp.banner), "%s", banner_of(s));
	log_info("session %u: tunnel up for '%s' from %s on worker %u, lease %lld", s->serial,
		 s->user, m->u.connect_req.peer, w, (long long)s->lease);
	wchan_send(w, &r);
}

static bool same_ref(struct ipc_ref a, struct ipc_ref b)
{
	return a.slot == b.slot && a.gen == b.gen;
}

/* Whether worker w's connection ref holds (or, replaced, held) the tunnel
 * of s.  A worker's word about a session counts only then: sess_id is
 * guessable, so a taken-over worker must not add to other users'
 * counters or end their tunnels. */
static bool holds(const struct session *s, unsigned w, struct ipc_ref ref, bool *kicked)
{
	*kicked = s->kicked_worker == (int)w && same_ref(s->kicked_ref, ref);
	return *kicked || (s->worker == (int)w && same_ref(s->ref, ref));
}

void auth_closed(unsigned w, struct ipc_msg *m)
{
	struct session *s = sess_by_id(&sess, m->u.closed.sess_id);
	bool kicked;

	if (!s || !holds(s, w, m->ref, &kicked))
		return;
	m->u.closed.reason[sizeof(m->u.closed.reason) - 1] = 0;
	sess_add_counters(s, &m->u.closed.ctr);
	metrics_traffic(&m->u.closed.ctr);
	mpolicy_active(s, m->u.closed.last_active, time(NULL));
	radsess_traffic(s, &m->u.closed.ctr, time(NULL));
	if (kicked) {
		s->kicked_worker = -1; /* the replaced tunnel's last words */
		return;
	}
	dtls_gone(s);
	if (s->revoked || m->u.closed.end_session) {
		/* A goodbye (0xb0) ends the session on every node. */
		if (!s->revoked)
			fleet_revoke(s);
		if (!s->end_cause)
			s->end_cause = SESS_END_USER_REQUEST;
		sess_end(&sess, s, s->revoked ? s->revoked : m->u.closed.reason);
		return;
	}
	log_info("session %u: tunnel closed (%s); kept %u s for a reconnect", s->serial,
		 m->u.closed.reason, cfg->reconnect_timeout);
	sess_unbind(&sess, s);
}

/* IPC_STATS travels in u.closed (counters only). */
void auth_stats(unsigned w, struct ipc_msg *m)
{
	struct session *s = sess_by_id(&sess, m->u.closed.sess_id);
	bool kicked;

	if (s && holds(s, w, m->ref, &kicked)) {
		sess_add_counters(s, &m->u.closed.ctr);
		metrics_traffic(&m->u.closed.ctr);
		mpolicy_active(s, m->u.closed.last_active, time(NULL));
		radsess_traffic(s, &m->u.closed.ctr, time(NULL));
	}
}

static bool peer_same(const struct ipc_peer *a, const struct ipc_peer *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

/* Steer p to w, or stop (both the address-and-port entry only). */
static void steer_peer(unsigned w, const struct ipc_peer *p, bool *steered, bool on)
{
	if (on || *steered)
		udp_peer(w, p, on);
	*steered = on;
}

/* The session notes the channel; the steering map its peers: the
 * channel's, and a new handshake's from the moment it starts, so that the
 * rest of the handshake reaches the worker its ClientHello reached.  Only
 * the worker holding the tunnel speaks for its channel. */
void auth_dtls(unsigned w, struct ipc_msg *m)
{
	struct session *s = sess_by_id(&sess, m->u.dtls.sess_id);
	const struct ipc_peer *p = &m->u.dtls.peer;

	if (!s || s->worker != (int)w || s->ref.slot != m->ref.slot || s->ref.gen != m->ref.gen)
		return;
	if (m->u.dtls.up == 2) {
		if (s->dtls_hs_steered && !peer_same(&s->dtls_hs_peer, p))
			steer_peer(w, &s->dtls_hs_peer, &s->dtls_hs_steered, false);
		s->dtls_hs_peer = *p;
		steer_peer(w, p, &s->dtls_hs_steered, true);
		return;
	}
	if (s->dtls_steered && !(m->u.dtls.up && peer_same(&s->dtls_peer, p)))
		steer_peer(w, &s->dtls_peer, &s->dtls_steered, false);
	if (s->dtls_hs_steered && !(m->u.dtls.up && peer_same(&s->dtls_hs_peer, p)))
		steer_peer(w, &s->dtls_hs_peer, &s->dtls_hs_steered, false);
	s->dtls_hs_steered = false;
	s->dtls_peer = *p;
	if (m->u.dtls.up)
		steer_peer(w, p, &s->dtls_steered, true);
	s->dtls_up = m->u.dtls.up == 1;
	s->dtls_was_up = s->dtls_up;
	memcpy(s->dtls_cipher, m->u.dtls.cipher, sizeof(s->dtls_cipher));
	s->dtls_cipher[sizeof(s->dtls_cipher) - 1] = 0;
}

void auth_worker_gone(unsigned w)
{
	for (uint32_t i = 0; i < sess.cap; i++)
		if (sess.s[i].used && sess.s[i].worker == (int)w)
			dtls_gone(&sess.s[i]);
	hashpool_drop_worker(w);
	sess_unbind_worker(&sess, (int)w);
	end_revoked_idle();
}

int auth_disconnect(struct session *s)
{
	log_info("session %u: disconnect requested by the administrator", s->serial);
	s->end_cause = SESS_END_ADMIN_RESET;
	revoke(s, "disconnected by administrator");
	return 0;
}

void auth_end(struct session *s, const char *why, uint8_t cause)
{
	s->end_cause = cause;
	revoke(s, why);
}

void auth_end_all(const char *why, uint8_t cause)
{
	for (uint32_t i = 0; i < sess.cap; i++)
		if (sess.s[i].used) {
			if (!sess.s[i].end_cause)
				sess.s[i].end_cause = cause;
			sess_end(&sess, &sess.s[i], sess.s[i].revoked ? sess.s[i].revoked : why);
		}
}

unsigned auth_revoke_changed(void)
{
	unsigned n = 0;
	const char *why;

	for (uint32_t i = 0; i < sess.cap; i++) {
		struct session *s = &sess.s[i];
		if (!s->used || s->revoked || !(why = revocation(s)))
			continue;
		log_info("session %u of user '%s' ends: %s", s->serial, s->user, why);
		s->end_cause = SESS_END_ADMIN_RESET;
		revoke(s, why); /* may free the slot, which the scan does not read again */
		n++;
	}
	return n;
}

/* Sessions waiting for a reconnect past their lifetimes end now (a
 * tunnel's worker ends its own). */
static void end_expired_idle(time_t now)
{
	const char *why;

	for (uint32_t i = 0; i < sess.cap; i++)
		if (sess.s[i].used && sess.s[i].worker < 0 && !sess.s[i].revoked &&
		    (why = mpolicy_expired(&sess.s[i], cfg, now, &sess.s[i].end_cause)) != NULL)
			sess_end(&sess, &sess.s[i], why);
}

void auth_reconfigure(void)
{
	mpolicy_carve(&sess, cfg);
}

/* The other nodes' lists changed: a session one of them ended ends here
 * too; one that another now holds, and that waits idle here, moved away
 * and is let go (its cookie stays good: it is in use there). */
static void follow_fleet(void)
{
	char why[64];
	unsigned node;

	for (uint32_t i = 0; i < sess.cap; i++) {
		struct session *s = &sess.s[i];

		if (!s->used || s->revoked)
			continue;
		if ((node = fleet_revoked_by(s->sid)) != 0) {
			snprintf(why, sizeof(why), "ended on node %u", node - 1);
			log_info("session %u of user '%s' ends: %s", s->serial, s->user, why);
			/* a string literal is kept, not why: */
			end_for_good(s, "ended on another node", false);
		} else if ((node = fleet_claimed_by(s->sid)) != 0 && s->worker < 0) {
			snprintf(why, sizeof(why), "moved to node %u", node - 1);
			sess_end(&sess, s, why);
		}
	}
}

/* A CoA-Request another node got for session sid, at (fleetcoa.h). */
static void coa_from_fleet(uint64_t sid, const struct radius_grant *g, time_t at, unsigned node)
{
	struct session *s = sess_by_sid(&sess, sid);

	if (!s || !s->rad || s->revoked)
		return;
	log_info("session %u (%016llx) of '%s': a CoA-Request that node %u got", s->serial,
		 (unsigned long long)sid, s->user, node);
	radsess_coa(s, g, at);
}

void auth_tick(time_t now)
{
	const char *why;

	if (fleet_tick(now))
		follow_fleet();
	fleetcoa_tick(now, coa_from_fleet);
	for (uint32_t i = 0; i < sess.cap; i++)
		if (sess.s[i].used && sess.s[i].rad && !sess.s[i].revoked &&
		    (why = radsess_due(&sess.s[i], now)) != NULL) {
			log_info("session %u of user '%s' ends: %s", sess.s[i].serial,
				 sess.s[i].user, why);
			revoke(&sess.s[i], why); /* may free the slot */
		}
	end_revoked_idle(); /* a backstop: auth_worker_gone does it at once */
	end_expired_idle(now);
	if (badck.quiet && now != badck.window)
		bad_cookie_summary(now);
	sess_expire(&sess, now, cfg->reconnect_timeout);
	if (now % 16 == 0) {
		struct ban_policy pol = auth_ban_policy();
		ban_expire(now, &pol);
	}
}
