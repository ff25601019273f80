/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the server-wide figures (daemon/metrics.c), the workers'
 * IPC_WSTATS reports, and the monitoring endpoint (daemon/httpd.c) served
 * from an epoll loop here as the master serves it: answers, limits
 * (request size, deadline, connection cap) and stale events. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ipc.h"
#include "daemon/events.h"
#include "daemon/httpd.h"
#include "daemon/metrics.h"

/* ---- metrics.c ---------------------------------------------------------- */

static struct metrics_gauges gauges_of_test(void)
{
	struct metrics_gauges g = {.sessions = 3,
				   .tunnels = 2,
				   .workers = 2,
				   .workers_up = 2,
				   .leases_used = 2,
				   .leases_free = 250,
				   .max_clients = 10};
	return g;
}

/* The value of a sample line "name{labels} value" in text, -1 if none. */
static long long sample(const char *text, const char *series)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(text, want);
	return p ? atoll(p + strlen(want)) : -1;
}

START_TEST(test_totals)
{
	struct sess_counters c = {0};
	struct ipc_msg m = {.type = IPC_WSTATS};
	size_t len;
	char *text;

	ck_assert_int_eq(metrics_setup(2), 0);
	ctr_rx(&c, CTR_TCP, 10, 1000);
	ctr_tx(&c, CTR_UDP, 4, 400);
	c.drop[DROP_SPOOFED] = 2;
	metrics_traffic(&c);
	metrics_traffic(&c);
	metrics_login(LOGIN_OK, true, 3000);		/* 0.003 s: the first bucket */
	metrics_login(LOGIN_BAD_PASSWORD, true, 40000); /* 0.04 s: le 0.05 */
	metrics_login(LOGIN_BANNED, false, 0);		/* counted, not timed */
	metrics_ban();
	metrics_reconnect();
	m.u.wstats.handshakes = 5;
	m.u.wstats.no_client = 7;
	metrics_worker(1, &m);
	m.u.wstats.no_client = 3; /* going down: a lie, ignored */
	metrics_worker(1, &m);
	ck_assert_uint_eq(metrics_handshakes(), 5);
	ck_assert_uint_eq(metrics_totals()->drop_no_client, 7);
	metrics_worker_gone(1); /* its drops stay, its handshakes go */
	ck_assert_uint_eq(metrics_handshakes(), 0);
	ck_assert_uint_eq(metrics_totals()->drop_no_client, 7);
	metrics_worker(9, &m); /* no such slot */

	struct metrics_gauges g = gauges_of_test();
	text = metrics_render(&g, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_int_eq(sample(text, "tunneld_sessions"), 3);
	ck_assert_int_eq(sample(text, "tunneld_leases{state=\"free\"}"), 250);
	ck_assert_int_eq(sample(text, "tunneld_packets_total{direction=\"rx\",proto=\"tcp\"}"), 20);
	ck_assert_int_eq(sample(text, "tunneld_bytes_total{direction=\"tx\",proto=\"udp\"}"), 800);
	ck_assert_int_eq(sample(text, "tunneld_packets_total{direction=\"tx\",proto=\"other\"}"),
			 0);
	ck_assert_int_eq(sample(text, "tunneld_drops_total{reason=\"spoofed\"}"), 4);
	ck_assert_int_eq(sample(text, "tunneld_drops_total{reason=\"no_client\"}"), 7);
	ck_assert_int_eq(sample(text, "tunneld_logins_total{result=\"ok\"}"), 1);
	ck_assert_int_eq(sample(text, "tunneld_logins_total{result=\"banned\"}"), 1);
	ck_assert_int_eq(sample(text, "tunneld_bans_total"), 1);
	ck_assert_int_eq(sample(text, "tunneld_reconnects_total"), 1);
	/* Cumulative buckets; two logins were timed. */
	ck_assert_int_eq(sample(text, "tunneld_login_duration_seconds_bucket{le=\"0.005\"}"), 1);
	ck_assert_int_eq(sample(text, "tunneld_login_duration_seconds_bucket{le=\"0.025\"}"), 1);
	ck_assert_int_eq(sample(text, "tunneld_login_duration_seconds_bucket{le=\"0.05\"}"), 2);
	ck_assert_int_eq(sample(text, "tunneld_login_duration_seconds_bucket{le=\"+Inf\"}"), 2);
	ck_assert_int_eq(sample(text, "tunneld_login_duration_seconds_count"), 2);
	ck_assert_ptr_nonnull(strstr(text, "\ntunneld_login_duration_seconds_sum 0.043000\n"));
	/* Every series has its HELP and TYPE. */
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tunneld_login_duration_seconds histogram\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tunneld_packets_total counter\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tunneld_handshakes gauge\n"));
	free(text);
	metrics_free();
}
END_TEST

/* Which workers serve an older certificate than the last reload's. */
START_TEST(test_certificate_behind)
{
	struct ipc_msg m = {.type = IPC_WSTATS};
	struct metrics_gauges g;
	size_t len;
	char *text;

	ck_assert_int_eq(metrics_setup(3), 0);
	m.u.wstats.tls_gen = 5;
	metrics_worker(0, &m);
	m.u.wstats.tls_gen = 4;
	metrics_worker(1, &m);
	/* Worker 2 has not reported yet: not counted. */
	ck_assert_uint_eq(metrics_worker_tls_generation(0), 5);
	ck_assert_uint_eq(metrics_worker_tls_generation(1), 4);
	ck_assert_uint_eq(metrics_worker_tls_generation(2), 0);
	ck_assert_uint_eq(metrics_worker_tls_generation(3), 0); /* no such slot */
	ck_assert_uint_eq(metrics_workers_behind(5), 1);
	ck_assert_uint_eq(metrics_workers_behind(6), 2);
	metrics_worker(1, (m.u.wstats.tls_gen = 5, &m)); /* it loaded the reload */
	ck_assert_uint_eq(metrics_workers_behind(5), 0);
	metrics_worker_gone(0);
	ck_assert_uint_eq(metrics_worker_tls_generation(0), 0);
	g = gauges_of_test();
	g.workers_behind = metrics_workers_behind(6);
	text = metrics_render(&g, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sample(text, "tunneld_workers_certificate_behind"), 1);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tunneld_workers_certificate_behind gauge\n"));
	free(text);
	metrics_free();
}
END_TEST

START_TEST(test_wstats_check)
{
	struct ipc_msg m = {.type = IPC_WSTATS};
	char err[128];

	m.u.wstats.handshakes = IPC_WSTATS_MAX_HANDSHAKES;
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_WORKER, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 0, err, sizeof(err)), -EBADMSG);
	m.u.wstats.handshakes++;
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_WORKER, 0, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "IPC_WSTATS: handshakes"));
}
END_TEST

