/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): CoA-Requests passed between the nodes of a fleet (see
 * fleetcoa.h).  Reading and writing happen in fleetcoa_tick(), once a
 * second, never on a request's path. */
#include "config.h"
#include "daemon/fleetcoa.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/log.h"
#include "daemon/fleet.h"
#include "daemon/fsutil.h"

#define PENDING_MAX 1024       /* requests in this node's file */
#define FILE_MAX    (1u << 20) /* bytes of a node's file read */
#define LINE_CAP    (128 + 2 * RADIUS_CLASS_MAX)
/* What a CoA changes (radsess_coa); the rest of a grant is not passed. */
#define CARRIED (RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT | RG_INTERIM | RG_CLASS)

struct req {
	uint64_t id, sid;
	int64_t at;
	struct radius_grant g;
};

/* What was last read of another node's file, and the last request of it
 * applied here. */
struct peer {
	struct fs_seen f;
	uint64_t applied;
};

static struct {
	const struct cfg *cfg;
	struct req *own; /* oldest first */
	size_t n;
	uint64_t next_id;
	bool dirty;
	time_t opened;
	struct peer peer[256];
} C;

void fleetcoa_open(const struct cfg *cfg, time_t now)
{
	fleetcoa_close();
	C.cfg = cfg;
	C.opened = now;
	/* Increasing across restarts too: the others remember the last one
	 * they applied. */
	C.next_id = (uint64_t)now << 20;
	/* A file of an earlier run is replaced (its requests were for it). */
	C.dirty = true;
}

void fleetcoa_close(void)
{
	free(C.own);
	memset(&C, 0, sizeof(C));
}

bool fleetcoa_publish(uint64_t sid, const struct radius_grant *g, time_t now)
{
	struct req *r;

	if (!C.cfg || C.cfg->fleet_nodes < 2 || (sid >> 56) >= C.cfg->fleet_nodes)
		return false;
	if (!C.own && !(C.own = calloc(PENDING_MAX, sizeof(*C.own)))) {
		log_warn("fleet: out of memory: a CoA-Request is not passed on");
		return false;
	}
	if (C.n == PENDING_MAX) /* the oldest goes */
		memmove(C.own, C.own + 1, --C.n * sizeof(*C.own));
	r = &C.own[C.n++];
	memset(r, 0, sizeof(*r));
	r->id = C.next_id++;
	r->sid = sid;
	r->at = (int64_t)now;
	r->g.have = g->have & CARRIED;
	r->g.session_timeout = g->session_timeout;
	r->g.idle_timeout = g->idle_timeout;
	r->g.interim = g->interim;
	if (g->have & RG_CLASS) {
		r->g.class_len = g->class_len;
		memcpy(r->g.class_buf, g->class_buf, g->class_len);
	}
	C.dirty = true;
	return true;
}

int fleetcoa_format_line(char *buf, size_t cap, uint64_t id, uint64_t sid, int64_t at,
			 const struct radius_grant *g)
{
	char cls[2 * RADIUS_CLASS_MAX + 1] = "-";
	int n;

	if (g->class_len > RADIUS_CLASS_MAX)
		return -1;
	for (uint32_t i = 0; i < g->class_len; i++)
		snprintf(cls + 2 * i, 3, "%02x", g->class_buf[i]);
	n = snprintf(buf, cap, "%016" PRIx64 " %016" PRIx64 " %" PRId64 " %u %u %u %u %s", id, sid,
		     at, g->have & CARRIED, g->session_timeout, g->idle_timeout, g->interim, cls);
	return n >= 0 && (size_t)n < cap ? n : -1;
}

int fleetcoa_parse_line(const char *line, uint64_t *id, uint64_t *sid, int64_t *at,
			struct radius_grant *g)
{
	char ids[17], sids[17], cls[2 * RADIUS_CLASS_MAX + 2], extra;
	long long t;
	size_t cl;

