/* Worker (forked from the master, one per CPU): what it inherits and the
 * interfaces between its files.  loop.c owns the epoll loop and the
 * connection table; tls.c the GnuTLS glue and send queues; login.c the
 * HTTP/login phase; tunnel.c the CSTP data path and the TUN queue. */
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
 * GnuTLS priority cache, so they never need to open a file. */
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
	uid_t uid; /* unprivileged user and group to become */
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

/* Connection life cycle (each edge names the function that takes it):
 *
 *   ACCEPTED --conn_accept--> HANDSHAKE --tls_handshake_step--> HTTP
 *   HTTP --login_request (POST creds)--> AUTH_WAIT --login_auth_reply--> HTTP
 *   HTTP --login_request (CONNECT)--> CONNECT_WAIT --login_connect_reply--> TUNNEL
 *   TUNNEL --tunnel_on_frame DISCONNECT / IPC_KICK / dead peer--> CLOSED
 *   any --conn_close--> CLOSED (slot free)
 */
enum conn_state {
	CS_FREE = 0,
	CS_HANDSHAKE,
	CS_HTTP,
	CS_AUTH_WAIT,
	CS_CONNECT_WAIT,
	CS_TUNNEL,
	CS_DRAIN, /* flushing a last response, then close */
};

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
	enum conn_state state;
	uint32_t gen;
	int fd;
	uint32_t events; /* currently registered epoll events */
	bool dirty;	 /* on the flush list */
	uint32_t next_dirty;
	gnutls_session_t tls;
	struct tls_ctx *tctx;
	struct obuf *out; /* pending ciphertext; NULL when empty */
	time_t deadline;  /* handshake / login deadline, 0 in TUNNEL */
	time_t last_rx;
	char peer[64];
	uint8_t addr[16]; /* peer address (IPv4 in the first 4 bytes) */
	bool pending;	  /* on the pending list: not yet a tunnel */
	uint32_t pend_prev, pend_next;
	/* HTTP phase */
	char *hbuf;
	uint32_t hlen, hcap; /* hcap: as allocated (limits may change on reload) */
	/* Tunnel */
	uint64_t sess_id;
	uint32_t serial; /* session serial for log lines */
	int64_t lease;
	bool have4, have6;
	struct in_addr v4;
	struct in6_addr v6;
	uint16_t mtu;
	bool bye;      /* the client said goodbye (DISCONNECT 0xb0): end the session */
	uint8_t *part; /* a CSTP frame split across records (rare) */
	uint16_t part_len;
	struct sess_counters ctr; /* since the last report to the master */
};

/* loop.c */
struct worker {
	const struct worker_env *env;
	const struct cfg *cfg; /* = &live */
	struct cfg live;       /* the inherited config, updated by reloads */
	struct tls_ctx *tls;   /* for new handshakes */
	int ep;
	struct conn *conns;
	uint32_t max_conns, n_conns, free_hint;
	uint32_t dirty_head;  /* UINT32_MAX = empty */
	uint32_t *lease_conn; /* lease -> conn index + 1, for our tunnels */
	uint8_t *scratch;     /* read-ahead from sockets, then plaintext */
	size_t scratch_cap;
	const uint8_t *ra; /* unread part of the read-ahead (tls pull) */
	size_t ra_len;
	struct obuf *free_obufs;
	struct http_limits http_lim;
	/* Connections not yet tunnels, oldest first (limits.max-handshakes). */
	uint32_t pend_head, pend_tail, n_pending;
	uint64_t refused_addr, evicted; /* since the last log line about them */
	time_t refused_logged, evicted_logged;
	bool stopping;
	bool draining; /* SIGQUIT: listeners closed */
	uint64_t drop_no_client, handoffs_out, handoffs_in;
};

extern struct worker W;

void conn_close(struct conn *c, const char *why);
/* The connection became a tunnel: it no longer counts as a handshake. */
void conn_pending_done(struct conn *c);
void conn_want(struct conn *c, uint32_t events);
void conn_mark_dirty(struct conn *c);
static inline uint32_t conn_index(const struct conn *c)
{
	return (uint32_t)(c - W.conns);
}
int worker_ipc_send(const struct ipc_msg *m);
void worker_report_closed(struct conn *c, bool end_session, const char *reason);

/* tls.c */
int tls_conn_init(struct conn *c);
void tls_conn_done(struct conn *c);
/* Load a reloaded certificate/key/priorities (IPC_TLS); 0 or -errno. */
int tls_reload(const void *msg, size_t len);
void tls_on_readable(struct conn *c);
void tls_flush(struct conn *c);
/* Send one TLS record (one CSTP frame or one HTTP response).  0, or
 * -ENOBUFS when the send queue has no room (the caller drops it). */
int tls_send(struct conn *c, const void *buf, size_t len);
size_t tls_queue_room(const struct conn *c);
void obuf_release(struct conn *c);

/* login.c */
void login_on_data(struct conn *c, const uint8_t *buf, size_t len);
void login_auth_reply(struct conn *c, const struct ipc_msg *m);
void login_connect_reply(struct conn *c, const struct ipc_msg *m);

/* tunnel.c */
void tunnel_on_data(struct conn *c, const uint8_t *buf, size_t len);
void tunnel_on_tun(void);
void tunnel_on_inbox(void);
/* Write what this loop turn batched for the TUN device (before sleeping). */
void tunnel_flush_tun(void);
/* Whether a TUN write batch is waiting for tunnel_flush_tun(). */
bool tunnel_tun_pending(void);
/* Log the TUN I/O counters: packets per read and per write syscall. */
void tunnel_log_io(void);
void tunnel_start(struct conn *c);
void tunnel_stop(struct conn *c);
void tunnel_send_control(struct conn *c, uint8_t type, const void *payload, uint16_t len);
/* Send DISCONNECT (0xb0, text), end the session, close after the flush. */
void tunnel_disconnect(struct conn *c, const char *text);

#endif
