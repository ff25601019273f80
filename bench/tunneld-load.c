/* tunneld-load: load generator for tunneld and other OpenConnect (CSTP)
 * servers.  Runs as root or not, in the client namespace of the bench lab
 * (or, with --echo, in the LAN namespace).  Options, the measuring modes
 * and their reports; bench/README.md explains every figure.
 *
 * Every mode is bounded in time: --duration for the measured phase, and
 * connect phases end after --connect-phase seconds at most. */
#include "config.h"
#include "bench/load.h"

#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

volatile sig_atomic_t stop_flag; /* SIGINT, SIGTERM: end the mode early */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f, int code) __attribute__((noreturn));

static void usage(FILE *f, int code)
{
	fprintf(
	    f,
	    "Usage: tunneld-load MODE [OPTIONS]\n"
	    "Modes:\n"
	    "  --connect-rate        connect, log in, CONNECT, say goodbye, repeat\n"
	    "                        (--concurrency clients at once, for --duration s)\n"
	    "  --hold N              hold N idle sessions; with --server-pid, server RSS/PSS\n"
	    "                        per session\n"
	    "  --echo-load M         M sessions send UDP packets to --echo-addr through the\n"
	    "                        tunnel (--window in flight each, or one per --interval)\n"
	    "  --echo PORT           run the UDP echo server (in the LAN namespace)\n"
	    "  --raw-rtt             UDP echo RTT to --echo-addr without a tunnel\n"
	    "  --reflect IFNAME      create tun device IFNAME and send every UDP or TCP\n"
	    "                        packet routed into it back (LAN namespace; the echo\n"
	    "                        for --proto tcp)\n"
	    "  --proc-stat           print CPU seconds and memory of --server-pid's processes\n"
	    "  --hash-cost HASH      time one crypt() of --password against HASH (ms)\n"
	    "Options:\n"
	    "  -s, --server ADDR:PORT      server (default 198.18.0.1:4443)\n"
	    "  -u, --user NAME             user name (default alice)\n"
	    "  -p, --password PASS         password (default alice-pass)\n"
	    "      --servercert pin-sha256:B64  pin of the server's public key\n"
	    "      --insecure              accept any server certificate\n"
	    "      --priority STRING       GnuTLS priority string (default NORMAL)\n"
	    "  -t, --duration SEC          length of the measured phase (default 10)\n"
	    "  -c, --concurrency N         connects in progress at once (default 32)\n"
	    "      --connect-timeout SEC   per connect (default 20)\n"
	    "      --connect-phase SEC     limit for establishing all sessions (default 120)\n"
	    "      --echo-addr ADDR:PORT   echo server (default 198.18.1.2:9000)\n"
	    "      --window N              echo packets in flight per session (default 4)\n"
	    "      --size BYTES            IP size of echo packets, %d..%d (default 1000)\n"
	    "      --proto udp|tcp         echo packets: UDP, or TCP-like segments (ACK|PSH,\n"
	    "                              advancing sequence numbers) for a --reflect echo\n"
	    "      --interval USEC         pace: one packet per session per interval\n"
	    "      --source ADDR/COUNT     bind to COUNT consecutive source addresses\n"
	    "      --server-pid PID        server process (master); repeatable\n"
	    "      --raw-compare           echo-load: probe the echo server without a tunnel\n"
	    "                              too, alternating with the tunnel's packets\n"
	    "      --ipv4-only             ask for an IPv4 address only\n"
	    "      --label TEXT            name in the RESULT line\n"
	    "      --dtls                  hold / echo-load: offer DTLS (PSK-NEGOTIATE) and move\n"
	    "                              the packets over it; sessions whose handshake fails\n"
	    "                              stay on TLS (counted)\n"
	    "      --dtls-rehandshake SEC  a new DTLS handshake (same App-ID) every SEC per "
	    "session\n"
	    "      --dtls-timeout SEC      a DTLS handshake gives up after SEC (default 10)\n"
	    "      --procs N               hold: sessions held by N processes (default: as\n"
	    "                              many as the limit of open files asks for)\n",
	    LOAD_MIN_PKT, LOAD_MAX_PKT);
	exit(code);
}

static void parse_addr(const char *s, struct sockaddr_in *a, const char *what)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		die("%s: expected ADDR:PORT, got '%s'", what, s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1 || port < 1 || port > 65535)
		die("%s: bad address '%s'", what, s);
}

