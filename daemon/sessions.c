/* Master: the session table (see sessions.h).  The only writer of the
 * shared owner[] map that workers read to route TUN packets.  The table
 * lives in secret memory (common/secmem.h): what its users did is nobody
 * else's business, least of all a forked worker's.
 *
 *   login ok --sess_create, sess_lease--> IDLE
 *   cookie of a session held elsewhere --sess_create_sid, sess_claim--> IDLE
 *   IDLE --sess_bind--> BOUND --sess_unbind--> IDLE
 *   IDLE --sess_expire (reconnect-timeout)--> gone;  any --sess_end--> gone
 */
#include "config.h"
#include "daemon/sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/log.h"
#include "common/secmem.h"

void sess_slice(const struct cfg *cfg, uint32_t size, uint32_t *lo, uint32_t *hi)
{
	uint64_t n = cfg->fleet_nodes ? cfg->fleet_nodes : 1, k = cfg->node_id % n;

	*lo = (uint32_t)(size * k / n);
	*hi = (uint32_t)(size * (k + 1) / n);
}

int sess_table_init(struct sess_table *t, const struct cfg *cfg, uint8_t *owner)
{
	int r;

	uint32_t lo, hi;

	memset(t, 0, sizeof(*t));
	t->owner = owner;
	t->next_serial = 1;
	t->node = (uint8_t)cfg->node_id;
	r = pool_init(&t->pool, cfg->have_ipv4_pool ? &cfg->ipv4_pool : NULL,
		      cfg->have_ipv6_pool ? &cfg->ipv6_pool : NULL);
	if (r < 0)
		return r;
	sess_slice(cfg, t->pool.g.size, &lo, &hi);
	if ((r = pool_slice(&t->pool, lo, hi)) < 0) {
		pool_free(&t->pool);
		return r;
	}
	r = cookie_table_init(&t->by_sid, 1024);
	if (r < 0) {
		pool_free(&t->pool);
		return r;
	}
	return 0;
}

void sess_table_free(struct sess_table *t)
{
	secmem_free(t->s, sizeof(*t->s) * t->cap); /* wiped first */
	cookie_table_free(&t->by_sid);
	pool_free(&t->pool);
	memset(t, 0, sizeof(*t));
}

static struct session *slot_alloc(struct sess_table *t)
{
	uint32_t i;

	if (t->count == t->cap) {
		/* Not realloc(): the old block holds live sessions and would be
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

/* A slot for a new session indexed by sid; NULL when sid is taken or
 * memory is short. */
static struct session *sess_new(struct sess_table *t, const char *user, const char *peer,
				uint64_t sid)
{
	struct session *s = slot_alloc(t);
	uint8_t key[COOKIE_BYTES];
	time_t now = time(NULL);

	if (!s)
		return NULL;
	sess_sid_key(sid, key);
	if (cookie_insert(&t->by_sid, key, (uint32_t)(s - t->s)) < 0)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->sid = sid;
	s->origin = (uint8_t)(sid >> 56);
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

struct session *sess_create(struct sess_table *t, const char *user, const char *peer)
{
	uint64_t rnd;

	/* 56 random bits: a sid taken already (as likely as two equal
	 * 56-bit draws) is drawn again. */
	for (int tries = 0; tries < 4; tries++) {
		struct session *s;

		if (gnutls_rnd(GNUTLS_RND_NONCE, &rnd, sizeof(rnd)) < 0)
			return NULL;
		rnd = (uint64_t)t->node << 56 | (rnd & 0x00ffffffffffffffull);
		if (!sess_by_sid(t, rnd) && (s = sess_new(t, user, peer, rnd)))
			return s;
	}
	return NULL;
}

struct session *sess_create_sid(struct sess_table *t, const char *user, const char *peer,
				uint64_t sid)
{
	return sess_by_sid(t, sid) ? NULL : sess_new(t, user, peer, sid);
}

struct session *sess_by_sid(struct sess_table *t, uint64_t sid)
{
	uint8_t key[COOKIE_BYTES];
	uint32_t slot;

	sess_sid_key(sid, key);
	if (cookie_lookup(&t->by_sid, key, &slot) < 0 || slot >= t->cap || !t->s[slot].used)
		return NULL;
	return &t->s[slot];
}

int sess_lease(struct sess_table *t, struct session *s)
{
	int64_t idx = s->lease >= 0 ? s->lease : pool_alloc(&t->pool);

	if (idx < 0)
		return (int)idx;
	s->lease = idx;
	return 0;
}

int sess_claim(struct sess_table *t, struct session *s, uint32_t idx)
{
	int r;

	if (s->lease >= 0)
		return s->lease == (int64_t)idx ? 0 : -EBUSY;
	if (idx <= POOL_SERVER_INDEX || idx >= t->pool.g.size)
		return -ERANGE;
	r = pool_take(&t->pool, idx);
	if (r < 0)
		return r;
	s->lease = idx;
	return 0;
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
		int64_t idx = pool_alloc(&t->pool);
		if (idx < 0)
			return (int)idx;
		s->lease = idx;
	}
	if (s->connected_since)
		s->reconnects++;
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
	uint8_t key[COOKIE_BYTES];

	log_info("session %u user %s ended (%s): from client %llu pkts %llu bytes, to client "
		 "%llu pkts %llu bytes, dropped %llu spoofed %llu malformed %llu queue-full, "
		 "%u reconnects; over DTLS %llu pkts from, %llu pkts to client",
		 s->serial, s->user, why, (unsigned long long)c->rx_pkts,
		 (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_pkts,
		 (unsigned long long)c->tx_bytes, (unsigned long long)c->drop_spoofed,
		 (unsigned long long)c->drop_malformed, (unsigned long long)c->drop_queue,
		 s->reconnects, (unsigned long long)c->dtls_rx_pkts,
		 (unsigned long long)c->dtls_tx_pkts);
	sess_unbind(t, s);
	if (s->lease >= 0)
		pool_release(&t->pool, (uint32_t)s->lease);
	if (t->ended)
		t->ended(s); /* s is still whole, its lease given back */
	sess_sid_key(s->sid, key);
	cookie_remove(&t->by_sid, key);
	explicit_bzero(s, sizeof(*s));
	t->count--;
}

void sess_expire(struct sess_table *t, time_t now, unsigned timeout)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++) {
		struct session *s = &t->s[i];
		if (s->used && s->worker < 0 && now - s->idle_since >= (time_t)timeout)
			sess_end(t, s, "reconnect timeout");
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
