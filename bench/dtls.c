/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load: the DTLS channel of a simulated client (--dtls), in
 * PSK-NEGOTIATE mode as openconnect 9.x speaks it (PROTOCOL.md 6).
 *
 *   CONNECT answer offers DTLS   dtls_begin(): key from the TLS session's
 *                                exporter, a UDP socket to X-DTLS-Port, the
 *                                handshake starts ("next")
 *   handshake done               next becomes the channel ("cur"); echo
 *                                packets go over it as [type][packet]
 *   handshake not done in 2 s    it starts over from a new port (counted),
 *                                as openconnect does: a non-blocking GnuTLS
 *                                client never resends its last flight, so a
 *                                lost final flight of the server stalls it
 *   handshake fails / times out  the session stays on TLS (counted)
 *   --dtls-rehandshake SECS      every SECS a new socket and a new handshake
 *                                with the same App-ID and key; when it is
 *                                done it becomes the channel at once, and the
 *                                old one is only read for a second more
 *   a fatal alert on the channel the channel is lost: back to TLS (counted)
 *
 * All sockets are non-blocking and share the load's epoll loop; GnuTLS's
 * retransmission timers are driven by dtls_sweep(). */
#include "config.h"
#include "bench/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <gnutls/dtls.h>

#define OLD_GRACE_NS NS_PER_SEC	      /* a replaced channel is still read this long */
#define DEFAULT_MTU  1406	      /* openconnect's guess without X-CSTP-Base-MTU */
#define RESTART_NS   (2 * NS_PER_SEC) /* a handshake not done by then starts over */

struct dsess {
	int fd;
	gnutls_session_t s;
	gnutls_psk_client_credentials_t cred;
	uint64_t t0;	     /* handshake start */
	uint64_t retrans_at; /* call the handshake again then */
	bool send_pending;   /* a record waits in GnuTLS after EAGAIN */
};

struct cdtls {
	struct tc_dtls_offer off;
	uint8_t key[TC_DTLS_PSK_LEN];
	bool up, first; /* first: the first handshake is still running */
	struct dsess cur, next, old;
	uint64_t t_offer, next_rehs, old_until, last_tx;
	uint64_t hs_began; /* the handshake's first attempt (restarts go on until the timeout) */
};

static void fail_reason(struct load *L, const char *what, const char *why)
{
	snprintf(L->s.dtls_reason, sizeof(L->s.dtls_reason), "%s: %s", what, why);
}

static void dsess_close(struct dsess *ds)
{
	if (ds->s)
		gnutls_deinit(ds->s);
	if (ds->cred)
		gnutls_psk_free_client_credentials(ds->cred);
	if (ds->fd >= 0)
		close(ds->fd); /* also leaves the epoll set */
	memset(ds, 0, sizeof(*ds));
	ds->fd = -1;
}

/* A connected UDP socket from the client's source address to the DTLS
 * port, in the epoll set, and a GnuTLS session on it. */