static unsigned long num(const char *s, unsigned long lo, unsigned long hi, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v < lo || v > hi)
		die("%s: expected a number in %lu..%lu, got '%s'", what, lo, hi, s);
	return v;
}

/* As many open files as need, up to the hard limit (raised too where
 * that is allowed).  --hold spreads its sessions over processes when one
 * cannot hold them all; the other modes warn. */
static void raise_nofile(unsigned need, bool warn)
{
	struct rlimit r, hard;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur >= need)
		return;
	hard = r;
	if (r.rlim_max < need && geteuid() == 0)
		r.rlim_max = need;
	r.rlim_cur = need < r.rlim_max ? need : r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
		r = hard; /* not allowed to raise the hard limit: up to it */
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			getrlimit(RLIMIT_NOFILE, &r);
	}
	if (warn && r.rlim_cur < need)
		fprintf(stderr, "tunneld-load: warning: only %llu file descriptors\n",
			(unsigned long long)r.rlim_cur);
}

static bool server_stat(const struct opts *o, struct srv_stat *st)
{
	if (!o->n_server_pids)
		return false;
	if (srv_stat_read(o->server_pids, o->n_server_pids, st) < 0) {
		fprintf(stderr, "tunneld-load: cannot read the server's processes\n");
		return false;
	}
	return true;
}

static void print_hist(const char *what, const struct hist *h, double scale, const char *unit)
{
	printf("  %s: n=%llu p50 %.1f p90 %.1f p99 %.1f max %.1f %s\n", what,
	       (unsigned long long)h->n, hist_quantile_us(h, 0.5) / scale,
	       hist_quantile_us(h, 0.9) / scale, hist_quantile_us(h, 0.99) / scale,
	       (double)h->max_ns / 1000 / scale, unit);
}

/* Start idle clients (slots next..limit-1, keeping at most concurrency
 * connects in progress), poll once, sweep deadlines. */
static void step(struct load *L, unsigned limit, unsigned *next)
{
	while (L->in_connect < L->o->concurrency && *next < limit) {
		struct client *c = &L->c[*next % L->n];
		(*next)++;
		if (c->st == C_IDLE)
			client_start(L, c);
	}
	load_poll(L, 5);
	load_sweep(L, now_ns());
}

/* ---- --connect-rate ---- */
static int mode_connect_rate(const struct opts *o)
{
	struct load L;
	struct srv_stat a = {0}, b = {0};
	bool have = false;
	unsigned next = 0;
	uint64_t t0, end, base;
	double secs, cpu = 0;

	load_init(&L, o, o->concurrency);
	L.cycle = true;
	have = server_stat(o, &a);
	t0 = now_ns();
	end = t0 + (uint64_t)(o->duration * NS_PER_SEC);
	base = 0;
	while (now_ns() < end && !stop_flag) {
		/* Each client starts again as soon as it is idle. */
		next = 0;
		step(&L, o->concurrency, &next);
	}
	secs = (double)(now_ns() - t0) / NS_PER_SEC;
	if (have)
		have = server_stat(o, &b);
	if (have)
		cpu = b.cpu_s - a.cpu_s;
	base = L.s.connects;
	printf("connect-rate %s: %llu connects in %.1f s = %.0f/s (%llu failed%s%s), %llu "
	       "sessions ended with BYE\n",
	       o->label, (unsigned long long)base, secs, (double)base / secs,
	       (unsigned long long)L.s.connect_fail, L.s.fail_reason[0] ? ", last: " : "",
	       L.s.fail_reason, (unsigned long long)L.s.byes);
	printf("  TLS: %s\n", L.s.tls_desc);
	print_hist("connect time (TCP+TLS+login+CONNECT)", &L.s.connect_lat, 1000, "ms");
	if (have)
		printf("  server CPU %.2f s: %.0f connects per server CPU-second\n", cpu,
		       cpu > 0 ? (double)base / cpu : 0);
	if (have)
		printf("  server RSS %llu -> %llu KiB over %llu connects\n",
		       (unsigned long long)a.rss_kb, (unsigned long long)b.rss_kb,
		       (unsigned long long)base);
	printf("RESULT mode=connect-rate label=%s connects=%llu secs=%.2f rate=%.1f failed=%llu "
	       "lat_p50_ms=%.2f lat_p99_ms=%.2f server_cpu_s=%.2f per_cpu_s=%.1f "
	       "rss_before_kb=%llu rss_after_kb=%llu tls=%s\n",
	       o->label, (unsigned long long)base, secs, (double)base / secs,
	       (unsigned long long)L.s.connect_fail, hist_quantile_us(&L.s.connect_lat, 0.5) / 1000,
	       hist_quantile_us(&L.s.connect_lat, 0.99) / 1000, cpu,
	       cpu > 0 ? (double)base / cpu : 0, (unsigned long long)(have ? a.rss_kb : 0),
	       (unsigned long long)(have ? b.rss_kb : 0), L.s.tls_desc);
	load_free(&L);
	return base > 0 ? 0 : 1;
}

