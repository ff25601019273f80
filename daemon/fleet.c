/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the fleet's shared files (see fleet.h).  Owns this node's
 * revoked and claims lists, the sets built from the other nodes' files, the
 * bitmaps of addresses claimed elsewhere and of those it keeps taken in the
 * pool for them, and what it last saw of each file.  Reading and writing
 * happen in fleet_tick(), once a second, never on a login's path. */
#include "config.h"
#include "daemon/fleet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/fsutil.h"
#include "daemon/sessions.h"
#include "daemon/sidset.h"

#define FILE_MAX     (8u << 20) /* bytes of one node's file */
#define ENTRIES_MAX  131072	/* entries of one node's file */
#define SWEEP_PERIOD 60		/* s between sweeps of expired entries */
#define PUBLISHED    1u		/* F.local: in this node's revoked file too */
#define KIND_REVOKED 0
#define KIND_CLAIMS  1
#define BIT(bm, i)   ((bm)[(i) / 64] >> ((i) % 64) & 1)
#define SETBIT(bm, i, v)                                                                           \
	((bm)[(i) / 64] = ((bm)[(i) / 64] & ~(1ull << ((i) % 64))) | ((uint64_t)(v) << ((i) % 64)))

static const char *const kind_name[] = {"revoked", "claims"};

/* One entry: revoked (idx -1) or claimed (idx the lease in our pools, or
 * -1 when its addresses are not in them). */
struct entry {
	uint64_t sid;
	int64_t expires;
	int64_t idx;
};

struct list {
	struct entry *e;
	size_t n, cap;
};

/* What was last read of one of the others' files. */
struct seen {
	struct fs_seen f;
	struct list l;
};

static struct {
	const struct cfg *cfg;
	struct sess_table *t;
	uint8_t node;
	struct list claims;   /* ours: the sessions we re-created */
	bool dirty[2];	      /* our files changed since written */
	struct sidset local;  /* ended here: PUBLISHED when revoked */
	struct sidset frev;   /* revoked elsewhere: node + 1 */
	struct sidset fclaim; /* claimed elsewhere: node + 1 */
	uint64_t *claimed;    /* lease -> claimed by another node */
	uint64_t *reserved;   /* lease -> taken in our pool for that */
	struct seen peer[256][2];
	time_t next_sweep;
} F;

const char *fleet_dir(void)
{
	return F.cfg && F.cfg->fleet_state_dir ? F.cfg->fleet_state_dir : FLEET_STATE_DIR;
}

static int list_add(struct list *l, const struct entry *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *n = cap <= ENTRIES_MAX ? realloc(l->e, cap * sizeof(*n)) : NULL;

		if (!n)
			return -ENOMEM;
		l->e = n;
		l->cap = cap;
	}
	l->e[l->n++] = *e;
	return 0;
}

static void list_del_sid(struct list *l, uint64_t sid, bool *dirty)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].sid == sid) {
			l->e[i--] = l->e[--l->n];
			*dirty = true;
		}
}

static void list_free(struct list *l)
{
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static void set_put(struct sidset *s, uint64_t sid, int64_t expires, uint32_t v)
{
	if (sidset_put(s, sid, (uint32_t)expires, v) < 0)
		log_warn("fleet: out of memory: session %016llx not remembered",
			 (unsigned long long)sid);
}

/* An entry's value + 1 (0: none). */
static uint32_t set_get(const struct sidset *s, uint64_t sid)
{
	const struct sid_entry *e = sidset_get(s, sid);

	return e ? e->val + 1 : 0;
}

/* The lease index of a claim's addresses in our pools, or -1. */
static int64_t lease_of(const char *a4, const char *a6)
{
	const struct pool_geom *g = &F.t->pool.g;
	struct in_addr v4;
	struct in6_addr v6;
	int64_t i4 = -1, i6 = -1;

	if (strcmp(a4, "-") && inet_pton(AF_INET, a4, &v4) == 1)
		i4 = pool_index4(g, v4.s_addr);
	if (strcmp(a6, "-") && inet_pton(AF_INET6, a6, &v6) == 1)
		i6 = pool_index6(g, &v6);
	if (i4 >= 0 && i6 >= 0 && i4 != i6)
		return -1;
	return i4 >= 0 ? i4 : i6;
}

/* One line (no newline, comment cut) into *e: 0, or -1 when malformed. */
static int parse_line(char *p, int kind, struct entry *e)
{
	char sid[17], a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], extra;
	unsigned long long exp;
	int n;

	if (kind == KIND_REVOKED)
		n = sscanf(p, " %16[0-9a-f] %llu %c", sid, &exp, &extra);
	else
		n = sscanf(p, " %16[0-9a-f] %llu %15s %45s %c", sid, &exp, a4, a6, &extra);
	if (n != (kind == KIND_REVOKED ? 2 : 4) || strlen(sid) != 16 || exp > INT64_MAX)
		return -1;
	e->sid = strtoull(sid, NULL, 16);
	e->expires = (int64_t)exp;
	e->idx = kind == KIND_CLAIMS ? lease_of(a4, a6) : -1;
	return 0;
}

