/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration: the list of TLS stream services, for the master, `tunneld
 * -t` and the tests.
 *
 *   services = (
 *     { name = "web"; listen = "0.0.0.0:8443"; connect = "127.0.0.1:8080";
 *       certificate = "web.pem"; key = "web.key"; }
 *   );
 *
 * Each entry is a group of the fields in fields[] below; anything else is
 * an error naming FILE:LINE.  Owns nothing between calls: the strings it
 * makes belong to the struct cfg (freed by cfg_services_free). */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum svc_field_type { SF_NAME, SF_ADDR, SF_PATH, SF_BOOL, SF_UINT };

/* The fields of one service: name, type, where it goes, default, bounds. */
static const struct svc_field {
	const char *name;
	enum svc_field_type type;
	size_t off;
	bool required;
	unsigned def, min, max;
} fields[] = {
#define SOFF(f) offsetof(struct cfg_service, f)
    {"name", SF_NAME, SOFF(name), true, 0, 0, 0},
    {"listen", SF_ADDR, SOFF(listen), true, 0, 0, 0},
    {"connect", SF_ADDR, SOFF(connect), true, 0, 0, 0},
    {"certificate", SF_PATH, SOFF(certificate), true, 0, 0, 0},
    {"key", SF_PATH, SOFF(key), true, 0, 0, 0},
    {"ca", SF_PATH, SOFF(ca), false, 0, 0, 0},
    {"proxy-protocol", SF_BOOL, SOFF(proxy_protocol), false, 0, 0, 1},
    {"max-connections", SF_UINT, SOFF(max_connections), false, 1024, 1, 1000000},
    {"connect-timeout", SF_UINT, SOFF(connect_timeout), false, 5, 1, 600},
    {"idle-timeout", SF_UINT, SOFF(idle_timeout), false, 300, 1, 86400},
#undef SOFF
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* One field's value s into sv. */
static int parse_field(struct cfg_ctx *x, const struct svc_field *f, const config_setting_t *s,
		       struct cfg_service *sv)
{
	void *dst = (char *)sv + f->off;
	int t = config_setting_type(s);
	const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
	const char *why;
	long long n;

	switch (f->type) {
	case SF_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return cfg_fail(x, s, "services: %s: expected true or false, got %s",
					f->name, cfg_type_name(s));
		*(bool *)dst = config_setting_get_bool(s) != 0;
		return 0;
	case SF_UINT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return cfg_fail(x, s, "services: %s: expected an integer, got %s", f->name,
					cfg_type_name(s));
		n = config_setting_get_int64(s);
		if (n < f->min || n > f->max)
			return cfg_fail(x, s, "services: %s: %lld is out of range %u..%u", f->name,
					n, f->min, f->max);
		*(unsigned *)dst = (unsigned)n;
		return 0;
	default:
		break;
	}
	if (!v)
		return cfg_fail(x, s, "services: %s: expected a string, got %s", f->name,
				cfg_type_name(s));
	if (!*v)
		return cfg_fail(x, s, "services: %s: must not be empty", f->name);
	if (f->type == SF_NAME) {
		size_t i;

		for (i = 0; v[i] && name_char(v[i]); i++)
			;
		if (v[i] || i >= CFG_SVC_NAME_MAX)
			return cfg_fail(x, s,
					"services: name \"%s\": 1..%d characters from A-Z a-z "
					"0-9 - _ .",
					v, CFG_SVC_NAME_MAX - 1);
		memcpy(dst, v, i + 1);
		return 0;
	}
	if (f->type == SF_ADDR) {
		why = cfg_listen_parse(v, dst);
		return why ? cfg_fail(x, s, "services: %s: \"%s\": %s", f->name, v, why) : 0;
	}
	free(*(char **)dst);
	*(char **)dst = strdup(v);
	return *(char **)dst ? 0 : cfg_fail(x, s, "out of memory");
}

static const struct svc_field *field_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

/* One group of the list into sv. */
static int parse_one(struct cfg_ctx *x, const config_setting_t *g, struct cfg_service *sv)
{
	bool seen[ARRAY_SIZE(fields)] = {false};

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(x, g,
				"services: expected groups like { name = \"web\"; ... }, got %s",
				cfg_type_name(g));
	sv->line = (unsigned)config_setting_source_line(g);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].type == SF_UINT)
			*(unsigned *)((char *)sv + fields[i].off) = fields[i].def;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const struct svc_field *f = field_find(config_setting_name(s));

		if (!f)
			return cfg_fail(x, s,
					"services: unknown setting %s (one of name, listen, "
					"connect, certificate, key, ca, proxy-protocol, "
					"max-connections, connect-timeout, idle-timeout)",
					config_setting_name(s));
		if (parse_field(x, f, s, sv) < 0)
			return -1;
		seen[f - fields] = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].required && !seen[i])
			return cfg_fail(x, g, "services: %s%s%s: missing %s",
					sv->name[0] ? "\"" : "",
					sv->name[0] ? sv->name : "a service",
					sv->name[0] ? "\"" : "", fields[i].name);
	return 0;
}