/* Bring n sessions up, each client trying at most three times; returns
 * the seconds taken (the phase ends after 'limit' seconds at most). */
static double establish(struct load *L, const struct opts *o, unsigned n, double limit)
{
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(limit * NS_PER_SEC);
	unsigned next = 0;

	/* With --dtls a session is ready when its DTLS handshake is done or
	 * has failed. */
	while ((L->in_tunnel < n || L->dtls_pending) && now_ns() < end && !stop_flag) {
		unsigned scanned = 0;
		bool more = false;
		while (L->in_connect < o->concurrency && scanned++ < L->n) {
			struct client *c = &L->c[next++ % L->n];
			if (c->st == C_IDLE && c->attempts < 3) {
				c->attempts++;
				client_start(L, c);
			}
		}
		for (unsigned i = 0; i < L->n && !more; i++)
			more = (L->c[i].st != C_IDLE && L->c[i].st != C_TUNNEL) ||
			       (L->c[i].st == C_IDLE && L->c[i].attempts < 3);
		if (!more && !L->dtls_pending)
			break;
		load_poll(L, 5);
		load_sweep(L, now_ns());
	}
	return (double)(now_ns() - t0) / NS_PER_SEC;
}

static unsigned connect_phase_s = 120;

/* Say goodbye on every tunnel so the server ends the sessions at once
 * (instead of keeping them for a reconnect); wait at most 10 s. */
static void bye_all(struct load *L)
{
	uint64_t end = now_ns() + 10 * NS_PER_SEC;
	bool left = true;

	for (unsigned i = 0; i < L->n; i++)
		client_bye(L, &L->c[i]);
	while (left && now_ns() < end) {
		load_poll(L, 20);
		load_sweep(L, now_ns());
		left = false;
		for (unsigned i = 0; i < L->n && !left; i++)
			left = L->c[i].st == C_BYE;
	}
}

/* ---- --hold N ---- */

/* Sessions are held by child processes, each within its own limit of file
 * descriptors (a TCP socket per session, a UDP one more with --dtls: this
 * system's hard limit of 20,000 holds 10,000 DTLS sessions in two).  Each
 * child reports after set-up and after the idle time; the parent reads the
 * server in between, with every session up. */
struct hold_msg {
	unsigned up; /* sessions in the tunnel */
	double setup_s;
	struct stats s; /* the child's counters; its histograms travel apart */
};

#define HIST_BYTES ((size_t)(HIST_US_BUCKETS + HIST_MS_BUCKETS + 1) * sizeof(uint32_t))
#define MAX_PROCS  64

/* Serve the sessions for secs (stop: go_fd readable, if >= 0). */
static void hold_serve(struct load *L, double secs, int go_fd)
{
	uint64_t end = now_ns() + (uint64_t)(secs * NS_PER_SEC);
	struct pollfd p = {.fd = go_fd, .events = POLLIN};
	char c;

	while (now_ns() < end && !stop_flag) {
		if (go_fd >= 0 && poll(&p, 1, 0) == 1) {
			if (read(go_fd, &c, 1) != 1)
				die("hold: the parent is gone");
			return;
		}
		load_poll(L, 50);
		load_sweep(L, now_ns());
	}
}

static void send_msg(int fd, const struct hold_msg *m)
{
	if (write(fd, m, sizeof(*m)) != (ssize_t)sizeof(*m))
		die("hold: report: %s", strerror(errno));
}

static void hold_child(const struct opts *o, int up_fd, int go_fd, uint32_t *lat)
{
	struct load L;
	struct hold_msg m = {0};

	load_init(&L, o, o->sessions);
	m.setup_s = establish(&L, o, o->sessions, connect_phase_s);
	hold_serve(&L, 1, -1); /* the server settles (log lines, freed login buffers) */
	m.up = L.in_tunnel;
	m.s = L.s;
	memcpy(lat, L.s.dtls_lat.b, HIST_BYTES);
	send_msg(up_fd, &m);
	hold_serve(&L, connect_phase_s + 60.0, go_fd); /* until the parent has looked */
	hold_serve(&L, o->duration, -1);
	m.up = L.in_tunnel;
	m.s = L.s;
	send_msg(up_fd, &m);
	bye_all(&L);
	load_free(&L);
	exit(0);
}

