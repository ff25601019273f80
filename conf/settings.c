/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration on reload, for the master and its workers: which keys
 * changed, which keep their running value until a restart, and the settings
 * that travel to the workers.  All three walk the table of keys (config.c),
 * so a key added there with KEY_RELOADABLE | KEY_WORKER reaches the workers
 * with no other code.  Owns nothing; pure. */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool key_eq(const struct cfg_key *k, const struct cfg *a, const struct cfg *b)
{
	const void *fa = cfg_cfield(a, k->off), *fb = cfg_cfield(b, k->off);
	unsigned n;

	switch (k->type) {
	case CT_STRING:
	case CT_IFNAME:
		return str_eq(*(char *const *)fa, *(char *const *)fb);
	case CT_UINT:
	case CT_WORKERS:
	case CT_WORD:
		return *(const unsigned *)fa == *(const unsigned *)fb;
	case CT_ADDRPORT:
		if (*(const bool *)cfg_cfield(a, k->aux) != *(const bool *)cfg_cfield(b, k->aux))
			return false;
		return !*(const bool *)cfg_cfield(a, k->aux) || cfg_listen_eq(fa, fb);
	case CT_LOGLEVEL:
		return *(const enum cfg_log_level *)fa == *(const enum cfg_log_level *)fb;
	case CT_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CT_PROTOS:
		return *(const unsigned *)fa == *(const unsigned *)fb;
	case CT_PORTS: {
		const struct cfg_ports *pa = fa, *pb = fb;
		return pa->n == pb->n && !memcmp(pa->r, pb->r, pa->n * sizeof(pa->r[0]));
	}
	case CT_GROUPS:
		n = *(const unsigned *)cfg_cfield(a, k->aux);
		/* Parsed into zeroed memory, so padding compares equal too. */
		return n == *(const unsigned *)cfg_cfield(b, k->aux) &&
		       (n == 0 || !memcmp(*(const struct cfg_group *const *)fa,
					  *(const struct cfg_group *const *)fb,
					  n * sizeof(struct cfg_group)));
	case CT_PREFIX4:
	case CT_PREFIX6:
		if (*(const bool *)cfg_cfield(a, k->aux) != *(const bool *)cfg_cfield(b, k->aux))
			return false;
		return !*(const bool *)cfg_cfield(a, k->aux) || cfg_prefix_eq(fa, fb);
	case CT_SERVICES:
		return cfg_services_eq(a, b);
	case CT_LISTEN:
	case CT_ADDRS:
	case CT_PREFIXES:
		break;
	}
	n = *(const unsigned *)cfg_cfield(a, k->aux);
	if (n != *(const unsigned *)cfg_cfield(b, k->aux))
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (k->type == CT_LISTEN && !cfg_listen_eq((const struct cfg_listen *)fa + i,
							   (const struct cfg_listen *)fb + i))
			return false;
		if (k->type == CT_ADDRS &&
		    !cfg_addr_eq((const struct cfg_addr *)fa + i, (const struct cfg_addr *)fb + i))
			return false;
		if (k->type == CT_PREFIXES && !cfg_prefix_eq((const struct cfg_prefix *)fa + i,
							     (const struct cfg_prefix *)fb + i))
			return false;
	}
	return true;
}

size_t cfg_key_next_diff(const struct cfg *a, const struct cfg *b, size_t from)
{
	for (; from < cfg_n_keys; from++)
		if (!key_eq(&cfg_keys[from], a, b))
			return from;
	return cfg_n_keys;
}

/* ---- settings for the workers (IPC_SETTINGS) ---------------------------
 * The values of the rows marked KEY_RELOADABLE | KEY_WORKER, in table order,
 * each as its type lays it out:
 *   CT_UINT, CT_LOGLEVEL   uint32
 *   CT_BOOL                uint32, 0 or 1
 *   CT_ADDRS               uint32 count, then count struct cfg_addr
 *   CT_PREFIXES            uint32 count, then count struct cfg_prefix
 * Both ends are the same binary, so host layout is fine. */

