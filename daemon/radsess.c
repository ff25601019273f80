/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS sessions (see radsess.h).  Owns each session's
 * struct radius_sess from the login to sess_end. */
#include "config.h"
#include "daemon/radsess.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/acct.h"
#include "daemon/hashpool.h"
#include "daemon/sessions.h"

static const struct cfg *cfg;
static const struct pool_geom *geom;

void radsess_use(const struct cfg *c, const struct pool_geom *g)
{
	cfg = c;
	geom = g;
}

/* The pool index an address names, or -1 (no pool, outside it, or one of
 * the indexes no client gets: network, server, broadcast). */
static int64_t index4(const struct in_addr *a)
{
	int64_t i = pool_index4(geom, a->s_addr);

	return i > POOL_SERVER_INDEX && (geom->len4 == 32 || i < (1ll << (32 - geom->len4)) - 1)
		   ? i
		   : -1;
}

static int64_t index6(const struct in6_addr *a)
{
	int64_t i = pool_index6(geom, a);

	return i > POOL_SERVER_INDEX ? i : -1;
}

/* The lease the grant names in *want (-1: any).  0, or -1 logged. */
static int wanted_lease(const struct session *s, const struct radius_grant *g,
			const struct pool *pool, int64_t *want)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	int64_t i4 = -1, i6 = -1;

	inet_ntop(AF_INET, &g->ip4, a4, sizeof(a4));
	inet_ntop(AF_INET6, &g->ip6, a6, sizeof(a6));
	if ((g->have & RG_IP4) && (i4 = index4(&g->ip4)) < 0) {
		log_err("login for user '%s' from %s refused: RADIUS Framed-IP-Address %s is not a "
			"client address of network.ipv4-pool",
			s->user, s->peer, a4);
		return -1;
	}
	if ((g->have & RG_IP6) && (i6 = index6(&g->ip6)) < 0) {
		log_err("login for user '%s' from %s refused: RADIUS Framed-IPv6-Address %s is not "
			"a client address of network.ipv6-pool",
			s->user, s->peer, a6);
		return -1;
	}
	if (i4 >= 0 && i6 >= 0 && i4 != i6) {
		log_err("login for user '%s' from %s refused: RADIUS gave %s and %s, which are not "
			"the same lease (a client's IPv4 and IPv6 addresses have the same offset "
			"in their pools)",
			s->user, s->peer, a4, a6);
		return -1;
	}
	*want = i4 >= 0 ? i4 : i6;
	if (*want >= 0 && pool_in_use(pool, (uint32_t)*want)) {
		log_err("login for user '%s' from %s refused: the address RADIUS gave (%s) is held "
			"by another session",
			s->user, s->peer, i4 >= 0 ? a4 : a6);
		return -1;
	}
	return 0;
}

static uint32_t interval(const struct radius_grant *g)
{
	uint32_t v = (g->have & RG_INTERIM) && g->interim ? g->interim : cfg->radius_interim;

	return v && v < cfg->radius_min_interim ? cfg->radius_min_interim : v;
}

int radsess_grant(struct session *s, const struct hash_done *d, const struct pool *pool)
{
	const struct radius_grant *g = d->grant;
	struct radius_sess *r;
	int64_t want;

	if (wanted_lease(s, g, pool, &want) < 0)
		return -1;
	r = calloc(1, sizeof(*r));
	if (!r) {
		log_err("login for user '%s' from %s: out of memory", s->user, s->peer);
		return -1;
	}
	r->g = *g;
	r->nas_port = d->nas_port;
	r->interim = interval(g);
	if ((g->have & RG_SESSION_TIMEOUT) && g->session_timeout)
		r->deadline = s->created + g->session_timeout;
	s->rad = r;
	/* s->sid is d->sid already: the Access-Request named it, and
	 * sess_create_sid made the session with it. */
	s->want_lease = want;
	radattr_groups(g, s->groups, sizeof(s->groups));
	if (g->dropped_routes || g->dropped_classes || g->dropped_prefixes)
		log_warn("session %u: RADIUS answer for '%s': %u route(s), %u Class value(s) and "
			 "%u shorter-than-/128 Framed-IPv6-Prefix(es) ignored",
			 s->serial, s->user, g->dropped_routes, g->dropped_classes,
			 g->dropped_prefixes);
	return 0;
}