static int dsess_open(struct load *L, struct client *c, struct dsess *ds)
{
	const struct opts *o = L->o;
	struct cdtls *d = c->dt;
	struct sockaddr_in to = o->srv;
	struct epoll_event e = {.events = EPOLLIN,
				.data.u64 = (uint64_t)c->gen << 32 | c->idx | UDP_TAG};
	int sz = 1 << 20, r;

	to.sin_port = htons(d->off.port);
	ds->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ds->fd < 0)
		return -errno;
	setsockopt(ds->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (o->src_count) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(ntohl(o->src_base.s_addr) + c->idx % o->src_count);
		if (bind(ds->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
	}
	if (connect(ds->fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    epoll_ctl(L->ep, EPOLL_CTL_ADD, ds->fd, &e) < 0)
		goto fail;
	r = tc_dtls_session(&ds->s, &ds->cred, ds->fd, &d->off, d->key,
			    d->off.base_mtu ? d->off.base_mtu : DEFAULT_MTU,
			    o->dtls_timeout * 1000);
	if (r < 0) {
		fail_reason(L, "session", gnutls_strerror(r));
		dsess_close(ds);
		return -EINVAL;
	}
	ds->t0 = ds->retrans_at = now_ns();
	return 0;
fail:
	r = -errno;
	dsess_close(ds);
	return r;
}

static void first_done(struct load *L, struct cdtls *d)
{
	if (d->first) {
		d->first = false;
		L->dtls_pending--;
	}
}

/* The handshake of next failed: a first one leaves the session on TLS. */
static void next_failed(struct load *L, struct client *c, const char *why)
{
	struct cdtls *d = c->dt;

	fail_reason(L, d->up ? "re-handshake" : "handshake", why);
	dsess_close(&d->next);
	if (d->up) {
		L->s.rehs_failed++;
	} else {
		L->s.dtls_failed++;
		first_done(L, d);
	}
}

/* next is up: it becomes the channel at once; the old one is read a
 * little longer for echoes already under way. */
static void next_up(struct load *L, struct client *c, uint64_t now)
{
	struct cdtls *d = c->dt;

	if (d->up) {
		L->s.rehs_ok++;
		hist_add(&L->s.rehs_lat, now - d->next.t0);
		dsess_close(&d->old);
		d->old = d->cur;
		d->old_until = now + OLD_GRACE_NS;
	} else {
		L->s.dtls_up++;
		hist_add(&L->s.dtls_lat, now - d->t_offer);
		first_done(L, d);
	}
	d->cur = d->next;
	memset(&d->next, 0, sizeof(d->next));
	d->next.fd = -1;
	d->up = true;
	d->last_tx = now;
	if (L->o->dtls_rehs)
		d->next_rehs = now + (uint64_t)L->o->dtls_rehs * NS_PER_SEC;
}

static void handshake_step(struct load *L, struct client *c)
{
	struct dsess *ds = &c->dt->next;
	int r = gnutls_handshake(ds->s);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		ds->retrans_at = now_ns() + (uint64_t)gnutls_dtls_get_timeout(ds->s) * 1000000;
		return;
	}
	if (r < 0 && !gnutls_error_is_fatal(r))
		return; /* a stray datagram: the handshake goes on */
	if (r < 0)
		next_failed(L, c, gnutls_strerror(r));
	else
		next_up(L, c, now_ns());
}

void dtls_begin(struct load *L, struct client *c, const char *hdr, size_t len)
{
	struct cdtls *d;
	int r;

	if (!L->o->dtls)
		return;
	d = calloc(1, sizeof(*d));
	if (!d)
		die("out of memory");
	d->cur.fd = d->next.fd = d->old.fd = -1;
	c->dt = d;
	if (tc_dtls_parse(hdr, len, &d->off) < 0) {
		fail_reason(L, "offer", "no PSK-NEGOTIATE DTLS in the CONNECT answer");
		L->s.dtls_failed++;
		return;
	}
	r = tc_dtls_psk(c->tls, d->key);
	if (r < 0) {
		fail_reason(L, "exporter", gnutls_strerror(r));
		L->s.dtls_failed++;
		return;
	}
	d->t_offer = d->hs_began = now_ns();
	d->first = true;
	L->dtls_pending++;
	if ((r = dsess_open(L, c, &d->next)) < 0) {
		if (r != -EINVAL)
			fail_reason(L, "socket", strerror(-r));
		L->s.dtls_failed++;
		first_done(L, d);
		return;
	}
	handshake_step(L, c);
}

/* DPD requests (the server's, and MTU probes) come back with the same
 * payload; data goes to the echo check. */
static void on_record(struct load *L, struct client *c, struct dsess *ds, uint8_t *p, size_t n)
{
	L->s.dtls_rx++;
	switch (p[0]) {
	case TC_DTLS_DATA:
		client_echo(L, c, p + 1, n - 1);
		break;
	case TC_DTLS_DPD_REQ:
		p[0] = TC_DTLS_DPD_RESP;
		if (gnutls_record_send(ds->s, p, n) == (ssize_t)n)
			L->s.dtls_tx++;
		break;
	case TC_DTLS_DPD_RESP:
	case TC_DTLS_KEEPALIVE:
		break;
	default:
		L->s.dtls_bad++;
	}
}

/* The channel is lost (a fatal alert, the server ended it): TLS carries on. */
static void channel_lost(struct load *L, struct client *c, const char *why)
{
	struct cdtls *d = c->dt;

	fail_reason(L, "channel", why);
	L->s.dtls_lost++;
	dsess_close(&d->cur);
	d->up = false;
}

/* Records of an established session, a bounded number per wake-up. */
static void drain(struct load *L, struct client *c, struct dsess *ds)
{
	uint32_t gen = c->gen;
	uint8_t *buf = L->scratch;

	for (unsigned budget = 64; budget-- && ds->s && c->gen == gen;) {
		ssize_t r = gnutls_record_recv(ds->s, buf, L->scratch_cap / 2);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r > 0) {
			on_record(L, c, ds, buf, (size_t)r);
			continue;
		}
		if (r < 0 && !gnutls_error_is_fatal((int)r))
			continue; /* a forged or replayed datagram: DTLS drops it */
		if (ds == &c->dt->cur)
			channel_lost(L, c,
				     r == 0 ? "closed by the server" : gnutls_strerror((int)r));
		else
			dsess_close(ds);
		return;
	}
}

