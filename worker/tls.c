/* Worker: the GnuTLS transport.  Owns the read-ahead buffer, each
 * connection's send queue (struct obuf) with their free list, the flush
 * list and the certificate for new handshakes (its private key is the key
 * process's: keysign.c).  Returns codes: deciding what a failure means for
 * the connection is conn.c's job.
 *
 * Reads: one recv() fills the worker's read-ahead buffer and GnuTLS pulls
 * from it, so a burst of records costs one syscall, and partial records
 * stay in GnuTLS's own buffer (no per-connection input buffer).
 * Writes: GnuTLS pushes ciphertext into the connection's queue, and the
 * connection joins the flush list; conn.c flushes the list once per loop
 * turn, so many records leave in one send().  The queue is bounded by
 * limits.queue-bytes: tls_send() refuses a record that does not fit and the
 * caller drops the packet. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "worker/cert.h"

#define OBUF_FREE_KEEP 64 /* idle queues kept for reuse */
#define NIL	       UINT32_MAX

/* What one recv() brought, and the part GnuTLS has not pulled yet. */
static uint8_t ra_buf[1 << 16];
static const uint8_t *ra;
static size_t ra_len;
/* Where records are decrypted to. */
static uint8_t plain[1 << 16];

static struct obuf *free_obufs;
static unsigned n_free_obufs;
static uint32_t dirty_head = NIL;

/* For new handshakes: the one inherited at fork, or the latest reload. */
static struct tls_ctx inherited, *current;

/* The key generation of current's certificate (tunnelctl status). */
static uint32_t current_gen;

void tls_init(const struct worker_env *env)
{
	inherited.cred = env->cred;
	inherited.prio = env->prio;
	inherited.client_ca = env->cfg->auth_ca != NULL;
	snprintf(inherited.user_field, sizeof(inherited.user_field), "%s",
		 env->cfg->auth_cert_user_field ? env->cfg->auth_cert_user_field : "CN");
	snprintf(inherited.group_field, sizeof(inherited.group_field), "%s",
		 env->cfg->auth_cert_group_field ? env->cfg->auth_cert_group_field : "");
	current = &inherited;
	current_gen = env->tls_gen;
}

uint32_t tls_generation(void)
{
	return current_gen;
}

static struct obuf *obuf_get(void)
{
	struct obuf *b = free_obufs;

	if (b) {
		free_obufs = b->next_free;
		n_free_obufs--;
	} else {
		b = malloc(sizeof(*b) + W.cfg->queue_bytes);
		if (!b)
			return NULL;
		b->cap = W.cfg->queue_bytes;
	}
	b->off = b->len = 0;
	b->next_free = NULL;
	return b;
}

static void obuf_release(struct conn *c)
{
	struct obuf *b = c->out;

	if (!b)
		return;
	c->out = NULL;
	if (n_free_obufs >= OBUF_FREE_KEEP) {
		free(b);
		return;
	}
	b->next_free = free_obufs;
	free_obufs = b;
	n_free_obufs++;
}

static size_t queue_room(const struct conn *c)
{
	if (!c->out)
		return W.cfg->queue_bytes;
	return c->out->cap - c->out->len + c->out->off;
}

void tls_mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = dirty_head;
	dirty_head = conn_index(c);
}

struct conn *tls_next_dirty(void)
{
	struct conn *c;

	if (dirty_head == NIL)
		return NULL;
	c = &W.conns[dirty_head];
	dirty_head = c->next_dirty;
	c->dirty = false;
	return c;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct conn *c = p;
	struct obuf *b;

	if (!c->out) {
		c->out = obuf_get();
		if (!c->out) {
			gnutls_transport_set_errno(c->tls, ENOMEM);
			return -1;
		}
	}
	b = c->out;
	if (b->cap - b->len < len && b->off) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < len) {
		gnutls_transport_set_errno(c->tls, EAGAIN);
		return -1;
	}
	memcpy(b->data + b->len, data, len);
	b->len += (uint32_t)len;
	tls_mark_dirty(c);
	return (ssize_t)len;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct conn *c = p;

	if (ra_len == 0) {
		gnutls_transport_set_errno(c->tls, EAGAIN);
		return -1;
	}
	if (len > ra_len)
		len = ra_len;
	memcpy(data, ra, len);
	ra += len;
	ra_len -= len;
	return (ssize_t)len;
}

size_t tls_room(const struct conn *c)
{
	return queue_room(c);
}

bool tls_queued(const struct conn *c)
{
	return c->out && c->out->off < c->out->len;
}

int tls_conn_init(struct conn *c)
{
	return tls_conn_init_ctx(c, current);
}

int tls_conn_init_ctx(struct conn *c, struct tls_ctx *t)
{
	int r;

	c->out = NULL;
	c->tls_failed = false;
	r = gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (r < 0) {
		log_err("gnutls_init: %s", gnutls_strerror(r));
		return -ENOMEM;
	}
	r = gnutls_priority_set(c->tls, t->prio);
	if (r == 0)
		r = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (r == 0 && t->require_cert) {
		/* The chain is checked against the service's CAs during the
		 * handshake, which fails without a good one. */
		gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(c->tls, NULL, 0);
	} else if (r == 0 && t->client_ca) {
		/* The VPN's: asked, not required; the login's rules
		 * (auth.cert-mode) decide. */
		gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUEST);
	}
	if (r < 0) {
		log_err("TLS session set-up: %s", gnutls_strerror(r));
		gnutls_deinit(c->tls);
		c->tls = NULL;
		return -EINVAL;
	}
	c->tctx = t;
	t->refs++;
	gnutls_transport_set_ptr(c->tls, c);
	gnutls_transport_set_push_function(c->tls, tls_push);
	gnutls_transport_set_pull_function(c->tls, tls_pull);
	return 0;
}

