/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/dtls.c: the App-ID in a first datagram (the bytes
 * openconnect 9.01 sends, PROTOCOL.md 6.2), record plausibility, the choice
 * of DTLS mode and suite, and the tunnel MTU arithmetic. */
#include "config.h"
#include "common/dtls.h"

#include <check.h>
#include <string.h>

/* A ClientHello as openconnect's GnuTLS sends it: record version fe ff,
 * client_version fe fd, session id = the 32-byte App-ID, no cookie. */
static size_t hello(uint8_t *d, const uint8_t id[DTLS_ID_LEN])
{
	size_t body = 2 + 32 + 1 + DTLS_ID_LEN + 1 + 2 + 16 + 1 + 1 + 8;
	size_t n = 0;

	d[n++] = DTLS_CT_HANDSHAKE;
	d[n++] = 0xfe;
	d[n++] = 0xff;
	memset(d + n, 0, 8); /* epoch, sequence number */
	n += 8;
	d[n++] = (uint8_t)((body + 12) >> 8);
	d[n++] = (uint8_t)(body + 12);
	d[n++] = 1; /* ClientHello */
	d[n++] = 0;
	d[n++] = (uint8_t)(body >> 8);
	d[n++] = (uint8_t)body;
	d[n++] = 0; /* message_seq */
	d[n++] = 0;
	d[n++] = 0; /* fragment offset */
	d[n++] = 0;
	d[n++] = 0;
	d[n++] = 0; /* fragment length = body */
	d[n++] = (uint8_t)(body >> 8);
	d[n++] = (uint8_t)body;
	d[n++] = 0xfe;
	d[n++] = 0xfd;
	memset(d + n, 0x77, 32); /* random */
	n += 32;
	d[n++] = DTLS_ID_LEN;
	memcpy(d + n, id, DTLS_ID_LEN);
	n += DTLS_ID_LEN;
	d[n++] = 0; /* cookie length */
	d[n++] = 0; /* cipher suites: 16 bytes */
	d[n++] = 16;
	memset(d + n, 0xa9, 16);
	n += 16;
	d[n++] = 1; /* compression methods */
	d[n++] = 0;
	memset(d + n, 0, 8); /* extensions */
	n += 8;
	return n;
}

START_TEST(test_hello_id)
{
	uint8_t id[DTLS_ID_LEN], d[256];
	const uint8_t *got = NULL;
	size_t n;

	for (int i = 0; i < DTLS_ID_LEN; i++)
		id[i] = (uint8_t)(i * 7 + 1);
	n = hello(d, id);
	ck_assert_int_eq(dtls_hello_id(d, n, &got), 0);
	ck_assert_ptr_eq(got, d + DTLS_HELLO_SID_OFF);
	ck_assert_mem_eq(got, id, DTLS_ID_LEN);
	ck_assert(dtls_record_plausible(d, n));
	/* Cut anywhere before the id's end: refused, nothing read beyond. */
	for (size_t cut = 0; cut < DTLS_HELLO_SID_OFF + DTLS_ID_LEN; cut++)
		ck_assert_int_eq(dtls_hello_id(d, cut, &got), -1);
}
END_TEST

START_TEST(test_hello_refused)
{
	uint8_t id[DTLS_ID_LEN] = {1, 2, 3}, d[256], e[256];
	const uint8_t *got;
	size_t n = hello(d, id);

	memcpy(e, d, n);
	e[0] = DTLS_CT_APPDATA; /* not a handshake */
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[13] = 2; /* ServerHello */
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[1] = 0x03; /* TLS, not DTLS */
	e[2] = 0x03;
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[DTLS_HELLO_SID_LEN_OFF] = 16; /* another session id length */
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[13 + 8] = 1; /* a later fragment */
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[11] = 0; /* record length too short for the id */
	e[12] = 20;
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	memcpy(e, d, n);
	e[11] = 0xff; /* record length beyond the datagram */
	ck_assert_int_eq(dtls_hello_id(e, n, &got), -1);
	ck_assert(!dtls_record_plausible(e, n));
}
END_TEST

static struct dtls_choice choose(const char *suites, const char *suites12, bool master,
				 bool prefer_legacy)
{
	struct dtls_offer o = {suites, suites ? strlen(suites) : 0, suites12,
			       suites12 ? strlen(suites12) : 0, master};
	struct dtls_choice c;

	dtls_choose(&o, prefer_legacy, &c);
	return c;
}

/* openconnect 9.01's offer (PROTOCOL.md section 3). */
#define OC_SUITES                                                                                  \
	"PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:OC2-DTLS1_2-CHACHA20-POLY1305:OC-DTLS1_2-AES128-GCM:" \
	"DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"
#define OC_SUITES12                                                                                \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:"               \
	"AES128-GCM-SHA256:DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"

