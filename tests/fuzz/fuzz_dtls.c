/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the DTLS demultiplexing in common/dtls.c: what a
 * worker does with the first bytes of any datagram to its UDP port
 * (dtls_hello_id, dtls_record_plausible) and with the DTLS headers of a
 * CONNECT (dtls_choose over the offered suite lists, dtls_cisco_agent over
 * the User-Agent), plus the MTU arithmetic.
 *
 * The first byte picks the target:
 *   0: the rest is a datagram.  Checks: an App-ID is found only in a
 *      plausible ClientHello record, at offset 60 inside the input, with
 *      its length byte 32; a plausible record header's length fits the
 *      datagram; no answer changes when bytes beyond the claimed ones are
 *      cut off (nothing past n is read: ASan checks that on a copy of
 *      exactly n bytes).
 *   1: the rest is an offer: X-DTLS-CipherSuite, a 0xff byte,
 *      X-DTLS12-CipherSuite; the next byte's low bits are have_master and
 *      prefer_legacy.  Checks: a mode is chosen only from what was offered
 *      (PSK-NEGOTIATE or a legacy name as one whole entry of the list it
 *      answers in, legacy only with a master secret), the choice is the
 *      same on a second call, and the tunnel MTU fits the cipher.
 *   2: the rest is a User-Agent.  Checks: a Cisco agent starts with one
 *      of Cisco's names and never with openconnect's. */
#include "config.h"
#include "common/dtls.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static void datagram(const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	const uint8_t *id = NULL;
	bool plausible;
	int r;

	FUZZ_ASSERT(d != NULL);
	memcpy(d, data, size);
	plausible = dtls_record_plausible(d, size);
	if (plausible) {
		size_t len = (size_t)d[11] << 8 | d[12];
		FUZZ_ASSERT(size >= 13 && len <= size - 13);
		FUZZ_ASSERT(d[0] >= DTLS_CT_CCS && d[0] <= DTLS_CT_APPDATA);
	}
	r = dtls_hello_id(d, size, &id);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == 0) {
		FUZZ_ASSERT(plausible && d[0] == DTLS_CT_HANDSHAKE);
		FUZZ_ASSERT(id == d + DTLS_HELLO_SID_OFF);
		FUZZ_ASSERT(FUZZ_INSIDE(id, (size_t)DTLS_ID_LEN, d, size));
		FUZZ_ASSERT(d[DTLS_HELLO_SID_LEN_OFF] == DTLS_ID_LEN);
		/* The record's own length is all that counts: trailing bytes
		 * (a second record in the datagram) change nothing. */
		size_t rec = 13 + ((size_t)d[11] << 8 | d[12]);
		const uint8_t *id2 = NULL;
		FUZZ_ASSERT(dtls_hello_id(d, rec, &id2) == 0 && id2 == id);
	}
	free(d);
}

/* Whether the colon list l[0..n) has name as one whole entry. */
static bool listed(const char *l, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; l && i <= n;) {
		const char *c = memchr(l + i, ':', n - i);
		size_t e = c ? (size_t)(c - l) : n;
		if (e - i == len && memcmp(l + i, name, len) == 0)
			return true;
		i = e + 1;
	}
	return false;
}

static void offer(const uint8_t *data, size_t size)
{
	const uint8_t *sep;
	struct dtls_offer o = {0};
	struct dtls_choice a, b;
	uint8_t flags;
	char *copy;

	if (size == 0)
		return;
	flags = data[0];
	data++;
	size--;
	copy = malloc(size ? size : 1); /* the lists are not NUL-terminated */
	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	sep = memchr(data, 0xff, size);
	o.suites = copy;
	o.suites_len = sep ? (size_t)(sep - data) : size;
	if (sep) {
		o.suites12 = copy + o.suites_len + 1;
		o.suites12_len = size - o.suites_len - 1;
	}
	o.have_master = flags & 1;
	dtls_choose(&o, flags & 2, &a);
	dtls_choose(&o, flags & 2, &b);
	FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	switch (a.mode) {
	case DTLS_MODE_NONE:
		FUZZ_ASSERT(!listed(o.suites, o.suites_len, "PSK-NEGOTIATE"));
		break;
	case DTLS_MODE_PSK:
		FUZZ_ASSERT(listed(o.suites, o.suites_len, "PSK-NEGOTIATE"));
		FUZZ_ASSERT(a.name && strcmp(a.name, "PSK-NEGOTIATE") == 0);
		break;
	case DTLS_MODE_LEGACY:
		FUZZ_ASSERT(o.have_master && a.name);
		FUZZ_ASSERT(a.dtls12_header ? listed(o.suites12, o.suites12_len, a.name)
					    : listed(o.suites, o.suites_len, a.name));
		FUZZ_ASSERT(a.cipher == DTLS_AES128_GCM || a.cipher == DTLS_AES256_GCM);
		break;
	default:
		FUZZ_ASSERT(!"unknown mode");
	}
	for (unsigned base = 0; base < 2000; base += 97) {
		unsigned m4 = dtls_tunnel_mtu(base, false, a.cipher);
		unsigned m6 = dtls_tunnel_mtu(base, true, a.cipher);
		FUZZ_ASSERT(m4 == 0 || m4 + dtls_overhead(false, a.cipher) == base);
		FUZZ_ASSERT(m6 == 0 || m6 + dtls_overhead(true, a.cipher) == base);
		FUZZ_ASSERT(m6 <= m4);
	}
	free(copy);
}

static bool starts(const char *p, size_t n, const char *lit)
{
	return n >= strlen(lit) && memcmp(p, lit, strlen(lit)) == 0;
}

static void agent(const uint8_t *data, size_t size)
{
	char *ua = malloc(size ? size : 1);

	FUZZ_ASSERT(ua != NULL);
	memcpy(ua, data, size);
	if (dtls_cisco_agent(ua, size)) {
		FUZZ_ASSERT(starts(ua, size, "AnyConnect") ||
			    starts(ua, size, "Cisco AnyConnect") ||
			    starts(ua, size, "Cisco Secure Client"));
		FUZZ_ASSERT(!starts(ua, size, "AnyConnect-compatible OpenConnect"));
	}
	FUZZ_ASSERT(!dtls_cisco_agent(NULL, size));
	free(ua);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		datagram(data + 1, size - 1);
		break;
	case 1:
		offer(data + 1, size - 1);
		break;
	default:
		agent(data + 1, size - 1);
	}
	return 0;
}
