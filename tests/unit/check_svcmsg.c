/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/svcmsg.c: a well-formed IPC_SVC is accepted and read back part
 * by part; every broken field, length and sum is refused with its reason
 * (a worker uses nothing of a table before svcmsg_check). */
#include "config.h"
#include "common/ipc.h"
#include "common/svcmsg.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* Two services: web (IPv4, no CA) and db (IPv6, a CA). */
static const char cert0[] = "-----BEGIN CERTIFICATE-----\nweb\n", cert1[] = "db-cert",
		  ca1[] = "db-ca-list";
static unsigned char msg[4096];
static size_t msg_len;
static char err[256];

static void v4(struct cfg_listen *l, const char *ip, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&l->ss;

	memset(l, 0, sizeof(*l));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	l->sslen = sizeof(*a);
	snprintf(l->text, sizeof(l->text), "%s:%u", ip, port);
}

static void v6(struct cfg_listen *l, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->ss;

	memset(l, 0, sizeof(*l));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	l->sslen = sizeof(*a);
	snprintf(l->text, sizeof(l->text), "[%s]:%u", ip, port);
}

static void put(const void *p, size_t n)
{
	ck_assert_uint_le(msg_len + n, sizeof(msg));
	memcpy(msg + msg_len, p, n);
	msg_len += n;
}

/* msg = the good table. */
static void build(void)
{
	struct ipc_svc h = {.type = IPC_SVC, .n = 2, .prio_len = sizeof(PRIO) - 1};
	struct svc_def d[2];

	memset(d, 0, sizeof(d));
	d[0] = (struct svc_def){.id = 1,
				.lgen = 1,
				.key_gen = 3,
				.max_connections = 1024,
				.connect_timeout = 5,
				.idle_timeout = 300,
				.cert_len = sizeof(cert0) - 1};
	strcpy(d[0].name, "web");
	v4(&d[0].listen, "198.18.0.1", 8443);
	v4(&d[0].connect, "198.18.1.2", 8080);
	d[1] = (struct svc_def){.id = 2,
				.lgen = 4,
				.key_gen = 3,
				.proxy_protocol = 1,
				.max_connections = 1,
				.connect_timeout = 600,
				.idle_timeout = 86400,
				.cert_len = sizeof(cert1) - 1,
				.ca_len = sizeof(ca1) - 1};
	strcpy(d[1].name, "db.2");
	v6(&d[1].listen, "fd00::1", 5433);
	v6(&d[1].connect, "fd00::2", 5432);
	msg_len = 0;
	put(&h, sizeof(h));
	put(d, sizeof(d));
	put(PRIO, sizeof(PRIO) - 1);
	put(cert0, sizeof(cert0) - 1);
	put(cert1, sizeof(cert1) - 1);
	put(ca1, sizeof(ca1) - 1);
}

static struct svc_def *def_at(uint32_t i)
{
	return (struct svc_def *)(msg + sizeof(struct ipc_svc) + i * sizeof(struct svc_def));
}

static struct ipc_svc *head(void)
{
	return (struct ipc_svc *)msg;
}

START_TEST(test_good)
{
	struct svc_def d;
	const char *cert, *ca;

	build();
	ck_assert_msg(svcmsg_check(msg, msg_len, err, sizeof(err)) == 0, "%s", err);
	svcmsg_def(msg, 1, &d);
	ck_assert_str_eq(d.name, "db.2");
	ck_assert_str_eq(d.connect.text, "[fd00::2]:5432");
	ck_assert_uint_eq(d.idle_timeout, 86400);
	ck_assert(!memcmp(svcmsg_prio(msg), PRIO, sizeof(PRIO) - 1));
	svcmsg_part(msg, 0, &cert, &ca);
	ck_assert(!memcmp(cert, cert0, sizeof(cert0) - 1));
	ck_assert_ptr_eq(ca, cert + sizeof(cert0) - 1); /* ca_len 0 */
	svcmsg_part(msg, 1, &cert, &ca);
	ck_assert(!memcmp(cert, cert1, sizeof(cert1) - 1));
	ck_assert(!memcmp(ca, ca1, sizeof(ca1) - 1));
	ck_assert_ptr_eq(ca + sizeof(ca1) - 1, (const char *)msg + msg_len);
	/* No services at all is a table too (the last one removed). */
	head()->n = 0;
	memmove(msg + sizeof(struct ipc_svc), PRIO, sizeof(PRIO) - 1);
	ck_assert_msg(
	    svcmsg_check(msg, sizeof(struct ipc_svc) + sizeof(PRIO) - 1, err, sizeof(err)) == 0,
	    "%s", err);
}
END_TEST

/* One way to break the good table, and the reason expected. */
struct breakage {
	void (*apply)(void);
	const char *reason;
};

