/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the logins in progress (see logins.h).  A dialogue is
 * keyed by its worker and connection (w, ref) and lives from the client's
 * first request until a session, the end of its tries, the connection's
 * end (IPC_AUTH_CANCEL) or limits.auth-timeout.  What it does next is
 * dialog.c's decision; this file carries it out: forms go to the worker,
 * answers to the auth processes (a conversation's to the process that
 * holds it), sessions come from auth_grant().  Bans, the per-address
 * failure count and the equal cost of unknown users apply to every try. */
#include "config.h"
#include "daemon/logins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/passwd.h"
#include "common/totp.h"
#include "daemon/auth.h"
#include "daemon/backend.h"
#include "daemon/bans.h"
#include "daemon/dialog.h"
#include "daemon/hashpool.h"
#include "daemon/hasher.h"
#include "daemon/metrics.h"
#include "daemon/sessions.h"
#include "daemon/wchan.h"

#define CHECK_FAILED "The login could not be checked: try again"

struct login {
	bool used;
	unsigned w;
	struct ipc_ref ref;
	struct dlg d;
	char peer[64];
	char groups[IPC_GROUPS_MAX]; /* the certificate's */
	int proc;		     /* the process holding its conversation, -1: none */
	uint32_t conv;
	uint64_t sid; /* the session to be its backend was asked for (RADIUS) */
	uint32_t nas_port;
	time_t born;
	/* The backend's answer the dialogue acts on, during auth_login_done
	 * (auth_grant reads its timing and RADIUS's attributes); else NULL. */
	const struct hash_done *done;
};

/* The last TOTP time step each user logged in with: a code is good once. */
struct otp_used {
	char user[IPC_USER_MAX];
	uint64_t step;
};

static struct {
	const struct cfg *cfg;
	struct login *l;
	unsigned cap;
	struct totp_db *totp;
	struct otp_used *used;
	size_t n_used;
} L;

void logins_open(const struct cfg *cfg)
{
	L.cfg = cfg;
}

void logins_close(void)
{
	if (L.l)
		explicit_bzero(L.l, L.cap * sizeof(*L.l));
	free(L.l);
	free(L.used);
	totp_db_free(L.totp);
	memset(&L, 0, sizeof(L));
}

void logins_forget(void)
{
	logins_close();
}

int logins_load_totp(const char *passwd_path)
{
	char path[4096], err[CFG_ERR_LEN];

	if (!passwd_path) /* logins through RADIUS: no password file, no codes */
		return 0;
	if (totp_path(passwd_path, path, sizeof(path)) < 0 ||
	    totp_db_load(path, &L.totp, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	if (L.totp)
		log_info("%s: TOTP codes for %zu users", path, totp_db_count(L.totp));
	return 0;
}

void logins_swap_totp(struct totp_db **t)
{
	struct totp_db *old = L.totp;

	L.totp = *t;
	*t = old;
}

const struct totp_db *logins_totp(void)
{
	return L.totp;
}

/* ---- the table ------------------------------------------------------- */

static struct login *find(unsigned w, struct ipc_ref ref)
{
	for (unsigned i = 0; i < L.cap; i++)
		if (L.l[i].used && L.l[i].w == w && L.l[i].ref.slot == ref.slot &&
		    L.l[i].ref.gen == ref.gen)
			return &L.l[i];
	return NULL;
}

/* At most one dialogue per connection a worker may hold in login. */
static unsigned table_max(void)
{
	return L.cfg->max_handshakes + L.cfg->max_pending_logins;
}

static struct login *create(unsigned w, struct ipc_ref ref, const char *peer)
{
	struct login *l = NULL, *grown;

	for (unsigned i = 0; i < L.cap && !l; i++)
		if (!L.l[i].used)
			l = &L.l[i];
	if (!l && L.cap < table_max()) {
		unsigned cap = L.cap ? L.cap * 2 : 64;
		cap = cap > table_max() ? table_max() : cap;
		grown = realloc(L.l, cap * sizeof(*L.l));
		if (!grown)
			return NULL;
		memset(grown + L.cap, 0, (cap - L.cap) * sizeof(*L.l));
		l = grown + L.cap;
		L.l = grown;
		L.cap = cap;
	}
	if (!l)
		return NULL;
	memset(l, 0, sizeof(*l));
	l->used = true;
	l->w = w;
	l->ref = ref;
	l->proc = -1;
	l->born = time(NULL);
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	dlg_init(&l->d);
	return l;
}

/* The backend's conversation is not wanted any more. */
static void abort_conv(struct login *l)
{
	struct hash_op op = {BK_OP_ABORT, l->conv, l->proc, 0, 0};

	if (l->proc >= 0 && hashpool_submit_op(l->w, NULL, &op, 0) < 0)
		log_warn("login from %s: its conversation could not be ended", l->peer);
	l->proc = -1;
	l->conv = 0;
}

static void drop(struct login *l)
{
	abort_conv(l);
	explicit_bzero(l, sizeof(*l));
}

static struct dlg_policy policy(void)
{
	const char *c = L.cfg->auth_certificate;
	struct dlg_policy p = {L.cfg->auth_max_tries, L.cfg->auth_failure_message,
			       L.cfg->pre_login_banner, DLG_CERT_OPTIONAL, NULL};

	if (L.cfg->auth_group_select)
		p.group_list = L.cfg->auth_group_list;
	if (c && !strcmp(c, "required"))
		p.cert = DLG_CERT_REQUIRED;
	else if (c && !strcmp(c, "password"))
		p.cert = DLG_CERT_PASSWORD;
	return p;
}

/* ---- answers to the worker ------------------------------------------- */

static void send_form(const struct login *l, int32_t result, const struct ipc_form *f)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = l->ref};

	r.u.auth_resp.result = result;
	r.u.auth_resp.form = *f;
	wchan_send(l->w, &r);
}

