/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PROXY protocol header a load balancer puts before a connection's
 * first byte (HAProxy's proxy-protocol.txt, versions 1 and 2), for the
 * workers' listen-proxy connections.  Version 1 is one text line:
 *
 *   "PROXY TCP4 198.18.0.10 198.18.4.11 40000 4443\r\n"  (TCP6, UNKNOWN)
 *
 * at most 107 bytes.  Version 2 is binary: a 12-byte signature, a
 * version/command byte (0x20 LOCAL, 0x21 PROXY), a family/protocol byte
 * (0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x00 unspecified), a 16-bit
 * length, then that many bytes: the addresses and ports, then TLVs, which
 * are skipped.  Buffers in, answers out; unit-tested and fuzzed. */
#ifndef TUNNELD_PROXYPROTO_H
#define TUNNELD_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX  107 /* the longest version 1 line, CRLF included */
#define PROXY_V2_HEAD 16  /* signature, version/command, family, length */
/* Bytes of a whole header accepted at most: version 2 with room for the
 * TLVs a balancer adds (unique id, TLS details); longer ones are refused. */
#define PROXY_MAX 1040

struct proxy_hdr {
	unsigned version; /* 1 or 2 */
	int family;	  /* AF_INET or AF_INET6: src and dst are the client's and ours;
			     AF_UNSPEC: the connection's own addresses stand (version 2
			     LOCAL, such as a balancer's health check, or UNKNOWN) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order */
};

/* Parse the header at the start of buf[0..len).  The length of the whole
 * header (what to skip before the TLS bytes) and *h when buf holds it all;
 * 0 when buf is a true beginning of one and more bytes are needed (every
 * byte so far belongs to the header then); -EBADMSG when it is no PROXY
 * header, or a malformed or oversized one (*why says how, for the log).
 * Never reads beyond len. */
long proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why);

#endif
