/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RADIUS attributes tunneld honours (see radattr.h): read from radcli's
 * lists in the processes that ask the server and in the master (CoA),
 * checked again by the master, turned into groups.  Owns nothing. */
#include "config.h"
#include "daemon/radattr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <radcli/radcli.h>

static void set_u32(struct radius_grant *g, uint32_t bit, uint32_t *field, VALUE_PAIR *vp)
{
	uint32_t v;

	if (rc_avpair_get_uint32(vp, &v) == 0) {
		*field = v;
		g->have |= bit;
	}
}

/* The prefix length of a dotted IPv4 netmask, or -1 when it is none. */
static int mask_len(const char *text)
{
	struct in_addr m;
	uint32_t v;
	int n = 0;

	if (inet_pton(AF_INET, text, &m) != 1)
		return -1;
	v = ntohl(m.s_addr);
	while (v & 0x80000000u) {
		n++;
		v <<= 1;
	}
	return v ? -1 : n;
}

static void clear_host_bits(struct cfg_prefix *p)
{
	uint8_t *b = p->addr.family == AF_INET ? (uint8_t *)&p->addr.u.v4 : p->addr.u.v6.s6_addr;
	unsigned bytes = p->addr.family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = p->len > i * 8 ? p->len - i * 8 : 0;
		if (keep < 8)
			b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* "PREFIX[/LEN] [GATEWAY-or-NETMASK [METRIC...]]" into *p; 0 or -1. */
static int route_parse(const char *text, int family, struct cfg_prefix *p)
{
	char first[64], second[64] = "";
	unsigned max = family == AF_INET ? 32 : 128, len = max;
	char *slash;

	if (sscanf(text, " %63s %63s", first, second) < 1)
		return -1;
	slash = strchr(first, '/');
	if (slash) {
		char *end;
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || l > max)
			return -1;
		len = (unsigned)l;
		*slash = '\0';
	} else if (family == AF_INET && second[0] && mask_len(second) >= 0) {
		len = (unsigned)mask_len(second); /* Cisco's "NET MASK" form */
	}
	memset(p, 0, sizeof(*p));
	p->addr.family = family;
	if (inet_pton(family, first, &p->addr.u) != 1)
		return -1;
	p->len = len;
	clear_host_bits(p);
	return 0;
}

static void add_route(struct radius_grant *g, VALUE_PAIR *vp, int family)
{
	struct cfg_prefix p;
	unsigned len;
	char *s;

	if (rc_avpair_get_raw(vp, &s, &len) < 0 || route_parse(s, family, &p) < 0 ||
	    g->n_routes >= RADIUS_ROUTES_MAX) {
		g->dropped_routes++;
		return;
	}
	g->routes[g->n_routes++] = p;
}

static void add_class(struct radius_grant *g, VALUE_PAIR *vp)
{
	unsigned len;
	char *s;

	if (rc_avpair_get_raw(vp, &s, &len) < 0 || len == 0 || len > 253 ||
	    g->class_len + 1 + len > RADIUS_CLASS_MAX) {
		g->dropped_classes++;
		return;
	}
	g->class_buf[g->class_len] = (uint8_t)len;
	memcpy(g->class_buf + g->class_len + 1, s, len);
	g->class_len += 1 + len;
	g->have |= RG_CLASS;
}

static void set_ip6(struct radius_grant *g, VALUE_PAIR *vp, unsigned id)
{
	struct in6_addr a;
	unsigned plen = 128;

	if (rc_avpair_get_in6(vp, &a, id == PW_FRAMED_IPV6_PREFIX ? &plen : NULL) < 0)
		return;
	if (plen != 128) {
		g->dropped_prefixes++;
		return;
	}
	/* Framed-IPv6-Address wins over a /128 prefix, whatever the order. */
	if (id == PW_FRAMED_IPV6_PREFIX && (g->have & RG_IP6))
		return;
	g->ip6 = a;
	g->have |= RG_IP6;
}

