/* Worker (forked from the master, one per CPU): what it inherits, the
 * connection and its phases, and the interfaces between its files.  Types
 * and declarations only.  The files call downward, never back up:
 *
 *   loop.c              epoll loop, set-up, signals, the 1 s tick, IPC in
 *   udpio.c             DTLS datagrams in: sockets, demux, hand-offs
 *   accept.c            accept4() on the listeners, then conn.c's admission
 *   conn.c              connection table, admission, the phases table,
 *                       conn_apply(): the only code that moves or closes one
 *   login.c  tunnel.c   handlers of the HTTP phases and of the tunnel
 *   sources.c           pending connections counted by source (admission)
 *   tunio.c             TUN queue, write batch, routing, hand-offs
 *   dtls.c              each tunnel's DTLS channel (GnuTLS, datagrams)
 *   relay.c             handlers of a TLS stream service's phases
 *   svc.c               the services: listeners, certificates, limits, counters
 *   tls.c  udpout.c     GnuTLS transport over TCP; datagrams out
 *   keysign.c           signatures by the key process (credentials' key)
 *   ctx.c    chan.c     W and reloaded settings; messages to the master
 *
 * sandbox.c is entered once, by loop.c, before serving. */
#ifndef TUNNELD_WORKER_H
#define TUNNELD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>
#include "conf/config.h"
#include "common/addrkey.h"
#include "common/http.h"
#include "common/ipc.h"
#include "common/policy.h"
#include "common/pool.h"

/* Everything a worker gets from the master at fork.  Workers are not
 * exec'ed: they inherit the parsed config, the loaded certificate and the
 * GnuTLS priority cache, so they never need to open a file.  Not the
 * private key: neither the master nor a worker ever holds it. */
struct worker_env {
	unsigned id, n_workers;
	const struct cfg *cfg;
	const int *listen_fds;
	unsigned n_listen; /* TCP listeners: listen's, then listen-proxy's */
	unsigned n_plain;  /* those before this index take TLS at once (listen) */
	int tun_fd;
	bool tun_vnet; /* offloads: a virtio_net_hdr on every TUN packet */
	bool tun_uso;  /* and UDP super-packets (GSO_UDP_L4) both ways */
	int ipc_fd;
	int log_fd;
	int inbox_fd;	       /* packets other workers hand to us */
	const int *peer_inbox; /* send ends, by worker id; ours is -1 */
	const uint8_t *owner;  /* shared: owner[lease] = worker id + 1 */
	struct pool_geom geom;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	uint32_t tls_gen; /* the key generation cred signs with */
	int key_fd;	  /* its socket to the key process (keysign.c) */
	uid_t uid;	  /* unprivileged user and group to become */
	gid_t gid;
	const char *chroot_dir; /* empty directory to confine the worker to */
	/* DTLS (daemon/udp.c); udp_fds NULL when DTLS is off. */
	const int *udp_fds;	   /* by listen address */
	const uint16_t *udp_ports; /* their ports, host order */
	int udp_inbox_fd;	   /* datagrams other workers hand us */
	const int *udp_peer_inbox; /* send ends, by worker id; ours is -1 */
	bool udp_steered;	   /* the kernel steers datagrams to their worker */
	/* cisco.profile: served at /profiles/NAME; NULL when none. */
	const char *profile;
	size_t profile_len;
	const char *profile_name;
	/* TLS stream services (svc.c): the IPC_SVC table and this worker's
	 * listener of each service, in order; svc_msg NULL when the daemon
	 * serves none (and the sandbox has no rows for them). */
	const void *svc_msg;
	size_t svc_len;
	const int *svc_fds;
	unsigned n_svc;
};

int worker_main(const struct worker_env *env);
/* The most fds a worker holds with cfg and n_workers workers: its
 * connection table, listeners, TUN queue, inboxes, sockets to the master
 * and its own (loop.c).  The master sizes RLIMIT_NOFILE by it. */
unsigned worker_fd_need(const struct cfg *cfg, unsigned n_workers);

/* Exit status of a worker whose TUN queue died with the device: respawning
 * cannot help, so the master stops. */
#define WORKER_EXIT_TUN_GONE 3

