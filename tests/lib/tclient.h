/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers of the two hand-written protocol clients, the load
 * generator (bench/) and the hostile client (tests/hostile/).  Like them,
 * they do not use common/: a second implementation of the protocol tests
 * the first, so nothing here comes from the server's code. */
#ifndef TUNNELD_TCLIENT_H
#define TUNNELD_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time and waiting ---------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds and in milliseconds. */
uint64_t now_ns(void);
int64_t now_ms(void);
/* Wait until fd is ready for events (POLLIN, POLLOUT) or the deadline
 * (ms on now_ms's clock) passes.  0, -ETIMEDOUT or -errno. */
int wait_fd(int fd, short events, int64_t deadline);

/* ---- the login's XML ----------------------------------------------------- */

/* s with & < > " written as entities, cut to fit out (cap bytes). */
void xml_escape(const char *s, char *out, size_t cap);

/* ---- CONNECT ------------------------------------------------------------- */

struct tc_connect {
	const char *host;     /* Host: */
	const char *agent;    /* User-Agent: */
	const char *cookie;   /* the webvpn cookie; NULL: no Cookie header */
	const char *hostname; /* X-CSTP-Hostname: */
	unsigned mtu;	      /* X-CSTP-MTU: */
	bool ipv4_only;	      /* ask for no IPv6 address */
	bool dtls;	      /* offer DTLS as openconnect 9.01 does (PSK-NEGOTIATE first) */
};

/* The CONNECT request that opens the tunnel, with the headers openconnect
 * sends (with dtls: a random X-DTLS-Master-Secret and its suite lists).
 * Its length, or -1 when it does not fit in cap bytes. */
int tc_connect_request(char *out, size_t cap, const struct tc_connect *r);

/* ---- CSTP frames ---------------------------------------------------------- */

#define TC_CSTP_HDR 8 /* "STF\x01", length (16 bits, big-endian), type, 0 */

enum tc_cstp_type {
	TC_DATA = 0x00,
	TC_DPD_REQ = 0x03,
	TC_DPD_RESP = 0x04,
	TC_DISCONNECT = 0x05,
	TC_KEEPALIVE = 0x07,
	TC_COMPRESSED = 0x08,
	TC_TERMINATE = 0x09,
};

/* Write the header of a frame with len payload bytes (len < 65536). */
void tc_cstp_header(uint8_t *out, uint8_t type, size_t len);
/* Whether a header (at least 4 bytes) starts with the CSTP magic. */
bool tc_cstp_magic(const uint8_t *h);
/* The whole length (header and payload) of the frame whose header is h. */
size_t tc_cstp_frame_len(const uint8_t *h);

#endif
