/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): login and session answers (see auth.h).  Owns the session
 * table, the password db and the shared owner[lease] map.  Password checks
 * run here, off every worker's event loop; the rules of a login (bans,
 * limits.max-sessions-per-user) and of a CONNECT (limits.max-clients, one
 * tunnel per session, the address pool) live in this file only. */
#include "config.h"
#include "daemon/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "common/passwd.h"
#include "daemon/bans.h"
#include "daemon/sessions.h"
#include "daemon/steer.h"
#include "daemon/wchan.h"

static const struct cfg *cfg; /* the live config (master.c) */
static struct sess_table sess;
static struct passwd_db *users;
static uint8_t *owner; /* owner[lease] = worker slot + 1, shared with workers */
static size_t owner_len;
static int steer_fd = -1; /* BPF map lease -> TUN queue (slots.c), -1 if none */
static bool draining;	  /* SIGQUIT: no new logins */

int auth_load_users(const char *path)
{
	char err[CFG_ERR_LEN];

	if (passwd_db_load(path, &users, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
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

int auth_open(const struct cfg *c)
{
	cfg = c;
	owner_len = POOL_MAX_SIZE;
	owner = mmap(NULL, owner_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (owner == MAP_FAILED) {
		owner = NULL;
		log_errno(-errno, "mmap");
		return -1;
	}
	if (sess_table_init(&sess, cfg, owner) < 0) {
		log_err("cannot set up the address pools");
		return -1;
	}
	return 0;
}

void auth_close(void)
{
	sess_table_free(&sess);
	passwd_db_free(users);
	users = NULL;
	if (owner)
		munmap(owner, owner_len);
	owner = NULL;
}

void auth_forget(void)
{
	sess_table_free(&sess);
	passwd_db_free(users);
	users = NULL;
}

void auth_use_steering(int map_fd)
{
	steer_fd = map_fd;
}

void auth_stop_logins(void)
{
	draining = true;
}

struct sess_table *auth_sessions(void)
{
	return &sess;
}

static struct ban_policy ban_policy(void)
{
	struct ban_policy p = {cfg->ban_failures, cfg->ban_window, cfg->ban_time};

	return p;
}

static unsigned user_sessions(const char *user)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < sess.cap; i++)
		n += sess.s[i].used && !strcmp(sess.s[i].user, user);
	return n;
}

/* A login refused for a reason the user should read (not a bad password). */
static void refuse(unsigned w, struct ipc_msg *r, const char *why)
{
	r->u.auth_resp.result = -1;
	snprintf(r->u.auth_resp.reason, sizeof(r->u.auth_resp.reason), "%s", why);
	wchan_send(w, r);
}

/* Before the password: a draining server or a banned address.  True when
 * the login was refused (and answered). */
static bool refused_early(unsigned w, struct ipc_msg *m, struct ipc_msg *r, const char *addr,
			  time_t now)
{
	unsigned left;

	if (draining) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		log_info("login for user '%s' from %s refused: the server is stopping",
			 m->u.auth_req.user, m->u.auth_req.peer);
		r->u.auth_resp.result = -1;
		wchan_send(w, r);
		return true;
	}
	if ((left = ban_left(addr, now)) > 0) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		log_warn("login for user '%s' from %s refused: address banned for %u more s",
			 m->u.auth_req.user, m->u.auth_req.peer, left);
		refuse(w, r, "Too many failed logins from your address: banned, try again later");
		return true;
	}
	return false;
}

void auth_login(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = m->ref};
	struct ban_policy pol = ban_policy();
	time_t now = time(NULL);
	char addr[BAN_ADDR_LEN];
	enum passwd_result res;
	struct session *s;
	unsigned held;

	m->u.auth_req.user[sizeof(m->u.auth_req.user) - 1] = 0;
	m->u.auth_req.pass[sizeof(m->u.auth_req.pass) - 1] = 0;
	m->u.auth_req.peer[sizeof(m->u.auth_req.peer) - 1] = 0;
	ban_addr_of_peer(m->u.auth_req.peer, cfg->ipv6_prefix, addr);
	if (refused_early(w, m, &r, addr, now))
		return;
	res = passwd_db_check(users, m->u.auth_req.user, m->u.auth_req.pass);
	explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
	r.u.auth_resp.result = res;
	if (res != PW_OK) {
		log_warn("login failed for user '%s' from %s: %s", m->u.auth_req.user,
			 m->u.auth_req.peer, passwd_result_str(res));
		if (ban_fail(addr, now, &pol))
			log_warn("%s banned for %u s after %u failed logins in %u s (auth.ban-*)",
				 addr, pol.time, pol.failures, pol.window);
		wchan_send(w, &r);
		return;
	}
	ban_success(addr);
	if (cfg->max_sessions_per_user &&
	    (held = user_sessions(m->u.auth_req.user)) >= cfg->max_sessions_per_user) {
		log_warn("login for user '%s' from %s refused: %u sessions held "
			 "(limits.max-sessions-per-user = %u)",
			 m->u.auth_req.user, m->u.auth_req.peer, held, cfg->max_sessions_per_user);
		refuse(w, &r,
		       "Too many sessions for this user (limits.max-sessions-per-user); log out "
		       "elsewhere first");
		return;
	}
	s = sess_create(&sess, m->u.auth_req.user, m->u.auth_req.peer);
	if (!s) {
		log_err("login for user '%s' from %s: cannot create a session", m->u.auth_req.user,
			m->u.auth_req.peer);
		r.u.auth_resp.result = -1;
		wchan_send(w, &r);
		return;
	}
	r.u.auth_resp.sess_id = sess_id(&sess, s);
	cookie_encode(s->cookie, r.u.auth_resp.cookie);
	log_info("session %u: user '%s' logged in from %s (worker %u)", s->serial, s->user, s->peer,
		 w);
	wchan_send(w, &r);
	explicit_bzero(&r, sizeof(r));
}

