/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 5176 Disconnect and CoA packets, the NAS's side: checking a
 * request's framing and authenticators with the shared secret, and
 * writing the ACK or NAK.  radcli is a client library: it parses
 * attributes (rc_avpair_gen, used by coa.c once a request is proven
 * authentic) but neither checks a request's Request Authenticator nor
 * writes a response, so these few lines do, with GnuTLS's MD5 and
 * HMAC-MD5.  Pure (no state, no log), so the unit tests and a fuzzer
 * drive it with buffers. */
#ifndef TUNNELD_COAPKT_H
#define TUNNELD_COAPKT_H

#include <stddef.h>
#include <stdint.h>

#define COA_HDR_LEN 20
#define COA_MAX_LEN 4096

/* Packet codes (RFC 5176 section 3). */
enum coa_code {
	COA_DISCONNECT_REQUEST = 40,
	COA_DISCONNECT_ACK = 41,
	COA_DISCONNECT_NAK = 42,
	COA_REQUEST = 43,
	COA_ACK = 44,
	COA_NAK = 45,
};

/* Error-Cause values (RFC 5176 section 3.6) tunneld answers with. */
enum coa_error {
	COA_ERR_UNSUPPORTED_ATTRIBUTE = 401,
	COA_ERR_MISSING_ATTRIBUTE = 402,
	COA_ERR_NAS_MISMATCH = 403,
	COA_ERR_INVALID_REQUEST = 404,
	COA_ERR_INVALID_ATTRIBUTE_VALUE = 407,
	COA_ERR_SESSION_NOT_FOUND = 503,
};

/* Check a received datagram of n bytes: a Disconnect-Request or a
 * CoA-Request, its length field within n (bytes past it are padding and
 * ignored), attributes that add up to it, and a Request Authenticator (and
 * Message-Authenticator, if present) made with secret.  0; -EBADMSG when
 * it is no such packet (err says why); -EPERM when an authenticator is
 * wrong (the wrong secret, or forged).  *len receives the packet's
 * length. */
int coa_check(const uint8_t *pkt, size_t n, const char *secret, size_t *len, const char **err);

/* Walk the attributes of a checked packet: the first call with *off = 0;
 * true with the attribute's type, value and length, false at the end. */
int coa_next_attr(const uint8_t *pkt, size_t len, size_t *off, uint8_t *type, const uint8_t **val,
		  size_t *vlen);

/* Write into out (cap >= COA_MAX_LEN) the answer to the checked request
 * req (len bytes): code (ACK or NAK), the request's Proxy-State
 * attributes echoed, Error-Cause when error is not 0, a
 * Message-Authenticator when the request had one, and the Response
 * Authenticator.  Its length, or 0 when it does not fit. */
size_t coa_answer(uint8_t *out, size_t cap, const uint8_t *req, size_t len, uint8_t code,
		  uint32_t error, const char *secret);

/* Attribute types this file needs. */
#define COA_ATTR_PROXY_STATE	 33
#define COA_ATTR_ERROR_CAUSE	 101
#define COA_ATTR_MESSAGE_AUTH	 80
#define COA_ATTR_EVENT_TIMESTAMP 55

#endif
