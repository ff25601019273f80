/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: sealed session cookies (common/ticket.c): a seal opens to
 * what was sealed, a change of any bit is refused, a key the opener does
 * not hold is refused, rotation (every key opens, the last seals),
 * expiry, truncation, the text form and the key file's syntax. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/ticket.h"

static struct ticket sample(void)
{
	struct ticket t = {0};

	t.sid = 0x02a1b2c3d4e5f607ull;
	t.node = 2;
	t.created = 1800000000;
	t.expires = t.created + 3600;
	t.have_stamp = true;
	t.stamp = 0x1122334455667788ull;
	t.have4 = t.have6 = true;
	inet_pton(AF_INET, "198.18.100.7", &t.v4);
	inet_pton(AF_INET6, "fd00:100::7", &t.v6);
	snprintf(t.user, sizeof(t.user), "alice");
	snprintf(t.groups, sizeof(t.groups), "staff,vpn");
	return t;
}

static void keys(struct ticket_keys *ks, unsigned n, unsigned first_id)
{
	memset(ks, 0, sizeof(*ks));
	for (unsigned i = 0; i < n; i++) {
		ks->k[i].id = (uint8_t)(first_id + i);
		memset(ks->k[i].key, (int)(0x40 + first_id + i), TICKET_KEY_LEN);
	}
	ks->n = n;
}

static bool same(const struct ticket *a, const struct ticket *b)
{
	return a->sid == b->sid && a->node == b->node && a->created == b->created &&
	       a->expires == b->expires && a->have_stamp == b->have_stamp && a->stamp == b->stamp &&
	       a->have4 == b->have4 && a->have6 == b->have6 && !memcmp(&a->v4, &b->v4, 4) &&
	       !memcmp(&a->v6, &b->v6, 16) && !strcmp(a->user, b->user) &&
	       !strcmp(a->groups, b->groups);
}

START_TEST(test_round_trip)
{
	struct ticket_keys ks;
	struct ticket t = sample(), o;
	uint8_t tok[TICKET_MAX_LEN], tok2[TICKET_MAX_LEN];
	char text[TICKET_MAX_TEXT_LEN + 1];

	keys(&ks, 1, 7);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V1_LEN);
	ck_assert_uint_eq(tok[0], TICKET_V1);
	ck_assert_uint_eq(tok[1], 7);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN, &o), 0);
	ck_assert(same(&t, &o));
	/* A fresh nonce each time: two seals of one ticket differ. */
	ck_assert_int_eq(ticket_seal(&ks, &t, tok2), TICKET_V1_LEN);
	ck_assert(memcmp(tok, tok2, TICKET_V1_LEN) != 0);
	/* The text form: 540 base64url characters, and back. */
	ticket_encode(tok, TICKET_V1_LEN, text);
	ck_assert_uint_eq(strlen(text), TICKET_V1_TEXT_LEN);
	ck_assert_uint_eq(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_"),
			  TICKET_V1_TEXT_LEN);
	memset(tok2, 0, TICKET_V1_LEN);
	ck_assert_int_eq(ticket_decode(text, strlen(text), tok2), TICKET_V1_LEN);
	ck_assert_mem_eq(tok, tok2, TICKET_V1_LEN);
	/* No addresses, no stamp, no groups: absent stays absent. */
	t.have4 = t.have6 = t.have_stamp = false;
	memset(&t.v4, 0, 4);
	memset(&t.v6, 0, 16);
	t.stamp = 0;
	t.groups[0] = 0;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V1_LEN);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN, &o), 0);
	ck_assert(same(&t, &o));
}
END_TEST

/* Each bit of every step-th byte of the token tok (len bytes) flipped in
 * turn: how many of those were refused; a refusal leaks nothing. */
static unsigned refused_flips(const struct ticket_keys *ks, uint8_t *tok, size_t len, size_t step)
{
	struct ticket o;
	unsigned refused = 0;

	for (size_t i = 0; i < len; i += step)
		for (unsigned bit = 0; bit < 8; bit++) {
			tok[i] ^= (uint8_t)(1u << bit);
			if (ticket_open(ks, tok, len, &o) == -EBADMSG) {
				refused++;
				ck_assert_uint_eq(o.sid, 0);
			}
			tok[i] ^= (uint8_t)(1u << bit);
		}
	return refused;
}

/* Every bit of a sealed ticket matters: the header is authenticated, the
 * rest sealed. */