START_TEST(test_choose)
{
	struct dtls_choice c;

	c = choose(OC_SUITES, OC_SUITES12, true, false);
	ck_assert_int_eq(c.mode, DTLS_MODE_PSK);
	ck_assert_str_eq(c.name, "PSK-NEGOTIATE");
	/* A Cisco client: a DTLS 1.2 name from its own list, AES-128-GCM first. */
	c = choose(OC_SUITES, OC_SUITES12, true, true);
	ck_assert_int_eq(c.mode, DTLS_MODE_LEGACY);
	ck_assert_str_eq(c.name, "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert(c.dtls12_header);
	ck_assert_int_eq(c.cipher, DTLS_AES128_GCM);
	ck_assert_int_eq(c.kx, DTLS_KX_ECDHE_RSA);
	/* Only names the client listed: an ECDSA-only list gets that name. */
	c = choose("AES256-SHA:AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", true, true);
	ck_assert_int_eq(c.mode, DTLS_MODE_LEGACY);
	ck_assert_str_eq(c.name, "ECDHE-ECDSA-AES256-GCM-SHA384");
	ck_assert_int_eq(c.cipher, DTLS_AES256_GCM);
	/* Old openconnect-style legacy names in X-DTLS-CipherSuite. */
	c = choose("OC-DTLS1_2-AES256-GCM:AES256-SHA", NULL, true, false);
	ck_assert_int_eq(c.mode, DTLS_MODE_LEGACY);
	ck_assert_int_eq(c.kx, DTLS_KX_RSA);
	ck_assert_str_eq(c.name, "OC-DTLS1_2-AES256-GCM");
	ck_assert(!c.dtls12_header);
	/* DTLS 0.9 only: nothing we can do. */
	c = choose("AES256-SHA:AES128-SHA:DES-CBC3-SHA", NULL, true, true);
	ck_assert_int_eq(c.mode, DTLS_MODE_NONE);
	/* Legacy needs the master secret. */
	c = choose("AES256-SHA", OC_SUITES12, false, true);
	ck_assert_int_eq(c.mode, DTLS_MODE_NONE);
	/* A prefix of a name is not the name. */
	c = choose("PSK-NEGOTIATEX:AES128-GCM-SHA25", "AES128-GCM-SHA25", true, false);
	ck_assert_int_eq(c.mode, DTLS_MODE_NONE);
	/* No DTLS headers at all (--no-dtls). */
	c = choose(NULL, NULL, false, false);
	ck_assert_int_eq(c.mode, DTLS_MODE_NONE);
	/* Cisco-preferred but only PSK offered: PSK. */
	c = choose("PSK-NEGOTIATE", NULL, true, true);
	ck_assert_int_eq(c.mode, DTLS_MODE_PSK);
}
END_TEST

START_TEST(test_agent)
{
#define UA(s) s, sizeof(s) - 1
	ck_assert(dtls_cisco_agent(UA("AnyConnect Windows 5.0.04032")));
	ck_assert(dtls_cisco_agent(UA("Cisco AnyConnect VPN Agent for Windows 4.10.06079")));
	ck_assert(dtls_cisco_agent(UA("AnyConnect Darwin_i386 4.9.03049")));
	ck_assert(dtls_cisco_agent(UA("Cisco Secure Client 5.1.2.42")));
	ck_assert(!dtls_cisco_agent(UA("AnyConnect-compatible OpenConnect VPN Agent v9.21")));
	ck_assert(!dtls_cisco_agent(UA("Open AnyConnect VPN Agent v9.01-3")));
	ck_assert(!dtls_cisco_agent(UA("AnyConnec")));
	ck_assert(!dtls_cisco_agent(NULL, 0));
#undef UA
}
END_TEST

START_TEST(test_mtu)
{
	/* ocserv's figure for base 1500, IPv4, AES-GCM (PROTOCOL.md 6.4). */
	ck_assert_uint_eq(dtls_tunnel_mtu(1500, false, DTLS_AES128_GCM), 1434);
	ck_assert_uint_eq(dtls_tunnel_mtu(1500, false, DTLS_AES256_GCM), 1434);
	ck_assert_uint_eq(dtls_tunnel_mtu(1500, true, DTLS_AES256_GCM), 1414);
	ck_assert_uint_eq(dtls_tunnel_mtu(1500, false, DTLS_CHACHA20_POLY1305), 1442);
	ck_assert_uint_eq(dtls_tunnel_mtu(66, false, DTLS_AES128_GCM), 0);
	ck_assert_uint_eq(dtls_tunnel_mtu(67, false, DTLS_AES128_GCM), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dtls");
	TCase *tc = tcase_create("dtls");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_hello_id);
	tcase_add_test(tc, test_hello_refused);
	tcase_add_test(tc, test_choose);
	tcase_add_test(tc, test_agent);
	tcase_add_test(tc, test_mtu);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
