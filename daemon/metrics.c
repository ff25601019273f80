/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the server-wide figures and their Prometheus text (see
 * metrics.h).  Counting costs an addition; the text is written only when
 * someone asks for /metrics.  Every series is named once, in the tables
 * below, so the text and its HELP lines cannot drift apart. */
#include "config.h"
#include "daemon/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const login_result_names[LOGIN_N] = {
#define LOGIN_NAME(id, name) [LOGIN_##id] = name,
    LOGIN_RESULTS(LOGIN_NAME)
#undef LOGIN_NAME
};

const double login_bucket_le[LOGIN_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					       0.5,   1,    2.5,   5,	 10,  30};

/* What a worker said of itself last. */
struct wreport {
	unsigned handshakes;
	uint64_t no_client;
	uint32_t tls_gen; /* 0: not said yet */
};

static struct {
	struct metrics_totals t;
	struct wreport *w; /* per slot */
	unsigned n;
	uint64_t gone_no_client; /* of workers that died */
} S;

int metrics_setup(unsigned n)
{
	S.w = calloc(n ? n : 1, sizeof(*S.w));
	if (!S.w)
		return -ENOMEM;
	S.n = n;
	return 0;
}

void metrics_free(void)
{
	free(S.w);
	memset(&S, 0, sizeof(S));
}

void metrics_traffic(const struct sess_counters *c)
{
	sess_counters_add(&S.t.traffic, c);
}

void metrics_login(enum login_result r, bool hashed, uint64_t usec)
{
	double s = (double)usec / 1e6;
	unsigned b = 0;

	if ((unsigned)r >= LOGIN_N)
		r = LOGIN_ERROR;
	S.t.logins[r]++;
	if (!hashed)
		return;
	while (b < LOGIN_BUCKETS && s > login_bucket_le[b])
		b++;
	S.t.login_hist[b]++;
	S.t.login_count++;
	S.t.login_sum_s += s;
}

void metrics_ban(void)
{
	S.t.bans++;
}

void metrics_reconnect(void)
{
	S.t.reconnects++;
}

void metrics_session_ended(void)
{
	S.t.sessions_ended++;
}

void metrics_worker(unsigned w, struct ipc_msg *m)
{
	if (w >= S.n)
		return;
	S.w[w].handshakes = m->u.wstats.handshakes;
	/* A worker's count only grows; a smaller one would be a lie. */
	if (m->u.wstats.no_client >= S.w[w].no_client)
		S.w[w].no_client = m->u.wstats.no_client;
	S.w[w].tls_gen = m->u.wstats.tls_gen;
}

uint32_t metrics_worker_tls_generation(unsigned w)
{
	return w < S.n ? S.w[w].tls_gen : 0;
}

unsigned metrics_workers_behind(uint32_t current)
{
	unsigned n = 0;

	for (unsigned i = 0; i < S.n; i++)
		if (S.w[i].tls_gen && S.w[i].tls_gen != current)
			n++;
	return n;
}

void metrics_worker_gone(unsigned w)
{
	if (w >= S.n)
		return;
	S.gone_no_client += S.w[w].no_client;
	memset(&S.w[w], 0, sizeof(S.w[w]));
}

const struct metrics_totals *metrics_totals(void)
{
	S.t.drop_no_client = S.gone_no_client;
	for (unsigned i = 0; i < S.n; i++)
		S.t.drop_no_client += S.w[i].no_client;
	return &S.t;
}

unsigned metrics_handshakes(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < S.n; i++)
		n += S.w[i].handshakes;
	return n;
}

