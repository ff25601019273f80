/* Worker (forked from the master, one per CPU): what it inherits, the
 * connection and its phases, and the interfaces between its files.  Types
 * and declarations only.  The files call downward, never back up:
 *
 *   loop.c              epoll loop, set-up, signals, the 1 s tick, IPC in
 *   conn.c              connection table, admission, the phases table,
 *                       conn_apply(): the only code that moves or closes one
 *   login.c  tunnel.c   handlers of the HTTP phases and of the tunnel
 *   sources.c           pending connections counted by source (admission)
 *   tunio.c             TUN queue, write batch, routing, hand-offs
 *   tls.c               GnuTLS transport: read-ahead, records, send queues
 *   keysign.c           signatures by the key process (credentials' key)
 *   ctx.c    chan.c     W and reloaded settings; messages to the master
 *
 * sandbox.c is entered once, by loop.c, before serving. */
#ifndef TUNNELD_WORKER_H
#define TUNNELD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>
#include "conf/config.h"
#include "common/http.h"
#include "common/ipc.h"
#include "common/pool.h"

/* Everything a worker gets from the master at fork.  Workers are not
 * exec'ed: they inherit the parsed config, the loaded certificate and the
 * GnuTLS priority cache, so they never need to open a file.  Not the
 * private key: neither the master nor a worker ever holds it. */
struct worker_env {
	unsigned id, n_workers;
	const struct cfg *cfg;
	const int *listen_fds;
	unsigned n_listen;
	int tun_fd;
	bool tun_vnet; /* offloads: a virtio_net_hdr on every TUN packet */
	int ipc_fd;
	int log_fd;
	int inbox_fd;	       /* packets other workers hand to us */
	const int *peer_inbox; /* send ends, by worker id; ours is -1 */
	const uint8_t *owner;  /* shared: owner[lease] = worker id + 1 */
	struct pool_geom geom;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	int key_fd; /* its socket to the key process (keysign.c) */
	uid_t uid;  /* unprivileged user and group to become */
	gid_t gid;
	const char *chroot_dir; /* empty directory to confine the worker to */
};

int worker_main(const struct worker_env *env);

/* Exit status of a worker whose TUN queue died with the device: respawning
 * cannot help, so the master stops. */
#define WORKER_EXIT_TUN_GONE 3

/* sandbox.c: chroot, drop privileges, no_new_privs, seccomp.  0 / -errno. */
int sandbox_enter(const struct worker_env *env);
size_t sandbox_allowed_count(void);
const char *sandbox_allowed_name(size_t i);

/* The phases of a connection.  Their life cycle is drawn, with the function
 * taking each edge, at the top of conn.c, above the phases[] table that
 * names each phase's handlers and deadline. */
enum conn_state {
	CS_FREE = 0,
	CS_HANDSHAKE,
	CS_HTTP,
	CS_AUTH_WAIT,
	CS_CONNECT_WAIT,
	CS_TUNNEL,
	CS_DRAIN,   /* flushing a last response, then close */
	CS_CLOSING, /* never a state: the step that closes the connection */
};

/* What a phase handler returns: the phase the connection goes to (its own
 * phase to stay) and a word about the move: the reason for CS_CLOSING and
 * for CS_DRAIN out of the tunnel, the user's name for CS_TUNNEL.  Handlers
 * never write c->state and never close; conn.c applies the step. */
struct conn_step {
	enum conn_state next;
	const char *why;
};

static inline struct conn_step step_to(enum conn_state next)
{
	return (struct conn_step){next, NULL};
}

static inline struct conn_step step_close(const char *why)
{
	return (struct conn_step){CS_CLOSING, why};
}

/* Certificate and priorities for handshakes.  A reload brings a new one;
 * connections keep the one they started with until they close. */
struct tls_ctx {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	unsigned refs;
	bool owned; /* loaded by this worker (freed at refs 0 once replaced) */
};

struct obuf {
	struct obuf *next_free;
	uint32_t off, len, cap;
	uint8_t data[];
};

struct conn {
	enum conn_state state; /* written by conn.c only */
	uint32_t gen;
	int fd;
	uint32_t events; /* currently registered epoll events */
	bool dirty;	 /* on tls.c's flush list */
	uint32_t next_dirty;
	gnutls_session_t tls;
	struct tls_ctx *tctx;
	struct obuf *out; /* pending ciphertext; NULL when empty */
	bool tls_failed;  /* a record send failed: tls_flush() says -EPROTO */
	time_t deadline;  /* handshake / login deadline, 0 in TUNNEL */
	time_t last_rx;
	char peer[64];
	uint8_t addr[16]; /* the peer's address key (common/addrkey.h) */
	bool pending;	  /* on the pending list: not yet a tunnel */
	uint32_t pend_prev, pend_next;
	/* HTTP phase */
	char *hbuf;
	uint32_t hlen, hcap;	/* hcap: as allocated (limits may change on reload) */
	struct http_parser *hp; /* how far the request in hbuf was parsed */
	/* Tunnel */
	uint64_t sess_id;
	uint32_t serial; /* session serial for log lines */
	int64_t lease;
	bool have4, have6;
	struct in_addr v4;
	struct in6_addr v6;
	uint16_t mtu;
	bool bye;      /* the session ends with this tunnel (client's 0xb0, administrator) */
	uint8_t *part; /* a CSTP frame split across records (rare) */
	uint16_t part_len;
	struct sess_counters ctr; /* since the last report to the master */
};

/* ctx.c: what every file of the worker shares.  Each file keeps the rest
 * of its state to itself. */
struct worker {
	const struct worker_env *env;
	const struct cfg *cfg;	     /* = &live */
	struct cfg live;	     /* the inherited config, updated by reloads */
	struct http_limits http_lim; /* from the live config */
	int ep;
	struct conn *conns; /* the connection table (conn.c) */
	uint32_t max_conns;
};

