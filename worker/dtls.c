/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: each tunnel's DTLS channel (PROTOCOL.md section 6, FIELD.md
 * sections 2 and 5).  Owns the channel state of every connection (c->dt),
 * the PSK credentials, and the index of peers (address and port, and the
 * address alone) -> connection that finds a datagram's tunnel.
 *
 *   CONNECT offers DTLS    dtls_offer()   the client's suites, master secret
 *   tunnel opens           dtls_open()    App-ID (or Session-ID) and key
 *   ClientHello arrives    dtls_input()   a new GnuTLS session ("next")
 *   its handshake is done  dtls_input()   next becomes the channel ("cur"),
 *                                         atomically; the old one is dropped
 *   records                dtls_record(), dtls_send()
 *   silence, DPD           dtls_tick()    the channel goes down; TLS carries on
 *   tunnel closes          dtls_close()
 *
 * PSK mode: the key is the TLS session's exporter "EXPORTER-openconnect-psk"
 * (32 bytes); the ClientHello's session id is our App-ID.  Legacy (Cisco)
 * mode: the client "resumes" a session that never existed, made of its
 * X-DTLS-Master-Secret and the Session-ID we gave it, with one suite from
 * its own list (gnutls_session_set_premaster).
 *
 * No datagram reaches the tunnel before a handshake with the session's key
 * has completed: a ClientHello alone only starts one. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/dtls.h>

#include "common/dtls.h"
#include "common/log.h"
#include "common/peermap.h"
#include "worker/dtls.h"

static gnutls_psk_server_credentials_t psk_cred;
static gnutls_priority_t psk_prio;
static struct peermap peers; /* peer (and address alone) -> conn index */
static unsigned n_handshakes;
/* The datagram GnuTLS pulls from, for the session being fed. */
static const uint8_t *rx;
static size_t rx_len;
static uint8_t plain[1 << 16];

/* ---- set-up ------------------------------------------------------------- */

static int psk_key(gnutls_session_t s, const char *user, gnutls_datum_t *key)
{
	struct dtls_sess *ds = gnutls_session_get_ptr(s);
	struct dtls *dt = ds && ds->c ? ds->c->dt : NULL;

	(void)user; /* openconnect sends "psk": the key is bound to the App-ID */
	if (!dt || dt->choice.mode != DTLS_MODE_PSK)
		return -1;
	key->data = gnutls_malloc(PSK_LEN);
	if (!key->data)
		return -1;
	memcpy(key->data, dt->key, PSK_LEN);
	key->size = PSK_LEN;
	return 0;
}

int dtls_init(void)
{
	const char *errpos = NULL;
	int r;

	if (!W.env->udp_fds)
		return 0;
	r = peermap_init(&peers, 4 * W.max_conns);
	if (r < 0)
		return r;
	if ((r = gnutls_psk_allocate_server_credentials(&psk_cred)) < 0)
		goto fail;
	gnutls_psk_set_server_credentials_function(psk_cred, psk_key);
	if ((r = gnutls_priority_init2(&psk_prio, W.cfg->dtls_priorities, &errpos, 0)) < 0) {
		log_err("dtls.priorities: %s near '%s'", gnutls_strerror(r), errpos ? errpos : "");
		goto fail;
	}
	return 0;
fail:
	log_err("DTLS set-up: %s", gnutls_strerror(r));
	return -EINVAL;
}

/* ---- the peer index ----------------------------------------------------- */

static uint32_t val_of(const struct conn *c)
{
	return conn_index(c) + 1;
}

static void index_peer(struct conn *c, const struct udp_peer *p)
{
	struct peer_key k;

	if (peer_key_of(&p->a.sa, true, &k) < 0)
		return;
	if (peermap_put(&peers, &k, val_of(c)) < 0)
		log_warn("DTLS: the peer index is full; session %u stays on TLS", c->serial);
	k.port = 0;
	(void)peermap_put(&peers, &k, val_of(c)); /* the newest session of the address */
}

static void unindex_peer(struct conn *c, const struct udp_peer *p)
{
	struct peer_key k;

	if (peer_key_of(&p->a.sa, true, &k) < 0)
		return;
	peermap_del(&peers, &k, val_of(c));
	k.port = 0;
	peermap_del(&peers, &k, val_of(c));
}

