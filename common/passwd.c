/* Password file parser and checker: runs in the master (and the
 * tunneld-passwd tool).  A db owns a copy of the file text, the sorted
 * entries pointing into it, and one crypt_data scratch area. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/passwd.h"
#include "conf/config.h"

/* A password file is a few lines per user; anything this big is a
 * mistake (say, a path to a device), not a user list. */
#define PASSWD_MAX_FILE (16u << 20)

struct pw_entry {
	const char *user;
	const char *hash;   /* the crypt hash, without the lock mark */
	const char *groups; /* the third field, "" without one */
	bool locked;
	bool weak; /* a method we refuse (md5crypt, NT): hashed like unknown users */
	unsigned line;
};

struct passwd_db {
	char *text; /* NUL-separated copy of the file; entries point into it */
	size_t text_len;
	struct pw_entry *ent; /* sorted by user */
	size_t n;
	/* crypt_r's ~32 KiB state, allocated once per db rather than per
	 * check; this is why a db must be used from one thread at a time. */
	struct crypt_data *cd;
	/* What unknown users (and users with a refused method) are hashed
	 * against: the hash of a user of the method and cost most users
	 * have, so that the answer takes as long as for them; a yescrypt
	 * setting of the default cost in a db without users. */
	const char *dummy;
	char fresh[CRYPT_GENSALT_OUTPUT_SIZE];
	/* For the caller to log: method mixing, refused methods. */
	char warning[512];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int passwd_valid_user(const char *user)
{
	size_t n;

	if (!user || user[0] == '\0' || user[0] == '-')
		return 0;
	for (n = 0; user[n]; n++) {
		char c = user[n];
		if (n >= PASSWD_MAX_USER)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return 0;
	}
	return 1;
}

int passwd_valid_groups(const char *list)
{
	size_t n = strlen(list);

	if (n > PASSWD_MAX_GROUPS)
		return 0;
	while (*list) {
		size_t k = strcspn(list, ",");

		if (!cfg_group_name_valid(list, k))
			return 0;
		list += k;
		if (*list == ',' && !*++list)
			return 0; /* a trailing comma */
	}
	return 1;
}

/* Crypt hashes are printable ASCII; ':' would be a field separator and
 * whitespace cannot survive the line trimming anyway. */
static bool valid_hash_chars(const char *h)
{
	for (; *h; h++) {
		if (*h <= ' ' || *h > '~' || *h == ':')
			return false;
	}
	return true;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pw_entry *x = a, *y = b;
	int r = strcmp(x->user, y->user);

	if (r)
		return r;
	return (x->line > y->line) - (x->line < y->line);
}

/* Parse one line (trailing whitespace already cut, NUL-terminated) into
 * *e.  Returns NULL, or the reason the line is wrong.  Blank lines and
 * comments leave e->user NULL. */
static const char *parse_line(char *line, struct pw_entry *e)
{
	char *p = line, *colon, *hash;

	e->user = NULL;
	while (is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	colon = strchr(line, ':');
	if (!colon)
		return "missing ':'";
	*colon = '\0';
	if (!passwd_valid_user(line))
		return "invalid user name";
	hash = colon + 1;
	e->groups = "";
	colon = strchr(hash, ':');
	if (colon) {
		*colon = '\0';
		e->groups = colon + 1;
		if (!passwd_valid_groups(e->groups))
			return "invalid group list (comma-separated names of A-Z a-z 0-9 . _ -)";
	}
	e->locked = hash[0] == '!';
	if (e->locked)
		hash++;
	if (hash[0] == '\0')
		return "empty hash";
	if (hash[0] != '$' || !valid_hash_chars(hash))
		return "not a crypt hash (expected '$...', or '!$...' when locked)";
	/* md5crypt and NT hashes cost next to nothing to guess offline and
	 * would answer ~100 times faster than the others (a timing oracle):
	 * such a user cannot log in until rehashed. */
	e->weak = !strncmp(hash, "$1$", 3) || !strncmp(hash, "$3$", 3);
	e->user = line;
	e->hash = hash;
	return NULL;
}

/* The part of a hash naming its method and cost, which is what the time
 * of a check depends on: "$y$j9T$" of "$y$j9T$SALT$HASH", "$6$" or
 * "$6$rounds=N$" of SHA-512 crypt, "$2b$10$" of bcrypt (whose salt and
 * hash share one field).  Its length. */
static size_t cost_class_len(const char *h)
{
	const char *last = strrchr(h, '$'), *p;

	if (h[1] == '2' && strlen(h) > 7 && h[3] == '$' && h[6] == '$')
		return 7;
	if (last == h)
		return strlen(h);
	for (p = last - 1; p > h && *p != '$'; p--)
		;
	return p > h ? (size_t)(p - h) + 1 : strlen(h);
}

static int class_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = cost_class_len(x), ny = cost_class_len(y);
	int r = memcmp(x, y, nx < ny ? nx : ny);

	return r ? r : (nx > ny) - (nx < ny);
}

static bool same_class(const char *x, const char *y)
{
	size_t n = cost_class_len(x);

	return n == cost_class_len(y) && !memcmp(x, y, n);
}

/* Pick the dummy: the most common method and cost among the usable hashes
 * (locked ones count: they are hashed too).  Notes in db->warning what a
 * caller should tell the administrator.  0, or -1 without memory. */
static int choose_dummy(struct passwd_db *db)
{
	const char **h = calloc(db->n ? db->n : 1, sizeof(*h));
	size_t n = 0, best = 0, best_n = 0, classes = 0, weak = 0, i, run;
	const struct pw_entry *first_weak = NULL;
	int w = 0;

	if (!h)
		return -1;
	for (i = 0; i < db->n; i++) {
		if (db->ent[i].weak) {
			if (!first_weak || db->ent[i].line < first_weak->line)
				first_weak = &db->ent[i];
			weak++;
			continue;
		}
		h[n++] = db->ent[i].hash;
	}
	qsort(h, n, sizeof(*h), class_cmp);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && same_class(h[i], h[i + run]); run++)
			;
		classes++;
		if (run > best_n) {
			best = i;
			best_n = run;
		}
	}
	if (n)
		db->dummy = h[best];
	if (classes > 1)
		w = snprintf(db->warning, sizeof(db->warning),
			     "the hashes use %zu methods or costs; unknown users are hashed "
			     "like the most common (%.*s, %zu of %zu users), so users of the "
			     "others can be told apart by how long a login takes: rehash them "
			     "with one method. ",
			     classes, (int)cost_class_len(h[best]), h[best], best_n, n);
	if (weak && w >= 0 && (size_t)w < sizeof(db->warning))
		snprintf(db->warning + w, sizeof(db->warning) - (size_t)w,
			 "%zu user(s) with an md5crypt or NT hash (the first: '%s', line %u) "
			 "cannot log in until their password is set again with tunneld-passwd. ",
			 weak, first_weak->user, first_weak->line);
	free(h);
	return 0;
}

