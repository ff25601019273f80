/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the master's login and CONNECT rules (daemon/auth.c) without
 * workers, hashing processes or namespaces.  auth.c answers through
 * wchan_send() and has passwords checked through hashpool_submit(); this
 * file provides fakes: one keeps the answers for the tests to read, the
 * other checks at once against auth.c's own db (or keeps the checks for a
 * test to end, with defer). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/passwd.h"
#include "common/ticket.h"
#include "daemon/auth.h"
#include "daemon/bans.h"
#include "daemon/cookies.h"
#include "daemon/backend.h"
#include "daemon/hashpool.h"
#include "daemon/logins.h"
#include "daemon/sessions.h"
#include "daemon/wchan.h"

#define CONF                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"tls = { certificate = \"c.pem\"; key = \"k.pem\"; };\n"                                   \
	"auth = { password-file = \"passwd\"; ban-failures = 3; };\n"                              \
	"network = { ipv4-pool = \"198.18.100.0/24\"; };\n"                                        \
	"limits = { max-sessions-per-user = 2; max-clients = 2; };\n"

#define MAX_SENT 16

/* What auth.c sent, in order, and to which worker. */
static struct ipc_msg sent[MAX_SENT];
static unsigned sent_to[MAX_SENT], n_sent;
static struct cfg cfg;

/* The fake channel: every worker is up and every message arrives. */
void wchan_send(unsigned w, const struct ipc_msg *m)
{
	ck_assert_uint_lt(n_sent, MAX_SENT);
	sent_to[n_sent] = w;
	sent[n_sent++] = *m;
}

bool wchan_up(unsigned w)
{
	(void)w;
	return true;
}

/* The fake pool: checks queued when defer is set, else ended at once. */
#define MAX_JOBS 8
static struct job {
	unsigned w;
	struct ipc_ref ref;
	char user[IPC_USER_MAX], pass[IPC_PASS_MAX], peer[64];
	bool cancelled;
} jobs[MAX_JOBS];
static unsigned n_jobs;
static bool defer;

static void end_job(struct job *j)
{
	struct hash_done d = {.w = j->w,
			      .ref = j->ref,
			      .user = j->user,
			      .peer = j->peer,
			      .cancelled = j->cancelled,
			      .op = BK_OP_START,
			      .proc = 0};

	d.result = (int)passwd_db_check(auth_users(), j->user, j->pass);
	auth_login_done(&d);
}

/* A RADIUS session re-created from its cookie takes a NAS-Port. */
uint32_t hashpool_nas_port(void)
{
	static uint32_t n;

	return ++n;
}

/* Only first checks (BK_OP_START) come from the password-file dialogue
 * without TOTP secrets; an abort needs no answer. */
int hashpool_submit_op(unsigned w, const struct ipc_msg *m, const struct hash_op *op, unsigned max)
{
	struct job j = {.w = w};

	if (op->op == BK_OP_ABORT)
		return 0;
	ck_assert_uint_eq(op->op, BK_OP_START);
	j.ref = m->ref;
	if (n_jobs >= max)
		return -EBUSY;
	memcpy(j.user, m->u.auth_req.user, sizeof(j.user));
	memcpy(j.pass, m->u.auth_req.pass, sizeof(j.pass));
	memcpy(j.peer, m->u.auth_req.peer, sizeof(j.peer));
	if (!defer) {
		end_job(&j);
		return 0;
	}
	ck_assert_uint_lt(n_jobs, MAX_JOBS);
	jobs[n_jobs++] = j;
	return 0;
}

void hashpool_cancel(unsigned w, struct ipc_ref ref)
{
	for (unsigned i = 0; i < n_jobs; i++)
		if (jobs[i].w == w && jobs[i].ref.slot == ref.slot && jobs[i].ref.gen == ref.gen)
			jobs[i].cancelled = true;
}

void hashpool_drop_worker(unsigned w)
{
	for (unsigned i = 0; i < n_jobs; i++)
		if (jobs[i].w == w)
			jobs[i].cancelled = true;
}

/* End every deferred check, in order. */
static void end_jobs(void)
{
	for (unsigned i = 0; i < n_jobs; i++)
		end_job(&jobs[i]);
	n_jobs = 0;
}