static struct conn *conn_of(uint32_t v)
{
	struct conn *c;

	if (v == 0 || v > W.max_conns)
		return NULL;
	c = &W.conns[v - 1];
	return c->state == CS_TUNNEL && c->dt ? c : NULL;
}

struct conn *dtls_by_peer(const struct udp_peer *p, bool exact)
{
	struct peer_key k;
	uint32_t v;

	if (!peers.slot || peer_key_of(&p->a.sa, exact, &k) < 0 || !peermap_get(&peers, &k, &v))
		return NULL;
	return conn_of(v);
}

struct conn *dtls_by_id(const uint8_t *id)
{
	uint32_t slot = (uint32_t)id[DTLS_ID_SLOT] << 16 | (uint32_t)id[DTLS_ID_SLOT + 1] << 8 |
			id[DTLS_ID_SLOT + 2];
	struct conn *c = conn_of(slot + 1);
	uint8_t diff = 0;

	if (!c)
		return NULL;
	for (size_t i = 0; i < DTLS_ID_LEN; i++)
		diff |= (uint8_t)(c->dt->id[i] ^ id[i]);
	return diff ? NULL : c;
}

/* ---- sessions ----------------------------------------------------------- */

static bool peer_eq(const struct udp_peer *a, const struct udp_peer *b)
{
	if (a->a.sa.sa_family != b->a.sa.sa_family || a->k != b->k)
		return false;
	if (a->a.sa.sa_family == AF_INET)
		return a->a.in4.sin_port == b->a.in4.sin_port &&
		       a->a.in4.sin_addr.s_addr == b->a.in4.sin_addr.s_addr;
	return a->a.in6.sin6_port == b->a.in6.sin6_port &&
	       !memcmp(&a->a.in6.sin6_addr, &b->a.in6.sin6_addr, 16);
}

/* A datagram for the peer.  DTLS is lossy: one that does not fit the
 * batch is lost, as on the wire. */
static ssize_t dgram_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct dtls_sess *ds = p;

	udpout_queue(W.env->udp_fds[ds->peer.k], &ds->peer, data, len);
	return (ssize_t)len;
}

static ssize_t dgram_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct dtls_sess *ds = p;

	if (!rx) {
		gnutls_transport_set_errno(ds->s, EAGAIN);
		return -1;
	}
	if (len > rx_len)
		len = rx_len;
	memcpy(data, rx, len);
	rx = NULL;
	rx_len = 0;
	return (ssize_t)len;
}

static int dgram_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)p;
	(void)ms;
	return rx ? 1 : 0;
}

/* Point GnuTLS at ds where it lives now. */
static void sess_bind(struct dtls_sess *ds)
{
	gnutls_session_set_ptr(ds->s, ds);
	gnutls_transport_set_ptr(ds->s, ds);
}

static int legacy_setup(struct dtls *dt, gnutls_session_t s)
{
	static const char *const kx[] = {[DTLS_KX_RSA] = "RSA",
					 [DTLS_KX_ECDHE_RSA] = "ECDHE-RSA",
					 [DTLS_KX_ECDHE_ECDSA] = "ECDHE-ECDSA"};
	static const gnutls_kx_algorithm_t gkx[] = {[DTLS_KX_RSA] = GNUTLS_KX_RSA,
						    [DTLS_KX_ECDHE_RSA] = GNUTLS_KX_ECDHE_RSA,
						    [DTLS_KX_ECDHE_ECDSA] = GNUTLS_KX_ECDHE_ECDSA};
	bool aes128 = dt->choice.cipher == DTLS_AES128_GCM;
	gnutls_datum_t master = {dt->key, MASTER_LEN}, sid = {dt->id, DTLS_ID_LEN};
	char prio[256];
	int r;

	/* The resumed session's extended-master-secret and renegotiation
	 * state are undefined: neither may be insisted on. */
	snprintf(prio, sizeof(prio),
		 "NONE:+VERS-DTLS1.2:+COMP-NULL:+%s:+AEAD:+%s:+SIGN-ALL:%%COMPAT:"
		 "%%NO_SESSION_HASH:%%DISABLE_SAFE_RENEGOTIATION",
		 aes128 ? "AES-128-GCM" : "AES-256-GCM", kx[dt->choice.kx]);
	r = gnutls_priority_set_direct(s, prio, NULL);
	if (r == 0)
		r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, W.env->cred);
	if (r == 0)
		r = gnutls_session_set_premaster(
		    s, GNUTLS_SERVER, GNUTLS_DTLS1_2, gkx[dt->choice.kx],
		    aes128 ? GNUTLS_CIPHER_AES_128_GCM : GNUTLS_CIPHER_AES_256_GCM, GNUTLS_MAC_AEAD,
		    GNUTLS_COMP_NULL, &master, &sid);
	return r;
}

