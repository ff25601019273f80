/* CSTP framing (PROTOCOL.md section 5) and the checks on IP packets that
 * cross the tunnel.  Pure functions over buffers: used on the worker's data
 * path, unit-tested and fuzzed. */
#ifndef TUNNELD_CSTP_H
#define TUNNELD_CSTP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define CSTP_HDR_LEN	 8
#define CSTP_MAX_PAYLOAD 16376 /* one frame per TLS record of at most 16384 bytes */

enum cstp_type {
	CSTP_DATA = 0x00,
	CSTP_DPD_REQ = 0x03,
	CSTP_DPD_RESP = 0x04,
	CSTP_DISCONNECT = 0x05,
	CSTP_KEEPALIVE = 0x07,
	CSTP_COMPRESSED = 0x08,
	CSTP_TERMINATE = 0x09,
};

enum cstp_err {
	CSTP_NEED_MORE = 0,
	CSTP_EMAGIC = -1,  /* not "STF\x01" */
	CSTP_ETOOBIG = -2, /* length beyond max_payload */
	CSTP_ETYPE = -3,   /* unknown type, or byte 7 not zero */
};

struct cstp_frame {
	uint8_t type;
	uint16_t len;		/* payload length */
	const uint8_t *payload; /* points into the input */
};

/* Parse one frame at the start of buf.  Returns the frame's total length
 * (8 + payload) when complete, CSTP_NEED_MORE (0) for a partial frame, or a
 * negative enum cstp_err.  Header errors are reported as soon as the header
 * bytes that show them have arrived.  Accepted types: DATA, DPD_REQ,
 * DPD_RESP, DISCONNECT, KEEPALIVE, TERMINATE (COMPRESSED is ETYPE: never
 * negotiated). */
int cstp_parse(const uint8_t *buf, size_t len, size_t max_payload, struct cstp_frame *f);

/* Write an 8-byte header. */
void cstp_put_header(uint8_t *out, uint8_t type, uint16_t len);

const char *cstp_strerror(int err);

/* Result of the checks on a packet from a client. */
enum pkt_verdict {
	PKT_OK = 0,
	PKT_MALFORMED = 1, /* not IPv4/IPv6, header too short, bad IHL, length mismatch */
	PKT_SPOOFED = 2,   /* source is not the client's leased address */
	PKT_NOADDR = 3,	   /* family for which the client holds no lease */
};

/* Check a packet the client sent.  v4 / v6 are the client's leases (NULL if
 * none of that family).  On PKT_OK *ip_len is the IP total length (which
 * may be shorter than len: trailing bytes are ignored). */
enum pkt_verdict pkt_check_client(const uint8_t *pkt, size_t len, const struct in_addr *v4,
				  const struct in6_addr *v6, size_t *ip_len);

/* Destination of a packet read from the TUN device.  Returns AF_INET or
 * AF_INET6 and points *dst at the 4 or 16 address bytes, or 0 if the
 * packet is too short / not IP. */
int pkt_dst(const uint8_t *pkt, size_t len, const uint8_t **dst);

#endif