START_TEST(test_tamper)
{
	struct ticket_keys ks;
	struct ticket t = sample(), o;
	uint8_t tok[TICKET_MAX_LEN];
	unsigned refused;

	keys(&ks, 1, 1);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V1_LEN);
	refused = refused_flips(&ks, tok, TICKET_V1_LEN, 1);
	ck_assert_uint_eq(refused, TICKET_V1_LEN * 8);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN, &o), 0);
}
END_TEST

START_TEST(test_wrong_key)
{
	struct ticket_keys a, b;
	struct ticket t = sample(), o;
	uint8_t tok[TICKET_MAX_LEN];

	keys(&a, 1, 1);
	keys(&b, 1, 1);
	b.k[0].key[31] ^= 1; /* same id, another key */
	ck_assert_int_eq(ticket_seal(&a, &t, tok), TICKET_V1_LEN);
	ck_assert_int_eq(ticket_open(&b, tok, TICKET_V1_LEN, &o), -EBADMSG);
	keys(&b, 1, 2); /* a key id the opener does not know */
	ck_assert_int_eq(ticket_open(&b, tok, TICKET_V1_LEN, &o), -EBADMSG);
	b.n = 0; /* no key at all */
	ck_assert_int_eq(ticket_open(&b, tok, TICKET_V1_LEN, &o), -EBADMSG);
	ck_assert_int_eq(ticket_seal(&b, &t, tok), -EINVAL);
}
END_TEST

/* Rotation: a ring {1, 2} seals with 2 and opens both; {2} alone no longer
 * opens what 1 sealed. */
START_TEST(test_rotation)
{
	struct ticket_keys old, both, next;
	struct ticket t = sample(), o;
	uint8_t by1[TICKET_MAX_LEN], by2[TICKET_MAX_LEN];

	keys(&old, 1, 1);
	keys(&both, 2, 1);
	keys(&next, 1, 2);
	ck_assert_int_eq(ticket_seal(&old, &t, by1), TICKET_V1_LEN);
	ck_assert_int_eq(ticket_seal(&both, &t, by2), TICKET_V1_LEN);
	ck_assert_uint_eq(by1[1], 1);
	ck_assert_uint_eq(by2[1], 2); /* the last key seals */
	ck_assert_int_eq(ticket_open(&both, by1, TICKET_V1_LEN, &o), 0);
	ck_assert(same(&t, &o));
	ck_assert_int_eq(ticket_open(&both, by2, TICKET_V1_LEN, &o), 0);
	ck_assert_int_eq(ticket_open(&next, by2, TICKET_V1_LEN, &o), 0);
	ck_assert_int_eq(ticket_open(&next, by1, TICKET_V1_LEN, &o), -EBADMSG);
	ck_assert_int_eq(ticket_open(&old, by2, TICKET_V1_LEN, &o), -EBADMSG);
}
END_TEST

START_TEST(test_expiry)
{
	struct ticket_keys ks;
	struct ticket t = sample(), o;
	uint8_t tok[TICKET_MAX_LEN];

	keys(&ks, 1, 1);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V1_LEN);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN, &o), 0);
	ck_assert(!ticket_expired(&o, (time_t)t.expires - 1));
	ck_assert(ticket_expired(&o, (time_t)t.expires));
	ck_assert(ticket_expired(&o, (time_t)t.expires + 100));
	/* An expiry before the start cannot be sealed. */
	t.expires = t.created - 1;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
}
END_TEST

START_TEST(test_truncated)
{
	struct ticket_keys ks;
	struct ticket t = sample(), o;
	uint8_t tok[TICKET_MAX_LEN + 1];
	char text[TICKET_MAX_TEXT_LEN + 2];

	keys(&ks, 1, 1);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V1_LEN);
	for (size_t n = 0; n < TICKET_V1_LEN; n++)
		ck_assert_int_eq(ticket_open(&ks, tok, n, &o), -EBADMSG);
	tok[TICKET_V1_LEN] = 0;
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN + 1, &o), -EBADMSG);
	/* A version 1 token at version 2's length is refused too. */
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), -EBADMSG);
	ticket_encode(tok, TICKET_V1_LEN, text);
	for (size_t n = 0; n < TICKET_V1_TEXT_LEN; n++)
		ck_assert_int_eq(ticket_decode(text, n, tok), -EINVAL);
	text[TICKET_V1_TEXT_LEN] = 'A';
	text[TICKET_V1_TEXT_LEN + 1] = 0;
	ck_assert_int_eq(ticket_decode(text, TICKET_V1_TEXT_LEN + 1, tok), -EINVAL);
	text[TICKET_V1_TEXT_LEN] = 0;
	text[5] = '=';
	ck_assert_int_eq(ticket_decode(text, TICKET_V1_TEXT_LEN, tok), -EINVAL);
}
END_TEST

