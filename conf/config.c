/* Configuration loader: run by the master at start and on SIGHUP, by
 * `tunneld -t` and by the tests.  Owns nothing between calls; it parses text
 * into a fresh struct cfg that the caller owns and releases with cfg_free(). */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where tunnelctl finds the master; tools/tunnelctl.c uses the same default.
 * RUNSTATEDIR comes from Makefile.am; the fallback keeps other builds (the
 * fuzzers) compiling. */
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define CONTROL_SOCKET_DEFAULT RUNSTATEDIR "/tunneld/control.sock"

/* A config file is a few kilobytes; refuse anything absurd before parsing. */
#define CFG_MAX_FILE (1024 * 1024)

enum cfg_key_type {
	CT_STRING,   /* char *, non-empty */
	CT_IFNAME,   /* char *, a valid Linux interface name of min..max chars */
	CT_UINT,     /* unsigned, min..max */
	CT_WORKERS,  /* unsigned, "auto" (stored as 0) or min..max */
	CT_LOGLEVEL, /* enum cfg_log_level, by name */
	CT_PREFIX4,  /* struct cfg_prefix, prefix length min..max; aux: bool present */
	CT_PREFIX6,  /* the same for IPv6 */
	CT_LISTEN,   /* struct cfg_listen[max], min..max entries; aux: unsigned count */
	CT_ADDRS,    /* struct cfg_addr[max], either family; aux: unsigned count */
	CT_PREFIXES, /* struct cfg_prefix[max], either family; aux: unsigned count */
};

#define KEY_REQUIRED   0x1u /* loading fails when it is absent */
#define KEY_RELOADABLE 0x2u /* a new value applies on SIGHUP; others need a restart */

struct cfg_key {
	const char *path; /* dotted: "network.mtu" is mtu in group network */
	enum cfg_key_type type;
	size_t off;	     /* the field in struct cfg */
	size_t aux;	     /* see enum cfg_key_type */
	const char *def_str; /* default for CT_STRING, CT_IFNAME, CT_LOGLEVEL */
	unsigned def_num;    /* default for CT_UINT, CT_WORKERS */
	long long min, max;  /* bounds, meaning per type */
	unsigned flags;
};

#define OFF(field) offsetof(struct cfg, field)
#define RQ	   KEY_REQUIRED
#define RL	   KEY_RELOADABLE

/* Every setting tunneld knows.  Anything else in a file is an error, so a typo
 * cannot silently leave a default in place.  conf/tunneld.conf documents each
 * row and tests/check_config.c checks that it does. */