static int sess_start(struct conn *c, struct dtls_sess *ds, const struct udp_peer *from)
{
	struct dtls *dt = c->dt;
	int r;

	r = gnutls_init(&ds->s,
			GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (r < 0)
		return r;
	if (dt->choice.mode == DTLS_MODE_PSK) {
		r = gnutls_priority_set(ds->s, psk_prio);
		if (r == 0)
			r = gnutls_credentials_set(ds->s, GNUTLS_CRD_PSK, psk_cred);
	} else {
		r = legacy_setup(dt, ds->s);
	}
	if (r < 0) {
		gnutls_deinit(ds->s);
		ds->s = NULL;
		return r;
	}
	ds->peer = *from;
	ds->c = c;
	ds->up = false;
	sess_bind(ds);
	gnutls_transport_set_push_function(ds->s, dgram_push);
	gnutls_transport_set_pull_function(ds->s, dgram_pull);
	gnutls_transport_set_pull_timeout_function(ds->s, dgram_pull_timeout);
	gnutls_dtls_set_mtu(ds->s, dt->base_mtu - (from->a.sa.sa_family == AF_INET6 ? 48 : 28));
	gnutls_dtls_set_timeouts(ds->s, HS_RETRANS_MS, HS_TOTAL_MS);
	n_handshakes++;
	dt->hs_start = time(NULL);
	return 0;
}

static void sess_drop(struct dtls *dt, struct dtls_sess *ds)
{
	if (!ds->s)
		return;
	if (!ds->up)
		n_handshakes--;
	gnutls_deinit(ds->s);
	ds->s = NULL;
	ds->up = false;
	(void)dt;
}

/* Drop a session and its peer's index entries, unless another session
 * of the channel still uses that peer. */
static void sess_end(struct conn *c, struct dtls_sess *ds)
{
	struct dtls *dt = c->dt;
	struct dtls_sess *all[] = {&dt->cur, &dt->next, &dt->old};
	bool shared = false;

	if (!ds->s)
		return;
	for (size_t i = 0; i < 3; i++)
		shared |= all[i] != ds && all[i]->s && peer_eq(&all[i]->peer, &ds->peer);
	if (!shared)
		unindex_peer(c, &ds->peer);
	sess_drop(dt, ds);
}

#define OLD_LINGER 2 /* s the replaced channel still reads */

/* The handshake of next is done: it becomes the channel at once; the one
 * it replaces reads on for OLD_LINGER seconds. */
static void promote(struct conn *c)
{
	struct dtls *dt = c->dt;

	sess_end(c, &dt->old);
	if (dt->cur.up) {
		dt->old = dt->cur;
		sess_bind(&dt->old);
		dt->old_until = time(NULL) + OLD_LINGER;
	}
	n_handshakes--;
	dt->cur = dt->next;
	dt->cur.up = true;
	memset(&dt->next, 0, sizeof(dt->next));
	sess_bind(&dt->cur);
	index_peer(c, &dt->cur.peer);
	dt->last_rx = time(NULL);
	dt->active = true;
}

/* A new ClientHello: a new handshake, replacing one in progress (the
 * client's latest attempt is the one it waits for). */
static int hello(struct conn *c, const struct udp_peer *from)
{
	struct dtls *dt = c->dt;
	int r;

	sess_end(c, &dt->next);
	if (n_handshakes >= W.max_conns / 4 + 16) {
		log_debug("session %u: DTLS handshakes at this worker's limit; ClientHello dropped",
			  c->serial);
		return -EBUSY;
	}
	r = sess_start(c, &dt->next, from);
	if (r < 0) {
		log_warn("session %u: DTLS session set-up: %s", c->serial, gnutls_strerror(r));
		return -EINVAL;
	}
	index_peer(c, from);
	return 0;
}

/* ---- datagrams ---------------------------------------------------------- */

/* The client's rekey ("ssl"): a new handshake inside the channel's
 * session, which keeps carrying records meanwhile. */
static enum dtls_in rekey_step(struct conn *c, const uint8_t *d, size_t n)
{
	struct dtls *dt = c->dt;
	int r;

	rx = d;
	rx_len = n;
	r = gnutls_handshake(dt->cur.s);
	rx = NULL;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return DTLS_IN_NONE;
	dt->rekeying = false;
	if (r < 0)
		log_info("session %u: DTLS rekey failed: %s", c->serial, gnutls_strerror(r));
	else
		log_info("session %u: DTLS rekeyed", c->serial);
	return DTLS_IN_NONE;
}

/* A record that proved a rebinding, kept for the next dtls_record(). */
static struct {
	struct conn *c;
	ssize_t len;
} held;

/* The datagram being read, the session reading it, and the other session
 * that gets it if the first cannot decrypt it (both use the peer). */
static struct {
	const uint8_t *d;
	size_t n;
	struct dtls_sess *ds, *alt;
	bool first; /* no record of it read yet */
} feed;

/* A handshake datagram: a new or continued handshake; true when it was
 * one (then *out says what came of it). */
static bool handshake_input(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n,
			    enum dtls_in *out)
{
	struct dtls *dt = c->dt;
	const uint8_t *id;
	bool started = false;
	int r;

	if (dtls_hello_id(d, n, &id) == 0 && !(dt->next.s && peer_eq(&dt->next.peer, from))) {
		*out = DTLS_IN_NONE;
		if (hello(c, from) < 0)
			return true;
		started = true;
	}
	if (!dt->next.s || !peer_eq(&dt->next.peer, from))
		return false;
	rx = d;
	rx_len = n;
	r = gnutls_handshake(dt->next.s);
	rx = NULL;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		*out = started ? DTLS_IN_STARTED : DTLS_IN_NONE;
	} else if (r < 0) {
		log_info("session %u: DTLS handshake with the client failed: %s", c->serial,
			 gnutls_strerror(r));
		sess_end(c, &dt->next);
		*out = DTLS_IN_NONE;
	} else {
		promote(c);
		*out = DTLS_IN_UP;
	}
	return true;
}

