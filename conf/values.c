/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration values: the lexical pre-scan and the parser of each kind of
 * value (addresses, prefixes, listen addresses, names, numbers), for the
 * master, `tunneld -t` and the tests.  Owns nothing; writes errors into the
 * caller's context and never prints. */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum cfg_log_level level;
} log_levels[] = {
    {"error", LOG_LVL_ERR},
    {"warning", LOG_LVL_WARNING},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
};

/* Formats "NAME:LINE: message" (or "NAME: message" when the line is not
 * known) into the caller's buffer; always returns -1 so callers can
 * `return cfg_fail(...)`. */
__attribute__((format(printf, 3, 0))) static int vfail(struct cfg_ctx *x, unsigned line,
						       const char *fmt, va_list ap)
{
	int n;

	if (!x->err || !x->errlen)
		return -1;
	if (line)
		n = snprintf(x->err, x->errlen, "%s:%u: ", x->name, line);
	else
		n = snprintf(x->err, x->errlen, "%s: ", x->name);
	if (n >= 0 && (size_t)n < x->errlen)
		vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	return -1;
}

int cfg_fail_line(struct cfg_ctx *x, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(x, line, fmt, ap);
	va_end(ap);
	return -1;
}

int cfg_fail(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(x, config_setting_source_line(s), fmt, ap);
	va_end(ap);
	return -1;
}

const char *cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "an unknown type";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* libconfig name syntax: [A-Za-z*][-A-Za-z0-9_*]* */
static bool is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '*';
}

/* A numeric literal as libconfig would see it, including floats and
 * suffixes, so that the caller can classify the whole token. */
static const char *number_end(const char *p)
{
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');

	if (*p == '+' || *p == '-')
		p++;
	while (is_alpha(*p) || is_digit(*p) || *p == '.' || *p == '_') {
		if (!hex && (*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-'))
			p++;
		p++;
	}
	return p;
}

/* Whether [p, end) is a plain decimal or hex integer that libconfig 1.5 would
 * silently truncate to 32 bits (it converts with atoi() and strtoul()). */
static bool int_literal_overflows(const char *p, const char *end)
{
	const char *d = p + (*p == '+' || *p == '-');
	bool hex = d == p && end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	long long v;

	for (d += hex ? 2 : 0; d < end; d++)
		if (!is_digit(*d) &&
		    !(hex && ((*d >= 'a' && *d <= 'f') || (*d >= 'A' && *d <= 'F'))))
			return false; /* a float, an L suffix or junk: libconfig judges */
	errno = 0;
	v = strtoll(p, NULL, hex ? 16 : 10);
	return errno == ERANGE || v > INT_MAX || v < INT_MIN;
}

/* A lexical pass before libconfig sees the text.  libconfig 1.5 turns
 * "queue-bytes = 4295229440" into 262144 without a word, and no setting here
 * takes a value beyond 32 bits, so such literals are refused.  @include is
 * refused too: every setting must come from the one file that was named. */
int cfg_scan_text(struct cfg_ctx *x, const char *p)
{
	unsigned line = 1;

	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
			p += *p ? 2 : 0;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
			}
			p += *p ? 1 : 0;
		} else if (!strncmp(p, "@include", 8)) {
			return cfg_fail_line(x, line, "@include is not supported");
		} else if (is_alpha(*p) || *p == '*') {
			while (is_name_char(*p))
				p++;
		} else if (is_digit(*p) || ((*p == '+' || *p == '-') && is_digit(p[1]))) {
			const char *end = number_end(p);

			if (int_literal_overflows(p, end))
				return cfg_fail_line(x, line, "integer %.*s is out of range",
						     (int)(end - p > 40 ? 40 : end - p), p);
			p = end;
		} else {
			p++;
		}
	}
	return 0;
}

static unsigned char *addr_bytes(struct cfg_addr *a)
{
	return a->family == AF_INET ? (unsigned char *)&a->u.v4 : (unsigned char *)&a->u.v6;
}

static unsigned addr_bits(const struct cfg_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

bool cfg_addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return !memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6));
}

bool cfg_prefix_eq(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->len == b->len && cfg_addr_eq(&a->addr, &b->addr);
}

static int addr_parse(const char *s, struct cfg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->u.v6) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