#define STATE_DIR_TEMPLATE "/tmp/check_auth.fleet.XXXXXX"
static char state_dir[] = STATE_DIR_TEMPLATE;

static void setup(void)
{
	char err[CFG_ERR_LEN], hash[256], users[1024];
	struct passwd_db *db = NULL;
	struct cookie_ring *ring;

	ck_assert_msg(cfg_load_string(CONF, "t.conf", &cfg, err, sizeof(err)) == 0, "%s", err);
	/* The fleet's files (revocations) in a directory of the test's own. */
	/* A fresh template each time: without fork, one process runs every test. */
	memcpy(state_dir, STATE_DIR_TEMPLATE, sizeof(state_dir));
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	cfg.fleet_state_dir = strdup(state_dir);
	ck_assert_int_eq(auth_open(&cfg), 0);
	/* No key file: a random key seals the cookies, as on a lone node. */
	ck_assert_msg(cookies_load(&cfg, &ring, err, sizeof(err)) == 0, "%s", err);
	cookies_commit(&ring);
	logins_open(&cfg);
	ck_assert_int_eq(passwd_hash("right", "$6$", hash, sizeof(hash)), 0);
	snprintf(users, sizeof(users), "alice:%s\nbob:%s\n", hash, hash);
	ck_assert_msg(passwd_db_parse(users, strlen(users), "t.pw", &db, err, sizeof(err)) == 0,
		      "%s", err);
	auth_swap_users(&db);
	ck_assert_ptr_null(db); /* nothing was loaded before */
	ck_assert_uint_eq(auth_user_count(), 2);
	ban_reset();
	n_sent = 0;
	n_jobs = 0;
	defer = false;
}

