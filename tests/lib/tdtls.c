/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DTLS PSK-NEGOTIATE helpers of the test and bench clients (tdtls.h). */
#include "config.h"
#include "tests/lib/tdtls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/dtls.h>

#define PSK_LABEL "EXPORTER-openconnect-psk"
/* What openconnect's GnuTLS build sends in PSK mode (PROTOCOL.md 6.2):
 * DTLS 1.2 only, the AEAD PSK suites, the extensions signature_algorithms,
 * session_ticket, renegotiation_info and record_size_limit, and no
 * extended_master_secret. */
#define PSK_PRIO                                                                                   \
	"NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:+PSK:"   \
	"+SIGN-ALL:%NO_SESSION_HASH"
#define RETRANS_MS 1000

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of header name (matched exactly, as openconnect does) in
 * head[0..len): its start and length, or NULL. */
static const char *value_of(const char *head, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll > nl + 1 && memcmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			if (*v == ' ')
				v++;
			*vlen = (size_t)(p + ll - v);
			return v;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

static unsigned num_of(const char *head, size_t len, const char *name)
{
	size_t n;
	const char *v = value_of(head, len, name, &n);
	char buf[16];

	if (!v || n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return (unsigned)strtoul(buf, NULL, 10);
}

int tc_dtls_parse(const char *head, size_t len, struct tc_dtls_offer *o)
{
	size_t n;
	const char *v;
	unsigned port = num_of(head, len, "X-DTLS-Port");

	memset(o, 0, sizeof(*o));
	o->port = port < 65536 ? (uint16_t)port : 0;
	o->base_mtu = num_of(head, len, "X-CSTP-Base-MTU");
	o->dpd = num_of(head, len, "X-DTLS-DPD");
	v = value_of(head, len, "X-DTLS-CipherSuite", &n);
	o->psk = v && n == 13 && memcmp(v, "PSK-NEGOTIATE", 13) == 0;
	v = value_of(head, len, "X-DTLS-App-ID", &n);
	if (v && n % 2 == 0 && n / 2 <= TC_DTLS_ID_MAX && n > 0) {
		for (size_t i = 0; i < n / 2; i++) {
			int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return -1;
			o->id[i] = (uint8_t)(hi << 4 | lo);
		}
		o->id_len = n / 2;
	}
	return o->port && o->psk && o->id_len ? 0 : -1;
}

int tc_dtls_psk(gnutls_session_t tls, uint8_t key[TC_DTLS_PSK_LEN])
{
	return gnutls_prf_rfc5705(tls, sizeof(PSK_LABEL) - 1, PSK_LABEL, 0, NULL, TC_DTLS_PSK_LEN,
				  (char *)key);
}

/* The session without its transport. */
static int configure(gnutls_session_t *s, gnutls_psk_client_credentials_t *cred, const uint8_t *id,
		     size_t id_len, const uint8_t key[TC_DTLS_PSK_LEN])
{
	gnutls_datum_t k = {(unsigned char *)key, TC_DTLS_PSK_LEN};
	gnutls_datum_t sid = {(unsigned char *)id, (unsigned)id_len};
	int r;

	*s = NULL;
	*cred = NULL;
	r = gnutls_psk_allocate_client_credentials(cred);
	if (r == 0)
		r = gnutls_psk_set_client_credentials(*cred, "psk", &k, GNUTLS_PSK_KEY_RAW);
	if (r == 0)
		r = gnutls_init(s, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK |
				       GNUTLS_NO_SIGNAL);
	if (r == 0)
		r = gnutls_priority_set_direct(*s, PSK_PRIO, NULL);
	if (r == 0)
		r = gnutls_credentials_set(*s, GNUTLS_CRD_PSK, *cred);
	if (r == 0)
		r = gnutls_session_set_id(*s, &sid);
	if (r < 0) {
		if (*s)
			gnutls_deinit(*s);
		if (*cred)
			gnutls_psk_free_client_credentials(*cred);
		*s = NULL;
		*cred = NULL;
	}
	return r;
}

int tc_dtls_session(gnutls_session_t *s, gnutls_psk_client_credentials_t *cred, int fd,
		    const struct tc_dtls_offer *o, const uint8_t key[TC_DTLS_PSK_LEN], unsigned mtu,
		    unsigned timeout_ms)
{
	int r = configure(s, cred, o->id, o->id_len, key);

	if (r < 0)
		return r;
	gnutls_transport_set_int(*s, fd);
	gnutls_dtls_set_mtu(*s, mtu > 28 ? mtu - 28 : 1200);
	gnutls_dtls_set_timeouts(*s, RETRANS_MS, timeout_ms);
	return 0;
}

/* GnuTLS writes the flight here and finds nothing to read. */
struct capture {
	gnutls_session_t s;
	uint8_t *out;
	size_t cap, len;
};

static ssize_t cap_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct capture *c = p;

	if (c->len || len > c->cap) { /* one datagram only */
		gnutls_transport_set_errno(c->s, ENOBUFS);
		return -1;
	}
	memcpy(c->out, data, len);
	c->len = len;
	return (ssize_t)len;
}

static ssize_t cap_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct capture *c = p;

	(void)data;
	(void)len;
	gnutls_transport_set_errno(c->s, EAGAIN);
	return -1;
}

static int cap_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)p;
	(void)ms;
	return 0;
}

int tc_dtls_hello(uint8_t *out, size_t cap, size_t *len, const uint8_t *id, size_t id_len)
{
	static const uint8_t key[TC_DTLS_PSK_LEN]; /* the hello does not depend on it */
	gnutls_psk_client_credentials_t cred;
	struct capture c = {.out = out, .cap = cap};
	int r = configure(&c.s, &cred, id, id_len, key);

	if (r < 0)
		return -1;
	gnutls_transport_set_ptr(c.s, &c);
	gnutls_transport_set_push_function(c.s, cap_push);
	gnutls_transport_set_pull_function(c.s, cap_pull);
	gnutls_transport_set_pull_timeout_function(c.s, cap_pull_timeout);
	r = gnutls_handshake(c.s);
	gnutls_deinit(c.s);
	gnutls_psk_free_client_credentials(cred);
	if (r != GNUTLS_E_AGAIN || c.len < TC_DTLS_HELLO_SID + id_len)
		return -1;
	*len = c.len;
	return 0;
}
