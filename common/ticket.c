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
 * Version 2 adds the RADIUS grant after them (offsets from 375):
 *   0 deadline (8)  8 have (4)  12 session timeout (4)  16 idle timeout (4)
 *   20 interim (4)  24 routes (1)  25 Class length (1)
 *   26 160 bytes: the routes, packed (family 4 or 6 (1), prefix length
 *      (1), address (4 or 16)), then Class, then zeros
 * A field that is absent is zero, and so is everything after a string's
 * NUL, a route past the count and Class past its length: one body per
 * ticket, nothing left to smuggle. */
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
#define OFF_RAD	    TICKET_BODY_V1_LEN
#define R_DEADLINE  0
#define R_HAVE	    8
#define R_SESSION   12
#define R_IDLE	    16
#define R_INTERIM   20
#define R_NROUTES   24
#define R_CLASSLEN  25
#define R_AREA	    26
#define F_HAVE4	    0x01u
#define F_HAVE6	    0x02u
#define F_STAMP	    0x04u

_Static_assert(OFF_GROUPS + TICKET_GROUPS_MAX == TICKET_BODY_V1_LEN, "ticket body layout");
_Static_assert(R_AREA + TICKET_RAD_AREA == TICKET_RAD_LEN, "ticket grant layout");
_Static_assert(TICKET_V1_LEN % 3 == 0 && TICKET_V2_LEN % 3 == 0,
	       "the text form has no padding bits");
_Static_assert(COOKIE_B64_LEN(TICKET_V1_LEN) == TICKET_V1_TEXT_LEN &&
		   COOKIE_B64_LEN(TICKET_V2_LEN) == TICKET_V2_TEXT_LEN,
	       "ticket text length");

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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

/* The bytes a route takes in the packed area. */
static size_t route_size(const struct ticket_route *r)
{
	return r->family == 4 ? 6 : 18;
}

bool ticket_rad_fits(const struct ticket_rad *r)
{
	size_t used = 0;

	if (r->n_routes > TICKET_ROUTES_MAX || r->class_len > TICKET_CLASS_MAX)
		return false;
	for (unsigned i = 0; i < r->n_routes; i++)
		used += route_size(&r->routes[i]);
	return used + r->class_len <= TICKET_RAD_AREA;
}

static void rad_make(const struct ticket_rad *r, uint8_t *b)
{
	uint8_t *q = b + R_AREA;

	put64(b + R_DEADLINE, (uint64_t)r->deadline);
	put32(b + R_HAVE, r->have);
	put32(b + R_SESSION, r->session_timeout);
	put32(b + R_IDLE, r->idle_timeout);
	put32(b + R_INTERIM, r->interim);
	b[R_NROUTES] = r->n_routes;
	b[R_CLASSLEN] = (uint8_t)r->class_len;
	for (unsigned i = 0; i < r->n_routes; i++) {
		q[0] = r->routes[i].family;
		q[1] = r->routes[i].len;
		memcpy(q + 2, r->routes[i].addr, route_size(&r->routes[i]) - 2);
		q += route_size(&r->routes[i]);
	}
	memcpy(q, r->class_buf, r->class_len);
}

/* The body of t into b; its length, or -EINVAL. */
static int body_make(const struct ticket *t, uint8_t b[TICKET_BODY_V2_LEN])
{
	size_t ul = strnlen(t->user, sizeof(t->user)), gl = strnlen(t->groups, sizeof(t->groups));
	size_t len = t->have_rad ? TICKET_BODY_V2_LEN : TICKET_BODY_V1_LEN;

	memset(b, 0, TICKET_BODY_V2_LEN);
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
	if (t->have_rad) {
		if (!ticket_rad_fits(&t->rad))
			return -EINVAL;
		for (unsigned i = 0; i < t->rad.n_routes; i++)
			if (t->rad.routes[i].family == 4 && !zeros(t->rad.routes[i].addr + 4, 12))
				return -EINVAL; /* bytes the ticket would drop */
		rad_make(&t->rad, b + OFF_RAD);
	}
	/* What the opener will refuse is refused here already. */
	return ticket_body_parse(b, len, &(struct ticket){0}) == 0 ? (int)len : -EINVAL;
}

/* The grant at b into *r: 0, or -EBADMSG when a count or a length is out
 * of range or an unused byte is not zero. */
static int rad_parse(const uint8_t *b, struct ticket_rad *r)
{
	unsigned n = b[R_NROUTES], cl = b[R_CLASSLEN];
	const uint8_t *q = b + R_AREA, *end = b + R_AREA + TICKET_RAD_AREA;

	if (n > TICKET_ROUTES_MAX || cl > TICKET_CLASS_MAX || (int64_t)get64(b + R_DEADLINE) < 0)
		return -EBADMSG;
	for (unsigned i = 0; i < n; i++) {
		struct ticket_route *rt = &r->routes[i];
		size_t sz = q[0] == 4 ? 6 : 18;

		if ((q[0] != 4 && q[0] != 6) || (size_t)(end - q) < sz ||
		    q[1] > (q[0] == 4 ? 32 : 128))
			return -EBADMSG;
		rt->family = q[0];
		rt->len = q[1];
		memcpy(rt->addr, q + 2, sz - 2);
		q += sz;
	}
	if ((size_t)(end - q) < cl || !zeros(q + cl, (size_t)(end - q) - cl))
		return -EBADMSG;
	r->deadline = (int64_t)get64(b + R_DEADLINE);
	r->have = get32(b + R_HAVE);
	r->session_timeout = get32(b + R_SESSION);
	r->idle_timeout = get32(b + R_IDLE);
	r->interim = get32(b + R_INTERIM);
	r->n_routes = (uint8_t)n;
	r->class_len = (uint16_t)cl;
	memcpy(r->class_buf, q, cl);
	return 0;
}