/* A refusal with a reason the user reads (ban, limit, stopping). */
static void refuse(unsigned w, struct ipc_ref ref, const char *why)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = ref};

	r.u.auth_resp.result = -1;
	snprintf(r.u.auth_resp.reason, sizeof(r.u.auth_resp.reason), "%s", why);
	wchan_send(w, &r);
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
			 w, n, L.cfg->max_pending_logins);
	else
		log_err("worker %u: %lu login(s) refused: %s", w, n, strerror(-r));
	n = 0;
}

static unsigned long password_checks; /* logins started in the auth processes */

unsigned long auth_password_checks(void)
{
	return password_checks;
}

static int backend_kind(void)
{
	return L.cfg->n_radius_auth ? SESS_BK_RADIUS
	       : L.cfg->pam_service ? SESS_BK_PAM
				    : SESS_BK_PASSWD;
}

static void submit(struct login *l, struct ipc_msg *m, const struct hash_op *op)
{
	int rc = hashpool_submit_op(l->w, m, op, L.cfg->max_pending_logins);

	if (rc == 0) {
		password_checks += op->op == BK_OP_START;
		return;
	}
	metrics_login(rc == -EBUSY ? LOGIN_BUSY : LOGIN_ERROR, false, 0);
	log_busy(l->w, rc);
	refuse(l->w, l->ref, "Too many logins in progress: try again in a moment");
	drop(l);
}

static void grant(struct login *l, const struct dlg_out *o, const char *groups)
{
	struct auth_login g = {o->user,
			       l->peer,
			       groups && groups[0] ? groups : l->groups,
			       o->cert_only ? SESS_BK_CERT : backend_kind(),
			       NULL,
			       o->group,
			       o->cert_only ? NULL : l->done};

	if (o->cert_only)
		g.how = "certificate";
	else if (l->d.cert_user[0] && policy().cert == DLG_CERT_PASSWORD)
		g.how = "certificate and password";
	else if (L.cfg->pam_service)
		g.how = "PAM";
	else if (L.cfg->n_radius_auth)
		g.how = "RADIUS";
	auth_grant(l->w, l->ref, &g);
	drop(l);
}

/* Do what the dialogue decided.  m: the request whose answers go to the
 * backend (START, ANSWER); result: the failed check's, for a form that
 * asks again. */
static void act(struct login *l, const struct dlg_out *o, struct ipc_msg *m, int32_t result,
		const char *groups)
{
	struct hash_op op = {BK_OP_START, 0, -1, 0, 0};

	switch (o->kind) {
	case DLG_OUT_FORM:
		if (!l->d.follow)
			abort_conv(l); /* back to the first form */
		send_form(l, result ? result : IPC_AUTH_FORM, &o->form);
		return;
	case DLG_OUT_START:
		abort_conv(l);
		snprintf(m->u.auth_req.user, sizeof(m->u.auth_req.user), "%s", o->user);
		submit(l, m, &op);
		return;
	case DLG_OUT_ANSWER:
		op = (struct hash_op){BK_OP_ANSWER, l->conv, l->proc, l->sid, l->nas_port};
		/* The job names the user for the log lines of its end. */
		snprintf(m->u.auth_req.user, sizeof(m->u.auth_req.user), "%s", o->user);
		if (l->proc < 0) {
			send_form(l, -1,
				  &(struct ipc_form){.auth_id = "failure", .error = CHECK_FAILED});
			drop(l);
			return;
		}
		submit(l, m, &op);
		return;
	case DLG_OUT_GRANT:
		grant(l, o, groups);
		return;
	case DLG_OUT_END:
		if (o->not_member)
			log_warn("login for user '%s' from %s refused: not in group '%s'",
				 l->d.user, l->peer, l->d.group);
		send_form(l, result ? result : -1, &o->form);
		drop(l);
		return;
	default:
		return;
	}
}