	memset(g, 0, sizeof(*g));
	if (sscanf(line, " %16[0-9a-f] %16[0-9a-f] %lld %u %u %u %u %513[0-9a-f-] %c", ids, sids,
		   &t, &g->have, &g->session_timeout, &g->idle_timeout, &g->interim, cls,
		   &extra) != 8 ||
	    strlen(ids) != 16 || strlen(sids) != 16 || t <= 0 || (g->have & ~CARRIED))
		return -1;
	cl = strcmp(cls, "-") == 0 ? 0 : strlen(cls);
	if (cl % 2 || cl > 2 * RADIUS_CLASS_MAX || (cl && strchr(cls, '-')))
		return -1;
	for (size_t i = 0; i < cl / 2; i++) {
		int hi = hex_digit(cls[2 * i]), lo = hex_digit(cls[2 * i + 1]);
		g->class_buf[i] = (uint8_t)(hi << 4 | lo);
	}
	g->class_len = (uint32_t)(cl / 2);
	if (radattr_check(g) != NULL || (!!g->class_len != !!(g->have & RG_CLASS)))
		return -1;
	*id = strtoull(ids, NULL, 16);
	*sid = strtoull(sids, NULL, 16);
	*at = (int64_t)t;
	return 0;
}

static void path_of(unsigned node, bool tmp, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%snode-%u.coa%s", fleet_dir(), tmp ? "." : "", node,
		 tmp ? ".tmp" : "");
}

/* This node's file, replaced whole: 0, or -errno (logged). */
static int write_own(void)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[LINE_CAP];
	FILE *f;
	int fd, r;

	path_of((unsigned)C.cfg->node_id, false, path, sizeof(path));
	path_of((unsigned)C.cfg->node_id, true, tmp, sizeof(tmp));
	if ((r = mkdir_parents(path, 0700)) < 0 && r != -EEXIST)
		return log_errno(r, "fleet.state-dir %s", fleet_dir());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		r = log_errno(-errno, "fleet: %s", tmp);
		if (fd >= 0)
			close(fd);
		return r;
	}
	fprintf(f, "# tunneld node %u: CoA-Requests for sessions other nodes hold\n",
		C.cfg->node_id);
	for (size_t i = 0; i < C.n; i++)
		if (fleetcoa_format_line(line, sizeof(line), C.own[i].id, C.own[i].sid, C.own[i].at,
					 &C.own[i].g) > 0)
			fprintf(f, "%s\n", line);
	r = fflush(f) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return log_errno(r, "fleet: %s", path);
	}
	return 0;
}

/* Node k's file if it changed: each request not applied yet to apply. */
static void read_peer(unsigned k, time_t now,
		      void (*apply)(uint64_t, const struct radius_grant *, time_t, unsigned))
{
	struct peer *p = &C.peer[k];
	char path[PATH_MAX], *text, *line, *eol;
	struct radius_grant g;
	uint64_t id, sid, top = p->applied;
	int64_t at;

	path_of(k, false, path, sizeof(path));
	if (!(text = fs_read_changed(path, FILE_MAX, &p->f)))
		return;
	for (line = text; *line; line = eol) {
		eol = strchr(line, '\n');
		eol = eol ? (*eol = '\0', eol + 1) : line + strlen(line);
		if (*line == '#' || *line == '\0')
			continue;
		if (fleetcoa_parse_line(line, &id, &sid, &at, &g) < 0) {
			log_warn("fleet: %s: a malformed line skipped", path);
			continue;
		}
		/* Each once; none of an earlier run of ours, none stale. */
		if (id > p->applied && at >= (int64_t)C.opened && at + FLEETCOA_KEEP > (int64_t)now)
			apply(sid, &g, (time_t)at, k);
		if (id > top)
			top = id;
	}
	free(text);
	p->applied = top;
}

void fleetcoa_tick(time_t now, void (*apply)(uint64_t sid, const struct radius_grant *g, time_t at,
					     unsigned node))
{
	size_t keep = 0;

	if (!C.cfg || C.cfg->fleet_nodes < 2)
		return;
	for (size_t i = 0; i < C.n; i++)
		if (C.own[i].at + FLEETCOA_KEEP > (int64_t)now)
			C.own[keep++] = C.own[i];
	C.dirty |= keep != C.n;
	C.n = keep;
	if (C.dirty && write_own() == 0)
		C.dirty = false;
	for (unsigned k = 0; k < C.cfg->fleet_nodes && k < 256; k++)
		if (k != (unsigned)C.cfg->node_id)
			read_peer(k, now, apply);
}
