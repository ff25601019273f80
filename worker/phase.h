/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the row type of conn.c's phases[] table, what each phase of a
 * connection does.  Only conn.c includes it.
 *
 * Life cycle; each edge is named by the function whose step takes it, and
 * conn.c's phases[] says what each phase does:
 *
 *   (accept4)     --conn_accept---------------------------> HANDSHAKE
 *   (accept4 on a listen-proxy address)
 *                 --conn_accept---------------------------> PROXY
 *   PROXY         --proxy_read: the header read-----------> HANDSHAKE
 *   HANDSHAKE     --handshake: tls_handshake() done-------> HTTP
 *   HTTP          --login_on_data: POST with a password---> AUTH_WAIT
 *                   (login_auth_enter counts it; over this worker's share
 *                   of limits.max-pending-logins: 503 and DRAIN instead)
 *   AUTH_WAIT     --login_auth_reply: cookie sent---------> HTTP
 *                   (login_auth_leave; closed before the answer, it sends
 *                   IPC_AUTH_CANCEL and the master drops the check)
 *   HTTP          --login_on_data: CONNECT with a cookie--> CONNECT_WAIT
 *   CONNECT_WAIT  --login_connect_reply: granted----------> TUNNEL
 *                   (tunnel_enter answers CONNECTED)
 *   HTTP, AUTH_WAIT, CONNECT_WAIT
 *                 --login_*: an answer with Connection: close--> DRAIN
 *   TUNNEL        --tunnel_on_master: IPC_DISCONNECT------> DRAIN
 *                   (tunnel_leave reports IPC_CLOSED)
 *   DRAIN         --conn_flush: all sent------------------> FREE
 *   HANDSHAKE     --handshake: a service's stream---------> SVC_CONNECT
 *   SVC_CONNECT   --relay_connect_event: connected--------> SVC_RELAY
 *                 --relay_connect_*: refused, timed out---> DRAIN
 *   SVC_RELAY     --relay_*: both ways closed, idle-timeout, a socket gone--> CLOSING
 *   any           --CS_CLOSING from a handler, conn_tick (deadline), admit
 *                   (eviction), conn_flush or conn_readable (socket gone),
 *                   conn_shutdown--> conn_close --> FREE
 */
#ifndef TUNNELD_PHASE_H
#define TUNNELD_PHASE_H

#include "worker/worker.h"

/* Whether a phase counts against limits.max-handshakes; KEEP: as the phase
 * before (a last answer still counts, a tunnel's DISCONNECT does not). */
enum pend { P_NO, P_YES, P_KEEP };

/* The clock a phase runs under.  Entering a phase starts its clock unless
 * the phase before ran under the same one: one login deadline covers every
 * request and the waits for the master.  KEEP: the clock of the phase
 * before runs on (DRAIN, the last phase). */
enum timer { T_NONE, T_HANDSHAKE, T_LOGIN, T_KEEP };

struct phase {
	enum pend pending;
	enum timer timer;
	const char *expired; /* the reason to close at the deadline */
	/* Just entered (the step's why passed on); may move on at once. */
	struct conn_step (*enter)(struct conn *, const char *why);
	/* Raw bytes are in the read-ahead (before records are read). */
	struct conn_step (*readable)(struct conn *);
	/* The socket is readable and the phase reads it itself (no TLS). */
	struct conn_step (*raw)(struct conn *);
	/* One decrypted record.  Records are read only while the phase has
	 * this handler. */
	struct conn_step (*data)(struct conn *, const uint8_t *, size_t);
	/* A message from the master of a type in takes; others are dropped. */
	uint32_t takes;
	struct conn_step (*reply)(struct conn *, const struct ipc_msg *);
	/* A datagram for the connection's DTLS channel; dropped without. */
	struct conn_step (*dgram)(struct conn *, const struct udp_peer *, const uint8_t *, size_t);
	struct conn_step (*tick)(struct conn *, time_t now, unsigned tick);
	/* Leaving the phase, for next (CS_CLOSING included): undo enter. */
	void (*leave)(struct conn *, enum conn_state next, const char *why);
	/* The client closed its way (close_notify or FIN); without it, that
	 * closes the connection. */
	struct conn_step (*eof)(struct conn *);
	/* An event on the connection's destination socket (services). */
	struct conn_step (*upstream)(struct conn *, uint32_t events);
	/* The send queue was flushed (empty: all of it). */
	struct conn_step (*flushed)(struct conn *, bool empty);
};

#endif
