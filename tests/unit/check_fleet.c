/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the fleet's parts of the master.  Slices of the pools
 * (common/pool.c pool_slice, daemon/sessions.c sess_slice), session ids,
 * a session re-created from its cookie on another node's table
 * (daemon/resume.c), and the shared files of fleet.state-dir
 * (daemon/fleet.c): this node's revocations written, another node's
 * revocations and claims read and obeyed; a RADIUS session re-created with
 * its grant (ticket version 2); CoA-Requests passed between nodes
 * (daemon/fleetcoa.c). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "common/passwd.h"
#include "common/pool.h"
#include "daemon/acct.h"
#include "daemon/cookies.h"
#include "daemon/fleet.h"
#include "daemon/fleetcoa.h"
#include "daemon/radsess.h"
#include "daemon/resume.h"
#include "daemon/sessions.h"

#define CONF(node)                                                                                 \
	"listen = [\"0.0.0.0:443\"];\n"                                                            \
	"auth = { password-file = \"passwd\"; };\n"                                                \
	"network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\"; };\n"         \
	"session = { node-id = " #node "; };\n"                                                    \
	"fleet = { nodes = 2; };\n"

static struct cfg cfg;
static uint8_t *owner;
static struct sess_table t;
#define DIR_TEMPLATE "/tmp/check_fleet.XXXXXX"
static char dir[] = DIR_TEMPLATE;

static void load(struct cfg *c, const char *text)
{
	char err[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(text, "t.conf", c, err, sizeof(err)) == 0, "%s", err);
}

static void setup(void)
{
	struct cookie_ring *ring;
	char err[CFG_ERR_LEN];

	load(&cfg, CONF(0));
	/* A fresh template each time: without fork, one process runs every test. */
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg.fleet_state_dir = strdup(dir);
	owner = calloc(POOL_MAX_SIZE, 1);
	ck_assert_int_eq(sess_table_init(&t, &cfg, owner), 0);
	t.ended = fleet_ended;
	ck_assert_int_eq(fleet_open(&cfg, &t), 0);
	ck_assert_int_eq(cookies_load(&cfg, &ring, err, sizeof(err)), 0);
	cookies_commit(&ring);
}