/* ---- the text exposition format --------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2 && !b->oom; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct buf *b, const char *name, const char *help, unsigned long long v)
{
	head(b, name, "gauge", help);
	bprintf(b, "%s %llu\n", name, v);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	head(b, name, "counter", help);
	bprintf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauges(struct buf *b, const struct metrics_gauges *g)
{
	gauge(b, "tunneld_sessions", "Sessions (logged in, with a tunnel or waiting for one).",
	      g->sessions);
	gauge(b, "tunneld_tunnels", "Sessions with a tunnel up.", g->tunnels);
	gauge(b, "tunneld_tunnels_dtls", "Tunnels whose data goes over DTLS.", g->tunnels_dtls);
	gauge(b, "tunneld_max_clients", "limits.max-clients: the most tunnels at once.",
	      g->max_clients);
	gauge(b, "tunneld_workers", "Worker processes configured.", g->workers);
	gauge(b, "tunneld_workers_up", "Worker processes running and ready.", g->workers_up);
	head(b, "tunneld_leases", "gauge", "Addresses of the pool, in use by sessions or free.");
	bprintf(b, "tunneld_leases{state=\"used\"} %u\ntunneld_leases{state=\"free\"} %u\n",
		g->leases_used, g->leases_free);
	gauge(b, "tunneld_workers_certificate_behind",
	      "Workers whose new connections still get an older certificate than the last "
	      "reload's, as they last reported.",
	      g->workers_behind);
	gauge(b, "tunneld_handshakes",
	      "Connections in the TLS handshake or the login, as the workers last reported.",
	      g->handshakes);
	gauge(b, "tunneld_draining",
	      "1 while draining (SIGQUIT, tunnelctl drain): no new connections.", g->draining);
	gauge(b, "tunneld_start_time_seconds", "When the server started, in seconds since 1970.",
	      (unsigned long long)g->started);
}

static void traffic(struct buf *b, const struct sess_counters *c)
{
	static const char *const dir[2] = {"rx", "tx"};

	head(b, "tunneld_packets_total", "counter",
	     "IP packets through the tunnels: rx from the clients, tx to them, by protocol.");
	for (int d = 0; d < 2; d++)
		for (int p = 0; p < CTR_PROTOS; p++)
			bprintf(b, "tunneld_packets_total{direction=\"%s\",proto=\"%s\"} %llu\n",
				dir[d], ctr_proto_names[p],
				(unsigned long long)(d ? c->tx_proto : c->rx_proto)[p].pkts);
	head(b, "tunneld_bytes_total", "counter",
	     "IP bytes through the tunnels: rx from the clients, tx to them, by protocol.");
	for (int d = 0; d < 2; d++)
		for (int p = 0; p < CTR_PROTOS; p++)
			bprintf(b, "tunneld_bytes_total{direction=\"%s\",proto=\"%s\"} %llu\n",
				dir[d], ctr_proto_names[p],
				(unsigned long long)(d ? c->tx_proto : c->rx_proto)[p].bytes);
	head(b, "tunneld_dtls_packets_total", "counter", "The part of the packets sent over DTLS.");
	bprintf(b,
		"tunneld_dtls_packets_total{direction=\"rx\"} %llu\n"
		"tunneld_dtls_packets_total{direction=\"tx\"} %llu\n",
		(unsigned long long)c->dtls_rx_pkts, (unsigned long long)c->dtls_tx_pkts);
	head(b, "tunneld_dtls_bytes_total", "counter", "The part of the bytes sent over DTLS.");
	bprintf(b,
		"tunneld_dtls_bytes_total{direction=\"rx\"} %llu\n"
		"tunneld_dtls_bytes_total{direction=\"tx\"} %llu\n",
		(unsigned long long)c->dtls_rx_bytes, (unsigned long long)c->dtls_tx_bytes);
}

static void events(struct buf *b, const struct metrics_totals *t)
{
	head(b, "tunneld_drops_total", "counter",
	     "Packets dropped, by reason (no_client: from the TUN device for no tunnel).");
	for (int r = 0; r < DROP_N; r++)
		bprintf(b, "tunneld_drops_total{reason=\"%s\"} %llu\n", drop_reasons[r].name,
			(unsigned long long)t->traffic.drop[r]);
	bprintf(b, "tunneld_drops_total{reason=\"no_client\"} %llu\n",
		(unsigned long long)t->drop_no_client);
	head(b, "tunneld_logins_total", "counter", "Logins, by result.");
	for (int r = 0; r < LOGIN_N; r++)
		bprintf(b, "tunneld_logins_total{result=\"%s\"} %llu\n", login_result_names[r],
			(unsigned long long)t->logins[r]);
	counter(b, "tunneld_bans_total", "Addresses banned after failed logins (auth.ban-*).",
		t->bans);
	counter(b, "tunneld_reconnects_total", "CONNECTs that took up an existing session again.",
		t->reconnects);
	counter(b, "tunneld_sessions_ended_total", "Sessions that ended.", t->sessions_ended);
}

/* One row of a per-service family for each service (names are
 * [A-Za-z0-9._-]: no escaping in the label). */
