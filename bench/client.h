/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load's simulated clients, between their files: conn.c (a
 * client's state, TCP connection and TLS records), login.c (the login
 * dialogue and CONNECT), tunnel.c (CSTP frames and echo packets) and
 * client.c (the event loop, the TLS handshake, set-up and tear-down). */
#ifndef TUNNELD_LOAD_CLIENT_H
#define TUNNELD_LOAD_CLIENT_H

#include "bench/load.h"

#define HTTP_IN_MAX 16384

enum phase { PH_INIT, PH_REPLY, PH_CONNECT };

struct http_state {
	enum phase phase;
	unsigned rounds;
	bool reopen; /* the server closes after this response */
	char cookies[2048];
	char webvpn[1024];
	char action[256];
	char fields[1024]; /* <username>..</username> etc. for the next reply */
	char opaque[1024];
	size_t in_len;
	char in[HTTP_IN_MAX + 1];
};

/* conn.c ------------------------------------------------------------------ */
void set_state(struct load *L, struct client *c, enum cstate st);
void want(struct load *L, struct client *c, uint32_t ev);
/* Count a failed connect or a dropped tunnel, keep why, close c. */
void fail(struct load *L, struct client *c, const char *why);
void tcp_open(struct load *L, struct client *c);
int send_record(struct load *L, struct client *c, const void *buf, size_t len);

/* login.c ----------------------------------------------------------------- */
void send_request(struct load *L, struct client *c);
void http_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len);

/* tunnel.c ---------------------------------------------------------------- */
void fl_drop(struct client *c, uint32_t i);
void tunnel_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len);

#endif
