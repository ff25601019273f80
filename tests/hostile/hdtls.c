/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostile (test tool): datagrams to the DTLS port that no client should
 * send.  Every command first opens a real tunnel with a real DTLS channel
 * (PSK-NEGOTIATE, tests/lib/tdtls.c) and proves it with DPD requests over
 * DTLS, so what the hostile datagrams do to a live channel shows:
 *
 *   dtls flood    ClientHellos as fast as they go (or --pps), four kinds in
 *                 turn, each kind from its own sockets: a random session
 *                 id; one with this node's byte; one with the live
 *                 session's node, worker and slot bytes (only the random
 *                 part wrong); the live App-ID itself.  The first three must
 *                 get no answer at all; the live channel must keep
 *                 answering.
 *   dtls garbage  empty datagrams, random bytes, truncated and over-long ClientHellos,
 *                 DTLS-looking application data, plaintext alerts and
 *                 CCS, from the channel's own port and from a new one;
 *                 after each kind the channel must still answer.
 *   dtls unknown  a second session logs out, then its App-ID, its old
 *                 port and records under its old keys come back; datagrams
 *                 from an address with no session (-b: the second source):
 *                 no answer to any of them, the first session's channel
 *                 unharmed. */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/dtls.h>

#define MAX_SOCKS 64
#define HELLO_MAX 1500
#define REC_HDR	  13

/* A tunnel with its DTLS channel up. */
struct dchan {
	struct hc h;
	struct hresp r;
	struct tc_dtls_offer off;
	uint8_t key[TC_DTLS_PSK_LEN];
	int fd;
	gnutls_session_t s;
	gnutls_psk_client_credentials_t cred;
	uint32_t seq;
};

static void rnd(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		for (size_t i = 0; i < n; i++)
			((uint8_t *)p)[i] = (uint8_t)rand();
}

/* A UDP socket from source src_i (-b; the kernel's choice without) to the
 * server's address at port, connected, non-blocking.  -errno on failure. */