/* sandbox.c: chroot, drop privileges, no_new_privs, seccomp.  0 / -errno. */
int sandbox_enter(const struct worker_env *env);
size_t sandbox_allowed_count(void);
const char *sandbox_allowed_name(size_t i);

/* testhook.c, test builds only: on SIGUSR2, try what a taken-over worker
 * would; the value sent with the signal picks the try (its low byte). */
enum testhook {
	TESTHOOK_OPEN = 0,	    /* open("/etc/passwd"): the seccomp list refuses it */
	TESTHOOK_OWNER = 1,	    /* claim another worker's lease in owner[] */
	TESTHOOK_MPROTECT_EXEC = 2, /* make a page executable */
	TESTHOOK_MMAP_EXEC = 3,	    /* map an executable page */
	TESTHOOK_SIGNAL = 4,	    /* SIGSTOP the process value >> 8 (a sibling) */
	TESTHOOK_STDERR = 5,	    /* write a line to fd 2 */
};
void testhook_run(uint32_t signo, int32_t value);

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
	CS_DRAIN,	/* flushing a last response, then close */
	CS_PROXY,	/* reading a load balancer's PROXY header (listen-proxy) */
	CS_SVC_CONNECT, /* a service's stream: connecting to its destination */
	CS_SVC_RELAY,	/* a service's stream: relaying both ways */
	CS_CLOSING,	/* never a state: the step that closes the connection */
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
	bool owned;	   /* loaded by this worker (freed at refs 0 once replaced) */
	bool svc_live;	   /* a service's, still in use for new streams (svc.c) */
	bool require_cert; /* a service's that asks for a client certificate */
	/* auth.ca: clients are asked for a certificate (cred trusts the CA),
	 * whose user and groups these fields name (cert.h). */
	bool client_ca;
	char user_field[IPC_NAME_MAX];
	char group_field[IPC_NAME_MAX];
};

/* A client's UDP address and the listen address (index) it came to. */
union udp_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct udp_peer {
	union udp_addr a;
	uint8_t k; /* listen address index: which of env->udp_fds */
};

struct dtls; /* dtls.c: a tunnel's DTLS channel */

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
	uint8_t listen;	  /* index of the listen address it came to */
	bool pending;	  /* on the pending list: not yet a tunnel */
	uint32_t pend_prev, pend_next;
	/* HTTP phase */
	bool dlg_open; /* a login dialogue waits at the master for our answers */
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
	struct dtls *dt;	  /* DTLS offered (CONNECT) or set up (tunnel); else NULL */
	bool cisco;		  /* Cisco's client, with dtls.cisco-compat (CONNECT on) */
	time_t rekeyed;		  /* last TLS key update (tunnel) */
	/* Its group's policy (routes, DNS, rules), held in the tunnel, and
	 * the session's lifetimes: login, and the client's last data. */
	struct policy *pol;
	const struct pol_group *grp; /* in pol (or W.policy until the tunnel takes it) */
	time_t created, last_active;
	/* The master's CONNECT answer, from login_connect_reply until
	 * tunnel_enter has answered the client (the session's own routes
	 * and timeouts); NULL otherwise. */
	const struct ipc_msg *granted;
	/* A TLS stream service's stream (svc.c, relay.c); svc 0: the VPN's. */
	uint8_t svc;		/* the worker's service slot + 1 */
	uint8_t half;		/* relay.c: which ways are closed (RELAY_* bits) */
	bool rx_paused;		/* not reading the client: the destination's queue is full */
	bool rx_unreg;		/* paused with the socket hung up: out of the epoll */
	bool up_paused;		/* not reading the destination: the client's queue is full */
	bool up_dirty;		/* on relay.c's flush list */
	uint32_t next_up;	/* next on that list */
	int up_fd;		/* the destination's socket, -1 none */
	uint32_t up_events;	/* registered for it */
	struct obuf *up;	/* plaintext waiting for the destination */
	time_t sv_deadline;	/* connect deadline; then the last byte either way */
	uint64_t sv_in, sv_out; /* bytes client -> destination, and back */
	/* rxcoal.c: bytes read in the current window (from rxc_win_start,
	 * µs); the socket's SO_RCVLOWAT while coalesced (0: not), its place
	 * in the list and the time of its last read. */
	int64_t rxc_win_start, rxc_last;
	uint32_t rxc_win_bytes, rxc_mark, rxc_slot;
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
	uint32_t auth_pending; /* connections in CS_AUTH_WAIT (login.c) */
	struct policy *policy; /* the groups' policy for new tunnels (ctx.c) */
};

