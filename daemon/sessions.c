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

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/log.h"
#include "common/logfmt.h"
#include "common/secmem.h"
#include "daemon/metrics.h"

void sess_slice(const struct cfg *cfg, uint32_t size, uint32_t *lo, uint32_t *hi)
{
	uint64_t n = cfg->fleet_nodes ? cfg->fleet_nodes : 1, k = cfg->node_id % n;

	*lo = (uint32_t)(size * k / n);
	*hi = (uint32_t)(size * (k + 1) / n);
}

int sess_table_init(struct sess_table *t, const struct cfg *cfg, uint8_t *owner)
{
	uint32_t lo, hi;
	int r;

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
	if (r == 0)
		r = cookie_table_init(&t->by_user, 1024);
	if (r == 0 && gnutls_rnd(GNUTLS_RND_KEY, t->user_hash_key, sizeof(t->user_hash_key)) < 0)
		r = -EIO;
	if (r < 0)
		sess_table_free(t);
	return r;
}

void sess_table_free(struct sess_table *t)
{
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->s[i].used)
			free(t->s[i].rad);	   /* malloc'd by radsess.c; no accounting here */
	secmem_free(t->s, sizeof(*t->s) * t->cap); /* wiped first */
	cookie_table_free(&t->by_sid);
	cookie_table_free(&t->by_user);
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
		t->free_hint = t->cap; /* the old ones are all used */
		t->s = n;
		t->cap = ncap;
	}
	/* From the hint, not from 0: a login must not walk 10,000 held
	 * sessions (each a cache miss).  The hint stays on the slot handed
	 * out: the caller may still fail to use it. */
	for (i = t->free_hint; i < t->cap; i++)
		if (!t->s[i].used) {
			t->free_hint = i;
			return &t->s[i];
		}
	return NULL;
}

/* A user's key in by_user: keyed (HMAC), so that chosen names do not
 * pile up on one probe chain. */
static void user_key(const struct sess_table *t, const char *user, uint8_t key[COOKIE_BYTES])
{
	(void)gnutls_hmac_fast(GNUTLS_MAC_SHA256, t->user_hash_key, sizeof(t->user_hash_key), user,
			       strlen(user), key);
}

unsigned sess_user_count(const struct sess_table *t, const char *user)
{
	uint8_t key[COOKIE_BYTES];
	uint32_t n;

	user_key(t, user, key);
	return cookie_lookup(&t->by_user, key, &n) == 0 ? n : 0;
}

/* One session more for user: 0 or -ENOMEM. */
static int user_added(struct sess_table *t, const char *user)
{
	uint8_t key[COOKIE_BYTES];
	uint32_t n;

	user_key(t, user, key);
	if (cookie_lookup(&t->by_user, key, &n) == 0)
		return cookie_set(&t->by_user, key, n + 1);
	return cookie_insert(&t->by_user, key, 1);
}

static void user_removed(struct sess_table *t, const char *user)
{
	uint8_t key[COOKIE_BYTES];
	uint32_t n;

	user_key(t, user, key);
	if (cookie_lookup(&t->by_user, key, &n) < 0)
		return;
	if (n > 1)
		(void)cookie_set(&t->by_user, key, n - 1);
	else
		(void)cookie_remove(&t->by_user, key);
}

uint64_t sess_make_sid(unsigned node_id)
{
	uint64_t r = 0;

	/* A nonce-grade random number: an id, not a secret. */
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
	return (uint64_t)(node_id & 0xff) << 56 | (r & ((1ull << 56) - 1));
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
	if (user_added(t, user) < 0) {
		cookie_remove(&t->by_sid, key);
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->sid = sid;
	s->origin = (uint8_t)(sid >> 56);
	s->want_lease = -1;
	s->serial = t->next_serial++;
	if (t->next_serial == 0)
		t->next_serial = 1;
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->lease = -1;
	s->worker = -1;
	s->kicked_worker = -1;
	s->created = s->idle_since = s->last_active = now;
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
	int64_t idx = s->want_lease; /* RADIUS's Framed-IP-Address, or -1 */

	if (s->lease >= 0)
		return 0;
	if (idx >= 0) {
		if (idx >= (int64_t)t->pool.g.size || pool_take(&t->pool, (uint32_t)idx) < 0)
			return -EBUSY;
	} else {
		idx = s->lease_hi ? pool_alloc_in(&t->pool, s->lease_lo, s->lease_hi)
				  : pool_alloc(&t->pool);
		if (idx < 0)
			return (int)idx;
	}
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
		int r = sess_lease(t, s);

		if (r < 0)
			return r;
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
	sess_counters_add(&s->ctr, c);
}

static void put_counter(void *kv, const char *key, uint64_t v)
{
	log_kv_u64(kv, key, v);
}

/* The session's addresses, or none before its first CONNECT. */
static void put_addresses(struct log_kv *kv, const struct sess_table *t, const struct session *s)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	const char *ip4 = NULL, *ip6 = NULL;

	if (s->lease >= 0 && t->pool.g.have4) {
		struct in_addr a;

		pool_addr4(&t->pool.g, (uint32_t)s->lease, &a);
		ip4 = inet_ntop(AF_INET, &a, a4, sizeof(a4));
	}
	if (s->lease >= 0 && t->pool.g.have6) {
		struct in6_addr a;

		pool_addr6(&t->pool.g, (uint32_t)s->lease, &a);
		ip6 = inet_ntop(AF_INET6, &a, a6, sizeof(a6));
	}
	log_kv_str(kv, "ipv4", ip4);
	log_kv_str(kv, "ipv6", ip6);
}

/* The line a session leaves when it ends: one structured line
 * (common/logfmt.h) with everything known about it, its counters under
 * tunnelctl's names.  Text (`session-end id=3 user=alice ...`) or, with
 * log.format = "json", one JSON object. */
static void log_end(const struct sess_table *t, const struct session *s, const char *why,
		    time_t now)
{
	struct log_kv kv;

	log_kv_init(&kv, "session-end");
	log_kv_u64(&kv, "id", s->serial);
	log_kv_str(&kv, "user", s->user);
	log_kv_str(&kv, "peer", s->peer);
	log_kv_str(&kv, "reason", why);
	put_addresses(&kv, t, s);
	log_kv_i64(&kv, "started", (int64_t)s->created);
	log_kv_i64(&kv, "duration_s", (int64_t)(now - s->created));
	/* The channel its data took last: none before a CONNECT. */
	log_kv_str(&kv, "channel", !s->connected_since ? "none" : s->dtls_was_up ? "dtls" : "tls");
	log_kv_u64(&kv, "reconnects", s->reconnects);
	log_kv_str(&kv, "group", s->group);
	sess_counters_each(&s->ctr, put_counter, &kv);
	log_write_kv(LOG_INFO, &kv);
}

void sess_end(struct sess_table *t, struct session *s, const char *why)
{
	uint8_t key[COOKIE_BYTES];

	log_end(t, s, why, time(NULL));
	metrics_session_ended();
	if (t->on_end)
		t->on_end(s, why);
	sess_unbind(t, s);
	if (s->lease >= 0)
		pool_release(&t->pool, (uint32_t)s->lease);
	if (t->ended)
		t->ended(s); /* s is still whole, its lease given back */
	sess_sid_key(s->sid, key);
	cookie_remove(&t->by_sid, key);
	user_removed(t, s->user);
	if ((uint32_t)(s - t->s) < t->free_hint)
		t->free_hint = (uint32_t)(s - t->s);
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
