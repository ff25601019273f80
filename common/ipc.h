/* Master <-> worker messages.  One fixed-size struct per SOCK_SEQPACKET
 * datagram on the worker's control socketpair, so a message is never split
 * or merged and a short read is a protocol error.  Both ends are the same
 * binary (workers are forked, not exec'ed), so host layout is fine. */
#ifndef TUNNELD_IPC_H
#define TUNNELD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "common/cookie.h"
#include "common/counters.h"
#include "common/ticket.h"
#include "common/svcmsg.h"
#include "conf/config.h"

#define IPC_USER_MAX	    64
#define IPC_PASS_MAX	    256
#define IPC_REASON_MAX	    96
#define IPC_GROUP_MAX	    CFG_GROUP_NAME /* a session's group name, NUL included */
#define IPC_USER_MAX	    64
#define IPC_PASS_MAX	    256
#define IPC_REASON_MAX	    96
#define IPC_SESS_ROUTES_MAX 16 /* routes of one session (RADIUS Framed-Route) */

/* The login dialogue (daemon/dialog.c): a form the master has a worker
 * show, and the answers the worker sends back.  Backends (password file,
 * PAM, certificates) ask through it; only the worker writes XML. */
#define IPC_INPUTS_MAX 4   /* inputs of one form, answers of one request */
#define IPC_NAME_MAX   32  /* an input's name, a form's auth id */
#define IPC_LABEL_MAX  96  /* an input's label */
#define IPC_TEXT_MAX   512 /* a form's message, a banner */
#define IPC_GROUPS_MAX 256 /* a user's groups, comma-separated */
/* auth_resp.result: a form to show (the dialogue goes on), neither a
 * cookie nor a refusal. */
#define IPC_AUTH_FORM 16

enum ipc_input_type { IPC_INPUT_TEXT = 1, IPC_INPUT_PASSWORD = 2 };

struct ipc_input {
	uint32_t type;		   /* enum ipc_input_type */
	char name[IPC_NAME_MAX];   /* [A-Za-z0-9_-], not empty */
	char label[IPC_LABEL_MAX]; /* shown by the client */
};

/* What a form shows.  No inputs: the dialogue ended (error says why) and
 * the connection closes after it. */
struct ipc_form {
	uint32_t n; /* inputs used */
	struct ipc_input in[IPC_INPUTS_MAX];
	char auth_id[IPC_NAME_MAX]; /* <auth id=...> */
	char message[IPC_TEXT_MAX]; /* <message>, may hold LF */
	char error[IPC_REASON_MAX]; /* <error>, one line */
	char banner[IPC_TEXT_MAX];  /* <banner>: pre-login-banner, first form */
	uint32_t cert_request;	    /* <client-cert-request/>: present a certificate */
	/* Group choice: a group_list select with these choices, comma-separated
	 * ("" for none; common/grouplist.h), the one selected ("" the first). */
	char group_list[IPC_GROUPS_MAX];
	char group_sel[IPC_USER_MAX];
};

/* One answer of the client's. */
struct ipc_answer {
	char name[IPC_NAME_MAX];
	char value[IPC_PASS_MAX]; /* wiped by both sides after use */
};

enum ipc_type {
	IPC_READY = 1,	  /* w->m: set-up done, serving */
	IPC_AUTH_REQ,	  /* w->m: check user/password */
	IPC_AUTH_RESP,	  /* m->w: result (+ cookie on success) */
	IPC_CONNECT_REQ,  /* w->m: CONNECT with a cookie */
	IPC_CONNECT_RESP, /* m->w: 200 + session, or 401/503 + reason */
	IPC_CLOSED,	  /* w->m: a tunnel ended; counters; whether the session ends */
	IPC_KICK,	  /* m->w: close this tunnel quietly (replaced elsewhere) */
	IPC_STATS,	  /* w->m: periodic counters of a live tunnel */
	IPC_DISCONNECT,	  /* m->w: end this tunnel and its session (administrator) */
	IPC_SETTINGS,	  /* m->w: reloaded settings for new sessions */
	IPC_TLS, /* m->w: reloaded certificate, key generation, priorities (variable size) */
	IPC_AUTH_CANCEL, /* w->m: the connection of an IPC_AUTH_REQ (ref) is gone */
	IPC_DTLS,	 /* w->m: a tunnel's DTLS channel came up (from a peer) or went down */
	IPC_WSTATS,	 /* w->m: the worker's own figures, each second they changed */
	IPC_POLICY,	 /* m->w: groups' routes, DNS and traffic rules (variable size) */
	IPC_DRAIN,	 /* m->w: end every tunnel so that its client reconnects elsewhere */
	IPC_SVC,       /* m->w: the TLS stream services, with listeners (variable size, svcmsg.h) */
	IPC_SVC_STATS, /* w->m: the services' open streams and counters */
};

