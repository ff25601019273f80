/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sealed session cookies ("tickets"), for the master (sealing and opening)
 * and the workers (the text form only).  A ticket carries what any node of
 * a fleet needs to re-create a session it does not hold: the session id,
 * the user and groups, the issuing node, the start and expiry, the
 * addresses and the user's credential stamp.  It is sealed with AES-256-GCM
 * under a fleet key named by a key id (session.cookie-key-file), so only a
 * holder of the key can make or read one, and a change of one bit is
 * refused.  Fixed size: TICKET_LEN bytes, TICKET_TEXT_LEN characters of
 * base64url in "Cookie: webvpn=...".
 *
 *   byte 0      version (TICKET_VERSION), authenticated
 *   byte 1      key id, authenticated
 *   2..13       nonce (random, 96 bits)
 *   14..388     the sealed body (TICKET_BODY_LEN), laid out in ticket.c
 *   389..404    the GCM tag
 *
 * Buffers in, answers out, nothing kept; the nonce is the only randomness.
 * Unit-tested (tests/unit/check_ticket.c) and fuzzed (tests/fuzz). */
#ifndef TUNNELD_TICKET_H
#define TUNNELD_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#define TICKET_VERSION	  1
#define TICKET_KEY_LEN	  32  /* AES-256 */
#define TICKET_MAX_KEYS	  16  /* keys in a key file */
#define TICKET_USER_MAX	  64  /* = IPC_USER_MAX, NUL included */
#define TICKET_GROUPS_MAX 256 /* = SESS_GROUPS_MAX, NUL included */
#define TICKET_NONCE_LEN  12
#define TICKET_TAG_LEN	  16
#define TICKET_HDR_LEN	  (2 + TICKET_NONCE_LEN)
#define TICKET_BODY_LEN	  375
#define TICKET_LEN	  (TICKET_HDR_LEN + TICKET_BODY_LEN + TICKET_TAG_LEN) /* 405 */
#define TICKET_TEXT_LEN	  (TICKET_LEN / 3 * 4) /* 540: 405 is a multiple of 3, no padding */

/* What a ticket says, opened. */
struct ticket {
	uint64_t sid;		  /* fleet-wide session id: node id << 56 | random */
	uint8_t node;		  /* the issuing node (session.node-id) */
	int64_t created, expires; /* Unix time: the session's start, the cookie's end */
	bool have_stamp;	  /* the user came from the password file: */
	uint64_t stamp;		  /* passwd_db_user()'s stamp of the user's hash then */
	bool have4, have6;	  /* the session's addresses */
	struct in_addr v4;
	struct in6_addr v6;
	char user[TICKET_USER_MAX];	/* non-empty, no control characters */
	char groups[TICKET_GROUPS_MAX]; /* comma-separated, may be empty */
};

/* The fleet keys: every one opens, the last one seals. */
struct ticket_key {
	uint8_t id; /* 1..255 from a key file; 0 for a node's own random key */
	uint8_t key[TICKET_KEY_LEN];
};

struct ticket_keys {
	unsigned n;
	struct ticket_key k[TICKET_MAX_KEYS];
};

/* Seal t under the last key of ks into out.  0, -EINVAL (no key, or a field
 * a ticket cannot hold: empty or oversized user, control characters, node
 * not the top byte of sid), or -EIO (GnuTLS). */
int ticket_seal(const struct ticket_keys *ks, const struct ticket *t, uint8_t out[TICKET_LEN]);

/* Open the len bytes at in with whichever key of ks its key id names, and
 * check every field.  0 and *t; -EBADMSG when the length, the version or
 * the key id is wrong, the tag does not match or a field is malformed (*t
 * is then zeroed).  Expiry is the caller's: ticket_expired(). */
int ticket_open(const struct ticket_keys *ks, const uint8_t *in, size_t len, struct ticket *t);

/* Check a body as it comes out of the seal and fill *t: 0 or -EBADMSG.
 * (ticket_open's second half; public for the fuzzer.) */
int ticket_body_parse(const uint8_t body[TICKET_BODY_LEN], struct ticket *t);

static inline bool ticket_expired(const struct ticket *t, time_t now)
{
	return (int64_t)now >= t->expires;
}

/* The text form: out gets TICKET_TEXT_LEN characters and a NUL. */
void ticket_encode(const uint8_t tok[TICKET_LEN], char out[TICKET_TEXT_LEN + 1]);
/* Exactly TICKET_TEXT_LEN base64url characters: 0, or -EINVAL.  Constant
 * time in the characters (cookie.c's decoder). */
int ticket_decode(const char *s, size_t len, uint8_t tok[TICKET_LEN]);

/* A key file's text (name for messages): lines "ID KEY", ID 1..255 and
 * unique, KEY 64 hex digits (32 bytes); '#' starts a comment; blank lines
 * are ignored; at most TICKET_MAX_KEYS keys, at least one.  The last one
 * seals.  0, or -EINVAL with "NAME:LINE: what is wrong" in err; *out is
 * wiped on error. */
int ticket_keys_parse(const char *text, size_t len, const char *name, struct ticket_keys *out,
		      char *err, size_t errlen);

#endif