static int udp_socket(unsigned src_i, uint16_t port)
{
	struct sockaddr_storage to = O.server;
	int fd = socket(O.server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (to.ss_family == AF_INET)
		((struct sockaddr_in *)&to)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&to)->sin6_port = htons(port);
	if (O.n_src) {
		const struct sockaddr_storage *ss = &O.src[src_i % O.n_src];
		socklen_t l = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
		if (bind(fd, (const struct sockaddr *)ss, l) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&to, O.server_len) < 0)
		goto fail;
	return fd;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

static void dchan_close(struct dchan *d, bool bye)
{
	if (d->s)
		gnutls_deinit(d->s);
	if (d->cred)
		gnutls_psk_free_client_credentials(d->cred);
	d->s = NULL;
	d->cred = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (bye && d->h.tls)
		hc_frame(&d->h, TC_DISCONNECT, "\xb0hostile done", 13);
	hc_close(&d->h);
}

/* Log in, CONNECT offering DTLS, and bring the channel up from source
 * src_i within O.timeout_ms.  0, or -1 with a message on stderr. */
static int dchan_open(struct dchan *d, unsigned src_i)
{
	int64_t deadline;
	int r;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	O.dtls = true;
	r = hc_tunnel(&d->h, src_i, &d->r);
	if (r != 0) {
		fprintf(stderr, "hostile dtls: no tunnel (%d)\n", r);
		return -1;
	}
	if (tc_dtls_parse(d->r.head, d->r.head_len, &d->off) < 0 || d->off.id_len != 32) {
		fprintf(stderr, "hostile dtls: the CONNECT answer offers no PSK-NEGOTIATE DTLS\n");
		return -1;
	}
	if (tc_dtls_psk(d->h.tls, d->key) < 0 || (d->fd = udp_socket(src_i, d->off.port)) < 0 ||
	    tc_dtls_session(&d->s, &d->cred, d->fd, &d->off, d->key,
			    d->off.base_mtu ? d->off.base_mtu : 1406, (unsigned)O.timeout_ms) < 0) {
		fprintf(stderr, "hostile dtls: DTLS set-up failed\n");
		return -1;
	}
	deadline = now_ms() + O.timeout_ms;
	while ((r = gnutls_handshake(d->s)) == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	       (r < 0 && !gnutls_error_is_fatal(r))) {
		int64_t wait = gnutls_dtls_get_timeout(d->s);
		if (now_ms() + wait > deadline)
			wait = deadline - now_ms();
		if (wait <= 0)
			break;
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		poll(&p, 1, (int)wait);
	}
	if (r != 0) {
		fprintf(stderr, "hostile dtls: DTLS handshake: %s\n",
			r < 0 ? gnutls_strerror(r) : "timed out");
		return -1;
	}
	vlog("DTLS up: %s", gnutls_cipher_get_name(gnutls_cipher_get(d->s)));
	return 0;
}

/* A DPD request over DTLS answered with the same payload within ms. */
static bool dchan_ping(struct dchan *d, int ms)
{
	uint8_t req[16] = {TC_DTLS_DPD_REQ, 'h', 'o', 's', 't', 'i', 'l', 'e'}, buf[2048];
	int64_t deadline = now_ms() + ms;

	d->seq++;
	memcpy(req + 8, &d->seq, sizeof(d->seq));
	if (gnutls_record_send(d->s, req, sizeof(req)) != (ssize_t)sizeof(req))
		return false;
	while (now_ms() < deadline) {
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			continue;
		while ((r = gnutls_record_recv(d->s, buf, sizeof(buf))) != GNUTLS_E_AGAIN) {
			if (r == (ssize_t)sizeof(req) && buf[0] == TC_DTLS_DPD_RESP &&
			    memcmp(buf + 1, req + 1, sizeof(req) - 1) == 0)
				return true;
			if (r == 0 || (r < 0 && gnutls_error_is_fatal((int)r))) {
				vlog("DTLS channel: %s", r ? gnutls_strerror((int)r) : "closed");
				return false;
			}
		}
	}
	return false;
}

/* The channel answers, within three tries of a second. */
static bool dchan_alive(struct dchan *d)
{
	for (int i = 0; i < 3; i++)
		if (dchan_ping(d, 1000))
			return true;
	return false;
}

/* Datagrams waiting on fd (read and counted, not looked at). */
static unsigned drain_count(int fd)
{
	uint8_t buf[2048];
	unsigned n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* ---- flood ---------------------------------------------------------------- */

enum { K_RANDOM, K_NODE, K_SLOT, K_LIVE, N_KINDS };
static const char *const kind_name[N_KINDS] = {"random", "node", "slot", "live"};

struct flood {
	uint8_t hello[HELLO_MAX];
	size_t len;
	int fds[N_KINDS][MAX_SOCKS];
	unsigned nsock;
	uint64_t sent[N_KINDS], replies[N_KINDS];
	unsigned pings_ok, pings_lost;
	int64_t max_gap_ms, last_ok;
};

/* The next ClientHello of kind k: a fresh client random and the id. */
static void make_hello(struct flood *f, const uint8_t *live, unsigned k)
{
	uint8_t *id = f->hello + TC_DTLS_HELLO_SID;
	const size_t keep[N_KINDS] = {0, 1, 5, 32}; /* bytes of the live id kept */

	rnd(f->hello + REC_HDR + 12 + 2, 32);
	rnd(id, 32);
	memcpy(id, live, keep[k]);
	if (k == K_RANDOM && id[0] == live[0])
		id[0] ^= 0x80; /* surely another node's */
	if (k == K_SLOT)
		id[31] ^= id[31] == live[31] ? 1 : 0; /* surely not the live id */
}

static void flood_check(struct flood *f, struct dchan *d)
{
	int64_t now = now_ms();

	if (dchan_ping(d, 300)) {
		f->pings_ok++;
		if (f->last_ok && now - f->last_ok > f->max_gap_ms)
			f->max_gap_ms = now - f->last_ok;
		f->last_ok = now_ms();
	} else {
		f->pings_lost++;
	}
	for (unsigned k = 0; k < N_KINDS; k++)
		for (unsigned i = 0; i < f->nsock; i++)
			f->replies[k] += drain_count(f->fds[k][i]);
}

static void flood_run(struct flood *f, struct dchan *d, long pps)
{
	int64_t t0 = now_ms(), end = t0 + (int64_t)(O.seconds * 1000), next_check = t0;
	uint64_t total = 0;

	while (now_ms() < end) {
		for (unsigned b = 0; b < 64; b++, total++) {
			unsigned k = (unsigned)(total % N_KINDS);
			int fd = f->fds[k][(total / N_KINDS) % f->nsock];
			make_hello(f, d->off.id, k);
			if (send(fd, f->hello, f->len, MSG_DONTWAIT) == (ssize_t)f->len)
				f->sent[k]++;
		}
		if (now_ms() >= next_check) {
			flood_check(f, d);
			next_check = now_ms() + 200;
		}
		if (pps > 0) {
			int64_t due = t0 + (int64_t)(total * 1000 / (uint64_t)pps);
			if (due > now_ms())
				usleep((useconds_t)(due - now_ms()) * 1000);
		}
	}
}

static int dtls_flood(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"pps", required_argument, NULL, 'p'}, {"sockets", required_argument, NULL, 'k'}, {0}};
	static struct flood f;
	struct dchan d;
	long pps = 0;
	int c;
	bool ok;

	f.nsock = 8;
	while ((c = getopt_long(argc, argv, "p:k:", lo, NULL)) != -1) {
		if (c == 'p')
			pps = parse_count(optarg, 1, 10000000);
		else if (c == 'k')
			f.nsock = (unsigned)parse_count(optarg, 1, MAX_SOCKS);
		else
			return verdict(false, "dtls flood", "bad option");
	}
	if (dchan_open(&d, 0) < 0 || !dchan_alive(&d))
		return verdict(false, "dtls flood", "no live DTLS channel to start with");
	if (tc_dtls_hello(f.hello, sizeof(f.hello), &f.len, d.off.id, 32) < 0)
		return verdict(false, "dtls flood", "cannot build a ClientHello");
	want_fds(N_KINDS * f.nsock + 64);
	for (unsigned k = 0; k < N_KINDS; k++)
		for (unsigned i = 0; i < f.nsock; i++)
			if ((f.fds[k][i] = udp_socket(0, d.off.port)) < 0)
				return verdict(false, "dtls flood", "socket: %s",
					       strerror(-f.fds[k][i]));
	printf("dtls-flood: hello_bytes=%zu sockets_per_kind=%u pps=%ld seconds=%.1f\n", f.len,
	       f.nsock, pps, O.seconds);
	f.last_ok = now_ms();
	flood_run(&f, &d, pps);
	usleep(1500 * 1000); /* the server's answers (and retransmissions) arrive */
	flood_check(&f, &d);
	ok = dchan_alive(&d);
	for (unsigned k = 0; k < N_KINDS; k++) {
		for (unsigned i = 0; i < f.nsock; i++)
			close(f.fds[k][i]);
		printf("dtls-flood: kind=%s sent=%llu replies=%llu\n", kind_name[k],
		       (unsigned long long)f.sent[k], (unsigned long long)f.replies[k]);
	}
	printf("dtls-flood: sent_unknown=%llu sent_live=%llu pings_ok=%u pings_lost=%u "
	       "max_gap_ms=%lld channel_after=%s\n",
	       (unsigned long long)(f.sent[K_RANDOM] + f.sent[K_NODE] + f.sent[K_SLOT]),
	       (unsigned long long)f.sent[K_LIVE], f.pings_ok, f.pings_lost,
	       (long long)f.max_gap_ms, ok ? "up" : "down");
	dchan_close(&d, true);
	if (f.replies[K_RANDOM] + f.replies[K_NODE] + f.replies[K_SLOT])
		return verdict(false, "dtls flood",
			       "the server answered ClientHellos of no session");
	if (!ok)
		return verdict(false, "dtls flood", "the live DTLS channel stopped answering");
	return verdict(true, "dtls flood",
		       "%llu ClientHellos, none of no session answered; live "
		       "channel answered %u of %u DPD during the flood",
		       (unsigned long long)(f.sent[0] + f.sent[1] + f.sent[2] + f.sent[3]),
		       f.pings_ok, f.pings_ok + f.pings_lost);
}