/* 1..maxdigits decimal digits and nothing else (no sign, no blanks). */
static int digits_parse(const char *s, size_t maxdigits, unsigned *out)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n == 0 || n > maxdigits)
		return -EINVAL;
	for (; *s; s++) {
		if (!is_digit(*s))
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

/* "ADDR/LEN" for either family; host bits are left as written. */
static int prefix_parse(const char *s, struct cfg_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (addr_parse(buf, &p->addr) < 0 || digits_parse(slash + 1, 3, &p->len) < 0 ||
	    p->len > addr_bits(&p->addr))
		return -EINVAL;
	return 0;
}

/* Clears the bits beyond the prefix length; true if any were set. */
static bool prefix_clear_host_bits(struct cfg_prefix *p)
{
	unsigned char *b = addr_bytes(&p->addr);
	bool was_set = false;

	for (unsigned i = 0; i < addr_bits(&p->addr) / 8; i++) {
		unsigned keep = p->len > i * 8 ? p->len - i * 8 : 0;
		unsigned char mask = keep >= 8 ? 0xff : (unsigned char)(0xff00u >> keep);

		was_set |= (b[i] & ~mask) != 0;
		b[i] &= mask;
	}
	return was_set;
}

/* Host bits in a pool or route are almost always a typo for a different
 * network, so they are an error that names the network that was meant. */
static int check_host_bits(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s,
			   const char *text, struct cfg_prefix *p)
{
	char buf[CFG_PREFIX_STRLEN];

	if (!prefix_clear_host_bits(p))
		return 0;
	return cfg_fail(x, s, "%s: \"%s\" has host bits set; did you mean \"%s\"?", k->path, text,
			cfg_prefix_str(p, buf, sizeof(buf)));
}

/* "ADDR:PORT" or "[ADDR6]:PORT".  Returns NULL, or why text is wrong. */
static const char *listen_parse(const char *text, struct cfg_listen *l)
{
	static const char *const form = "expected \"ADDRESS:PORT\" like \"0.0.0.0:443\" or "
					"\"[::]:443\"";
	char host[INET6_ADDRSTRLEN];
	const char *h, *port;
	size_t hlen;
	int family;
	unsigned num;

	memset(l, 0, sizeof(*l));
	if (strlen(text) >= sizeof(l->text))
		return form;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return form;
		h = text + 1;
		hlen = (size_t)(close - h);
		port = close + 2;
		family = AF_INET6;
	} else {
		const char *colon = strrchr(text, ':');

		if (!colon)
			return "missing \":PORT\", as in \"0.0.0.0:443\"";
		h = text;
		hlen = (size_t)(colon - h);
		if (memchr(h, ':', hlen))
			return "an IPv6 address needs brackets, as in \"[::]:443\"";
		port = colon + 1;
		family = AF_INET;
	}
	if (hlen >= sizeof(host))
		return family == AF_INET6 ? "not an IPv6 address"
					  : "not an IP address (host names are not resolved)";
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (digits_parse(port, 5, &num) < 0 || num < 1 || num > 65535)
		return "the port must be a number 1..65535";

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return "not an IP address (host names are not resolved)";
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)num);
		l->sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return "not an IPv6 address";
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)num);
		l->sslen = sizeof(*sin6);
	}
	memcpy(l->text, text, strlen(text) + 1);
	return NULL;
}

const char *cfg_listen_parse(const char *text, struct cfg_listen *l)
{
	return listen_parse(text, l);
}

bool cfg_listen_eq(const struct cfg_listen *a, const struct cfg_listen *b)
{
	return a->sslen == b->sslen && !memcmp(&a->ss, &b->ss, a->sslen);
}

/* What Linux accepts as a name (dev_valid_name()), narrowed to characters
 * that are safe in logs and in the ip(8) commands admins type. */
