/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration internals shared by the files of conf/ and nobody else: the
 * table of keys (config.c), the value parsers (values.c) and the reload
 * helpers (settings.c) all walk the same rows. */
#ifndef TUNNELD_CONF_KEYS_H
#define TUNNELD_CONF_KEYS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>

#include "conf/config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
	CT_BOOL,     /* bool, true or false; default def_num */
	CT_WORD,     /* unsigned: which of def_str's words ("a|b|c", the first the default) */
	CT_ADDRPORT, /* struct cfg_listen, one "ADDRESS:PORT"; aux: bool present */
	CT_PROTOS,   /* unsigned CFG_PROTO_* mask: "all" (def_num) or a list of names */
	CT_PORTS,    /* struct cfg_ports: "all" (the default) or a list of ports/ranges */
	CT_GROUPS,   /* struct cfg_group * (heap), 0..max entries; aux: unsigned count */
	CT_SERVICES, /* struct cfg_service[max], a list of groups (services.c); aux: count */
};

#define KEY_REQUIRED   0x1u /* loading fails when it is absent */
#define KEY_RELOADABLE 0x2u /* a new value applies on SIGHUP; others need a restart */
/* Workers use it: a reload sends it to them in IPC_SETTINGS (settings.c).
 * Only with KEY_RELOADABLE, and only for CT_UINT, CT_BOOL, CT_LOGLEVEL, CT_ADDRS
 * and CT_PREFIXES (fixed-size values); tests/unit/check_settings.c checks both. */
#define KEY_WORKER 0x4u
/* A file path (CT_STRING): cfg_load() makes a relative one absolute, against
 * the directory of the config file, so that a reload after --daemon
 * (chdir "/") reads the same file.  "auto", "stderr" and "syslog" are not
 * paths (log.destination). */
#define KEY_PATH 0x8u

struct cfg_key {
	const char *path; /* dotted: "network.mtu" is mtu in group network */
	enum cfg_key_type type;
	size_t off;	     /* the field in struct cfg */
	size_t aux;	     /* see enum cfg_key_type */
	const char *def_str; /* default for CT_STRING, CT_IFNAME, CT_LOGLEVEL */
	unsigned def_num;    /* default for CT_UINT, CT_WORKERS, CT_BOOL */
	long long min, max;  /* bounds, meaning per type */
	unsigned flags;
};

/* config.c: every setting tunneld knows, in the order of conf/tunneld.conf. */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_n_keys;

static inline void *cfg_field(struct cfg *c, size_t off)
{
	return (char *)c + off;
}

static inline const void *cfg_cfield(const struct cfg *c, size_t off)
{
	return (const char *)c + off;
}

/* One parse: where the values go, and where an error is written. */
struct cfg_ctx {
	struct cfg *cfg;
	const char *name; /* file name for messages */
	char *err;
	size_t errlen;
};

/* values.c: errors as "NAME:LINE: message" ("NAME: message" without a
 * line) in the context's buffer; each returns -1, so callers can
 * `return cfg_fail(...)`. */
__attribute__((format(printf, 3, 4))) int cfg_fail_line(struct cfg_ctx *x, unsigned line,
							const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int cfg_fail(struct cfg_ctx *x, const config_setting_t *s,
						   const char *fmt, ...);
const char *cfg_type_name(const config_setting_t *s);

/* values.c: the lexical pass before libconfig (32-bit overflow, @include). */
int cfg_scan_text(struct cfg_ctx *x, const char *text);
/* values.c: parse setting s as key k into x->cfg; 0 or -1 (error set). */
int cfg_parse_key(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s);
/* values.c: "info" -> LOG_LVL_INFO; 0 or -EINVAL. */
int cfg_loglevel_parse(const char *s, enum cfg_log_level *out);
/* values.c: CT_WORD: which of k's words s is (0: the first, the
 * default); -EINVAL if none.  cfg_word() is word i, in buf. */
int cfg_word_index(const struct cfg_key *k, const char *s);
const char *cfg_word(const struct cfg_key *k, unsigned i, char *buf, size_t len);
bool cfg_loglevel_valid(long long level);

/* rules.c: "protocols" and "tcp-ports"/"udp-ports" (CT_PROTOS, CT_PORTS). */
int cfg_parse_protocols(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s);
int cfg_parse_ports(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s);
/* rules.c: all ports, 0..65535 (the default of CT_PORTS). */
void cfg_ports_all(struct cfg_ports *p);

/* groups.c: groups = ( ... ) (CT_GROUPS), then, once the whole file is
 * parsed, what groups take from the top level, their pools' leases and the
 * checks that span keys (pools, network.dns-intercept); 0 or -1. */
int cfg_parse_groups(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s);
int cfg_groups_finish(struct cfg_ctx *x, config_t *lc);
/* The line of the group that should have held path, or 0 (config.c). */
unsigned cfg_enclosing_line(config_t *lc, const char *path);
/* login.c: the login dialogue's keys together; 0, or -1 with FILE:LINE. */
int cfg_check_login(struct cfg_ctx *x, config_t *lc);
/* values.c: "ADDRESS:PORT" or "[ADDRESS6]:PORT" into *l; NULL, or why
 * text is wrong. */
const char *cfg_listen_parse(const char *text, struct cfg_listen *l);

/* services.c: the list of services (row k) into x->cfg; 0 or -1 (error
 * set).  Checked against the VPN's listen addresses by cfg_services_check
 * once the whole file is read. */
int cfg_services_parse(struct cfg_ctx *x, const struct cfg_key *k, const config_setting_t *s);
int cfg_services_check(struct cfg_ctx *x);
/* services.c: free the services' strings; make their relative paths
 * absolute against dir (0, or -1 out of memory). */
void cfg_services_free(struct cfg *cfg);
int cfg_services_paths(struct cfg *cfg, const char *dir);
/* services.c: whether the two lists are the same (reload diff). */
bool cfg_services_eq(const struct cfg *a, const struct cfg *b);

/* values.c: equality of parsed values (reload diff). */
bool cfg_addr_eq(const struct cfg_addr *a, const struct cfg_addr *b);
bool cfg_prefix_eq(const struct cfg_prefix *a, const struct cfg_prefix *b);
bool cfg_listen_eq(const struct cfg_listen *a, const struct cfg_listen *b);

#endif