static void wipe_request(struct ipc_msg *m)
{
	explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
	explicit_bzero(m->u.auth_req.ans, sizeof(m->u.auth_req.ans));
}

/* Every text of the request ends inside its array (ipc_check() saw to
 * it; this keeps the code safe on its own). */
static void terminate(struct ipc_msg *m)
{
	m->u.auth_req.user[sizeof(m->u.auth_req.user) - 1] = 0;
	m->u.auth_req.pass[sizeof(m->u.auth_req.pass) - 1] = 0;
	m->u.auth_req.peer[sizeof(m->u.auth_req.peer) - 1] = 0;
	m->u.auth_req.cert_user[sizeof(m->u.auth_req.cert_user) - 1] = 0;
	m->u.auth_req.cert_groups[sizeof(m->u.auth_req.cert_groups) - 1] = 0;
	if (m->u.auth_req.n_ans > IPC_INPUTS_MAX)
		m->u.auth_req.n_ans = IPC_INPUTS_MAX;
}

/* Before any check: a draining server or a banned address.  True when
 * the login was refused (and answered). */
static bool refused_early(unsigned w, struct ipc_msg *m)
{
	char addr[BAN_ADDR_LEN];
	unsigned left;

	if (auth_draining()) {
		metrics_login(LOGIN_STOPPING, false, 0);
		log_info("login for user '%s' from %s refused: the server is stopping",
			 m->u.auth_req.user, m->u.auth_req.peer);
		refuse(w, m->ref, "The server is stopping: try again in a moment");
		return true;
	}
	ban_addr_of_peer(m->u.auth_req.peer, L.cfg->ipv6_prefix, addr);
	if ((left = ban_left(addr, time(NULL), w)) > 0) {
		metrics_login(LOGIN_BANNED, false, 0);
		log_warn("login for user '%s' from %s refused: address banned for %u more s",
			 m->u.auth_req.user, m->u.auth_req.peer, left);
		refuse(w, m->ref,
		       "Too many failed logins from your address: banned, try again later");
		return true;
	}
	return false;
}

void auth_login(unsigned w, struct ipc_msg *m)
{
	struct dlg_policy pol = policy();
	struct dlg_in in = {DLG_IN_REQUEST, m, NULL, NULL, NULL};
	struct login *l;
	struct dlg_out out;

	terminate(m);
	l = find(w, m->ref);
	if (refused_early(w, m)) {
		if (l)
			drop(l);
		wipe_request(m);
		return;
	}
	if (!l && !(l = create(w, m->ref, m->u.auth_req.peer))) {
		log_busy(w, -ENOMEM);
		refuse(w, m->ref, "Too many logins in progress: try again in a moment");
		wipe_request(m);
		return;
	}
	snprintf(l->groups, sizeof(l->groups), "%s", m->u.auth_req.cert_groups);
	dlg_step(&l->d, &pol, &in, &out);
	act(l, &out, m, 0, NULL);
	wipe_request(m);
}

void auth_cancel(unsigned w, struct ipc_msg *m)
{
	struct login *l = find(w, m->ref);

	hashpool_cancel(w, m->ref);
	if (l)
		drop(l);
}

/* A one-time code is good once: its time step must be later than the
 * last one its user logged in with, whichever worker or process saw it. */
static bool otp_fresh(const char *user, uint64_t step)
{
	struct otp_used *u = NULL, *grown;

	for (size_t i = 0; i < L.n_used && !u; i++)
		if (!strcmp(L.used[i].user, user))
			u = &L.used[i];
	if (u && step <= u->step)
		return false;
	if (!u) {
		grown = realloc(L.used, (L.n_used + 1) * sizeof(*L.used));
		if (!grown)
			return false;
		L.used = grown;
		u = &L.used[L.n_used++];
		snprintf(u->user, sizeof(u->user), "%s", user);
	}
	u->step = step;
	return true;
}

/* A failed check, as /metrics counts it. */
static enum login_result login_result_of(int r)
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

