/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: RADIUS sessions and their accounting (daemon/radsess.c,
 * daemon/acct.c, the session table's hooks in daemon/sessions.c): each
 * record exactly once and in order, Session-Time from the login, the
 * timeouts, the address a grant names, the bounded queue.  The queue runs
 * without its process (acct_setup with no epoll): records wait and are
 * read back with acct_nth. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "daemon/acct.h"
#include "daemon/hashpool.h"
#include "daemon/radsess.h"
#include "daemon/sessions.h"

#define CONF                                                                                       \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\"; };\n"         \
	"session = { node-id = 7; };\n"                                                            \
	"fleet = { nodes = 8; };\n"                                                                \
	"radius = { auth-servers = [\"198.18.1.2:1812\"]; secret-file = \"s\";\n"                  \
	"  min-interim-interval = 5; acct-queue = 16; };\n"

static struct cfg cfg;
static struct sess_table t;
static uint8_t *owner;

static void setup(void)
{
	char err[CFG_ERR_LEN];
	static const struct acct_env env = {.queue_max = 16};

	ck_assert_msg(cfg_load_string(CONF, "t.conf", &cfg, err, sizeof(err)) == 0, "%s", err);
	owner = calloc(POOL_MAX_SIZE, 1);
	ck_assert_ptr_nonnull(owner);
	ck_assert_int_eq(sess_table_init(&t, &cfg, owner), 0);
	t.on_end = radsess_end;
	radsess_use(&cfg, &t.pool.g);
	ck_assert_int_eq(acct_setup(-1, &env), 0);
}

static void teardown(void)
{
	acct_forget();
	sess_table_free(&t);
	free(owner);
	cfg_free(&cfg);
}

/* A session for user as a RADIUS login with grant g makes it. */
static struct session *login(const char *user, const struct radius_grant *g, int *rc)
{
	struct hash_done d = {.user = user,
			      .peer = "198.18.0.10:4000",
			      .sid = sess_make_sid(cfg.node_id),
			      .nas_port = 42,
			      .grant = g};
	/* As auth.c does: the session takes the Access-Request's sid. */
	struct session *s = sess_create_sid(&t, user, d.peer, d.sid);

	ck_assert_ptr_nonnull(s);
	*rc = radsess_grant(s, &d, &t.pool);
	if (*rc == 0)
		ck_assert_uint_eq(s->sid, d.sid);
	return s;
}

static struct acct_rec rec(unsigned i)
{
	struct acct_rec r;

	ck_assert_msg(acct_nth(i, &r), "no record %u (%u waiting)", i, acct_pending());
	return r;
}

START_TEST(test_state)
{
	uint8_t st = ACCT_NONE;

	ck_assert_int_eq(acct_interim(&st), 0);
	ck_assert_int_eq(acct_end(&st), 0); /* no Start, no Stop */
	ck_assert_int_eq(acct_begin(&st), ACCT_START);
	ck_assert_int_eq(acct_begin(&st), 0);
	ck_assert_int_eq(acct_interim(&st), ACCT_INTERIM);
	ck_assert_int_eq(acct_interim(&st), ACCT_INTERIM);
	ck_assert_int_eq(acct_end(&st), ACCT_STOP);
	ck_assert_int_eq(acct_end(&st), 0);
	ck_assert_int_eq(acct_interim(&st), 0);
	ck_assert_int_eq(acct_begin(&st), 0); /* a stopped session never starts again */
}
END_TEST

/* Start at the first CONNECT only, Interims on the interval, one Stop
 * when the session ends, all with the Access-Request's sid, Session-Time
 * from the login. */
START_TEST(test_exactly_once)
{
	struct radius_grant g = {.have = RG_INTERIM | RG_CLASS, .interim = 10, .class_len = 4};
	struct ipc_ref ref = {1, 1};
	struct session *s;
	struct acct_rec r;
	time_t t0;
	int rc;

	memcpy(g.class_buf,
	       "\x03"
	       "abc",
	       4);
	s = login("alice", &g, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(s->sid >> 56, 7); /* session.node-id */
	t0 = s->created;
	ck_assert_uint_eq(acct_pending(), 0);
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), 0);
	radsess_connected(s, t0 + 1);
	sess_unbind(&t, s); /* the line drops, the client comes back */
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), 0);
	radsess_connected(s, t0 + 3);
	ck_assert_uint_eq(acct_pending(), 1);
	ck_assert_ptr_null(radsess_due(s, t0 + 10));
	ck_assert_ptr_null(radsess_due(s, t0 + 11)); /* first one at Start + 10 */
	ck_assert_uint_eq(acct_pending(), 2);
	ck_assert_ptr_null(radsess_due(s, t0 + 11));
	ck_assert_ptr_null(radsess_due(s, t0 + 21));
	ck_assert_uint_eq(acct_pending(), 3);
	s->ctr.rx_bytes = 5ull << 32 | 7;
	s->ctr.rx_pkts = 9;
	s->end_cause = SESS_END_USER_REQUEST;
	sess_end(&t, s, "client logged out");
	ck_assert_uint_eq(acct_pending(), 4);
	ck_assert_uint_eq(rec(0).kind, ACCT_START);
	ck_assert_uint_eq(rec(1).kind, ACCT_INTERIM);
	ck_assert_uint_eq(rec(1).session_time, 11);
	ck_assert_uint_eq(rec(2).kind, ACCT_INTERIM);
	ck_assert_uint_eq(rec(2).session_time, 21);
	r = rec(3);
	ck_assert_uint_eq(r.kind, ACCT_STOP);
	ck_assert_uint_eq(r.cause, SESS_END_USER_REQUEST);
	ck_assert_uint_eq(r.in_octets, 5ull << 32 | 7);
	ck_assert_uint_eq(r.in_pkts, 9);
	ck_assert_uint_eq(r.nas_port, 42);
	ck_assert_uint_eq(r.class_len, 4);
	ck_assert_mem_eq(r.class_buf,
			 "\x03"
			 "abc",
			 4);
	ck_assert_str_eq(r.user, "alice");
	for (unsigned i = 1; i < 4; i++)
		ck_assert_uint_eq(rec(i).sid, rec(0).sid);
	ck_assert(r.have4 && r.have6);
}
END_TEST

