/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the DTLS channel's private types, shared by dtls.c (sessions,
 * datagrams, the peer index) and dtlsopen.c (the terms agreed at CONNECT:
 * mode, suite, key, App-ID, MTU).  Nothing else sees inside struct dtls. */
#ifndef TUNNELD_WORKER_DTLS_H
#define TUNNELD_WORKER_DTLS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>

#include "common/dtls.h"
#include "worker/worker.h"

#define PSK_LEN	   32
#define MASTER_LEN 48
#define PSK_LABEL  "EXPORTER-openconnect-psk"
/* Path MTU assumed when the client says nothing (openconnect's own
 * fallback is MSS - 13, about this). */
#define BASE_MTU_DEFAULT 1406
#define BASE_MTU_MIN	 1280
#define HS_RETRANS_MS	 1000  /* DTLS handshake: retransmit after */
#define HS_TOTAL_MS	 10000 /* and give up after */

/* One DTLS session with one peer. */
struct dtls_sess {
	gnutls_session_t s;
	struct udp_peer peer;
	struct conn *c;
	bool up; /* handshake done */
};

struct dtls {
	uint8_t id[DTLS_ID_LEN];
	struct dtls_choice choice;
	uint8_t key[MASTER_LEN]; /* PSK (32 bytes) or the legacy master secret */
	unsigned base_mtu;	 /* the path's MTU, bounded by ours */
	struct dtls_sess cur;	 /* the channel, once up */
	struct dtls_sess next;	 /* a handshake in progress; takes over when done */
	/* The channel next replaced: it still reads what the client sent on
	 * it before it switched, until old_until (no record is lost). */
	struct dtls_sess old;
	time_t old_until;
	time_t last_rx; /* last record on the channel */
	time_t hs_start;
	bool active;   /* the client sends over DTLS (no CSTP DATA since its last record) */
	bool rekeying; /* the client renegotiates cur (X-DTLS-Rekey-Method: ssl) */
};

#endif