/* Among entries (all from lines before any syntax error), find the
 * earliest line that repeats a user.  ent must be sorted by entry_cmp. */
static const struct pw_entry *first_duplicate(const struct pw_entry *ent, size_t n,
					      unsigned *first_line)
{
	const struct pw_entry *dup = NULL;

	for (size_t i = 1; i < n; i++) {
		if (strcmp(ent[i - 1].user, ent[i].user) != 0)
			continue;
		if (!dup || ent[i].line < dup->line) {
			dup = &ent[i];
			*first_line = ent[i - 1].line;
		}
		/* Later repeats of the same user are on later lines still. */
		while (i + 1 < n && strcmp(ent[i].user, ent[i + 1].user) == 0)
			i++;
	}
	return dup;
}

/* choose_dummy(), or a fresh default-cost yescrypt setting for a db
 * without usable hashes.  0, or -1 with err set. */
static int set_dummy(struct passwd_db *db, const char *name, char *err, size_t errlen)
{
	if (choose_dummy(db) < 0) {
		set_err(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (db->dummy)
		return 0;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, db->fresh, sizeof(db->fresh))) {
		set_err(err, errlen, "%s: cannot make a yescrypt salt: %s", name, strerror(errno));
		return -1;
	}
	db->dummy = db->fresh;
	return 0;
}

void passwd_db_free(struct passwd_db *db)
{
	if (!db)
		return;
	if (db->text)
		explicit_bzero(db->text, db->text_len);
	free(db->text);
	free(db->ent);
	if (db->cd)
		explicit_bzero(db->cd, sizeof(*db->cd));
	free(db->cd);
	free(db);
}

int passwd_db_parse(const char *text, size_t len, const char *name, struct passwd_db **out,
		    char *err, size_t errlen)
{
	struct passwd_db *db;
	const char *bad = NULL;
	unsigned lineno = 0, bad_line = 0, first_line = 0;
	const struct pw_entry *dup;
	size_t cap = 0, pos = 0;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		goto nomem;
	db->text = malloc(len + 1);
	db->cd = calloc(1, sizeof(*db->cd));
	if (!db->text || !db->cd)
		goto nomem;
	memcpy(db->text, text, len);
	db->text[len] = '\0';
	db->text_len = len;

	while (pos < len && !bad) {
		char *line = db->text + pos;
		char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		struct pw_entry e;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (memchr(line, '\0', n)) {
			bad = "NUL byte in line";
			break;
		}
		while (n > 0 && is_space(line[n - 1]))
			n--;
		line[n] = '\0';
		bad = parse_line(line, &e);
		if (bad || !e.user)
			continue;
		if (db->n == cap) {
			struct pw_entry *ne;
			cap = cap ? cap * 2 : 16;
			ne = reallocarray(db->ent, cap, sizeof(*ne));
			if (!ne)
				goto nomem;
			db->ent = ne;
		}
		e.line = lineno;
		db->ent[db->n++] = e;
	}
	if (bad)
		bad_line = lineno;

	/* No users: db->ent is NULL, which qsort() must not be given. */
	if (db->n > 0)
		qsort(db->ent, db->n, sizeof(*db->ent), entry_cmp);
	dup = first_duplicate(db->ent, db->n, &first_line);
	if (dup) {
		set_err(err, errlen, "%s:%u: duplicate user '%s' (first on line %u)", name,
			dup->line, dup->user, first_line);
		goto fail;
	}
	if (bad) {
		set_err(err, errlen, "%s:%u: %s", name, bad_line, bad);
		goto fail;
	}

	if (set_dummy(db, name, err, errlen) < 0)
		goto fail;
	*out = db;
	return 0;

nomem:
	set_err(err, errlen, "%s: out of memory", name);
fail:
	passwd_db_free(db);
	return -1;
}