static const struct cfg_key cfg_keys[] = {
    /* path, type, field, aux field, default, numeric default, min, max, flags */
    {"listen", CT_LISTEN, OFF(listen), OFF(n_listen), NULL, 0, 1, CFG_MAX_LISTEN, RQ},
    {"workers", CT_WORKERS, OFF(workers), 0, NULL, 0, 1, 256, 0},
    {"user", CT_STRING, OFF(user), 0, "tunneld", 0, 0, 0, 0},
    {"group", CT_STRING, OFF(group), 0, "tunneld", 0, 0, 0, 0},
    {"tls.certificate", CT_STRING, OFF(tls_certificate), 0, NULL, 0, 0, 0, RL},
    {"tls.key", CT_STRING, OFF(tls_key), 0, NULL, 0, 0, 0, RL},
    {"tls.priorities", CT_STRING, OFF(tls_priorities), 0,
     "NORMAL:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1", 0, 0, 0, RL},
    {"auth.password-file", CT_STRING, OFF(password_file), 0, NULL, 0, 0, 0, RQ | RL},
    {"network.tun", CT_IFNAME, OFF(tun_name), 0, "tunneld0", 0, 1, 15, 0},
    {"network.mtu", CT_UINT, OFF(mtu), 0, NULL, 1400, 576, 9000, 0},
    {"network.ipv4-pool", CT_PREFIX4, OFF(ipv4_pool), OFF(have_ipv4_pool), NULL, 0, 8, 30, 0},
    {"network.ipv6-pool", CT_PREFIX6, OFF(ipv6_pool), OFF(have_ipv6_pool), NULL, 0, 64, 126, 0},
    {"network.dns", CT_ADDRS, OFF(dns), OFF(n_dns), NULL, 0, 0, CFG_MAX_DNS, RL},
    {"network.routes", CT_PREFIXES, OFF(routes), OFF(n_routes), NULL, 0, 0, CFG_MAX_ROUTES, RL},
    {"session.reconnect-timeout", CT_UINT, OFF(reconnect_timeout), 0, NULL, 300, 10, 86400, RL},
    {"session.dpd", CT_UINT, OFF(dpd), 0, NULL, 60, 0, 3600, RL},
    {"session.keepalive", CT_UINT, OFF(keepalive), 0, NULL, 30, 0, 3600, RL},
    {"limits.max-clients", CT_UINT, OFF(max_clients), 0, NULL, 10000, 1, 1000000, RL},
    {"limits.handshake-timeout", CT_UINT, OFF(handshake_timeout), 0, NULL, 10, 1, 600, RL},
    {"limits.auth-timeout", CT_UINT, OFF(auth_timeout), 0, NULL, 60, 1, 3600, RL},
    {"limits.queue-bytes", CT_UINT, OFF(queue_bytes), 0, NULL, 262144, 16384, 67108864, RL},
    {"limits.max-sessions-per-user", CT_UINT, OFF(max_sessions_per_user), 0, NULL, 0, 0, 1000000,
     RL},
    {"limits.max-handshakes", CT_UINT, OFF(max_handshakes), 0, NULL, 1024, 1, 1000000, RL},
    {"limits.max-handshakes-per-address", CT_UINT, OFF(max_handshakes_per_addr), 0, NULL, 64, 1,
     1000000, RL},
    {"limits.http-max-header-bytes", CT_UINT, OFF(http_max_header), 0, NULL, 8192, 1024, 65536, RL},
    {"limits.http-max-body-bytes", CT_UINT, OFF(http_max_body), 0, NULL, 16384, 1024, 1048576, RL},
    {"auth.ban-failures", CT_UINT, OFF(ban_failures), 0, NULL, 10, 0, 100000, RL},
    {"auth.ban-window", CT_UINT, OFF(ban_window), 0, NULL, 300, 1, 86400, RL},
    {"auth.ban-time", CT_UINT, OFF(ban_time), 0, NULL, 600, 1, 2592000, RL},
    {"session.drain-timeout", CT_UINT, OFF(drain_timeout), 0, NULL, 30, 0, 86400, RL},
    {"log.level", CT_LOGLEVEL, OFF(log_level), 0, "info", 0, 0, 0, RL},
    {"log.destination", CT_STRING, OFF(log_destination), 0, "auto", 0, 0, 0, RL},
    {"control.socket", CT_STRING, OFF(control_socket), 0, CONTROL_SOCKET_DEFAULT, 0, 0, 0, 0},
};

static const struct {
	const char *name;
	enum cfg_log_level level;
} log_levels[] = {
    {"error", LOG_LVL_ERR},
    {"warning", LOG_LVL_WARNING},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
};

struct ctx {
	struct cfg *cfg;
	const char *name; /* file name for messages */
	char *err;
	size_t errlen;
	bool seen[ARRAY_SIZE(cfg_keys)];
};

static void *field(struct cfg *c, size_t off)
{
	return (char *)c + off;
}

static const void *cfield(const struct cfg *c, size_t off)
{
	return (const char *)c + off;
}

/* Formats "NAME:LINE: message" (or "NAME: message" when the line is not
 * known) into the caller's buffer; always returns -1 so callers can
 * `return fail(...)`. */