/* IPC_WSTATS: a worker holds at most this many connections in handshake
 * (limits.max-handshakes is at most 1000000); more is a lie. */
#define IPC_WSTATS_MAX_HANDSHAKES 1000000u
/* auth_req.flags */
#define IPC_AUTH_START	   0x1u /* no answers: the client asks for the first form */
#define IPC_AUTH_CERT_FAIL 0x2u /* the client has no certificate (<client-cert-fail/>) */

/* Names one connection of one worker; gen guards against slot reuse. */
struct ipc_ref {
	uint32_t slot;
	uint32_t gen;
};

/* A client's UDP address, as a worker saw it. */
struct ipc_peer {
	uint32_t family; /* AF_INET or AF_INET6 */
	uint16_t port;	 /* host order */
	uint8_t addr[16];
};

struct ipc_msg {
	uint32_t type;
	struct ipc_ref ref;
	union {
		struct {
			char user[IPC_USER_MAX];
			char pass[IPC_PASS_MAX]; /* wiped by both sides after use */
			char peer[64];
			/* The dialogue (daemon/dialog.c): IPC_AUTH_* flags, the
			 * other answers of the form, the group chosen, and the
			 * user of a client certificate the worker verified
			 * against auth.ca ("" for none) with its groups. */
			uint32_t flags;
			uint32_t n_ans;
			struct ipc_answer ans[IPC_INPUTS_MAX];
			char group[IPC_USER_MAX];
			char cert_user[IPC_USER_MAX];
			char cert_groups[IPC_GROUPS_MAX];
		} auth_req;
		struct {
			int32_t result;			      /* enum passwd_result */
			uint64_t sess_id;		      /* slot | serial << 32 */
			char cookie[TICKET_MAX_TEXT_LEN + 1]; /* sealed (common/ticket.h) */
			char reason[IPC_REASON_MAX];	      /* refused for a reason the user
								 should see (ban, limit) */
			/* result IPC_AUTH_FORM, or a failure that asks again:
			 * the form to show. */
			struct ipc_form form;
		} auth_resp;
		struct {
			uint8_t cookie[TICKET_MAX_LEN]; /* decoded, still sealed */
			uint32_t cookie_len;		/* TICKET_V1_LEN or TICKET_V2_LEN */
			char peer[64];
		} connect_req;
		struct {
			int32_t status;	  /* 200, 401, 503 */
			uint64_t sess_id; /* slot | serial << 32 */
			uint32_t lease;	  /* pool index */
			char user[IPC_USER_MAX];
			char reason[IPC_REASON_MAX];
			char group[IPC_GROUP_MAX]; /* its policy (common/policy.h), "" none */
			int64_t created;	   /* login: session.max-lifetime counts from it */
			int64_t last_active;	   /* last data from the client (idle-timeout) */
			/* The session's own (RADIUS): seconds it has left and its
			 * idle limit (0: none), told to the client; routes added
			 * to network.routes. */
			uint32_t session_left, idle_timeout;
			uint32_t n_routes;
			struct cfg_prefix routes[IPC_SESS_ROUTES_MAX];
			char banner[IPC_TEXT_MAX]; /* X-CSTP-Banner, one line; "" for none */
		} connect_resp;
		struct {
			uint64_t sess_id;	  /* slot | serial << 32 */
			uint32_t end_session;	  /* client said goodbye (0xb0): forget it */
			struct sess_counters ctr; /* since the last IPC_STATS */
			char reason[IPC_REASON_MAX];
			int64_t last_active; /* last data from the client, 0: none */
		} closed;
		struct {
			uint64_t sess_id; /* slot | serial << 32 */
		} kick;
		struct {
			uint64_t sess_id; /* slot | serial << 32 */
			/* 1: DTLS carries the data from peer; 0: TLS; 2: a DTLS
			 * handshake from peer started (steer it, data stays on TLS) */
			uint32_t up;
			struct ipc_peer peer; /* where its datagrams come from (up) */
			char cipher[32];      /* the DTLS suite, for tunnelctl */
		} dtls;
		struct {
			uint32_t handshakes; /* connections in TLS handshake or login now */
			uint64_t no_client;  /* TUN packets for no tunnel, since it started */
			uint32_t tls_gen;    /* key generation of the certificate it serves */
		} wstats;
		struct ipc_settings {
			uint32_t len; /* bytes used in blob */
			/* cfg_settings_pack() of the master's config. */
			uint8_t blob[CFG_SETTINGS_MAX];
		} settings;
		struct {
			uint32_t n; /* entries used */
			struct svc_stats_entry e[SVC_STATS_MAX];
		} svc_stats;
	} u;
};