int cfg_services_parse(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	struct cfg *cfg = x->cfg;
	int t = config_setting_type(s), n;

	if (t != CONFIG_TYPE_LIST)
		return cfg_fail(x, s,
				"%s: expected a list of groups like ( { name = \"web\"; ... } ), "
				"got %s",
				k->path, cfg_type_name(s));
	n = config_setting_length(s);
	if (n > (int)k->max)
		return cfg_fail(x, s, "%s: too many entries (%d, at most %lld)", k->path, n,
				k->max);
	for (int i = 0; i < n; i++) {
		struct cfg_service *sv = &cfg->services[i];

		cfg->n_services = (unsigned)i + 1; /* freed by cfg_free from here on */
		if (parse_one(x, config_setting_get_elem(s, (unsigned)i), sv) < 0)
			return -1;
		for (int j = 0; j < i; j++) {
			if (!strcmp(cfg->services[j].name, sv->name))
				return cfg_fail_line(
				    x, sv->line, "services: name \"%s\" is used twice", sv->name);
			if (cfg_listen_eq(&cfg->services[j].listen, &sv->listen))
				return cfg_fail_line(
				    x, sv->line, "services: \"%s\" listens on %s like \"%s\"",
				    sv->name, sv->listen.text, cfg->services[j].name);
		}
	}
	return 0;
}

int cfg_services_check(struct cfg_ctx *x)
{
	const struct cfg *cfg = x->cfg;

	for (unsigned i = 0; i < cfg->n_services; i++)
		for (unsigned j = 0; j < cfg->n_listen; j++)
			if (cfg_listen_eq(&cfg->services[i].listen, &cfg->listen[j]))
				return cfg_fail_line(x, cfg->services[i].line,
						     "services: \"%s\" listens on %s, a listen "
						     "address of the VPN",
						     cfg->services[i].name,
						     cfg->services[i].listen.text);
	return 0;
}

void cfg_services_free(struct cfg *cfg)
{
	for (unsigned i = 0; i < cfg->n_services; i++) {
		free(cfg->services[i].certificate);
		free(cfg->services[i].key);
		free(cfg->services[i].ca);
	}
	memset(cfg->services, 0, sizeof(cfg->services));
	cfg->n_services = 0;
}

static int absolute(char **p, const char *dir)
{
	char *abs;

	if (!*p || (*p)[0] == '/')
		return 0;
	if (asprintf(&abs, "%s/%s", dir, *p) < 0)
		return -1;
	free(*p);
	*p = abs;
	return 0;
}

int cfg_services_paths(struct cfg *cfg, const char *dir)
{
	for (unsigned i = 0; i < cfg->n_services; i++) {
		struct cfg_service *sv = &cfg->services[i];

		if (absolute(&sv->certificate, dir) < 0 || absolute(&sv->key, dir) < 0 ||
		    absolute(&sv->ca, dir) < 0)
			return -1;
	}
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool cfg_services_eq(const struct cfg *a, const struct cfg *b)
{
	if (a->n_services != b->n_services)
		return false;
	for (unsigned i = 0; i < a->n_services; i++) {
		const struct cfg_service *x = &a->services[i], *y = &b->services[i];

		if (strcmp(x->name, y->name) || !cfg_listen_eq(&x->listen, &y->listen) ||
		    !cfg_listen_eq(&x->connect, &y->connect) ||
		    !str_eq(x->certificate, y->certificate) || !str_eq(x->key, y->key) ||
		    !str_eq(x->ca, y->ca) || x->proxy_protocol != y->proxy_protocol ||
		    x->max_connections != y->max_connections ||
		    x->connect_timeout != y->connect_timeout || x->idle_timeout != y->idle_timeout)
			return false;
	}
	return true;
}
