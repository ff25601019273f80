/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration of groups = ( { name = "staff"; ... }, ... ): for the
 * master, `tunneld -t` and the tests.  Each entry is parsed with a small
 * table of its own keys, by the value parsers of the top level; once the
 * whole file is read, cfg_groups_finish() fills in what a group takes from
 * the top level, works out the leases its pools carve out of the network
 * pools, and runs the checks that span keys (pools, network.dns-intercept,
 * the size of the policy the workers are sent).  Owns nothing; writes
 * errors into the caller's context and never prints. */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"
#include "common/pool.h"

#define GOFF(f) offsetof(struct cfg_group, f)

/* A group's keys, by their name inside the entry ("rules.x": x inside its
 * rules = { ... }); the path in each row is what messages say. */
static const struct {
	const char *name;
	struct cfg_key k;
} gkeys[] = {
    {"routes",
     {"groups: routes", CT_PREFIXES, GOFF(routes), GOFF(n_routes), NULL, 0, 0, CFG_MAX_ROUTES, 0}},
    {"dns", {"groups: dns", CT_ADDRS, GOFF(dns), GOFF(n_dns), NULL, 0, 0, CFG_MAX_DNS, 0}},
    {"ipv4-pool",
     {"groups: ipv4-pool", CT_PREFIX4, GOFF(ipv4_pool), GOFF(have_ipv4_pool), NULL, 0, 8, 32, 0}},
    {"ipv6-pool",
     {"groups: ipv6-pool", CT_PREFIX6, GOFF(ipv6_pool), GOFF(have_ipv6_pool), NULL, 0, 64, 128, 0}},
    {"rules.client-to-client",
     {"groups: rules.client-to-client", CT_BOOL, GOFF(rules.client_to_client), 0, NULL, 0, 0, 1,
      0}},
    {"rules.global-only",
     {"groups: rules.global-only", CT_BOOL, GOFF(rules.global_only), 0, NULL, 0, 0, 1, 0}},
    {"rules.protocols",
     {"groups: rules.protocols", CT_PROTOS, GOFF(rules.protocols), 0, NULL, 0, 0, 0, 0}},
    {"rules.tcp-ports",
     {"groups: rules.tcp-ports", CT_PORTS, GOFF(rules.tcp_ports), 0, NULL, 0, 0, CFG_MAX_PORTS, 0}},
    {"rules.udp-ports",
     {"groups: rules.udp-ports", CT_PORTS, GOFF(rules.udp_ports), 0, NULL, 0, 0, CFG_MAX_PORTS, 0}},
};

bool cfg_group_name_valid(const char *s, size_t len)
{
	if (len == 0 || len >= CFG_GROUP_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const struct cfg_group *cfg_group_find(const struct cfg *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_groups; i++)
		if (!strcmp(cfg->groups[i].name, name))
			return &cfg->groups[i];
	return NULL;
}

char *cfg_group_choose(const struct cfg *cfg, const char *list, char *out)
{
	out[0] = '\0';
	while (list && *list) {
		size_t n = strcspn(list, ",");

		for (unsigned i = 0; i < cfg->n_groups; i++)
			if (strlen(cfg->groups[i].name) == n &&
			    !memcmp(cfg->groups[i].name, list, n)) {
				memcpy(out, list, n);
				out[n] = '\0';
				return out;
			}
		list += n + (list[n] == ',');
	}
	return out;
}

static int parse_name(struct cfg_ctx *x, struct cfg_group *g, const config_setting_t *s)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "groups: name: expected a string, got %s", cfg_type_name(s));
	v = config_setting_get_string(s);
	if (!cfg_group_name_valid(v, strlen(v)))
		return cfg_fail(x, s,
				"groups: name: \"%s\" is not a group name (1..%d characters from "
				"A-Z a-z 0-9 . _ -)",
				v, CFG_GROUP_NAME - 1);
	memcpy(g->name, v, strlen(v) + 1);
	return 0;
}

/* banner = "..."; in a group: the text its sessions are shown after login
 * in place of the top level's banner; one line, as that one. */