/* ---- garbage -------------------------------------------------------------- */

/* Datagram i of a kind into b; its length. */
static size_t garbage(const char *kind, const uint8_t *hello, size_t hlen, uint8_t *b, unsigned i)
{
	size_t n = 1 + (size_t)(i * 7919u) % 1400;

	rnd(b, n);
	if (!strcmp(kind, "empty"))
		return 0;
	if (!strcmp(kind, "random"))
		return n;
	if (!strcmp(kind, "truncated-hello")) {
		n = 1 + (size_t)i % (hlen - 1);
		memcpy(b, hello, n);
		return n;
	}
	if (!strcmp(kind, "long-hello")) { /* the record claims more than is there */
		memcpy(b, hello, hlen);
		n = hlen - 1 - (size_t)i % 64;
		b[11] = (uint8_t)((hlen + i) >> 8);
		b[12] = (uint8_t)(hlen + i);
		return n;
	}
	if (!strcmp(kind, "bad-hello")) { /* a hello header, noise after the id */
		memcpy(b, hello, TC_DTLS_HELLO_SID + 32);
		return hlen;
	}
	/* Record headers: type, version fe fd, epoch, sequence, length. */
	b[1] = 0xfe;
	b[2] = 0xfd;
	b[3] = 0;
	if (!strcmp(kind, "appdata")) {
		b[0] = 23, b[4] = 1;
	} else if (!strcmp(kind, "alert")) { /* plaintext fatal alert, epoch 0 */
		b[0] = 21, b[4] = 0, n = REC_HDR + 2;
		b[REC_HDR] = 2, b[REC_HDR + 1] = (uint8_t)(i % 2 ? 0 : 40);
	} else if (!strcmp(kind, "alert-epoch1")) {
		b[0] = 21, b[4] = 1;
	} else { /* ccs */
		b[0] = 20, b[4] = 0, n = REC_HDR + 1, b[REC_HDR] = 1;
	}
	if (n < REC_HDR)
		n = REC_HDR + 16;
	b[11] = (uint8_t)((n - REC_HDR) >> 8);
	b[12] = (uint8_t)(n - REC_HDR);
	return n;
}