int passwd_db_load(const char *path, struct passwd_db **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap >= PASSWD_MAX_FILE) {
				set_err(err, errlen, "%s: larger than %u bytes", path,
					PASSWD_MAX_FILE);
				goto out;
			}
			/* Not realloc(): the old block holds hashes and would be
			 * freed unwiped, for a forked worker to find. */
			nb = malloc(cap ? cap * 2 : 4096);
			if (!nb) {
				set_err(err, errlen, "%s: out of memory", path);
				goto out;
			}
			if (buf) {
				memcpy(nb, buf, len);
				explicit_bzero(buf, len);
			}
			free(buf);
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = passwd_db_parse(buf ? buf : "", len, path, out, err, errlen);
out:
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	close(fd);
	return r;
}

size_t passwd_db_count(const struct passwd_db *db)
{
	return db->n;
}

const char *passwd_db_warning(const struct passwd_db *db)
{
	return db->warning[0] ? db->warning : NULL;
}

static int key_cmp(const void *key, const void *elem)
{
	const struct pw_entry *e = elem;

	return strcmp(key, e->user);
}

/* Constant time in the contents: a mismatch position must not show in
 * the timing.  The length of a crypt hash is public (it follows from the
 * method), so comparing lengths first leaks nothing. */
static bool hash_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char diff = 0;

	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

enum passwd_result passwd_db_check(const struct passwd_db *db, const char *user,
				   const char *password)
{
	const struct pw_entry *e = NULL;
	const char *res;
	bool ok;

	if (user && db->n > 0)
		e = bsearch(user, db->ent, db->n, sizeof(*db->ent), key_cmp);
	/* Unknown and locked users pay for a hash too, so the answer's
	 * timing is the same whichever way it goes. */
	res = crypt_r(password ? password : "", e && !e->weak ? e->hash : db->dummy, db->cd);
	ok = e && !e->weak && res && res[0] != '*' && hash_equal(res, e->hash);
	/* The scratch area held password-derived state. */
	explicit_bzero(db->cd, sizeof(*db->cd));

	if (!e)
		return PW_UNKNOWN_USER;
	if (e->locked)
		return PW_LOCKED;
	if (e->weak)
		return PW_WEAK_HASH;
	return ok ? PW_OK : PW_BAD_PASSWORD;
}

enum passwd_result passwd_db_user(const struct passwd_db *db, const char *user, uint64_t *stamp)
{
	const struct pw_entry *e = NULL;
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	if (user && db->n > 0)
		e = bsearch(user, db->ent, db->n, sizeof(*db->ent), key_cmp);
	*stamp = 0;
	if (!e)
		return PW_UNKNOWN_USER;
	for (const char *p = e->hash; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	*stamp = h;
	if (e->locked)
		return PW_LOCKED;
	return e->weak ? PW_WEAK_HASH : PW_OK;
}

const char *passwd_db_groups(const struct passwd_db *db, const char *user)
{
	const struct pw_entry *e = NULL;

	if (user && db->n > 0)
		e = bsearch(user, db->ent, db->n, sizeof(*db->ent), key_cmp);
	return e ? e->groups : "";
}

const char *passwd_result_str(enum passwd_result r)
{
	switch (r) {
	case PW_OK:
		return "ok";
	case PW_BAD_PASSWORD:
		return "bad password";
	case PW_UNKNOWN_USER:
		return "unknown user";
	case PW_LOCKED:
		return "locked";
	case PW_WEAK_HASH:
		return "md5crypt or NT hash refused (set the password again)";
	}
	return "?";
}

int passwd_hash(const char *password, const char *prefix, char *out, size_t cap)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *res;
	size_t n;
	int r = 0;

	errno = 0;
	if (!crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)))
		return errno ? -errno : -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	errno = 0;
	res = crypt_rn(password, salt, cd, sizeof(*cd));
	if (!res || res[0] == '*') {
		r = errno ? -errno : -EINVAL;
		goto out;
	}
	n = strlen(res);
	if (n >= cap) {
		r = -ENOSPC;
		goto out;
	}
	memcpy(out, res, n + 1);
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}
