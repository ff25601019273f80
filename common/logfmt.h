/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Structured log lines (master): an event and key=value fields, written
 * as text (`EVENT key=value key="two words"`) or, with log.format =
 * "json", as one JSON object per line, every other line too
 * ({"time":..,"level":..,"tag":..,"msg":..}).  Pure: the caller owns the
 * buffers; common/log.c writes what these make. */
#ifndef TUNNELD_LOGFMT_H
#define TUNNELD_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_KV_MAX     64 /* fields of one line */
#define LOG_KV_KEY_MAX 32
#define LOG_KV_STR_MAX 128 /* a string value, cut short beyond */

enum log_kv_type { KV_STR, KV_NULL, KV_U64, KV_I64 };

struct log_kv_field {
	char key[LOG_KV_KEY_MAX];
	enum log_kv_type type;
	uint64_t u;
	int64_t i;
	char s[LOG_KV_STR_MAX];
};

/* One line's fields, in order.  A field beyond LOG_KV_MAX is dropped and
 * counted in dropped. */
struct log_kv {
	const char *event; /* the first word, "event" in JSON */
	unsigned n, dropped;
	struct log_kv_field f[LOG_KV_MAX];
};

void log_kv_init(struct log_kv *kv, const char *event);
/* v NULL: no value ("-" in text, null in JSON). */
void log_kv_str(struct log_kv *kv, const char *key, const char *v);
void log_kv_u64(struct log_kv *kv, const char *key, uint64_t v);
void log_kv_i64(struct log_kv *kv, const char *key, int64_t v);

/* "EVENT k=v ..." into out (NUL-terminated); a value that is empty or
 * holds a space, '"', '=' or '\\' is quoted, with \" and \\ inside.
 * Returns the length, cut short at cap. */
size_t logfmt_text(const struct log_kv *kv, char *out, size_t cap);

/* One JSON object: {"time":time,"level":level,"tag":tag, then "msg":msg
 * when msg is not NULL, then "event" and the fields of kv when kv is not
 * NULL}.  Strings are escaped (quotes, backslashes, control bytes and
 * bytes that are not UTF-8 as \u00XX), so the line is valid JSON and one
 * line whatever they hold; a msg too long for cap is cut short, the
 * object still closed.  Returns the length, or 0 when cap cannot hold
 * the object with an empty msg. */
size_t logfmt_json(const char *time, const char *level, const char *tag, const char *msg,
		   const struct log_kv *kv, char *out, size_t cap);

#endif
