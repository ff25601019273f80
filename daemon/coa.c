/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): Disconnect and CoA (see coa.h).  Owns the listening
 * sockets; the packets are checked and answered by coapkt.c, the
 * attributes read with radcli (the master's dictionary, radius.c). */
#include "config.h"
#include "daemon/coa.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <radcli/radcli.h>

#include "common/log.h"
#include "daemon/auth.h"
#include "daemon/coapkt.h"
#include "daemon/events.h"
#include "daemon/fleet.h"
#include "daemon/fleetcoa.h"
#include "daemon/radattr.h"
#include "daemon/radius.h"
#include "daemon/radsess.h"
#include "daemon/sessions.h"

#define BATCH	    64	/* datagrams read per event */
#define TIME_WINDOW 300 /* s an Event-Timestamp may be off */
#define QUIET_LINES 5	/* lines a second about dropped datagrams */

static struct {
	const struct cfg *cfg;
	int fd[CFG_MAX_COA];
	unsigned n;
	time_t window; /* rate limit of the lines about dropped datagrams */
	unsigned lines;
} C;

/* What a request names (any may be absent). */
struct coa_target {
	const char *sid_text; /* Acct-Session-Id */
	const char *user;     /* User-Name */
	bool have4, have6;
	struct in_addr ip4;
	struct in6_addr ip6;
};

int coa_open(int ep, const struct cfg *cfg)
{
	C.cfg = cfg;
	for (unsigned i = 0; i < cfg->n_radius_coa; i++) {
		const struct cfg_listen *l = &cfg->radius_coa[i];
		int fd = socket(l->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

		if (fd < 0 || bind(fd, (const struct sockaddr *)&l->ss, l->sslen) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			return log_errno(r, "radius.coa-listen %s", l->text);
		}
		C.fd[C.n++] = fd;
		if ((r = ev_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, EV_COA, i)) < 0)
			return log_errno(r, "radius.coa-listen %s", l->text);
		log_info("RADIUS Disconnect/CoA requests taken on %s (UDP)", l->text);
	}
	return 0;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (!inet_ntop(ss->ss_family,
		       ss->ss_family == AF_INET6 ? (const void *)&s6->sin6_addr
						 : (const void *)&s4->sin_addr,
		       out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* A datagram dropped without an answer: a line, within the rate limit. */
static void dropped(const char *from, const char *why)
{
	time_t now = time(NULL);

	if (now != C.window) {
		C.window = now;
		C.lines = 0;
	}
	if (++C.lines <= QUIET_LINES)
		log_warn("radius.coa-listen: a datagram from %s dropped: %s", from, why);
}

/* Attributes a request may carry: naming the session, naming us, and for
 * a CoA-Request what it changes.  0 when all are known, else the Error-Cause
 * (401 for an unknown one); a stale Event-Timestamp is -1 (dropped). */
static int vet_attrs(const uint8_t *pkt, size_t len, bool coa, time_t now)
{
	/* User-Name, NAS-IP-Address, NAS-Port, Framed-IP-Address,
	 * Reply-Message, Called- and Calling-Station-Id, NAS-Identifier,
	 * Proxy-State, Acct-Session-Id, Acct-Terminate-Cause, Event-Timestamp,
	 * NAS-Port-Type, Message-Authenticator, NAS-Port-Id,
	 * NAS-IPv6-Address, Error-Cause, Framed-IPv6-Address: they name the
	 * session (those tunneld does not match on are only tolerated). */
	static const uint8_t known[] = {1,  4,	5,  8,	18, 30, 31, 32,	 33,
					44, 49, 55, 61, 80, 87, 95, 101, 168};
	static const uint8_t changes[] = {25, 27, 28, 85};
	size_t off = 0, vlen;
	const uint8_t *v;
	uint8_t type;
	bool change = false;

	while (coa_next_attr(pkt, len, &off, &type, &v, &vlen)) {
		bool ok = memchr(known, type, sizeof(known)) != NULL;
		if (memchr(changes, type, sizeof(changes))) {
			ok = coa;
			change = true;
		}
		if (!ok)
			return COA_ERR_UNSUPPORTED_ATTRIBUTE;
		if (type == COA_ATTR_EVENT_TIMESTAMP && vlen == 4) {
			uint32_t ts = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
				      (uint32_t)v[2] << 8 | v[3];
			if (ts + TIME_WINDOW < (uint64_t)now || ts > (uint64_t)now + TIME_WINDOW)
				return -1;
		}
	}
	return coa && !change ? COA_ERR_MISSING_ATTRIBUTE : 0;
}

/* The target in list; the Error-Cause when it names no session at all
 * or another NAS, else 0. */
static int read_target(VALUE_PAIR *list, struct coa_target *t)
{
	VALUE_PAIR *vp;
	uint32_t v;

	memset(t, 0, sizeof(*t));
	if ((vp = rc_avpair_get(list, PW_NAS_IDENTIFIER, 0)) &&
	    strcmp(vp->strvalue, C.cfg->radius_nas_id))
		return COA_ERR_NAS_MISMATCH;
	if ((vp = rc_avpair_get(list, PW_ACCT_SESSION_ID, 0)))
		t->sid_text = vp->strvalue;
	if ((vp = rc_avpair_get(list, PW_USER_NAME, 0)))
		t->user = vp->strvalue;
	if ((vp = rc_avpair_get(list, PW_FRAMED_IP_ADDRESS, 0)) &&
	    rc_avpair_get_uint32(vp, &v) == 0) {
		t->ip4.s_addr = htonl(v);
		t->have4 = true;
	}
	if ((vp = rc_avpair_get(list, PW_FRAMED_IPV6_ADDRESS, 0)) &&
	    rc_avpair_get_in6(vp, &t->ip6, NULL) == 0)
		t->have6 = true;
	return t->sid_text || t->user || t->have4 || t->have6 ? 0 : COA_ERR_MISSING_ATTRIBUTE;
}

static bool matches(const struct sess_table *tb, const struct session *s,
		    const struct coa_target *t)
{
	char id[17];

	if (!s->used || s->revoked)
		return false;
	snprintf(id, sizeof(id), "%016" PRIx64, s->sid);
	if (t->sid_text && strcasecmp(t->sid_text, id))
		return false;
	if (t->user && strcmp(t->user, s->user))
		return false;
	if (t->have4 || t->have6) {
		struct in_addr a4;
		struct in6_addr a6;

		if (s->lease < 0)
			return false;
		pool_addr4(&tb->pool.g, (uint32_t)s->lease, &a4);
		pool_addr6(&tb->pool.g, (uint32_t)s->lease, &a6);
		if ((t->have4 && (!tb->pool.g.have4 || a4.s_addr != t->ip4.s_addr)) ||
		    (t->have6 && (!tb->pool.g.have6 || memcmp(&a6, &t->ip6, sizeof(a6)))))
			return false;
	}
	return true;
}

/* A request naming by Acct-Session-Id a session this node does not hold:
 * in a fleet another node may hold it (it reconnected there).  A
 * Disconnect-Request's revocation is published in fleet.state-dir for
 * that node to end it (fleet.h), a CoA-Request's grant for it to apply
 * (fleetcoa.h).  1 when published, 0 when no other node could hold it. */
static unsigned elsewhere(bool coa, const struct coa_target *t, const struct radius_grant *g,
			  const char *from, time_t now)
{
	uint64_t sid;
	char *end;

	if (!t->sid_text || t->user || t->have4 || t->have6 || strlen(t->sid_text) != 16)
		return 0;
	errno = 0;
	sid = strtoull(t->sid_text, &end, 16);
	if (errno || *end ||
	    !(coa ? fleetcoa_publish(sid, g, now) : fleet_revoke_elsewhere(sid, now)))
		return 0;
	log_info("session %016" PRIx64 ": %s from %s for a session another node holds: %s "
		 "through fleet.state-dir",
		 sid, coa ? "CoA-Request" : "Disconnect-Request", from,
		 coa ? "passed on" : "revoked");
	return 1;
}

/* Apply the request to every session it names; how many. */
static unsigned apply(bool coa, const struct coa_target *t, const struct radius_grant *g,
		      const char *from)
{
	struct sess_table *tb = auth_sessions();
	time_t now = time(NULL);
	unsigned n = 0;

	for (uint32_t i = 0; i < tb->cap; i++) {
		struct session *s = &tb->s[i];

		if (!matches(tb, s, t))
			continue;
		n++;
		if (coa) {
			radsess_coa(s, g, now);
			continue;
		}
		log_info("session %u (%016" PRIx64 ") of '%s': Disconnect-Request from %s",
			 s->serial, s->sid, s->user, from);
		auth_end(s, "Disconnect-Request (RADIUS)", SESS_END_ADMIN_RESET); /* may free s */
	}
	if (n == 0)
		n = elsewhere(coa, t, g, from, now);
	return n;
}

/* One authentic request whose attributes vet_attrs judged e: its
 * answer's code and Error-Cause. */
static void handle(const uint8_t *pkt, size_t len, const char *from, int e, uint8_t *code,
		   uint32_t *error)
{
	bool coa = pkt[0] == COA_REQUEST;
	struct radius_grant g;
	struct coa_target t;
	VALUE_PAIR *list = NULL;

	*code = coa ? COA_NAK : COA_DISCONNECT_NAK;
	*error = 0;
	if (e == 0 && len > COA_HDR_LEN &&
	    !(list = rc_avpair_gen(radius_dict(), NULL, pkt + COA_HDR_LEN, (int)(len - COA_HDR_LEN),
				   0)))
		e = COA_ERR_INVALID_REQUEST;
	if (e == 0)
		e = read_target(list, &t);
	if (e == 0 && coa) {
		memset(&g, 0, sizeof(g));
		radattr_read(list, &g);
	}
	if (e == 0 && apply(coa, &t, &g, from) == 0)
		e = COA_ERR_SESSION_NOT_FOUND;
	rc_avpair_free(list);
	*error = e > 0 ? (uint32_t)e : 0;
	if (e == 0)
		*code = coa ? COA_ACK : COA_DISCONNECT_ACK;
	if (e > 0)
		log_info("radius: %s from %s refused: Error-Cause %d",
			 coa ? "CoA-Request" : "Disconnect-Request", from, e);
}

static void one(int fd, const uint8_t *pkt, ssize_t n, const struct sockaddr_storage *ss,
		socklen_t sl)
{
	static uint8_t out[COA_MAX_LEN];
	char from[INET6_ADDRSTRLEN];
	const char *why;
	uint32_t error;
	uint8_t code;
	size_t len, olen;
	int r;

	peer_text(ss, from, sizeof(from));
	r = coa_check(pkt, (size_t)n, radius_secret(), &len, &why);
	if (r < 0) {
		dropped(from, r == -EPERM ? "wrong authenticator (not the shared secret?)" : why);
		return;
	}
	if ((r = vet_attrs(pkt, len, pkt[0] == COA_REQUEST, time(NULL))) < 0) {
		dropped(from, "its Event-Timestamp is more than 300 s off (a replay?)");
		return;
	}
	handle(pkt, len, from, r, &code, &error);
	olen = coa_answer(out, sizeof(out), pkt, len, code, error, radius_secret());
	if (olen && sendto(fd, out, olen, MSG_DONTWAIT, (const struct sockaddr *)ss, sl) < 0)
		log_warn("radius.coa-listen: cannot answer %s: %s", from, strerror(errno));
}

void coa_on_event(unsigned idx)
{
	static uint8_t buf[COA_MAX_LEN + 1];

	if (idx >= C.n)
		return;
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(C.fd[idx], buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return; /* EAGAIN: all read; anything else: the next event */
		one(C.fd[idx], buf, n, &ss, sl);
	}
}

void coa_forget(void)
{
	for (unsigned i = 0; i < C.n; i++)
		close(C.fd[i]);
	C.n = 0;
}

void coa_close(void)
{
	coa_forget();
}
