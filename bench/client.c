/* tunneld-load: the simulated clients.  One struct client per session, all
 * driven by one epoll loop; every socket and TLS session is non-blocking.
 *
 *   IDLE --client_start--> TCP --on_connected--> HANDSHAKE --handshake_step--> HTTP
 *   HTTP: POST init -> form -> POST auth-reply (one field per form, as many
 *         forms as the server asks, at most MAX_ROUNDS) -> success + webvpn
 *         cookie -> CONNECT --on_connect_reply--> TUNNEL
 *   TUNNEL --client_bye--> BYE --server closes--> IDLE
 *   any --client_close (error, timeout, server drop)--> IDLE
 *
 * A server that answers "Connection: close" during the login gets the next
 * request on a fresh TLS connection, as the stock client does.
 *
 * This file: the event loop, the TLS handshake, set-up and tear-down; the
 * rest in conn.c, login.c and tunnel.c (bench/client.h). */
#include "config.h"
#include "bench/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

static void b64(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		*out++ = t[in[i + 2] & 63];
	}
	if (n - i == 1) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

/* The first certificate is checked against the pin (SHA-256 of its public
 * key); later handshakes only compare the certificate's bytes with it. */
static int check_peer(struct load *L, struct client *c)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;
	gnutls_pubkey_t pk;
	gnutls_datum_t spki = {NULL, 0};
	uint8_t dig[32];
	char pin[64];
	int ok;

	if (L->o->insecure)
		return 0;
	certs = gnutls_certificate_get_peers(c->tls, &n);
	if (!certs || n == 0)
		return -1;
	if (L->cert_der.data)
		return certs[0].size == L->cert_der.size &&
			       memcmp(certs[0].data, L->cert_der.data, certs[0].size) == 0
			   ? 0
			   : -1;
	if (gnutls_pubkey_init(&pk) < 0)
		return -1;
	ok = gnutls_pubkey_import_x509_raw(pk, &certs[0], GNUTLS_X509_FMT_DER, 0) == 0 &&
	     gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki) == 0 &&
	     gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, dig) == 0;
	gnutls_pubkey_deinit(pk);
	gnutls_free(spki.data);
	if (!ok)
		return -1;
	memcpy(pin, "pin-sha256:", 11);
	b64(dig, sizeof(dig), pin + 11);
	if (strcmp(pin, L->o->pin) != 0) {
		fprintf(stderr, "tunneld-load: server key %s does not match --servercert\n", pin);
		return -1;
	}
	L->cert_der.data = malloc(certs[0].size);
	if (!L->cert_der.data)
		die("out of memory");
	memcpy(L->cert_der.data, certs[0].data, certs[0].size);
	L->cert_der.size = certs[0].size;
	return 0;
}

static void handshake_step(struct load *L, struct client *c)
{
	int r = gnutls_handshake(c->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		want(L, c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (r < 0) {
		fail(L, c, gnutls_strerror(r));
		return;
	}
	if (check_peer(L, c) < 0) {
		fail(L, c, "server certificate does not match the pin");
		return;
	}
	L->s.handshakes++;
	if (!L->s.tls_desc[0]) {
		char *d = gnutls_session_get_desc(c->tls);
		snprintf(L->s.tls_desc, sizeof(L->s.tls_desc), "%s", d ? d : "?");
		gnutls_free(d);
	}
	set_state(L, c, C_HTTP);
	want(L, c, EPOLLIN);
	send_request(L, c);
}

static void on_connected(struct load *L, struct client *c)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
		fail(L, c, err ? strerror(err) : "connect failed");
		return;
	}
	if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
		die("gnutls_init failed");
	gnutls_priority_set(c->tls, L->prio);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, L->cred);
	gnutls_transport_set_int(c->tls, c->fd);
	set_state(L, c, C_HANDSHAKE);
	handshake_step(L, c);
}

static void on_readable(struct load *L, struct client *c)
{
	uint32_t gen = c->gen;
	size_t half = L->scratch_cap / 2;
	unsigned budget = 256; /* records per wake-up: fairness among clients */

	while (budget-- && c->gen == gen) {
		ssize_t r = gnutls_record_recv(c->tls, L->scratch, half);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION) {
			if (c->st == C_BYE) {
				L->s.byes++;
				client_close(L, c);
			} else {
				fail(L, c, "server closed the connection");
			}
			return;
		}
		if (r < 0) {
			if (gnutls_error_is_fatal((int)r)) {
				fail(L, c, gnutls_strerror((int)r));
				return;
			}
			continue;
		}
		if (c->st == C_HTTP)
			http_feed(L, c, L->scratch, (size_t)r);
		else
			tunnel_feed(L, c, L->scratch, (size_t)r);
	}
}