/* Another port (or address) of the client's: a NAT moved it.  Only a
 * record that decrypts with the channel's keys moves the channel. */
static enum dtls_in rebind(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n)
{
	struct dtls *dt = c->dt;
	ssize_t r;

	rx = d;
	rx_len = n;
	r = gnutls_record_recv(dt->cur.s, plain, sizeof(plain));
	rx = NULL;
	if (r <= 0)
		return DTLS_IN_NONE;
	unindex_peer(c, &dt->cur.peer);
	dt->cur.peer = *from;
	index_peer(c, from);
	held.c = c;
	held.len = r;
	feed.ds = &dt->cur;
	feed.alt = NULL;
	return DTLS_IN_REBOUND;
}

enum dtls_in dtls_input(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n)
{
	struct dtls *dt = c->dt;
	enum dtls_in out;
	bool from_cur, from_old;

	if (handshake_input(c, from, d, n, &out))
		return out;
	from_cur = dt->cur.up && peer_eq(&dt->cur.peer, from);
	from_old = dt->old.s && peer_eq(&dt->old.peer, from);
	if (from_cur && dt->rekeying)
		return rekey_step(c, d, n);
	if (!from_cur && !from_old)
		return dt->cur.up ? rebind(c, from, d, n) : DTLS_IN_NONE;
	feed = (typeof(feed)){d, n, from_cur ? &dt->cur : &dt->old,
			      from_cur && from_old ? &dt->old : NULL, true};
	rx = d;
	rx_len = n;
	return DTLS_IN_RECORDS;
}

