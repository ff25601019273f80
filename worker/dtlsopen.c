/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the terms of a tunnel's DTLS channel, set at CONNECT.  Owns
 * nothing between calls: what the client offered (its suites, its master
 * secret, its path MTU) becomes c->dt, and when the tunnel opens, the
 * App-ID (or Cisco Session-ID), the key and the MTU, which the CONNECT
 * answer's X-DTLS-* headers announce.  dtls.c runs the channel. */
#include "config.h"
#include "worker/dtls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "common/hex.h"
#include "common/log.h"

/* ---- CONNECT ------------------------------------------------------------ */

static int unhex(const char *p, size_t n, uint8_t *out, size_t len)
{
	if (n != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int dtls_offer(struct conn *c, const struct http_req *req)
{
	struct dtls_offer o = {req->dtls_suites.p, req->dtls_suites.n, req->dtls12_suites.p,
			       req->dtls12_suites.n, false};
	uint8_t master[MASTER_LEN];
	struct dtls *dt;

	dtls_forget(c);
	/* DTLS off here, the client does not want it, or it came through a
	 * TCP proxy (listen-proxy), which its datagrams cannot follow. */
	if (!W.env->udp_fds || !req->dtls_suites.p || c->listen >= W.env->n_plain)
		return 0;
	o.have_master = req->dtls_master.p &&
			unhex(req->dtls_master.p, req->dtls_master.n, master, sizeof(master)) == 0;
	dt = calloc(1, sizeof(*dt));
	if (!dt)
		return -ENOMEM;
	dtls_choose(&o, c->cisco, &dt->choice);
	if (dt->choice.mode == DTLS_MODE_NONE) {
		free(dt);
		return 0;
	}
	if (dt->choice.mode == DTLS_MODE_LEGACY)
		memcpy(dt->key, master, sizeof(master));
	explicit_bzero(master, sizeof(master));
	dt->base_mtu = req->cstp_base_mtu > 0 ? (unsigned)req->cstp_base_mtu : BASE_MTU_DEFAULT;
	c->dt = dt;
	return 0;
}

/* Whether the client reached us over IPv6 (the DTLS datagrams will too). */
static bool peer_ipv6(const struct conn *c)
{
	return c->peer[0] == '[';
}

unsigned dtls_open(struct conn *c, unsigned mtu)
{
	struct dtls *dt = c->dt;
	unsigned limit, tmtu;
	int r;

	if (!dt)
		return mtu;
	/* The path MTU: the client's idea, no more than our tunnel MTU plus
	 * a datagram's overhead, no less than IPv6's minimum. */
	limit = mtu + dtls_overhead(peer_ipv6(c), dt->choice.cipher);
	if (dt->base_mtu > limit)
		dt->base_mtu = limit;
	if (dt->base_mtu < BASE_MTU_MIN)
		dt->base_mtu = BASE_MTU_MIN;
	tmtu = dtls_tunnel_mtu(dt->base_mtu, peer_ipv6(c), dt->choice.cipher);
	if (dt->choice.mode == DTLS_MODE_PSK) {
		r = gnutls_prf_rfc5705(c->tls, sizeof(PSK_LABEL) - 1, PSK_LABEL, 0, NULL, PSK_LEN,
				       (char *)dt->key);
		if (r < 0) {
			log_warn("session %u: no DTLS: TLS exporter: %s", c->serial,
				 gnutls_strerror(r));
			dtls_forget(c);
			return mtu;
		}
	}
	dt->id[DTLS_ID_NODE] = (uint8_t)W.cfg->node_id;
	dt->id[DTLS_ID_WORKER] = (uint8_t)W.env->id;
	dt->id[DTLS_ID_SLOT] = (uint8_t)(conn_index(c) >> 16);
	dt->id[DTLS_ID_SLOT + 1] = (uint8_t)(conn_index(c) >> 8);
	dt->id[DTLS_ID_SLOT + 2] = (uint8_t)conn_index(c);
	if (gnutls_rnd(GNUTLS_RND_NONCE, dt->id + DTLS_ID_RANDOM, DTLS_ID_LEN - DTLS_ID_RANDOM) <
	    0) {
		dtls_forget(c);
		return mtu;
	}
	return tmtu && tmtu < mtu ? tmtu : mtu;
}

static size_t put_hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

int dtls_headers(const struct conn *c, char *out, size_t cap)
{
	const struct dtls *dt = c->dt;
	const struct cfg *cfg = W.cfg;
	char id[2 * DTLS_ID_LEN + 1];
	int n, m;

	if (!dt)
		return 0;
	put_hex(id, dt->id, DTLS_ID_LEN);
	if (dt->choice.mode == DTLS_MODE_PSK)
		n = snprintf(out, cap, "X-DTLS-App-ID: %s\r\nX-DTLS-CipherSuite: PSK-NEGOTIATE\r\n",
			     id);
	else
		n = snprintf(out, cap, "X-DTLS-Session-ID: %s\r\n%s: %s\r\nX-DTLS-MTU: %u\r\n", id,
			     dt->choice.dtls12_header ? "X-DTLS12-CipherSuite"
						      : "X-DTLS-CipherSuite",
			     dt->choice.name, c->mtu);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	m = snprintf(out + n, cap - (size_t)n,
		     "X-DTLS-Port: %u\r\nX-DTLS-DPD: %u\r\nX-DTLS-Keepalive: %u\r\n"
		     "X-DTLS-Rekey-Method: ssl\r\nX-DTLS-Rekey-Time: %u\r\nX-CSTP-Base-MTU: %u\r\n",
		     W.env->udp_ports[c->listen], cfg->dpd, cfg->keepalive, cfg->rekey_time,
		     dt->base_mtu);
	return m < 0 || (size_t)m >= cap - (size_t)n ? -1 : n + m;
}