extern struct worker W;

void ctx_init(const struct worker_env *env);
/* Apply IPC_SETTINGS to the live config. */
void ctx_apply_settings(const struct ipc_settings *st);
/* The groups' policy: built from the inherited config (0 or -ENOMEM), and
 * replaced by IPC_POLICY (vetted by ipc_check()); tunnels keep theirs. */
int ctx_policy_init(void);
void ctx_apply_policy(const void *buf, size_t len);

/* epoll data: kind, index and, for connections, the generation, so an
 * event queued for a closed connection is not applied to its successor. */
enum worker_event {
	K_LISTEN = 1,
	K_TUN,
	K_INBOX,
	K_IPC,
	K_TIMER,
	K_SIGNAL,
	K_CONN,
	K_UDP,
	K_UDP_INBOX,
	K_SVC, /* a service's listener (svc.c) */
	K_UP,  /* a stream's destination socket (relay.c) */
};

static inline uint64_t ev_data(unsigned kind, uint32_t idx, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(idx & 0xffffff) << 32 | gen;
}

/* Milliseconds of the monotonic clock. */
static inline int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An environment switch for benchmarks' A/B runs (TUNNELD_NO_...): set,
 * not empty and not "0". */
static inline bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

/* Microseconds of the same clock (receive coalescing's deadlines). */
static inline int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline uint32_t conn_index(const struct conn *c)
{
	return (uint32_t)(c - W.conns);
}

/* chan.c: messages to the master, never waiting for it.  chan_send: 0
 * (sent, or queued until the socket has room), -ENOBUFS when
 * CHAN_QUEUE_MAX messages wait already, or -errno (logged). */
#define CHAN_QUEUE_MAX 1024
int chan_send(const struct ipc_msg *m);
/* Send what the queue holds, as far as the socket takes it (EPOLLOUT). */
void chan_flush(void);
/* Stopping: from now on a full queue waits for the master to read, for at
 * most ms in all, instead of refusing; chan_finish sends what is left
 * within that time (logged when some stays). */
#define STOP_REPORT_MS 3000 /* within the master's 5 s before SIGKILL */
void chan_stopping(unsigned ms);
void chan_finish(void);
/* IPC_CLOSED / IPC_STATS with c's counters, which restart from zero. */
void chan_report_closed(struct conn *c, bool end_session, const char *reason);
void chan_report_stats(struct conn *c);
/* IPC_AUTH_CANCEL: c's login is no longer waited for. */
void chan_cancel_login(struct conn *c);
/* IPC_WSTATS: the worker's own figures (for /metrics), when they differ
 * from the last ones sent. */
void chan_report_worker(uint32_t handshakes, uint64_t no_client, uint32_t tls_gen);

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
/* The same with a service's certificate and priorities (svc.c). */
int tls_conn_init_ctx(struct conn *c, struct tls_ctx *t);
/* Free a service's context that no stream holds (svc.c replaced it). */
void tls_ctx_release(struct tls_ctx *t);
/* Room left in c's send queue, and whether anything waits in it. */
size_t tls_room(const struct conn *c);
bool tls_queued(const struct conn *c);
/* The largest record tls_send() takes, and what one costs beyond it. */
#define TLS_RECORD_MAX	    16384
#define TLS_RECORD_OVERHEAD 64 /* header, nonce, tag, padding: generous */
/* Drop c's TLS session and its send queue. */
void tls_conn_done(struct conn *c);
/* Load a reloaded certificate/key/priorities (IPC_TLS); 0 or -errno. */
int tls_reload(const void *msg, size_t len);
/* The key generation of the certificate new connections get. */
uint32_t tls_generation(void);
/* One recv() from c into the read-ahead: bytes read, 0 at EOF, or -errno.
 * tls_recv_done() forgets what GnuTLS did not take. */
