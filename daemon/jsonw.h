/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master: the JSON writer of the control socket's replies (control.c). */
#ifndef TUNNELD_JSONW_H
#define TUNNELD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 4 /* {"sessions":[{...}]} is 3 */

/* Appends to a growing buffer; after an allocation failure it only counts,
 * and the caller sees oom once at the end instead of checking every call. */
struct jw {
	char *buf;
	size_t len, cap;
	bool oom;
	bool after_key;		      /* the next value follows "key": */
	unsigned depth;		      /* open objects and arrays */
	bool first[JW_MAX_DEPTH + 1]; /* no member written yet at this depth */
};

/* n bytes as they are. */
void jw_raw(struct jw *w, const char *s, size_t n);
/* An object ('{') or array ('['), opened and closed. */
void jw_open(struct jw *w, char c);
void jw_close(struct jw *w, char c);
/* "k": and the value next written. */
void jw_key(struct jw *w, const char *k);
/* Members "k":v; a NULL string is null. */
void jw_str(struct jw *w, const char *k, const char *v);
void jw_num(struct jw *w, const char *k, long long v);
void jw_u64(struct jw *w, const char *k, uint64_t v);
void jw_bool(struct jw *w, const char *k, bool v);

#endif