/* How many processes: --procs, else as many as the limit of file
 * descriptors asks for. */
static unsigned hold_procs(const struct opts *o)
{
	struct rlimit r;
	unsigned per = o->dtls ? 2 : 1, cap;

	if (o->procs)
		return o->procs;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur == RLIM_INFINITY || r.rlim_cur < 256)
		return 1;
	cap = (unsigned)((r.rlim_cur - 128) / per);
	cap = (o->sessions + cap - 1) / cap;
	return cap < 1 ? 1 : cap > MAX_PROCS ? MAX_PROCS : cap;
}

static void merge_stats(struct stats *s, const struct stats *c)
{
	s->connects += c->connects;
	s->connect_fail += c->connect_fail;
	s->dpd += c->dpd;
	s->dtls_up += c->dtls_up;
	s->dtls_failed += c->dtls_failed;
	s->dtls_lost += c->dtls_lost;
	s->dtls_tx += c->dtls_tx;
	s->dtls_rx += c->dtls_rx;
	s->dtls_send_drop += c->dtls_send_drop;
	s->dtls_bad += c->dtls_bad;
	s->tls_tx_pkts += c->tls_tx_pkts;
	if (c->fail_reason[0])
		memcpy(s->fail_reason, c->fail_reason, sizeof(s->fail_reason));
	if (c->dtls_reason[0])
		memcpy(s->dtls_reason, c->dtls_reason, sizeof(s->dtls_reason));
	if (c->tls_desc[0])
		memcpy(s->tls_desc, c->tls_desc, sizeof(s->tls_desc));
	s->dtls_lat.n += c->dtls_lat.n;
	s->dtls_lat.sum_ns += c->dtls_lat.sum_ns;
	if (c->dtls_lat.max_ns > s->dtls_lat.max_ns)
		s->dtls_lat.max_ns = c->dtls_lat.max_ns;
}

/* Read one report from each of k children: the sessions up.  The first
 * reports (setup != NULL) are merged into L, with the histograms each child
 * left in lat once all have reported; of the last only the DPD count. */