/* The entries of a file's text into l (emptied first); bad lines are
 * skipped and counted. */
static unsigned parse_file(char *text, int kind, struct list *l, time_t now)
{
	unsigned bad = 0;

	l->n = 0;
	for (char *p = text, *eol; *p; p = eol) {
		struct entry e;
		char *hash;

		eol = strchr(p, '\n');
		eol = eol ? (*eol = '\0', eol + 1) : p + strlen(p);
		if ((hash = strchr(p, '#')))
			*hash = '\0';
		if (p[strspn(p, " \t\r")] == '\0')
			continue;
		if (parse_line(p, kind, &e) < 0)
			bad++;
		else if (e.expires > now && list_add(l, &e) < 0)
			break;
	}
	return bad;
}

static void path_of(unsigned node, int kind, bool tmp, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%snode-%u.%s%s", fleet_dir(), tmp ? "." : "", node, kind_name[kind],
		 tmp ? ".tmp" : "");
}

/* Read path into l if it changed since *sn; true when l changed. */
static bool read_file(const char *path, int kind, struct seen *sn, time_t now)
{
	char *text = fs_read_changed(path, FILE_MAX, &sn->f);
	unsigned bad;

	if (!text)
		return false;
	bad = parse_file(text, kind, &sn->l, now);
	free(text);
	if (bad)
		log_warn("fleet: %s: %u malformed line(s) skipped", path, bad);
	return true;
}

/* The others' files, those that changed; true when any did. */
static bool read_others(time_t now)
{
	bool there[256][2] = {{false}}, changed = false;
	DIR *d = opendir(fleet_dir());
	struct dirent *de;
	char path[PATH_MAX], kind[16], rest;
	unsigned node;

	while (d && (de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "node-%3u.%15[a-z]%c", &node, kind, &rest) != 2 ||
		    node > 255 || node == F.node)
			continue;
		for (int k = 0; k < 2; k++)
			if (!strcmp(kind, kind_name[k]))
				there[node][k] = true;
	}
	if (d)
		closedir(d);
	for (node = 0; node < 256; node++)
		for (int k = 0; k < 2; k++) {
			struct seen *sn = &F.peer[node][k];

			if (there[node][k]) {
				path_of(node, k, false, path, sizeof(path));
				changed |= read_file(path, k, sn, now);
			} else if (sn->f.present) {
				list_free(&sn->l);
				memset(sn, 0, sizeof(*sn));
				changed = true;
			}
		}
	return changed;
}

/* Claims of the others: their addresses stay taken in our pool (new logins
 * never get them), except where one of our sessions holds that sid. */
static void reserve_claimed(void)
{
	struct pool *p = &F.t->pool;
	size_t words = (p->g.size + 63) / 64;

	memset(F.claimed, 0, words * sizeof(*F.claimed));
	for (unsigned node = 0; node < 256; node++) {
		const struct list *l = &F.peer[node][KIND_CLAIMS].l;

		for (size_t i = 0; i < l->n; i++) {
			const struct entry *e = &l->e[i];
			const struct session *s = sess_by_sid(F.t, e->sid);

			if (e->idx < 0 || (s && s->lease == e->idx))
				continue;
			SETBIT(F.claimed, e->idx, 1);
			if (BIT(F.reserved, e->idx))
				continue;
			if (pool_take(p, (uint32_t)e->idx) == 0)
				SETBIT(F.reserved, e->idx, 1);
			else if (!s)
				log_warn(
				    "fleet: node %u claims lease %lld for session %016llx, but a "
				    "session here holds it",
				    node, (long long)e->idx, (unsigned long long)e->sid);
		}
	}
	for (uint32_t i = 0; i < p->g.size; i++)
		if (BIT(F.reserved, i) && !BIT(F.claimed, i)) {
			pool_release(p, i);
			SETBIT(F.reserved, i, 0);
		}
}

static int sets_init(void)
{
	sidset_free(&F.frev);
	sidset_free(&F.fclaim);
	if (sidset_init(&F.frev, 1024) < 0 || sidset_init(&F.fclaim, 1024) < 0)
		return -ENOMEM;
	return 0;
}