/* A record of s as it stands. */
static void record(const struct session *s, int kind, time_t now, struct acct_rec *a)
{
	const struct radius_sess *r = s->rad;

	memset(a, 0, sizeof(*a));
	a->kind = (uint32_t)kind;
	a->sid = s->sid;
	a->nas_port = r->nas_port;
	a->session_time = now > s->created ? (uint32_t)(now - s->created) : 0;
	a->cause = s->end_cause ? s->end_cause : 10; /* NAS-Request */
	snprintf(a->user, sizeof(a->user), "%s", s->user);
	snprintf(a->peer, sizeof(a->peer), "%s", s->peer);
	if (s->lease >= 0) {
		a->have4 = geom->have4;
		a->have6 = geom->have6;
		if (a->have4)
			pool_addr4(geom, (uint32_t)s->lease, &a->ip4);
		if (a->have6)
			pool_addr6(geom, (uint32_t)s->lease, &a->ip6);
	}
	a->in_octets = s->ctr.rx_bytes;
	a->in_pkts = s->ctr.rx_pkts;
	a->out_octets = s->ctr.tx_bytes;
	a->out_pkts = s->ctr.tx_pkts;
	a->class_len = r->g.class_len;
	memcpy(a->class_buf, r->g.class_buf, sizeof(a->class_buf));
}

static void send_record(const struct session *s, int kind, time_t now)
{
	struct acct_rec a;

	if (!kind || !cfg->radius_accounting)
		return;
	record(s, kind, now, &a);
	(void)acct_queue(&a); /* a full queue logs itself */
}

void radsess_connected(struct session *s, time_t now)
{
	struct radius_sess *r = s->rad;

	if (!r)
		return;
	r->active_at = now;
	if (r->acct != ACCT_NONE)
		return;
	send_record(s, acct_begin(&r->acct), now);
	if (r->interim)
		r->next_interim = now + r->interim;
}

/* The Idle-Timeout in force, never below RADSESS_IDLE_MIN; 0 for none. */
static uint32_t idle_of(const struct radius_sess *r)
{
	uint32_t idle = (r->g.have & RG_IDLE_TIMEOUT) ? r->g.idle_timeout : 0;

	return idle && idle < RADSESS_IDLE_MIN ? RADSESS_IDLE_MIN : idle;
}

void radsess_connect_resp(const struct session *s, struct ipc_msg *m, time_t now)
{
	const struct radius_sess *r = s->rad;

	if (!r)
		return;
	m->u.connect_resp.session_left =
	    r->deadline ? (r->deadline > now ? (uint32_t)(r->deadline - now) : 1) : 0;
	m->u.connect_resp.idle_timeout = idle_of(r);
	m->u.connect_resp.n_routes = r->g.n_routes;
	memcpy(m->u.connect_resp.routes, r->g.routes,
	       sizeof(r->g.routes[0]) * (r->g.n_routes <= IPC_SESS_ROUTES_MAX ? r->g.n_routes : 0));
}

void radsess_traffic(struct session *s, const struct sess_counters *c, time_t now)
{
	if (s->rad && c->rx_pkts)
		s->rad->active_at = now;
}

const char *radsess_due(struct session *s, time_t now)
{
	struct radius_sess *r = s->rad;
	uint32_t idle;

	if (!r)
		return NULL;
	if (r->next_interim && now >= r->next_interim && acct_interim(&r->acct)) {
		send_record(s, ACCT_INTERIM, now);
		r->next_interim += r->interim;
		if (r->next_interim <= now) /* we were late: no burst to catch up */
			r->next_interim = now + r->interim;
	}
	if (r->deadline && now >= r->deadline) {
		s->end_cause = SESS_END_SESSION_TIMEOUT;
		return "Session-Timeout (RADIUS)";
	}
	idle = idle_of(r);
	if (idle && s->worker >= 0 && r->active_at && now - r->active_at >= (time_t)idle) {
		s->end_cause = SESS_END_IDLE_TIMEOUT;
		return "Idle-Timeout (RADIUS)";
	}
	return NULL;
}

void radsess_end(struct session *s, const char *why)
{
	struct radius_sess *r = s->rad;

	(void)why;
	if (!r)
		return;
	send_record(s, acct_end(&r->acct), time(NULL));
	free(r);
	s->rad = NULL;
}

_Static_assert(TICKET_ROUTES_MAX == RADIUS_ROUTES_MAX && TICKET_CLASS_MAX <= RADIUS_CLASS_MAX,
	       "a cookie's grant is one of ours");

