/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DTLS helpers for the worker's UDP path (common/dtls.h).  Pure: buffers
 * in, answers out; nothing here logs, allocates or keeps state. */
#include "config.h"
#include "common/dtls.h"

#include <string.h>

#define REC_HDR 13 /* type, version, epoch, sequence number, length */
#define HS_HDR	12 /* type, length, message_seq, fragment offset and length */

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned be24(const uint8_t *p)
{
	return (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
}

bool dtls_record_plausible(const uint8_t *d, size_t n)
{
	unsigned v;

	if (n < REC_HDR || d[0] < DTLS_CT_CCS || d[0] > DTLS_CT_APPDATA)
		return false;
	v = be16(d + 1);
	if (v != 0xfeff && v != 0xfefd && v != 0x0100)
		return false;
	return be16(d + 11) <= n - REC_HDR;
}

int dtls_hello_id(const uint8_t *d, size_t n, const uint8_t **id)
{
	size_t rec_len;

	if (n < DTLS_HELLO_SID_OFF + DTLS_ID_LEN || !dtls_record_plausible(d, n) ||
	    d[0] != DTLS_CT_HANDSHAKE)
		return -1;
	rec_len = be16(d + 11);
	/* A ClientHello (1), its first fragment, long enough to hold the id
	 * inside both the record and the fragment. */
	if (d[REC_HDR] != 1 || be24(d + REC_HDR + 6) != 0 ||
	    rec_len < DTLS_HELLO_SID_OFF + DTLS_ID_LEN - REC_HDR ||
	    be24(d + REC_HDR + 9) < DTLS_HELLO_SID_OFF + DTLS_ID_LEN - REC_HDR - HS_HDR)
		return -1;
	/* client_version: DTLS 1.0 or 1.2 */
	if (be16(d + REC_HDR + HS_HDR) != 0xfeff && be16(d + REC_HDR + HS_HDR) != 0xfefd)
		return -1;
	if (d[DTLS_HELLO_SID_LEN_OFF] != DTLS_ID_LEN)
		return -1;
	*id = d + DTLS_HELLO_SID_OFF;
	return 0;
}

/* Legacy suites we can resume, best first, with the names the clients use
 * for them.  The X-DTLS12-CipherSuite names are what Cisco's DTLS 1.2 mode
 * and openconnect list; the OC- names are openconnect's own, in
 * X-DTLS-CipherSuite.  DTLS 0.9 (AES256-SHA and friends) is not offered:
 * GnuTLS has no pre-RFC DTLS. */
static const struct {
	const char *name;
	enum dtls_cipher cipher;
	enum dtls_kx kx;
	bool dtls12_header;
} legacy_suites[] = {
    {"ECDHE-RSA-AES128-GCM-SHA256", DTLS_AES128_GCM, DTLS_KX_ECDHE_RSA, true},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", DTLS_AES128_GCM, DTLS_KX_ECDHE_ECDSA, true},
    {"AES128-GCM-SHA256", DTLS_AES128_GCM, DTLS_KX_RSA, true},
    {"ECDHE-RSA-AES256-GCM-SHA384", DTLS_AES256_GCM, DTLS_KX_ECDHE_RSA, true},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", DTLS_AES256_GCM, DTLS_KX_ECDHE_ECDSA, true},
    {"AES256-GCM-SHA384", DTLS_AES256_GCM, DTLS_KX_RSA, true},
    {"OC-DTLS1_2-AES128-GCM", DTLS_AES128_GCM, DTLS_KX_RSA, false},
    {"OC-DTLS1_2-AES256-GCM", DTLS_AES256_GCM, DTLS_KX_RSA, false},
};

/* Whether the colon list [p, p + n) holds name as one whole entry. */
static bool list_has(const char *p, size_t n, const char *name)
{
	size_t len = strlen(name), i = 0;

	while (i < n) {
		size_t e = i;

		while (e < n && p[e] != ':')
			e++;
		if (e - i == len && memcmp(p + i, name, len) == 0)
			return true;
		i = e + 1;
	}
	return false;
}

void dtls_choose(const struct dtls_offer *o, bool prefer_legacy, struct dtls_choice *out)
{
	bool psk = o->suites && list_has(o->suites, o->suites_len, "PSK-NEGOTIATE");

	memset(out, 0, sizeof(*out));
	if (psk && !prefer_legacy) {
		out->mode = DTLS_MODE_PSK;
		out->cipher = DTLS_AES256_GCM; /* the larger overhead of the AEADs */
		out->name = "PSK-NEGOTIATE";
		return;
	}
	if (o->have_master) {
		for (size_t i = 0; i < sizeof(legacy_suites) / sizeof(legacy_suites[0]); i++) {
			const char *l = legacy_suites[i].dtls12_header ? o->suites12 : o->suites;
			size_t ln =
			    legacy_suites[i].dtls12_header ? o->suites12_len : o->suites_len;

			if (l && list_has(l, ln, legacy_suites[i].name)) {
				out->mode = DTLS_MODE_LEGACY;
				out->cipher = legacy_suites[i].cipher;
				out->kx = legacy_suites[i].kx;
				out->name = legacy_suites[i].name;
				out->dtls12_header = legacy_suites[i].dtls12_header;
				return;
			}
		}
	}
	if (psk) { /* a Cisco-like client that still offers PSK and nothing else */
		out->mode = DTLS_MODE_PSK;
		out->cipher = DTLS_AES256_GCM;
		out->name = "PSK-NEGOTIATE";
	}
}

static bool starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(p, lit, l) == 0;
}

bool dtls_cisco_agent(const char *ua, size_t n)
{
	if (!ua || starts(ua, n, "AnyConnect-compatible OpenConnect"))
		return false;
	return starts(ua, n, "Cisco AnyConnect") || starts(ua, n, "AnyConnect") ||
	       starts(ua, n, "Cisco Secure Client");
}

unsigned dtls_overhead(bool ipv6, enum dtls_cipher c)
{
	/* DTLS 1.2 record: 13-byte header; AES-GCM adds an 8-byte explicit
	 * nonce and a 16-byte tag, ChaCha20-Poly1305 only the tag. */
	return (ipv6 ? 40 : 20) + 8 + 13 + (c == DTLS_CHACHA20_POLY1305 ? 16 : 24) + 1;
}

unsigned dtls_tunnel_mtu(unsigned base_mtu, bool ipv6, enum dtls_cipher c)
{
	unsigned over = dtls_overhead(ipv6, c);

	return base_mtu > over ? base_mtu - over : 0;
}