static void rebuild(time_t now)
{
	if (sets_init() < 0) {
		log_warn("fleet: out of memory: the other nodes' lists are not in use");
		return;
	}
	for (unsigned node = 0; node < 256; node++)
		for (int k = 0; k < 2; k++) {
			const struct list *l = &F.peer[node][k].l;

			for (size_t i = 0; i < l->n; i++)
				if (l->e[i].expires > now)
					set_put(k == KIND_REVOKED ? &F.frev : &F.fclaim,
						l->e[i].sid, l->e[i].expires, node);
		}
	reserve_claimed();
}

/* One line of our file of kind. */
static void put_line(FILE *f, int kind, uint64_t sid, int64_t expires, int64_t idx)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";
	const struct pool_geom *g = &F.t->pool.g;

	fprintf(f, "%016llx %lld", (unsigned long long)sid, (long long)expires);
	if (kind == KIND_REVOKED) {
		fputc('\n', f);
		return;
	}
	if (idx >= 0 && g->have4) {
		struct in_addr v4;
		pool_addr4(g, (uint32_t)idx, &v4);
		inet_ntop(AF_INET, &v4, a4, sizeof(a4));
	}
	if (idx >= 0 && g->have6) {
		struct in6_addr v6;
		pool_addr6(g, (uint32_t)idx, &v6);
		inet_ntop(AF_INET6, &v6, a6, sizeof(a6));
	}
	fprintf(f, " %s %s\n", a4, a6);
}

/* Our entries of kind, good at now. */
static void put_lines(FILE *f, int kind, time_t now)
{
	if (kind == KIND_CLAIMS) {
		for (size_t i = 0; i < F.claims.n; i++)
			if (F.claims.e[i].expires > now)
				put_line(f, kind, F.claims.e[i].sid, F.claims.e[i].expires,
					 F.claims.e[i].idx);
		return;
	}
	for (uint32_t i = 0; i < F.local.cap; i++) {
		const struct sid_entry *e = &F.local.e[i];

		if (e->sid && (e->val & PUBLISHED) && e->expires > now)
			put_line(f, kind, e->sid, e->expires, -1);
	}
}

/* Our file of kind, replaced whole. */
static void write_own(int kind, time_t now)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int fd, r;

	path_of(F.node, kind, false, path, sizeof(path));
	path_of(F.node, kind, true, tmp, sizeof(tmp));
	if ((r = mkdir_parents(path, 0700)) < 0 && r != -EEXIST) {
		log_warn("fleet.state-dir %s: %s; retrying", fleet_dir(), strerror(-r));
		return;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		log_warn("fleet: %s: %s; retrying", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "# tunneld node %u: %s\n", F.node,
		kind == KIND_REVOKED ? "sessions ended for good (sid, cookie expiry)"
				     : "sessions re-created here (sid, cookie expiry, addresses)");
	put_lines(f, kind, now);
	r = fflush(f) == 0 && fsync(fd) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		log_warn("fleet: %s: %s; retrying", path, strerror(-r));
		unlink(tmp);
		return;
	}
	F.dirty[kind] = false;
}

/* Entries past their cookie's expiry. */
static void sweep(time_t now)
{
	uint32_t before = F.local.n;

	sidset_expire(&F.local, (uint32_t)now);
	for (size_t i = 0; i < F.claims.n; i++)
		if (F.claims.e[i].expires <= now) {
			F.claims.e[i--] = F.claims.e[--F.claims.n];
			F.dirty[KIND_CLAIMS] = true;
		}
	if (F.local.n != before)
		F.dirty[KIND_REVOKED] = true;
}

bool fleet_tick(time_t now)
{
	bool changed;

	for (int k = 0; k < 2; k++)
		if (F.dirty[k])
			write_own(k, now);
	if (now >= F.next_sweep) {
		sweep(now);
		F.next_sweep = now + SWEEP_PERIOD;
	}
	changed = read_others(now);
	if (changed)
		rebuild(now);
	return changed;
}

int fleet_open(const struct cfg *cfg, struct sess_table *t)
{
	size_t words = (t->pool.g.size + 63) / 64;
	char path[PATH_MAX];
	struct seen own = {0};
	time_t now = time(NULL);

	memset(&F, 0, sizeof(F));
	F.cfg = cfg;
	F.t = t;
	F.node = (uint8_t)cfg->node_id;
	F.claimed = calloc(words, sizeof(uint64_t));
	F.reserved = calloc(words, sizeof(uint64_t));
	if (!F.claimed || !F.reserved || sidset_init(&F.local, 1024) < 0 || sets_init() < 0)
		return -ENOMEM;
	/* Revocations of an earlier run still hold; claims do not (we hold
	 * nothing yet), so that file is written anew. */
	path_of(F.node, KIND_REVOKED, false, path, sizeof(path));
	if (read_file(path, KIND_REVOKED, &own, now))
		for (size_t i = 0; i < own.l.n; i++)
			set_put(&F.local, own.l.e[i].sid, own.l.e[i].expires, PUBLISHED);
	list_free(&own.l);
	path_of(F.node, KIND_CLAIMS, false, path, sizeof(path));
	F.dirty[KIND_CLAIMS] = access(path, F_OK) == 0;
	(void)fleet_tick(now);
	return 0;
}