ssize_t tls_recv(struct conn *c);
void tls_recv_done(void);
/* Step the handshake with the read-ahead: 0 done, -EAGAIN, -EPROTO. */
int tls_handshake(struct conn *c);
/* The next whole record decrypted from the read-ahead: its length with
 * *rec pointing at it (valid until the next call), 0 when none is whole,
 * -ESHUTDOWN at the client's close_notify, or -EPIPE when the session
 * broke (*why says how, for both). */
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

/* dtls.c: each tunnel's DTLS channel; dtls_* on a conn without one is
 * harmless where it says so. */
int dtls_init(void);
/* CONNECT: keep what the client offered for the tunnel (c->dt), or nothing
 * when DTLS is off or not wanted.  0 or -ENOMEM. */
int dtls_offer(struct conn *c, const struct http_req *req);
/* Drop what dtls_offer() kept (no-op without). */
void dtls_forget(struct conn *c);
/* The tunnel opens over c->tls: the App-ID and key; returns the tunnel MTU,
 * mtu lowered to what fits a datagram (mtu unchanged without DTLS). */
unsigned dtls_open(struct conn *c, unsigned mtu);
/* The X-DTLS-* lines of the CONNECT answer: their length, 0 without
 * DTLS, -1 when cap is too small. */
int dtls_headers(const struct conn *c, char *out, size_t cap);
/* The tunnel of a datagram: by its exact peer, or (exact false) the newest
 * tunnel with a channel from its address; by the App-ID of a ClientHello. */
struct conn *dtls_by_peer(const struct udp_peer *p, bool exact);
struct conn *dtls_by_id(const uint8_t *id);
enum dtls_in {
	DTLS_IN_NONE,	 /* nothing for the tunnel (or dropped) */
	DTLS_IN_STARTED, /* a ClientHello started a handshake */
	DTLS_IN_UP,	 /* a handshake finished: the channel is (newly) up */
	DTLS_IN_REBOUND, /* the client's address moved; records follow */
	DTLS_IN_RECORDS, /* records follow: read them with dtls_record() */
};
enum dtls_in dtls_input(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n);
/* The next record of the datagram: its length, 0 when none is left, or
 * -EPIPE when the client closed the channel. */
ssize_t dtls_record(struct conn *c, const uint8_t **rec);
/* One record to the client: 0, -EMSGSIZE, or -ENOBUFS (dropped). */
int dtls_send(struct conn *c, const void *rec, size_t len);
/* Whether packets for the client go over DTLS now. */
bool dtls_active(const struct conn *c);
/* The client sent data over TLS: it has no DTLS channel right now. */
void dtls_hint_tls(struct conn *c);
/* Once a second: retransmits, timeouts.  True when the channel went down. */
bool dtls_down(struct conn *c, time_t now);
/* Take the channel down now (the client closed it); true if it was up. */
bool dtls_shut(struct conn *c);
/* The tunnel ends: everything of c->dt goes. */
void dtls_close(struct conn *c);
/* Fill IPC_DTLS's up, peer and cipher: of the channel, or (handshake) of
 * the handshake in progress, so its peer's datagrams are steered here. */
void dtls_report(const struct conn *c, struct ipc_msg *m, bool handshake);

/* cisco.c: what Cisco Secure Client asks beyond openconnect's login. */
struct cisco_answer {
	int status;
	const char *type; /* Content-Type */
	const char *body;
	size_t len;
};
void cisco_init(void);
/* A GET of a URL Cisco's downloader fetches: true and the answer. */
bool cisco_url(const struct http_str *target, struct cisco_answer *a);
/* After login: the profile manifest (XML for the success document) and the
 * webvpnc cookie header; both "" without cisco.profile.  0 or -1. */
int cisco_login_extras(char *xml, size_t xcap, char *hdr, size_t hcap);
/* A route the CONNECT answer leaves to cisco_connect_headers(). */
bool cisco_skip_route(const struct conn *c, const struct cfg_prefix *r);
/* The CONNECT answer's extras for a Cisco client: length, or -1. */
int cisco_connect_headers(const struct conn *c, char *out, size_t cap);

/* udpout.c: datagrams to clients, sent in batches (sendmmsg). */
void udpout_init(void);
void udpout_queue(int fd, const struct udp_peer *p, const void *data, size_t len);
void udpout_flush(void);
void udpout_log_stats(void);

