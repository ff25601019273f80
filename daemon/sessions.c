/* Master: the session table (see sessions.h).  The only writer of the
 * shared owner[] map that workers read to route TUN packets.  The table
 * holds cookies: it lives in secret memory (common/secmem.h).
 *
 *   login ok --sess_create--> IDLE --sess_bind--> BOUND --sess_unbind--> IDLE
 *   IDLE --sess_expire (reconnect-timeout)--> gone;  any --sess_end--> gone
 */
#include "config.h"
#include "daemon/sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "common/secmem.h"
#include <gnutls/crypto.h>

int sess_table_init(struct sess_table *t, const struct cfg *cfg, uint8_t *owner)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->owner = owner;
	t->next_serial = 1;
	t->node_id = cfg->node_id;
	r = pool_init(&t->pool, cfg->have_ipv4_pool ? &cfg->ipv4_pool : NULL,
		      cfg->have_ipv6_pool ? &cfg->ipv6_pool : NULL);
	if (r < 0)
		return r;
	r = cookie_table_init(&t->cookies, 1024);
	if (r < 0) {
		pool_free(&t->pool);
		return r;
	}
	return 0;
}

void sess_table_free(struct sess_table *t)
{
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->s[i].used)
			free(t->s[i].rad);	   /* malloc'd by radsess.c; no accounting here */
	secmem_free(t->s, sizeof(*t->s) * t->cap); /* wiped first */
	cookie_table_free(&t->cookies);
	pool_free(&t->pool);
	memset(t, 0, sizeof(*t));
}

static struct session *slot_alloc(struct sess_table *t)
{
	uint32_t i;

	if (t->count == t->cap) {
		/* Not realloc(): the old block holds live cookies and would be
		 * freed unwiped.  Secret memory is wiped when given back, and a
		 * forked worker sees it as zeros. */
		uint32_t ncap = t->cap ? t->cap * 2 : 256;
		struct session *n = secmem_alloc(sizeof(*n) * ncap);
		if (!n)
			return NULL;
		if (t->s)
			memcpy(n, t->s, sizeof(*n) * t->cap);
		secmem_free(t->s, sizeof(*t->s) * t->cap);
		t->s = n;
		t->cap = ncap;
	}
	for (i = 0; i < t->cap; i++)
		if (!t->s[i].used)
			return &t->s[i];
	return NULL;
}

uint64_t sess_make_sid(unsigned node_id)
{
	uint64_t r = 0;

	/* A nonce-grade random number: an id, not a secret. */
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
	return (uint64_t)(node_id & 0xff) << 56 | (r & ((1ull << 56) - 1));
}

struct session *sess_create(struct sess_table *t, const char *user, const char *peer)
{
	struct session *s = slot_alloc(t);
	time_t now = time(NULL);

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	if (cookie_generate(s->cookie) < 0 ||
	    cookie_insert(&t->cookies, s->cookie, (uint32_t)(s - t->s)) < 0) {
		explicit_bzero(s->cookie, sizeof(s->cookie));
		return NULL;
	}
	s->used = true;
	s->sid = sess_make_sid(t->node_id);
	s->want_lease = -1;
	s->serial = t->next_serial++;
	if (t->next_serial == 0)
		t->next_serial = 1;
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->lease = -1;
	s->worker = -1;
	s->kicked_worker = -1;
	s->created = s->idle_since = now;
	t->count++;
	return s;
}

struct session *sess_by_cookie(struct sess_table *t, const uint8_t cookie[COOKIE_BYTES])
{
	uint32_t slot;

	if (cookie_lookup(&t->cookies, cookie, &slot) < 0 || slot >= t->cap || !t->s[slot].used)
		return NULL;
	return &t->s[slot];
}

struct session *sess_by_id(struct sess_table *t, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (slot >= t->cap || !t->s[slot].used || t->s[slot].serial != (uint32_t)(id >> 32))
		return NULL;
	return &t->s[slot];
}