/* What a ticket cannot hold is refused at sealing. */
START_TEST(test_bad_fields)
{
	struct ticket_keys ks;
	struct ticket t;
	uint8_t tok[TICKET_MAX_LEN];

	keys(&ks, 1, 1);
	t = sample();
	t.user[0] = 0;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = sample();
	memset(t.user, 'a', sizeof(t.user)); /* no room for the NUL */
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = sample();
	t.user[2] = '\n';
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = sample();
	t.node = 3; /* not the sid's top byte */
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
}
END_TEST

/* A RADIUS session's grant: two routes, Class, timeouts. */
static struct ticket with_grant(void)
{
	struct ticket t = sample();

	t.have_rad = true;
	t.rad.deadline = t.created + 600;
	t.rad.have = 0x3c;
	t.rad.session_timeout = 600;
	t.rad.idle_timeout = 120;
	t.rad.interim = 30;
	t.rad.n_routes = 2;
	t.rad.routes[0].family = 4;
	t.rad.routes[0].len = 24;
	inet_pton(AF_INET, "198.18.7.0", t.rad.routes[0].addr);
	t.rad.routes[1].family = 6;
	t.rad.routes[1].len = 48;
	inet_pton(AF_INET6, "fd00:7::", t.rad.routes[1].addr);
	t.rad.class_len = 9;
	memcpy(t.rad.class_buf, "\x08OU=staff", 9);
	return t;
}

/* Version 2 carries the grant whole; version 1 tickets still open beside
 * it (an upgrade keeps the sessions). */
START_TEST(test_grant_round_trip)
{
	struct ticket_keys ks;
	struct ticket t = with_grant(), o;
	uint8_t tok[TICKET_MAX_LEN], v1[TICKET_MAX_LEN];
	char text[TICKET_MAX_TEXT_LEN + 1];

	keys(&ks, 1, 3);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V2_LEN);
	ck_assert_uint_eq(tok[0], TICKET_V2);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), 0);
	ck_assert(same(&t, &o));
	ck_assert(o.have_rad);
	ck_assert_mem_eq(&o.rad, &t.rad, sizeof(t.rad));
	ticket_encode(tok, TICKET_V2_LEN, text);
	ck_assert_uint_eq(strlen(text), TICKET_V2_TEXT_LEN);
	memset(tok, 0, sizeof(tok));
	ck_assert_int_eq(ticket_decode(text, strlen(text), tok), TICKET_V2_LEN);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), 0);
	ck_assert_mem_eq(&o.rad, &t.rad, sizeof(t.rad));
	/* At version 1's length, or with version 1's byte, it is refused. */
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V1_LEN, &o), -EBADMSG);
	tok[0] = TICKET_V1;
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), -EBADMSG);
	/* Without the grant: version 1, and no grant comes out. */
	t.have_rad = false;
	ck_assert_int_eq(ticket_seal(&ks, &t, v1), TICKET_V1_LEN);
	ck_assert_int_eq(ticket_open(&ks, v1, TICKET_V1_LEN, &o), 0);
	ck_assert(!o.have_rad);
	ck_assert_uint_eq(o.rad.n_routes, 0);
}
END_TEST

/* Every bit of a version 2 ticket matters too. */
START_TEST(test_grant_tamper)
{
	struct ticket_keys ks;
	struct ticket t = with_grant(), o;
	uint8_t tok[TICKET_MAX_LEN];
	unsigned refused;

	keys(&ks, 1, 1);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V2_LEN);
	refused = refused_flips(&ks, tok, TICKET_V2_LEN, 7); /* a spread of bytes */
	ck_assert_uint_eq(refused, (TICKET_V2_LEN + 6) / 7 * 8);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), 0);
}
END_TEST

/* A grant a ticket cannot hold is refused at sealing: what the opener
 * would refuse never goes out. */