/* udpio.c: the UDP sockets and the hand-off inbox: datagrams in. */
int udpio_init(void);
void udpio_on_socket(unsigned k);
/* Coalesced DTLS sockets (udpio.c): the wait until the first deadline
 * (-1: none), and reading those due. */
int udpio_wait_ms(void);
void udpio_poll(void);
void udpio_on_inbox(void);
void udpio_log_stats(void);

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

/* rxcoal.c: receive coalescing for clients that send in bulk. */
int rxcoal_init(void); /* before udpio_init: it asks rxcoal_enabled */
bool rxcoal_enabled(void);
void rxcoal_read(struct conn *c, size_t n);
void rxcoal_forget(struct conn *c);
int rxcoal_wait_ms(void); /* -1: nobody coalesced */
/* Read each client whose deadline came with read_now (conn_read_now). */
void rxcoal_poll(void (*read_now)(struct conn *c));
void rxcoal_log_stats(void);
/* Packets read from the TUN device for no tunnel of any worker, so far. */
uint64_t tunio_no_client(void);

/* login.c: handlers of CS_HTTP, CS_AUTH_WAIT and CS_CONNECT_WAIT. */
struct conn_step login_on_data(struct conn *c, const uint8_t *buf, size_t len);
/* CS_AUTH_WAIT: counted against limits.max-pending-logins while in it;
 * left for any other reason than the answer, the master is told. */
struct conn_step login_auth_enter(struct conn *c, const char *why);
void login_auth_leave(struct conn *c, enum conn_state next, const char *why);
struct conn_step login_auth_reply(struct conn *c, const struct ipc_msg *m);
struct conn_step login_connect_reply(struct conn *c, const struct ipc_msg *m);
/* The client certificate of c's TLS session, verified, into the login
 * request m (cert_user, cert_groups); nothing without one. */
void login_cert(struct conn *c, struct ipc_msg *m);
/* c closes: the master forgets a dialogue that waits for its answers. */
void login_forget(struct conn *c);
/* The banner of the CONNECT just granted (X-CSTP-Banner), "" for none. */
const char *login_banner(void);

/* proxy.c: the handler of CS_PROXY: reads the PROXY header, exactly, off
 * the socket (the TLS bytes after it stay there), and makes the client it
 * names the connection's peer. */
struct conn_step proxy_read(struct conn *c);
void proxy_leave(struct conn *c, enum conn_state next, const char *why);

/* tunnel.c: handlers of CS_TUNNEL. */
struct conn_step tunnel_enter(struct conn *c, const char *user);
struct conn_step tunnel_on_data(struct conn *c, const uint8_t *buf, size_t len);
struct conn_step tunnel_on_master(struct conn *c, const struct ipc_msg *m);
struct conn_step tunnel_on_dgram(struct conn *c, const struct udp_peer *from, const uint8_t *d,
				 size_t n);
struct conn_step tunnel_tick(struct conn *c, time_t now, unsigned tick);
void tunnel_leave(struct conn *c, enum conn_state next, const char *why);
/* The server stops: tell the client not to come back here. */
void tunnel_notify_stop(struct conn *c);

/* svc.c: the TLS stream services of this worker, in slots that outlive a
 * reload while streams use them.  svc_init: the inherited table (before
 * the sandbox); svc_apply: a reload's IPC_SVC with its nfds listeners
 * (taken: used or closed).  0 or -errno (logged). */
int svc_init(void);
int svc_apply(const void *msg, size_t len, const int *fds, unsigned nfds);
bool svc_enabled(void);
/* Listeners: out of the epoll (SIGQUIT, for good; out of fds, a rest)
 * and back. */
void svc_stop_listening(void);
void svc_listen_pause(bool paused);
/* Slot i's listener, -1 when it has none (retired by a reload). */
int svc_listen_fd(unsigned i);
/* A stream of slot i may start: its share of max-connections is not
 * reached (else counted as refused).  Then svc_open(); svc_close() at its
 * end, with the phase it ended in. */