/* ---- httpd.c ------------------------------------------------------------ */

static int ep = -1;
static uint16_t port;
static const char *why_not; /* /healthz */

static char *fake_metrics(size_t *len)
{
	char *s = strdup("# TYPE x gauge\nx 1\n");

	*len = s ? strlen(s) : 0;
	return s;
}

static const char *fake_health(void)
{
	return why_not;
}

static void setup(void)
{
	struct cfg_listen l = {.sslen = sizeof(struct sockaddr_in)};
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.ss;
	const struct httpd_ops ops = {fake_metrics, fake_health};
	socklen_t sl = sizeof(*sin);
	int fd;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(httpd_listen(&l, &fd), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	port = ntohs(sin->sin_port);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(httpd_start(ep, fd, &ops), 0);
	why_not = NULL;
}

static void teardown(void)
{
	httpd_stop();
	close(ep);
}

/* The master's loop, for a while. */
static void serve(int ms)
{
	struct epoll_event evs[32];
	int n;

	while ((n = epoll_wait(ep, evs, 32, ms)) > 0)
		for (int i = 0; i < n; i++) {
			ck_assert_int_eq(ev_kind_of(&evs[i]), EV_HTTP);
			httpd_on_event(ev_index_of(&evs[i]), evs[i].events);
		}
}

static int dial(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Everything the server sends until it closes (serving meanwhile). */
static void reply(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (int turns = 0; turns < 200; turns++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		serve(5);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
}

static void request(const char *req, char *buf, size_t cap)
{
	int fd = dial();

	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	reply(fd, buf, cap);
}

START_TEST(test_answers)
{
	char buf[8192];

	request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	ck_assert_ptr_nonnull(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 19\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\n# TYPE x gauge\nx 1\n"));
	request("GET /metrics?name[]=x HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	request("HEAD /metrics HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n"), "\r\n\r\n"); /* no body */
	request("GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n"), "\r\n\r\nok\n");
	why_not = "draining";
	request("GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 503 Service Unavailable\r\n", 34));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n"), "\r\n\r\ndraining\n");
	request("GET /metricsx HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 404 ", 13));
	request("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 405 ", 13));
	ck_assert_ptr_nonnull(strstr(buf, "Allow: GET, HEAD\r\n"));
	request("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 413 ", 13));
	request("\x16\x03\x01 garbage\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 400 ", 13));
}
END_TEST

