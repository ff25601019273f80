/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 5176 packets, the NAS's side (see coapkt.h).  Owns nothing.
 *
 * A request's authenticators, as its sender made them: the
 * Message-Authenticator (when present) is HMAC-MD5 over the packet with
 * the Authenticator field and its own value zeroed; the Request
 * Authenticator is then MD5 over the packet with the Authenticator field
 * zeroed, followed by the secret.  An answer's Message-Authenticator is
 * HMAC-MD5 over the answer with the request's authenticator in the field,
 * and its Response Authenticator MD5 over the same with the secret after
 * it. */
#include "config.h"
#include "daemon/coapkt.h"

#include <errno.h>
#include <string.h>
#include <gnutls/crypto.h>

#define AUTH_OFF 4
#define AUTH_LEN 16

static int md5(const uint8_t *pkt, size_t len, const char *secret, uint8_t out[AUTH_LEN])
{
	uint8_t buf[COA_MAX_LEN + 256];
	size_t sl = strlen(secret);
	int r;

	if (len + sl > sizeof(buf))
		return -1;
	memcpy(buf, pkt, len);
	memcpy(buf + len, secret, sl);
	r = gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + sl, out);
	explicit_bzero(buf + len, sl);
	return r < 0 ? -1 : 0;
}

static int hmac(const uint8_t *pkt, size_t len, const char *secret, uint8_t out[AUTH_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), pkt, len, out) < 0 ? -1 : 0;
}

/* Constant time: the comparison must not tell how much of a guess was
 * right. */
static int differ(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d != 0;
}

int coa_next_attr(const uint8_t *pkt, size_t len, size_t *off, uint8_t *type, const uint8_t **val,
		  size_t *vlen)
{
	size_t o = *off ? *off : COA_HDR_LEN;

	if (o + 2 > len || pkt[o + 1] < 2 || o + pkt[o + 1] > len)
		return 0;
	*type = pkt[o];
	*val = pkt + o + 2;
	*vlen = pkt[o + 1] - 2u;
	*off = o + pkt[o + 1];
	return 1;
}

/* The attributes fill the packet exactly; the offset of the (one)
 * Message-Authenticator in *ma, 0 when there is none.  0 or -1. */
static int walk(const uint8_t *pkt, size_t len, size_t *ma, const char **err)
{
	size_t o = COA_HDR_LEN;

	*ma = 0;
	while (o < len) {
		if (o + 2 > len || pkt[o + 1] < 2 || o + pkt[o + 1] > len) {
			*err = "attributes do not add up to the length";
			return -1;
		}
		if (pkt[o] == 0) {
			*err = "attribute type 0";
			return -1;
		}
		if (pkt[o] == COA_ATTR_MESSAGE_AUTH) {
			if (pkt[o + 1] != 2 + AUTH_LEN || *ma) {
				*err = "a bad Message-Authenticator";
				return -1;
			}
			*ma = o;
		}
		o += pkt[o + 1];
	}
	return 0;
}

int coa_check(const uint8_t *pkt, size_t n, const char *secret, size_t *len, const char **err)
{
	uint8_t copy[COA_MAX_LEN], want[AUTH_LEN];
	size_t l, ma;

	*err = NULL;
	if (n < COA_HDR_LEN) {
		*err = "shorter than a header";
		return -EBADMSG;
	}
	if (pkt[0] != COA_DISCONNECT_REQUEST && pkt[0] != COA_REQUEST) {
		*err = "neither a Disconnect-Request nor a CoA-Request";
		return -EBADMSG;
	}
	l = (size_t)pkt[2] << 8 | pkt[3];
	if (l < COA_HDR_LEN || l > COA_MAX_LEN || l > n) {
		*err = "its length field does not fit the datagram";
		return -EBADMSG;
	}
	if (walk(pkt, l, &ma, err) < 0)
		return -EBADMSG;
	memcpy(copy, pkt, l);
	memset(copy + AUTH_OFF, 0, AUTH_LEN);
	if (ma) {
		memset(copy + ma + 2, 0, AUTH_LEN);
		if (hmac(copy, l, secret, want) < 0 || differ(want, pkt + ma + 2, AUTH_LEN)) {
			*err = "wrong Message-Authenticator";
			return -EPERM;
		}
		memcpy(copy + ma + 2, pkt + ma + 2, AUTH_LEN);
	}
	if (md5(copy, l, secret, want) < 0 || differ(want, pkt + AUTH_OFF, AUTH_LEN)) {
		*err = "wrong Request Authenticator";
		return -EPERM;
	}
	*len = l;
	return 0;
}

static int put_attr(uint8_t *out, size_t cap, size_t *o, uint8_t type, const void *v, size_t n)
{
	if (n > 253 || *o + 2 + n > cap || *o + 2 + n > COA_MAX_LEN)
		return -1;
	out[*o] = type;
	out[*o + 1] = (uint8_t)(2 + n);
	memcpy(out + *o + 2, v, n);
	*o += 2 + n;
	return 0;
}

size_t coa_answer(uint8_t *out, size_t cap, const uint8_t *req, size_t len, uint8_t code,
		  uint32_t error, const char *secret)
{
	size_t o = COA_HDR_LEN, off = 0, vlen, ma = 0;
	const uint8_t *val;
	uint8_t type, mac[AUTH_LEN];

	if (cap < COA_HDR_LEN)
		return 0;
	out[0] = code;
	out[1] = req[1];
	memcpy(out + AUTH_OFF, req + AUTH_OFF, AUTH_LEN);
	while (coa_next_attr(req, len, &off, &type, &val, &vlen)) {
		if (type == COA_ATTR_MESSAGE_AUTH)
			ma = 1;
		if (type == COA_ATTR_PROXY_STATE && put_attr(out, cap, &o, type, val, vlen) < 0)
			return 0;
	}
	if (error) {
		uint8_t be[4] = {(uint8_t)(error >> 24), (uint8_t)(error >> 16),
				 (uint8_t)(error >> 8), (uint8_t)error};
		if (put_attr(out, cap, &o, COA_ATTR_ERROR_CAUSE, be, 4) < 0)
			return 0;
	}
	if (ma) {
		ma = o;
		memset(mac, 0, sizeof(mac));
		if (put_attr(out, cap, &o, COA_ATTR_MESSAGE_AUTH, mac, AUTH_LEN) < 0)
			return 0;
	}
	out[2] = (uint8_t)(o >> 8);
	out[3] = (uint8_t)o;
	if (ma && hmac(out, o, secret, out + ma + 2) < 0)
		return 0;
	if (md5(out, o, secret, mac) < 0)
		return 0;
	memcpy(out + AUTH_OFF, mac, AUTH_LEN);
	return o;
}