static void tls_ctx_free(struct tls_ctx *t)
{
	gnutls_certificate_free_credentials(t->cred);
	gnutls_priority_deinit(t->prio);
	free(t);
}

void tls_conn_done(struct conn *c)
{
	struct tls_ctx *t = c->tctx;

	gnutls_deinit(c->tls);
	c->tls = NULL;
	c->tctx = NULL;
	if (t && --t->refs == 0 && t != current && t->owned && !t->svc_live)
		tls_ctx_free(t);
	obuf_release(c);
}

/* A reload's client CA and CRL into t's credentials, and its fields. */
static int client_ca(struct tls_ctx *t, const struct ipc_tls *h, const char *p)
{
	gnutls_datum_t ca = {(unsigned char *)p, h->ca_len};
	gnutls_datum_t crl = {(unsigned char *)p + h->ca_len, h->crl_len};
	const char *what;

	t->client_ca = true;
	memcpy(t->user_field, h->user_field, sizeof(t->user_field));
	memcpy(t->group_field, h->group_field, sizeof(t->group_field));
	t->user_field[sizeof(t->user_field) - 1] = t->group_field[sizeof(t->group_field) - 1] = 0;
	return cert_cred_apply(t->cred, &ca, h->crl_len ? &crl : NULL, &what);
}

void tls_ctx_release(struct tls_ctx *t)
{
	t->svc_live = false;
	if (t->refs == 0 && t->owned)
		tls_ctx_free(t);
}

int tls_reload(const void *msg, size_t len)
{
	const struct ipc_tls *h = msg;
	const char *p = (const char *)msg + sizeof(*h);
	struct tls_ctx *t;
	char prio[1024];
	int r;

	if (len < sizeof(*h) ||
	    (size_t)h->cert_len + h->prio_len + h->ca_len + h->crl_len != len - sizeof(*h) ||
	    h->prio_len >= sizeof(prio))
		return -EBADMSG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	gnutls_datum_t cd = {(unsigned char *)p, h->cert_len};
	memcpy(prio, p + h->cert_len, h->prio_len);
	prio[h->prio_len] = 0;
	/* The certificate, and the key process's key of generation key_gen
	 * to sign with. */
	r = keysign_cred(&cd, h->key_gen, &t->cred);
	if (r == 0 && h->ca_len)
		r = client_ca(t, h, p + h->cert_len + h->prio_len);
	if (r == 0)
		r = gnutls_priority_init2(&t->prio, prio, NULL, 0);
	if (r < 0) {
		log_err("reloaded TLS material rejected: %s", gnutls_strerror(r));
		if (t->cred)
			gnutls_certificate_free_credentials(t->cred);
		free(t);
		return -EINVAL;
	}
	t->owned = true;
	struct tls_ctx *old = current;
	current = t;
	current_gen = h->key_gen;
	if (old->refs == 0 && old->owned)
		tls_ctx_free(old);
	return 0;
}

int tls_send(struct conn *c, const void *buf, size_t len)
{
	ssize_t r;

	if (c->tls_failed)
		return -EPIPE;
	if (queue_room(c) < len + TLS_RECORD_OVERHEAD)
		return -ENOBUFS;
	r = gnutls_record_send(c->tls, buf, len);
	if (r == (ssize_t)len)
		return 0;
	/* Room was checked, so anything else is a broken session.  The next
	 * flush reports it to whoever did not close it at once. */
	log_debug("TLS send to %s failed: %s", c->peer, gnutls_strerror((int)r));
	c->tls_failed = true;
	tls_mark_dirty(c);
	return -EPIPE;
}

void tls_bye(struct conn *c)
{
	gnutls_bye(c->tls, GNUTLS_SHUT_WR);
}

int tls_flush(struct conn *c)
{
	struct obuf *b = c->out;
	ssize_t n;

	if (c->tls_failed)
		return -EPROTO;
	while (b && b->off < b->len) {
		n = send(c->fd, b->data + b->off, b->len - b->off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -EAGAIN;
			return errno == EPIPE || errno == ECONNRESET ? -EPIPE : -EIO;
		}
		b->off += (uint32_t)n;
	}
	if (b)
		obuf_release(c);
	return 0;
}

ssize_t tls_recv(struct conn *c)
{
	ssize_t n = recv(c->fd, ra_buf, sizeof(ra_buf), MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	ra = ra_buf;
	ra_len = (size_t)n;
	return n;
}

void tls_recv_done(void)
{
	ra_len = 0;
}

int tls_handshake(struct conn *c)
{
	int r = gnutls_handshake(c->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	if (r < 0) {
		log_info("TLS handshake with %s failed: %s", c->peer, gnutls_strerror(r));
		return -EPROTO;
	}
	log_debug("TLS %s with %s", gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)),
		  c->peer);
	return 0;
}

ssize_t tls_record(struct conn *c, const uint8_t **rec, const char **why)
{
	ssize_t r = gnutls_record_recv(c->tls, plain, sizeof(plain));

	if (r > 0) {
		*rec = plain;
		return r;
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return 0;
	*why = r == 0 ? "client closed the connection" : gnutls_strerror((int)r);
	return r == 0 ? -ESHUTDOWN : -EPIPE;
}