void radattr_read(struct rc_value_pair *list, struct radius_grant *g)
{
	for (VALUE_PAIR *vp = list; vp; vp = rc_avpair_next(vp)) {
		unsigned type, id;
		uint32_t v;

		rc_avpair_get_attr(vp, &type, &id);
		switch (id) {
		case PW_FRAMED_IP_ADDRESS:
			if (type == PW_TYPE_IPADDR && rc_avpair_get_uint32(vp, &v) == 0) {
				g->ip4.s_addr = htonl(v);
				g->have |= RG_IP4;
			}
			break;
		case PW_FRAMED_IPV6_ADDRESS:
		case PW_FRAMED_IPV6_PREFIX:
			set_ip6(g, vp, id);
			break;
		case PW_FRAMED_ROUTE:
			add_route(g, vp, AF_INET);
			break;
		case PW_FRAMED_IPV6_ROUTE:
			add_route(g, vp, AF_INET6);
			break;
		case PW_CLASS:
			add_class(g, vp);
			break;
		case PW_SESSION_TIMEOUT:
			set_u32(g, RG_SESSION_TIMEOUT, &g->session_timeout, vp);
			break;
		case PW_IDLE_TIMEOUT:
			set_u32(g, RG_IDLE_TIMEOUT, &g->idle_timeout, vp);
			break;
		case PW_ACCT_INTERIM_INTERVAL:
			set_u32(g, RG_INTERIM, &g->interim, vp);
			break;
		default:
			break;
		}
	}
}

const char *radattr_check(const struct radius_grant *g)
{
	uint32_t off = 0;

	if (g->n_routes > RADIUS_ROUTES_MAX)
		return "too many routes";
	for (uint32_t i = 0; i < g->n_routes; i++)
		if (!cfg_prefix_valid(&g->routes[i]))
			return "a route is no prefix";
	if (g->class_len > RADIUS_CLASS_MAX)
		return "Class too long";
	while (off < g->class_len) {
		if (g->class_buf[off] == 0 || off + 1 + g->class_buf[off] > g->class_len)
			return "Class values do not add up";
		off += 1u + g->class_buf[off];
	}
	return NULL;
}

bool radattr_class(const struct radius_grant *g, unsigned i, const uint8_t **val, size_t *len)
{
	uint32_t off = 0;

	while (off < g->class_len && off + 1 + g->class_buf[off] <= g->class_len) {
		if (i-- == 0) {
			*val = g->class_buf + off + 1;
			*len = g->class_buf[off];
			return true;
		}
		off += 1u + g->class_buf[off];
	}
	return false;
}

/* Append the name v[0..n) to out (cap) after a comma; false if it does
 * not fit or is no name. */
static bool add_group(char *out, size_t cap, size_t *used, const uint8_t *v, size_t n)
{
	while (n && (v[0] == ' ' || v[0] == '\t'))
		v++, n--;
	if (n >= 3 && !strncasecmp((const char *)v, "OU=", 3))
		v += 3, n -= 3;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return false;
	if (*used + (*used ? 1 : 0) + n + 1 > cap)
		return false;
	if (*used)
		out[(*used)++] = ',';
	memcpy(out + *used, v, n);
	*used += n;
	out[*used] = '\0';
	return true;
}

unsigned radattr_groups(const struct radius_grant *g, char *out, size_t cap)
{
	const uint8_t *v;
	size_t len, used = 0;
	unsigned n = 0;

	if (cap)
		out[0] = '\0';
	for (unsigned i = 0; cap && radattr_class(g, i, &v, &len); i++) {
		size_t start = 0;
		for (size_t j = 0; j <= len; j++) {
			if (j < len && v[j] != ';' && v[j] != ',')
				continue;
			n += add_group(out, cap, &used, v + start, j - start);
			start = j + 1;
		}
	}
	return n;
}