static void b_name_empty(void)
{
	def_at(0)->name[0] = '\0';
}
static void b_name_unterminated(void)
{
	memset(def_at(1)->name, 'a', CFG_SVC_NAME_MAX);
}
static void b_name_control(void)
{
	def_at(0)->name[1] = '\n';
}
static void b_name_space(void)
{
	def_at(0)->name[1] = ' ';
}
static void b_family(void)
{
	def_at(1)->connect.ss.ss_family = AF_UNIX;
}
static void b_sslen(void)
{
	def_at(0)->listen.sslen = sizeof(struct sockaddr_in6);
}
static void b_text(void)
{
	memset(def_at(0)->connect.text, 'x', sizeof(def_at(0)->connect.text));
}
static void b_proxy(void)
{
	def_at(0)->proxy_protocol = 2;
}
static void b_max(void)
{
	def_at(1)->max_connections = 0;
}
static void b_connect_timeout(void)
{
	def_at(0)->connect_timeout = 0;
}
static void b_idle(void)
{
	def_at(0)->idle_timeout = 0;
}
static void b_key_gen(void)
{
	def_at(1)->key_gen = 0;
}
static void b_cert_0(void)
{
	def_at(0)->cert_len = 0;
}
static void b_cert_big(void)
{
	def_at(0)->cert_len = SVC_CERT_MAX + 1;
}
static void b_ca_big(void)
{
	def_at(1)->ca_len = SVC_CA_MAX + 1;
}
static void b_cert_sum(void)
{
	def_at(1)->cert_len += 1;
}
static void b_ca_sum(void)
{
	def_at(1)->ca_len -= 1;
}
static void b_n(void)
{
	head()->n = CFG_MAX_SERVICES + 1;
}
static void b_n_more(void)
{
	head()->n = 3;
}
static void b_prio_0(void)
{
	head()->prio_len = 0;
}
static void b_prio_big(void)
{
	head()->prio_len = 1025;
}
static void b_prio_nul(void)
{
	msg[sizeof(struct ipc_svc) + 2 * sizeof(struct svc_def) + 3] = 0;
}

static const struct breakage breakages[] = {
    {b_name_empty, "IPC_SVC: service 0: name empty or not terminated"},
    {b_name_unterminated, "IPC_SVC: service 1: name empty or not terminated"},
    {b_name_control, "IPC_SVC: service 0: a control character in its name"},
    {b_name_space, "IPC_SVC: service 0: a control character in its name"},
    {b_family, "IPC_SVC: service 1: an address of an unknown family"},
    {b_sslen, "IPC_SVC: service 0: an address of an unknown family"},
    {b_text, "IPC_SVC: service 0: an address text not terminated"},
    {b_proxy, "IPC_SVC: service 0: a number out of range"},
    {b_max, "IPC_SVC: service 1: a number out of range"},
    {b_connect_timeout, "IPC_SVC: service 0: a number out of range"},
    {b_idle, "IPC_SVC: service 0: a number out of range"},
    {b_key_gen, "IPC_SVC: service 1: a number out of range"},
    {b_cert_0, "IPC_SVC: service 0: certificate 0 or CA 0 bytes"},
    {b_cert_big, "IPC_SVC: service 0: certificate 65537 or CA 0 bytes"},
    {b_ca_big, "IPC_SVC: service 1: certificate 7 or CA 262145 bytes"},
    {b_cert_sum, "IPC_SVC: parts add up to"},
    {b_ca_sum, "IPC_SVC: parts add up to"},
    {b_n, "IPC_SVC: 33 services, priorities of 29 bytes"},
    {b_n_more, "IPC_SVC: the table needs"},
    {b_prio_0, "IPC_SVC: 2 services, priorities of 0 bytes"},
    {b_prio_big, "IPC_SVC: 2 services, priorities of 1025 bytes"},
    {b_prio_nul, "IPC_SVC: the priority string holds a NUL byte"},
};

START_TEST(test_broken)
{
	const struct breakage *b = &breakages[_i];

	build();
	b->apply();
	err[0] = '\0';
	ck_assert_int_eq(svcmsg_check(msg, msg_len, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(!strncmp(err, b->reason, strlen(b->reason)),
		      "case %d: want \"%s\", got \"%s\"", _i, b->reason, err);
}
END_TEST

/* Lengths: every cut of the good table is refused, and so is a byte
 * more; short and huge datagrams before any field is read. */
START_TEST(test_lengths)
{
	static unsigned char big[IPC_SVC_MAX + 1];

	build();
	for (size_t n = 0; n < msg_len; n++)
		ck_assert_msg(svcmsg_check(msg, n, err, sizeof(err)) == -EBADMSG, "%zu bytes", n);
	ck_assert_int_eq(svcmsg_check(msg, 3, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "IPC_SVC: 3 bytes, shorter than its header");
	msg[msg_len] = 'x';
	ck_assert_int_eq(svcmsg_check(msg, msg_len + 1, err, sizeof(err)), -EBADMSG);
	ck_assert(!strncmp(err, "IPC_SVC: parts add up to", 24));
	memcpy(big, msg, msg_len);
	ck_assert_int_eq(svcmsg_check(big, sizeof(big), err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "IPC_SVC: 1048577 bytes, over 1048576");
	/* No room for the reason: still refused, the buffer untouched. */
	ck_assert_int_eq(svcmsg_check(msg, 3, NULL, 0), -EBADMSG);
	ck_assert_int_eq(svcmsg_check(msg, msg_len + 1, err, 0), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("svcmsg");
	TCase *tc = tcase_create("svcmsg");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_broken, 0, (int)(sizeof(breakages) / sizeof(breakages[0])));
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
