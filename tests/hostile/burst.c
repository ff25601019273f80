/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostile (test tool): bursts of short connections on one epoll loop, as
 * fast as they go for -t seconds.  Each one: TCP connect (from the next
 * source address), TLS handshake, one request, then its answer (or a close
 * at once with --close), and a new connection takes its place.
 *
 *   login   POST an auth-reply: --pattern W:R sends W wrong passwords,
 *           then R right ones (-p), in turn (a login flood)
 *   cookie  CONNECT with a random well-formed cookie (a cookie flood)
 *
 * --v6-nets N takes its sources from N /64s, fd00:ff:0:I::1 for I = 1..N
 * (the client namespace routes fd00:ff::/48 to itself with a local route,
 * and the sockets bind them with IP_FREEBIND); otherwise -b, or the
 * kernel's choice. */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

enum { S_FREE, S_CONNECTING, S_HS, S_SEND, S_WAIT };
enum { A_OK, A_FORM, A_401, A_503, A_OTHER, A_CLOSED, A_TIMEOUT, A_N };
static const char *const r_names[A_N] = {"ok",	  "form",   "status_401", "status_503",
					 "other", "closed", "timeout"};

struct bc {
	int fd;
	gnutls_session_t tls;
	uint8_t st;
	int64_t deadline;
	char req[2048];
	size_t req_len;
	char rbuf[2048];
	size_t rlen;
};

static struct {
	struct bc *c;
	unsigned n;
	int ep;
	bool cookie, close_at_once;
	unsigned wrong, right, turn; /* --pattern */
	struct sockaddr_in6 *v6;
	unsigned n_v6, next_src;
	/* results */
	unsigned long started, connect_failed, handshakes, sent, res[A_N];
} B;

static void bc_end(struct bc *c, int result)
{
	if (result >= 0)
		B.res[result]++;
	if (c->tls)
		gnutls_deinit(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = S_FREE;
	explicit_bzero(c->req, sizeof(c->req));
}

static void want(struct bc *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(c - B.c)};

	epoll_ctl(B.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A well-formed cookie nobody was given: as long as a sealed one, random
 * base64url. */
static void random_cookie(char out[H_SEALED_LEN + 1])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[H_SEALED_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, (int)B.started, sizeof(rnd));
	for (int i = 0; i < H_SEALED_LEN; i++)
		out[i] = b64[rnd[i] & 63];
	out[H_SEALED_LEN] = 0;
}

static void make_request(struct bc *c)
{
	char u[256], p[512], body[1536];
	const char *pass;
	int n;

	if (B.cookie) {
		char ck[H_SEALED_LEN + 1];
		const struct tc_connect cr = {.host = "tunneld-lab",
					      .agent = "hostile burst",
					      .cookie = ck,
					      .hostname = "hostile",
					      .mtu = 1400};
		random_cookie(ck);
		n = tc_connect_request(c->req, sizeof(c->req), &cr);
		c->req_len = n > 0 ? (size_t)n : 0;
		return;
	}
	pass = B.turn % (B.wrong + B.right) < B.wrong ? "wrong-password" : O.pass;
	B.turn++;
	xml_escape(O.user, u, sizeof(u));
	xml_escape(pass, p, sizeof(p));
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth client=\"vpn\" "
		 "type=\"auth-reply\" aggregate-auth-version=\"2\"><version who=\"vpn\">hostile"
		 "</version><device-id>linux-64</device-id><auth><username>%s</username>"
		 "<password>%s</password></auth></config-auth>",
		 u, p);
	n = snprintf(
	    c->req, sizeof(c->req),
	    "POST /auth HTTP/1.1\r\nHost: tunneld-lab\r\nUser-Agent: hostile burst\r\n"
	    "X-Transcend-Version: 1\r\nX-Aggregate-Auth: 1\r\n"
	    "Content-Type: application/xml; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	c->req_len = n > 0 && (size_t)n < sizeof(c->req) ? (size_t)n : 0;
}

static int tcp_from(const struct sockaddr_in6 *src)
{
	int fd = socket(O.server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	/* The address is routed here (a local route), not configured on an
	 * interface: IPv6 binds it only with freebind. */
	if (setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)src, sizeof(*src)) < 0 ||
	    (connect(fd, (const struct sockaddr *)&O.server, O.server_len) < 0 &&
	     errno != EINPROGRESS)) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void bc_start(struct bc *c, int64_t now)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - B.c)};
	unsigned i = B.next_src++;

	memset(c, 0, sizeof(*c));
	c->fd = B.n_v6 ? tcp_from(&B.v6[i % B.n_v6]) : tcp_start(i);
	B.started++;
	if (c->fd < 0 || epoll_ctl(B.ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		B.connect_failed++;
		if (c->fd < 0)
			vlog("connect: %s", strerror(-c->fd));
		bc_end(c, -1);
		return;
	}
	c->st = S_CONNECTING;
	c->deadline = now + O.timeout_ms;
}