static int dtls_garbage(int argc, char **argv)
{
	static const char *const kinds[] = {"empty",	  "random",	  "truncated-hello",
					    "long-hello", "bad-hello",	  "appdata",
					    "alert",	  "alert-epoch1", "ccs"};
	uint8_t hello[HELLO_MAX], b[2048];
	size_t hlen;
	long count = 2000;
	unsigned replies = 0, broken = 0;
	struct dchan d;
	int fresh;

	if (argc > 2 && !strcmp(argv[1], "--count"))
		count = parse_count(argv[2], 1, 10000000);
	if (dchan_open(&d, 0) < 0 || !dchan_alive(&d))
		return verdict(false, "dtls garbage", "no live DTLS channel to start with");
	if (tc_dtls_hello(hello, sizeof(hello), &hlen, d.off.id, 32) < 0)
		return verdict(false, "dtls garbage", "cannot build a ClientHello");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if ((fresh = udp_socket(0, d.off.port)) < 0)
			return verdict(false, "dtls garbage", "socket: %s", strerror(-fresh));
		for (long i = 0; i < count; i++) {
			size_t n = garbage(kinds[k], hello, hlen, b, (unsigned)i);
			/* From the channel's own port, then from a new one. */
			(void)send(i % 2 ? fresh : d.fd, b, n, MSG_DONTWAIT);
			if (i % 256 == 255)
				usleep(1000);
		}
		bool alive = dchan_alive(&d);
		unsigned got = drain_count(fresh);
		close(fresh);
		replies += got;
		broken += !alive;
		printf("dtls-garbage: kind=%s sent=%ld replies_to_new_port=%u channel=%s\n",
		       kinds[k], count, got, alive ? "up" : "down");
		if (!alive)
			break;
	}
	dchan_close(&d, true);
	if (broken)
		return verdict(false, "dtls garbage", "the DTLS channel died of garbage");
	if (replies)
		return verdict(false, "dtls garbage", "the server answered %u garbage datagrams",
			       replies);
	return verdict(true, "dtls garbage",
		       "%zu kinds x %ld datagrams: no answer, the channel kept working",
		       sizeof(kinds) / sizeof(kinds[0]), count);
}

/* ---- unknown sessions ----------------------------------------------------- */

/* Send count datagrams of what to fd; the answers within 1 s after. */
static unsigned send_and_listen(int fd, const uint8_t *b, size_t n, long count)
{
	for (long i = 0; i < count; i++) {
		(void)send(fd, b, n, MSG_DONTWAIT);
		if (i % 256 == 255)
			usleep(1000);
	}
	usleep(1000 * 1000);
	return drain_count(fd);
}