static void teardown(void)
{
	char cmd[64];

	fleet_close();
	cookies_forget();
	sess_table_free(&t);
	free(owner);
	cfg_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* pool_slice: new leases from the slice only, any index by pool_take. */
START_TEST(test_pool_slice)
{
	struct cfg_prefix p4 = {.addr.family = AF_INET, .len = 24};
	struct pool p;
	int64_t idx;

	inet_pton(AF_INET, "198.18.100.0", &p4.addr.u.v4);
	ck_assert_int_eq(pool_init(&p, &p4, NULL), 0);
	ck_assert_int_eq(pool_slice(&p, 128, 256), 0);
	ck_assert_uint_eq(p.slice_usable, 127); /* .255 is the broadcast */
	for (int i = 0; i < 127; i++) {
		idx = pool_alloc(&p);
		ck_assert_int_ge(idx, 128);
		ck_assert_int_lt(idx, 255);
	}
	ck_assert_int_eq(pool_alloc(&p), -ENOSPC); /* the slice is full, the pool not */
	ck_assert_int_eq(pool_take(&p, 5), 0);	   /* outside the slice: allowed */
	pool_release(&p, 200);
	ck_assert_int_eq(pool_alloc(&p), 200);
	ck_assert_int_eq(pool_slice(&p, 0, 2), -ERANGE); /* network and server only */
	ck_assert_int_eq(pool_slice(&p, 10, 10), -ERANGE);
	ck_assert_int_eq(pool_slice(&p, 0, 257), -ERANGE);
	pool_free(&p);
}
END_TEST

START_TEST(test_sess_slice)
{
	struct cfg c = {.fleet_nodes = 3};
	uint32_t lo, hi;

	c.node_id = 0;
	sess_slice(&c, 256, &lo, &hi);
	ck_assert_uint_eq(lo, 0);
	ck_assert_uint_eq(hi, 85);
	c.node_id = 2;
	sess_slice(&c, 256, &lo, &hi);
	ck_assert_uint_eq(lo, 170);
	ck_assert_uint_eq(hi, 256);
	c.fleet_nodes = 1;
	c.node_id = 0;
	sess_slice(&c, 256, &lo, &hi);
	ck_assert_uint_eq(lo, 0);
	ck_assert_uint_eq(hi, 256);
	/* The table's pool hands out node 0's half of a /24 only. */
	for (int i = 0; i < 126; i++) {
		struct session *s = sess_create(&t, "alice", "198.18.0.2:1");
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(sess_lease(&t, s), 0);
		ck_assert_int_lt(s->lease, 128);
	}
	ck_assert_int_eq(sess_lease(&t, sess_create(&t, "alice", "198.18.0.2:1")), -ENOSPC);
}
END_TEST

START_TEST(test_sids)
{
	struct session *a = sess_create(&t, "alice", "198.18.0.2:1");
	struct session *b = sess_create(&t, "bob", "198.18.0.3:1");

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(a->sid >> 56, 0);
	ck_assert_uint_ne(a->sid, b->sid);
	ck_assert_ptr_eq(sess_by_sid(&t, a->sid), a);
	ck_assert_ptr_eq(sess_by_sid(&t, b->sid), b);
	ck_assert_ptr_null(sess_create_sid(&t, "eve", "198.18.0.4:1", a->sid));
	ck_assert_ptr_null(sess_by_sid(&t, a->sid ^ 1));
	sess_end(&t, a, "test");
	ck_assert_ptr_null(sess_by_sid(&t, a->sid));
	ck_assert_ptr_eq(sess_by_sid(&t, b->sid), b);
}
END_TEST

static struct passwd_db *users(const char *pass)
{
	char err[CFG_ERR_LEN], hash[256], text[512];
	struct passwd_db *db = NULL;

	ck_assert_int_eq(passwd_hash(pass, "$6$", hash, sizeof(hash)), 0);
	snprintf(text, sizeof(text), "alice:%s\n", hash);
	ck_assert_msg(passwd_db_parse(text, strlen(text), "pw", &db, err, sizeof(err)) == 0, "%s",
		      err);
	return db;
}

/* Another node (a table of node 1) re-creates a session of node 0 from
 * its ticket: same sid, start, user, groups (its group first), addresses. */
START_TEST(test_resume)
{
	struct passwd_db *db = users("right"), *db2 = users("new");
	struct sess_table other;
	struct cfg c1 = {0};
	uint8_t *own1 = calloc(POOL_MAX_SIZE, 1);
	struct session *s, *r, *taken;
	struct ticket tk;
	const char *why;
	uint64_t stamp;

	load(&c1, CONF(1));
	ck_assert_int_eq(sess_table_init(&other, &c1, own1), 0);
	s = sess_create(&t, "alice", "198.18.0.2:1");
	ck_assert_int_eq(passwd_db_user(db, "alice", &stamp), PW_OK);
	/* The user's groups; the login picked the second (auth.group-select). */
	snprintf(s->groups, sizeof(s->groups), "eng,staff");
	snprintf(s->group, sizeof(s->group), "staff");
	s->created -= 100;
	s->have_stamp = true;
	s->stamp = stamp;
	s->expires = s->created + 3600;
	ck_assert_int_eq(sess_lease(&t, s), 0);
	resume_ticket_of(&t, s, &tk);
	ck_assert(tk.have4 && tk.have6 && tk.node == 0);

	r = resume_session(&other, db, &tk, "198.18.0.2:2", &why);
	ck_assert_msg(r != NULL, "%s", why);
	ck_assert_uint_eq(r->sid, s->sid);
	ck_assert_int_eq((long)r->created, (long)s->created);
	ck_assert_int_eq(r->lease, s->lease); /* node 0's slice, held on node 1 */
	/* Its group first: the first this node defines is the same group. */
	ck_assert_str_eq(r->groups, "staff,eng");
	ck_assert_str_eq(r->user, "alice");
	sess_end(&other, r, "test");

	/* Its address held by another session there: refused. */
	taken = sess_create(&other, "bob", "198.18.0.3:1");
	ck_assert_int_eq(sess_claim(&other, taken, (uint32_t)s->lease), 0);
	tk.sid ^= 0x1234; /* a new sid: the old one ended there */
	ck_assert_ptr_null(resume_session(&other, db, &tk, "198.18.0.2:3", &why));
	ck_assert_ptr_nonnull(strstr(why, "held by another session"));
	/* The user's password changed since the login: refused. */
	ck_assert_ptr_null(resume_session(&other, db2, &tk, "198.18.0.2:3", &why));
	ck_assert_str_eq(why, "the user's password changed");
	/* Addresses outside the pools: refused. */
	inet_pton(AF_INET, "198.18.200.7", &tk.v4);
	ck_assert_ptr_null(resume_session(&other, db, &tk, "198.18.0.2:3", &why));
	ck_assert_ptr_nonnull(strstr(why, "not in this node's pools"));

	sess_table_free(&other);
	free(own1);
	cfg_free(&c1);
	passwd_db_free(db);
	passwd_db_free(db2);
}
END_TEST

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A RADIUS session's grant goes with its cookie: the node that re-creates
 * it has its deadline, timeouts, routes and Class, a NAS-Port of its own,
 * and sends Start at the first CONNECT. */
START_TEST(test_resume_radius)
{
	struct passwd_db *db = users("right");
	struct sess_table other;
	struct cfg c1 = {0};
	uint8_t *own1 = calloc(POOL_MAX_SIZE, 1), tok[TICKET_MAX_LEN];
	char text[TICKET_MAX_TEXT_LEN + 1];
	struct session *s, *r;
	struct radius_sess *g = calloc(1, sizeof(*g));
	struct ticket tk;
	const char *why;
	int n;

	load(&c1, CONF(1));
	ck_assert_int_eq(sess_table_init(&other, &c1, own1), 0);
	other.on_end = radsess_end;
	radsess_use(&c1, &other.pool.g);
	s = sess_create(&t, "alice", "198.18.0.2:1");
	s->created -= 100;
	s->expires = s->created + 3600;
	snprintf(s->groups, sizeof(s->groups), "staff");
	ck_assert_int_eq(sess_lease(&t, s), 0);
	g->g.have = RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT | RG_INTERIM | RG_CLASS | RG_IP4;
	g->g.session_timeout = 600;
	g->g.idle_timeout = 120;
	g->g.interim = 30;
	g->g.n_routes = 2;
	g->g.routes[0].addr.family = AF_INET;
	inet_pton(AF_INET, "198.18.9.0", &g->g.routes[0].addr.u.v4);
	g->g.routes[0].len = 24;
	g->g.routes[1].addr.family = AF_INET6;
	inet_pton(AF_INET6, "fd00:9::", &g->g.routes[1].addr.u.v6);
	g->g.routes[1].len = 48;
	g->g.class_len = 10;
	memcpy(g->g.class_buf, "\x09OU=staff;", 10);
	g->deadline = s->created + 600;
	g->nas_port = 7;
	g->acct = ACCT_STARTED;
	s->rad = g;

	resume_ticket_of(&t, s, &tk);
	ck_assert(tk.have_rad);
	/* Through the seal and the text form, as a client carries it. */
	ck_assert_int_eq(cookies_seal(&tk, text), 0);
	ck_assert_uint_eq(strlen(text), TICKET_V2_TEXT_LEN);
	n = ticket_decode(text, strlen(text), tok);
	ck_assert_int_eq(n, TICKET_V2_LEN);
	ck_assert_int_eq(cookies_open(tok, (size_t)n, &tk), 0);
	r = resume_session(&other, db, &tk, "198.18.0.2:2", &why);
	ck_assert_msg(r != NULL, "%s", why);
	ck_assert_ptr_nonnull(r->rad);
	ck_assert_int_eq((long)r->rad->deadline, (long)g->deadline);
	ck_assert_uint_eq(r->rad->g.have,
			  RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT | RG_INTERIM | RG_CLASS);
	ck_assert_uint_eq(r->rad->g.idle_timeout, 120);
	/* Acct-Interim-Interval, no shorter than radius.min-interim-interval. */
	ck_assert_uint_eq(r->rad->interim, 30 < c1.radius_min_interim ? c1.radius_min_interim : 30);
	ck_assert_uint_eq(r->rad->g.n_routes, 2);
	ck_assert_mem_eq(r->rad->g.routes, g->g.routes, 2 * sizeof(g->g.routes[0]));
	ck_assert_uint_eq(r->rad->g.class_len, 10);
	ck_assert_mem_eq(r->rad->g.class_buf, g->g.class_buf, 10);
	ck_assert_uint_gt(r->rad->nas_port, 0);
	ck_assert_uint_eq(r->rad->acct, ACCT_NONE); /* Start comes at its CONNECT */
	ck_assert_uint_eq(r->backend, SESS_BK_RADIUS);
	ck_assert_int_eq((long)r->created, (long)s->created); /* Session-Time goes on */
	sess_end(&other, r, "test");

	/* A grant that does not hold together is refused, the session not
	 * made. */
	tk.rad.class_len = 3;
	tk.rad.class_buf[0] = 9;
	ck_assert_ptr_null(resume_session(&other, db, &tk, "198.18.0.2:3", &why));
	ck_assert_str_eq(why, "its RADIUS grant is refused");
	ck_assert_uint_eq(other.count, 0);
	/* A grant too large for a cookie (9 IPv6 routes) stays out of it. */
	g = calloc(1, sizeof(*g));
	g->g.n_routes = 9;
	for (unsigned i = 0; i < 9; i++)
		g->g.routes[i] = (struct cfg_prefix){.addr.family = AF_INET6, .len = 64};
	free(s->rad);
	s->rad = g;
	resume_ticket_of(&t, s, &tk);
	ck_assert(!tk.have_rad);
	/* Without RADIUS no grant goes into the cookie. */
	free(s->rad);
	s->rad = NULL;
	resume_ticket_of(&t, s, &tk);
	ck_assert(!tk.have_rad);

	sess_table_free(&other);
	free(own1);
	cfg_free(&c1);
	passwd_db_free(db);
}
END_TEST

/* fleetcoa.c's lines: what is written reads back; what is malformed is
 * refused. */
START_TEST(test_coa_lines)
{
	struct radius_grant g = {0}, o;
	char line[1024];
	uint64_t id, sid;
	int64_t at;

	g.have = RG_SESSION_TIMEOUT | RG_CLASS;
	g.session_timeout = 3;
	g.class_len = 4;
	memcpy(g.class_buf,
	       "\x03"
	       "a;b",
	       4);
	ck_assert_int_gt(
	    fleetcoa_format_line(line, sizeof(line), 9, 0x01000000000000abull, 1800000000, &g), 0);
	ck_assert_int_eq(fleetcoa_parse_line(line, &id, &sid, &at, &o), 0);
	ck_assert_uint_eq(id, 9);
	ck_assert_uint_eq(sid, 0x01000000000000abull);
	ck_assert_int_eq(at, 1800000000);
	ck_assert_uint_eq(o.have, g.have);
	ck_assert_uint_eq(o.session_timeout, 3);
	ck_assert_uint_eq(o.class_len, 4);
	ck_assert_mem_eq(o.class_buf, g.class_buf, 4);
	static const char *const bad[] = {
	    "0000000000000009 01000000000000ab 1800000000 4 3 0 0 -",	      /* ok */
	    "0000000000000009 01000000000000ab 1800000000 4 3 0 0",	      /* short */
	    "0000000000000009 01000000000000ab 1800000000 4 3 0 0 - x",	      /* extra */
	    "9 01000000000000ab 1800000000 4 3 0 0 -",			      /* id */
	    "0000000000000009 01000000000000ab 0 4 3 0 0 -",		      /* at */
	    "0000000000000009 01000000000000ab 1800000000 1 0 0 0 -",	      /* RG_IP4 */
	    "0000000000000009 01000000000000ab 1800000000 32 0 0 0 0361",     /* odd */
	    "0000000000000009 01000000000000ab 1800000000 32 0 0 0 05613b62", /* Class */
	    "0000000000000009 01000000000000ab 1800000000 0 0 0 0 03613b62",  /* no bit */
	};
	ck_assert_int_eq(fleetcoa_parse_line(bad[0], &id, &sid, &at, &o), 0);
	for (size_t i = 1; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(fleetcoa_parse_line(bad[i], &id, &sid, &at, &o) == -1, "%s", bad[i]);
}
END_TEST

static unsigned n_applied;
static struct radius_grant last_g;
static uint64_t last_sid;
static time_t last_at;

static void applied(uint64_t sid, const struct radius_grant *g, time_t at, unsigned node)
{
	ck_assert_uint_eq(node, 1);
	n_applied++;
	last_sid = sid;
	last_g = *g;
	last_at = at;
}

/* A CoA-Request published on one node is applied once on the node that
 * reads it, timed from the request; one of an earlier run is not. */
START_TEST(test_coa_files)
{
	time_t now = time(NULL);
	struct radius_grant g = {.have = RG_SESSION_TIMEOUT, .session_timeout = 5};
	char path[300], line[1024], text[4096];
	struct stat st;
	FILE *f;

	fleetcoa_open(&cfg, now);
	/* Only for a sid some node of the fleet (2 nodes) could have made. */
	ck_assert(!fleetcoa_publish(0x05000000000000a1ull, &g, now));
	ck_assert(fleetcoa_publish(0x01000000000000a1ull, &g, now));
	fleetcoa_tick(now, applied);
	snprintf(path, sizeof(path), "%s/node-0.coa", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(fread(text, 1, sizeof(text) - 1, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, " 01000000000000a1 "));
	ck_assert_uint_eq(n_applied, 0); /* our own are not for us */

	/* Node 1's file: two requests, one of them from before our start. */
	ck_assert_int_gt(
	    fleetcoa_format_line(line, sizeof(line), 100, 0x00000000000000b2ull, now, &g), 0);
	snprintf(text, sizeof(text), "# node 1\n%s\n", line);
	ck_assert_int_gt(
	    fleetcoa_format_line(line, sizeof(line), 99, 0x00000000000000b3ull, now - 5, &g), 0);
	strcat(text, line);
	strcat(text, "\nnot a line\n");
	write_file("node-1.coa", text);
	fleetcoa_tick(now, applied);
	ck_assert_uint_eq(n_applied, 1);
	ck_assert_uint_eq(last_sid, 0xb2);
	ck_assert_int_eq((long)last_at, (long)now);
	ck_assert_uint_eq(last_g.session_timeout, 5);
	fleetcoa_tick(now + 1, applied); /* the same file: nothing again */
	ck_assert_uint_eq(n_applied, 1);
	/* Rewritten with a newer request: only that one. */
	ck_assert_int_gt(
	    fleetcoa_format_line(line, sizeof(line), 101, 0x00000000000000b4ull, now + 1, &g), 0);
	strcat(text, line);
	strcat(text, "\n");
	write_file("node-1.coa", text);
	fleetcoa_tick(now + 1, applied);
	ck_assert_uint_eq(n_applied, 2);
	ck_assert_uint_eq(last_sid, 0xb4);
	/* Ours expire from the file. */
	fleetcoa_tick(now + FLEETCOA_KEEP, applied);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	memset(text, 0, sizeof(text));
	ck_assert_uint_gt(fread(text, 1, sizeof(text) - 1, f), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(text, "01000000000000a1"));
	fleetcoa_close();
}
END_TEST

/* This node's revocations land in node-0.revoked; node 1's revocations and
 * claims are read and obeyed. */
START_TEST(test_files)
{
	struct session *s = sess_create(&t, "alice", "198.18.0.2:1"), *h;
	char path[256], text[512], buf[64], line[128];
	time_t now = time(NULL);
	bool found = false;
	uint64_t sid = s->sid;
	FILE *f;

	s->expires = now + 3600;
	fleet_revoke(s);
	sess_end(&t, s, "logged out");
	ck_assert_ptr_nonnull(fleet_refused(sid, buf, sizeof(buf)));
	(void)fleet_tick(now);
	snprintf(path, sizeof(path), "%s/node-0.revoked", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	snprintf(text, sizeof(text), "%016llx %lld", (unsigned long long)sid,
		 (long long)now + 3600);
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, text, strlen(text));
	fclose(f);
	ck_assert_msg(found, "%s lacks %s", path, text);

	/* Node 1 revoked a session held here, and claims another one's
	 * address (lease 7) and the session of lease 9, which waits here. */
	h = sess_create(&t, "bob", "198.18.0.3:1");
	ck_assert_int_eq(sess_claim(&t, h, 9), 0);
	snprintf(text, sizeof(text),
		 "# node 1\n0100000000000042 %lld\nbad line\n"
		 "0100000000000043 %lld\n",
		 (long long)now + 60, (long long)now - 1 /* expired: ignored */);
	write_file("node-1.revoked", text);
	snprintf(text, sizeof(text),
		 "0100000000000077 %lld 198.18.100.7 fd00:100::7\n%016llx %lld 198.18.100.9 "
		 "fd00:100::9\n",
		 (long long)now + 60, (unsigned long long)h->sid, (long long)now + 60);
	write_file("node-1.claims", text);
	ck_assert(fleet_tick(now));
	ck_assert_uint_eq(fleet_revoked_by(0x0100000000000042ull), 2);
	ck_assert_uint_eq(fleet_revoked_by(0x0100000000000043ull), 0);
	ck_assert_ptr_nonnull(
	    strstr(fleet_refused(0x0100000000000042ull, buf, sizeof(buf)), "ended on node 1"));
	ck_assert_uint_eq(fleet_claimed_by(h->sid), 2);
	/* Lease 7 is kept for node 1's claim: not free here. */
	ck_assert(pool_in_use(&t.pool, 7));
	ck_assert_int_eq(sess_claim(&t, sess_create(&t, "carol", "198.18.0.4:1"), 7), -EBUSY);
	ck_assert(!fleet_tick(now)); /* nothing changed since */
	/* The claim goes: lease 7 is free again. */
	write_file("node-1.claims", "# nothing\n");
	ck_assert(fleet_tick(now));
	ck_assert(!pool_in_use(&t.pool, 7));
}
END_TEST

/* Whether node-0.revoked names sid. */
static bool published(uint64_t sid)
{
	char path[256], line[128], want[20];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/node-0.revoked", dir);
	snprintf(want, sizeof(want), "%016llx ", (unsigned long long)sid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, want, strlen(want));
	fclose(f);
	return found;
}

/* A session whose time ran out here (no reconnect within
 * session.reconnect-timeout) is over on every node: published like a
 * logout.  One that another node claims only moved; one that ended
 * otherwise (the server stopped) is refused here alone. */
START_TEST(test_timed_out_is_revoked)
{
	struct session *gone = sess_create(&t, "alice", "198.18.0.2:1"),
		       *moved = sess_create(&t, "bob", "198.18.0.3:1"),
		       *stopped = sess_create(&t, "carol", "198.18.0.4:1");
	uint64_t g = gone->sid, m = moved->sid, st = stopped->sid;
	time_t now = time(NULL);
	char text[128], buf[64];

	gone->expires = moved->expires = stopped->expires = now + 3600;
	gone->idle_since = moved->idle_since = now - 400;
	snprintf(text, sizeof(text), "%016llx %lld 198.18.100.9 fd00:100::9\n",
		 (unsigned long long)m, (long long)now + 60);
	write_file("node-1.claims", text);
	ck_assert(fleet_tick(now));
	sess_expire(&t, now, 300);
	ck_assert_ptr_null(sess_by_sid(&t, g));
	ck_assert_ptr_null(sess_by_sid(&t, m));
	stopped->end_cause = SESS_END_ADMIN_REBOOT;
	sess_end(&t, stopped, "the server stopped");
	(void)fleet_tick(now);
	ck_assert(published(g));
	ck_assert(!published(m));
	ck_assert(!published(st));
	ck_assert_ptr_nonnull(fleet_refused(g, buf, sizeof(buf)));
	ck_assert_ptr_nonnull(fleet_refused(st, buf, sizeof(buf)));
}
END_TEST

/* A Disconnect-Request for a session another node holds: this node
 * publishes its revocation (its file names the sid), refuses its cookie,
 * and leaves sids no node of the fleet could have made alone. */
START_TEST(test_revoke_elsewhere)
{
	const uint64_t sid = 0x0100000000000099ull; /* made by node 1 */
	char path[256], text[64], line[128], buf[64];
	time_t now = time(NULL);
	bool found = false;
	FILE *f;

	ck_assert(!fleet_revoke_elsewhere(0x0500000000000001ull, now)); /* no node 5 of 2 */
	ck_assert(fleet_revoke_elsewhere(sid, now));
	ck_assert_ptr_nonnull(fleet_refused(sid, buf, sizeof(buf)));
	(void)fleet_tick(now);
	snprintf(path, sizeof(path), "%s/node-0.revoked", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	snprintf(text, sizeof(text), "%016llx %lld", (unsigned long long)sid,
		 (long long)(now + (time_t)cfg.cookie_lifetime));
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, text, strlen(text));
	fclose(f);
	ck_assert_msg(found, "%s lacks %s", path, text);
	/* A lone node (fleet.nodes 1) has no other node to tell. */
	cfg.fleet_nodes = 1;
	ck_assert(!fleet_revoke_elsewhere(0x0000000000000123ull, now));
	cfg.fleet_nodes = 2;
}
END_TEST

/* The key file: its keys, or a clear refusal when others could read or
 * change it; without one, the state directory's key, which a reload
 * keeps. */
START_TEST(test_key_file)
{
	char path[] = "/tmp/check_fleet.keys.XXXXXX", err[CFG_ERR_LEN],
	     text[TICKET_MAX_TEXT_LEN + 1];
	struct ticket tk = {.sid = 5, .created = 1, .expires = 2000000000};
	uint8_t tok[TICKET_MAX_LEN];
	struct cookie_ring *ring;
	struct ticket o;
	struct cfg c = {.fleet_state_dir = dir}; /* no key file: the key kept there */
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(
	    write(fd, "7 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\n", 67),
	    0);
	close(fd);
	snprintf(tk.user, sizeof(tk.user), "alice");
	/* Without a file: the state directory's key, kept across a reload. */
	ck_assert_int_eq(cookies_seal(&tk, text), 0);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), 0);
	cookies_commit(&ring);
	cookies_free(ring);
	ck_assert_int_eq(ticket_decode(text, strlen(text), tok), TICKET_V1_LEN);
	ck_assert_int_eq(cookies_open(tok, TICKET_V1_LEN, &o), 0);
	/* The file's key (id 7) seals from the commit on; the random key's
	 * cookies are refused then. */
	c.cookie_key_file = path;
	ck_assert_msg(cookies_load(&c, &ring, err, sizeof(err)) == 0, "%s", err);
	cookies_commit(&ring);
	cookies_free(ring);
	ck_assert_int_eq(cookies_open(tok, TICKET_V1_LEN, &o), -EBADMSG);
	ck_assert_int_eq(cookies_seal(&tk, text), 0);
	ck_assert_int_eq(ticket_decode(text, strlen(text), tok), TICKET_V1_LEN);
	ck_assert_uint_eq(tok[1], 7);
	ck_assert_ptr_nonnull(strstr(cookies_describe(err, sizeof(err)), "key 7 seals"));
	/* Modes that let others at the keys. */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), -1);
	ck_assert_ptr_null(ring);
	ck_assert_msg(strstr(err, "mode 0644 lets other users at the keys: chmod 600"), "%s", err);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "mode 0620 lets its group change the keys"), "%s", err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), 0);
	cookies_free(ring);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 65534, 0), 0);
		ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "owned by uid 65534"), "%s", err);
	}
	unlink(path);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
	/* What the file says is checked too. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "7 00\n", 5), 5);
	close(fd);
	ck_assert_int_eq(cookies_load(&c, &ring, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: the key must be 64 hex digits"), "%s", err);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pool_slice);
	tcase_add_test(tc, test_sess_slice);
	tcase_add_test(tc, test_sids);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_resume_radius);
	tcase_add_test(tc, test_coa_lines);
	tcase_add_test(tc, test_coa_files);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_timed_out_is_revoked);
	tcase_add_test(tc, test_revoke_elsewhere);
	tcase_add_test(tc, test_key_file);
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
