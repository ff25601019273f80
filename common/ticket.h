/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sealed session cookies ("tickets"), for the master (sealing and opening)
 * and the workers (the text form only).  A ticket carries what any node of
 * a fleet needs to re-create a session it does not hold: the session id,
 * the user and groups, the issuing node, the start and expiry, the
 * addresses and the user's credential stamp.  It is sealed with AES-256-GCM
 * under a fleet key named by a key id (session.cookie-key-file), so only a
 * holder of the key can make or read one, and a change of one bit is
 * refused.  Two sizes: version 1 for a session without RADIUS, version 2
 * adding the RADIUS grant (the deadline, timeouts, interim interval, routes
 * and Class), so that the node that re-creates the session goes on with
 * its accounting and its limits.  Both are opened; TICKET_Vn_TEXT_LEN
 * characters of base64url in "Cookie: webvpn=...".  openconnect reads a
 * cookie from stdin (--cookie-on-stdin, as NetworkManager runs it) into
 * 1024 bytes, with its "openconnect_strapkey=..." (about 190 characters)
 * and "webvpn=" before ours: version 2 stays well under that (788), so
 * its grant has TICKET_RAD_AREA bytes for the routes (packed) and Class
 * together; a larger grant does not fit a cookie (ticket_rad_fits).
 *
 *   byte 0      version (TICKET_V1 or TICKET_V2), authenticated
 *   byte 1      key id, authenticated
 *   2..13       nonce (random, 96 bits)
 *   14..        the sealed body (TICKET_BODY_V1_LEN or TICKET_BODY_V2_LEN),
 *               laid out in ticket.c
 *   last 16     the GCM tag
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

#define TICKET_V1	  1   /* a session without RADIUS */
#define TICKET_V2	  2   /* with its RADIUS grant */
#define TICKET_KEY_LEN	  32  /* AES-256 */
#define TICKET_MAX_KEYS	  16  /* keys in a key file */
#define TICKET_USER_MAX	  64  /* = IPC_USER_MAX, NUL included */
#define TICKET_GROUPS_MAX 256 /* = SESS_GROUPS_MAX, NUL included */
#define TICKET_ROUTES_MAX 16  /* = RADIUS_ROUTES_MAX */
/* Bytes for the routes (6 an IPv4 one, 18 an IPv6 one) and Class. */
#define TICKET_RAD_AREA	   160
#define TICKET_CLASS_MAX   TICKET_RAD_AREA
#define TICKET_NONCE_LEN   12
#define TICKET_TAG_LEN	   16
#define TICKET_HDR_LEN	   (2 + TICKET_NONCE_LEN)
#define TICKET_BODY_V1_LEN 375
#define TICKET_RAD_LEN	   186 /* the grant, after the version 1 body */
#define TICKET_BODY_V2_LEN (TICKET_BODY_V1_LEN + TICKET_RAD_LEN)
#define TICKET_V1_LEN	   (TICKET_HDR_LEN + TICKET_BODY_V1_LEN + TICKET_TAG_LEN) /* 405 */
#define TICKET_V2_LEN	   (TICKET_HDR_LEN + TICKET_BODY_V2_LEN + TICKET_TAG_LEN) /* 591 */
#define TICKET_MAX_LEN	   TICKET_V2_LEN
/* Both lengths are multiples of 3: the text form has no padding bits. */
#define TICKET_V1_TEXT_LEN  (TICKET_V1_LEN / 3 * 4) /* 540 */
#define TICKET_V2_TEXT_LEN  (TICKET_V2_LEN / 3 * 4) /* 788 */
#define TICKET_MAX_TEXT_LEN TICKET_V2_TEXT_LEN

/* A route of the grant: family 4 or 6, the prefix (host bits clear). */
struct ticket_route {
	uint8_t family, len;
	uint8_t addr[16]; /* 4 bytes used for IPv4, the rest zero */
};

/* The RADIUS grant of a session (version 2), as the master keeps it
 * (daemon/radsess.h): what it converts to and from is its business; the
 * ticket checks the sizes and that unused bytes are zero. */
struct ticket_rad {
	int64_t deadline; /* Session-Timeout's end, Unix time; 0: none */
	uint32_t have;	  /* the grant's RG_* bits */
	uint32_t session_timeout, idle_timeout, interim;
	uint8_t n_routes;
	struct ticket_route routes[TICKET_ROUTES_MAX];
	uint16_t class_len;
	uint8_t class_buf[TICKET_CLASS_MAX];
};

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
	bool have_rad;			/* version 2: the RADIUS grant */
	struct ticket_rad rad;
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

/* Seal t under the last key of ks into out: version 2 when t->have_rad.
 * The token's length (TICKET_V1_LEN or TICKET_V2_LEN), or -EINVAL (no key,
 * or a field a ticket cannot hold: empty or oversized user, control
 * characters, node not the top byte of sid, a grant out of range), or
 * -EIO (GnuTLS). */
int ticket_seal(const struct ticket_keys *ks, const struct ticket *t, uint8_t out[TICKET_MAX_LEN]);

/* Whether r fits a cookie: at most TICKET_ROUTES_MAX routes, which with
 * Class take no more than TICKET_RAD_AREA bytes. */
bool ticket_rad_fits(const struct ticket_rad *r);

/* Open the len bytes at in with whichever key of ks its key id names, and
 * check every field.  0 and *t; -EBADMSG when the length does not match
 * the version, the version or the key id is unknown, the tag does not
 * match or a field is malformed (*t is then zeroed).  Expiry is the
 * caller's: ticket_expired(). */
int ticket_open(const struct ticket_keys *ks, const uint8_t *in, size_t len, struct ticket *t);

/* Check a body of len bytes (TICKET_BODY_V1_LEN or TICKET_BODY_V2_LEN) as
 * it comes out of the seal and fill *t: 0 or -EBADMSG.  (ticket_open's
 * second half; public for the fuzzer.) */
int ticket_body_parse(const uint8_t *body, size_t len, struct ticket *t);

static inline bool ticket_expired(const struct ticket *t, time_t now)
{
	return (int64_t)now >= t->expires;
}

/* The text form of a token of len bytes (TICKET_V1_LEN or TICKET_V2_LEN):
 * out gets its TICKET_Vn_TEXT_LEN characters and a NUL. */
void ticket_encode(const uint8_t *tok, size_t len, char out[TICKET_MAX_TEXT_LEN + 1]);
/* Exactly TICKET_V1_TEXT_LEN or TICKET_V2_TEXT_LEN base64url characters:
 * the token's length in tok, or -EINVAL.  Constant time in the characters
 * (cookie.c's decoder). */
int ticket_decode(const char *s, size_t len, uint8_t tok[TICKET_MAX_LEN]);

/* A key file's text (name for messages): lines "ID KEY", ID 1..255 and
 * unique, KEY 64 hex digits (32 bytes); '#' starts a comment; blank lines
 * are ignored; at most TICKET_MAX_KEYS keys, at least one.  The last one
 * seals.  0, or -EINVAL with "NAME:LINE: what is wrong" in err; *out is
 * wiped on error. */
int ticket_keys_parse(const char *text, size_t len, const char *name, struct ticket_keys *out,
		      char *err, size_t errlen);

#endif