static void bc_send(struct bc *c)
{
	ssize_t r = gnutls_record_send(c->tls, c->req, c->req_len);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		want(c, EPOLLOUT);
		return;
	}
	if (r < 0) {
		bc_end(c, A_CLOSED);
		return;
	}
	B.sent++;
	explicit_bzero(c->req, sizeof(c->req));
	if (B.close_at_once) {
		bc_end(c, -1);
		return;
	}
	c->st = S_WAIT;
	want(c, EPOLLIN);
}

static void bc_handshake(struct bc *c)
{
	int r = gnutls_handshake(c->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		want(c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (r < 0) {
		bc_end(c, A_CLOSED);
		return;
	}
	B.handshakes++;
	make_request(c);
	c->st = S_SEND;
	bc_send(c);
}

static void bc_connected(struct bc *c)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
		B.connect_failed++;
		bc_end(c, -1);
		return;
	}
	if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		c->tls = NULL;
		bc_end(c, A_OTHER);
		return;
	}
	if (gnutls_priority_set_direct(c->tls, O.priority, NULL) < 0 ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, H_CRED) < 0) {
		bc_end(c, A_OTHER);
		return;
	}
	gnutls_transport_set_int(c->tls, c->fd);
	c->st = S_HS;
	bc_handshake(c);
}

/* The answer's head is in: what kind of answer it is. */
static int classify(const char *head)
{
	int status = 0;

	if (sscanf(head, "HTTP/1.1 %d", &status) != 1)
		return A_OTHER;
	if (status == 200)
		return strstr(head, "\r\nSet-Cookie: webvpn=") ? A_OK : A_FORM;
	return status == 401 ? A_401 : status == 503 ? A_503 : A_OTHER;
}

static void bc_read(struct bc *c)
{
	for (;;) {
		ssize_t n =
		    gnutls_record_recv(c->tls, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 - c->rlen);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n <= 0) {
			bc_end(c, A_CLOSED);
			return;
		}
		c->rlen += (size_t)n;
		c->rbuf[c->rlen] = '\0';
		if (strstr(c->rbuf, "\r\n\r\n") || c->rlen == sizeof(c->rbuf) - 1) {
			bc_end(c, classify(c->rbuf));
			return;
		}
	}
}

static void on_event(struct bc *c)
{
	switch (c->st) {
	case S_CONNECTING:
		bc_connected(c);
		break;
	case S_HS:
		bc_handshake(c);
		break;
	case S_SEND:
		bc_send(c);
		break;
	case S_WAIT:
		bc_read(c);
		break;
	default:
		break;
	}
}

static int v6_nets(const char *arg)
{
	long n = parse_count(arg, 1, 65535);

	B.v6 = calloc((size_t)n, sizeof(*B.v6));
	if (!B.v6)
		return -1;
	for (long i = 0; i < n; i++) {
		struct sockaddr_in6 *s = &B.v6[i];
		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "fd00:ff::1", &s->sin6_addr);
		s->sin6_addr.s6_addr[6] = (uint8_t)((i + 1) >> 8);
		s->sin6_addr.s6_addr[7] = (uint8_t)(i + 1);
	}
	B.n_v6 = (unsigned)n;
	return 0;
}

