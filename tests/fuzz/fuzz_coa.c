/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the RFC 5176 packets of daemon/coapkt.c: what the
 * master does with any datagram to radius.coa-listen (coa_check), then
 * with an authentic one (coa_next_attr, coa_answer).
 *
 * The first byte picks the mode:
 *   0: the rest is the datagram as it came.  Random bytes are authentic
 *      only by chance, so this explores the framing checks.
 *   1: the rest is a datagram whose authenticators the harness makes
 *      right first (when its framing lets it), so the code behind the
 *      check runs too.
 * Checks: a packet is accepted only with a length inside the datagram
 * and attributes that exactly fill it; nothing past that length is read
 * (ASan, on a copy of exactly n bytes); the walk visits every byte of the
 * attributes once; an answer's length field is its length, it keeps the
 * request's Identifier, and it fits the buffer. */
#include "config.h"
#include "daemon/coapkt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "tests/fuzz/fuzz.h"

static const char secret[] = "fuzz-secret";

/* The Request Authenticator (and Message-Authenticator, when one of the
 * right length is present) as a sender would make them. */
static void sign(uint8_t *p, size_t n)
{
	uint8_t buf[COA_MAX_LEN + sizeof(secret)];
	size_t len, o = COA_HDR_LEN, ma = 0;

	if (n < COA_HDR_LEN)
		return;
	len = (size_t)p[2] << 8 | p[3];
	if (len < COA_HDR_LEN || len > n || len > COA_MAX_LEN)
		return;
	memset(p + 4, 0, 16);
	while (o + 2 <= len && p[o + 1] >= 2 && o + p[o + 1] <= len) {
		if (p[o] == COA_ATTR_MESSAGE_AUTH && p[o + 1] == 18 && !ma)
			ma = o;
		o += p[o + 1];
	}
	if (ma) {
		memset(p + ma + 2, 0, 16);
		(void)gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), p, len, p + ma + 2);
	}
	memcpy(buf, p, len);
	memcpy(buf + len, secret, strlen(secret));
	(void)gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + strlen(secret), p + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[COA_MAX_LEN];
	uint8_t *p, type;
	const uint8_t *v;
	const char *why;
	size_t n, len, off = 0, vlen, seen = COA_HDR_LEN, a;

	if (size < 1)
		return 0;
	n = size - 1;
	p = malloc(n ? n : 1); /* exactly n bytes */
	FUZZ_ASSERT(p != NULL);
	memcpy(p, data + 1, n);
	if (data[0] & 1)
		sign(p, n);
	if (coa_check(p, n, secret, &len, &why) == 0) {
		FUZZ_ASSERT(len >= COA_HDR_LEN && len <= n && len <= COA_MAX_LEN);
		FUZZ_ASSERT(p[0] == COA_DISCONNECT_REQUEST || p[0] == COA_REQUEST);
		while (coa_next_attr(p, len, &off, &type, &v, &vlen)) {
			FUZZ_ASSERT(FUZZ_INSIDE(v, vlen, p, len));
			FUZZ_ASSERT(v == p + seen + 2);
			seen += vlen + 2;
		}
		FUZZ_ASSERT(seen == len);
		a = coa_answer(out, sizeof(out), p, len, (uint8_t)(p[0] + 1), p[1], secret);
		FUZZ_ASSERT(a == 0 || (a >= COA_HDR_LEN && a <= sizeof(out)));
		if (a) {
			FUZZ_ASSERT(((size_t)out[2] << 8 | out[3]) == a);
			FUZZ_ASSERT(out[1] == p[1]);
		}
	} else {
		FUZZ_ASSERT(why != NULL);
	}
	free(p);
	return 0;
}