static void svc_rows(struct buf *b, const struct metrics_gauges *g, const char *name,
		     const char *type, const char *help, size_t off)
{
	head(b, name, type, help);
	for (unsigned i = 0; i < g->n_svc; i++)
		bprintf(b, "%s{service=\"%s\"} %llu\n", name, g->svc[i].name,
			(unsigned long long)*(const uint64_t *)((const char *)&g->svc[i] + off));
}

/* The TLS stream services (services = ...), when there are any. */
static void services(struct buf *b, const struct metrics_gauges *g)
{
	if (!g->n_svc)
		return;
	svc_rows(b, g, "tunneld_service_open_streams", "gauge",
		 "A TLS stream service's streams open now, all workers.",
		 offsetof(struct services_view, open));
	svc_rows(b, g, "tunneld_service_accepted_total", "counter",
		 "Streams a service admitted (TLS handshake started).",
		 offsetof(struct services_view, ctr.accepted));
	svc_rows(b, g, "tunneld_service_refused_total", "counter",
		 "Streams a service refused: max-connections or a full table.",
		 offsetof(struct services_view, ctr.refused));
	svc_rows(b, g, "tunneld_service_handshake_failures_total", "counter",
		 "A service's TLS handshakes that failed (client certificates included).",
		 offsetof(struct services_view, ctr.handshake_failures));
	svc_rows(b, g, "tunneld_service_connect_failures_total", "counter",
		 "A service's destination connects refused, timed out or unreachable.",
		 offsetof(struct services_view, ctr.connect_failures));
	head(b, "tunneld_service_bytes_total", "counter",
	     "Bytes a service relayed: in from the clients to the destination, out back.");
	for (unsigned i = 0; i < g->n_svc; i++)
		bprintf(b,
			"tunneld_service_bytes_total{service=\"%s\",direction=\"in\"} %llu\n"
			"tunneld_service_bytes_total{service=\"%s\",direction=\"out\"} %llu\n",
			g->svc[i].name, (unsigned long long)g->svc[i].ctr.bytes_in, g->svc[i].name,
			(unsigned long long)g->svc[i].ctr.bytes_out);
}

/* Cumulative buckets, as Prometheus wants them. */
static void histogram(struct buf *b, const struct metrics_totals *t)
{
	uint64_t sum = 0;

	head(b, "tunneld_login_duration_seconds", "histogram",
	     "Time from a worker's login request to the answer, for logins whose password was "
	     "checked.");
	for (int i = 0; i < LOGIN_BUCKETS; i++) {
		sum += t->login_hist[i];
		bprintf(b, "tunneld_login_duration_seconds_bucket{le=\"%g\"} %llu\n",
			login_bucket_le[i], (unsigned long long)sum);
	}
	bprintf(b,
		"tunneld_login_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		"tunneld_login_duration_seconds_sum %.6f\n"
		"tunneld_login_duration_seconds_count %llu\n",
		(unsigned long long)t->login_count, t->login_sum_s,
		(unsigned long long)t->login_count);
}

char *metrics_render(const struct metrics_gauges *g, size_t *len)
{
	const struct metrics_totals *t = metrics_totals();
	struct buf b = {.cap = 8192};

	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	gauges(&b, g);
	traffic(&b, &t->traffic);
	events(&b, t);
	histogram(&b, t);
	services(&b, g);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