static void burst_help(void)
{
	printf("Usage: hostile [-s SERVER] [-b SOURCES] [-u USER -p PASS] [-t SECONDS] burst "
	       "login|cookie [OPTIONS]\n"
	       "For -t seconds, as fast as they go: connect, TLS, one request, its answer.\n"
	       "  login   POST an auth-reply for -u with a wrong password or -p (--pattern)\n"
	       "  cookie  CONNECT with a random well-formed cookie\n"
	       "Options:\n"
	       "  --concurrency N  connections in progress at once (default 64)\n"
	       "  --pattern W:R    login: W wrong passwords, then R right ones (default 1:0)\n"
	       "  --close          close right after the request, without its answer\n"
	       "  --v6-nets N      sources fd00:ff:0:I::1, I = 1..N (one per /64)\n"
	       "  --count N        start N connections, end when they have (default: only -t)\n"
	       "  --min N          FAIL unless at least N requests went out\n"
	       "Prints burst: key=value lines (answers by kind: ok, form = refused with a "
	       "reason, status_401, status_503, other, closed, timeout).\n");
	exit(0);
}

static int parse_burst(int argc, char **argv, long *min, long *count)
{
	static const struct option lo[] = {{"concurrency", required_argument, NULL, 'c'},
					   {"pattern", required_argument, NULL, 'P'},
					   {"close", no_argument, NULL, 'C'},
					   {"v6-nets", required_argument, NULL, '6'},
					   {"count", required_argument, NULL, 'n'},
					   {"min", required_argument, NULL, 'm'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	int c;

	B.n = 64;
	B.wrong = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			B.n = (unsigned)parse_count(optarg, 1, 10000);
			break;
		case 'P':
			if (sscanf(optarg, "%u:%u", &B.wrong, &B.right) != 2 ||
			    B.wrong + B.right == 0)
				return -1;
			break;
		case 'C':
			B.close_at_once = true;
			break;
		case '6':
			if (v6_nets(optarg) < 0)
				return -1;
			break;
		case 'n':
			*count = parse_count(optarg, 1, 100000000);
			break;
		case 'm':
			*min = parse_count(optarg, 0, 100000000);
			break;
		case 'h':
			burst_help();
			break;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "login") && strcmp(argv[optind], "cookie")))
		return -1;
	B.cookie = !strcmp(argv[optind], "cookie");
	return 0;
}

int cmd_burst(int argc, char **argv)
{
	struct epoll_event evs[256];
	long min = 0, count = 0;
	int64_t t0, end, now;

	if (parse_burst(argc, argv, &min, &count) < 0) {
		fprintf(stderr, "hostile burst: bad arguments; see 'hostile burst --help'\n");
		return 2;
	}
	want_fds(B.n + 64);
	B.c = calloc(B.n, sizeof(*B.c));
	B.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!B.c || B.ep < 0)
		return verdict(false, "burst", "set-up failed");
	for (unsigned i = 0; i < B.n; i++)
		B.c[i].fd = -1;
	t0 = now_ms();
	end = t0 + (int64_t)(O.seconds * 1000);
	for (now = t0; now < end; now = now_ms()) {
		unsigned busy = 0;
		for (unsigned i = 0; i < B.n; i++) {
			struct bc *c = &B.c[i];
			if (c->st == S_FREE && (!count || (long)B.started < count))
				bc_start(c, now);
			else if (c->st != S_FREE && now > c->deadline)
				bc_end(c, A_TIMEOUT);
			busy += c->st != S_FREE;
		}
		if (!busy) /* --count: all started and ended */
			break;
		int n = epoll_wait(B.ep, evs, 256, 20);
		for (int k = 0; k < n; k++)
			on_event(&B.c[evs[k].data.u32]);
	}
	for (unsigned i = 0; i < B.n; i++)
		if (B.c[i].st != S_FREE)
			bc_end(&B.c[i], -1);
	close(B.ep);
	double secs = (double)(now_ms() - t0) / 1000;
	printf("burst: kind=%s seconds=%.1f concurrency=%u sources=%u started=%lu "
	       "connect_failed=%lu handshakes=%lu sent=%lu rate=%.0f/s\n",
	       B.cookie ? "cookie" : "login", secs, B.n, B.n_v6 ? B.n_v6 : O.n_src, B.started,
	       B.connect_failed, B.handshakes, B.sent, (double)B.sent / (secs ? secs : 1));
	printf("burst: answers");
	for (int r = 0; r < A_N; r++)
		printf(" %s=%lu", r_names[r], B.res[r]);
	printf("\n");
	free(B.c);
	free(B.v6);
	if ((long)B.sent < min)
		return verdict(false, "burst", "only %lu requests went out, want %ld", B.sent, min);
	return verdict(true, "burst", "%lu requests in %.1f s", B.sent, secs);
}