__attribute__((format(printf, 3, 0))) static int vfail(struct ctx *x, unsigned line,
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

__attribute__((format(printf, 3, 4))) static int fail_line(struct ctx *x, unsigned line,
							   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(x, line, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *x, const config_setting_t *s,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(x, config_setting_source_line(s), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *type_name(const config_setting_t *s)
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
static int scan_text(struct ctx *x, const char *p)
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
			return fail_line(x, line, "@include is not supported");
		} else if (is_alpha(*p) || *p == '*') {
			while (is_name_char(*p))
				p++;
		} else if (is_digit(*p) || ((*p == '+' || *p == '-') && is_digit(p[1]))) {
			const char *end = number_end(p);

			if (int_literal_overflows(p, end))
				return fail_line(x, line, "integer %.*s is out of range",
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

static bool addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return !memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6));
}

static bool prefix_eq(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->len == b->len && addr_eq(&a->addr, &b->addr);
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
static int check_host_bits(struct ctx *x, const struct cfg_key *k, const config_setting_t *s,
			   const char *text, struct cfg_prefix *p)
{
	char buf[CFG_PREFIX_STRLEN];

	if (!prefix_clear_host_bits(p))
		return 0;
	return fail(x, s, "%s: \"%s\" has host bits set; did you mean \"%s\"?", k->path, text,
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

static bool listen_eq(const struct cfg_listen *a, const struct cfg_listen *b)
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

static int loglevel_parse(const char *s, enum cfg_log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++) {
		if (!strcmp(s, log_levels[i].name)) {
			*out = log_levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_string(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	char **dst = field(x->cfg, k->off);
	const char *v;
	char *dup;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(x, s, "%s: expected a string, got %s", k->path, type_name(s));
	v = config_setting_get_string(s);
	if (k->type == CT_IFNAME && !ifname_valid(v, (size_t)k->max))
		return fail(x, s,
			    "%s: \"%s\" is not a valid interface name (%lld..%lld characters "
			    "from A-Z a-z 0-9 _ . -)",
			    k->path, v, k->min, k->max);
	if (!*v)
		return fail(x, s, "%s: must not be empty", k->path);
	dup = strdup(v);
	if (!dup)
		return fail(x, s, "out of memory");
	free(*dst);
	*dst = dup;
	return 0;
}

static int parse_uint(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	unsigned *dst = field(x->cfg, k->off);
	int t = config_setting_type(s);
	long long v;

	if (k->type == CT_WORKERS && t == CONFIG_TYPE_STRING &&
	    !strcmp(config_setting_get_string(s), "auto")) {
		*dst = 0;
		return 0;
	}
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		if (k->type == CT_WORKERS && t == CONFIG_TYPE_STRING)
			return fail(x, s,
				    "%s: expected \"auto\" or an integer %lld..%lld, got \"%s\"",
				    k->path, k->min, k->max, config_setting_get_string(s));
		if (k->type == CT_WORKERS)
			return fail(x, s, "%s: expected \"auto\" or an integer %lld..%lld, got %s",
				    k->path, k->min, k->max, type_name(s));
		return fail(x, s, "%s: expected an integer, got %s", k->path, type_name(s));
	}
	v = config_setting_get_int64(s);
	if (v < k->min || v > k->max)
		return fail(x, s, "%s: %lld is out of range %lld..%lld", k->path, v, k->min,
			    k->max);
	*dst = (unsigned)v;
	return 0;
}

static int parse_loglevel(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(x, s, "%s: expected a string, got %s", k->path, type_name(s));
	if (loglevel_parse(config_setting_get_string(s), field(x->cfg, k->off)) < 0)
		return fail(x, s,
			    "%s: expected one of \"error\", \"warning\", \"info\", \"debug\", "
			    "got \"%s\"",
			    k->path, config_setting_get_string(s));
	return 0;
}

static int parse_pool(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	int family = k->type == CT_PREFIX4 ? AF_INET : AF_INET6;
	const char *like = family == AF_INET ? "an IPv4 prefix like \"198.18.100.0/24\""
					     : "an IPv6 prefix like \"fd00:100::/64\"";
	struct cfg_prefix *p = field(x->cfg, k->off);
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(x, s, "%s: expected %s, got %s", k->path, like, type_name(s));
	v = config_setting_get_string(s);
	if (prefix_parse(v, p) < 0 || p->addr.family != family)
		return fail(x, s, "%s: expected %s, got \"%s\"", k->path, like, v);
	if (p->len < k->min || p->len > k->max)
		return fail(x, s, "%s: prefix length /%u is out of range /%lld../%lld", k->path,
			    p->len, k->min, k->max);
	if (check_host_bits(x, k, s, v, p) < 0)
		return -1;
	*(bool *)field(x->cfg, k->aux) = true;
	return 0;
}

/* Checks that s is a list of min..max strings; returns its length or -1. */
static int list_check(struct ctx *x, const struct cfg_key *k, const config_setting_t *s,
		      const char *like)
{
	int t = config_setting_type(s);
	int n;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail(x, s, "%s: expected a list of strings like [%s], got %s", k->path, like,
			    type_name(s));
	n = config_setting_length(s);
	if (n < k->min)
		return fail(x, s, "%s: needs at least %lld entr%s like %s", k->path, k->min,
			    k->min == 1 ? "y" : "ies", like);
	if (n > k->max)
		return fail(x, s, "%s: too many entries (%d, at most %lld)", k->path, n, k->max);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s: entries must be strings like %s, got %s", k->path,
				    like, type_name(e));
	}
	return n;
}

static int parse_list(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	static const char *const like[] = {
	    [CT_LISTEN] = "\"0.0.0.0:443\"",
	    [CT_ADDRS] = "\"198.18.100.1\" or \"fd00:100::1\"",
	    [CT_PREFIXES] = "\"198.18.1.0/24\" or \"fd00:1::/64\"",
	};
	struct cfg_listen *listen = field(x->cfg, k->off);
	struct cfg_addr *addrs = field(x->cfg, k->off);
	struct cfg_prefix *prefixes = field(x->cfg, k->off);
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
				return fail(x, e, "%s: \"%s\": %s", k->path, v, why);
			for (int j = 0; j < i; j++)
				if (listen_eq(&listen[j], &listen[i]))
					return fail(x, e, "%s: \"%s\" duplicates \"%s\"", k->path,
						    v, listen[j].text);
			break;
		case CT_ADDRS:
			if (addr_parse(v, &addrs[i]) < 0)
				return fail(x, e, "%s: expected an IP address like %s, got \"%s\"",
					    k->path, like[k->type], v);
			break;
		default: /* CT_PREFIXES */
			if (prefix_parse(v, &prefixes[i]) < 0)
				return fail(x, e, "%s: expected a prefix like %s, got \"%s\"",
					    k->path, like[k->type], v);
			if (check_host_bits(x, k, e, v, &prefixes[i]) < 0)
				return -1;
			break;
		}
	}
	*(unsigned *)field(x->cfg, k->aux) = (unsigned)n;
	return 0;
}

static int parse_key(struct ctx *x, const struct cfg_key *k, const config_setting_t *s)
{
	switch (k->type) {
	case CT_STRING:
	case CT_IFNAME:
		return parse_string(x, k, s);
	case CT_UINT:
	case CT_WORKERS:
		return parse_uint(x, k, s);
	case CT_LOGLEVEL:
		return parse_loglevel(x, k, s);
	case CT_PREFIX4:
	case CT_PREFIX6:
		return parse_pool(x, k, s);
	case CT_LISTEN:
	case CT_ADDRS:
	case CT_PREFIXES:
		return parse_list(x, k, s);
	}
	return fail(x, s, "%s: internal error: unknown key type", k->path);
}

static const struct cfg_key *key_find(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (!strcmp(cfg_keys[i].path, path))
			return &cfg_keys[i];
	return NULL;
}

/* Whether some key lives inside the group at path. */
static bool is_group(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (!strncmp(cfg_keys[i].path, path, n) && cfg_keys[i].path[n] == '.')
			return true;
	return false;
}

static int walk_group(struct ctx *x, const config_setting_t *grp, const char *prefix)
{
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k = NULL;
		char path[128];
		int n;

		n = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
			     name);
		/* A name too long for path is no key and no group either. */
		if (n > 0 && (size_t)n < sizeof(path))
			k = key_find(path);
		if (k) {
			if (parse_key(x, k, s) < 0)
				return -1;
			x->seen[k - cfg_keys] = true;
		} else if (n > 0 && (size_t)n < sizeof(path) && is_group(path)) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				return fail(x, s, "%s: expected a group like %s = { ... }, got %s",
					    path, path, type_name(s));
			if (walk_group(x, s, path) < 0)
				return -1;
		} else {
			return fail(x, s, "unknown setting %s%s%s", prefix ? prefix : "",
				    prefix ? "." : "", name);
		}
	}
	return 0;
}

