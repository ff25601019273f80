/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Structured log lines (see logfmt.h): building the fields and writing
 * them as text or JSON.  Pure: no state, no I/O. */
#include "config.h"
#include "common/logfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void log_kv_init(struct log_kv *kv, const char *event)
{
	kv->event = event;
	kv->n = kv->dropped = 0;
}

static struct log_kv_field *add(struct log_kv *kv, const char *key, enum log_kv_type type)
{
	struct log_kv_field *f;

	if (kv->n == LOG_KV_MAX) {
		kv->dropped++;
		return NULL;
	}
	f = &kv->f[kv->n++];
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->type = type;
	return f;
}

void log_kv_str(struct log_kv *kv, const char *key, const char *v)
{
	struct log_kv_field *f = add(kv, key, v ? KV_STR : KV_NULL);

	if (f && v)
		snprintf(f->s, sizeof(f->s), "%s", v);
}

void log_kv_u64(struct log_kv *kv, const char *key, uint64_t v)
{
	struct log_kv_field *f = add(kv, key, KV_U64);

	if (f)
		f->u = v;
}

void log_kv_i64(struct log_kv *kv, const char *key, int64_t v)
{
	struct log_kv_field *f = add(kv, key, KV_I64);

	if (f)
		f->i = v;
}

/* ---- an output buffer that keeps room for the end ----------------------- */

struct out {
	char *p;
	size_t cap, len; /* cap: bytes usable, the NUL not included */
	bool full;
};

/* Appends n bytes if they fit below cap - keep; false (and nothing
 * written) when not. */
static bool put(struct out *o, const char *s, size_t n, size_t keep)
{
	if (o->full || o->len + n + keep > o->cap) {
		o->full = true;
		return false;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	return true;
}

static bool puts_(struct out *o, const char *s, size_t keep)
{
	return put(o, s, strlen(s), keep);
}

/* ---- text --------------------------------------------------------------- */

static bool needs_quotes(const char *s)
{
	return !*s || strpbrk(s, " \"=\\") != NULL;
}

static void text_value(struct out *o, const struct log_kv_field *f)
{
	char num[24];

	switch (f->type) {
	case KV_NULL:
		put(o, "-", 1, 0);
		return;
	case KV_U64:
		snprintf(num, sizeof(num), "%" PRIu64, f->u);
		puts_(o, num, 0);
		return;
	case KV_I64:
		snprintf(num, sizeof(num), "%" PRId64, f->i);
		puts_(o, num, 0);
		return;
	case KV_STR:
		break;
	}
	if (!needs_quotes(f->s)) {
		puts_(o, f->s, 0);
		return;
	}
	put(o, "\"", 1, 0);
	for (const char *s = f->s; *s; s++) {
		if ((*s == '"' || *s == '\\') && !put(o, "\\", 1, 0))
			return;
		if (!put(o, s, 1, 0))
			return;
	}
	put(o, "\"", 1, 0);
}

size_t logfmt_text(const struct log_kv *kv, char *out, size_t cap)
{
	struct out o = {out, cap ? cap - 1 : 0, 0, cap == 0};

	if (!cap)
		return 0;
	out[0] = '\0';
	puts_(&o, kv->event, 0);
	for (unsigned i = 0; i < kv->n; i++) {
		put(&o, " ", 1, 0);
		puts_(&o, kv->f[i].key, 0);
		put(&o, "=", 1, 0);
		text_value(&o, &kv->f[i]);
	}
	return o.len;
}

/* ---- JSON --------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at p (NUL-terminated),
 * 1..4, or 0 when the bytes there are not one (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes, control bytes, DEL and bytes that
 * are not UTF-8 escaped.  Cut short (and closed) where the rest would not
 * leave keep bytes free after the closing quote. */
static void json_string(struct out *o, const char *s, size_t keep)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!put(o, "\"", 1, keep + 1))
		return;
	while (*p) {
		size_t n = utf8_len(p), len = n;
		const char *piece = (const char *)p;
		char esc[8];

		if (n == 1 && (*p == '"' || *p == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			piece = esc;
			len = 2;
		} else if (n == 0 || *p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			piece = esc;
			len = 6;
			n = 1;
		}
		if (o->len + len + 1 + keep > o->cap)
			break; /* cut short here */
		put(o, piece, len, keep + 1);
		p += n;
	}
	put(o, "\"", 1, keep);
}

static void json_member(struct out *o, const char *key, const char *v, size_t keep)
{
	put(o, ",", 1, keep);
	json_string(o, key, keep);
	put(o, ":", 1, keep);
	json_string(o, v, keep);
}

static void json_field(struct out *o, const struct log_kv_field *f)
{
	char num[24];

	put(o, ",", 1, 1);
	json_string(o, f->key, 1);
	put(o, ":", 1, 1);
	switch (f->type) {
	case KV_STR:
		json_string(o, f->s, 1);
		break;
	case KV_NULL:
		puts_(o, "null", 1);
		break;
	case KV_U64:
		snprintf(num, sizeof(num), "%" PRIu64, f->u);
		puts_(o, num, 1);
		break;
	case KV_I64:
		snprintf(num, sizeof(num), "%" PRId64, f->i);
		puts_(o, num, 1);
		break;
	}
}

size_t logfmt_json(const char *time, const char *level, const char *tag, const char *msg,
		   const struct log_kv *kv, char *out, size_t cap)
{
	struct out o = {out, cap ? cap - 1 : 0, 0, false};

	if (!cap)
		return 0;
	out[0] = '\0';
	put(&o, "{\"time\":", 8, 1);
	json_string(&o, time, 1);
	json_member(&o, "level", level, 1);
	json_member(&o, "tag", tag, 1);
	if (kv) {
		json_member(&o, "event", kv->event, 1);
		for (unsigned i = 0; i < kv->n; i++)
			json_field(&o, &kv->f[i]);
	}
	if (msg) /* last: a long one is cut short, the object still closed */
		json_member(&o, "msg", msg, 1);
	if (o.full || !put(&o, "}", 1, 0))
		return 0;
	return o.len;
}
