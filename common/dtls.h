/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DTLS channel's pure parts (PROTOCOL.md section 6, FIELD.md sections 2
 * and 5): finding the App-ID in a first datagram, choosing the DTLS mode and
 * suite from what a client offers, and the tunnel MTU that fits a datagram.
 * Buffers in, answers out: used by the worker, unit-tested and fuzzed. */
#ifndef TUNNELD_DTLS_H
#define TUNNELD_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The App-ID (PSK mode) or Session-ID (legacy mode) the server hands out in
 * its CONNECT answer; the client sends it back as the session id of its
 * ClientHello, which is how a datagram finds its session. */
#define DTLS_ID_LEN 32
/* Its layout: who issued it, so that a balancer, a reuseport program or a
 * worker can send a ClientHello to its session's owner without state. */
#define DTLS_ID_NODE   0 /* node id (session.node-id) */
#define DTLS_ID_WORKER 1 /* worker index on that node */
#define DTLS_ID_SLOT   2 /* 3 bytes, big-endian: the connection's slot */
#define DTLS_ID_RANDOM 5 /* the rest: random, compared in constant time */

/* Offsets in a first datagram: record header (13), handshake header (12),
 * client_version (2), random (32), then the session id's length byte. */
#define DTLS_HELLO_SID_LEN_OFF 59
#define DTLS_HELLO_SID_OFF     60

/* Record content types. */
enum dtls_content {
	DTLS_CT_CCS = 20,
	DTLS_CT_ALERT = 21,
	DTLS_CT_HANDSHAKE = 22,
	DTLS_CT_APPDATA = 23,
};

/* If d[0..n) starts with a DTLS 1.0/1.2 handshake record holding the first
 * fragment of a ClientHello whose session id is DTLS_ID_LEN bytes, point
 * *id at that id and return 0; otherwise -1.  Nothing beyond n is read. */
int dtls_hello_id(const uint8_t *d, size_t n, const uint8_t **id);

/* Whether d[0..n) starts with a plausible DTLS record header: a known
 * content type, a DTLS version (0xfeff, 0xfefd, or Cisco's 0x0100) and a
 * length that fits n. */
bool dtls_record_plausible(const uint8_t *d, size_t n);

enum dtls_mode {
	DTLS_MODE_NONE = 0, /* nothing we can offer: TLS only */
	DTLS_MODE_PSK,	    /* PSK-NEGOTIATE: key from the TLS exporter */
	DTLS_MODE_LEGACY,   /* Cisco: resume X-DTLS-Master-Secret + our Session-ID */
};

enum dtls_cipher {
	DTLS_AES128_GCM,
	DTLS_AES256_GCM,
	DTLS_CHACHA20_POLY1305,
};

/* The key exchange a legacy suite name stands for: the resumed session
 * must claim the suite the client set up, though no key is exchanged. */
enum dtls_kx {
	DTLS_KX_RSA,
	DTLS_KX_ECDHE_RSA,
	DTLS_KX_ECDHE_ECDSA,
};

struct dtls_choice {
	enum dtls_mode mode;
	enum dtls_kx kx;
	/* Legacy mode: the suite chosen, the name to answer with (one the
	 * client listed) and in which header (X-DTLS12-CipherSuite or
	 * X-DTLS-CipherSuite). */
	enum dtls_cipher cipher;
	const char *name;
	bool dtls12_header;
};

/* What the client offered in its CONNECT: the X-DTLS-CipherSuite and
 * X-DTLS12-CipherSuite values (colon lists, not NUL-terminated) and
 * whether a 48-byte X-DTLS-Master-Secret came with them. */
struct dtls_offer {
	const char *suites;
	size_t suites_len;
	const char *suites12;
	size_t suites12_len;
	bool have_master;
};

/* Choose the mode: PSK-NEGOTIATE when the client offers it and legacy is not
 * preferred (prefer_legacy: a Cisco client under dtls.cisco-compat, whose
 * PSK support is not to be trusted); else a legacy suite we support, only
 * ever a name from the client's own list (openconnect rejects others), in
 * our order of preference: AES-GCM first. */
void dtls_choose(const struct dtls_offer *o, bool prefer_legacy, struct dtls_choice *out);

/* The largest IP packet that fits one datagram: the path's MTU (the
 * client's X-CSTP-Base-MTU, bounded by ours) less the IP (20 or 40) and UDP
 * (8) headers, the DTLS 1.2 record overhead of the cipher and the one-byte
 * type header.  0 when nothing fits. */
/* Whether a User-Agent is Cisco's client (Cisco Secure Client, AnyConnect
 * on any platform) rather than openconnect, which since 9.20 calls itself
 * "AnyConnect-compatible OpenConnect".  ua[0..n), not NUL-terminated. */
bool dtls_cisco_agent(const char *ua, size_t n);

unsigned dtls_tunnel_mtu(unsigned base_mtu, bool ipv6, enum dtls_cipher c);
/* What a datagram adds to a tunnel packet: base_mtu - tunnel MTU. */
unsigned dtls_overhead(bool ipv6, enum dtls_cipher c);

#endif
