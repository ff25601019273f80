/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TOTP secrets (see totp.h): parsed in the master (and tunneld-passwd),
 * used read-only in the hashing processes that inherit them.  A db owns
 * its entries and their decoded secrets, which are wiped when it goes.
 * HMAC, base32 and the code arithmetic are liboath's. */
#include "config.h"
#include "common/totp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <liboath/oath.h>

#include "common/passwd.h"

#define TOTP_MAX_FILE	(4u << 20)
#define TOTP_SECRET_MAX 64 /* bytes of a decoded secret */

struct totp_ent {
	char user[PASSWD_MAX_USER + 1];
	char secret[TOTP_SECRET_MAX];
	size_t len;
};

struct totp_db {
	struct totp_ent *ent;
	size_t n;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int totp_path(const char *passwd_path, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s.totp", passwd_path);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

void totp_db_free(struct totp_db *db)
{
	if (!db)
		return;
	explicit_bzero(db->ent, db->n * sizeof(*db->ent));
	free(db->ent);
	free(db);
}

size_t totp_db_count(const struct totp_db *db)
{
	return db ? db->n : 0;
}

static const struct totp_ent *find(const struct totp_db *db, const char *user)
{
	for (size_t i = 0; db && i < db->n; i++)
		if (!strcmp(db->ent[i].user, user))
			return &db->ent[i];
	return NULL;
}

bool totp_db_has(const struct totp_db *db, const char *user)
{
	return find(db, user) != NULL;
}

/* One "user:SECRET" line (NUL-terminated, trailing blanks cut) into e:
 * NULL, or what is wrong with it. */
static const char *parse_line(char *line, struct totp_ent *e)
{
	char *colon = strchr(line, ':'), *bin = NULL;
	size_t blen = 0;

	if (!colon)
		return "missing ':'";
	*colon = '\0';
	if (!passwd_valid_user(line))
		return "invalid user name";
	if (oath_base32_decode(colon + 1, strlen(colon + 1), &bin, &blen) != OATH_OK)
		return "the secret is not base32";
	if (blen < 10 || blen > TOTP_SECRET_MAX) {
		explicit_bzero(bin, blen);
		free(bin);
		return "the secret must be 10 to 64 bytes (16 to 103 base32 characters)";
	}
	snprintf(e->user, sizeof(e->user), "%s", line);
	memcpy(e->secret, bin, blen);
	e->len = blen;
	explicit_bzero(bin, blen);
	free(bin);
	return NULL;
}

int totp_db_parse(const char *text, size_t len, const char *name, struct totp_db **out, char *err,
		  size_t errlen)
{
	struct totp_db *db = calloc(1, sizeof(*db));
	char *copy = malloc(len + 1), *line, *next;
	unsigned lineno = 0;
	const char *why;

	*out = NULL;
	if (!db || !copy || oath_init() != OATH_OK)
		goto nomem;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line; line = next) {
		size_t n;
		struct totp_ent e, *grown;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		n = strlen(line);
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if ((why = parse_line(line, &e)) != NULL || find(db, e.user)) {
			set_err(err, errlen, "%s:%u: %s", name, lineno,
				why ? why : "user listed twice");
			explicit_bzero(&e, sizeof(e));
			goto fail;
		}
		grown = realloc(db->ent, (db->n + 1) * sizeof(*db->ent));
		if (!grown) {
			explicit_bzero(&e, sizeof(e));
			goto nomem;
		}
		db->ent = grown;
		db->ent[db->n++] = e;
		explicit_bzero(&e, sizeof(e));
	}
	explicit_bzero(copy, len);
	free(copy);
	*out = db;
	return 0;
nomem:
	set_err(err, errlen, "%s: out of memory", name);
fail:
	if (copy)
		explicit_bzero(copy, len);
	free(copy);
	totp_db_free(db);
	return -1;
}

int totp_db_load(const char *path, struct totp_db **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;
	int r = -1;

	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TOTP_MAX_FILE) {
		set_err(err, errlen, "%s: not a regular file of at most %u bytes", path,
			TOTP_MAX_FILE);
		goto out;
	}
	/* The secrets are as good as passwords. */
	if (st.st_mode & 077) {
		set_err(err, errlen, "%s: readable by others (mode %03o): chmod 600 it", path,
			(unsigned)(st.st_mode & 0777));
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || (n = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		set_err(err, errlen, "%s: cannot read it", path);
		goto out;
	}
	r = totp_db_parse(buf, (size_t)n, path, out, err, errlen);
out:
	if (buf) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return r;
}

int totp_check(const struct totp_db *db, const char *user, const char *code, int64_t now,
	       uint64_t *step)
{
	const struct totp_ent *e = find(db, user);
	uint64_t counter = 0;
	int pos = 0;
	size_t n = strlen(code);

	*step = 0;
	if (!e || n != TOTP_DIGITS || strspn(code, "0123456789") != n)
		return -1;
	if (oath_totp_validate3(e->secret, e->len, (time_t)now, TOTP_STEP, 0, TOTP_WINDOW, &pos,
				&counter, code) < 0)
		return -1;
	*step = counter;
	return 0;
}

int totp_new_secret(char *out, size_t cap)
{
	char raw[20], *b32 = NULL;
	size_t blen = 0;
	int r = 0;

	if (oath_init() != OATH_OK)
		return -ENOMEM;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	if (oath_base32_encode(raw, sizeof(raw), &b32, &blen) != OATH_OK)
		r = -ENOMEM;
	else if (blen + 1 > cap)
		r = -ENOBUFS;
	else
		memcpy(out, b32, blen + 1);
	explicit_bzero(raw, sizeof(raw));
	if (b32) {
		explicit_bzero(b32, blen);
		free(b32);
	}
	return r;
}