static int parse_banner(struct cfg_ctx *x, struct cfg_group *g, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (!v)
		return cfg_fail(x, s, "groups: banner: expected a string, got %s",
				cfg_type_name(s));
	if (strlen(v) >= sizeof(g->banner))
		return cfg_fail(x, s, "groups: banner: longer than %zu bytes",
				sizeof(g->banner) - 1);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cfg_fail(x, s, "groups: banner: control character at offset %zu",
					(size_t)(p - v));
	memcpy(g->banner, v, strlen(v) + 1);
	return 0;
}

/* One key of an entry, into g (the value parsers write at the row's
 * offset from x->cfg, which points at g for the call). */
static int parse_gkey(struct cfg_ctx *x, struct cfg_group *g, const char *name,
		      const config_setting_t *s)
{
	struct cfg *top = x->cfg;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(gkeys) && strcmp(gkeys[i].name, name); i++)
		;
	if (i == ARRAY_SIZE(gkeys))
		return cfg_fail(x, s,
				"groups: unknown setting %s (a group has name, routes, dns, "
				"ipv4-pool, ipv6-pool, rules and banner)",
				name);
	x->cfg = (struct cfg *)(void *)g;
	r = cfg_parse_key(x, &gkeys[i].k, s);
	x->cfg = top;
	if (!strcmp(name, "routes"))
		g->have_routes = true;
	if (!strcmp(name, "dns"))
		g->have_dns = true;
	return r;
}

static int parse_rules(struct cfg_ctx *x, struct cfg_group *g, const config_setting_t *s)
{
	char name[64];

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_fail(x, s,
				"groups: rules: expected a group like rules = { ... }, got %s",
				cfg_type_name(s));
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		snprintf(name, sizeof(name), "rules.%s", config_setting_name(e));
		if (parse_gkey(x, g, name, e) < 0)
			return -1;
	}
	return 0;
}

static int parse_entry(struct cfg_ctx *x, struct cfg_group *g, const config_setting_t *s)
{
	const config_setting_t *name = NULL;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_fail(
		    x, s, "groups: expected groups like ( { name = \"staff\"; ... } ), got %s",
		    cfg_type_name(s));
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *n = config_setting_name(e);
		int r;

		if (!strcmp(n, "name")) {
			name = e;
			r = parse_name(x, g, e);
		} else if (!strcmp(n, "rules")) {
			r = parse_rules(x, g, e);
		} else if (!strcmp(n, "banner")) {
			r = parse_banner(x, g, e);
		} else {
			r = parse_gkey(x, g, n, e);
		}
		if (r < 0)
			return -1;
	}
	if (!name)
		return cfg_fail(x, s, "groups: a group needs a name = \"...\";");
	return 0;
}

int cfg_parse_groups(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	struct cfg_group **dst = cfg_field(x->cfg, k->off);
	unsigned *count = cfg_field(x->cfg, k->aux);
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return cfg_fail(x, s,
				"%s: expected a list like ( { name = \"staff\"; ... } ), got %s",
				k->path, cfg_type_name(s));
	n = config_setting_length(s);
	if (n > k->max)
		return cfg_fail(x, s, "%s: too many groups (%d, at most %lld)", k->path, n, k->max);
	if (n == 0)
		return 0;
	free(*dst);
	*count = 0;
	*dst = calloc((size_t)n, sizeof(**dst));
	if (!*dst)
		return cfg_fail(x, s, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (parse_entry(x, &(*dst)[i], e) < 0)
			return -1;
		for (int j = 0; j < i; j++)
			if (!strcmp((*dst)[j].name, (*dst)[i].name))
				return cfg_fail(x, e, "groups: \"%s\" is defined twice",
						(*dst)[i].name);
		*count = (unsigned)i + 1;
	}
	return 0;
}

/* ---- after the whole file: inheritance and checks that span keys ------ */

