/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master: the control socket's JSON writer (jsonw.h).  Owns nothing but the
 * buffer of the struct jw it is given. */
#include <config.h>
#include "daemon/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->cap - w->len < n + 1) {
		size_t cap = w->cap ? w->cap : 4096;
		char *nb;

		while (cap - w->len < n + 1)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->oom = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* The comma before a member or element, unless it is the first. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		jw_raw(w, ",", 1);
	w->first[w->depth] = false;
}

void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	jw_raw(w, &c, 1);
	/* Deeper nesting is a bug here, not input: the shapes are fixed. */
	if (w->depth < JW_MAX_DEPTH)
		w->first[++w->depth] = true;
}

void jw_close(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	if (w->depth)
		w->depth--;
}

/* Quotes and backslashes escaped, control characters as \u00XX; other bytes
 * pass through, so UTF-8 user names stay readable. */
static void jw_string(struct jw *w, const char *s)
{
	jw_raw(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jw_raw(w, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jw_raw(w, esc, 6);
		} else {
			jw_raw(w, s, 1);
		}
	}
	jw_raw(w, "\"", 1);
}

void jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	jw_string(w, k);
	jw_raw(w, ":", 1);
	w->after_key = true;
}

void jw_str(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_sep(w);
	if (v)
		jw_string(w, v);
	else
		jw_raw(w, "null", 4);
}

void jw_num(struct jw *w, const char *k, long long v)
{
	char n[24];

	jw_key(w, k);
	jw_sep(w);
	jw_raw(w, n, (size_t)snprintf(n, sizeof(n), "%lld", v));
}

void jw_u64(struct jw *w, const char *k, uint64_t v)
{
	char n[24];

	jw_key(w, k);
	jw_sep(w);
	jw_raw(w, n, (size_t)snprintf(n, sizeof(n), "%llu", (unsigned long long)v));
}

void jw_bool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_sep(w);
	jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}
