/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sealed session cookies (see ticket.h): the body's layout, sealing and
 * opening with GnuTLS's AEAD interface, the text form and the key file's
 * syntax.  Run by the master (seal, open, key file) and the workers (text
 * form); owns nothing between calls.  Every key and body buffer on the
 * stack is wiped before return.
 *
 * The body, big-endian numbers:
 *   0 sid (8)  8 created (8)  16 expires (8)  24 stamp (8)  32 node (1)
 *   33 flags (1: have4, have6, have_stamp)  34 zero (1)  35 IPv4 (4)
 *   39 IPv6 (16)  55 user (64, NUL-padded)  119 groups (256, NUL-padded)
 * A field that is absent is zero, and so is everything after a string's
 * NUL: one body per ticket, nothing left to smuggle. */
#include "config.h"
#include "common/ticket.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/cookie.h"
#include "common/hex.h"

#define OFF_SID	    0
#define OFF_CREATED 8
#define OFF_EXPIRES 16
#define OFF_STAMP   24
#define OFF_NODE    32
#define OFF_FLAGS   33
#define OFF_ZERO    34
#define OFF_V4	    35
#define OFF_V6	    39
#define OFF_USER    55
#define OFF_GROUPS  (OFF_USER + TICKET_USER_MAX)
#define F_HAVE4	    0x01u
#define F_HAVE6	    0x02u
#define F_STAMP	    0x04u

_Static_assert(OFF_GROUPS + TICKET_GROUPS_MAX == TICKET_BODY_LEN, "ticket body layout");
_Static_assert(TICKET_LEN % 3 == 0, "the text form has no padding bits");
_Static_assert(COOKIE_B64_LEN(TICKET_LEN) == TICKET_TEXT_LEN, "ticket text length");

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A string field: NUL inside the array, no control byte before it, only
 * zeros after it, non-empty unless empty_ok. */
static bool str_field_ok(const uint8_t *p, size_t size, bool empty_ok)
{
	const uint8_t *nul = memchr(p, 0, size);

	if (!nul || (nul == p && !empty_ok))
		return false;
	for (const uint8_t *q = p; q < nul; q++)
		if (*q < 0x20 || *q == 0x7f)
			return false;
	for (const uint8_t *q = nul; q < p + size; q++)
		if (*q)
			return false;
	return true;
}

