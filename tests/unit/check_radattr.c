/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: what tunneld makes of RADIUS attributes (daemon/radattr.c),
 * read as a server sends them (raw attributes through radcli's
 * rc_avpair_gen, with a dictionary of the test's own), and the RFC 5176
 * packets of the Disconnect/CoA listener (daemon/coapkt.c), against
 * requests radclient (freeradius-utils) sent. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <radcli/radcli.h>

#include "daemon/coapkt.h"
#include "daemon/radattr.h"
#include "daemon/radclient.h"

static const char dict[] = "ATTRIBUTE User-Name 1 string\n"
			   "ATTRIBUTE Framed-IP-Address 8 ipaddr\n"
			   "ATTRIBUTE Filter-Id 11 string\n"
			   "ATTRIBUTE Framed-Route 22 string\n"
			   "ATTRIBUTE Class 25 string\n"
			   "ATTRIBUTE Session-Timeout 27 integer\n"
			   "ATTRIBUTE Idle-Timeout 28 integer\n"
			   "ATTRIBUTE Acct-Session-Id 44 string\n"
			   "ATTRIBUTE Acct-Interim-Interval 85 integer\n"
			   "ATTRIBUTE Framed-IPv6-Prefix 97 ipv6prefix\n"
			   "ATTRIBUTE Framed-IPv6-Route 99 string\n"
			   "ATTRIBUTE Framed-IPv6-Address 168 ipv6addr\n";

static rc_handle *rh;
static uint8_t raw[4096];
static size_t raw_len;

static void setup(void)
{
	rh = rc_new();
	ck_assert_ptr_nonnull(rh);
	ck_assert_ptr_nonnull(rc_config_init(rh));
	ck_assert_int_eq(rc_read_dictionary_from_buffer(rh, dict, sizeof(dict) - 1), 0);
	raw_len = 0;
}

static void teardown(void)
{
	rc_destroy(rh);
}

static void attr(uint8_t type, const void *v, size_t n)
{
	ck_assert_uint_le(n, 253);
	raw[raw_len] = type;
	raw[raw_len + 1] = (uint8_t)(n + 2);
	memcpy(raw + raw_len + 2, v, n);
	raw_len += n + 2;
}

static void attr_str(uint8_t type, const char *s)
{
	attr(type, s, strlen(s));
}

static void attr_u32(uint8_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	attr(type, &be, 4);
}

static void attr_in6(uint8_t type, const char *text, int plen)
{
	uint8_t b[18] = {0, (uint8_t)plen};

	ck_assert_int_eq(inet_pton(AF_INET6, text, plen < 0 ? b : b + 2), 1);
	attr(type, b, plen < 0 ? 16 : 18);
}

/* The raw attributes as radcli hands them over, read into *g. */
static void read_all(struct radius_grant *g)
{
	VALUE_PAIR *l = rc_avpair_gen(rh, NULL, raw, (int)raw_len, 0);

	ck_assert_ptr_nonnull(l);
	memset(g, 0, sizeof(*g));
	radattr_read(l, g);
	rc_avpair_free(l);
	ck_assert_ptr_null(radattr_check(g));
}

static const char *prefix(const struct cfg_prefix *p)
{
	static char buf[CFG_PREFIX_STRLEN];

	return cfg_prefix_str(p, buf, sizeof(buf));
}

START_TEST(test_accept_attributes)
{
	struct in_addr a4 = {htonl(0xc6126442)}; /* 198.18.100.66 */
	struct radius_grant g;
	char ip6[INET6_ADDRSTRLEN];

	attr(8, &a4, 4);
	attr_in6(168, "fd00:100::42", -1);
	attr_str(22, "198.18.9.1/24 0.0.0.0 1");     /* host bits cleared */
	attr_str(22, "198.18.10.0 255.255.255.0 1"); /* Cisco's NET MASK */
	attr_str(22, "198.18.11.7");		     /* a host */
	attr_str(99, "fd00:9::/48 :: 1");
	attr_str(22, "not a route");
	attr_str(25, "OU=staff;");
	attr_str(25, "admins");
	attr_u32(27, 3600);
	attr_u32(28, 600);
	attr_u32(85, 300);
	attr_str(11, "ignored");
	read_all(&g);
	ck_assert_uint_eq(g.have, RG_IP4 | RG_IP6 | RG_SESSION_TIMEOUT | RG_IDLE_TIMEOUT |
				      RG_INTERIM | RG_CLASS);
	ck_assert_uint_eq(g.ip4.s_addr, a4.s_addr);
	inet_ntop(AF_INET6, &g.ip6, ip6, sizeof(ip6));
	ck_assert_str_eq(ip6, "fd00:100::42");
	ck_assert_uint_eq(g.n_routes, 4);
	ck_assert_str_eq(prefix(&g.routes[0]), "198.18.9.0/24");
	ck_assert_str_eq(prefix(&g.routes[1]), "198.18.10.0/24");
	ck_assert_str_eq(prefix(&g.routes[2]), "198.18.11.7/32");
	ck_assert_str_eq(prefix(&g.routes[3]), "fd00:9::/48");
	ck_assert_uint_eq(g.dropped_routes, 1);
	ck_assert_uint_eq(g.session_timeout, 3600);
	ck_assert_uint_eq(g.idle_timeout, 600);
	ck_assert_uint_eq(g.interim, 300);
	ck_assert_uint_eq(g.class_len, 1 + 9 + 1 + 6);
}
END_TEST

/* Framed-IPv6-Address wins; a /128 prefix is an address; a shorter one is
 * not (a client holds one address), and is counted. */
START_TEST(test_ipv6_prefixes)
{
	struct radius_grant g;
	char ip6[INET6_ADDRSTRLEN];

	attr_in6(97, "fd00:100::7", 128);
	read_all(&g);
	ck_assert_uint_eq(g.have, RG_IP6);
	inet_ntop(AF_INET6, &g.ip6, ip6, sizeof(ip6));
	ck_assert_str_eq(ip6, "fd00:100::7");

	raw_len = 0;
	attr_in6(168, "fd00:100::8", -1);
	attr_in6(97, "fd00:100::7", 128);
	read_all(&g);
	inet_ntop(AF_INET6, &g.ip6, ip6, sizeof(ip6));
	ck_assert_str_eq(ip6, "fd00:100::8");

	raw_len = 0;
	attr_in6(97, "fd00:7::", 64);
	read_all(&g);
	ck_assert_uint_eq(g.have, 0);
	ck_assert_uint_eq(g.dropped_prefixes, 1);
}
END_TEST

START_TEST(test_too_many)
{
	struct radius_grant g;
	char r[128];

	for (int i = 0; i < RADIUS_ROUTES_MAX + 3; i++) {
		snprintf(r, sizeof(r), "198.19.%d.0/24", i);
		attr_str(22, r);
	}
	for (int i = 0; i < 3; i++) {
		memset(r, 'a' + i, 100);
		attr(25, r, 100);
	}
	read_all(&g);
	ck_assert_uint_eq(g.n_routes, RADIUS_ROUTES_MAX);
	ck_assert_uint_eq(g.dropped_routes, 3);
	ck_assert_uint_eq(g.class_len, 2 * 101);
	ck_assert_uint_eq(g.dropped_classes, 1);
}
END_TEST

static const char *groups_of(const char *const *classes, size_t cap)
{
	static char out[RADIUS_GROUPS_MAX];
	struct radius_grant g;

	raw_len = 0;
	for (; *classes; classes++)
		attr_str(25, *classes);
	read_all(&g);
	ck_assert_uint_le(cap, sizeof(out));
	radattr_groups(&g, out, cap);
	return out;
}

START_TEST(test_groups)
{
	ck_assert_str_eq(groups_of((const char *[]){"OU=staff;admins", NULL}, 256), "staff,admins");
	ck_assert_str_eq(groups_of((const char *[]){"ou=a; b ,,c;", "OU=d", NULL}, 256), "a,b,c,d");
	/* Names with control characters are no names. */
	ck_assert_str_eq(groups_of((const char *[]){"x\ty;ok\x01;fine", NULL}, 256), "fine");
	/* What does not fit is left out, whole. */
	ck_assert_str_eq(groups_of((const char *[]){"abc;defgh;ij", NULL}, 8), "abc,ij");
	ck_assert_str_eq(groups_of((const char *[]){"OU=", NULL}, 256), "");
}
END_TEST

/* A taken-over process's answer must be refused when it does not add up. */
START_TEST(test_check)
{
	struct radius_grant g;

	memset(&g, 0, sizeof(g));
	ck_assert_ptr_null(radattr_check(&g));
	g.n_routes = RADIUS_ROUTES_MAX + 1;
	ck_assert_ptr_nonnull(radattr_check(&g));
	g.n_routes = 1;
	g.routes[0].addr.family = AF_INET;
	g.routes[0].len = 33;
	ck_assert_ptr_nonnull(radattr_check(&g));
	g.n_routes = 0;
	g.class_len = 3;
	g.class_buf[0] = 5; /* longer than what follows */
	ck_assert_ptr_nonnull(radattr_check(&g));
	g.class_buf[0] = 0;
	ck_assert_ptr_nonnull(radattr_check(&g));
	g.class_buf[0] = 2;
	ck_assert_ptr_null(radattr_check(&g));
	g.class_len = RADIUS_CLASS_MAX + 1;
	ck_assert_ptr_nonnull(radattr_check(&g));
}
END_TEST

START_TEST(test_station)
{
	char s[64];

	radclient_station("198.18.0.10:40000", s, sizeof(s));
	ck_assert_str_eq(s, "198.18.0.10");
	radclient_station("[fd00::1]:40000", s, sizeof(s));
	ck_assert_str_eq(s, "fd00::1");
}
END_TEST

/* ---- RFC 5176 packets ------------------------------------------------- */

static const char secret[] = "lab-Secret-4711";
/* radclient's Disconnect-Request: User-Name "alice", Acct-Session-Id
 * "00f024ad3075b439", Proxy-State 0x01020304. */
static const uint8_t disc[] = {0x28, 0x81, 0x00, 0x33, 0x26, 0x98, 0x5d, 0x03, 0x88, 0xe9, 0x68,
			       0x57, 0x90, 0x25, 0xe4, 0x72, 0x2a, 0xc9, 0xde, 0x63, 0x01, 0x07,
			       0x61, 0x6c, 0x69, 0x63, 0x65, 0x2c, 0x12, 0x30, 0x30, 0x66, 0x30,
			       0x32, 0x34, 0x61, 0x64, 0x33, 0x30, 0x37, 0x35, 0x62, 0x34, 0x33,
			       0x39, 0x21, 0x06, 0x01, 0x02, 0x03, 0x04};
/* radclient's CoA-Request: User-Name "bob", Session-Timeout 3, with a
 * Message-Authenticator. */
static const uint8_t coa[] = {0x2b, 0x2a, 0x00, 0x31, 0xee, 0x2d, 0xa1, 0x4b, 0xf3, 0xab,
			      0x5e, 0xa9, 0x61, 0x01, 0x4c, 0x34, 0x34, 0x5c, 0x93, 0xd2,
			      0x01, 0x05, 0x62, 0x6f, 0x62, 0x1b, 0x06, 0x00, 0x00, 0x00,
			      0x03, 0x50, 0x12, 0x2f, 0x6a, 0x5a, 0x32, 0xf9, 0x63, 0x8a,
			      0x06, 0x5c, 0x58, 0x9a, 0x36, 0xcd, 0x01, 0xc7, 0x92};

START_TEST(test_coa_check_radclient)
{
	uint8_t buf[COA_MAX_LEN + 8];
	const char *why;
	size_t len;

	ck_assert_int_eq(coa_check(disc, sizeof(disc), secret, &len, &why), 0);
	ck_assert_uint_eq(len, sizeof(disc));
	ck_assert_int_eq(coa_check(coa, sizeof(coa), secret, &len, &why), 0);
	/* Padding after the length field is ignored. */
	memcpy(buf, coa, sizeof(coa));
	memset(buf + sizeof(coa), 0xee, 8);
	ck_assert_int_eq(coa_check(buf, sizeof(coa) + 8, secret, &len, &why), 0);
	ck_assert_uint_eq(len, sizeof(coa));
	/* Another secret, or any byte changed, and it is not authentic. */
	ck_assert_int_eq(coa_check(disc, sizeof(disc), "other", &len, &why), -EPERM);
	ck_assert_int_eq(coa_check(coa, sizeof(coa), "other", &len, &why), -EPERM);
	ck_assert_str_eq(why, "wrong Message-Authenticator");
	for (size_t i = 0; i < sizeof(disc); i++) {
		memcpy(buf, disc, sizeof(disc));
		buf[i] ^= 0x40;
		ck_assert_int_lt(coa_check(buf, sizeof(disc), secret, &len, &why), 0);
	}
}
END_TEST

START_TEST(test_coa_check_framing)
{
	uint8_t buf[64];
	const char *why;
	size_t len;

	ck_assert_int_eq(coa_check(disc, 19, secret, &len, &why), -EBADMSG);
	memcpy(buf, disc, sizeof(disc));
	buf[0] = 4; /* an Accounting-Request */
	ck_assert_int_eq(coa_check(buf, sizeof(disc), secret, &len, &why), -EBADMSG);
	/* The length field beyond the datagram. */
	ck_assert_int_eq(coa_check(disc, sizeof(disc) - 1, secret, &len, &why), -EBADMSG);
	memcpy(buf, disc, sizeof(disc));
	buf[21] = 60; /* an attribute past the end */
	ck_assert_int_eq(coa_check(buf, sizeof(disc), secret, &len, &why), -EBADMSG);
	buf[21] = 1; /* shorter than its header */
	ck_assert_int_eq(coa_check(buf, sizeof(disc), secret, &len, &why), -EBADMSG);
	memcpy(buf, coa, sizeof(coa));
	buf[32] = 10; /* a Message-Authenticator of the wrong length */
	ck_assert_int_eq(coa_check(buf, sizeof(coa), secret, &len, &why), -EBADMSG);
}
END_TEST

/* The Response Authenticator, as RFC 5176 3.5 defines it, computed here
 * on its own. */
static void want_auth(const uint8_t *ans, size_t n, const uint8_t *req, uint8_t out[16])
{
	uint8_t b[COA_MAX_LEN + 64];

	memcpy(b, ans, n);
	memcpy(b + 4, req + 4, 16);
	memcpy(b + n, secret, strlen(secret));
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_MD5, b, n + strlen(secret), out), 0);
}