static int set_defaults(struct ctx *x)
{
	for (const struct cfg_key *k = cfg_keys; k < cfg_keys + ARRAY_SIZE(cfg_keys); k++) {
		void *f = field(x->cfg, k->off);

		switch (k->type) {
		case CT_STRING:
		case CT_IFNAME:
			if (k->def_str && !(*(char **)f = strdup(k->def_str)))
				return fail_line(x, 0, "out of memory");
			break;
		case CT_UINT:
		case CT_WORKERS:
			*(unsigned *)f = k->def_num;
			break;
		case CT_LOGLEVEL:
			loglevel_parse(k->def_str, f);
			break;
		case CT_PREFIX4:
		case CT_PREFIX6:
		case CT_LISTEN:
		case CT_ADDRS:
		case CT_PREFIXES:
			break; /* absent by default: zeroed */
		}
	}
	return 0;
}

/* Line of the group that should have held path, or 0 when it is absent too. */
static unsigned enclosing_line(config_t *lc, const char *path)
{
	const char *dot = strrchr(path, '.');
	char group[64];
	config_setting_t *g;

	if (!dot || (size_t)(dot - path) >= sizeof(group))
		return 0;
	memcpy(group, path, (size_t)(dot - path));
	group[dot - path] = '\0';
	g = config_lookup(lc, group);
	return g ? config_setting_source_line(g) : 0;
}

