/* Logging for every process.  The master writes lines itself (stderr in the
 * foreground); a worker sends {level, text} records over its log socket and
 * the master tags and writes them, so workers never open log files. */
#ifndef TUNNELD_LOG_H
#define TUNNELD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_RECORD_MAX 1024 /* one record: level byte + text */
/* A line's text after escaping: every byte of a record may become \xNN. */
#define LOG_LINE_MAX (4 * LOG_RECORD_MAX)
/* A line as JSON: a record's every byte may become \u00XX. */
#define LOG_JSON_MAX (8 * LOG_RECORD_MAX)

struct log_kv;

/* Master: write to stderr (fd 2) with "<N>" prefixes when under systemd. */
void log_init_master(int level);
/* Master: choose where lines go: "stderr", "syslog", an absolute file
 * path, or "auto" (syslog when daemonized, else stderr).  Keeps the old
 * destination on failure.  0 or -errno. */
int log_set_destination(const char *dest, int daemonized);
/* Master: reopen a log file (SIGUSR1, after rotation). 0 or -errno. */
int log_reopen(void);
/* Worker: records go to fd as datagrams; dropped (and counted) if the
 * socket is full, so a worker never blocks on logging. */
void log_init_worker(int fd, int level);
void log_set_level(int level);
/* Master: log.format: "text" (false) or "json" (true), for every line. */
void log_set_json(bool on);
int log_get_level(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Master side: write an already formatted line at level, with a tag.
 * Bytes of text below 0x20 and 0x7f are written as \xNN (log_escape):
 * the line stays one line whatever a client or a worker put in it. */
void log_write_line(int level, const char *tag, const char *text);
/* Master: one structured line (common/logfmt.h), "master" its tag: text
 * `EVENT key=value ...`, or with log_set_json() one JSON object with the
 * fields as members.  Dropped below the level, and in a worker. */
void log_write_kv(int level, const struct log_kv *kv);
/* in, escaped as log_write_line() does, into out (NUL-terminated, cut
 * short at cap).  Returns the length written. */
size_t log_escape(const char *in, char *out, size_t cap);
unsigned long log_dropped(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Log at LOG_ERR with ": strerror(-r)" appended and return r (r < 0). */
int log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
