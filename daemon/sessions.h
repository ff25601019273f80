/* Master: the session table.  A session is born at a successful login
 * (or re-created from the sealed cookie another node of the fleet gave
 * out), named by its fleet-wide sid, holds one address lease, and outlives
 * its TLS connections for session.reconnect-timeout after the last one
 * ends. */
#ifndef TUNNELD_SESSIONS_H
#define TUNNELD_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "common/cookie.h"
#include "common/ipc.h"
#include "common/pool.h"

#define SESS_GROUPS_MAX 256
#define SESS_GROUP_MAX	64

/* Why a session ended, as RADIUS accounting says it (RFC 2866
 * Acct-Terminate-Cause); 0 until someone says. */
enum sess_end_cause {
	SESS_END_USER_REQUEST = 1,    /* the client said goodbye */
	SESS_END_LOST_CARRIER = 2,    /* no reconnect within reconnect-timeout */
	SESS_END_IDLE_TIMEOUT = 4,    /* Idle-Timeout */
	SESS_END_SESSION_TIMEOUT = 5, /* Session-Timeout */
	SESS_END_ADMIN_RESET = 6,     /* tunnelctl disconnect, Disconnect-Request, user changed */
	SESS_END_ADMIN_REBOOT = 7,    /* the server stopped (SIGTERM, drain) */
	SESS_END_NAS_ERROR = 9,	      /* the server stopped on an error */
};

struct radius_sess;
/* Who checked a session's login: only the password file's are checked
 * again at every CONNECT and reload (auth.c). */
enum sess_backend { SESS_BK_PASSWD = 0, SESS_BK_PAM, SESS_BK_CERT, SESS_BK_RADIUS };

struct session {
	bool used;
	uint32_t serial; /* shown in logs; with the slot it makes the id */
	uint64_t sid;	 /* fleet-wide session id: node id << 56 | 56 random bits */
	char user[IPC_USER_MAX];
	char groups[SESS_GROUPS_MAX]; /* the user's groups, comma-separated, from the backend */
	char group[SESS_GROUP_MAX];   /* the session's group, "" for none */
	char peer[64];
	int64_t lease; /* pool index, -1 before the first CONNECT */
	int worker;    /* slot of the worker holding the tunnel, -1 if none */
	struct ipc_ref ref;
	/* The tunnel a newer one replaced (IPC_KICK), until its IPC_CLOSED
	 * comes: worker -1 when none. */
	int kicked_worker;
	struct ipc_ref kicked_ref;
	uint64_t stamp; /* the user's hash at login (passwd_db_user) */
	/* Revoked (its user changed, or tunnelctl disconnect): the cookie is
	 * gone; the session ends when its tunnel reports closed.  Why, for
	 * the log (a string literal). */
	const char *revoked;
	time_t created, connected_since, idle_since;
	unsigned reconnects;
	struct sess_counters ctr;
	bool dtls_up;		   /* the tunnel's data goes over DTLS */
	bool dtls_steered;	   /* dtls_peer is in the steering map */
	struct ipc_peer dtls_peer; /* from there, while up */
	bool dtls_hs_steered;	   /* a new handshake's peer is steered too */
	struct ipc_peer dtls_hs_peer;
	char dtls_cipher[32]; /* its suite, while up */
	bool dtls_was_up;     /* DTLS carried its data last (the session-end line) */
	time_t last_active;   /* last data from the client (session.idle-timeout) */
	/* Where its first CONNECT leases from: its group's pool, [lo, hi);
	 * 0, 0: the leases no group carved out. */
	uint32_t lease_lo, lease_hi;
	/* Its cookie (common/ticket.h) is refused from then on (Unix time):
	 * session.cookie-lifetime after created. */
	time_t expires;
	bool have_stamp; /* stamp is meaningful: the user came from the password file */
	uint8_t origin;	 /* the node that made it; not us: re-created from its cookie */
	/* RADIUS logins: what the server granted and the accounting state
	 * (radsess.c), NULL otherwise; freed by the table's on_end. */
	struct radius_sess *rad;
	int64_t want_lease; /* the pool index the first CONNECT takes (RADIUS), -1: any */
	uint8_t end_cause;  /* enum sess_end_cause, for accounting */
	uint8_t backend;    /* enum sess_backend */
};

