/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The workers' policy (see policy.h): packed by the master, vetted and
 * unpacked by the workers (ipc_check() vets it with the same function).
 * Owns nothing but the tables it hands out.
 *
 * Wire form, after the type word, host layout (both ends are the same
 * binary):  uint32 n (entries, 1 + groups), then n entries, each a
 * struct wire_group followed by its routes (struct cfg_prefix), DNS
 * servers (struct cfg_addr), TCP and UDP port ranges (struct
 * cfg_port_range), as many as it says. */
#include "config.h"
#include "common/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct wire_group {
	char name[CFG_GROUP_NAME];
	uint8_t len4, len6, c2c, global_only;
	uint8_t protocols, dns4, dns6, pad;
	uint8_t icpt4[4], res4[4], icpt6[16], res6[16];
	uint16_t n_routes, n_dns, n_tcp, n_udp;
};

#define TYPE_LEN 4

/* One entry as the master sees it: the top level (g NULL) or a group. */
struct src {
	const char *name;
	const struct cfg_prefix *routes;
	unsigned n_routes;
	const struct cfg_addr *dns;
	unsigned n_dns;
	const struct cfg_rules *rules;
	unsigned len4, len6;
};

static struct src src_of(const struct cfg *c, unsigned i)
{
	struct src s = {"",
			c->routes,
			c->n_routes,
			c->dns,
			c->n_dns,
			&c->rules,
			c->have_ipv4_pool ? c->ipv4_pool.len : 0,
			c->have_ipv6_pool ? c->ipv6_pool.len : 0};
	const struct cfg_group *g = i ? &c->groups[i - 1] : NULL;

	if (g) {
		s.name = g->name;
		s.routes = g->routes;
		s.n_routes = g->n_routes;
		s.dns = g->dns;
		s.n_dns = g->n_dns;
		s.rules = &g->rules;
		if (g->have_ipv4_pool)
			s.len4 = g->ipv4_pool.len;
		if (g->have_ipv6_pool)
			s.len6 = g->ipv6_pool.len;
	}
	return s;
}

/* Whether a lies inside p. */
static bool covers(const struct cfg_prefix *p, const struct cfg_addr *a)
{
	const uint8_t *x = (const uint8_t *)&p->addr.u, *y = (const uint8_t *)&a->u;
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->addr.family != a->family)
		return false;
	return !memcmp(x, y, full) && (!rest || !((x[full] ^ y[full]) & (0xff00 >> rest)));
}

/* With split routes, each intercept address that no route covers gets a
 * host route of its own, so that clients send their DNS into the tunnel
 * (a group pool's netmask does not reach the server's address).  How many,
 * into out. */
static unsigned intercept_routes(const struct cfg *c, const struct src *s,
				 struct cfg_prefix out[CFG_MAX_ICPT])
{
	unsigned n = 0;

	for (unsigned i = 0; s->n_routes && i < c->n_dns_intercept; i++) {
		bool covered = false;

		for (unsigned k = 0; k < s->n_routes; k++)
			covered |= covers(&s->routes[k], &c->dns_intercept[i]);
		if (covered)
			continue;
		out[n].addr = c->dns_intercept[i];
		out[n].len = c->dns_intercept[i].family == AF_INET ? 32 : 128;
		n++;
	}
	return n;
}

static size_t entry_size(const struct cfg *c, const struct src *s)
{
	struct cfg_prefix extra[CFG_MAX_ICPT];

	return sizeof(struct wire_group) +
	       (s->n_routes + intercept_routes(c, s, extra)) * sizeof(struct cfg_prefix) +
	       (c->n_dns_intercept ? c->n_dns_intercept : s->n_dns) * sizeof(struct cfg_addr) +
	       (s->rules->tcp_ports.n + s->rules->udp_ports.n) * sizeof(struct cfg_port_range);
}

const char *policy_routes_full(const struct cfg *cfg)
{
	for (unsigned i = 0; i <= cfg->n_groups; i++) {
		struct src s = src_of(cfg, i);
		struct cfg_prefix extra[CFG_MAX_ICPT];

		if (s.n_routes + intercept_routes(cfg, &s, extra) > CFG_MAX_ROUTES)
			return i ? s.name : "";
	}
	return NULL;
}

size_t policy_packed_size(const struct cfg *cfg)
{
	size_t n = TYPE_LEN + sizeof(uint32_t);

	for (unsigned i = 0; i <= cfg->n_groups; i++) {
		struct src s = src_of(cfg, i);

		n += entry_size(cfg, &s);
	}
	return n;
}