extern struct worker W;

void ctx_init(const struct worker_env *env);
/* Apply IPC_SETTINGS to the live config. */
void ctx_apply_settings(const struct ipc_settings *st);

/* epoll data: kind, index and, for connections, the generation, so an
 * event queued for a closed connection is not applied to its successor. */
enum worker_event { K_LISTEN = 1, K_TUN, K_INBOX, K_IPC, K_TIMER, K_SIGNAL, K_CONN };

static inline uint64_t ev_data(unsigned kind, uint32_t idx, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(idx & 0xffffff) << 32 | gen;
}

static inline uint32_t conn_index(const struct conn *c)
{
	return (uint32_t)(c - W.conns);
}

/* chan.c: messages to the master.  chan_send: 0 or -errno (logged). */
int chan_send(const struct ipc_msg *m);
/* IPC_CLOSED / IPC_STATS with c's counters, which restart from zero. */
void chan_report_closed(struct conn *c, bool end_session, const char *reason);
void chan_report_stats(struct conn *c);

/* keysign.c: the private key lives in the key process.  keysign_init: the
 * worker's socket to it, with the wait's bounds (before the sandbox); 0 or
 * -errno.  keysign_cred: credentials with the PEM certificate chain and a
 * key object whose signatures the key process makes with its key of
 * generation gen (master and workers); 0 or a GnuTLS error code. */
int keysign_init(int fd);
int keysign_cred(const gnutls_datum_t *cert_pem, uint32_t gen,
		 gnutls_certificate_credentials_t *out);

/* tls.c: the transport.  Returns codes; never closes a connection and
 * knows nothing of phases. */
void tls_init(const struct worker_env *env);
int tls_conn_init(struct conn *c);
/* Drop c's TLS session and its send queue. */
void tls_conn_done(struct conn *c);
/* Load a reloaded certificate/key/priorities (IPC_TLS); 0 or -errno. */
int tls_reload(const void *msg, size_t len);
/* One recv() from c into the read-ahead: bytes read, 0 at EOF, or -errno.
 * tls_recv_done() forgets what GnuTLS did not take. */
ssize_t tls_recv(struct conn *c);
void tls_recv_done(void);
/* Step the handshake with the read-ahead: 0 done, -EAGAIN, -EPROTO. */
int tls_handshake(struct conn *c);
/* The next whole record decrypted from the read-ahead: its length with
 * *rec pointing at it (valid until the next call), 0 when none is whole,
 * or -EPIPE when the session ended (*why says how). */
ssize_t tls_record(struct conn *c, const uint8_t **rec, const char **why);
/* Send one TLS record (one CSTP frame or one HTTP response).  0,
 * -ENOBUFS when the send queue has no room (the caller drops it), or
 * -EPIPE when the session broke (the caller closes with TLS_SEND_FAILED,
 * or leaves it to tls_flush()). */
int tls_send(struct conn *c, const void *buf, size_t len);
#define TLS_SEND_FAILED "TLS send failed"
/* close_notify after what is queued (GNUTLS_SHUT_WR). */
void tls_bye(struct conn *c);
/* The flush list: connections with queued ciphertext. */
void tls_mark_dirty(struct conn *c);
struct conn *tls_next_dirty(void); /* taken off the list; NULL: empty */
/* Send c's queue: 0 when it is empty, -EAGAIN when the socket is full,
 * -EPIPE when the peer is gone, -EIO when send() failed otherwise, -EPROTO
 * after tls_send() returned -EPIPE. */
int tls_flush(struct conn *c);

/* tunio.c: the TUN queue and the inbox. */
int tunio_init(void);
void tunio_on_tun(void);
void tunio_on_inbox(void);
/* Write (or batch) one checked packet from c's client. */
void tunio_write(struct conn *c, const uint8_t *pkt, size_t len);
/* Write what this loop turn batched for the TUN device (before sleeping). */
void tunio_flush(void);
/* Whether a TUN write batch is waiting for tunio_flush(). */
bool tunio_pending(void);
/* c's lease routes to c from now on / no longer (its batch is written). */
void tunio_map(struct conn *c);
void tunio_unmap(struct conn *c);
/* Log the hand-off and TUN I/O counters (at stop). */
void tunio_log_stats(void);

/* login.c: handlers of CS_HTTP, CS_AUTH_WAIT and CS_CONNECT_WAIT. */
struct conn_step login_on_data(struct conn *c, const uint8_t *buf, size_t len);
struct conn_step login_auth_reply(struct conn *c, const struct ipc_msg *m);
struct conn_step login_connect_reply(struct conn *c, const struct ipc_msg *m);

/* tunnel.c: handlers of CS_TUNNEL. */
struct conn_step tunnel_enter(struct conn *c, const char *user);
struct conn_step tunnel_on_data(struct conn *c, const uint8_t *buf, size_t len);
struct conn_step tunnel_on_master(struct conn *c, const struct ipc_msg *m);
struct conn_step tunnel_tick(struct conn *c, time_t now, unsigned tick);
void tunnel_leave(struct conn *c, enum conn_state next, const char *why);
/* The server stops: tell the client not to come back here. */
void tunnel_notify_stop(struct conn *c);

/* conn.c, for loop.c. */
int conn_init(void);
void conn_accept(int lfd);
void conn_on_event(uint32_t idx, uint32_t gen, uint32_t events);
/* A message from the master for one connection (ref). */
void conn_reply(const struct ipc_msg *m);
void conn_tick(time_t now);
/* Once per loop turn: send every queue filled this turn. */
void conn_flush_all(void);
void conn_shutdown(void);

#endif