void fleet_flush(void)
{
	for (int k = 0; k < 2; k++)
		if (F.cfg && F.dirty[k])
			write_own(k, time(NULL));
}

void fleet_close(void)
{
	list_free(&F.claims);
	for (unsigned n = 0; n < 256; n++)
		for (int k = 0; k < 2; k++)
			list_free(&F.peer[n][k].l);
	sidset_free(&F.local);
	sidset_free(&F.frev);
	sidset_free(&F.fclaim);
	free(F.claimed);
	free(F.reserved);
	memset(&F, 0, sizeof(F));
}

/* Ended because its time ran out: no reconnect within
 * session.reconnect-timeout, a lifetime, RADIUS's timeouts. */
static bool ended_by_time(const struct session *s)
{
	return s->end_cause == SESS_END_LOST_CARRIER || s->end_cause == SESS_END_IDLE_TIMEOUT ||
	       s->end_cause == SESS_END_SESSION_TIMEOUT;
}

void fleet_ended(const struct session *s)
{
	list_del_sid(&F.claims, s->sid, &F.dirty[KIND_CLAIMS]);
	/* A session another node holds now only moved.  One whose time ran
	 * out here is over on every node, and after a restart, as a logout
	 * is: the cookie of a client gone longer than reconnect-timeout
	 * brings it back nowhere. */
	if (set_get(&F.fclaim, s->sid))
		;
	else if (ended_by_time(s))
		fleet_revoke(s);
	else if (!set_get(&F.local, s->sid))
		set_put(&F.local, s->sid, s->expires, 0);
	/* Its address, given back to the pool: kept if another node claims
	 * it. */
	if (s->lease >= 0 && BIT(F.claimed, s->lease) && !BIT(F.reserved, s->lease) &&
	    pool_take(&F.t->pool, (uint32_t)s->lease) == 0)
		SETBIT(F.reserved, s->lease, 1);
}

void fleet_revoke(const struct session *s)
{
	set_put(&F.local, s->sid, s->expires, PUBLISHED);
	F.dirty[KIND_REVOKED] = true;
}

bool fleet_revoke_elsewhere(uint64_t sid, time_t now)
{
	if (!F.cfg || F.cfg->fleet_nodes < 2 || (sid >> 56) >= F.cfg->fleet_nodes)
		return false;
	/* Its cookie expires at the latest a lifetime from now. */
	set_put(&F.local, sid, now + (time_t)F.cfg->cookie_lifetime, PUBLISHED);
	F.dirty[KIND_REVOKED] = true;
	return true;
}

void fleet_claim(const struct session *s)
{
	struct entry e = {s->sid, s->expires, s->lease};

	list_del_sid(&F.claims, s->sid, &F.dirty[KIND_CLAIMS]);
	if (list_add(&F.claims, &e) < 0)
		log_warn("fleet: out of memory: the claim of session %u is not published",
			 s->serial);
	F.dirty[KIND_CLAIMS] = true;
}

bool fleet_unreserve(uint64_t sid, uint32_t idx)
{
	uint32_t node = set_get(&F.fclaim, sid);
	const struct list *l = node ? &F.peer[node - 1][KIND_CLAIMS].l : NULL;
	size_t i;

	if (!l || idx >= F.t->pool.g.size || !BIT(F.reserved, idx))
		return false;
	for (i = 0; i < l->n && !(l->e[i].sid == sid && l->e[i].idx == (int64_t)idx); i++)
		;
	if (i == l->n)
		return false;
	pool_release(&F.t->pool, idx);
	SETBIT(F.reserved, idx, 0);
	return true;
}

const char *fleet_refused(uint64_t sid, char *buf, size_t len)
{
	uint32_t node;

	if (set_get(&F.local, sid)) {
		snprintf(buf, len, "its session ended here");
		return buf;
	}
	if ((node = set_get(&F.frev, sid)) != 0) {
		snprintf(buf, len, "its session was ended on node %u", node - 1);
		return buf;
	}
	return NULL;
}

unsigned fleet_claimed_by(uint64_t sid)
{
	return set_get(&F.fclaim, sid);
}

unsigned fleet_revoked_by(uint64_t sid)
{
	return set_get(&F.frev, sid);
}
