/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the fleet keys (see cookies.h).  Owns the ring in use;
 * the key file is read, checked and wiped in one call, and a ring that is
 * not committed is freed by its caller. */
#include "config.h"
#include "daemon/cookies.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/log.h"
#include "common/secmem.h"
#include "daemon/fleet.h"
#include "daemon/fsutil.h"

struct cookie_ring {
	struct ticket_keys keys;
	bool random; /* made here, kept in memory only: no key file */
	bool made;   /* the state directory's key (no session.cookie-key-file) */
	char source[256];
};

static struct cookie_ring *live;

static struct cookie_ring *ring_new(void)
{
	return secmem_alloc(sizeof(struct cookie_ring));
}

void cookies_free(struct cookie_ring *ring)
{
	secmem_free(ring, sizeof(*ring)); /* wiped first */
}

/* Why the file's owner or mode lets someone other than root read or
 * change the keys, or NULL. */
static const char *unsafe(const struct stat *st, char *buf, size_t len)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(buf, len, "owned by uid %u: only root may own the keys (chown root)",
			 (unsigned)st->st_uid);
		return buf;
	}
	if (st->st_mode & (S_IWGRP | S_IRWXO)) {
		snprintf(buf, len,
			 "mode %04o lets %s: chmod 600 (or 640 for a group that only reads it)",
			 (unsigned)(st->st_mode & 07777),
			 st->st_mode & S_IRWXO ? "other users at the keys"
					       : "its group change the keys");
		return buf;
	}
	return NULL;
}

/* The file's keys into r: 0, or -1 with err set. */
static int load_file(const char *path, struct cookie_ring *r, char *err, size_t errlen)
{
	char *text = secmem_alloc(COOKIES_FILE_MAX + 1), why[128];
	const char *bad = NULL;
	size_t got = 0;
	struct stat st;
	ssize_t n = 0;
	int fd = -1, rc = -1;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((bad = unsafe(&st, why, sizeof(why))) != NULL) {
		snprintf(err, errlen, "%s: %s", path, bad);
		goto out;
	}
	while (got < COOKIES_FILE_MAX && (n = read(fd, text + got, COOKIES_FILE_MAX - got)) > 0)
		got += (size_t)n;
	if (n < 0 || got == COOKIES_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "larger than 64 KiB: not a key file");
		goto out;
	}
	if (ticket_keys_parse(text, got, path, &r->keys, err, errlen) < 0)
		goto out;
	snprintf(r->source, sizeof(r->source), "%s", path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	secmem_free(text, COOKIES_FILE_MAX + 1);
	return rc;
}

/* A new random key, written to path as a key file (mode 0600) unless one
 * is there already: through a temporary file linked into place, so a
 * crash or a second node sharing the directory never leaves half a key.
 * 0 (the file now exists), or -errno. */
static int make_key_file(const char *path)
{
	uint8_t key[TICKET_KEY_LEN];
	char tmp[PATH_MAX], line[8 + 2 * TICKET_KEY_LEN + 2];
	int fd, n, r = 0;

	if ((r = mkdir_parents(path, 0700)) < 0 && r != -EEXIST)
		return r;
	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key)) < 0)
		return -EIO;
	n = snprintf(line, sizeof(line), "1 ");
	for (size_t i = 0; i < sizeof(key); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", key[i]);
	line[n++] = '\n';
	explicit_bzero(key, sizeof(key));
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
		explicit_bzero(line, sizeof(line));
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		explicit_bzero(line, sizeof(line));
		return -errno;
	}
	errno = EIO; /* a short write sets none */
	if (write(fd, line, (size_t)n) != n || fsync(fd) < 0)
		r = -errno;
	explicit_bzero(line, sizeof(line));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
		r = -errno; /* EEXIST: another start made one first; use that */
	unlink(tmp);
	return r;
}

/* Without session.cookie-key-file: the key kept in the state directory
 * (fleet.state-dir's parent by default, LOCALSTATEDIR/lib/tunneld), made
 * on the first start, so that cookies outlive a restart.  0, or -1 logged
 * at warning (the caller then makes a key in memory only). */
static int state_key(const struct cfg *cfg, struct cookie_ring *r)
{
	char path[PATH_MAX], err[CFG_ERR_LEN];
	const char *dir = cfg->fleet_state_dir ? cfg->fleet_state_dir : FLEET_STATE_DIR;
	int e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, COOKIES_STATE_KEY) >= (int)sizeof(path)) {
		log_warn("cookies: %s/%s: path too long; a key in memory only: sessions end "
			 "with a restart",
			 dir, COOKIES_STATE_KEY);
		return -1;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT && (e = make_key_file(path)) < 0) {
		log_warn("cookies: cannot make %s: %s; a key in memory only: sessions end with "
			 "a restart",
			 path, strerror(-e));
		return -1;
	}
	if (load_file(path, r, err, sizeof(err)) < 0) {
		log_warn("cookies: %s; a key in memory only: sessions end with a restart", err);
		memset(&r->keys, 0, sizeof(r->keys));
		return -1;
	}
	r->made = true;
	return 0;
}

int cookies_load(const struct cfg *cfg, struct cookie_ring **out, char *err, size_t errlen)
{
	struct cookie_ring *r = ring_new();

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "session.cookie-key-file: out of memory");
		return -1;
	}
	if (cfg->cookie_key_file) {
		if (load_file(cfg->cookie_key_file, r, err, errlen) < 0) {
			cookies_free(r);
			return -1;
		}
	} else if (live && live->random) {
		*r = *live; /* the cookies given out stay good */
	} else if (state_key(cfg, r) < 0) {
		r->random = true;
		r->keys.n = 1;
		r->keys.k[0].id = 1;
		if (gnutls_rnd(GNUTLS_RND_KEY, r->keys.k[0].key, TICKET_KEY_LEN) < 0) {
			snprintf(err, errlen, "session.cookie-key-file: no random key");
			cookies_free(r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

void cookies_commit(struct cookie_ring **ring)
{
	struct cookie_ring *old = live;

	live = *ring;
	*ring = old;
}

void cookies_forget(void)
{
	cookies_free(live);
	live = NULL;
}

const char *cookies_describe(char *buf, size_t len)
{
	if (!live)
		snprintf(buf, len, "no key");
	else if (live->random)
		snprintf(buf, len,
			 "a random key (no session.cookie-key-file): cookies are good on this "
			 "node only, until it stops");
	else if (live->made)
		snprintf(buf, len,
			 "the key kept in %s (no session.cookie-key-file): cookies outlive a "
			 "restart of this node",
			 live->source);
	else
		snprintf(buf, len, "%u key(s) from %s, key %u seals", live->keys.n, live->source,
			 live->keys.k[live->keys.n - 1].id);
	return buf;
}

int cookies_seal(const struct ticket *t, char text[TICKET_MAX_TEXT_LEN + 1])
{
	uint8_t tok[TICKET_MAX_LEN];
	int r;

	text[0] = '\0';
	if (!live)
		return -ENOKEY;
	r = ticket_seal(&live->keys, t, tok);
	if (r > 0)
		ticket_encode(tok, (size_t)r, text);
	explicit_bzero(tok, sizeof(tok));
	return r < 0 ? r : 0;
}

int cookies_open(const uint8_t *tok, size_t len, struct ticket *t)
{
	if (!live) {
		memset(t, 0, sizeof(*t));
		return -EBADMSG;
	}
	return ticket_open(&live->keys, tok, len, t);
}