ssize_t dtls_record(struct conn *c, const uint8_t **rec)
{
	struct dtls *dt = c->dt;
	ssize_t r;

	if (held.c == c) {
		held.c = NULL;
		r = held.len;
	} else {
		r = gnutls_record_recv(feed.ds->s, plain, sizeof(plain));
		if (r <= 0 && feed.first && feed.alt) {
			/* Not the channel's: the replaced one's, sent before
			 * the client switched. */
			feed.ds = feed.alt;
			feed.alt = NULL;
			rx = feed.d;
			rx_len = feed.n;
			r = gnutls_record_recv(feed.ds->s, plain, sizeof(plain));
		}
	}
	feed.first = false;
	if (r > 0) {
		dt->last_rx = time(NULL);
		dt->active = true;
		*rec = plain;
		return r;
	}
	rx = NULL;
	if (feed.ds == &dt->old) {
		if (r == 0 || r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			sess_end(c, &dt->old);
		return 0;
	}
	if (r == GNUTLS_E_REHANDSHAKE) {
		dt->rekeying = true;
		rekey_step(c, NULL, 0);
		return 0;
	}
	/* DTLS drops what it cannot use (replays, forgeries, reordering
	 * beyond the window): only an alert or a closed session ends it. */
	if (r == 0 || r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return -EPIPE;
	return 0;
}

int dtls_send(struct conn *c, const void *rec, size_t len)
{
	ssize_t r = gnutls_record_send(c->dt->cur.s, rec, len);

	if (r == (ssize_t)len)
		return 0;
	if (r == GNUTLS_E_LARGE_PACKET)
		return -EMSGSIZE;
	return -ENOBUFS;
}

bool dtls_active(const struct conn *c)
{
	return c->dt && c->dt->cur.up && c->dt->active;
}

void dtls_hint_tls(struct conn *c)
{
	if (c->dt)
		c->dt->active = false;
}

bool dtls_down(struct conn *c, time_t now)
{
	struct dtls *dt = c->dt;
	unsigned dead = 3 * (W.cfg->dpd ? W.cfg->dpd : 30);
	int r;

	if (!dt)
		return false;
	if (dt->next.s) {
		/* Retransmits the last flight when its time has come. */
		r = gnutls_handshake(dt->next.s);
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED && r < 0) {
			log_info("session %u: DTLS handshake given up: %s", c->serial,
				 gnutls_strerror(r));
			sess_end(c, &dt->next);
		}
	}
	if (dt->old.s && now >= dt->old_until)
		sess_end(c, &dt->old);
	if (!dt->cur.up || now - dt->last_rx <= (time_t)dead)
		return false;
	log_info("session %u: no DTLS from the client for %u s: data goes over TLS", c->serial,
		 dead);
	return dtls_shut(c);
}

bool dtls_shut(struct conn *c)
{
	struct dtls *dt = c->dt;

	if (!dt || !dt->cur.up)
		return false;
	if (held.c == c)
		held.c = NULL;
	sess_end(c, &dt->cur);
	return true;
}

void dtls_forget(struct conn *c)
{
	if (!c->dt)
		return;
	explicit_bzero(c->dt, sizeof(*c->dt));
	free(c->dt);
	c->dt = NULL;
}

void dtls_close(struct conn *c)
{
	struct dtls *dt = c->dt;

	if (!dt)
		return;
	if (held.c == c)
		held.c = NULL;
	sess_end(c, &dt->next);
	sess_end(c, &dt->old);
	sess_end(c, &dt->cur);
	dtls_forget(c);
}

void dtls_report(const struct conn *c, struct ipc_msg *m, bool handshake)
{
	const struct dtls *dt = c->dt;
	const struct dtls_sess *ds = handshake ? &dt->next : &dt->cur;
	const struct udp_peer *p = &ds->peer;

	m->u.dtls.up = handshake ? (ds->s ? 2 : 0) : dt->cur.up;
	if (!m->u.dtls.up)
		return;
	m->u.dtls.peer.family = p->a.sa.sa_family;
	if (p->a.sa.sa_family == AF_INET) {
		m->u.dtls.peer.port = ntohs(p->a.in4.sin_port);
		memcpy(m->u.dtls.peer.addr, &p->a.in4.sin_addr, 4);
	} else {
		m->u.dtls.peer.port = ntohs(p->a.in6.sin6_port);
		memcpy(m->u.dtls.peer.addr, &p->a.in6.sin6_addr, 16);
	}
	if (!handshake)
		snprintf(m->u.dtls.cipher, sizeof(m->u.dtls.cipher), "%s",
			 gnutls_cipher_get_name(gnutls_cipher_get(dt->cur.s)));
}