int ticket_body_parse(const uint8_t *b, size_t len, struct ticket *t)
{
	uint8_t f;

	memset(t, 0, sizeof(*t));
	if (len != TICKET_BODY_V1_LEN && len != TICKET_BODY_V2_LEN)
		return -EBADMSG;
	f = b[OFF_FLAGS];
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
	if (t->created <= 0 || t->expires < t->created ||
	    (len == TICKET_BODY_V2_LEN && rad_parse(b + OFF_RAD, &t->rad) < 0)) {
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
	t->have_rad = len == TICKET_BODY_V2_LEN;
	return 0;
}

/* An AES-256-GCM handle for key k; 0 or a GnuTLS error. */
static int aead(const struct ticket_key *k, gnutls_aead_cipher_hd_t *h)
{
	gnutls_datum_t d = {(unsigned char *)k->key, TICKET_KEY_LEN};

	return gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &d);
}

int ticket_seal(const struct ticket_keys *ks, const struct ticket *t, uint8_t out[TICKET_MAX_LEN])
{
	const struct ticket_key *k = ks->n ? &ks->k[ks->n - 1] : NULL;
	uint8_t body[TICKET_BODY_V2_LEN];
	int blen = -EINVAL;
	size_t clen;
	gnutls_aead_cipher_hd_t h;
	int r;

	memset(out, 0, TICKET_MAX_LEN);
	if (!k || ks->n > TICKET_MAX_KEYS || (blen = body_make(t, body)) < 0) {
		explicit_bzero(body, sizeof(body));
		return -EINVAL;
	}
	clen = (size_t)blen + TICKET_TAG_LEN;
	out[0] = t->have_rad ? TICKET_V2 : TICKET_V1;
	out[1] = k->id;
	r = gnutls_rnd(GNUTLS_RND_NONCE, out + 2, TICKET_NONCE_LEN);
	if (r == 0 && (r = aead(k, &h)) == 0) {
		/* The version and the key id are authenticated, not secret. */
		r = gnutls_aead_cipher_encrypt(h, out + 2, TICKET_NONCE_LEN, out, 2, TICKET_TAG_LEN,
					       body, (size_t)blen, out + TICKET_HDR_LEN, &clen);
		gnutls_aead_cipher_deinit(h);
	}
	explicit_bzero(body, sizeof(body));
	if (r < 0 || clen != (size_t)blen + TICKET_TAG_LEN) {
		memset(out, 0, TICKET_MAX_LEN);
		return -EIO;
	}
	return TICKET_HDR_LEN + (int)clen;
}

int ticket_open(const struct ticket_keys *ks, const uint8_t *in, size_t len, struct ticket *t)
{
	const struct ticket_key *k = NULL;
	uint8_t body[TICKET_BODY_V2_LEN];
	size_t blen, plen = sizeof(body);
	gnutls_aead_cipher_hd_t h;
	int r = -1;

	memset(t, 0, sizeof(*t));
	if (len == TICKET_V1_LEN && in[0] == TICKET_V1)
		blen = TICKET_BODY_V1_LEN;
	else if (len == TICKET_V2_LEN && in[0] == TICKET_V2)
		blen = TICKET_BODY_V2_LEN;
	else
		return -EBADMSG;
	for (unsigned i = 0; i < ks->n && i < TICKET_MAX_KEYS; i++)
		if (ks->k[i].id == in[1])
			k = &ks->k[i];
	if (!k)
		return -EBADMSG;
	if (aead(k, &h) == 0) {
		r = gnutls_aead_cipher_decrypt(h, in + 2, TICKET_NONCE_LEN, in, 2, TICKET_TAG_LEN,
					       in + TICKET_HDR_LEN, blen + TICKET_TAG_LEN, body,
					       &plen);
		gnutls_aead_cipher_deinit(h);
	}
	if (r == 0 && plen == blen)
		r = ticket_body_parse(body, blen, t);
	else
		r = -EBADMSG;
	explicit_bzero(body, sizeof(body));
	return r < 0 ? -EBADMSG : 0;
}

void ticket_encode(const uint8_t *tok, size_t len, char out[TICKET_MAX_TEXT_LEN + 1])
{
	cookie_b64_encode(tok, len, out);
}

int ticket_decode(const char *s, size_t len, uint8_t tok[TICKET_MAX_LEN])
{
	size_t n = len == TICKET_V1_TEXT_LEN   ? TICKET_V1_LEN
		   : len == TICKET_V2_TEXT_LEN ? TICKET_V2_LEN
					       : 0;

	if (!n || cookie_b64_decode(s, len, tok, n) < 0)
		return -EINVAL;
	return (int)n;
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