struct sess_table {
	struct session *s;
	uint32_t cap, count;
	uint32_t free_hint; /* every slot below it is used: where slot_alloc looks first */
	uint32_t tunnels;   /* sessions bound to a worker */
	uint32_t next_serial;
	struct cookie_table by_sid; /* sid (sess_sid_key) -> slot */
	/* A user name's keyed hash (user_key) -> the sessions it has here:
	 * limits.max-sessions-per-user without a walk of the table. */
	struct cookie_table by_user;
	uint8_t user_hash_key[32];
	struct pool pool;
	uint8_t node;	/* session.node-id: the top byte of the sids made here */
	uint8_t *owner; /* shared with workers: owner[lease] = worker slot + 1 */
	/* Called by sess_end for each session that ends (auth.c: its cookie
	 * is refused here from then on); NULL for none. */
	void (*ended)(const struct session *s);
	/* Called by sess_end before the session is forgotten (accounting's
	 * Stop); NULL for none. */
	void (*on_end)(struct session *s, const char *why);
};

/* The index key of a sid (by_sid): its 8 bytes, the random low ones first,
 * so that the table's hash (a key's first bytes) is random. */
static inline void sess_sid_key(uint64_t sid, uint8_t key[COOKIE_BYTES])
{
	for (unsigned i = 0; i < COOKIE_BYTES; i++)
		key[i] = i < 8 ? (uint8_t)(sid >> (8 * i)) : 0;
}

static inline uint64_t sess_id(const struct sess_table *t, const struct session *s)
{
	return (uint64_t)s->serial << 32 | (uint32_t)(s - t->s);
}

int sess_table_init(struct sess_table *t, const struct cfg *cfg, uint8_t *owner);
void sess_table_free(struct sess_table *t);

/* A fresh fleet-wide session id: node_id in the top byte, 56 random bits
 * (the hashing pool's, named in a RADIUS Access-Request before the
 * session exists; sess_create_sid makes the session with it). */
uint64_t sess_make_sid(unsigned node_id);

/* New session for a logged-in user, with a fresh sid (node id << 56 and
 * 56 random bits), no lease yet; NULL on memory exhaustion. */
struct session *sess_create(struct sess_table *t, const char *user, const char *peer);
/* The same with a given sid: a session re-created from its cookie.  NULL
 * when that sid is held already, or on memory exhaustion. */
struct session *sess_create_sid(struct sess_table *t, const char *user, const char *peer,
				uint64_t sid);
struct session *sess_by_sid(struct sess_table *t, uint64_t sid);
/* How many sessions user has here. */
unsigned sess_user_count(const struct sess_table *t, const char *user);
struct session *sess_by_id(struct sess_table *t, uint64_t id);
/* A lease for a session that has none: want_lease (RADIUS) when set,
 * else from its group's range or this node's slice of the pools
 * (fleet.nodes).  0, -ENOSPC, or -EBUSY when want_lease is held. */
int sess_lease(struct sess_table *t, struct session *s);
/* The lease idx for s (a re-created session claims its address): 0,
 * -EBUSY when a session here holds it, -ERANGE when it is no lease. */
int sess_claim(struct sess_table *t, struct session *s, uint32_t idx);
/* This node's slice of the pools: [*lo, *hi) of lease indexes. */
void sess_slice(const struct cfg *cfg, uint32_t size, uint32_t *lo, uint32_t *hi);

/* Attach the session to a tunnel on worker w; leases an address when it
 * has none yet (want_lease when it is set; the pool was exhausted at
 * login otherwise).  0, -ENOSPC when the pool is exhausted, -EBUSY when
 * want_lease is held by another session, or
 * -ERANGE when w is no slot owner[] can name (0..CFG_MAX_WORKERS - 1). */
int sess_bind(struct sess_table *t, struct session *s, int w, struct ipc_ref ref);
/* The tunnel ended; the session waits for a reconnect. */
void sess_unbind(struct sess_table *t, struct session *s);
/* Forget the session: lease, index entry and all.  Logs its session-end
 * line (key=value, or JSON with log.format = "json"); its lease is given
 * back, then t->ended (if set) is told, before the slot is wiped. */
void sess_end(struct sess_table *t, struct session *s, const char *why);
/* End sessions idle longer than timeout seconds. */
void sess_expire(struct sess_table *t, time_t now, unsigned timeout);
/* A worker died: every tunnel it held becomes idle. */
void sess_unbind_worker(struct sess_table *t, int w);
void sess_add_counters(struct session *s, const struct sess_counters *c);

#endif