/* Each rule the entry at s does not set comes from the top level. */
static void inherit_rules(struct cfg_group *g, const struct cfg_rules *top,
			  const config_setting_t *s)
{
	const config_setting_t *r = config_setting_get_member(s, "rules");

#define HAS(leaf) (r && config_setting_get_member(r, leaf))
	if (!HAS("client-to-client"))
		g->rules.client_to_client = top->client_to_client;
	if (!HAS("global-only"))
		g->rules.global_only = top->global_only;
	if (!HAS("protocols"))
		g->rules.protocols = top->protocols;
	if (!HAS("tcp-ports"))
		g->rules.tcp_ports = top->tcp_ports;
	if (!HAS("udp-ports"))
		g->rules.udp_ports = top->udp_ports;
#undef HAS
}

/* The leases of one pool of g; 0 or -1 with the error set. */
static int pool_leases(struct cfg_ctx *x, const config_setting_t *s, const struct pool_geom *geom,
		       const struct cfg_group *g, const struct cfg_prefix *p, uint32_t *lo,
		       uint32_t *hi)
{
	bool v4 = p->addr.family == AF_INET;
	char a[CFG_PREFIX_STRLEN];
	int r = pool_range(geom, p, lo, hi);

	cfg_prefix_str(p, a, sizeof(a));
	if (r == -EDOM)
		return cfg_fail(x, s, "groups: \"%s\": %s \"%s\" is not inside network.%s", g->name,
				v4 ? "ipv4-pool" : "ipv6-pool", a, v4 ? "ipv4-pool" : "ipv6-pool");
	if (r < 0)
		return cfg_fail(x, s,
				"groups: \"%s\": %s \"%s\" reaches past the %u leases of the "
				"network pools (the smaller pool sets their number)",
				g->name, v4 ? "ipv4-pool" : "ipv6-pool", a, geom->size);
	return 0;
}

static int carve(struct cfg_ctx *x, const config_setting_t *s, const struct pool_geom *geom,
		 struct cfg_group *g)
{
	uint32_t lo4 = 0, hi4 = 0, lo6 = 0, hi6 = 0;

	if (g->have_ipv4_pool && pool_leases(x, s, geom, g, &g->ipv4_pool, &lo4, &hi4) < 0)
		return -1;
	if (g->have_ipv6_pool && pool_leases(x, s, geom, g, &g->ipv6_pool, &lo6, &hi6) < 0)
		return -1;
	if (g->have_ipv4_pool && g->have_ipv6_pool && (lo4 != lo6 || hi4 != hi6))
		return cfg_fail(x, s,
				"groups: \"%s\": ipv4-pool names leases %u..%u and ipv6-pool "
				"leases %u..%u: they must name the same ones (one lease is an IPv4 "
				"and an IPv6 address)",
				g->name, lo4, hi4 - 1, lo6, hi6 - 1);
	g->lease_lo = g->have_ipv4_pool ? lo4 : lo6;
	g->lease_hi = g->have_ipv4_pool ? hi4 : hi6;
	return 0;
}

static int check_overlap(struct cfg_ctx *x, const config_setting_t *s, const struct cfg *c,
			 unsigned i)
{
	const struct cfg_group *g = &c->groups[i];

	if (g->lease_hi == 0)
		return 0;
	for (unsigned j = 0; j < i; j++) {
		const struct cfg_group *o = &c->groups[j];

		if (o->lease_hi && g->lease_lo < o->lease_hi && o->lease_lo < g->lease_hi)
			return cfg_fail(
			    x, s, "groups: \"%s\": its pool overlaps the pool of group \"%s\"",
			    g->name, o->name);
	}
	return 0;
}

static bool has_family(const struct cfg_addr *a, unsigned n, int family)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].family == family)
			return true;
	return false;
}

/* network.dns-intercept: one address per family, not a client's, and a
 * resolver of its family wherever a session may take its DNS from. */