static bool zeros(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int body_make(const struct ticket *t, uint8_t b[TICKET_BODY_LEN])
{
	size_t ul = strnlen(t->user, sizeof(t->user)), gl = strnlen(t->groups, sizeof(t->groups));

	memset(b, 0, TICKET_BODY_LEN);
	if (ul == 0 || ul >= sizeof(t->user) || gl >= sizeof(t->groups) ||
	    t->node != (uint8_t)(t->sid >> 56))
		return -EINVAL;
	put64(b + OFF_SID, t->sid);
	put64(b + OFF_CREATED, (uint64_t)t->created);
	put64(b + OFF_EXPIRES, (uint64_t)t->expires);
	put64(b + OFF_STAMP, t->have_stamp ? t->stamp : 0);
	b[OFF_NODE] = t->node;
	b[OFF_FLAGS] = (uint8_t)((t->have4 ? F_HAVE4 : 0) | (t->have6 ? F_HAVE6 : 0) |
				 (t->have_stamp ? F_STAMP : 0));
	if (t->have4)
		memcpy(b + OFF_V4, &t->v4, 4);
	if (t->have6)
		memcpy(b + OFF_V6, &t->v6, 16);
	memcpy(b + OFF_USER, t->user, ul);
	memcpy(b + OFF_GROUPS, t->groups, gl);
	/* What the opener will refuse is refused here already. */
	return ticket_body_parse(b, &(struct ticket){0}) == 0 ? 0 : -EINVAL;
}

int ticket_body_parse(const uint8_t b[TICKET_BODY_LEN], struct ticket *t)
{
	uint8_t f = b[OFF_FLAGS];

	memset(t, 0, sizeof(*t));
	if ((f & ~(F_HAVE4 | F_HAVE6 | F_STAMP)) || b[OFF_ZERO] ||
	    b[OFF_NODE] != b[OFF_SID] /* the sid's top byte */ ||
	    (!(f & F_HAVE4) && !zeros(b + OFF_V4, 4)) ||
	    (!(f & F_HAVE6) && !zeros(b + OFF_V6, 16)) ||
	    (!(f & F_STAMP) && !zeros(b + OFF_STAMP, 8)) ||
	    !str_field_ok(b + OFF_USER, TICKET_USER_MAX, false) ||
	    !str_field_ok(b + OFF_GROUPS, TICKET_GROUPS_MAX, true))
		return -EBADMSG;
	t->sid = get64(b + OFF_SID);
	t->created = (int64_t)get64(b + OFF_CREATED);
	t->expires = (int64_t)get64(b + OFF_EXPIRES);
	if (t->created <= 0 || t->expires < t->created) {
		memset(t, 0, sizeof(*t));
		return -EBADMSG;
	}
	t->node = b[OFF_NODE];
	t->have4 = f & F_HAVE4;
	t->have6 = f & F_HAVE6;
	t->have_stamp = f & F_STAMP;
	t->stamp = get64(b + OFF_STAMP);
	memcpy(&t->v4, b + OFF_V4, 4);
	memcpy(&t->v6, b + OFF_V6, 16);
	memcpy(t->user, b + OFF_USER, TICKET_USER_MAX);
	memcpy(t->groups, b + OFF_GROUPS, TICKET_GROUPS_MAX);
	return 0;
}

/* An AES-256-GCM handle for key k; 0 or a GnuTLS error. */
static int aead(const struct ticket_key *k, gnutls_aead_cipher_hd_t *h)
{
	gnutls_datum_t d = {(unsigned char *)k->key, TICKET_KEY_LEN};

	return gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &d);
}

int ticket_seal(const struct ticket_keys *ks, const struct ticket *t, uint8_t out[TICKET_LEN])
{
	const struct ticket_key *k = ks->n ? &ks->k[ks->n - 1] : NULL;
	uint8_t body[TICKET_BODY_LEN];
	size_t clen = TICKET_BODY_LEN + TICKET_TAG_LEN;
	gnutls_aead_cipher_hd_t h;
	int r;

	memset(out, 0, TICKET_LEN);
	if (!k || ks->n > TICKET_MAX_KEYS || body_make(t, body) < 0) {
		explicit_bzero(body, sizeof(body));
		return -EINVAL;
	}
	out[0] = TICKET_VERSION;
	out[1] = k->id;
	r = gnutls_rnd(GNUTLS_RND_NONCE, out + 2, TICKET_NONCE_LEN);
	if (r == 0 && (r = aead(k, &h)) == 0) {
		/* The version and the key id are authenticated, not secret. */
		r = gnutls_aead_cipher_encrypt(h, out + 2, TICKET_NONCE_LEN, out, 2, TICKET_TAG_LEN,
					       body, sizeof(body), out + TICKET_HDR_LEN, &clen);
		gnutls_aead_cipher_deinit(h);
	}
	explicit_bzero(body, sizeof(body));
	if (r < 0 || clen != TICKET_BODY_LEN + TICKET_TAG_LEN) {
		memset(out, 0, TICKET_LEN);
		return -EIO;
	}
	return 0;
}