static bool is_worker_key(const struct cfg_key *k)
{
	return (k->flags & (KEY_WORKER | KEY_RELOADABLE)) == (KEY_WORKER | KEY_RELOADABLE);
}

static size_t elem_size(const struct cfg_key *k)
{
	return k->type == CT_ADDRS ? sizeof(struct cfg_addr) : sizeof(struct cfg_prefix);
}

int cfg_settings_pack(const struct cfg *cfg, void *buf, size_t cap)
{
	uint8_t *out = buf;
	size_t n = 0, need;
	uint32_t v;

	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const void *f = cfg_cfield(cfg, k->off);

		if (!is_worker_key(k))
			continue;
		switch (k->type) {
		case CT_UINT:
			v = *(const unsigned *)f;
			break;
		case CT_LOGLEVEL:
			v = (uint32_t) * (const enum cfg_log_level *)f;
			break;
		case CT_BOOL:
			v = *(const bool *)f;
			break;
		case CT_ADDRS:
		case CT_PREFIXES:
			v = *(const unsigned *)cfg_cfield(cfg, k->aux);
			break;
		default:
			return -EINVAL; /* not a type workers can take */
		}
		need =
		    sizeof(v) +
		    (k->type == CT_ADDRS || k->type == CT_PREFIXES ? (size_t)v * elem_size(k) : 0);
		if (cap - n < need)
			return -ENOBUFS;
		memcpy(out + n, &v, sizeof(v));
		memcpy(out + n + sizeof(v), f, need - sizeof(v));
		n += need;
	}
	return (int)n;
}

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* One value at in[*at], checked against row k; stored into cfg when cfg is
 * not NULL.  Advances *at. */
static int take_value(const struct cfg_key *k, const uint8_t *in, size_t len, size_t *at,
		      struct cfg *cfg, char *err, size_t errlen)
{
	size_t size;
	uint32_t v;

	if (len - *at < sizeof(v))
		return bad(err, errlen, "%s: the settings end early", k->path);
	memcpy(&v, in + *at, sizeof(v));
	*at += sizeof(v);
	if (k->type == CT_UINT || k->type == CT_LOGLEVEL || k->type == CT_BOOL) {
		if (k->type == CT_UINT && (v < k->min || v > k->max))
			return bad(err, errlen, "%s: %u is outside %lld..%lld", k->path, v, k->min,
				   k->max);
		if (k->type == CT_LOGLEVEL && !cfg_loglevel_valid(v))
			return bad(err, errlen, "%s: %u is not a log level", k->path, v);
		if (k->type == CT_BOOL && v > 1)
			return bad(err, errlen, "%s: %u is not 0 or 1", k->path, v);
		if (cfg && k->type == CT_UINT)
			*(unsigned *)cfg_field(cfg, k->off) = v;
		if (cfg && k->type == CT_LOGLEVEL)
			*(enum cfg_log_level *)cfg_field(cfg, k->off) = (enum cfg_log_level)v;
		if (cfg && k->type == CT_BOOL)
			*(bool *)cfg_field(cfg, k->off) = v != 0;
		return 0;
	}
	if (v > k->max)
		return bad(err, errlen, "%s: %u entries, at most %lld", k->path, v, k->max);
	size = (size_t)v * elem_size(k);
	if (len - *at < size)
		return bad(err, errlen, "%s: the settings end early", k->path);
	for (uint32_t e = 0; e < v; e++) {
		const uint8_t *p = in + *at + e * elem_size(k);
		struct cfg_prefix pf = {0};

		bool ok;

		if (k->type == CT_ADDRS) {
			memcpy(&pf.addr, p, sizeof(pf.addr));
			ok = pf.addr.family == AF_INET || pf.addr.family == AF_INET6;
		} else {
			memcpy(&pf, p, sizeof(pf));
			ok = cfg_prefix_valid(&pf);
		}
		if (!ok)
			return bad(err, errlen, "%s: entry %u is not a valid %s", k->path, e,
				   k->type == CT_ADDRS ? "address" : "prefix");
	}
	if (cfg) {
		memcpy(cfg_field(cfg, k->off), in + *at, size);
		*(unsigned *)cfg_field(cfg, k->aux) = v;
	}
	*at += size;
	return 0;
}