static int check_intercept(struct cfg_ctx *x, config_t *lc, const struct pool_geom *geom,
			   bool have_geom)
{
	const struct cfg *c = x->cfg;
	const config_setting_t *s = config_lookup(lc, "network.dns-intercept");
	unsigned line = s ? (unsigned)config_setting_source_line(s) : 0;
	char a[CFG_ADDR_STRLEN];

	for (unsigned i = 0; i < c->n_dns_intercept; i++) {
		const struct cfg_addr *ia = &c->dns_intercept[i];
		struct cfg_prefix host = {*ia, ia->family == AF_INET ? 32 : 128};
		uint32_t lo, hi;

		cfg_addr_str(ia, a, sizeof(a));
		if (has_family(c->dns_intercept, i, ia->family))
			return cfg_fail_line(
			    x, line,
			    "network.dns-intercept: two %s addresses; give at most "
			    "one of each family",
			    ia->family == AF_INET ? "IPv4" : "IPv6");
		if (have_geom && pool_range(geom, &host, &lo, &hi) == 0 && lo != POOL_SERVER_INDEX)
			return cfg_fail_line(
			    x, line,
			    "network.dns-intercept: %s is a client's address in "
			    "the pools; use the server's own (the pool's first) or "
			    "one outside them",
			    a);
		if (!has_family(c->dns, c->n_dns, ia->family))
			return cfg_fail_line(x, line,
					     "network.dns-intercept: %s needs an %s address in "
					     "network.dns, where its queries go",
					     a, ia->family == AF_INET ? "IPv4" : "IPv6");
		for (unsigned g = 0; g < c->n_groups; g++)
			if (!has_family(c->groups[g].dns, c->groups[g].n_dns, ia->family))
				return cfg_fail_line(
				    x, line,
				    "network.dns-intercept: %s needs an %s address in the dns of "
				    "group \"%s\", where its queries go",
				    a, ia->family == AF_INET ? "IPv4" : "IPv6", c->groups[g].name);
	}
	return 0;
}

int cfg_groups_finish(struct cfg_ctx *x, config_t *lc)
{
	struct cfg *c = x->cfg;
	const config_setting_t *gs = config_lookup(lc, "groups");
	struct pool_geom geom;
	const char *full;
	bool have_geom;
	size_t size;

	have_geom = pool_geom_init(&geom, c->have_ipv4_pool ? &c->ipv4_pool : NULL,
				   c->have_ipv6_pool ? &c->ipv6_pool : NULL) == 0;
	for (unsigned i = 0; i < c->n_groups; i++) {
		struct cfg_group *g = &c->groups[i];
		const config_setting_t *s = config_setting_get_elem(gs, i);

		if (!g->have_routes) {
			memcpy(g->routes, c->routes, sizeof(g->routes));
			g->n_routes = c->n_routes;
		}
		if (!g->have_dns) {
			memcpy(g->dns, c->dns, sizeof(g->dns));
			g->n_dns = c->n_dns;
		}
		inherit_rules(g, &c->rules, s);
		if (!(g->have_ipv4_pool || g->have_ipv6_pool))
			continue;
		if (!have_geom) /* never: the top level needs a pool */
			return cfg_fail(x, s, "groups: \"%s\": a pool needs the network pools",
					g->name);
		if (carve(x, s, &geom, g) < 0 || check_overlap(x, s, c, i) < 0)
			return -1;
	}
	if (check_intercept(x, lc, &geom, have_geom) < 0)
		return -1;
	if ((full = policy_routes_full(c)) != NULL) {
		const config_setting_t *s = config_lookup(lc, "network.dns-intercept");

		return cfg_fail_line(x, s ? (unsigned)config_setting_source_line(s) : 0,
				     "network.dns-intercept: the routes of %s%s%s leave no room "
				     "for a route to it (at most %d routes)",
				     full[0] ? "group \"" : "network.routes", full,
				     full[0] ? "\"" : "", CFG_MAX_ROUTES);
	}
	size = policy_packed_size(c);
	if (size > POLICY_MAX)
		return cfg_fail_line(x, gs ? (unsigned)config_setting_source_line(gs) : 0,
				     "groups: the groups' routes, DNS servers and port ranges take "
				     "%zu bytes in the workers' policy, at most %u: use fewer",
				     size, (unsigned)POLICY_MAX);
	return 0;
}
