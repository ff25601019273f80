/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-load: a tunnel's CSTP frames, its echo packets out and back,
 * and the goodbye. */
#include "config.h"
#include "bench/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define BYE_TIMEOUT (2 * NS_PER_SEC)

/* ---- tunnel ---- */

/* Forget in-flight packet i (the last one takes its place). */
void fl_drop(struct client *c, uint32_t i)
{
	c->fl[i] = c->fl[--c->inflight];
}

void client_echo(struct load *L, struct client *c, const uint8_t *p, size_t len)
{
	const struct echo_hdr *eh = pkt_parse(p, len, c->addr);
	uint64_t now;
	uint32_t i;

	if (!eh || eh->client != c->idx) {
		L->s.bad_pkts++;
		return;
	}
	for (i = 0; i < c->inflight && c->fl[i].seq != eh->seq; i++)
		;
	if (i == c->inflight) {
		L->s.late++; /* after it was counted lost, or twice */
		return;
	}
	fl_drop(c, i);
	now = now_ns();
	L->s.rx_pkts++;
	L->s.rx_bytes += len;
	if (eh->sent_ns <= now)
		hist_add(&L->s.rtt, now - eh->sent_ns);
	c->last_progress = now;
	client_pump(L, c, now);
}

static bool on_frame(struct load *L, struct client *c, uint8_t type, const uint8_t *p, size_t n)
{
	uint8_t dpd_resp[TC_CSTP_HDR];

	switch (type) {
	case TC_DATA:
		client_echo(L, c, p, n);
		break;
	case TC_DPD_REQ:
		L->s.dpd++;
		tc_cstp_header(dpd_resp, TC_DPD_RESP, 0);
		if (send_record(L, c, dpd_resp, sizeof(dpd_resp)) == -1)
			return false;
		break;
	case TC_DPD_RESP:
	case TC_KEEPALIVE:
		break;
	default: /* DISCONNECT, TERMINATE, or something we do not know */
		if (c->st == C_BYE) {
			L->s.byes++;
			client_close(L, c);
		} else {
			fail(L, c,
			     type == TC_DISCONNECT ? "server sent DISCONNECT"
						   : "server ended the tunnel");
		}
		return false;
	}
	return c->st == C_TUNNEL || c->st == C_BYE;
}

static void keep_part(struct client *c, const uint8_t *buf, size_t len)
{
	if (!c->part && !(c->part = malloc(TC_CSTP_HDR + 65535)))
		die("out of memory");
	memcpy(c->part, buf, len);
	c->part_len = (uint32_t)len;
}

/* CSTP frames from the decrypted stream.  The server should send one frame
 * per record, but a frame split across records is put together in
 * c->part. */
void tunnel_feed(struct load *L, struct client *c, const uint8_t *buf, size_t len)
{
	uint32_t gen = c->gen;

	while (len > 0 && c->gen == gen) {
		const uint8_t *f;
		size_t flen;

		if (c->part_len) {
			size_t need = c->part_len < TC_CSTP_HDR
					  ? TC_CSTP_HDR - c->part_len
					  : tc_cstp_frame_len(c->part) - c->part_len;
			if (need > len)
				need = len;
			memcpy(c->part + c->part_len, buf, need);
			c->part_len += (uint32_t)need;
			buf += need;
			len -= need;
			if (c->part_len < TC_CSTP_HDR)
				return;
			if (!tc_cstp_magic(c->part)) {
				fail(L, c, "bad CSTP frame");
				return;
			}
			if (c->part_len == tc_cstp_frame_len(c->part)) {
				c->part_len = 0;
				if (!on_frame(L, c, c->part[6], c->part + TC_CSTP_HDR,
					      tc_cstp_frame_len(c->part) - TC_CSTP_HDR))
					return;
			}
			continue;
		}
		if (len < TC_CSTP_HDR) {
			keep_part(c, buf, len);
			return;
		}
		if (!tc_cstp_magic(buf)) {
			fail(L, c, "bad CSTP frame");
			return;
		}
		flen = tc_cstp_frame_len(buf);
		if (len < flen) {
			keep_part(c, buf, len);
			return;
		}
		f = buf;
		buf += flen;
		len -= flen;
		if (!on_frame(L, c, f[6], f + TC_CSTP_HDR, flen - TC_CSTP_HDR))
			return;
	}
}

void client_bye(struct load *L, struct client *c)
{
	static const char reason[] = "\xb0"
				     "load done"; /* 0xb0: the user quits, the session ends */
	uint8_t bye[TC_CSTP_HDR + sizeof(reason) - 1];

	if (c->st != C_TUNNEL)
		return;
	tc_cstp_header(bye, TC_DISCONNECT, sizeof(reason) - 1);
	memcpy(bye + TC_CSTP_HDR, reason, sizeof(reason) - 1);
	if (send_record(L, c, bye, sizeof(bye)) < 0 && c->st != C_TUNNEL)
		return;
	set_state(L, c, C_BYE);
	c->deadline = now_ns() + BYE_TIMEOUT;
}

void client_pump(struct load *L, struct client *c, uint64_t now)
{
	const struct opts *o = L->o;
	uint8_t *buf = L->scratch + L->scratch_cap / 2; /* the receive half is in use */
	struct echo_hdr eh = {.magic = LOAD_MAGIC, .client = c->idx};
	unsigned guard = 0;

	if (!c->fl && L->sending && !(c->fl = calloc(o->window, sizeof(*c->fl))))
		die("out of memory");
	while (L->sending && c->st == C_TUNNEL && c->inflight < o->window && guard++ < 64) {
		size_t n;
		if (o->interval_us) {
			if (now < c->next_send)
				return;
			c->next_send += (uint64_t)o->interval_us * 1000;
			if (c->next_send < now)
				c->next_send = now + (uint64_t)o->interval_us * 1000;
		}
		eh.seq = ++c->seq;
		eh.sent_ns = now_ns();
		n = pkt_build(buf + 8, o->payload, c->addr, &o->echo,
			      (uint16_t)(20000 + c->idx % 40000), &eh, o->tcp);
		buf[0] = 'S';
		buf[1] = 'T';
		buf[2] = 'F';
		buf[3] = 1;
		buf[4] = (uint8_t)(n >> 8);
		buf[5] = (uint8_t)n;
		buf[6] = 0;
		buf[7] = 0; /* also the DTLS record's type byte: DATA */
		if (dtls_send(L, c, buf + 7, n + 1))
			;
		else if (send_record(L, c, buf, n + 8) < 0)
			return; /* pending (retried on EPOLLOUT) or closed */
		else
			L->s.tls_tx_pkts++;
		c->fl[c->inflight++] = (struct inflight){eh.seq, eh.sent_ns};
		L->s.tx_pkts++;
		L->s.tx_bytes += n;
	}
}
