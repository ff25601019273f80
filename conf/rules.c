/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration values of the traffic rules: the protocol list and the
 * destination port lists of rules = { ... } and of each group's rules, for
 * the master, `tunneld -t` and the tests.  Port lists come out sorted and
 * merged (overlapping or adjacent ranges joined), which is what the data
 * path's binary search (common/rules.c) relies on.  Owns nothing; writes
 * errors into the caller's context and never prints. */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} protos[] = {
    {"tcp", CFG_PROTO_TCP},
    {"udp", CFG_PROTO_UDP},
    {"icmp", CFG_PROTO_ICMP},
};

static bool is_all(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING &&
	       !strcmp(config_setting_get_string(s), "all");
}

static bool is_list(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	       config_setting_type(s) == CONFIG_TYPE_LIST;
}

int cfg_parse_protocols(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	unsigned *dst = cfg_field(x->cfg, k->off), mask = 0;

	if (is_all(s)) {
		*dst = CFG_PROTO_ALL;
		return 0;
	}
	if (!is_list(s))
		return cfg_fail(
		    x, s,
		    "%s: expected \"all\" or a list like [ \"tcp\", \"udp\", \"icmp\" ], "
		    "got %s",
		    k->path, cfg_type_name(s));
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;
		size_t j;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_fail(x, e, "%s: entries must be strings like \"tcp\", got %s",
					k->path, cfg_type_name(e));
		v = config_setting_get_string(e);
		for (j = 0; j < ARRAY_SIZE(protos) && strcmp(v, protos[j].name); j++)
			;
		if (j == ARRAY_SIZE(protos))
			return cfg_fail(x, e,
					"%s: unknown protocol \"%s\" (known: \"tcp\", \"udp\", "
					"\"icmp\"; or \"all\" for every protocol)",
					k->path, v);
		mask |= protos[j].bit;
	}
	*dst = mask;
	return 0;
}

void cfg_ports_all(struct cfg_ports *p)
{
	p->n = 1;
	p->r[0].lo = 0;
	p->r[0].hi = 65535;
}

/* 1..5 decimal digits making 0..65535; *end past them. */
static bool port_num(const char *s, const char **end, uint16_t *out)
{
	unsigned v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 6)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || n > 5 || v > 65535)
		return false;
	*out = (uint16_t)v;
	*end = s + n;
	return true;
}

/* One entry: an integer port, or a string "PORT" or "LOW-HIGH". */
static int port_entry(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *e,
		      struct cfg_port_range *r)
{
	const char *v, *end;
	long long n;

	switch (config_setting_type(e)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		n = config_setting_get_int64(e);
		if (n < 0 || n > 65535)
			return cfg_fail(x, e, "%s: port %lld is out of range 0..65535", k->path, n);
		r->lo = r->hi = (uint16_t)n;
		return 0;
	case CONFIG_TYPE_STRING:
		break;
	default:
		return cfg_fail(
		    x, e,
		    "%s: entries must be ports like \"443\" or ranges like \"8000-8080\", "
		    "got %s",
		    k->path, cfg_type_name(e));
	}
	v = config_setting_get_string(e);
	if (!port_num(v, &end, &r->lo))
		goto bad;
	r->hi = r->lo;
	if (*end == '-' && !port_num(end + 1, &end, &r->hi))
		goto bad;
	if (*end != '\0')
		goto bad;
	if (r->hi < r->lo)
		return cfg_fail(x, e, "%s: \"%s\": the range ends below its start", k->path, v);
	return 0;
bad:
	return cfg_fail(x, e, "%s: \"%s\": expected a port 0..65535 or a range LOW-HIGH of them",
			k->path, v);
}

static int range_cmp(const void *a, const void *b)
{
	const struct cfg_port_range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sort and join what overlaps or touches: a sorted, disjoint list. */
static void merge(struct cfg_ports *p)
{
	unsigned out = 0;

	if (p->n == 0)
		return;
	qsort(p->r, p->n, sizeof(p->r[0]), range_cmp);
	for (unsigned i = 1; i < p->n; i++) {
		struct cfg_port_range *last = &p->r[out];

		if ((unsigned)p->r[i].lo <= (unsigned)last->hi + 1) {
			if (p->r[i].hi > last->hi)
				last->hi = p->r[i].hi;
		} else {
			p->r[++out] = p->r[i];
		}
	}
	p->n = out + 1;
}

int cfg_parse_ports(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	struct cfg_ports *dst = cfg_field(x->cfg, k->off);
	int n;

	if (is_all(s)) {
		cfg_ports_all(dst);
		return 0;
	}
	if (!is_list(s))
		return cfg_fail(
		    x, s, "%s: expected \"all\" or a list like [ \"443\", \"8000-8080\" ], got %s",
		    k->path, cfg_type_name(s));
	n = config_setting_length(s);
	if (n > k->max)
		return cfg_fail(x, s, "%s: too many entries (%d, at most %lld)", k->path, n,
				k->max);
	for (int i = 0; i < n; i++)
		if (port_entry(x, k, config_setting_get_elem(s, (unsigned)i), &dst->r[i]) < 0)
			return -1;
	dst->n = (unsigned)n;
	merge(dst);
	return 0;
}
