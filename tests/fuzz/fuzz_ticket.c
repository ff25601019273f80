/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for sealed session cookies (common/ticket.c), as the
 * master meets them: the first byte picks what the rest is.
 *   0  a cookie's text (Cookie: webvpn=...): decoded, then opened with the
 *      harness's key ring; what opens must seal and open to the same.
 *      Versions 1 and 2 (with a RADIUS grant) alike.
 *   1  a cookie's bytes: opened; a change of its last byte must not open.
 *   2  a body as it comes out of the seal: parsed; what parses seals under
 *      the ring and opens to the same ticket.
 *   3  a key file's text: parsed; what parses holds 1..16 keys, unique ids,
 *      and each seals a ticket the ring opens.
 * Checks also that a refusal leaves nothing in the ticket. */
#include "config.h"
#include "common/ticket.h"

#include <errno.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static struct ticket_keys ring(void)
{
	struct ticket_keys ks = {.n = 2};

	ks.k[0].id = 1;
	ks.k[1].id = 7;
	memset(ks.k[0].key, 0x11, TICKET_KEY_LEN);
	memset(ks.k[1].key, 0x77, TICKET_KEY_LEN);
	return ks;
}

static bool same(const struct ticket *a, const struct ticket *b)
{
	return a->sid == b->sid && a->node == b->node && a->created == b->created &&
	       a->expires == b->expires && a->have_stamp == b->have_stamp && a->stamp == b->stamp &&
	       a->have4 == b->have4 && a->have6 == b->have6 && !memcmp(&a->v4, &b->v4, 4) &&
	       !memcmp(&a->v6, &b->v6, 16) && !strcmp(a->user, b->user) &&
	       !strcmp(a->groups, b->groups) && a->have_rad == b->have_rad &&
	       !memcmp(&a->rad, &b->rad, sizeof(a->rad));
}

static bool empty(const struct ticket *t)
{
	static const struct ticket zero;

	return !memcmp(t, &zero, sizeof(zero));
}

/* t seals under ks and opens to itself. */
static void reseal(const struct ticket_keys *ks, const struct ticket *t)
{
	uint8_t tok[TICKET_MAX_LEN];
	struct ticket o;
	int n = ticket_seal(ks, t, tok);

	FUZZ_ASSERT(n == (t->have_rad ? TICKET_V2_LEN : TICKET_V1_LEN));
	FUZZ_ASSERT(ticket_open(ks, tok, (size_t)n, &o) == 0 && same(t, &o));
	tok[n - 1] ^= 1;
	FUZZ_ASSERT(ticket_open(ks, tok, (size_t)n, &o) == -EBADMSG && empty(&o));
}

static void keys(const uint8_t *d, size_t n)
{
	struct ticket_keys ks = {0};
	struct ticket t = {.sid = 1, .created = 1, .expires = 2};
	char err[256];

	strcpy(t.user, "u");
	if (ticket_keys_parse((const char *)d, n, "k", &ks, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(ks.n == 0 && err[0] == 'k');
		return;
	}
	FUZZ_ASSERT(ks.n >= 1 && ks.n <= TICKET_MAX_KEYS);
	for (unsigned i = 0; i < ks.n; i++) {
		FUZZ_ASSERT(ks.k[i].id >= 1);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(ks.k[i].id != ks.k[j].id);
	}
	reseal(&ks, &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ticket_keys ks = ring();
	uint8_t tok[TICKET_MAX_LEN];
	struct ticket t;
	int n;

	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if ((n = ticket_decode((const char *)data + 1, size - 1, tok)) < 0)
			return 0;
		FUZZ_ASSERT((size - 1 == TICKET_V1_TEXT_LEN && n == TICKET_V1_LEN) ||
			    (size - 1 == TICKET_V2_TEXT_LEN && n == TICKET_V2_LEN));
		if (ticket_open(&ks, tok, (size_t)n, &t) == 0)
			reseal(&ks, &t);
		else
			FUZZ_ASSERT(empty(&t));
		break;
	case 1:
		if (ticket_open(&ks, data + 1, size - 1, &t) < 0) {
			FUZZ_ASSERT(empty(&t));
			break;
		}
		reseal(&ks, &t);
		break;
	case 2:
		if (size - 1 != TICKET_BODY_V1_LEN && size - 1 != TICKET_BODY_V2_LEN)
			return 0;
		if (ticket_body_parse(data + 1, size - 1, &t) < 0) {
			FUZZ_ASSERT(empty(&t));
			break;
		}
		FUZZ_ASSERT(t.user[0] && t.expires >= t.created && t.node == t.sid >> 56 &&
			    t.have_rad == (size - 1 == TICKET_BODY_V2_LEN));
		reseal(&ks, &t);
		break;
	default:
		keys(data + 1, size - 1);
	}
	return 0;
}