int sess_bind(struct sess_table *t, struct session *s, int w, struct ipc_ref ref)
{
	/* owner[] names slot w as w + 1 in a byte: slot 255 would be 0,
	 * "nobody", and its clients would get no downlink. */
	if (w < 0 || w >= CFG_MAX_WORKERS)
		return -ERANGE;
	if (s->lease < 0) {
		int64_t idx = s->want_lease;
		if (idx >= 0 &&
		    (idx >= (int64_t)t->pool.g.size || pool_take(&t->pool, (uint32_t)idx) < 0))
			return -EBUSY;
		if (idx < 0 && (idx = pool_alloc(&t->pool)) < 0)
			return (int)idx;
		s->lease = idx;
	} else {
		s->reconnects++;
	}
	if (s->worker < 0)
		t->tunnels++;
	s->worker = w;
	s->ref = ref;
	s->connected_since = time(NULL);
	/* Release store: a worker that sees the new owner also sees a
	 * consistent byte, never a torn one (it is one byte anyway). */
	__atomic_store_n(&t->owner[s->lease], (uint8_t)(w + 1), __ATOMIC_RELEASE);
	return 0;
}

void sess_unbind(struct sess_table *t, struct session *s)
{
	if (s->worker < 0)
		return;
	if (s->lease >= 0)
		__atomic_store_n(&t->owner[s->lease], 0, __ATOMIC_RELEASE);
	s->worker = -1;
	t->tunnels--;
	s->idle_since = time(NULL);
}

void sess_add_counters(struct session *s, const struct sess_counters *c)
{
	s->ctr.rx_pkts += c->rx_pkts;
	s->ctr.rx_bytes += c->rx_bytes;
	s->ctr.tx_pkts += c->tx_pkts;
	s->ctr.tx_bytes += c->tx_bytes;
	s->ctr.drop_spoofed += c->drop_spoofed;
	s->ctr.drop_malformed += c->drop_malformed;
	s->ctr.drop_queue += c->drop_queue;
	s->ctr.dtls_rx_pkts += c->dtls_rx_pkts;
	s->ctr.dtls_rx_bytes += c->dtls_rx_bytes;
	s->ctr.dtls_tx_pkts += c->dtls_tx_pkts;
	s->ctr.dtls_tx_bytes += c->dtls_tx_bytes;
}

void sess_end(struct sess_table *t, struct session *s, const char *why)
{
	const struct sess_counters *c = &s->ctr;

	log_info("session %u user %s ended (%s): from client %llu pkts %llu bytes, to client "
		 "%llu pkts %llu bytes, dropped %llu spoofed %llu malformed %llu queue-full, "
		 "%u reconnects; over DTLS %llu pkts from, %llu pkts to client",
		 s->serial, s->user, why, (unsigned long long)c->rx_pkts,
		 (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_pkts,
		 (unsigned long long)c->tx_bytes, (unsigned long long)c->drop_spoofed,
		 (unsigned long long)c->drop_malformed, (unsigned long long)c->drop_queue,
		 s->reconnects, (unsigned long long)c->dtls_rx_pkts,
		 (unsigned long long)c->dtls_tx_pkts);
	if (t->on_end)
		t->on_end(s, why);
	sess_unbind(t, s);
	if (s->lease >= 0)
		pool_release(&t->pool, (uint32_t)s->lease);
	cookie_remove(&t->cookies, s->cookie);
	explicit_bzero(s, sizeof(*s));
	t->count--;
}

void sess_expire(struct sess_table *t, time_t now, unsigned timeout)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++) {
		struct session *s = &t->s[i];
		if (s->used && s->worker < 0 && now - s->idle_since >= (time_t)timeout) {
			if (!s->end_cause)
				s->end_cause = SESS_END_LOST_CARRIER;
			sess_end(t, s, "reconnect timeout");
		}
	}
}

void sess_unbind_worker(struct sess_table *t, int w)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++) {
		if (!t->s[i].used)
			continue;
		if (t->s[i].worker == w)
			sess_unbind(t, &t->s[i]);
		if (t->s[i].kicked_worker == w)
			t->s[i].kicked_worker = -1; /* its refs start over in the new worker */
	}
}