/* A login that never got its tunnel has no Start and so no Stop. */
START_TEST(test_no_tunnel_no_records)
{
	struct radius_grant g = {0};
	struct session *s;
	int rc;

	s = login("bob", &g, &rc);
	ck_assert_int_eq(rc, 0);
	sess_end(&t, s, "reconnect timeout");
	ck_assert_uint_eq(acct_pending(), 0);
}
END_TEST

START_TEST(test_timeouts)
{
	struct radius_grant g = {.have = RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT,
				 .session_timeout = 100,
				 .idle_timeout = 20};
	struct sess_counters c = {.rx_pkts = 1};
	struct ipc_ref ref = {1, 1};
	struct session *s;
	time_t t0;
	int rc;

	s = login("carol", &g, &rc);
	t0 = s->created;
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), 0);
	radsess_connected(s, t0 + 2);
	ck_assert_ptr_null(radsess_due(s, t0 + 21));
	radsess_traffic(s, &c, t0 + 15);
	ck_assert_ptr_null(radsess_due(s, t0 + 34));
	ck_assert_str_eq(radsess_due(s, t0 + 35), "Idle-Timeout (RADIUS)");
	ck_assert_uint_eq(s->end_cause, SESS_END_IDLE_TIMEOUT);
	radsess_traffic(s, &c, t0 + 40);
	ck_assert_str_eq(radsess_due(s, t0 + 100), "Session-Timeout (RADIUS)");
	ck_assert_uint_eq(s->end_cause, SESS_END_SESSION_TIMEOUT);
	/* A CoA's Session-Timeout counts from the CoA; 0 lifts it. */
	g.session_timeout = 30;
	g.have = RG_SESSION_TIMEOUT;
	radsess_coa(s, &g, t0 + 90);
	radsess_traffic(s, &c, t0 + 95);
	ck_assert_ptr_null(radsess_due(s, t0 + 100));
	ck_assert_str_eq(radsess_due(s, t0 + 120), "Session-Timeout (RADIUS)");
	g.session_timeout = 0;
	radsess_coa(s, &g, t0 + 121);
	radsess_traffic(s, &c, t0 + 1000);
	ck_assert_ptr_null(radsess_due(s, t0 + 1001));
	s->end_cause = SESS_END_ADMIN_RESET;
	sess_end(&t, s, "x");
	ck_assert_uint_eq(rec(acct_pending() - 1).cause, SESS_END_ADMIN_RESET);
}
END_TEST