static int check_required(struct ctx *x, config_t *lc)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if ((cfg_keys[i].flags & KEY_REQUIRED) && !x->seen[i])
			return fail_line(x, enclosing_line(lc, cfg_keys[i].path),
					 "missing required key %s", cfg_keys[i].path);
	if (!x->cfg->tls_certificate != !x->cfg->tls_key)
		return fail_line(x, enclosing_line(lc, "tls.certificate"),
				 "tls: set tls.certificate and tls.key together, or neither "
				 "(a self-signed pair is then made on first start)");
	if (!x->cfg->have_ipv4_pool && !x->cfg->have_ipv6_pool)
		return fail_line(x, enclosing_line(lc, "network.ipv4-pool"),
				 "network: set network.ipv4-pool, network.ipv6-pool or both: "
				 "clients need an address");
	const char *d = x->cfg->log_destination;
	if (d && strcmp(d, "auto") && strcmp(d, "stderr") && strcmp(d, "syslog") && d[0] != '/') {
		const config_setting_t *ls = config_lookup(lc, "log.destination");
		return fail_line(x, ls ? config_setting_source_line(ls) : 0,
				 "log.destination: expected \"auto\", \"stderr\", \"syslog\" or an "
				 "absolute file path, got \"%s\"",
				 d);
	}
	return 0;
}

int cfg_load_string(const char *text, const char *name, struct cfg *cfg, char *err, size_t errlen)
{
	struct ctx x = {.cfg = cfg, .name = name ? name : "(string)", .err = err, .errlen = errlen};
	config_t lc;
	int r = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (err && errlen)
		err[0] = '\0';
	config_init(&lc);
	if (scan_text(&x, text) < 0)
		goto out;
	if (!config_read_string(&lc, text)) {
		fail_line(&x, (unsigned)config_error_line(&lc), "%s",
			  config_error_text(&lc) ? config_error_text(&lc) : "syntax error");
		goto out;
	}
	if (set_defaults(&x) < 0 || walk_group(&x, config_root_setting(&lc), NULL) < 0 ||
	    check_required(&x, &lc) < 0)
		goto out;
	cfg->path = strdup(x.name);
	if (!cfg->path) {
		fail_line(&x, 0, "out of memory");
		goto out;
	}
	r = 0;
out:
	config_destroy(&lc);
	if (r < 0)
		cfg_free(cfg);
	return r;
}

/* Reads the whole file; 0, or -errno (-EFBIG when over CFG_MAX_FILE, -EILSEQ
 * when it holds a NUL byte, which would hide the rest from libconfig). */
static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (len > CFG_MAX_FILE) {
			r = -EFBIG;
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		r = -EILSEQ;
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return r;
}