static unsigned hold_collect(struct load *L, int fd, unsigned k, uint32_t *lat, double *setup)
{
	struct hold_msg m;
	unsigned up = 0, got = 0;

	for (; got < k; got++) {
		if (read(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			break; /* a child died: its sessions are not up */
		up += m.up;
		if (!setup) {
			L->s.dpd += m.s.dpd;
			continue;
		}
		if (m.setup_s > *setup)
			*setup = m.setup_s;
		merge_stats(&L->s, &m.s);
	}
	for (unsigned i = 0; setup && got == k && i < k; i++)
		hist_merge(&L->s.dtls_lat, lat + (size_t)i * (HIST_BYTES / 4), NULL);
	return up;
}

/* Fork k children holding o->sessions between them; fds[0] their reports,
 * fds[1] the word to go on.  The histograms come back in *lat. */
static void hold_fork(const struct opts *o, unsigned k, int fds[2], uint32_t **lat)
{
	int up[2], go[2];

	*lat =
	    mmap(NULL, k * HIST_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*lat == MAP_FAILED || pipe(up) < 0 || pipe(go) < 0)
		die("hold: %s", strerror(errno));
	fflush(stdout);
	for (unsigned i = 0; i < k; i++) {
		struct opts co = *o;
		pid_t pid;

		co.sessions = o->sessions / k + (i < o->sessions % k);
		co.concurrency = o->concurrency / k ? o->concurrency / k : 1;
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(up[0]);
			close(go[1]);
			hold_child(&co, up[1], go[0], *lat + (size_t)i * (HIST_BYTES / 4));
		}
	}
	close(up[1]);
	close(go[0]);
	fds[0] = up[0];
	fds[1] = go[1];
}

static void hold_report(const struct opts *o, const struct load *L, unsigned held, unsigned still,
			double t, const struct srv_stat *a, const struct srv_stat *b, bool have)
{
	if (have && held) {
		printf("  server: %u processes; RSS %llu -> %llu KiB, PSS %llu -> %llu KiB\n",
		       b->nproc, (unsigned long long)a->rss_kb, (unsigned long long)b->rss_kb,
		       (unsigned long long)a->pss_kb, (unsigned long long)b->pss_kb);
		printf("  per session: RSS %.1f KiB, PSS %.1f KiB\n",
		       ((double)b->rss_kb - (double)a->rss_kb) / held,
		       ((double)b->pss_kb - (double)a->pss_kb) / held);
	}
	printf("RESULT mode=hold label=%s sessions=%u held=%u still_up=%u setup_s=%.2f "
	       "rss_before_kb=%llu rss_after_kb=%llu pss_before_kb=%llu pss_after_kb=%llu "
	       "rss_per_session_kb=%.2f pss_per_session_kb=%.2f nproc=%u%s\n",
	       o->label, o->sessions, held, still, t, (unsigned long long)a->rss_kb,
	       (unsigned long long)b->rss_kb, (unsigned long long)a->pss_kb,
	       (unsigned long long)b->pss_kb,
	       held ? ((double)b->rss_kb - (double)a->rss_kb) / held : 0,
	       held ? ((double)b->pss_kb - (double)a->pss_kb) / held : 0, b->nproc, dtls_result(L));
}

static int mode_hold(const struct opts *o)
{
	struct load L; /* no sessions of its own: the children's figures, merged */
	struct srv_stat a = {0}, b = {0};
	unsigned k = hold_procs(o), held, still;
	int fds[2];
	uint32_t *lat;
	double t = 0;
	bool have;

	load_init(&L, o, 1);
	have = server_stat(o, &a);
	hold_fork(o, k, fds, &lat);
	held = hold_collect(&L, fds[0], k, lat, &t);
	printf("hold %s: %u of %u sessions up in %.1f s, %u process%s (%llu failed%s%s)\n",
	       o->label, held, o->sessions, t, k, k > 1 ? "es" : "",
	       (unsigned long long)L.s.connect_fail, L.s.fail_reason[0] ? ", last: " : "",
	       L.s.fail_reason);
	printf("  TLS: %s\n", L.s.tls_desc);
	dtls_print(&L);
	if (have)
		have = server_stat(o, &b);
	for (unsigned i = 0; i < k; i++)
		if (write(fds[1], "g", 1) != 1)
			die("hold: %s", strerror(errno));
	L.s.dpd = 0;
	still = hold_collect(&L, fds[0], k, NULL, NULL);
	printf("  still up after %.0f s idle: %u (server DPD requests answered: %llu)\n",
	       o->duration, still, (unsigned long long)L.s.dpd);
	while (wait(NULL) > 0)
		;
	hold_report(o, &L, held, still, t, &a, &b, have);
	munmap(lat, k * HIST_BYTES);
	load_free(&L);
	return held == o->sessions ? 0 : 1;
}

/* ---- --echo-load M ---- */
static int mode_echo_load(const struct opts *o)
{
	struct load L;
	struct srv_stat a, b;
	bool have;
	double t, secs, cpu = 0, gb;
	uint64_t t0, end;
	unsigned up;

	load_init(&L, o, o->sessions);
	t = establish(&L, o, o->sessions, connect_phase_s);
	up = L.in_tunnel;
	printf("echo-load %s: %u of %u sessions up in %.1f s; %u-byte %s packets, window %u%s\n",
	       o->label, up, o->sessions, t, o->payload, o->tcp ? "TCP-like" : "UDP", o->window,
	       o->interval_us ? " (paced)" : "");
	if (up == 0) {
		printf("RESULT mode=echo-load label=%s sessions=0\n", o->label);
		load_free(&L);
		return 1;
	}
	have = server_stat(o, &a);
	L.sending = true;
	t0 = now_ns();
	for (unsigned i = 0; i < L.n; i++)
		client_pump(&L, &L.c[i], t0);
	end = t0 + (uint64_t)(o->duration * NS_PER_SEC);
	while (now_ns() < end && !stop_flag) {
		int wait = 5;
		if (o->interval_us && o->interval_us < 5000)
			wait = 1;
		load_poll(&L, wait);
		load_sweep(&L, now_ns());
		if (o->raw_compare && L.sending)
			raw_probe_send(&L, now_ns());
	}
	L.sending = false;
	secs = (double)(now_ns() - t0) / NS_PER_SEC;
	if (have)
		have = server_stat(o, &b);
	if (have)
		cpu = b.cpu_s - a.cpu_s;
	bye_all(&L);
	gb = (double)(L.s.tx_bytes + L.s.rx_bytes) / 1e9;
	printf("  sent %llu, echoed %llu, lost %llu, bad %llu; sessions dropped %llu\n",
	       (unsigned long long)L.s.tx_pkts, (unsigned long long)L.s.rx_pkts,
	       (unsigned long long)L.s.lost, (unsigned long long)L.s.bad_pkts,
	       (unsigned long long)L.s.drops);
	printf("  %.0f echoes/s; %.3f Gbit/s through the server (both directions)\n",
	       (double)L.s.rx_pkts / secs, gb * 8 / secs);
	if (L.s.late)
		printf("  %llu echoes came after they were counted lost (%.1f s)\n",
		       (unsigned long long)L.s.late, (double)LOSS_NS / NS_PER_SEC);
	dtls_print(&L);
	print_hist("RTT", &L.s.rtt, 1, "us");
	if (o->raw_compare) {
		print_hist("RTT without tunnel (same loop)", &L.raw, 1, "us");
		printf("  added p50: %.1f us\n",
		       hist_quantile_us(&L.s.rtt, 0.5) - hist_quantile_us(&L.raw, 0.5));
	}
	if (have)
		printf("  server CPU %.2f s = %.2f CPU-s/GB\n", cpu, gb > 0 ? cpu / gb : 0);
	printf(
	    "RESULT mode=echo-load label=%s proto=%s sessions=%u secs=%.2f tx=%llu rx=%llu "
	    "lost=%llu bad=%llu pps=%.0f gbps=%.4f rtt_p50_us=%.1f rtt_p90_us=%.1f rtt_p99_us=%.1f "
	    "rtt_max_us=%.1f server_cpu_s=%.2f cpu_s_per_gb=%.3f raw_n=%llu raw_p50_us=%.1f "
	    "raw_p99_us=%.1f late=%llu%s\n",
	    o->label, o->tcp ? "tcp" : "udp", up, secs, (unsigned long long)L.s.tx_pkts,
	    (unsigned long long)L.s.rx_pkts, (unsigned long long)L.s.lost,
	    (unsigned long long)L.s.bad_pkts, (double)L.s.rx_pkts / secs, gb * 8 / secs,
	    hist_quantile_us(&L.s.rtt, 0.5), hist_quantile_us(&L.s.rtt, 0.9),
	    hist_quantile_us(&L.s.rtt, 0.99), (double)L.s.rtt.max_ns / 1000, cpu,
	    gb > 0 ? cpu / gb : 0, (unsigned long long)L.raw.n, hist_quantile_us(&L.raw, 0.5),
	    hist_quantile_us(&L.raw, 0.99), (unsigned long long)L.s.late, dtls_result(&L));
	load_free(&L);
	return L.s.rx_pkts > 0 ? 0 : 1;
}

static int mode_proc_stat(const struct opts *o)
{
	struct srv_stat st;

	if (!o->n_server_pids)
		die("--proc-stat needs --server-pid");
	if (srv_stat_read(o->server_pids, o->n_server_pids, &st) < 0)
		die("no such process");
	printf("cpu_s=%.2f rss_kb=%llu pss_kb=%llu nproc=%u\n", st.cpu_s,
	       (unsigned long long)st.rss_kb, (unsigned long long)st.pss_kb, st.nproc);
	return 0;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The cost of one password check as the server does it (crypt of the
 * password with the stored hash's salt and parameters), in CPU time, so
 * that it compares with the server's CPU seconds on a busy machine too. */
static int mode_hash_cost(const struct opts *o, const char *hash)
{
	struct crypt_data cd;
	uint64_t t0 = cpu_ns(), w0 = now_ns(), t;
	unsigned n = 0;

	do {
		memset(&cd, 0, sizeof(cd));
		if (!crypt_rn(o->pass, hash, &cd, sizeof(cd)))
			die("crypt failed for '%s': %s", hash, strerror(errno));
		n++;
		t = cpu_ns() - t0;
	} while (t < NS_PER_SEC / 2 && n < 100000 && now_ns() - w0 < 5 * NS_PER_SEC);
	printf("RESULT mode=hash-cost method=%.3s ms=%.3f match=%s\n", hash, (double)t / n / 1e6,
	       strcmp(cd.output, hash) == 0 ? "yes" : "no");
	return 0;
}

/* ---- the command line ---- */

/* The mode options; false when opt is none of them.  --hash-cost sets
 * *hash (and no mode). */
static bool mode_option(struct opts *o, int opt, const char *arg, const char **hash)
{
	switch (opt) {
	case 'R':
		o->mode = MODE_CONNECT_RATE;
		break;
	case 'H':
		o->mode = MODE_HOLD;
		o->sessions = (unsigned)num(arg, 1, 1000000, "--hold");
		break;
	case 'E':
		o->mode = MODE_ECHO_LOAD;
		o->sessions = (unsigned)num(arg, 1, 1000000, "--echo-load");
		break;
	case 'e':
		o->mode = MODE_ECHO_SERVER;
		o->echo_port = (uint16_t)num(arg, 1, 65535, "--echo");
		break;
	case 'W':
		o->mode = MODE_RAW_RTT;
		break;
	case 'P':
		o->mode = MODE_PROC_STAT;
		break;
	case 'X':
		o->mode = MODE_NONE;
		*hash = arg;
		break;
	case 'x':
		o->mode = MODE_REFLECT;
		o->reflect_dev = arg;
		break;
	default:
		return false;
	}
	return true;
}

/* The server, the login and the sessions; false when opt is none of them. */
static bool session_option(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 's':
		parse_addr(arg, &o->srv, "--server");
		break;
	case 'u':
		o->user = arg;
		break;
	case 'p':
		o->pass = arg;
		break;
	case 'C':
		if (strncmp(arg, "pin-sha256:", 11) != 0)
			die("--servercert: expected pin-sha256:BASE64");
		o->pin = arg;
		break;
	case 'k':
		o->insecure = true;
		break;
	case 'y':
		o->priority = arg;
		break;
	case 't':
		o->duration = (double)num(arg, 1, 3600, "--duration");
		break;
	case 'c':
		o->concurrency = (unsigned)num(arg, 1, 100000, "--concurrency");
		break;
	case 'T':
		o->connect_timeout = (double)num(arg, 1, 600, "--connect-timeout");
		break;
	case 'F':
		connect_phase_s = (unsigned)num(arg, 1, 3600, "--connect-phase");
		break;
	case '4':
		o->ipv4_only = true;
		break;
	case 'l':
		o->label = arg;
		break;
	default:
		return false;
	}
	return true;
}

/* --source ADDR/COUNT */
static void parse_source(struct opts *o, const char *arg)
{
	char a[32];
	const char *sl = strchr(arg, '/');

	if (!sl || (size_t)(sl - arg) >= sizeof(a))
		die("--source: expected ADDR/COUNT");
	memcpy(a, arg, (size_t)(sl - arg));
	a[sl - arg] = '\0';
	if (inet_pton(AF_INET, a, &o->src_base) != 1)
		die("--source: bad address '%s'", a);
	o->src_count = (unsigned)num(sl + 1, 1, 65536, "--source");
}

/* The echo traffic and what is measured; false when opt is none of them. */
static bool traffic_option(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 'a':
		parse_addr(arg, &o->echo, "--echo-addr");
		break;
	case 'w':
		o->window = (unsigned)num(arg, 1, 1024, "--window");
		break;
	case 'z':
		o->payload = (unsigned)num(arg, LOAD_MIN_PKT, LOAD_MAX_PKT, "--size");
		break;
	case 'i':
		o->interval_us = (unsigned)num(arg, 1, 10000000, "--interval");
		break;
	case 'S':
		parse_source(o, arg);
		break;
	case 'm':
		if (o->n_server_pids == LOAD_MAX_PIDS)
			die("at most %d --server-pid", LOAD_MAX_PIDS);
		o->server_pids[o->n_server_pids++] = (pid_t)num(arg, 1, 1u << 22, "--server-pid");
		break;
	case 'r':
		o->raw_compare = true;
		break;
	case 'D':
		o->dtls = true;
		break;
	case 'K':
		o->dtls_rehs = (unsigned)num(arg, 1, 86400, "--dtls-rehandshake");
		break;
	case 'J':
		o->dtls_timeout = (unsigned)num(arg, 1, 600, "--dtls-timeout");
		break;
	case 'N':
		o->procs = (unsigned)num(arg, 1, MAX_PROCS, "--procs");
		break;
	case 'o':
		if (strcmp(arg, "tcp") == 0)
			o->tcp = true;
		else if (strcmp(arg, "udp") == 0)
			o->tcp = false;
		else
			die("--proto: expected udp or tcp, got '%s'", arg);
		break;
	default:
		return false;
	}
	return true;
}

/* Fills o from the defaults and the command line; *hash for --hash-cost.
 * Exits on --help and on errors. */
static void parse_args(int argc, char **argv, struct opts *o, const char **hash)
{
	static const struct option lo[] = {
	    {"connect-rate", no_argument, NULL, 'R'},
	    {"hold", required_argument, NULL, 'H'},
	    {"echo-load", required_argument, NULL, 'E'},
	    {"echo", required_argument, NULL, 'e'},
	    {"raw-rtt", no_argument, NULL, 'W'},
	    {"proc-stat", no_argument, NULL, 'P'},
	    {"hash-cost", required_argument, NULL, 'X'},
	    {"server", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"servercert", required_argument, NULL, 'C'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"priority", required_argument, NULL, 'y'},
	    {"duration", required_argument, NULL, 't'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"connect-timeout", required_argument, NULL, 'T'},
	    {"connect-phase", required_argument, NULL, 'F'},
	    {"echo-addr", required_argument, NULL, 'a'},
	    {"window", required_argument, NULL, 'w'},
	    {"size", required_argument, NULL, 'z'},
	    {"interval", required_argument, NULL, 'i'},
	    {"source", required_argument, NULL, 'S'},
	    {"server-pid", required_argument, NULL, 'm'},
	    {"ipv4-only", no_argument, NULL, '4'},
	    {"raw-compare", no_argument, NULL, 'r'},
	    {"label", required_argument, NULL, 'l'},
	    {"proto", required_argument, NULL, 'o'},
	    {"reflect", required_argument, NULL, 'x'},
	    {"dtls", no_argument, NULL, 'D'},
	    {"dtls-rehandshake", required_argument, NULL, 'K'},
	    {"dtls-timeout", required_argument, NULL, 'J'},
	    {"procs", required_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	*o = (struct opts){
	    .user = "alice",
	    .pass = "alice-pass",
	    .priority = "NORMAL",
	    .duration = 10,
	    .connect_timeout = 20,
	    .concurrency = 32,
	    .window = 4,
	    .payload = 1000,
	    .label = "-",
	    .dtls_timeout = 10,
	};
	parse_addr("198.18.0.1:4443", &o->srv, "--server");
	parse_addr("198.18.1.2:9000", &o->echo, "--echo-addr");
	while ((opt = getopt_long(argc, argv, "s:u:p:t:c:h", lo, NULL)) != -1) {
		if (opt == 'h')
			usage(stdout, 0);
		if (!mode_option(o, opt, optarg, hash) && !session_option(o, opt, optarg) &&
		    !traffic_option(o, opt, optarg))
			usage(stderr, 2);
	}
	if (optind != argc)
		usage(stderr, 2);
}

static int run_mode(const struct opts *o)
{
	switch (o->mode) {
	case MODE_CONNECT_RATE:
		return mode_connect_rate(o);
	case MODE_HOLD:
		return mode_hold(o);
	case MODE_ECHO_LOAD:
		return mode_echo_load(o);
	case MODE_ECHO_SERVER:
		return echo_server(o->echo_port, o->duration);
	case MODE_RAW_RTT:
		return raw_rtt(o);
	case MODE_REFLECT:
		return reflector(o->reflect_dev, o->duration);
	case MODE_PROC_STAT:
		return mode_proc_stat(o);
	default:
		usage(stderr, 2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *hash = NULL;
	int r;

	parse_args(argc, argv, &o, &hash);
	if (hash)
		return mode_hash_cost(&o, hash);
	if (o.tcp && o.payload < LOAD_MIN_TCP)
		die("--size: TCP-like packets need at least %d bytes", LOAD_MIN_TCP);
	if ((o.mode == MODE_CONNECT_RATE || o.mode == MODE_HOLD || o.mode == MODE_ECHO_LOAD) &&
	    !o.pin && !o.insecure)
		die("give --servercert pin-sha256:... or --insecure");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (gnutls_global_init() < 0)
		die("gnutls_global_init failed");
	/* A TCP socket per session; with DTLS up to three UDP sockets more
	 * (the channel, a re-handshake, the one it replaced). */
	raise_nofile((o.sessions > o.concurrency ? o.sessions : o.concurrency) * (o.dtls ? 4 : 1) +
			 64,
		     o.mode != MODE_HOLD);
	r = run_mode(&o);
	gnutls_global_deinit();
	return r;
}