int ticket_open(const struct ticket_keys *ks, const uint8_t *in, size_t len, struct ticket *t)
{
	const struct ticket_key *k = NULL;
	uint8_t body[TICKET_BODY_LEN];
	size_t plen = sizeof(body);
	gnutls_aead_cipher_hd_t h;
	int r = -1;

	memset(t, 0, sizeof(*t));
	if (len != TICKET_LEN || in[0] != TICKET_VERSION)
		return -EBADMSG;
	for (unsigned i = 0; i < ks->n && i < TICKET_MAX_KEYS; i++)
		if (ks->k[i].id == in[1])
			k = &ks->k[i];
	if (!k)
		return -EBADMSG;
	if (aead(k, &h) == 0) {
		r = gnutls_aead_cipher_decrypt(h, in + 2, TICKET_NONCE_LEN, in, 2, TICKET_TAG_LEN,
					       in + TICKET_HDR_LEN,
					       TICKET_BODY_LEN + TICKET_TAG_LEN, body, &plen);
		gnutls_aead_cipher_deinit(h);
	}
	if (r == 0 && plen == sizeof(body))
		r = ticket_body_parse(body, t);
	else
		r = -EBADMSG;
	explicit_bzero(body, sizeof(body));
	return r < 0 ? -EBADMSG : 0;
}

void ticket_encode(const uint8_t tok[TICKET_LEN], char out[TICKET_TEXT_LEN + 1])
{
	cookie_b64_encode(tok, TICKET_LEN, out);
}

int ticket_decode(const char *s, size_t len, uint8_t tok[TICKET_LEN])
{
	return cookie_b64_decode(s, len, tok, TICKET_LEN);
}

/* ---- the key file ------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static int
key_fail(struct ticket_keys *out, char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	explicit_bzero(out, sizeof(*out));
	if (err && errlen) {
		n = snprintf(err, errlen, "%s", name);
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* One line's "ID KEY" (comments and blanks stripped by the caller) into
 * *k: NULL, or what is wrong. */
static const char *key_line(const char *p, const char *end, struct ticket_key *k)
{
	unsigned id = 0;
	size_t digits = 0;

	for (; p < end && *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
		id = id * 10 + (unsigned)(*p - '0');
	if (digits == 0 || digits > 3 || id < 1 || id > 255 || p == end ||
	    (*p != ' ' && *p != '\t'))
		return "expected \"ID KEY\": a key id 1..255, a blank, 64 hex digits";
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (end - p != 2 * TICKET_KEY_LEN)
		return "the key must be 64 hex digits (32 random bytes: openssl rand -hex 32)";
	for (size_t i = 0; i < TICKET_KEY_LEN; i++) {
		int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return "the key must be 64 hex digits (32 random bytes: openssl rand -hex "
			       "32)";
		k->key[i] = (uint8_t)(hi << 4 | lo);
	}
	k->id = (uint8_t)id;
	return NULL;
}

int ticket_keys_parse(const char *text, size_t len, const char *name, struct ticket_keys *out,
		      char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *stop, *why, *q;
		struct ticket_key k;

		eol = eol ? eol : end;
		line++;
		stop = memchr(p, '#', (size_t)(eol - p));
		stop = stop ? stop : eol;
		for (q = p; q < stop && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q == stop) {
			p = eol + (eol < end);
			continue;
		}
		if (memchr(p, '\0', (size_t)(eol - p)))
			return key_fail(out, err, errlen, name, ":%u: a NUL byte", line);
		if ((why = key_line(q, stop, &k)) != NULL) {
			explicit_bzero(&k, sizeof(k));
			return key_fail(out, err, errlen, name, ":%u: %s", line, why);
		}
		for (unsigned i = 0; i < out->n; i++)
			if (out->k[i].id == k.id) {
				unsigned id = k.id;
				explicit_bzero(&k, sizeof(k));
				return key_fail(out, err, errlen, name,
						":%u: key id %u is used twice", line, id);
			}
		if (out->n == TICKET_MAX_KEYS) {
			explicit_bzero(&k, sizeof(k));
			return key_fail(out, err, errlen, name, ":%u: more than %d keys", line,
					TICKET_MAX_KEYS);
		}
		out->k[out->n++] = k;
		explicit_bzero(&k, sizeof(k));
		p = eol + (eol < end);
	}
	if (out->n == 0)
		return key_fail(out, err, errlen, name,
				": no key (lines \"ID KEY\": a key id 1..255 and 64 hex digits)");
	return 0;
}