int cfg_load(const char *path, struct cfg *cfg, char *err, size_t errlen)
{
	struct ctx x = {.name = path, .err = err, .errlen = errlen};
	char *text = NULL;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	errno = 0;
	r = read_file(path, &text);
	if (r == -EFBIG)
		return fail_line(&x, 0, "larger than %d bytes", CFG_MAX_FILE);
	if (r == -EILSEQ)
		return fail_line(&x, 0, "contains a NUL byte");
	if (r < 0)
		return fail_line(&x, 0, "cannot read: %s", strerror(-r));
	r = cfg_load_string(text, path, cfg, err, errlen);
	free(text);
	return r;
}

void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (cfg_keys[i].type == CT_STRING || cfg_keys[i].type == CT_IFNAME)
			free(*(char **)field(cfg, cfg_keys[i].off));
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

size_t cfg_key_count(void)
{
	return ARRAY_SIZE(cfg_keys);
}

const char *cfg_key_name(size_t i)
{
	return i < ARRAY_SIZE(cfg_keys) ? cfg_keys[i].path : NULL;
}

bool cfg_key_reloadable(size_t i)
{
	return i < ARRAY_SIZE(cfg_keys) && (cfg_keys[i].flags & KEY_RELOADABLE);
}

const char *cfg_key_default_text(size_t i, char *buf, size_t len)
{
	const struct cfg_key *k = i < ARRAY_SIZE(cfg_keys) ? &cfg_keys[i] : NULL;
	int n = -1;

	if (!k)
		return NULL;
	switch (k->type) {
	case CT_STRING:
	case CT_IFNAME:
	case CT_LOGLEVEL:
		if (k->def_str)
			n = snprintf(buf, len, "\"%s\"", k->def_str);
		break;
	case CT_WORKERS:
		n = k->def_num ? snprintf(buf, len, "%u", k->def_num)
			       : snprintf(buf, len, "\"auto\"");
		break;
	case CT_UINT:
		n = snprintf(buf, len, "%u", k->def_num);
		break;
	case CT_ADDRS:
	case CT_PREFIXES:
		n = snprintf(buf, len, "[]");
		break;
	case CT_PREFIX4:
	case CT_PREFIX6:
	case CT_LISTEN:
		break; /* no default */
	}
	return n >= 0 && (size_t)n < len ? buf : NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool key_eq(const struct cfg_key *k, const struct cfg *a, const struct cfg *b)
{
	const void *fa = cfield(a, k->off), *fb = cfield(b, k->off);
	unsigned n;

	switch (k->type) {
	case CT_STRING:
	case CT_IFNAME:
		return str_eq(*(char *const *)fa, *(char *const *)fb);
	case CT_UINT:
	case CT_WORKERS:
		return *(const unsigned *)fa == *(const unsigned *)fb;
	case CT_LOGLEVEL:
		return *(const enum cfg_log_level *)fa == *(const enum cfg_log_level *)fb;
	case CT_PREFIX4:
	case CT_PREFIX6:
		if (*(const bool *)cfield(a, k->aux) != *(const bool *)cfield(b, k->aux))
			return false;
		return !*(const bool *)cfield(a, k->aux) || prefix_eq(fa, fb);
	case CT_LISTEN:
	case CT_ADDRS:
	case CT_PREFIXES:
		break;
	}
	n = *(const unsigned *)cfield(a, k->aux);
	if (n != *(const unsigned *)cfield(b, k->aux))
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (k->type == CT_LISTEN && !listen_eq((const struct cfg_listen *)fa + i,
						       (const struct cfg_listen *)fb + i))
			return false;
		if (k->type == CT_ADDRS &&
		    !addr_eq((const struct cfg_addr *)fa + i, (const struct cfg_addr *)fb + i))
			return false;
		if (k->type == CT_PREFIXES && !prefix_eq((const struct cfg_prefix *)fa + i,
							 (const struct cfg_prefix *)fb + i))
			return false;
	}
	return true;
}

size_t cfg_key_next_diff(const struct cfg *a, const struct cfg *b, size_t from)
{
	for (; from < ARRAY_SIZE(cfg_keys); from++)
		if (!key_eq(&cfg_keys[from], a, b))
			return from;
	return ARRAY_SIZE(cfg_keys);
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