bool svc_admit(unsigned i);
void svc_refused(unsigned i);
void svc_open(unsigned i);
void svc_close(unsigned i, enum conn_state was);
struct tls_ctx *svc_ctx(unsigned i);
const struct svc_def *svc_def_of(unsigned i);
void svc_count_connect_failure(unsigned i);
void svc_count_bytes(unsigned i, uint64_t in, uint64_t out);
/* Once a second: IPC_SVC_STATS when anything changed. */
void svc_report(void);
/* Connections the table needs for the services of cfg. */
uint32_t svc_table_room(const struct cfg *cfg, unsigned n_workers);

/* relay.c: handlers of CS_SVC_CONNECT and CS_SVC_RELAY. */
enum {
	RELAY_CL_EOF = 1,  /* the client closed its way (close_notify or FIN) */
	RELAY_CL_SENT = 2, /* and the destination was told (shutdown SHUT_WR) */
	RELAY_UP_EOF = 4,  /* the destination closed its way (FIN) */
	RELAY_UP_SENT = 8, /* and the client was told (close_notify, then FIN) */
	RELAY_BYE_OUT = 16 /* that close_notify left */
};
struct conn_step relay_connect_enter(struct conn *c, const char *why);
struct conn_step relay_connect_event(struct conn *c, uint32_t events);
struct conn_step relay_connect_tick(struct conn *c, time_t now, unsigned tick);
struct conn_step relay_enter(struct conn *c, const char *why);
struct conn_step relay_on_data(struct conn *c, const uint8_t *buf, size_t len);
struct conn_step relay_on_upstream(struct conn *c, uint32_t events);
struct conn_step relay_flushed(struct conn *c, bool empty);
struct conn_step relay_on_eof(struct conn *c);
struct conn_step relay_tick(struct conn *c, time_t now, unsigned tick);
void relay_leave(struct conn *c, enum conn_state next, const char *why);
/* The flush list of destination queues: taken off one by one. */
struct conn *relay_next_dirty(void);
struct conn_step relay_flush_up(struct conn *c);

/* conn.c, for loop.c. */
int conn_init(void);
/* Connections a worker's table holds with cfg and n_workers workers. */
uint32_t conn_table_size(const struct cfg *cfg, unsigned n_workers);
/* May a new connection from the source key start (limits.max-handshakes,
 * its per-address share, not counted for a load balancer's: proxied; may
 * close another to make room)?  Then
 * conn_start() sets it up in a free slot (svc: service slot + 1, 0 for
 * the VPN's listen address k), or refuses it. */
bool conn_admit(const uint8_t key[16], bool proxied);
void conn_start(int fd, unsigned k, unsigned svc, const char *peer, const uint8_t addr[16]);

/* accept.c, for loop.c. */
/* Accept what listen address k has queued (a batch): 0, or -EMFILE,
 * -ENFILE, -ENOBUFS or -ENOMEM when the process is out of fds or memory
 * (connections stay queued: the caller backs off). */
int conn_accept(unsigned k);
/* The same for service slot i's listener. */
int conn_accept_svc(unsigned i);
/* An event on c's destination socket (relay.c registered it). */
void conn_on_upstream(uint32_t idx, uint32_t gen, uint32_t events);
/* c's client is another address than the socket's (a PROXY header): its
 * pending connection counts under key from now on.  false when that source
 * is at its share of limits.max-handshakes-per-address (the caller closes
 * c). */
bool conn_readdress(struct conn *c, const uint8_t key[ADDRKEY_LEN]);
/* A datagram for c (udpio.c found it), to its phase. */
void conn_dgram(struct conn *c, const struct udp_peer *from, const uint8_t *d, size_t n);
void conn_on_event(uint32_t idx, uint32_t gen, uint32_t events);
/* A message from the master for one connection (ref). */
void conn_reply(const struct ipc_msg *m);
void conn_tick(time_t now);
/* Connections in the TLS handshake or the login now. */
uint32_t conn_pending(void);
/* Once per loop turn: send every queue filled this turn. */
void conn_flush_all(void);
/* Read c's client now, as if epoll had said so (rxcoal.c's deadline). */
void conn_read_now(struct conn *c);
void conn_shutdown(bool tell);
/* IPC_DRAIN: every tunnel ends without a DISCONNECT, so that its client
 * reconnects (to another node, through the load balancer). */
void conn_drain_tunnels(void);

#endif