/* Log a failed check and count it towards its address's ban. */
static void count_failure(const struct hash_done *d, const char *detail)
{
	struct ban_policy pol = auth_ban_policy();
	char addr[BAN_ADDR_LEN];
	int r = d->result > PW_OK ? d->result : PW_BAD_PASSWORD;

	metrics_login(login_result_of(r), true, d->usec);
	ban_addr_of_peer(d->peer, L.cfg->ipv6_prefix, addr);
	log_warn("login failed for user '%s' from %s: %s%s%s", d->user, d->peer,
		 passwd_result_str((enum passwd_result)r), detail && detail[0] ? ", " : "",
		 detail ? detail : "");
	auth_log_ban(ban_fail(addr, time(NULL), &pol, d->w), &pol);
}

/* The backend's answer as the dialogue's input; a failure is counted. */
static void to_input(struct login *l, const struct hash_done *d, struct dlg_in *in)
{
	const struct hash_resp *rs = d->resp;
	bool ok = rs ? rs->kind == BK_OK : d->result == PW_OK;

	in->kind = DLG_IN_FAIL;
	in->text = NULL;
	if (rs && rs->kind == BK_ASK) {
		in->kind = DLG_IN_ASK;
		in->form = &rs->form;
		l->proc = d->proc;
		l->conv = rs->conv;
		l->sid = d->sid;
		l->nas_port = d->nas_port;
		return;
	}
	l->proc = -1; /* the conversation ended in the process */
	if (ok && rs && rs->otp_step && !otp_fresh(d->user, rs->otp_step)) {
		count_failure(d, "one-time code used before");
		return;
	}
	if (ok) {
		const char *pw = backend_kind() == SESS_BK_PASSWD
				     ? passwd_db_groups(auth_users(), d->user)
				     : NULL;

		in->kind = DLG_IN_OK;
		/* The backend's groups, the certificate's, or the password
		 * file's group column (a group picked in the form must be
		 * one of them). */
		in->groups = rs && rs->groups[0] ? rs->groups
			     : l->groups[0]	 ? l->groups
			     : pw		 ? pw
						 : l->groups;
		return;
	}
	/* The backend's word for the user, if any (a RADIUS server's). */
	in->text = rs && rs->form.error[0] ? rs->form.error : NULL;
	count_failure(d, rs ? rs->form.message : NULL);
}

void auth_login_done(const struct hash_done *d)
{
	struct dlg_policy pol = policy();
	struct login *l = find(d->w, d->ref);
	struct dlg_in in = {DLG_IN_ERROR, NULL, NULL, CHECK_FAILED, NULL};
	struct dlg_out out;
	int32_t result;

	if (d->op == BK_OP_ABORT)
		return;
	if (d->result < 0 || d->result == HASH_NO_ANSWER || d->result == HASH_ERROR) {
		metrics_login(LOGIN_ERROR, false, 0);
		log_err("login for user '%s' from %s: %s", d->user, d->peer,
			d->result < 0 ? "the auth process died"
			: d->result == HASH_NO_ANSWER
			    ? "no RADIUS server answered (radius.timeout, radius.retries)"
			    : "the RADIUS answer was unusable");
	} else if (d->cancelled || !l) {
		if (d->resp ? d->resp->kind == BK_OK : d->result == PW_OK)
			metrics_login(LOGIN_CANCELLED, true, d->usec);
		/* Counted even when the client left meanwhile: closing the
		 * connection early must not dodge a ban. */
		if (d->resp ? d->resp->kind == BK_FAIL : d->result != PW_OK)
			count_failure(d, d->resp ? d->resp->form.message : NULL);
		if (d->resp && d->resp->kind == BK_ASK && d->proc >= 0) {
			struct hash_op op = {BK_OP_ABORT, d->resp->conv, d->proc, 0, 0};
			(void)hashpool_submit_op(d->w, NULL, &op, 0);
		}
		return;
	} else {
		to_input(l, d, &in);
	}
	if (!l || d->cancelled)
		return;
	result = in.kind == DLG_IN_FAIL ? (d->result > PW_OK ? d->result : PW_BAD_PASSWORD) : 0;
	dlg_step(&l->d, &pol, &in, &out);
	l->done = d;
	act(l, &out, NULL, result, d->resp ? d->resp->groups : NULL);
	l->done = NULL;
}

void logins_worker_gone(unsigned w)
{
	for (unsigned i = 0; i < L.cap; i++)
		if (L.l[i].used && L.l[i].w == w)
			drop(&L.l[i]);
}

void logins_tick(time_t now)
{
	for (unsigned i = 0; i < L.cap; i++)
		if (L.l[i].used && now - L.l[i].born > (time_t)L.cfg->auth_timeout + 10)
			drop(&L.l[i]);
}