START_TEST(test_grant_bad_fields)
{
	struct ticket_keys ks;
	struct ticket t, o;
	uint8_t tok[TICKET_MAX_LEN];

	keys(&ks, 1, 1);
	t = with_grant();
	t.rad.n_routes = TICKET_ROUTES_MAX + 1;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = with_grant();
	t.rad.routes[0].len = 33; /* an IPv4 /33 */
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = with_grant();
	t.rad.routes[1].family = 5;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = with_grant();
	t.rad.routes[0].addr[9] = 1; /* bytes an IPv4 route does not use */
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = with_grant();
	t.rad.class_len = TICKET_CLASS_MAX + 1;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t = with_grant();
	t.rad.deadline = -1;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	/* The most that fits: 160 bytes for the routes and Class together,
	 * 16 IPv4 routes (96) and 64 bytes of Class, or 8 IPv6 routes (144)
	 * and 16; one byte more does not. */
	t = with_grant();
	t.rad.n_routes = TICKET_ROUTES_MAX;
	for (unsigned i = 1; i < TICKET_ROUTES_MAX; i++)
		t.rad.routes[i] = t.rad.routes[0];
	t.rad.class_len = 64;
	memset(t.rad.class_buf, 'x', 64);
	ck_assert(ticket_rad_fits(&t.rad));
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V2_LEN);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), 0);
	ck_assert_mem_eq(&o.rad, &t.rad, sizeof(t.rad));
	t.rad.class_len = 65;
	ck_assert(!ticket_rad_fits(&t.rad));
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	t.rad.n_routes = 8;
	memset(&t.rad.routes[8], 0, 8 * sizeof(t.rad.routes[0]));
	for (unsigned i = 0; i < 8; i++)
		t.rad.routes[i] = with_grant().rad.routes[1];
	t.rad.class_len = 16;
	memset(t.rad.class_buf + 16, 0, sizeof(t.rad.class_buf) - 16);
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), TICKET_V2_LEN);
	ck_assert_int_eq(ticket_open(&ks, tok, TICKET_V2_LEN, &o), 0);
	ck_assert_mem_eq(&o.rad, &t.rad, sizeof(t.rad));
	t.rad.class_len = 17;
	ck_assert_int_eq(ticket_seal(&ks, &t, tok), -EINVAL);
	/* The text stays under the 1024 bytes openconnect reads for a cookie
	 * on stdin, with "webvpn=" and its strap key (about 190) before it. */
	ck_assert_uint_lt(TICKET_V2_TEXT_LEN + strlen("webvpn=") + 200, 1024);
}
END_TEST

static int parse(const char *text, struct ticket_keys *ks, char *err)
{
	return ticket_keys_parse(text, strlen(text), "keys", ks, err, 256);
}

START_TEST(test_key_file)
{
	static const char k1[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char k2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	struct ticket_keys ks;
	char text[512], err[256];

	snprintf(text, sizeof(text), "# fleet keys\n\n1 %s\n  2\t%s  # newest\n", k1, k2);
	ck_assert_msg(parse(text, &ks, err) == 0, "%s", err);
	ck_assert_uint_eq(ks.n, 2);
	ck_assert_uint_eq(ks.k[0].id, 1);
	ck_assert_uint_eq(ks.k[1].id, 2);
	ck_assert_uint_eq(ks.k[0].key[1], 0x11);
	ck_assert_uint_eq(ks.k[1].key[31], 0x00);
	ck_assert_uint_eq(ks.k[1].key[0], 0xff);

	ck_assert_int_eq(parse("# nothing\n", &ks, err), -EINVAL);
	ck_assert_str_eq(err, "keys: no key (lines \"ID KEY\": a key id 1..255 and 64 hex digits)");
	ck_assert_uint_eq(ks.n, 0);
	snprintf(text, sizeof(text), "1 %s\n1 %s\n", k1, k2);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	ck_assert_str_eq(err, "keys:2: key id 1 is used twice");
	snprintf(text, sizeof(text), "0 %s\n", k1);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "keys:1: expected \"ID KEY\""));
	snprintf(text, sizeof(text), "256 %s\n", k1);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	snprintf(text, sizeof(text), "\n\n3 %.63s\n", k1);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "keys:3: the key must be 64 hex digits"));
	snprintf(text, sizeof(text), "3 %.63sg\n", k1);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	snprintf(text, sizeof(text), "3%s\n", k1);
	ck_assert_int_eq(parse(text, &ks, err), -EINVAL);
	/* At most TICKET_MAX_KEYS keys. */
	text[0] = 0;
	for (unsigned i = 1; i <= TICKET_MAX_KEYS + 1; i++) {
		static char big[8192];
		if (i == 1)
			big[0] = 0;
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%u %s\n", i, k1);
		if (i == TICKET_MAX_KEYS) {
			ck_assert_int_eq(parse(big, &ks, err), 0);
			ck_assert_uint_eq(ks.n, TICKET_MAX_KEYS);
		}
		if (i == TICKET_MAX_KEYS + 1) {
			ck_assert_int_eq(parse(big, &ks, err), -EINVAL);
			ck_assert_ptr_nonnull(strstr(err, "more than 16 keys"));
		}
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_grant_round_trip);
	tcase_add_test(tc, test_grant_tamper);
	tcase_add_test(tc, test_grant_bad_fields);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_bad_fields);
	tcase_add_test(tc, test_key_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
