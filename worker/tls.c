/* Worker: GnuTLS glue.  Owns each connection's send queue (struct obuf).
 *
 * Reads: one recv() fills the worker's read-ahead buffer and GnuTLS pulls
 * from it, so a burst of records costs one syscall, and partial records
 * stay in GnuTLS's own buffer (no per-connection input buffer).
 * Writes: GnuTLS pushes ciphertext into the connection's queue; the loop
 * flushes every queue once per turn (flush_dirty), so many records leave in
 * one send().  The queue is bounded by limits.queue-bytes: tls_send()
 * refuses a record that does not fit and the caller drops the packet. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/log.h"

#define TLS_RECORD_OVERHEAD 64 /* header, nonce, tag, padding: generous */
#define OBUF_FREE_KEEP	    64 /* idle queues kept for reuse */

static unsigned n_free_obufs;

static struct obuf *obuf_get(void)
{
	struct obuf *b = W.free_obufs;

	if (b) {
		W.free_obufs = b->next_free;
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

void obuf_release(struct conn *c)
{
	struct obuf *b = c->out;

	if (!b)
		return;
	c->out = NULL;
	if (n_free_obufs >= OBUF_FREE_KEEP) {
		free(b);
		return;
	}
	b->next_free = W.free_obufs;
	W.free_obufs = b;
	n_free_obufs++;
}

size_t tls_queue_room(const struct conn *c)
{
	if (!c->out)
		return W.cfg->queue_bytes;
	return c->out->cap - c->out->len + c->out->off;
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
	conn_mark_dirty(c);
	return (ssize_t)len;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct conn *c = p;

	if (W.ra_len == 0) {
		gnutls_transport_set_errno(c->tls, EAGAIN);
		return -1;
	}
	if (len > W.ra_len)
		len = W.ra_len;
	memcpy(data, W.ra, len);
	W.ra += len;
	W.ra_len -= len;
	return (ssize_t)len;
}

int tls_conn_init(struct conn *c)
{
	int r;

	r = gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (r < 0) {
		log_err("gnutls_init: %s", gnutls_strerror(r));
		return -ENOMEM;
	}
	r = gnutls_priority_set(c->tls, W.tls->prio);
	if (r == 0)
		r = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, W.tls->cred);
	if (r < 0) {
		log_err("TLS session set-up: %s", gnutls_strerror(r));
		gnutls_deinit(c->tls);
		c->tls = NULL;
		return -EINVAL;
	}
	c->tctx = W.tls;
	W.tls->refs++;
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
	if (t && --t->refs == 0 && t != W.tls && t->owned)
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
	    (size_t)h->cert_len + h->key_len + h->prio_len != len - sizeof(*h) ||
	    h->prio_len >= sizeof(prio))
		return -EBADMSG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	gnutls_datum_t cd = {(unsigned char *)p, h->cert_len};
	gnutls_datum_t kd = {(unsigned char *)p + h->cert_len, h->key_len};
	memcpy(prio, p + h->cert_len + h->key_len, h->prio_len);
	prio[h->prio_len] = 0;
	r = gnutls_certificate_allocate_credentials(&t->cred);
	if (r == 0)
		r = gnutls_certificate_set_x509_key_mem2(t->cred, &cd, &kd, GNUTLS_X509_FMT_PEM,
							 NULL, 0);
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
	struct tls_ctx *old = W.tls;
	W.tls = t;
	if (old->refs == 0 && old->owned)
		tls_ctx_free(old);
	return 0;
}

int tls_send(struct conn *c, const void *buf, size_t len)
{
	ssize_t r;

	if (tls_queue_room(c) < len + TLS_RECORD_OVERHEAD)
		return -ENOBUFS;
	r = gnutls_record_send(c->tls, buf, len);
	if (r == (ssize_t)len)
		return 0;
	/* Room was checked, so anything else is a broken session. */
	log_debug("TLS send to %s failed: %s", c->peer, gnutls_strerror((int)r));
	conn_close(c, "TLS send failed");
	return -EPIPE;
}

void tls_flush(struct conn *c)
{
	struct obuf *b = c->out;
	ssize_t n;

	while (b && b->off < b->len) {
		n = send(c->fd, b->data + b->off, b->len - b->off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				conn_want(c, EPOLLIN | EPOLLOUT);
				return;
			}
			conn_close(c, errno == EPIPE || errno == ECONNRESET ? "connection reset"
									    : "send failed");
			return;
		}
		b->off += (uint32_t)n;
	}
	if (b)
		obuf_release(c);
	if (c->state == CS_DRAIN) {
		conn_close(c, "response sent");
		return;
	}
	if (c->events & EPOLLOUT)
		conn_want(c, EPOLLIN);
}

static void handshake_step(struct conn *c)
{
	int r = gnutls_handshake(c->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return;
	if (r < 0) {
		log_info("TLS handshake with %s failed: %s", c->peer, gnutls_strerror(r));
		conn_close(c, "TLS handshake failed");
		return;
	}
	c->state = CS_HTTP;
	c->deadline = time(NULL) + W.cfg->auth_timeout;
	log_debug("TLS %s with %s", gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)),
		  c->peer);
}

/* Decrypt every whole record now available and hand it on by state. */
static void drain_records(struct conn *c)
{
	uint8_t *plain = W.scratch + W.scratch_cap;
	uint32_t gen = c->gen;
	ssize_t r;

	for (;;) {
		if (c->state == CS_DRAIN)
			return; /* whatever else the client says is moot */
		r = gnutls_record_recv(c->tls, plain, W.scratch_cap);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r == 0) {
			conn_close(c, "client closed the connection");
			return;
		}
		if (r < 0) {
			conn_close(c, gnutls_strerror((int)r));
			return;
		}
		if (c->state == CS_TUNNEL)
			tunnel_on_data(c, plain, (size_t)r);
		else
			login_on_data(c, plain, (size_t)r);
		if (c->state == CS_FREE || c->gen != gen)
			return;
	}
}

void tls_on_readable(struct conn *c)
{
	ssize_t n;

	n = recv(c->fd, W.scratch, W.scratch_cap, MSG_DONTWAIT);
	if (n == 0) {
		conn_close(c, "client closed the connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, errno == ECONNRESET ? "connection reset" : "recv failed");
		return;
	}
	W.ra = W.scratch;
	W.ra_len = (size_t)n;
	if (c->state == CS_HANDSHAKE) {
		handshake_step(c);
		if (c->state != CS_HTTP)
			goto out;
	}
	drain_records(c);
out:
	W.ra_len = 0;
}
