/* Logging (all processes).  The master owns stderr; a worker owns only the
 * sending end of its log socket, set up by log_init_worker() after fork. */
#include "config.h"
#include "common/log.h"
#include "common/logfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_level = LOG_INFO;
static int log_fd = -1; /* worker: datagram socket to the master */
enum log_dest { DEST_STDERR, DEST_SYSLOG, DEST_FILE };
static enum log_dest log_dest = DEST_STDERR;
static int log_file_fd = -1; /* DEST_FILE */
static char log_file_path[4096];
static bool log_prefix; /* "<N>" priority prefixes for the journal */
static bool log_json;	/* log.format = "json": one JSON object per line */
static unsigned long log_drops, log_drops_told;
/* The end of a line a non-blocking write took only part of: written
 * before any new line, so lines stay whole. */
static char log_rest[LOG_JSON_MAX + 128];
static size_t log_rest_len;

/* The master's lines to stderr must never make it wait: a stalled journal
 * or terminal costs lines (dropped and counted), not the master's loop and
 * through it the workers.  O_NONBLOCK on the description we share with our
 * parent (a shell's pipe or terminal) would change it for them too, so a
 * pipe or terminal is opened again through /proc (a description of our
 * own); the journal's socket is ours already.  A regular file never makes
 * a writer wait for a reader. */
