/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test of daemon/udpsteer.c with real sockets on loopback: a reuseport
 * group of two UDP sockets (two workers), the program attached, and
 * datagrams from client sockets: a ClientHello goes to the worker its App-ID
 * names, other datagrams to the worker the peer map names for their address
 * and port, or for their address alone.  Needs root (BPF); 77 otherwise. */
#include "config.h"
#include "daemon/udpsteer.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/dtls.h"

struct group {
	int family;
	int srv[2];
	struct sockaddr_storage addr;
	socklen_t len;
	int map;
};

static void open_group(struct group *g, int family)
{
	int one = 1;

	memset(g, 0, sizeof(*g));
	g->family = family;
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&g->addr;
		s->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		g->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&g->addr;
		s->sin6_family = AF_INET6;
		s->sin6_addr = in6addr_loopback;
		g->len = sizeof(*s);
	}
	/* Bound in worker order: socket k is worker k's. */
	for (int k = 0; k < 2; k++) {
		g->srv[k] = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(g->srv[k], 0);
		ck_assert_int_eq(setsockopt(g->srv[k], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)),
				 0);
		ck_assert_int_eq(bind(g->srv[k], (struct sockaddr *)&g->addr, g->len), 0);
		if (k == 0)
			ck_assert_int_eq(
			    getsockname(g->srv[0], (struct sockaddr *)&g->addr, &g->len), 0);
	}
	g->map = udpsteer_attach(g->srv, 1, 2, 1024);
	ck_assert_msg(g->map >= 0, "attach: %s", strerror(-g->map));
}

static int client(const struct group *g)
{
	int fd = socket(g->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (const struct sockaddr *)&g->addr, g->len), 0);
	return fd;
}

/* Which worker's socket got the datagram: 0 or 1, -1 if none within 1 s. */
static int landed(const struct group *g, int cfd, const void *d, size_t n)
{
	struct pollfd p[2] = {{g->srv[0], POLLIN, 0}, {g->srv[1], POLLIN, 0}};
	uint8_t buf[2048];

	ck_assert_int_eq(send(cfd, d, n, 0), (ssize_t)n);
	if (poll(p, 2, 1000) <= 0)
		return -1;
	for (int k = 0; k < 2; k++)
		if (p[k].revents & POLLIN) {
			ck_assert_int_eq(recv(g->srv[k], buf, sizeof(buf), 0), (ssize_t)n);
			return k;
		}
	return -1;
}

/* A minimal first datagram: enough for the program and dtls_hello_id(). */
static size_t hello(uint8_t *d, uint8_t worker)
{
	size_t n = DTLS_HELLO_SID_OFF + DTLS_ID_LEN + 8;

	memset(d, 0, n);
	d[0] = DTLS_CT_HANDSHAKE;
	d[1] = 0xfe;
	d[2] = 0xff;
	d[11] = (uint8_t)((n - 13) >> 8);
	d[12] = (uint8_t)(n - 13);
	d[13] = 1; /* ClientHello */
	d[13 + 11] = (uint8_t)(n - 25);
	d[13 + 3] = (uint8_t)(n - 25);
	d[25] = 0xfe;
	d[26] = 0xfd;
	d[DTLS_HELLO_SID_LEN_OFF] = DTLS_ID_LEN;
	d[DTLS_HELLO_SID_OFF + DTLS_ID_NODE] = 0;
	d[DTLS_HELLO_SID_OFF + DTLS_ID_WORKER] = worker;
	return n;
}

static struct sockaddr_storage peer_of(int cfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	ck_assert_int_eq(getsockname(cfd, (struct sockaddr *)&ss, &sl), 0);
	return ss;
}

static void run(int family)
{
	static const uint8_t data[40] = {DTLS_CT_APPDATA, 0xfe, 0xfd};
	struct sockaddr_storage pa, pb;
	uint8_t h[256];
	struct group g;
	int a, b;

	if (geteuid() != 0)
		return;
	open_group(&g, family);
	a = client(&g);
	b = client(&g);
	pa = peer_of(a);
	pb = peer_of(b);
	/* A ClientHello goes where its App-ID says, whatever its 4-tuple. */
	for (int round = 0; round < 4; round++) {
		ck_assert_int_eq(landed(&g, a, h, hello(h, 1)), 1);
		ck_assert_int_eq(landed(&g, a, h, hello(h, 0)), 0);
		ck_assert_int_eq(landed(&g, b, h, hello(h, 1)), 1);
	}
	/* A worker index past the group: still delivered (by hash). */
	ck_assert_int_ge(landed(&g, a, h, hello(h, 7)), 0);
	/* Data: the peer map, both ways round, so no hash can pass it. */
	ck_assert_int_eq(udpsteer_set(g.map, (struct sockaddr *)&pa, 1), 0);
	ck_assert_int_eq(landed(&g, a, data, sizeof(data)), 1);
	ck_assert_int_eq(udpsteer_set(g.map, (struct sockaddr *)&pa, 0), 0);
	ck_assert_int_eq(landed(&g, a, data, sizeof(data)), 0);
	/* b has no entry of its own: the address entry (a's worker) decides,
	 * as for a client whose NAT moved it to a new port. */
	ck_assert_int_eq(landed(&g, b, data, sizeof(data)), 0);
	ck_assert_int_eq(udpsteer_set(g.map, (struct sockaddr *)&pa, 1), 0);
	ck_assert_int_eq(landed(&g, b, data, sizeof(data)), 1);
	/* b's own entry wins over the address entry. */
	ck_assert_int_eq(udpsteer_set(g.map, (struct sockaddr *)&pb, 0), 0);
	ck_assert_int_eq(udpsteer_set(g.map, (struct sockaddr *)&pa, 1), 0);
	ck_assert_int_eq(landed(&g, b, data, sizeof(data)), 0);
	ck_assert_int_eq(landed(&g, a, data, sizeof(data)), 1);
	/* Unset: a short datagram from a forgotten peer is still delivered. */
	ck_assert_int_eq(udpsteer_unset(g.map, (struct sockaddr *)&pa, 1), 0);
	ck_assert_int_ge(landed(&g, a, data, 1), 0);
	close(a);
	close(b);
	close(g.srv[0]);
	close(g.srv[1]);
	close(g.map);
}

START_TEST(test_ipv4)
{
	run(AF_INET);
}
END_TEST

START_TEST(test_ipv6)
{
	run(AF_INET6);
}
END_TEST

START_TEST(test_key)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(4443)};
	struct udpsteer_key k;

	inet_pton(AF_INET, "198.18.0.10", &s4.sin_addr);
	inet_pton(AF_INET6, "fd00::1:2", &s6.sin6_addr);
	ck_assert_int_eq(udpsteer_key((struct sockaddr *)&s4, 1, &k), 0);
	ck_assert_uint_eq(k.addr[0], 0xc612000a);
	ck_assert_uint_eq(k.port, 4443);
	ck_assert_uint_eq(k.family, 4);
	ck_assert_int_eq(udpsteer_key((struct sockaddr *)&s6, 0, &k), 0);
	ck_assert_uint_eq(k.addr[0], 0xfd000000);
	ck_assert_uint_eq(k.addr[3], 0x00010002);
	ck_assert_uint_eq(k.port, 0);
	ck_assert_uint_eq(k.family, 6);
	s4.sin_family = AF_UNIX;
	ck_assert_int_eq(udpsteer_key((struct sockaddr *)&s4, 1, &k), -EAFNOSUPPORT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("udpsteer");
	TCase *tc = tcase_create("udpsteer");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : geteuid() != 0 ? 77 : 0;
}