/* The resolver of a family: the first server of it. */
static bool first_of(const struct cfg_addr *a, unsigned n, int family, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].family == family) {
			memcpy(out, &a[i].u, family == AF_INET ? 4 : 16);
			return true;
		}
	return false;
}

static void put_intercept(const struct cfg *c, const struct src *s, struct wire_group *w)
{
	for (unsigned i = 0; i < c->n_dns_intercept; i++) {
		const struct cfg_addr *a = &c->dns_intercept[i];

		if (a->family == AF_INET && first_of(s->dns, s->n_dns, AF_INET, w->res4)) {
			memcpy(w->icpt4, &a->u.v4, 4);
			w->dns4 = 1;
		}
		if (a->family == AF_INET6 && first_of(s->dns, s->n_dns, AF_INET6, w->res6)) {
			memcpy(w->icpt6, &a->u.v6, 16);
			w->dns6 = 1;
		}
	}
}

static uint8_t *put(uint8_t *at, const void *p, size_t n)
{
	if (n)
		memcpy(at, p, n);
	return at + n;
}

int policy_pack(const struct cfg *cfg, void *buf, size_t cap)
{
	uint8_t *at = (uint8_t *)buf + TYPE_LEN;
	uint32_t n = cfg->n_groups + 1;

	if (cap < policy_packed_size(cfg))
		return -ENOBUFS;
	at = put(at, &n, sizeof(n));
	for (unsigned i = 0; i < n; i++) {
		struct src s = src_of(cfg, i);
		const struct cfg_rules *r = s.rules;
		bool icpt = cfg->n_dns_intercept > 0;
		struct cfg_prefix extra[CFG_MAX_ICPT];
		struct wire_group w;
		unsigned n_extra;

		memset(&w, 0, sizeof(w));
		snprintf(w.name, sizeof(w.name), "%s", s.name);
		w.len4 = (uint8_t)s.len4;
		w.len6 = (uint8_t)s.len6;
		w.c2c = r->client_to_client;
		w.global_only = r->global_only;
		w.protocols = (uint8_t)r->protocols;
		put_intercept(cfg, &s, &w);
		n_extra = intercept_routes(cfg, &s, extra);
		if (s.n_routes + n_extra > CFG_MAX_ROUTES) /* cfg_load() refuses it */
			return -E2BIG;
		w.n_routes = (uint16_t)(s.n_routes + n_extra);
		w.n_dns = (uint16_t)(icpt ? cfg->n_dns_intercept : s.n_dns);
		w.n_tcp = (uint16_t)r->tcp_ports.n;
		w.n_udp = (uint16_t)r->udp_ports.n;
		at = put(at, &w, sizeof(w));
		at = put(at, s.routes, s.n_routes * sizeof(*s.routes));
		at = put(at, extra, n_extra * sizeof(*extra));
		at = put(at, icpt ? cfg->dns_intercept : s.dns, w.n_dns * sizeof(*s.dns));
		at = put(at, r->tcp_ports.r, w.n_tcp * sizeof(r->tcp_ports.r[0]));
		at = put(at, r->udp_ports.r, w.n_udp * sizeof(r->udp_ports.r[0]));
	}
	return (int)(at - (uint8_t *)buf);
}

/* ---- unpacking ------------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	size_t left;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct rd *d, const char *fmt, ...)
{
	va_list ap;

	if (d->err && d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err, d->errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* n bytes into out (when not NULL); false when fewer are left. */
static bool take(struct rd *d, void *out, size_t n)
{
	if (d->left < n)
		return false;
	if (out)
		memcpy(out, d->p, n);
	d->p += n;
	d->left -= n;
	return true;
}

static bool ports_ok(const struct cfg_port_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (r[i].lo > r[i].hi || (i && (unsigned)r[i - 1].hi + 1 >= r[i].lo))
			return false;
	return true;
}

static int check_head(struct rd *d, const struct wire_group *w, unsigned i)
{
	size_t nl = strnlen(w->name, sizeof(w->name));

	if (nl == sizeof(w->name) || (i == 0) != (nl == 0) ||
	    (nl && !cfg_group_name_valid(w->name, nl)))
		return bad(d, "entry %u: bad group name", i);
	if (w->len4 > 32 || w->len6 > 128 || w->c2c > 1 || w->global_only > 1 || w->dns4 > 1 ||
	    w->dns6 > 1 || w->protocols > CFG_PROTO_ALL)
		return bad(d, "entry %u: a field out of range", i);
	if (w->n_routes > CFG_MAX_ROUTES || w->n_dns > CFG_MAX_DNS || w->n_tcp > CFG_MAX_PORTS ||
	    w->n_udp > CFG_MAX_PORTS)
		return bad(d, "entry %u: too many routes, DNS servers or port ranges", i);
	return 0;
}