/* A CONNECT refused with an HTTP status and a reason for the client. */
static void connect_refuse(unsigned w, struct ipc_msg *r, int status, const char *why)
{
	r->u.connect_resp.status = status;
	snprintf(r->u.connect_resp.reason, sizeof(r->u.connect_resp.reason), "%s", why);
	wchan_send(w, r);
}

/* One live tunnel per session: the newest wins (a client that reconnects
 * before we noticed its old TCP died). */
static void replace_tunnel(struct session *s)
{
	struct ipc_msg k = {.type = IPC_KICK, .ref = s->ref};

	k.u.kick.sess_id = sess_id(&sess, s);
	log_info("session %u: replacing its tunnel on worker %d", s->serial, s->worker);
	wchan_send((unsigned)s->worker, &k);
	sess_unbind(&sess, s);
}

void auth_connect(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_CONNECT_RESP, .ref = m->ref};
	struct session *s;
	int rc;

	m->u.connect_req.peer[sizeof(m->u.connect_req.peer) - 1] = 0;
	s = sess_by_cookie(&sess, m->u.connect_req.cookie);
	explicit_bzero(m->u.connect_req.cookie, sizeof(m->u.connect_req.cookie));
	if (!s) {
		log_warn("CONNECT from %s refused: unknown or expired cookie",
			 m->u.connect_req.peer);
		connect_refuse(w, &r, 401, "Cookie is not valid");
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
	rc = sess_bind(&sess, s, (int)w, m->ref);
	if (rc < 0) {
		log_err("session %u: user '%s' from %s refused: address pool exhausted (%u leases "
			"in use)",
			s->serial, s->user, m->u.connect_req.peer, sess.pool.used);
		connect_refuse(w, &r, 503, "No free address in the pool");
		return;
	}
	if (steer_fd >= 0 && (rc = steer_set(steer_fd, (uint32_t)s->lease, w)) < 0)
		log_warn("session %u: steering map update failed: %s", s->serial, strerror(-rc));
	r.u.connect_resp.status = 200;
	r.u.connect_resp.sess_id = sess_id(&sess, s);
	r.u.connect_resp.lease = (uint32_t)s->lease;
	snprintf(r.u.connect_resp.user, sizeof(r.u.connect_resp.user), "%s", s->user);
	log_info("session %u: tunnel up for '%s' from %s on worker %u, lease %lld", s->serial,
		 s->user, m->u.connect_req.peer, w, (long long)s->lease);
	wchan_send(w, &r);
}

void auth_closed(unsigned w, struct ipc_msg *m)
{
	struct session *s = sess_by_id(&sess, m->u.closed.sess_id);

	if (!s)
		return;
	m->u.closed.reason[sizeof(m->u.closed.reason) - 1] = 0;
	sess_add_counters(s, &m->u.closed.ctr);
	if (s->worker != (int)w || s->ref.slot != m->ref.slot || s->ref.gen != m->ref.gen)
		return; /* an old tunnel of a session that moved on */
	if (m->u.closed.end_session) {
		sess_end(&sess, s, m->u.closed.reason);
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

	(void)w;
	if (s)
		sess_add_counters(s, &m->u.closed.ctr);
}

void auth_worker_gone(unsigned w)
{
	sess_unbind_worker(&sess, (int)w);
}

int auth_disconnect(struct session *s)
{
	if (s->worker >= 0 && wchan_up((unsigned)s->worker)) {
		/* The worker sends the DISCONNECT frame and reports the
		 * session's end (IPC_CLOSED with end_session). */
		struct ipc_msg m = {.type = IPC_DISCONNECT, .ref = s->ref};
		m.u.kick.sess_id = sess_id(&sess, s);
		log_info("session %u: disconnect requested by the administrator", s->serial);
		wchan_send((unsigned)s->worker, &m);
		return 0;
	}
	sess_end(&sess, s, "disconnected by administrator");
	return 0;
}

void auth_tick(time_t now)
{
	sess_expire(&sess, now, cfg->reconnect_timeout);
	if (now % 16 == 0) {
		struct ban_policy pol = ban_policy();
		ban_expire(now, &pol);
	}
}