/* Check everything first, then store, so a bad message changes nothing. */
int cfg_settings_apply(const void *buf, size_t len, struct cfg *cfg, char *err, size_t errlen)
{
	for (int pass = cfg ? 0 : 1; pass < 2; pass++) {
		struct cfg *dst = pass ? cfg : NULL;
		size_t at = 0;
		int r;

		for (size_t i = 0; i < cfg_n_keys; i++) {
			if (!is_worker_key(&cfg_keys[i]))
				continue;
			r = take_value(&cfg_keys[i], buf, len, &at, dst, err, errlen);
			if (r < 0)
				return r;
		}
		if (at != len)
			return bad(err, errlen, "%zu bytes after the last setting", len - at);
	}
	return 0;
}

/* ---- restart-only keys ----------------------------------------------- */

void cfg_keep_restart_only(struct cfg *nc, struct cfg *old)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		void *fn = cfg_field(nc, k->off), *fo = cfg_field(old, k->off);

		if (k->flags & KEY_RELOADABLE)
			continue;
		switch (k->type) {
		case CT_STRING:
		case CT_IFNAME: {
			/* Swap, so each struct still owns what it frees. */
			char *t = *(char **)fn;
			*(char **)fn = *(char **)fo;
			*(char **)fo = t;
			break;
		}
		case CT_UINT:
		case CT_WORKERS:
		case CT_WORD:
			*(unsigned *)fn = *(unsigned *)fo;
			break;
		case CT_ADDRPORT:
			*(struct cfg_listen *)fn = *(struct cfg_listen *)fo;
			*(bool *)cfg_field(nc, k->aux) = *(bool *)cfg_field(old, k->aux);
			break;
		case CT_LOGLEVEL:
			*(enum cfg_log_level *)fn = *(enum cfg_log_level *)fo;
			break;
		case CT_BOOL:
			*(bool *)fn = *(bool *)fo;
			break;
		case CT_PROTOS:
			*(unsigned *)fn = *(unsigned *)fo;
			break;
		case CT_PORTS:
			*(struct cfg_ports *)fn = *(struct cfg_ports *)fo;
			break;
		case CT_GROUPS: {
			/* Swap, so each struct still owns what it frees. */
			struct cfg_group *t = *(struct cfg_group **)fn;
			unsigned tn = *(unsigned *)cfg_field(nc, k->aux);
			*(struct cfg_group **)fn = *(struct cfg_group **)fo;
			*(struct cfg_group **)fo = t;
			*(unsigned *)cfg_field(nc, k->aux) = *(unsigned *)cfg_field(old, k->aux);
			*(unsigned *)cfg_field(old, k->aux) = tn;
			break;
		}
		case CT_PREFIX4:
		case CT_PREFIX6:
			*(struct cfg_prefix *)fn = *(struct cfg_prefix *)fo;
			*(bool *)cfg_field(nc, k->aux) = *(bool *)cfg_field(old, k->aux);
			break;
		case CT_LISTEN:
		case CT_ADDRS:
		case CT_PREFIXES: {
			size_t es = k->type == CT_LISTEN ? sizeof(struct cfg_listen) : elem_size(k);
			memcpy(fn, fo, (size_t)k->max * es);
			*(unsigned *)cfg_field(nc, k->aux) = *(unsigned *)cfg_field(old, k->aux);
			break;
		}
		case CT_SERVICES:
			break; /* reloadable (services.c owns their strings) */
		}
	}
}