void dtls_event(struct load *L, struct client *c)
{
	struct cdtls *d = c->dt;
	uint32_t gen = c->gen;

	if (!d)
		return;
	if (d->next.s)
		handshake_step(L, c);
	if (c->gen == gen && d->cur.s)
		drain(L, c, &d->cur);
	if (c->gen == gen && d->old.s)
		drain(L, c, &d->old);
}

bool dtls_up(const struct client *c)
{
	return c->dt && c->dt->up;
}

bool dtls_send(struct load *L, struct client *c, const uint8_t *rec, size_t len)
{
	struct dsess *ds;
	ssize_t r;

	if (!dtls_up(c))
		return false;
	ds = &c->dt->cur;
	c->dt->last_tx = now_ns();
	if (ds->send_pending) {
		if (gnutls_record_send(ds->s, NULL, 0) == GNUTLS_E_AGAIN) {
			L->s.dtls_send_drop++;
			return true;
		}
		ds->send_pending = false;
	}
	r = gnutls_record_send(ds->s, rec, len);
	if (r == (ssize_t)len) {
		L->s.dtls_tx++;
		return true;
	}
	if (r == GNUTLS_E_AGAIN)
		ds->send_pending = true;
	else if (r == GNUTLS_E_LARGE_PACKET)
		return false; /* larger than the DTLS MTU: TLS takes it */
	L->s.dtls_send_drop++;
	return true;
}

/* Start a re-handshake: a new socket, the same App-ID and key. */
static void rehandshake(struct load *L, struct client *c)
{
	struct cdtls *d = c->dt;
	int r = dsess_open(L, c, &d->next);

	if (r < 0) {
		fail_reason(L, "re-handshake socket", strerror(-r));
		L->s.rehs_failed++;
		return;
	}
	d->hs_began = now_ns();
	handshake_step(L, c);
}

/* The handshake of next is not done after RESTART_NS: a new socket and a
 * new ClientHello, until the handshake's time (--dtls-timeout) is up. */
static void restart(struct load *L, struct client *c, uint64_t now)
{
	struct cdtls *d = c->dt;
	int r;

	if (now - d->hs_began >= (uint64_t)L->o->dtls_timeout * NS_PER_SEC) {
		next_failed(L, c, "no handshake done before --dtls-timeout, with restarts");
		return;
	}
	dsess_close(&d->next);
	if ((r = dsess_open(L, c, &d->next)) < 0) {
		if (r != -EINVAL)
			fail_reason(L, "socket", strerror(-r));
		next_failed(L, c, "no socket for a restart");
		return;
	}
	L->s.dtls_restarts++;
	handshake_step(L, c);
}