static int dtls_unknown(int argc, char **argv)
{
	uint8_t hello[HELLO_MAX], rec[1200];
	size_t hlen;
	long count = 1000;
	unsigned got = 0, sent = 0;
	struct dchan a, b;
	int fd;

	if (argc > 2 && !strcmp(argv[1], "--count"))
		count = parse_count(argv[2], 1, 10000000);
	if (dchan_open(&a, 0) < 0 || dchan_open(&b, 0) < 0 || !dchan_alive(&b))
		return verdict(false, "dtls unknown", "no live DTLS channels to start with");
	/* b logs out; its App-ID, its port and its keys are of no session now. */
	hc_frame(&b.h, TC_DISCONNECT, "\xb0hostile logs out", 17);
	hc_wait_closed(&b.h, O.timeout_ms);
	if (tc_dtls_hello(hello, sizeof(hello), &hlen, b.off.id, 32) < 0)
		return verdict(false, "dtls unknown", "cannot build a ClientHello");
	got += send_and_listen(b.fd, hello, hlen, count);
	sent += (unsigned)count;
	if ((fd = udp_socket(0, b.off.port)) < 0)
		return verdict(false, "dtls unknown", "socket: %s", strerror(-fd));
	got += send_and_listen(fd, hello, hlen, count);
	sent += (unsigned)count;
	close(fd);
	/* Records under the dead session's keys, from its old port. */
	memset(rec, 0, sizeof(rec));
	for (long i = 0; i < count; i++)
		if (gnutls_record_send(b.s, rec, 1 + (size_t)i % sizeof(rec)) > 0)
			sent++;
	usleep(1000 * 1000);
	got += drain_count(b.fd);
	printf("dtls-unknown: old_session sent=%u replies=%u\n", sent, got);
	/* An address with no session at all (the second -b source). */
	if (O.n_src > 1) {
		if ((fd = udp_socket(1, a.off.port)) < 0)
			return verdict(false, "dtls unknown", "socket: %s", strerror(-fd));
		rnd(rec, sizeof(rec));
		rec[0] = 23, rec[1] = 0xfe, rec[2] = 0xfd, rec[3] = 0, rec[4] = 1;
		rec[11] = (sizeof(rec) - REC_HDR) >> 8, rec[12] = (sizeof(rec) - REC_HDR) & 0xff;
		unsigned g = send_and_listen(fd, rec, sizeof(rec), count);
		g += send_and_listen(fd, hello, hlen, count);
		close(fd);
		printf("dtls-unknown: other_address sent=%ld replies=%u\n", 2 * count, g);
		got += g;
		sent += 2 * (unsigned)count;
	}
	bool alive = dchan_alive(&a);
	dchan_close(&b, false);
	dchan_close(&a, true);
	printf("dtls-unknown: sent=%u replies=%u live_channel=%s\n", sent, got,
	       alive ? "up" : "down");
	if (got)
		return verdict(false, "dtls unknown", "%u answers to datagrams of no session", got);
	if (!alive)
		return verdict(false, "dtls unknown", "the live session's DTLS channel died");
	return verdict(true, "dtls unknown", "%u datagrams of no session, no answer", sent);
}

int cmd_dtls(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return dtls_flood(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "garbage"))
		return dtls_garbage(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "unknown"))
		return dtls_unknown(argc - 1, argv + 1);
	printf("Usage: hostile [-t SECONDS] [-b SOURCES] dtls flood [--pps N] [--sockets K]\n"
	       "       hostile dtls garbage [--count N]\n"
	       "       hostile [-b A,B] dtls unknown [--count N]\n"
	       "Each opens a tunnel with a live DTLS channel (DPD over DTLS answered), then:\n"
	       "  flood    ClientHellos for -t s (random ids, ids of this node, of the live\n"
	       "           session's slot, the live App-ID); none but the live one may be\n"
	       "           answered, the live channel must keep working\n"
	       "  garbage  N datagrams of each kind of noise from the channel's port and a new\n"
	       "           one; no answer, the channel works after each kind\n"
	       "  unknown  a logged-out session's App-ID, port and keys, and datagrams from the\n"
	       "           second -b address (no session): no answer\n");
	return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