static bool ifname_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!is_alpha(*s) && !is_digit(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

int cfg_loglevel_parse(const char *s, enum cfg_log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++) {
		if (!strcmp(s, log_levels[i].name)) {
			*out = log_levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_string(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	char **dst = cfg_field(x->cfg, k->off);
	const char *v;
	char *dup;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "%s: expected a string, got %s", k->path, cfg_type_name(s));
	v = config_setting_get_string(s);
	if (k->type == CT_IFNAME && !ifname_valid(v, (size_t)k->max))
		return cfg_fail(x, s,
				"%s: \"%s\" is not a valid interface name (%lld..%lld characters "
				"from A-Z a-z 0-9 _ . -)",
				k->path, v, k->min, k->max);
	if (!*v)
		return cfg_fail(x, s, "%s: must not be empty", k->path);
	dup = strdup(v);
	if (!dup)
		return cfg_fail(x, s, "out of memory");
	free(*dst);
	*dst = dup;
	return 0;
}

static int parse_uint(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	unsigned *dst = cfg_field(x->cfg, k->off);
	int t = config_setting_type(s);
	long long v;

	if (k->type == CT_WORKERS && t == CONFIG_TYPE_STRING &&
	    !strcmp(config_setting_get_string(s), "auto")) {
		*dst = 0;
		return 0;
	}
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		if (k->type == CT_WORKERS && t == CONFIG_TYPE_STRING)
			return cfg_fail(
			    x, s, "%s: expected \"auto\" or an integer %lld..%lld, got \"%s\"",
			    k->path, k->min, k->max, config_setting_get_string(s));
		if (k->type == CT_WORKERS)
			return cfg_fail(x, s,
					"%s: expected \"auto\" or an integer %lld..%lld, got %s",
					k->path, k->min, k->max, cfg_type_name(s));
		return cfg_fail(x, s, "%s: expected an integer, got %s", k->path, cfg_type_name(s));
	}
	v = config_setting_get_int64(s);
	if (v < k->min || v > k->max)
		return cfg_fail(x, s, "%s: %lld is out of range %lld..%lld", k->path, v, k->min,
				k->max);
	*dst = (unsigned)v;
	return 0;
}

static int parse_loglevel(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "%s: expected a string, got %s", k->path, cfg_type_name(s));
	if (cfg_loglevel_parse(config_setting_get_string(s), cfg_field(x->cfg, k->off)) < 0)
		return cfg_fail(x, s,
				"%s: expected one of \"error\", \"warning\", \"info\", \"debug\", "
				"got \"%s\"",
				k->path, config_setting_get_string(s));
	return 0;
}

static int parse_pool(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	int family = k->type == CT_PREFIX4 ? AF_INET : AF_INET6;
	const char *like = family == AF_INET ? "an IPv4 prefix like \"198.18.100.0/24\""
					     : "an IPv6 prefix like \"fd00:100::/64\"";
	struct cfg_prefix *p = cfg_field(x->cfg, k->off);
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "%s: expected %s, got %s", k->path, like, cfg_type_name(s));
	v = config_setting_get_string(s);
	if (prefix_parse(v, p) < 0 || p->addr.family != family)
		return cfg_fail(x, s, "%s: expected %s, got \"%s\"", k->path, like, v);
	if (p->len < k->min || p->len > k->max)
		return cfg_fail(x, s, "%s: prefix length /%u is out of range /%lld../%lld", k->path,
				p->len, k->min, k->max);
	if (check_host_bits(x, k, s, v, p) < 0)
		return -1;
	*(bool *)cfg_field(x->cfg, k->aux) = true;
	return 0;
}

/* Checks that s is a list of min..max strings; returns its length or -1. */
static int list_check(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s,
		      const char *like)
{
	int t = config_setting_type(s);
	int n;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return cfg_fail(x, s, "%s: expected a list of strings like [%s], got %s", k->path,
				like, cfg_type_name(s));
	n = config_setting_length(s);
	if (n < k->min)
		return cfg_fail(x, s, "%s: needs at least %lld entr%s like %s", k->path, k->min,
				k->min == 1 ? "y" : "ies", like);
	if (n > k->max)
		return cfg_fail(x, s, "%s: too many entries (%d, at most %lld)", k->path, n,
				k->max);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_fail(x, e, "%s: entries must be strings like %s, got %s",
					k->path, like, cfg_type_name(e));
	}
	return n;
}

static int parse_list(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	static const char *const like[] = {
	    [CT_LISTEN] = "\"0.0.0.0:443\"",
	    [CT_ADDRS] = "\"198.18.100.1\" or \"fd00:100::1\"",
	    [CT_PREFIXES] = "\"198.18.1.0/24\" or \"fd00:1::/64\"",
	};
	struct cfg_listen *listen = cfg_field(x->cfg, k->off);
	struct cfg_addr *addrs = cfg_field(x->cfg, k->off);
	struct cfg_prefix *prefixes = cfg_field(x->cfg, k->off);
	int n = list_check(x, k, s, like[k->type]);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		const char *why;

		switch (k->type) {
		case CT_LISTEN:
			why = listen_parse(v, &listen[i]);
			if (why)
				return cfg_fail(x, e, "%s: \"%s\": %s", k->path, v, why);
			for (int j = 0; j < i; j++)
				if (cfg_listen_eq(&listen[j], &listen[i]))
					return cfg_fail(x, e, "%s: \"%s\" duplicates \"%s\"",
							k->path, v, listen[j].text);
			break;
		case CT_ADDRS:
			if (addr_parse(v, &addrs[i]) < 0)
				return cfg_fail(x, e,
						"%s: expected an IP address like %s, got \"%s\"",
						k->path, like[k->type], v);
			break;
		default: /* CT_PREFIXES */
			if (prefix_parse(v, &prefixes[i]) < 0)
				return cfg_fail(x, e, "%s: expected a prefix like %s, got \"%s\"",
						k->path, like[k->type], v);
			if (check_host_bits(x, k, e, v, &prefixes[i]) < 0)
				return -1;
			break;
		}
	}
	*(unsigned *)cfg_field(x->cfg, k->aux) = (unsigned)n;
	return 0;
}