START_TEST(test_coa_answer)
{
	uint8_t out[COA_MAX_LEN], md[16], mac[16], z[COA_MAX_LEN];
	size_t n;

	/* NAK with Error-Cause 503; Proxy-State echoed. */
	n = coa_answer(out, sizeof(out), disc, sizeof(disc), COA_DISCONNECT_NAK, 503, secret);
	ck_assert_uint_eq(n, 20 + 6 + 6);
	ck_assert_uint_eq(out[0], COA_DISCONNECT_NAK);
	ck_assert_uint_eq(out[1], disc[1]);
	ck_assert_uint_eq((size_t)out[2] << 8 | out[3], n);
	ck_assert_mem_eq(out + 20, "\x21\x06\x01\x02\x03\x04", 6);
	ck_assert_mem_eq(out + 26, "\x65\x06\x00\x00\x01\xf7", 6);
	want_auth(out, n, disc, md);
	ck_assert_mem_eq(out + 4, md, 16);

	/* ACK to a request with a Message-Authenticator: one in the answer,
	 * made over the answer with the request's authenticator in place. */
	n = coa_answer(out, sizeof(out), coa, sizeof(coa), COA_ACK, 0, secret);
	ck_assert_uint_eq(n, 20 + 18);
	ck_assert_uint_eq(out[20], COA_ATTR_MESSAGE_AUTH);
	memcpy(z, out, n);
	memcpy(z + 4, coa + 4, 16);
	memset(z + 22, 0, 16);
	ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), z, n, mac), 0);
	ck_assert_mem_eq(out + 22, mac, 16);
	want_auth(out, n, coa, md);
	ck_assert_mem_eq(out + 4, md, 16);
	ck_assert_uint_eq(coa_answer(out, 10, coa, sizeof(coa), COA_ACK, 0, secret), 0);
}
END_TEST

START_TEST(test_coa_attrs)
{
	size_t off = 0, vlen;
	const uint8_t *v;
	uint8_t type;
	unsigned n = 0;

	while (coa_next_attr(disc, sizeof(disc), &off, &type, &v, &vlen))
		n++;
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(type, 33);
	ck_assert_uint_eq(vlen, 4);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("radattr");
	TCase *tc = tcase_create("attributes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_accept_attributes);
	tcase_add_test(tc, test_ipv6_prefixes);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_station);
	suite_add_tcase(s, tc);
	tc = tcase_create("coa");
	tcase_add_test(tc, test_coa_check_radclient);
	tcase_add_test(tc, test_coa_check_framing);
	tcase_add_test(tc, test_coa_answer);
	tcase_add_test(tc, test_coa_attrs);
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
	return failed ? 1 : 0;
}
