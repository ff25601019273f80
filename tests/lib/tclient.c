/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the test and bench clients (tclient.h): clocks, waits, XML
 * escapes, the CONNECT request and CSTP framing.  No state. */
#include "config.h"
#include "tests/lib/tclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const uint8_t cstp_magic[4] = {'S', 'T', 'F', 0x01};

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t now_ms(void)
{
	return (int64_t)(now_ns() / 1000000u);
}

int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

void xml_escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		const char *e = *s == '&'   ? "&amp;"
				: *s == '<' ? "&lt;"
				: *s == '>' ? "&gt;"
				: *s == '"' ? "&quot;"
					    : NULL;
		if (e) {
			memcpy(out + n, e, strlen(e));
			n += strlen(e);
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/* The DTLS offer of openconnect 9.01 (GnuTLS build): a fresh 48-byte
 * master secret for the legacy mode, PSK-NEGOTIATE first. */
static int dtls_offer(char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t ms[48];
	char h[2 * sizeof(ms) + 1];
	int n;

	if (getrandom(ms, sizeof(ms), 0) != (ssize_t)sizeof(ms))
		return -1;
	for (size_t i = 0; i < sizeof(ms); i++) {
		h[2 * i] = hex[ms[i] >> 4];
		h[2 * i + 1] = hex[ms[i] & 15];
	}
	h[2 * sizeof(ms)] = '\0';
	n = snprintf(out, cap,
		     "X-DTLS-Master-Secret: %s\r\n"
		     "X-DTLS-CipherSuite: PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:"
		     "OC2-DTLS1_2-CHACHA20-POLY1305:OC-DTLS1_2-AES128-GCM\r\n"
		     "X-DTLS12-CipherSuite: ECDHE-RSA-AES256-GCM-SHA384:"
		     "ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256\r\n",
		     h);
	explicit_bzero(ms, sizeof(ms));
	explicit_bzero(h, sizeof(h));
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int tc_connect_request(char *out, size_t cap, const struct tc_connect *r)
{
	char cookie[1100] = "", dtls[512] = ""; /* a cookie of up to 1024 bytes */
	int n;

	if (r->cookie && (size_t)snprintf(cookie, sizeof(cookie), "Cookie: webvpn=%s\r\n",
					  r->cookie) >= sizeof(cookie))
		return -1;
	if (r->dtls && dtls_offer(dtls, sizeof(dtls)) < 0)
		return -1;
	n = snprintf(out, cap,
		     "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
		     "%sX-CSTP-Version: 1\r\nX-CSTP-Hostname: %s\r\n"
		     "X-CSTP-Base-MTU: 1500\r\nX-CSTP-MTU: %u\r\n"
		     "X-CSTP-Address-Type: %s\r\n%s%s\r\n",
		     r->host, r->agent, cookie, r->hostname, r->mtu,
		     r->ipv4_only ? "IPv4" : "IPv6,IPv4",
		     r->ipv4_only ? "" : "X-CSTP-Full-IPv6-Capability: true\r\n", dtls);
	explicit_bzero(cookie, sizeof(cookie));
	explicit_bzero(dtls, sizeof(dtls));
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

void tc_cstp_header(uint8_t *out, uint8_t type, size_t len)
{
	memcpy(out, cstp_magic, 4);
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
	out[6] = type;
	out[7] = 0;
}

bool tc_cstp_magic(const uint8_t *h)
{
	return memcmp(h, cstp_magic, 4) == 0;
}

size_t tc_cstp_frame_len(const uint8_t *h)
{
	return TC_CSTP_HDR + ((size_t)h[4] << 8 | h[5]);
}