int cfg_word_index(const struct cfg_key *k, const char *s)
{
	const char *w = k->def_str;
	size_t n = strlen(s);

	for (int i = 0; w && *w; i++) {
		size_t wl = strcspn(w, "|");

		if (wl == n && !strncmp(w, s, n))
			return i;
		w += wl + (w[wl] == '|');
	}
	return -EINVAL;
}

const char *cfg_word(const struct cfg_key *k, unsigned i, char *buf, size_t len)
{
	const char *w = k->def_str;

	for (; w && *w && i; i--)
		w += strcspn(w, "|") + (w[strcspn(w, "|")] == '|');
	snprintf(buf, len, "%.*s", w ? (int)strcspn(w, "|") : 0, w ? w : "");
	return buf;
}

static int parse_word(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	char list[128], word[64];
	size_t n = 0;
	int i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    (i = cfg_word_index(k, config_setting_get_string(s))) >= 0) {
		*(unsigned *)cfg_field(x->cfg, k->off) = (unsigned)i;
		return 0;
	}
	list[0] = '\0';
	for (unsigned w = 0; *cfg_word(k, w, word, sizeof(word)) && n < sizeof(list); w++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", w ? ", " : "", word);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "%s: expected one of %s, got %s", k->path, list,
				cfg_type_name(s));
	return cfg_fail(x, s, "%s: expected one of %s, got \"%s\"", k->path, list,
			config_setting_get_string(s));
}

/* One "ADDRESS:PORT", as a listen entry is written. */
static int parse_addrport(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	const char *v, *why;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s,
				"%s: expected \"ADDRESS:PORT\" like \"127.0.0.1:9611\", got %s",
				k->path, cfg_type_name(s));
	v = config_setting_get_string(s);
	why = listen_parse(v, cfg_field(x->cfg, k->off));
	if (why)
		return cfg_fail(x, s, "%s: \"%s\": %s", k->path, v, why);
	*(bool *)cfg_field(x->cfg, k->aux) = true;
	return 0;
}

static int parse_bool(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(x, s, "%s: expected true or false, got %s", k->path,
				cfg_type_name(s));
	*(bool *)cfg_field(x->cfg, k->off) = config_setting_get_bool(s) != 0;
	return 0;
}

int cfg_parse_key(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	switch (k->type) {
	case CT_BOOL:
		return parse_bool(x, k, s);
	case CT_STRING:
	case CT_IFNAME:
		return parse_string(x, k, s);
	case CT_UINT:
	case CT_WORKERS:
		return parse_uint(x, k, s);
	case CT_LOGLEVEL:
		return parse_loglevel(x, k, s);
	case CT_WORD:
		return parse_word(x, k, s);
	case CT_ADDRPORT:
		return parse_addrport(x, k, s);
	case CT_PREFIX4:
	case CT_PREFIX6:
		return parse_pool(x, k, s);
	case CT_LISTEN:
	case CT_ADDRS:
	case CT_PREFIXES:
		return parse_list(x, k, s);
	case CT_PROTOS:
		return cfg_parse_protocols(x, k, s);
	case CT_PORTS:
		return cfg_parse_ports(x, k, s);
	case CT_GROUPS:
		return cfg_parse_groups(x, k, s);
	case CT_SERVICES:
		return cfg_services_parse(x, k, s);
	}
	return cfg_fail(x, s, "%s: internal error: unknown key type", k->path);
}

bool cfg_loglevel_valid(long long level)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (level == log_levels[i].level)
			return true;
	return false;
}

bool cfg_prefix_valid(const struct cfg_prefix *p)
{
	struct cfg_prefix c = *p;

	if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
		return false;
	return p->len <= addr_bits(&p->addr) && !prefix_clear_host_bits(&c);
}

const char *cfg_addr_str(const struct cfg_addr *a, char *buf, size_t len)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return NULL;
	return inet_ntop(a->family, &a->u, buf, (socklen_t)(len > INT_MAX ? INT_MAX : len));
}

const char *cfg_prefix_str(const struct cfg_prefix *p, char *buf, size_t len)
{
	size_t n;

	if (!cfg_addr_str(&p->addr, buf, len))
		return NULL;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, len - n, "/%u", p->len) >= len - n)
		return NULL;
	return buf;
}