/* An Idle-Timeout shorter than the workers' 10 s between traffic reports
 * is raised to RADSESS_IDLE_MIN, so a busy session is never taken for an
 * idle one; the client is told the raised value. */
START_TEST(test_idle_min)
{
	struct radius_grant g = {.have = RG_IDLE_TIMEOUT, .idle_timeout = 5};
	struct sess_counters c = {.rx_pkts = 1};
	struct ipc_ref ref = {1, 1};
	struct ipc_msg m = {0};
	struct session *s;
	time_t t0;
	int rc;

	s = login("erin", &g, &rc);
	t0 = s->created;
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), 0);
	radsess_connected(s, t0);
	radsess_connect_resp(s, &m, t0);
	ck_assert_uint_eq(m.u.connect_resp.idle_timeout, RADSESS_IDLE_MIN);
	radsess_traffic(s, &c, t0 + 10);
	ck_assert_ptr_null(radsess_due(s, t0 + 19));
	ck_assert_ptr_null(radsess_due(s, t0 + 10 + RADSESS_IDLE_MIN - 1));
	ck_assert_str_eq(radsess_due(s, t0 + 10 + RADSESS_IDLE_MIN), "Idle-Timeout (RADIUS)");
	/* A CoA's shorter one is raised too. */
	g.idle_timeout = 1;
	radsess_coa(s, &g, t0 + 30);
	ck_assert_ptr_null(radsess_due(s, t0 + 30 + RADSESS_IDLE_MIN - 1));
	ck_assert_str_eq(radsess_due(s, t0 + 30 + RADSESS_IDLE_MIN), "Idle-Timeout (RADIUS)");
	sess_end(&t, s, "x");
}
END_TEST

static void set4(struct radius_grant *g, const char *a)
{
	ck_assert_int_eq(inet_pton(AF_INET, a, &g->ip4), 1);
	g->have |= RG_IP4;
}

static void set6(struct radius_grant *g, const char *a)
{
	ck_assert_int_eq(inet_pton(AF_INET6, a, &g->ip6), 1);
	g->have |= RG_IP6;
}

/* Framed-IP-Address picks the lease; an address outside the pool, held by
 * another session, or not matching the IPv6 one is refused. */
START_TEST(test_addresses)
{
	struct radius_grant g = {0}, h = {0};
	struct ipc_ref ref = {1, 1};
	struct session *s;
	int rc;

	set4(&g, "198.18.100.77");
	set6(&g, "fd00:100::4d");
	s = login("alice", &g, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(s->want_lease, 77);
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), 0);
	ck_assert_int_eq(s->lease, 77);
	(void)login("bob", &g, &rc);
	ck_assert_int_eq(rc, -1); /* held */
	set4(&h, "198.18.101.1");
	(void)login("bob", &h, &rc);
	ck_assert_int_eq(rc, -1); /* outside */
	memset(&h, 0, sizeof(h));
	set4(&h, "198.18.100.255");
	(void)login("bob", &h, &rc);
	ck_assert_int_eq(rc, -1); /* broadcast */
	memset(&h, 0, sizeof(h));
	set4(&h, "198.18.100.80");
	set6(&h, "fd00:100::51");
	(void)login("bob", &h, &rc);
	ck_assert_int_eq(rc, -1); /* two leases */
	memset(&h, 0, sizeof(h));
	set6(&h, "fd00:100::51");
	s = login("bob", &h, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(s->want_lease, 0x51);
	/* The pool took 0x51 meanwhile: the CONNECT is refused, not given
	 * another address. */
	ck_assert_int_eq(pool_take(&t.pool, 0x51), 0);
	ck_assert_int_eq(sess_bind(&t, s, 0, ref), -EBUSY);
}
END_TEST

