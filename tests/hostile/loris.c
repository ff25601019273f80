/* hostile (test tool): slow-loris.  Many connections on one epoll loop
 * that never finish: TCP only, half a ClientHello, or a finished TLS
 * handshake followed by an HTTP request trickled one byte at a time.  It
 * watches when the server closes each one and how many the server holds
 * at once (in all and per source address), which is what the handshake
 * timeouts and limits promise. */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { M_TCP, M_HELLO, M_HTTP, M_MIX };
enum { S_FREE, S_CONNECTING, S_STALLED, S_HS, S_TRICKLE, S_DONE };

static const char *const mode_names[] = {"tcp", "hello", "http", "mix"};

struct lc {
	int fd;
	gnutls_session_t tls;
	uint8_t mode, st;
	bool retry_send; /* a trickled byte met EAGAIN: GnuTLS wants the call again */
	unsigned src;
	int64_t t_open, t_stall, next_byte;
	uint32_t sent;
};

static struct {
	struct lc *c;
	unsigned n;
	int ep;
	uint8_t hello[4096];
	size_t hello_len;
	int interval_ms;
	/* results */
	unsigned opened, connect_failed, handshakes, closed, held_max, held_src_max;
	unsigned *held_src; /* per source, this sample */
	int64_t *life;	    /* ms from stall start to the server's close */
	unsigned n_life, life_cap;
} L;

static const char trickle[] = "POST / HTTP/1.1\r\nHost: tunneld-lab\r\nContent-Length: 64\r\n"
			      "X-Slowly: ";

static void lc_drop(struct lc *c)
{
	if (c->tls)
		gnutls_deinit(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->st = S_DONE;
}

/* The server ended it: note how long it lasted since it stalled. */
static void server_closed(struct lc *c, int64_t now)
{
	int64_t from = c->t_stall ? c->t_stall : c->t_open;

	L.closed++;
	if (L.n_life == L.life_cap) {
		unsigned cap = L.life_cap ? 2 * L.life_cap : 1024;
		int64_t *p = realloc(L.life, cap * sizeof(*p));
		if (p)
			L.life = p, L.life_cap = cap;
	}
	if (L.n_life < L.life_cap)
		L.life[L.n_life++] = now - from;
	vlog("connection %u (%s) closed by the server after %lld ms", (unsigned)(c - L.c),
	     mode_names[c->mode], (long long)(now - from));
	lc_drop(c);
}

static void lc_start(struct lc *c, unsigned i, unsigned mode, int64_t now)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = i};

	memset(c, 0, sizeof(*c));
	c->mode = (uint8_t)(mode == M_MIX ? i % 3 : mode);
	c->src = i;
	c->t_open = now;
	c->fd = tcp_start(i);
	if (c->fd < 0) {
		vlog("connect: %s", strerror(-c->fd));
		L.connect_failed++;
		c->st = S_DONE;
		return;
	}
	L.opened++;
	c->st = S_CONNECTING;
	if (epoll_ctl(L.ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		L.connect_failed++;
		lc_drop(c);
	}
}

static void hs_step(struct lc *c, int64_t now)
{
	int r = gnutls_handshake(c->tls);
	struct epoll_event ev = {.data.u32 = (uint32_t)(c - L.c)};

	if (r == 0) {
		L.handshakes++;
		c->st = S_TRICKLE;
		c->t_stall = now;
		c->next_byte = now;
		ev.events = EPOLLIN | EPOLLRDHUP;
		epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		ev.events = gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
		epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	server_closed(c, now); /* evicted or refused during the handshake */
}

static void on_connected(struct lc *c, int64_t now)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)(c - L.c)};
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
		vlog("connect: %s", strerror(err));
		L.connect_failed++;
		lc_drop(c);
		return;
	}
	switch (c->mode) {
	case M_TCP:
		break;
	case M_HELLO:
		/* Half a ClientHello: the record header promises more. */
		if (send(c->fd, L.hello, L.hello_len / 2, MSG_NOSIGNAL) < 0) {
			server_closed(c, now);
			return;
		}
		break;
	case M_HTTP:
		if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0 ||
		    gnutls_priority_set_direct(c->tls, O.priority, NULL) < 0 ||
		    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, H_CRED) < 0) {
			L.connect_failed++;
			lc_drop(c);
			return;
		}
		gnutls_transport_set_int(c->tls, c->fd);
		c->st = S_HS;
		hs_step(c, now);
		return;
	}
	c->st = S_STALLED;
	c->t_stall = now;
	epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_event(struct lc *c, uint32_t events, int64_t now)
{
	uint8_t buf[4096];
	ssize_t n;

	switch (c->st) {
	case S_CONNECTING:
		on_connected(c, now);
		break;
	case S_HS:
		hs_step(c, now);
		break;
	case S_STALLED:
		while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			; /* an alert, perhaps: the close follows */
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			server_closed(c, now);
		break;
	case S_TRICKLE:
		do
			n = gnutls_record_recv(c->tls, buf, sizeof(buf));
		while (n > 0);
		if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
			server_closed(c, now);
		break;
	default:
		break;
	}
	(void)events;
}