void dtls_sweep(struct load *L, struct client *c, uint64_t now)
{
	struct cdtls *d = c->dt;
	uint32_t gen = c->gen;

	if (!d)
		return;
	if (d->next.s && now - d->next.t0 >= RESTART_NS)
		restart(L, c, now);
	else if (d->next.s && now >= d->next.retrans_at)
		handshake_step(L, c); /* retransmits the flight, or gives up */
	if (c->gen != gen)
		return;
	if (d->old.s && now >= d->old_until)
		dsess_close(&d->old);
	if (!d->up)
		return;
	if (L->o->dtls_rehs && !d->next.s && now >= d->next_rehs) {
		d->next_rehs = now + (uint64_t)L->o->dtls_rehs * NS_PER_SEC;
		rehandshake(L, c);
	}
	/* Keep an idle channel alive as the stock client does: a DPD
	 * request when nothing went out for the server's DTLS DPD time. */
	if (d->up && d->off.dpd && now - d->last_tx > (uint64_t)d->off.dpd * NS_PER_SEC) {
		uint8_t dpd = TC_DTLS_DPD_REQ;
		dtls_send(L, c, &dpd, 1);
	}
}

void dtls_close(struct load *L, struct client *c)
{
	struct cdtls *d = c->dt;

	if (!d)
		return;
	first_done(L, d);
	dsess_close(&d->next);
	dsess_close(&d->cur);
	dsess_close(&d->old);
	explicit_bzero(d->key, sizeof(d->key));
	free(d);
	c->dt = NULL;
}

void dtls_print(const struct load *L)
{
	const struct stats *s = &L->s;

	if (!L->o->dtls)
		return;
	printf("  DTLS: %llu handshakes done, %llu failed (sessions left on TLS)%s%s; "
	       "%llu restarted; time to DTLS up p50 %.2f p99 %.2f ms; %llu channels lost\n",
	       (unsigned long long)s->dtls_up, (unsigned long long)s->dtls_failed,
	       s->dtls_reason[0] ? ", last: " : "", s->dtls_reason,
	       (unsigned long long)s->dtls_restarts, hist_quantile_us(&s->dtls_lat, 0.5) / 1000,
	       hist_quantile_us(&s->dtls_lat, 0.99) / 1000, (unsigned long long)s->dtls_lost);
	printf("  DTLS records: %llu out, %llu in, %llu dropped on send, %llu of unknown type; "
	       "echo packets over TLS: %llu\n",
	       (unsigned long long)s->dtls_tx, (unsigned long long)s->dtls_rx,
	       (unsigned long long)s->dtls_send_drop, (unsigned long long)s->dtls_bad,
	       (unsigned long long)s->tls_tx_pkts);
	if (L->o->dtls_rehs)
		printf("  DTLS re-handshakes: %llu done, %llu failed; p50 %.2f p99 %.2f ms\n",
		       (unsigned long long)s->rehs_ok, (unsigned long long)s->rehs_failed,
		       hist_quantile_us(&s->rehs_lat, 0.5) / 1000,
		       hist_quantile_us(&s->rehs_lat, 0.99) / 1000);
}

const char *dtls_result(const struct load *L)
{
	static char buf[512];
	const struct stats *s = &L->s;

	if (!L->o->dtls)
		return "";
	snprintf(buf, sizeof(buf),
		 " dtls_up=%llu dtls_failed=%llu dtls_restarts=%llu dtls_lost=%llu "
		 "dtls_p50_ms=%.2f dtls_p99_ms=%.2f "
		 "dtls_tx=%llu dtls_rx=%llu tls_tx=%llu rehs=%llu rehs_failed=%llu "
		 "rehs_p50_ms=%.2f rehs_p99_ms=%.2f",
		 (unsigned long long)s->dtls_up, (unsigned long long)s->dtls_failed,
		 (unsigned long long)s->dtls_restarts, (unsigned long long)s->dtls_lost,
		 hist_quantile_us(&s->dtls_lat, 0.5) / 1000,
		 hist_quantile_us(&s->dtls_lat, 0.99) / 1000, (unsigned long long)s->dtls_tx,
		 (unsigned long long)s->dtls_rx, (unsigned long long)s->tls_tx_pkts,
		 (unsigned long long)s->rehs_ok, (unsigned long long)s->rehs_failed,
		 hist_quantile_us(&s->rehs_lat, 0.5) / 1000,
		 hist_quantile_us(&s->rehs_lat, 0.99) / 1000);
	return buf;
}
