/* Worker (unprivileged), data path: splits the decrypted TLS stream into
 * CSTP frames and vets the IP packets that cross the tunnel.  Owns nothing;
 * every function is pure over the caller's buffer. */
#include "config.h"
#include "common/cstp.h"

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t cstp_magic[4] = {0x53, 0x54, 0x46, 0x01}; /* "STF", 1 */

static bool type_ok(uint8_t type)
{
	switch (type) {
	case CSTP_DATA:
	case CSTP_DPD_REQ:
	case CSTP_DPD_RESP:
	case CSTP_DISCONNECT:
	case CSTP_KEEPALIVE:
	case CSTP_TERMINATE:
		return true;
	default:
		/* COMPRESSED included: compression is never negotiated. */
		return false;
	}
}

int cstp_parse(const uint8_t *buf, size_t len, size_t max_payload, struct cstp_frame *f)
{
	size_t i, plen;

	/* Each header field is judged as soon as its bytes are in, so a peer
	 * speaking something else is dropped without waiting for more. */
	for (i = 0; i < 4 && i < len; i++)
		if (buf[i] != cstp_magic[i])
			return CSTP_EMAGIC;
	if (len < 6)
		return CSTP_NEED_MORE;
	plen = (size_t)buf[4] << 8 | buf[5];
	if (plen > max_payload)
		return CSTP_ETOOBIG;
	if (len < 7)
		return CSTP_NEED_MORE;
	if (!type_ok(buf[6]))
		return CSTP_ETYPE;
	if (len < 8)
		return CSTP_NEED_MORE;
	if (buf[7] != 0)
		return CSTP_ETYPE;
	if (len - CSTP_HDR_LEN < plen)
		return CSTP_NEED_MORE;

	f->type = buf[6];
	f->len = (uint16_t)plen;
	f->payload = buf + CSTP_HDR_LEN;
	return (int)(CSTP_HDR_LEN + plen);
}

void cstp_put_header(uint8_t *out, uint8_t type, uint16_t len)
{
	memcpy(out, cstp_magic, sizeof(cstp_magic));
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
	out[6] = type;
	out[7] = 0;
}

const char *cstp_strerror(int err)
{
	switch (err) {
	case CSTP_NEED_MORE:
		return "incomplete CSTP frame";
	case CSTP_EMAGIC:
		return "bad CSTP magic";
	case CSTP_ETOOBIG:
		return "CSTP frame too long";
	case CSTP_ETYPE:
		return "unknown CSTP packet type";
	default:
		return err > 0 ? "complete CSTP frame" : "unknown CSTP error";
	}
}

static enum pkt_verdict check_v4(const uint8_t *pkt, size_t len, const struct in_addr *v4,
				 size_t *ip_len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	size_t total = (size_t)pkt[2] << 8 | pkt[3];

	if (ihl < 20 || ihl > len || total < ihl || total > len)
		return PKT_MALFORMED;
	if (v4 == NULL)
		return PKT_NOADDR;
	/* s_addr is in network byte order, as on the wire. */
	if (memcmp(pkt + 12, &v4->s_addr, 4) != 0)
		return PKT_SPOOFED;
	*ip_len = total;
	return PKT_OK;
}

static enum pkt_verdict check_v6(const uint8_t *pkt, size_t len, const struct in6_addr *v6,
				 size_t *ip_len)
{
	size_t total;

	/* The payload length excludes the 40-byte header, so this also
	 * refuses packets shorter than a header.  Payload length 0 with a jumbo option cannot fit
	 * any tunnel MTU; such a packet is measured as its bare header and goes no further than the
	 * kernel, which finds the option missing. */
	total = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
	if (total > len)
		return PKT_MALFORMED;
	if (v6 == NULL)
		return PKT_NOADDR;
	if (memcmp(pkt + 8, v6->s6_addr, 16) != 0)
		return PKT_SPOOFED;
	*ip_len = total;
	return PKT_OK;
}

enum pkt_verdict pkt_check_client(const uint8_t *pkt, size_t len, const struct in_addr *v4,
				  const struct in6_addr *v6, size_t *ip_len)
{
	if (len < 20)
		return PKT_MALFORMED;
	switch (pkt[0] >> 4) {
	case 4:
		return check_v4(pkt, len, v4, ip_len);
	case 6:
		return check_v6(pkt, len, v6, ip_len);
	default:
		return PKT_MALFORMED;
	}
}

int pkt_dst(const uint8_t *pkt, size_t len, const uint8_t **dst)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		*dst = pkt + 16;
		return AF_INET;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		*dst = pkt + 24;
		return AF_INET6;
	}
	return 0;
}