static void stderr_nonblocking(void)
{
	struct stat st;
	int fd, fl;

	if (fstat(STDERR_FILENO, &st) < 0 || S_ISREG(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		fl = fcntl(STDERR_FILENO, F_GETFL);
		if (fl >= 0)
			(void)fcntl(STDERR_FILENO, F_SETFL, fl | O_NONBLOCK);
		return;
	}
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return; /* no /proc: lines are written as before */
	if (fd != STDERR_FILENO) {
		(void)dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

void log_init_master(int level)
{
	log_level = level;
	log_fd = -1;
	/* Under systemd, stderr goes to the journal, which understands sd-daemon
	 * priority prefixes. */
	log_prefix = getenv("JOURNAL_STREAM") != NULL;
	stderr_nonblocking();
}

static int open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	return fd < 0 ? -errno : fd;
}

int log_set_destination(const char *dest, int daemonized)
{
	log_rest_len = 0; /* the end of a line for the old destination */
	if (!strcmp(dest, "auto"))
		dest = daemonized ? "syslog" : "stderr";
	if (!strcmp(dest, "syslog")) {
		openlog("tunneld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_dest = DEST_SYSLOG;
	} else if (!strcmp(dest, "stderr")) {
		log_dest = DEST_STDERR;
	} else {
		int fd = open_log_file(dest);
		if (fd < 0)
			return fd;
		if (log_file_fd >= 0)
			close(log_file_fd);
		log_file_fd = fd;
		snprintf(log_file_path, sizeof(log_file_path), "%s", dest);
		log_dest = DEST_FILE;
		return 0;
	}
	if (log_file_fd >= 0) {
		close(log_file_fd);
		log_file_fd = -1;
	}
	return 0;
}

int log_reopen(void)
{
	int fd;

	if (log_dest != DEST_FILE)
		return 0;
	fd = open_log_file(log_file_path);
	if (fd < 0)
		return fd;
	close(log_file_fd);
	log_file_fd = fd;
	return 0;
}

void log_init_worker(int fd, int level)
{
	log_level = level;
	log_fd = fd;
	/* The master's destinations are not a worker's: with a log file or
	 * the syslog socket a taken-over worker could write lines of its
	 * own, past the master's rate limit. */
	if (log_file_fd >= 0)
		close(log_file_fd);
	log_file_fd = -1;
	if (log_dest == DEST_SYSLOG)
		closelog();
	log_dest = DEST_STDERR;
}

void log_set_json(bool on)
{
	log_json = on;
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

unsigned long log_dropped(void)
{
	return log_drops;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* Write the rest of an earlier line first; then len bytes, or none when
 * that cannot be done now.  A write cut short keeps its rest for later.
 * 0 or -1 (the line is dropped). */
static int write_whole(int fd, const char *buf, size_t len)
{
	ssize_t n;

	if (log_rest_len) {
		n = write(fd, log_rest, log_rest_len);
		if (n < 0)
			return -1;
		memmove(log_rest, log_rest + n, log_rest_len - (size_t)n);
		log_rest_len -= (size_t)n;
		if (log_rest_len)
			return -1;
	}
	n = write(fd, buf, len);
	if (n < 0)
		return -1;
	if ((size_t)n < len) {
		memcpy(log_rest, buf + n, len - (size_t)n);
		log_rest_len = len - (size_t)n;
	}
	return 0;
}

/* Client text and worker records reach this function, so it makes every
 * line one line of printable bytes: a byte below 0x20 or 0x7f becomes
 * \xNN.  Without it a user name holding "\n<0>" forges a line of its own,
 * with the journal priority of the attacker's choice.  Returns the length
 * written to out (NUL-terminated); cut short when cap is too small. */
size_t log_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (cap == 0)
		return 0;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c != 0x7f) {
			if (n + 1 >= cap)
				break;
			out[n++] = (char)c;
			continue;
		}
		if (n + 4 >= cap)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	out[n] = '\0';
	return n;
}

static void now_text(char *ts, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	strftime(ts, cap, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
}

/* The line for the destination in use: text with the tag and the level
 * (and the time in a file), or one JSON object (json not NULL, made by
 * logfmt_json, the time inside).  Into line; its length, or -1. */
static int format_line(int level, const char *tag, const char *text, const char *json, char *line,
		       size_t cap)
{
	char ts[32];
	int n;

	if (json)
		n = log_prefix && log_dest == DEST_STDERR
			? snprintf(line, cap, "<%d>%s\n", level, json)
			: snprintf(line, cap, "%s\n", json);
	else if (log_dest == DEST_FILE) {
		now_text(ts, sizeof(ts));
		n = snprintf(line, cap, "%s tunneld[%d]: %s: %s: %s\n", ts, (int)getpid(), tag,
			     level_name(level), text);
	} else if (log_prefix)
		n = snprintf(line, cap, "<%d>%s: %s\n", level, tag, text);
	else
		n = snprintf(line, cap, "tunneld: %s: %s: %s\n", tag, level_name(level), text);
	if (n < 0)
		return -1;
	if ((size_t)n >= cap) {
		n = (int)cap - 1;
		line[n - 1] = '\n';
	}
	return n;
}

/* A JSON object for text (NULL: kv's fields) at level, into out; NULL
 * when it cannot be made. */
static const char *json_line(int level, const char *tag, const char *text, const struct log_kv *kv,
			     char *out, size_t cap)
{
	char ts[32];

	now_text(ts, sizeof(ts));
	return logfmt_json(ts, level_name(level), tag, text, kv, out, cap) ? out : NULL;
}

/* Write one line, text or JSON (text NULL: kv's fields, for JSON only). */
static void write_out(int level, const char *tag, const char *text, const struct log_kv *kv)
{
	char line[LOG_JSON_MAX + 128], json[LOG_JSON_MAX];
	const char *j = NULL;
	int n, fd = log_dest == DEST_FILE ? log_file_fd : STDERR_FILENO;

	if (log_json && !(j = json_line(level, tag, text, kv, json, sizeof(json))))
		return;
	if (log_dest == DEST_SYSLOG) {
		if (j)
			syslog(level, "%s", j);
		else
			syslog(level, "%s: %s", tag, text);
		return;
	}
	n = format_line(level, tag, text, j, line, sizeof(line));
	if (n < 0)
		return;
	/* One write per line keeps lines whole when several writers share
	 * the file; a failed write (full disk, a full pipe or socket: stderr
	 * does not block) is counted and forwarding goes on: the log never
	 * stalls the master. */
	if (write_whole(fd, line, (size_t)n) < 0) {
		log_drops++;
		return;
	}
	if (log_drops > log_drops_told) {
		/* The destination works again: say what it missed. */
		char text2[128];

		snprintf(text2, sizeof(text2), "%lu log line(s) lost: the log destination failed",
			 log_drops - log_drops_told);
		j = log_json ? json_line(LOG_WARNING, "master", text2, NULL, json, sizeof(json))
			     : NULL;
		n = log_json && !j
			? -1
			: format_line(LOG_WARNING, "master", text2, j, line, sizeof(line));
		if (n > 0 && write_whole(fd, line, (size_t)n) == 0)
			log_drops_told = log_drops;
	}
}

void log_write_line(int level, const char *tag, const char *in)
{
	char text[LOG_LINE_MAX];

	if (log_json) {
		/* JSON escapes control bytes itself, as \u00XX. */
		write_out(level, tag, in, NULL);
		return;
	}
	log_escape(in, text, sizeof(text));
	write_out(level, tag, text, NULL);
}

void log_write_kv(int level, const struct log_kv *kv)
{
	char text[LOG_LINE_MAX];

	if (level > log_level || log_fd >= 0)
		return;
	if (log_json) {
		write_out(level, "master", NULL, kv);
		return;
	}
	logfmt_text(kv, text, sizeof(text));
	log_write_line(level, "master", text);
}

void log_vmsg(int level, const char *fmt, va_list ap)
{
	char rec[LOG_RECORD_MAX];
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(rec + 1, sizeof(rec) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(rec) - 1)
		n = sizeof(rec) - 2;
	if (log_fd < 0) {
		log_write_line(level, "master", rec + 1);
		return;
	}
	rec[0] = (char)level;
	if (send(log_fd, rec, (size_t)n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_drops++;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int log_errno(int r, const char *fmt, ...)
{
	char buf[LOG_RECORD_MAX - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s: %s", buf, strerror(r < 0 ? -r : r));
	return r < 0 ? r : -r;
}