/* The grant's bits a cookie carries: the addresses are the session's. */
#define RG_CARRIED (RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT | RG_INTERIM | RG_CLASS)

bool radsess_ticket(const struct session *s, struct ticket_rad *out)
{
	const struct radius_sess *r = s->rad;

	memset(out, 0, sizeof(*out));
	if (!r || r->g.class_len > TICKET_CLASS_MAX)
		return false;
	out->deadline = (int64_t)r->deadline;
	out->have = r->g.have & RG_CARRIED;
	out->session_timeout = r->g.session_timeout;
	out->idle_timeout = r->g.idle_timeout;
	out->interim = r->g.interim;
	out->n_routes = (uint8_t)r->g.n_routes;
	for (uint32_t i = 0; i < r->g.n_routes && i < RADIUS_ROUTES_MAX; i++) {
		const struct cfg_prefix *p = &r->g.routes[i];
		struct ticket_route *t = &out->routes[i];

		t->family = p->addr.family == AF_INET ? 4 : 6;
		t->len = (uint8_t)p->len;
		memcpy(t->addr,
		       p->addr.family == AF_INET ? (const void *)&p->addr.u.v4 : &p->addr.u.v6,
		       p->addr.family == AF_INET ? 4 : 16);
	}
	out->class_len = (uint16_t)r->g.class_len;
	memcpy(out->class_buf, r->g.class_buf, r->g.class_len);
	return ticket_rad_fits(out);
}

int radsess_resume(struct session *s, const struct ticket_rad *tr, uint32_t nas_port)
{
	struct radius_sess *r = calloc(1, sizeof(*r));
	const char *bad;

	if (!r) {
		log_err("session %u of '%s': out of memory", s->serial, s->user);
		return -1;
	}
	r->g.have = tr->have & RG_CARRIED;
	r->g.session_timeout = tr->session_timeout;
	r->g.idle_timeout = tr->idle_timeout;
	r->g.interim = tr->interim;
	r->g.n_routes = tr->n_routes;
	for (uint32_t i = 0; i < tr->n_routes && i < RADIUS_ROUTES_MAX; i++) {
		const struct ticket_route *t = &tr->routes[i];
		struct cfg_prefix *p = &r->g.routes[i];

		p->addr.family = t->family == 4 ? AF_INET : AF_INET6;
		p->len = t->len;
		memcpy(p->addr.family == AF_INET ? (void *)&p->addr.u.v4 : &p->addr.u.v6, t->addr,
		       t->family == 4 ? 4 : 16);
	}
	r->g.class_len = tr->class_len;
	memcpy(r->g.class_buf, tr->class_buf, tr->class_len);
	if ((bad = radattr_check(&r->g)) != NULL) {
		log_err("session %u of '%s': the cookie's RADIUS grant is refused: %s", s->serial,
			s->user, bad);
		free(r);
		return -1;
	}
	r->nas_port = nas_port;
	r->interim = interval(&r->g);
	r->deadline = (time_t)tr->deadline;
	s->rad = r;
	s->backend = SESS_BK_RADIUS;
	return 0;
}

void radsess_coa(struct session *s, const struct radius_grant *g, time_t now)
{
	struct radius_sess *r = s->rad;

	if (!r)
		return;
	if (g->have & RG_SESSION_TIMEOUT)
		r->deadline = g->session_timeout ? now + g->session_timeout : 0;
	if (g->have & RG_IDLE_TIMEOUT) {
		r->g.idle_timeout = g->idle_timeout;
		r->g.have |= RG_IDLE_TIMEOUT;
		r->active_at = now; /* the new limit counts from here */
	}
	if (g->have & RG_INTERIM) {
		r->g.interim = g->interim;
		r->g.have |= RG_INTERIM;
		r->interim = interval(&r->g);
		r->next_interim = r->interim && r->acct == ACCT_STARTED ? now + r->interim : 0;
	}
	if (g->have & RG_CLASS) {
		r->g.class_len = g->class_len;
		memcpy(r->g.class_buf, g->class_buf, sizeof(r->g.class_buf));
		radattr_groups(&r->g, s->groups, sizeof(s->groups));
	}
	log_info("session %u (%016llx) of '%s': CoA applied: Session-Timeout %s, Idle-Timeout %u "
		 "s, interim %u s, groups '%s'",
		 s->serial, (unsigned long long)s->sid, s->user, r->deadline ? "set" : "none",
		 idle_of(r), r->interim, s->groups);
}