/* One more byte of a request that never ends, as its own TLS record. */
static void trickle_step(struct lc *c, int64_t now)
{
	char b;
	ssize_t r;

	if (c->retry_send) {
		r = gnutls_record_send(c->tls, NULL, 0);
	} else {
		b = c->sent < sizeof(trickle) - 1 ? trickle[c->sent] : 'z';
		r = gnutls_record_send(c->tls, &b, 1);
	}
	c->retry_send = r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
	if (r == 1)
		c->sent++;
	else if (r < 0 && !c->retry_send)
		server_closed(c, now);
	c->next_byte = now + L.interval_ms;
}

/* How many connections the server holds now: open for at least grace ms
 * (a connection refused right after accept is gone well before that). */
static void sample_held(int64_t now, int grace_ms)
{
	unsigned held = 0, nsrc = O.n_src ? O.n_src : 1;

	memset(L.held_src, 0, nsrc * sizeof(*L.held_src));
	for (unsigned i = 0; i < L.n; i++) {
		struct lc *c = &L.c[i];
		if (c->st < S_STALLED || c->st == S_DONE || now - c->t_open < grace_ms)
			continue;
		held++;
		L.held_src[c->src % nsrc]++;
	}
	if (held > L.held_max)
		L.held_max = held;
	for (unsigned s = 0; s < nsrc; s++)
		if (L.held_src[s] > L.held_src_max)
			L.held_src_max = L.held_src[s];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void loris_help(void)
{
	printf("Usage: hostile [-b SOURCES] [-t SECONDS] loris MODE N [OPTIONS]\n"
	       "Open N connections that never finish, MODE:\n"
	       "  tcp    connect, send nothing\n"
	       "  hello  send half a TLS ClientHello\n"
	       "  http   finish TLS, then trickle an HTTP request a byte at a time\n"
	       "  mix    the three in turn\n"
	       "Runs -t seconds, then reports and closes everything.\n"
	       "  --rate R            open at most R connections a second (default 500)\n"
	       "  --reopen            open a new connection for each one the server closes\n"
	       "  --interval MS       trickle one byte every MS ms (default 500)\n"
	       "  --grace MS          'held' = open at least MS ms (default 1000)\n"
	       "Checks (each turns into the verdict):\n"
	       "  --max-held N        at most N of ours held at any time\n"
	       "  --max-held-per-source N\n"
	       "  --min-held N        at least N held at some time (the flood got in)\n"
	       "  --lifetime MIN:MAX  the server closes every connection MIN..MAX s after it\n"
	       "                      stalled (TCP connect, or TLS done for http)\n");
	exit(0);
}

int cmd_loris(int argc, char **argv)
{
	static const struct option lo[] = {{"rate", required_argument, NULL, 'r'},
					   {"reopen", no_argument, NULL, 'o'},
					   {"interval", required_argument, NULL, 'i'},
					   {"grace", required_argument, NULL, 'g'},
					   {"max-held", required_argument, NULL, 'm'},
					   {"max-held-per-source", required_argument, NULL, 'M'},
					   {"min-held", required_argument, NULL, 'n'},
					   {"lifetime", required_argument, NULL, 'l'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	long rate = 500, max_held = -1, max_src = -1, min_held = -1, grace = 1000;
	double life_min = -1, life_max = -1;
	bool reopen = false;
	unsigned mode = 0, starts = 0;
	int c;

	L.interval_ms = 500;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			rate = parse_count(optarg, 1, 1000000);
			break;
		case 'o':
			reopen = true;
			break;
		case 'i':
			L.interval_ms = (int)parse_count(optarg, 1, 600000);
			break;
		case 'g':
			grace = parse_count(optarg, 0, 600000);
			break;
		case 'm':
			max_held = parse_count(optarg, 0, 1000000);
			break;
		case 'M':
			max_src = parse_count(optarg, 0, 1000000);
			break;
		case 'n':
			min_held = parse_count(optarg, 0, 1000000);
			break;
		case 'l': {
			char *colon = strchr(optarg, ':');
			if (!colon)
				goto usage;
			*colon = 0;
			life_min = parse_seconds(optarg);
			life_max = parse_seconds(colon + 1);
			if (life_min < 0 || life_max < life_min)
				goto usage;
			break;
		}
		case 'h':
			loris_help();
			break;
		default:
			goto usage;
		}
	}
	if (optind + 2 != argc)
		goto usage;
	for (mode = 0; mode < 4 && strcmp(argv[optind], mode_names[mode]); mode++)
		;
	if (mode == 4)
		goto usage;
	L.n = (unsigned)parse_count(argv[optind + 1], 1, 100000);
	if (life_min >= 0 && reopen) {
		fprintf(stderr, "hostile loris: --lifetime and --reopen do not mix\n");
		return 2;
	}
	want_fds(L.n + 64);
	L.c = calloc(L.n, sizeof(*L.c));
	L.held_src = calloc(O.n_src ? O.n_src : 1, sizeof(*L.held_src));
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!L.c || !L.held_src || L.ep < 0)
		return verdict(false, "loris", "set-up failed");
	if (client_hello(L.hello, sizeof(L.hello), &L.hello_len) < 0)
		return verdict(false, "loris", "cannot make a ClientHello");
	for (unsigned i = 0; i < L.n; i++)
		L.c[i].fd = -1;

	int64_t t0 = now_ms(), end = t0 + (int64_t)(O.seconds * 1000), now, next_sample = t0;
	struct epoll_event evs[256];
	for (now = t0; now < end; now = now_ms()) {
		/* Starts (first ones and reopens) are paced at the rate. */
		int64_t allowed = (now - t0) * rate / 1000 + 1;
		for (unsigned i = 0; i < L.n && (int64_t)starts < allowed; i++) {
			struct lc *lc = &L.c[i];
			if (lc->st == S_FREE || (reopen && lc->st == S_DONE)) {
				lc_start(lc, i, mode, now);
				starts++;
			}
		}
		int n = epoll_wait(L.ep, evs, 256, 20);
		now = now_ms();
		for (int k = 0; k < n; k++)
			on_event(&L.c[evs[k].data.u32], evs[k].events, now);
		for (unsigned i = 0; i < L.n; i++)
			if (L.c[i].st == S_TRICKLE && L.c[i].next_byte <= now)
				trickle_step(&L.c[i], now);
		if (now >= next_sample) {
			sample_held(now, (int)grace);
			next_sample = now + 100;
		}
	}

	/* Report, then check. */
	unsigned open_end = 0, old_end = 0;
	for (unsigned i = 0; i < L.n; i++) {
		struct lc *lc = &L.c[i];
		if (lc->st == S_FREE || lc->st == S_DONE)
			continue;
		open_end++;
		if (life_max >= 0 &&
		    now - (lc->t_stall ? lc->t_stall : lc->t_open) > life_max * 1000)
			old_end++;
		lc_drop(lc);
	}
	close(L.ep);
	if (L.n_life > 0) /* none closed by the server: L.life may be NULL */
		qsort(L.life, L.n_life, sizeof(*L.life), cmp_i64);
	printf("loris: mode=%s conns=%u sources=%u seconds=%.1f rate=%ld reopen=%s\n",
	       mode_names[mode], L.n, O.n_src ? O.n_src : 1, O.seconds, rate,
	       reopen ? "yes" : "no");
	printf("loris: opened=%u connect_failed=%u handshakes_done=%u closed_by_server=%u "
	       "open_at_end=%u\n",
	       L.opened, L.connect_failed, L.handshakes, L.closed, open_end);
	printf("loris: held_max=%u held_max_per_source=%u (held: open >= %ld ms)\n", L.held_max,
	       L.held_src_max, grace);
	if (L.n_life)
		printf("loris: lifetime_ms min=%lld median=%lld max=%lld\n", (long long)L.life[0],
		       (long long)L.life[L.n_life / 2], (long long)L.life[L.n_life - 1]);

	char why[256] = "";
	if (max_held >= 0 && L.held_max > (unsigned)max_held)
		snprintf(why, sizeof(why), "%u connections held at once, limit %ld", L.held_max,
			 max_held);
	else if (max_src >= 0 && L.held_src_max > (unsigned)max_src)
		snprintf(why, sizeof(why),
			 "%u connections from one address held at once, limit %ld", L.held_src_max,
			 max_src);
	else if (min_held >= 0 && L.held_max < (unsigned)min_held)
		snprintf(why, sizeof(why), "only %u connections ever held, want at least %ld",
			 L.held_max, min_held);
	else if (life_min >= 0 && L.opened - L.connect_failed == 0)
		snprintf(why, sizeof(why), "no connection was made");
	else if (life_min >= 0 && old_end)
		snprintf(why, sizeof(why), "%u connections still open after %.1f s", old_end,
			 life_max);
	else if (life_min >= 0 && L.n_life && L.life[0] < life_min * 1000)
		snprintf(why, sizeof(why), "a connection closed after %lld ms, before %.1f s",
			 (long long)L.life[0], life_min);
	else if (life_min >= 0 && L.n_life && L.life[L.n_life - 1] > life_max * 1000)
		snprintf(why, sizeof(why), "a connection closed only after %lld ms, past %.1f s",
			 (long long)L.life[L.n_life - 1], life_max);
	free(L.c);
	free(L.held_src);
	free(L.life);
	if (why[0])
		return verdict(false, "loris", "%s", why);
	return verdict(true, "loris",
		       "%s x%u: held at most %u (%u per address), %u closed by the "
		       "server",
		       mode_names[mode], L.n, L.held_max, L.held_src_max, L.closed);
usage:
	fprintf(stderr, "hostile loris: bad arguments; see 'hostile loris --help'\n");
	return 2;
}
