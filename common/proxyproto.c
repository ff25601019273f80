/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PROXY protocol header (see proxyproto.h), for the workers.  Owns
 * nothing; pure. */
#include "config.h"
#include "common/proxyproto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

static const uint8_t v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static long fail(const char **why, const char *text)
{
	*why = text;
	return -EBADMSG;
}

/* The next space-separated field of a version 1 line into out (cap bytes
 * with the NUL); *p moves past it and one space.  false when empty, too
 * long, or not followed by a space (last: by the end). */
static bool field(const char **p, const char *end, char *out, size_t cap, bool last)
{
	const char *s = *p, *e = s;

	while (e < end && *e != ' ')
		e++;
	if (e == s || (size_t)(e - s) >= cap || (last ? e != end : e == end))
		return false;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	*p = last ? e : e + 1;
	return true;
}

/* A port: 1 to 5 digits, no leading zero but for "0", at most 65535. */
static bool port_of(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "PROXY TCP4|TCP6 SRC DST SPORT DPORT" or "PROXY UNKNOWN ..." (no CRLF). */
static long v1_line(const char *p, const char *end, long total, struct proxy_hdr *h,
		    const char **why)
{
	char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sp[8], dp[8];
	int fam;

	h->version = 1;
	if (end - p >= 7 && !memcmp(p, "UNKNOWN", 7) && (end - p == 7 || p[7] == ' ')) {
		h->family = AF_UNSPEC;
		return total;
	}
	if (!field(&p, end, proto, sizeof(proto), false) ||
	    (strcmp(proto, "TCP4") && strcmp(proto, "TCP6")))
		return fail(why, "PROXY v1: the protocol is not TCP4, TCP6 or UNKNOWN");
	fam = proto[3] == '4' ? AF_INET : AF_INET6;
	if (!field(&p, end, src, sizeof(src), false) || !field(&p, end, dst, sizeof(dst), false) ||
	    !field(&p, end, sp, sizeof(sp), false) || !field(&p, end, dp, sizeof(dp), true))
		return fail(why, "PROXY v1: expected SRC DST SPORT DPORT after the protocol");
	if (inet_pton(fam, src, h->src) != 1 || inet_pton(fam, dst, h->dst) != 1)
		return fail(why, "PROXY v1: an address is not one of the protocol's family");
	if (!port_of(sp, &h->sport) || !port_of(dp, &h->dport))
		return fail(why, "PROXY v1: a port is not a number 0..65535");
	h->family = fam;
	return total;
}

static long v1(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	size_t n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX, cr;

	if (memcmp(buf, "PROXY ", len < 6 ? len : 6))
		return fail(why, "no PROXY header");
	if (len <= 6)
		return 0;
	for (cr = 6; cr < n && buf[cr] != '\r'; cr++)
		if (buf[cr] < 0x20 || buf[cr] > 0x7e)
			return fail(why, "PROXY v1: a control or non-ASCII byte in the line");
	if (cr == n)
		return len >= PROXY_V1_MAX ? fail(why, "PROXY v1: no CRLF within 107 bytes") : 0;
	if (cr + 2 > PROXY_V1_MAX)
		return fail(why, "PROXY v1: no CRLF within 107 bytes");
	if (cr + 1 == len)
		return 0; /* the LF is still to come */
	if (buf[cr + 1] != '\n')
		return fail(why, "PROXY v1: CR without LF");
	return v1_line((const char *)buf + 6, (const char *)buf + cr, (long)cr + 2, h, why);
}

static long v2(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	size_t plen, total;
	unsigned cmd, fam, proto;

	if (memcmp(buf, v2_sig, len < sizeof(v2_sig) ? len : sizeof(v2_sig)))
		return fail(why, "no PROXY header");
	if (len < PROXY_V2_HEAD)
		return 0;
	if (buf[12] >> 4 != 2)
		return fail(why, "PROXY v2: version is not 2");
	cmd = buf[12] & 15;
	fam = buf[13] >> 4;
	proto = buf[13] & 15;
	plen = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_V2_HEAD + plen;
	if (cmd > 1)
		return fail(why, "PROXY v2: the command is not LOCAL or PROXY");
	if (total > PROXY_MAX)
		return fail(why, "PROXY v2: the header is longer than 1040 bytes");
	if (len < total)
		return 0;
	h->version = 2;
	h->family = AF_UNSPEC;
	if (cmd == 0)
		return (long)total; /* LOCAL: the balancer's own connection */
	if (fam > 3 || proto > 2)
		return fail(why, "PROXY v2: unknown address family or protocol");
	if (proto == 2)
		return fail(why, "PROXY v2: a datagram header on a TCP listener");
	if (fam == 1 && proto == 1) {
		if (plen < 12)
			return fail(why, "PROXY v2: IPv4 addresses cut short");
		memcpy(h->src, buf + 16, 4);
		memcpy(h->dst, buf + 20, 4);
		h->sport = (uint16_t)(buf[24] << 8 | buf[25]);
		h->dport = (uint16_t)(buf[26] << 8 | buf[27]);
		h->family = AF_INET;
	} else if (fam == 2 && proto == 1) {
		if (plen < 36)
			return fail(why, "PROXY v2: IPv6 addresses cut short");
		memcpy(h->src, buf + 16, 16);
		memcpy(h->dst, buf + 32, 16);
		h->sport = (uint16_t)(buf[48] << 8 | buf[49]);
		h->dport = (uint16_t)(buf[50] << 8 | buf[51]);
		h->family = AF_INET6;
	}
	/* UNSPEC or UNIX: the connection's own addresses stand. */
	return (long)total;
}

long proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len == 0)
		return 0;
	if (buf[0] == 'P')
		return v1(buf, len, h, why);
	if (buf[0] == v2_sig[0])
		return v2(buf, len, h, why);
	return fail(why, "no PROXY header");
}
