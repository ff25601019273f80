/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DTLS side of the two hand-written protocol clients (bench/tunneld-load
 * and tests/hostile/hostile), in PSK-NEGOTIATE mode as openconnect 9.x
 * speaks it (PROTOCOL.md section 6): what the CONNECT answer offers, the
 * key from the TLS session, and a GnuTLS DTLS 1.2 PSK client session whose
 * ClientHello carries the App-ID as its session id.  Like tclient.h, no
 * code of the server's (common/) is used. */
#ifndef TUNNELD_TDTLS_H
#define TUNNELD_TDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#define TC_DTLS_ID_MAX	  32 /* bytes of an App-ID */
#define TC_DTLS_PSK_LEN	  32
#define TC_DTLS_HELLO_SID 60 /* offset of the session id in a first ClientHello datagram */

/* Record types inside DTLS: the CSTP types, one byte before the payload. */
enum tc_dtls_type {
	TC_DTLS_DATA = 0x00,
	TC_DTLS_DPD_REQ = 0x03,
	TC_DTLS_DPD_RESP = 0x04,
	TC_DTLS_KEEPALIVE = 0x07,
};

/* What a CONNECT answer offers. */
struct tc_dtls_offer {
	uint16_t port; /* X-DTLS-Port; 0: no DTLS */
	uint8_t id[TC_DTLS_ID_MAX];
	size_t id_len;	   /* X-DTLS-App-ID, in bytes */
	bool psk;	   /* X-DTLS-CipherSuite: PSK-NEGOTIATE */
	unsigned base_mtu; /* X-CSTP-Base-MTU, 0 if absent */
	unsigned dpd;	   /* X-DTLS-DPD, 0 if absent */
};

/* Read the DTLS headers of a CONNECT answer's head (head[0..len), header
 * lines separated by CRLF).  0 when it offers PSK-NEGOTIATE DTLS (a port,
 * an App-ID and the suite), else -1 (o says what was there). */
int tc_dtls_parse(const char *head, size_t len, struct tc_dtls_offer *o);

/* The pre-shared key: the TLS session's RFC 5705 exporter with the label
 * "EXPORTER-openconnect-psk" and no context.  0 or a GnuTLS error. */
int tc_dtls_psk(gnutls_session_t tls, uint8_t key[TC_DTLS_PSK_LEN]);

/* A non-blocking DTLS 1.2 PSK client session over fd (a connected UDP
 * socket), configured as openconnect's GnuTLS build does it: priority
 * NONE:+VERS-DTLS1.2 with the AEAD PSK suites, its extensions but no
 * extended master secret, session id = the App-ID, identity "psk", the link MTU mtu (IP and UDP
 * headers included), retransmits after 1 s, gives up after timeout_ms.  The credentials in *cred
 * must outlive the session (free them after gnutls_deinit).  0 or a GnuTLS error. */
int tc_dtls_session(gnutls_session_t *s, gnutls_psk_client_credentials_t *cred, int fd,
		    const struct tc_dtls_offer *o, const uint8_t key[TC_DTLS_PSK_LEN], unsigned mtu,
		    unsigned timeout_ms);

/* The first flight of such a session for App-ID id (id_len bytes) into
 * out: one datagram, the ClientHello, with the session id at
 * TC_DTLS_HELLO_SID when id_len is 32.  0 or -1. */
int tc_dtls_hello(uint8_t *out, size_t cap, size_t *len, const uint8_t *id, size_t id_len);

#endif