/* IPC_TLS is the one message of variable size: this header, then the PEM
 * certificate chain and the priority string (each without NUL).  The key
 * stays in the key process (daemon/keyserv.c): key_gen names the
 * generation that signs for this certificate. */
struct ipc_tls {
	uint32_t type; /* IPC_TLS */
	uint32_t cert_len, key_gen, prio_len;
	/* Client certificates: the CA and CRL (PEM, after the priorities;
	 * 0: none) and the fields that name the user and the groups
	 * (auth.cert-user-field, auth.cert-group-field; "" for none). */
	uint32_t ca_len, crl_len;
	char user_field[IPC_NAME_MAX];
	char group_field[IPC_NAME_MAX];
};
#define IPC_TLS_MAX (96 * 1024) /* under the default socket buffer */

/* IPC_POLICY, the other message of variable size: the type word, then
 * policy_pack()'s bytes (common/policy.h), at most POLICY_MAX in all,
 * which IPC_TLS_MAX holds. */

/* The end a datagram arrived on: each type travels one way only. */
enum ipc_dir {
	IPC_FROM_WORKER, /* received by the master */
	IPC_FROM_MASTER, /* received by a worker */
};

/* Vet one received datagram before any field of it is used.  len is its
 * full length: pass what recv(..., MSG_TRUNC) returns, which counts the
 * bytes that did not fit too, so an oversized datagram is refused rather
 * than read cut short.  buf holds the first min(len, cap) bytes, cap being
 * sizeof(struct ipc_msg) on the master's side and IPC_SVC_MAX on a
 * worker's; nothing beyond them is read.  IPC_SVC is checked by
 * svcmsg_check() (common/svcmsg.h).
 * Accepts it only if the type is known and may arrive from that direction,
 * the length is the type's (sizeof(struct ipc_msg), or for IPC_TLS the
 * header plus cert_len + prio_len + ca_len + crl_len exactly, key_gen not
 * 0, the field names terminated), every text field is
 * NUL-terminated inside its array, and numbers are in range (statuses,
 * counts, address families, prefix lengths, log levels, timeouts).
 * pool_size (struct pool_geom.size) bounds connect_resp.lease of a 200
 * answer to [POOL_SERVER_INDEX + 1, pool_size); 0 skips that check.
 * Returns 0, or -EBADMSG with the reason in err ("IPC_SETTINGS: n_dns 9 >
 * 8").  buf needs no alignment.  Pure: logs nothing. */
int ipc_check(const void *buf, size_t len, enum ipc_dir dir, uint32_t pool_size, char *err,
	      size_t errlen);

/* The value (sigqueue) of the master's SIGTERM to a worker that is to end
 * its tunnels without a DISCONNECT, so that their clients reconnect after
 * the restart; a plain SIGTERM (kill) tells them the server shuts down. */
#define IPC_STOP_KEEP_SESSIONS 0x6b656570

/* "IPC_AUTH_REQ", or "unknown" for a type that is not in enum ipc_type. */
const char *ipc_type_name(uint32_t type);

#endif