START_TEST(test_connect_resp)
{
	struct radius_grant g = {.have = RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT,
				 .session_timeout = 50,
				 .idle_timeout = 20,
				 .n_routes = 1};
	struct ipc_msg m;
	struct session *s;
	int rc;

	g.routes[0].addr.family = AF_INET;
	g.routes[0].len = 24;
	s = login("alice", &g, &rc);
	memset(&m, 0, sizeof(m));
	radsess_connect_resp(s, &m, s->created + 10);
	ck_assert_uint_eq(m.u.connect_resp.session_left, 40);
	ck_assert_uint_eq(m.u.connect_resp.idle_timeout, 20);
	ck_assert_uint_eq(m.u.connect_resp.n_routes, 1);
	ck_assert_uint_eq(m.u.connect_resp.routes[0].len, 24);
}
END_TEST

/* The session's routes reach a worker only well-formed and counted. */
START_TEST(test_ipc_routes)
{
	struct ipc_msg m;
	char why[160];

	memset(&m, 0, sizeof(m));
	m.type = IPC_CONNECT_RESP;
	m.u.connect_resp.status = 200;
	m.u.connect_resp.lease = 77;
	strcpy(m.u.connect_resp.user, "alice");
	m.u.connect_resp.n_routes = 1;
	m.u.connect_resp.routes[0].addr.family = AF_INET;
	m.u.connect_resp.routes[0].len = 24;
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 256, why, sizeof(why)), 0);
	m.u.connect_resp.routes[0].addr.u.v4.s_addr = htonl(0xc6120901); /* host bits */
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 256, why, sizeof(why)),
			 -EBADMSG);
	m.u.connect_resp.routes[0].addr.u.v4.s_addr = 0;
	m.u.connect_resp.n_routes = IPC_SESS_ROUTES_MAX + 1;
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 256, why, sizeof(why)),
			 -EBADMSG);
}
END_TEST

/* Full: an Interim is refused; a Start or a Stop takes the oldest
 * Interim's place. */
START_TEST(test_queue_bound)
{
	struct acct_rec r = {.kind = ACCT_INTERIM};

	for (unsigned i = 0; i < 16; i++) {
		r.sid = i;
		ck_assert_int_eq(acct_queue(&r), 0);
	}
	ck_assert_int_eq(acct_queue(&r), -ENOBUFS);
	r.kind = ACCT_STOP;
	r.sid = 100;
	ck_assert_int_eq(acct_queue(&r), 0);
	ck_assert_uint_eq(acct_pending(), 16);
	ck_assert_uint_eq(rec(0).sid, 1);
	ck_assert_uint_eq(rec(15).sid, 100);
	for (unsigned i = 0; i < 15; i++) {
		r.sid = 200 + i;
		ck_assert_int_eq(acct_queue(&r), 0);
	}
	r.sid = 300;
	ck_assert_int_eq(acct_queue(&r), -ENOBUFS); /* Stops only: none dropped */
	ck_assert_uint_eq(rec(0).sid, 100);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("radacct");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_exactly_once);
	tcase_add_test(tc, test_no_tunnel_no_records);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_idle_min);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_connect_resp);
	tcase_add_test(tc, test_queue_bound);
	tcase_add_test(tc, test_ipc_routes);
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