static void teardown(void)
{
	char cmd[64];

	logins_close();
	auth_close();
	cookies_forget();
	cfg_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* IPC_AUTH_REQ from worker w; returns the answer. */
static const struct ipc_msg *login(unsigned w, const char *user, const char *pass, const char *peer)
{
	struct ipc_msg m = {.type = IPC_AUTH_REQ, .ref = {7, 1}};
	unsigned before = n_sent;

	snprintf(m.u.auth_req.user, sizeof(m.u.auth_req.user), "%s", user);
	snprintf(m.u.auth_req.pass, sizeof(m.u.auth_req.pass), "%s", pass);
	snprintf(m.u.auth_req.peer, sizeof(m.u.auth_req.peer), "%s", peer);
	auth_login(w, &m);
	ck_assert_uint_eq(n_sent, before + 1);
	ck_assert_uint_eq(sent_to[before], w);
	ck_assert_uint_eq(sent[before].type, IPC_AUTH_RESP);
	ck_assert_uint_eq(sent[before].ref.slot, 7);
	ck_assert_str_eq(m.u.auth_req.pass, ""); /* the password is wiped */
	return &sent[before];
}

/* IPC_CONNECT_REQ with the cookie of an AUTH_RESP; returns the answer. */
static const struct ipc_msg *connect_with(unsigned w, const char *cookie, uint32_t gen)
{
	struct ipc_msg m = {.type = IPC_CONNECT_REQ, .ref = {3, gen}};
	unsigned before = n_sent;

	int n = ticket_decode(cookie, strlen(cookie), m.u.connect_req.cookie);

	ck_assert_int_eq(n, TICKET_V1_LEN); /* a password login: no RADIUS grant */
	m.u.connect_req.cookie_len = (uint32_t)n;
	snprintf(m.u.connect_req.peer, sizeof(m.u.connect_req.peer), "198.18.0.2:4000");
	auth_connect(w, &m);
	ck_assert_uint_gt(n_sent, before);
	ck_assert_uint_eq(sent[n_sent - 1].type, IPC_CONNECT_RESP);
	return &sent[n_sent - 1];
}

START_TEST(test_login_and_session)
{
	const struct ipc_msg *r = login(1, "alice", "right", "198.18.0.2:4000");

	ck_assert_int_eq(r->u.auth_resp.result, PW_OK);
	ck_assert_uint_eq(strlen(r->u.auth_resp.cookie), TICKET_V1_TEXT_LEN);
	ck_assert_uint_eq(auth_sessions()->count, 1);
	ck_assert_ptr_nonnull(sess_by_id(auth_sessions(), r->u.auth_resp.sess_id));
}
END_TEST

START_TEST(test_max_sessions_per_user)
{
	const struct ipc_msg *r;

	ck_assert_int_eq(login(0, "alice", "right", "198.18.0.2:4000")->u.auth_resp.result, PW_OK);
	ck_assert_int_eq(login(1, "alice", "right", "198.18.0.3:4000")->u.auth_resp.result, PW_OK);
	r = login(0, "alice", "right", "198.18.0.4:4000");
	ck_assert_int_eq(r->u.auth_resp.result, -1);
	ck_assert_str_eq(r->u.auth_resp.cookie, "");
	ck_assert_ptr_nonnull(strstr(r->u.auth_resp.reason, "limits.max-sessions-per-user"));
	ck_assert_uint_eq(auth_sessions()->count, 2);
	/* The limit is per user. */
	ck_assert_int_eq(login(0, "bob", "right", "198.18.0.4:4000")->u.auth_resp.result, PW_OK);
	ck_assert_uint_eq(auth_sessions()->count, 3);
}
END_TEST

START_TEST(test_bad_password_then_ban)
{
	const struct ipc_msg *r;

	ck_assert_int_eq(login(0, "alice", "wrong", "198.18.0.9:1")->u.auth_resp.result,
			 PW_BAD_PASSWORD);
	ck_assert_int_eq(login(0, "nobody", "x", "198.18.0.9:2")->u.auth_resp.result,
			 PW_UNKNOWN_USER);
	ck_assert_int_eq(login(0, "bob", "wrong", "198.18.0.9:3")->u.auth_resp.result,
			 PW_BAD_PASSWORD); /* the third failure starts the ban */
	r = login(0, "alice", "right", "198.18.0.9:4");
	ck_assert_int_eq(r->u.auth_resp.result, -1);
	ck_assert_ptr_nonnull(strstr(r->u.auth_resp.reason, "banned"));
	/* Other addresses are not affected. */
	ck_assert_int_eq(login(0, "alice", "right", "198.18.0.10:1")->u.auth_resp.result, PW_OK);
	ck_assert_uint_eq(auth_sessions()->count, 1);
}
END_TEST

/* Finding #3: a login that works does not clear the address's failures.
 * With the default policy (10 in 300 s), 100 rounds of 9 wrong passwords
 * and the right one from one address end in a ban; before, each success
 * reset the count and the address guessed without end. */
START_TEST(test_success_keeps_failures)
{
	const struct ipc_msg *r = NULL;
	bool banned = false;

	cfg.ban_failures = 10;
	cfg.ban_window = 300;
	cfg.max_sessions_per_user = 0;
	for (int round = 0; round < 100 && !banned; round++) {
		for (int i = 0; i < 9; i++)
			login(0, "bob", "wrong", "198.18.0.9:1");
		r = login(0, "alice", "right", "198.18.0.9:2");
		banned = r->u.auth_resp.result == -1;
		n_sent = 0;
	}
	ck_assert_msg(banned, "100 rounds of 9 failures and a success: never banned");
	ck_assert_ptr_nonnull(strstr(r->u.auth_resp.reason, "banned"));
	ck_assert_uint_gt(ban_left("198.18.0.9", time(NULL), 0), 0);
}
END_TEST

START_TEST(test_connect_rules)
{
	char c1[TICKET_MAX_TEXT_LEN + 1], c2[TICKET_MAX_TEXT_LEN + 1], c3[TICKET_MAX_TEXT_LEN + 1];
	const struct ipc_msg *r;

	memcpy(c1, login(0, "alice", "right", "198.18.0.2:1")->u.auth_resp.cookie, sizeof(c1));
	memcpy(c2, login(0, "alice", "right", "198.18.0.3:1")->u.auth_resp.cookie, sizeof(c2));
	memcpy(c3, login(0, "bob", "right", "198.18.0.4:1")->u.auth_resp.cookie, sizeof(c3));
	r = connect_with(1, c1, 1);
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	ck_assert_str_eq(r->u.connect_resp.user, "alice");
	ck_assert_uint_gt(r->u.connect_resp.lease, 0);
	ck_assert_int_eq(connect_with(0, c2, 1)->u.connect_resp.status, 200);
	/* limits.max-clients = 2: a third tunnel is refused... */
	r = connect_with(0, c3, 1);
	ck_assert_int_eq(r->u.connect_resp.status, 503);
	ck_assert_ptr_nonnull(strstr(r->u.connect_resp.reason, "max-clients"));
	/* ...but a session's new tunnel replaces its old one: the old
	 * worker is told (IPC_KICK), the new one gets the same lease. */
	uint32_t lease = sent[n_sent - 2].u.connect_resp.lease;
	unsigned before = n_sent;
	r = connect_with(1, c2, 2);
	ck_assert_uint_eq(n_sent, before + 2);
	ck_assert_uint_eq(sent[before].type, IPC_KICK);
	ck_assert_uint_eq(sent_to[before], 0);
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	ck_assert_uint_eq(r->u.connect_resp.lease, lease);
	ck_assert_uint_eq(auth_sessions()->tunnels, 2);
	/* An unknown cookie. */
	c1[0] = c1[0] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(connect_with(0, c1, 1)->u.connect_resp.status, 401);
}
END_TEST

START_TEST(test_closed_and_worker_gone)
{
	char c1[TICKET_MAX_TEXT_LEN + 1];
	const struct ipc_msg *r;
	struct ipc_msg m = {.type = IPC_CLOSED, .ref = {3, 1}};

	memcpy(c1, login(0, "alice", "right", "198.18.0.2:1")->u.auth_resp.cookie, sizeof(c1));
	r = connect_with(1, c1, 1);
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	m.u.closed.sess_id = r->u.connect_resp.sess_id;
	/* From another worker: an old tunnel, ignored. */
	auth_closed(0, &m);
	ck_assert_uint_eq(auth_sessions()->tunnels, 1);
	/* The tunnel ends; the session waits for a reconnect. */
	auth_closed(1, &m);
	ck_assert_uint_eq(auth_sessions()->tunnels, 0);
	ck_assert_uint_eq(auth_sessions()->count, 1);
	ck_assert_int_eq(connect_with(2, c1, 1)->u.connect_resp.status, 200);
	auth_worker_gone(2);
	ck_assert_uint_eq(auth_sessions()->tunnels, 0);
	/* The client's goodbye ends the session. */
	ck_assert_int_eq(connect_with(1, c1, 2)->u.connect_resp.status, 200);
	m.ref.gen = 2;
	m.u.closed.end_session = 1;
	auth_closed(1, &m);
	ck_assert_uint_eq(auth_sessions()->count, 0);
	ck_assert_int_eq(connect_with(1, c1, 3)->u.connect_resp.status, 401);
}
END_TEST

/* Finding #14: IPC_STATS and IPC_CLOSED count only from the worker and
 * connection that hold the session's tunnel (or held it before a newer
 * one replaced it): sess_id is guessable, so another worker must not add
 * to the counters of other users' sessions or end their tunnels. */
START_TEST(test_stats_only_from_the_holder)
{
	char c1[TICKET_MAX_TEXT_LEN + 1];
	struct ipc_msg m = {.type = IPC_STATS, .ref = {3, 1}};
	const struct ipc_msg *r;
	struct session *s;

	memcpy(c1, login(0, "alice", "right", "198.18.0.2:1")->u.auth_resp.cookie, sizeof(c1));
	r = connect_with(0, c1, 1); /* worker 0, connection {3, 1} */
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	s = sess_by_id(auth_sessions(), r->u.connect_resp.sess_id);
	ck_assert_ptr_nonnull(s);
	m.u.closed.sess_id = r->u.connect_resp.sess_id;
	m.u.closed.ctr.rx_pkts = 1000;
	m.u.closed.ctr.tx_bytes = 5000;

	auth_stats(1, &m); /* another worker */
	ck_assert_uint_eq(s->ctr.rx_pkts, 0);
	m.ref.gen = 2;
	auth_stats(0, &m); /* the right worker, another connection */
	ck_assert_uint_eq(s->ctr.rx_pkts, 0);
	m.type = IPC_CLOSED;
	auth_closed(1, &m);
	ck_assert_uint_eq(s->ctr.rx_pkts, 0);
	ck_assert_uint_eq(s->ctr.tx_bytes, 0);
	ck_assert_uint_eq(auth_sessions()->tunnels, 1);

	m.type = IPC_STATS;
	m.ref.gen = 1;
	auth_stats(0, &m); /* the holder */
	ck_assert_uint_eq(s->ctr.rx_pkts, 1000);

	/* Replaced by a tunnel on worker 1: the old one's last counters still
	 * count, once. */
	ck_assert_int_eq(connect_with(1, c1, 9)->u.connect_resp.status, 200);
	m.type = IPC_CLOSED;
	auth_closed(0, &m);
	ck_assert_uint_eq(s->ctr.rx_pkts, 2000);
	ck_assert_uint_eq(auth_sessions()->tunnels, 1); /* the new tunnel stays */
	auth_closed(0, &m);
	ck_assert_uint_eq(s->ctr.rx_pkts, 2000);
}
END_TEST

/* IPC_AUTH_REQ that waits for the (fake) pool; nothing is answered yet. */
static void submit(unsigned w, uint32_t slot, const char *user, const char *pass, const char *peer)
{
	struct ipc_msg m = {.type = IPC_AUTH_REQ, .ref = {slot, 1}};
	unsigned before = n_sent;

	snprintf(m.u.auth_req.user, sizeof(m.u.auth_req.user), "%s", user);
	snprintf(m.u.auth_req.pass, sizeof(m.u.auth_req.pass), "%s", pass);
	snprintf(m.u.auth_req.peer, sizeof(m.u.auth_req.peer), "%s", peer);
	auth_login(w, &m);
	ck_assert_str_eq(m.u.auth_req.pass, "");
	ck_assert_uint_eq(n_sent, before);
}

/* Finding #1: a login waits for the hashing processes without blocking
 * anyone; a login whose connection went away (IPC_AUTH_CANCEL) gets no
 * answer and no session, but its failure still counts towards a ban;
 * past limits.max-pending-logins a worker's login is refused at once. */
START_TEST(test_pending_logins)
{
	struct ipc_msg c = {.type = IPC_AUTH_CANCEL, .ref = {2, 1}};

	defer = true;
	cfg.max_pending_logins = 3;
	cfg.ban_failures = 2;
	submit(0, 1, "alice", "wrong", "198.18.0.9:1");
	submit(0, 2, "alice", "right", "198.18.0.9:2");
	submit(1, 3, "bob", "wrong", "198.18.0.9:3");
	/* The fourth check waiting: refused now, with a reason. */
	login(1, "bob", "right", "198.18.0.9:4");
	ck_assert_int_eq(sent[0].u.auth_resp.result, -1);
	ck_assert_ptr_nonnull(strstr(sent[0].u.auth_resp.reason, "Too many logins"));
	auth_cancel(0, &c); /* alice's right password: the client left */
	c.ref.slot = 3;
	auth_cancel(1, &c); /* bob's wrong one too */
	n_sent = 0;
	end_jobs();
	ck_assert_uint_eq(n_sent, 1); /* only the first is answered */
	ck_assert_uint_eq(sent[0].ref.slot, 1);
	ck_assert_int_eq(sent[0].u.auth_resp.result, PW_BAD_PASSWORD);
	ck_assert_uint_eq(auth_sessions()->count, 0);
	/* Both failures counted (through two workers): banned everywhere. */
	ck_assert_uint_gt(ban_left("198.18.0.9", time(NULL), 0), 0);
	ck_assert_uint_gt(ban_left("198.18.0.9", time(NULL), 1), 0);
}
END_TEST

/* Lines of the file fd that contain text. */
static unsigned lines_with(int fd, const char *text)
{
	char buf[1 << 16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned count = 0;

	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	for (char *p = buf; (p = strstr(p, text)) != NULL; p++)
		count++;
	return count;
}

/* Finding #17: CONNECTs with cookies nobody was given count towards the
 * address's ban like failed logins, and 1000 of them write a handful of
 * master lines, not 1000.  A real cookie from that address still works:
 * a session is proof of a login. */
START_TEST(test_bad_cookies)
{
	char good[TICKET_MAX_TEXT_LEN + 1], path[] = "/tmp/check_auth.XXXXXX";
	uint8_t rnd[TICKET_V1_LEN];
	struct ipc_msg m = {.type = IPC_CONNECT_REQ, .ref = {3, 1}};
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	unsigned lines;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	memcpy(good, login(0, "alice", "right", "198.18.0.7:1")->u.auth_resp.cookie, sizeof(good));
	cfg.ban_failures = 10;
	dup2(fd, STDERR_FILENO); /* the master's lines */
	for (int i = 0; i < 1000; i++) {
		memset(rnd, 0, sizeof(rnd));
		memcpy(rnd, &i, sizeof(i));
		memcpy(m.u.connect_req.cookie, rnd, sizeof(rnd));
		m.u.connect_req.cookie_len = sizeof(rnd);
		snprintf(m.u.connect_req.peer, sizeof(m.u.connect_req.peer), "198.18.0.7:%d",
			 1000 + i);
		n_sent = 0;
		auth_connect(0, &m);
		ck_assert_uint_eq(n_sent, 1);
		ck_assert_int_eq(sent[0].u.connect_resp.status, 401);
	}
	auth_tick(time(NULL) + 1); /* the summary of what was kept quiet */
	dup2(saved, STDERR_FILENO);
	close(saved);
	lines = lines_with(fd, "cookie");
	printf("1000 unknown cookies: %u master lines\n", lines);
	ck_assert_uint_le(lines, 20);
	ck_assert_uint_ge(lines_with(fd, "198.18.0.7 banned for"), 1);
	close(fd);
	ck_assert_uint_gt(ban_left("198.18.0.7", time(NULL), 0), 0);
	n_sent = 0;
	ck_assert_ptr_nonnull(
	    strstr(login(0, "alice", "right", "198.18.0.7:2")->u.auth_resp.reason, "banned"));
	/* The real cookie, from the banned address. */
	ck_assert_int_eq(ticket_decode(good, strlen(good), m.u.connect_req.cookie), TICKET_V1_LEN);
	snprintf(m.u.connect_req.peer, sizeof(m.u.connect_req.peer), "198.18.0.7:3");
	n_sent = 0;
	auth_connect(0, &m);
	ck_assert_int_eq(sent[n_sent - 1].u.connect_resp.status, 200);
}
END_TEST

/* A db like setup()'s with other lines. */
static void swap_db(const char *alice_line, const char *bob_line)
{
	char err[CFG_ERR_LEN], users[1024];
	struct passwd_db *db = NULL;

	snprintf(users, sizeof(users), "%s%s", alice_line, bob_line);
	ck_assert_msg(passwd_db_parse(users, strlen(users), "t.pw", &db, err, sizeof(err)) == 0,
		      "%s", err);
	auth_swap_users(&db);
	passwd_db_free(db);
}

/* Finding #6: a session ends when its user is removed, locked or given a
 * new password: its cookie is refused at once (every CONNECT checks the
 * user again), a live tunnel gets a DISCONNECT, and the session is gone
 * once the worker reports the tunnel closed.  tunnelctl disconnect does
 * the same. */
START_TEST(test_revocation)
{
	char ca[TICKET_MAX_TEXT_LEN + 1], cb[TICKET_MAX_TEXT_LEN + 1], cb2[TICKET_MAX_TEXT_LEN + 1];
	char h[256], line_a[320], line_b[320];
	struct ipc_msg closed = {.type = IPC_CLOSED, .ref = {3, 1}};
	const struct ipc_msg *r;
	unsigned before;

	memcpy(ca, login(0, "alice", "right", "198.18.0.2:1")->u.auth_resp.cookie, sizeof(ca));
	memcpy(cb, login(0, "bob", "right", "198.18.0.3:1")->u.auth_resp.cookie, sizeof(cb));
	r = connect_with(1, ca, 1); /* alice's tunnel: worker 1, {3, 1} */
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	closed.u.closed.sess_id = r->u.connect_resp.sess_id;
	ck_assert_uint_eq(auth_sessions()->count, 2);

	/* alice locked, bob with a new password; nothing revoked yet... */
	ck_assert_int_eq(passwd_hash("new", "$6$", h, sizeof(h)), 0);
	snprintf(line_b, sizeof(line_b), "bob:%s\n", h);
	ck_assert_int_eq(passwd_hash("right", "$6$", h, sizeof(h)), 0);
	snprintf(line_a, sizeof(line_a), "alice:!%s\n", h);
	swap_db(line_a, line_b);
	/* ...but a CONNECT checks the user again: bob's cookie is refused
	 * and his session ends. */
	ck_assert_int_eq(connect_with(0, cb, 1)->u.connect_resp.status, 401);
	ck_assert_uint_eq(auth_sessions()->count, 1);

	/* The reload's sweep: alice's live tunnel is told, her cookie is
	 * refused at once, the session ends with the tunnel. */
	before = n_sent;
	ck_assert_uint_eq(auth_revoke_changed(), 1);
	ck_assert_uint_eq(n_sent, before + 1);
	ck_assert_uint_eq(sent[before].type, IPC_DISCONNECT);
	ck_assert_uint_eq(sent_to[before], 1);
	ck_assert_uint_eq(auth_revoke_changed(), 0); /* once */
	ck_assert_int_eq(connect_with(1, ca, 2)->u.connect_resp.status, 401);
	ck_assert_uint_eq(auth_sessions()->count, 1);
	auth_closed(1, &closed); /* the tunnel is gone (no goodbye needed) */
	ck_assert_uint_eq(auth_sessions()->count, 0);
	ck_assert_uint_eq(auth_sessions()->tunnels, 0);
	ck_assert_int_eq(login(0, "alice", "right", "198.18.0.2:2")->u.auth_resp.result, PW_LOCKED);

	/* tunnelctl disconnect: the same without a reload; the worker dies
	 * before it reports the tunnel closed. */
	memcpy(cb2, login(0, "bob", "new", "198.18.0.3:2")->u.auth_resp.cookie, sizeof(cb2));
	r = connect_with(2, cb2, 1);
	ck_assert_int_eq(r->u.connect_resp.status, 200);
	ck_assert_int_eq(auth_disconnect(sess_by_id(auth_sessions(), r->u.connect_resp.sess_id)),
			 0);
	ck_assert_uint_eq(sent[n_sent - 1].type, IPC_DISCONNECT);
	ck_assert_int_eq(connect_with(0, cb2, 2)->u.connect_resp.status, 401);
	ck_assert_uint_eq(auth_sessions()->count, 1);
	auth_worker_gone(2);
	ck_assert_uint_eq(auth_sessions()->count, 0);
	ck_assert_int_eq(login(0, "bob", "new", "198.18.0.3:3")->u.auth_resp.result, PW_OK);
}
END_TEST

/* Last: the flag stays for the process (each test runs in its own fork). */
START_TEST(test_draining_refuses_logins)
{
	const struct ipc_msg *r;

	auth_stop_logins();
	r = login(0, "alice", "right", "198.18.0.2:1");
	ck_assert_int_eq(r->u.auth_resp.result, -1);
	ck_assert_uint_eq(auth_sessions()->count, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login_and_session);
	tcase_add_test(tc, test_max_sessions_per_user);
	tcase_add_test(tc, test_bad_password_then_ban);
	tcase_add_test(tc, test_success_keeps_failures);
	tcase_add_test(tc, test_connect_rules);
	tcase_add_test(tc, test_closed_and_worker_gone);
	tcase_add_test(tc, test_stats_only_from_the_holder);
	tcase_add_test(tc, test_pending_logins);
	tcase_add_test(tc, test_bad_cookies);
	tcase_add_test(tc, test_revocation);
	tcase_add_test(tc, test_draining_refuses_logins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