/* A request that does not end within HTTPD_REQ_MAX bytes gets 431. */
START_TEST(test_too_large)
{
	char big[HTTPD_REQ_MAX + 100], buf[1024];
	int fd = dial();

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	ck_assert_int_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	reply(fd, buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 431 ", 13));
}
END_TEST

/* A silent client is closed at its deadline; the table holds
 * HTTPD_MAX_CONNS, and one more is closed at once. */
START_TEST(test_deadline_and_cap)
{
	int fds[HTTPD_MAX_CONNS + 1];
	time_t t0 = time(NULL); /* no deadline is before t0 + HTTPD_DEADLINE_S */
	char c;

	for (int i = 0; i <= HTTPD_MAX_CONNS; i++)
		fds[i] = dial();
	serve(50);
	/* The last one found the table full. */
	ck_assert_int_eq(recv(fds[HTTPD_MAX_CONNS], &c, 1, 0), 0);
	httpd_tick(t0 + HTTPD_DEADLINE_S - 1);
	ck_assert_int_eq(recv(fds[0], &c, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	httpd_tick(time(NULL) + HTTPD_DEADLINE_S + 1);
	for (int i = 0; i <= HTTPD_MAX_CONNS; i++) {
		ck_assert_int_eq(recv(fds[i], &c, 1, 0), 0);
		close(fds[i]);
	}
	/* Their slots serve again. */
	char buf[1024];
	request("GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
}
END_TEST

/* A reload: the new socket serves, the old port is closed. */
START_TEST(test_swap)
{
	struct cfg_listen l = {.sslen = sizeof(struct sockaddr_in)};
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.ss;
	uint16_t old = port;
	socklen_t sl = sizeof(*sin);
	char buf[1024];
	int fd;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(httpd_listen(&l, &fd), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	httpd_swap(fd);
	port = ntohs(sin->sin_port);
	request("GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ck_assert(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	port = old;
	{
		struct sockaddr_in o = {.sin_family = AF_INET, .sin_port = htons(old)};
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		o.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(connect(s, (struct sockaddr *)&o, sizeof(o)), -1);
		ck_assert_int_eq(errno, ECONNREFUSED);
		close(s);
	}
	httpd_swap(-1); /* metrics.listen removed */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("figures");
	TCase *th = tcase_create("httpd");

	tcase_add_test(tc, test_totals);
	tcase_add_test(tc, test_wstats_check);
	tcase_add_test(tc, test_certificate_behind);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(th, setup, teardown);
	tcase_add_test(th, test_answers);
	tcase_add_test(th, test_too_large);
	tcase_add_test(th, test_deadline_and_cap);
	tcase_add_test(th, test_swap);
	suite_add_tcase(s, th);
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