static void on_event(struct load *L, struct client *c, uint32_t ev)
{
	uint32_t gen = c->gen;

	switch (c->st) {
	case C_TCP:
		on_connected(L, c);
		return;
	case C_HANDSHAKE:
		handshake_step(L, c);
		return;
	case C_HTTP:
	case C_TUNNEL:
	case C_BYE:
		if ((ev & EPOLLOUT) && c->send_pending) {
			if (send_record(L, c, NULL, 0) < 0 && c->gen != gen)
				return;
			if (!c->send_pending && c->st == C_TUNNEL)
				client_pump(L, c, now_ns());
		}
		if (c->gen == gen && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			on_readable(L, c);
		return;
	case C_IDLE:
		return;
	}
}

/* The tunnel-less probe: one datagram per interval, half an interval
 * after the tunnel's, so the two never wait for each other. */
void raw_probe_send(struct load *L, uint64_t now)
{
	struct echo_hdr eh = {.magic = LOAD_MAGIC, .client = RAW_TAG};
	uint8_t buf[128] = {0};

	if (L->raw_fd < 0 || now < L->raw_next)
		return;
	if (L->raw_next == 0)
		L->raw_next = now + (uint64_t)L->o->interval_us * 500;
	L->raw_next += (uint64_t)L->o->interval_us * 1000;
	if (L->raw_next < now)
		L->raw_next = now + (uint64_t)L->o->interval_us * 1000;
	eh.seq = ++L->raw_seq;
	eh.sent_ns = now_ns();
	memcpy(buf, &eh, sizeof(eh));
	if (send(L->raw_fd, buf,
		 L->o->payload > 28 + sizeof(buf) ? sizeof(buf) : L->o->payload - 28,
		 MSG_DONTWAIT) < 0)
		L->raw_lost++;
}

static void raw_probe_recv(struct load *L)
{
	struct echo_hdr eh;
	uint8_t buf[2048];
	ssize_t r;

	while ((r = recv(L->raw_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= (ssize_t)sizeof(eh)) {
		uint64_t now = now_ns();
		memcpy(&eh, buf, sizeof(eh));
		if (eh.magic == LOAD_MAGIC && eh.client == RAW_TAG && eh.sent_ns <= now)
			hist_add(&L->raw, now - eh.sent_ns);
	}
}

void load_poll(struct load *L, int timeout_ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(L->ep, ev, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)ev[i].data.u64, gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (idx == RAW_TAG)
			raw_probe_recv(L);
		else if ((idx & UDP_TAG) && (idx & ~UDP_TAG) < L->n &&
			 L->c[idx & ~UDP_TAG].gen == gen)
			dtls_event(L, &L->c[idx & ~UDP_TAG]);
		else if (idx < L->n && L->c[idx].gen == gen)
			on_event(L, &L->c[idx], ev[i].events);
	}
}

void load_sweep(struct load *L, uint64_t now)
{
	for (unsigned i = 0; i < L->n; i++) {
		struct client *c = &L->c[i];
		if (c->st == C_IDLE)
			continue;
		if (c->deadline && now > c->deadline) {
			if (c->st == C_BYE) { /* the server never closed: give up on it */
				L->s.drops++;
				snprintf(L->s.fail_reason, sizeof(L->s.fail_reason),
					 "server did not close after DISCONNECT");
				client_close(L, c);
			} else {
				fail(L, c, "connect timeout");
			}
			continue;
		}
		if (c->st == C_TUNNEL)
			dtls_sweep(L, c, now);
		if (c->st == C_TUNNEL && L->sending) {
			/* Echoes lost (a full queue or the path dropped them):
			 * forgotten after LOSS_NS so the window refills. */
			for (uint32_t k = 0; k < c->inflight;) {
				if (now - c->fl[k].sent_ns > LOSS_NS) {
					L->s.lost++;
					fl_drop(c, k);
				} else {
					k++;
				}
			}
			client_pump(L, c, now);
		}
	}
}

int load_init(struct load *L, const struct opts *o, unsigned n)
{
	const char *errpos = NULL;
	int r;

	memset(L, 0, sizeof(*L));
	L->o = o;
	L->n = n;
	L->c = calloc(n, sizeof(*L->c));
	L->scratch_cap = 2 * (HTTP_IN_MAX + 8 + 65536);
	L->scratch = malloc(L->scratch_cap);
	if (!L->c || !L->scratch)
		die("out of memory");
	for (unsigned i = 0; i < n; i++) {
		L->c[i].idx = i;
		L->c[i].fd = -1;
	}
	L->ep = epoll_create1(EPOLL_CLOEXEC);
	if (L->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	if (gnutls_certificate_allocate_credentials(&L->cred) < 0)
		die("gnutls_certificate_allocate_credentials failed");
	r = gnutls_priority_init(&L->prio, o->priority, &errpos);
	if (r < 0)
		die("bad --priority at '%s': %s", errpos ? errpos : "?", gnutls_strerror(r));
	hist_init(&L->s.connect_lat);
	hist_init(&L->s.rtt);
	hist_init(&L->s.dtls_lat);
	hist_init(&L->s.rehs_lat);
	hist_init(&L->raw);
	L->raw_fd = -1;
	if (o->raw_compare) {
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = RAW_TAG};
		L->raw_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (L->raw_fd < 0 ||
		    connect(L->raw_fd, (const struct sockaddr *)&o->echo, sizeof(o->echo)) < 0 ||
		    epoll_ctl(L->ep, EPOLL_CTL_ADD, L->raw_fd, &e) < 0)
			die("raw probe socket: %s", strerror(errno));
	}
	return 0;
}

void load_free(struct load *L)
{
	for (unsigned i = 0; i < L->n; i++)
		client_close(L, &L->c[i]);
	gnutls_priority_deinit(L->prio);
	gnutls_certificate_free_credentials(L->cred);
	free(L->cert_der.data);
	hist_free(&L->s.connect_lat);
	hist_free(&L->s.rtt);
	hist_free(&L->s.dtls_lat);
	hist_free(&L->s.rehs_lat);
	hist_free(&L->raw);
	if (L->raw_fd >= 0)
		close(L->raw_fd);
	close(L->ep);
	free(L->scratch);
	free(L->c);
}
