/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the fleet keys that seal and open session cookies
 * (common/ticket.h).  Owns the key ring in use, kept in secret memory, so
 * that a forked worker, hashing process or key process finds zeros where
 * the keys were (common/secmem.h).  The ring is the keys of
 * session.cookie-key-file, or, without that file, the key kept in the
 * state directory (made on the first start, mode 0600), so that a restart
 * keeps the sessions; where that directory cannot hold it, a random key
 * in memory (cookies then end with the process).  A reload loads the file aside (cookies_load) and
 * commits it with the rest of its transaction (cookies_commit). */
#ifndef TUNNELD_COOKIES_H
#define TUNNELD_COOKIES_H

#include <stddef.h>
#include <stdint.h>

#include "common/ticket.h"
#include "conf/config.h"

struct cookie_ring;

#define COOKIES_FILE_MAX (64 * 1024)
/* Without session.cookie-key-file: the key file made on the first start
 * in fleet.state-dir (default LOCALSTATEDIR/lib/tunneld/fleet). */
#define COOKIES_STATE_KEY "cookie-key"

/* A ring for cfg: the key file's keys, or without a file the state
 * directory's key (made if missing), or the random key in use.  The file must be a regular file
 * owned by root (or by this process's user), not writable by its group, with no access for others.
 * 0 and *out, or -1 with "FILE: what is wrong" (or "FILE:LINE: ...") in err; nothing is kept. */
int cookies_load(const struct cfg *cfg, struct cookie_ring **out, char *err, size_t errlen);
/* Put *ring in use; the ring it replaces lands in *ring (for
 * cookies_free). */
void cookies_commit(struct cookie_ring **ring);
/* Wipe and free (NULL is fine). */
void cookies_free(struct cookie_ring *ring);
/* In a forked child: drop the ring in use (its memory reads as zeros
 * there anyway). */
void cookies_forget(void);
/* "2 keys from FILE, key 3 seals" or "a random key (no
 * session.cookie-key-file): cookies are good on this node only". */
const char *cookies_describe(char *buf, size_t len);

/* Seal t under the ring's sealing key into its text form: 0, or -errno. */
int cookies_seal(const struct ticket *t, char text[TICKET_MAX_TEXT_LEN + 1]);
/* Open a cookie's len bytes: 0 and *t, or -EBADMSG (ticket_open). */
int cookies_open(const uint8_t *tok, size_t len, struct ticket *t);

#endif