/* One entry into g (NULL: only checked). */
static int entry(struct rd *d, unsigned i, struct pol_group *g)
{
	struct pol_group tmp;
	struct wire_group w;
	struct rules *r;

	if (!g)
		g = &tmp;
	if (!take(d, &w, sizeof(w)))
		return bad(d, "entry %u: cut short", i);
	if (check_head(d, &w, i) < 0)
		return -EBADMSG;
	memset(g, 0, sizeof(*g));
	r = &g->rules;
	if (!take(d, g->routes, w.n_routes * sizeof(g->routes[0])) ||
	    !take(d, g->dns, w.n_dns * sizeof(g->dns[0])) ||
	    !take(d, r->r.tcp_ports.r, w.n_tcp * sizeof(r->r.tcp_ports.r[0])) ||
	    !take(d, r->r.udp_ports.r, w.n_udp * sizeof(r->r.udp_ports.r[0])))
		return bad(d, "entry %u: cut short", i);
	for (unsigned k = 0; k < w.n_routes; k++)
		if (!cfg_prefix_valid(&g->routes[k]))
			return bad(d, "entry %u: route %u is not a valid prefix", i, k);
	for (unsigned k = 0; k < w.n_dns; k++)
		if (g->dns[k].family != AF_INET && g->dns[k].family != AF_INET6)
			return bad(d, "entry %u: DNS server %u has address family %d", i, k,
				   g->dns[k].family);
	if (!ports_ok(r->r.tcp_ports.r, w.n_tcp) || !ports_ok(r->r.udp_ports.r, w.n_udp))
		return bad(d, "entry %u: port ranges not sorted and disjoint", i);
	memcpy(g->name, w.name, sizeof(g->name));
	g->len4 = w.len4;
	g->len6 = w.len6;
	g->n_routes = w.n_routes;
	g->n_dns = w.n_dns;
	r->r.client_to_client = w.c2c;
	r->r.global_only = w.global_only;
	r->r.protocols = w.protocols;
	r->r.tcp_ports.n = w.n_tcp;
	r->r.udp_ports.n = w.n_udp;
	r->dns4 = w.dns4;
	r->dns6 = w.dns6;
	memcpy(r->icpt4, w.icpt4, 4);
	memcpy(r->res4, w.res4, 4);
	memcpy(r->icpt6, w.icpt6, 16);
	memcpy(r->res6, w.res6, 16);
	rules_init(r);
	return 0;
}

int policy_unpack(const void *buf, size_t len, struct policy **out, char *err, size_t errlen)
{
	struct rd d = {(const uint8_t *)buf, len, err, errlen};
	struct policy *p = NULL;
	uint32_t n;
	int r;

	if (!take(&d, NULL, TYPE_LEN) || !take(&d, &n, sizeof(n)))
		return bad(&d, "%zu bytes, too short", len);
	if (n == 0 || n > CFG_MAX_GROUPS + 1)
		return bad(&d, "%u entries, expected 1..%d", n, CFG_MAX_GROUPS + 1);
	if (out) {
		p = calloc(1, sizeof(*p) + n * sizeof(p->g[0]));
		if (!p)
			return -ENOMEM;
		p->refs = 1;
		p->n = n;
	}
	for (unsigned i = 0; i < n; i++) {
		r = entry(&d, i, p ? &p->g[i] : NULL);
		if (r < 0)
			goto fail;
	}
	if (d.left) {
		r = bad(&d, "%zu bytes after the last entry", d.left);
		goto fail;
	}
	if (out)
		*out = p;
	return 0;
fail:
	free(p);
	return r;
}

const struct pol_group *policy_group(const struct policy *p, const char *name)
{
	for (unsigned i = 1; name[0] && i < p->n; i++)
		if (!strcmp(p->g[i].name, name))
			return &p->g[i];
	return &p->g[0];
}

struct policy *policy_get(struct policy *p)
{
	p->refs++;
	return p;
}

void policy_put(struct policy *p)
{
	if (p && --p->refs == 0)
		free(p);
}
