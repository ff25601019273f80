/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load: the measuring modes (--connect-rate, --hold, --echo-load)
 * and their reports; bench/README.md explains every figure. */
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
int mode_connect_rate(const struct opts *o)
{
	struct load L;
	struct srv_stat a = {0}, b = {0};
	bool have = false;
	unsigned next = 0;
	uint64_t t0, end, base;
	double secs, cpu = 0, hash_cpu = 0;

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
	if (have) {
		cpu = b.cpu_s - a.cpu_s;
		hash_cpu = b.hash_cpu_s - a.hash_cpu_s;
	}
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
	       "server_hash_cpu_s=%.2f rss_before_kb=%llu rss_after_kb=%llu tls=%s\n",
	       o->label, (unsigned long long)base, secs, (double)base / secs,
	       (unsigned long long)L.s.connect_fail, hist_quantile_us(&L.s.connect_lat, 0.5) / 1000,
	       hist_quantile_us(&L.s.connect_lat, 0.99) / 1000, cpu,
	       cpu > 0 ? (double)base / cpu : 0, hash_cpu,
	       (unsigned long long)(have ? a.rss_kb : 0), (unsigned long long)(have ? b.rss_kb : 0),
	       L.s.tls_desc);
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

unsigned connect_phase_s = 120;

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
	s->dtls_restarts += c->dtls_restarts;
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

int mode_hold(const struct opts *o)
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
	fflush(stdout); /* a script waits for the sessions to be up */
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
int mode_echo_load(const struct opts *o)
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
