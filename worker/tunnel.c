/* Worker: the tunnel phase of a connection (PROTOCOL.md section 5): the
 * CONNECTED answer that opens it, CSTP frames from the client (DATA is
 * checked here and written by tunio.c; DPD, keepalive, DISCONNECT), control
 * frames to it, the master's KICK and DISCONNECT, DPD timeouts and the
 * periodic counters.  Owns the connection's tunnel fields (addresses, MTU,
 * the split-frame buffer, counters).  Handlers return a step; conn.c
 * applies it. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/cstp.h"
#include "common/log.h"

#define RESP_MAX     8192
#define STATS_PERIOD 10 /* ticks (s) between counter reports to the master */

static size_t put_routes(char *p, size_t cap)
{
	const struct cfg *cfg = W.cfg;
	char a[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	size_t n = 0;
	unsigned i;

	for (i = 0; i < cfg->n_routes && n < cap; i++) {
		const struct cfg_prefix *r = &cfg->routes[i];
		int w;
		inet_ntop(r->addr.family, &r->addr.u, a, sizeof(a));
		if (r->addr.family == AF_INET) {
			struct in_addr m = {htonl(r->len ? ~0u << (32 - r->len) : 0)};
			inet_ntop(AF_INET, &m, mask, sizeof(mask));
			w = snprintf(p + n, cap - n, "X-CSTP-Split-Include: %s/%s\r\n", a, mask);
		} else {
			w = snprintf(p + n, cap - n, "X-CSTP-Split-Include-IP6: %s/%u\r\n", a,
				     r->len);
		}
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return n < cap ? n : cap;
}

static int build_connected(struct conn *c, char *out, size_t cap)
{
	const struct cfg *cfg = W.cfg;
	const struct pool_geom *g = &W.env->geom;
	char a[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	size_t n = 0;
	unsigned i;
	int w;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		w = snprintf(out + n, cap - n, __VA_ARGS__);                                       \
		if (w < 0 || (size_t)w >= cap - n)                                                 \
			return -1;                                                                 \
		n += (size_t)w;                                                                    \
	} while (0)

	/* Header names are matched case-sensitively by the client, and its
	 * values are taken verbatim: one space after the colon, no trailing
	 * blanks (PROTOCOL.md 4.1). */
	PUT("HTTP/1.1 200 CONNECTED\r\nX-CSTP-Version: 1\r\nX-CSTP-Server-Name: tunneld %s\r\n",
	    PACKAGE_VERSION);
	if (c->have4) {
		struct in_addr m = {htonl(~0u << (32 - g->len4))};
		inet_ntop(AF_INET, &c->v4, a, sizeof(a));
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
		PUT("X-CSTP-Address: %s\r\nX-CSTP-Netmask: %s\r\n", a, mask);
	}
	if (c->have6) {
		inet_ntop(AF_INET6, &c->v6, a, sizeof(a));
		PUT("X-CSTP-Address-IP6: %s/%u\r\n", a, g->len6);
	}
	for (i = 0; i < cfg->n_dns; i++) {
		inet_ntop(cfg->dns[i].family, &cfg->dns[i].u, a, sizeof(a));
		PUT("X-CSTP-DNS: %s\r\n", a);
	}
	n += put_routes(out + n, cap - n);
	PUT("X-CSTP-Keepalive: %u\r\nX-CSTP-DPD: %u\r\nX-CSTP-Idle-Timeout: none\r\n"
	    "X-CSTP-Session-Timeout: none\r\nX-CSTP-Disconnected-Timeout: %u\r\n"
	    "X-CSTP-Keep: true\r\nX-CSTP-Rekey-Method: none\r\nX-CSTP-MTU: %u\r\n\r\n",
	    cfg->keepalive, cfg->dpd, cfg->reconnect_timeout, cfg->mtu);
#undef PUT
	return (int)n;
}

/* The master granted the session (login.c stored it in c):
 * take the lease's addresses, route the lease here, answer the CONNECT.
 * Bytes the client sent after its CONNECT are already CSTP. */
struct conn_step tunnel_enter(struct conn *c, const char *user)
{
	const struct pool_geom *g = &W.env->geom;
	char resp[RESP_MAX];
	struct conn_step st = step_to(CS_TUNNEL);
	int n, r = 0;

	c->have4 = g->have4;
	c->have6 = c->have6 && g->have6;
	if (c->have4)
		pool_addr4(g, (uint32_t)c->lease, &c->v4);
	if (c->have6)
		pool_addr6(g, (uint32_t)c->lease, &c->v6);
	c->mtu = (uint16_t)W.cfg->mtu;
	c->last_rx = time(NULL);
	tunio_map(c);
	n = build_connected(c, resp, sizeof(resp));
	if (n < 0 || (r = tls_send(c, resp, (size_t)n)) < 0)
		return step_close(r == -EPIPE ? TLS_SEND_FAILED : "cannot send CONNECT response");
	log_info("session %u: user '%s' connected from %s", c->serial, user, c->peer);
	/* The request buffer was login.c's; the tunnel takes what is left. */
	if (c->hbuf) {
		uint8_t *rest = (uint8_t *)c->hbuf;
		size_t rlen = c->hlen;
		c->hbuf = NULL;
		c->hlen = 0;
		if (rlen)
			st = tunnel_on_data(c, rest, rlen);
		free(rest);
	}
	return st;
}

/* The tunnel ends: closed (next CS_CLOSING) or draining a DISCONNECT. */
void tunnel_leave(struct conn *c, enum conn_state next, const char *why)
{
	if (next == CS_CLOSING)
		log_info("session %u: tunnel from %s closed: %s", c->serial, c->peer, why);
	else
		log_info("session %u: %s", c->serial, why);
	tunio_unmap(c);
	chan_report_closed(c, c->bye, why);
}

static int send_control(struct conn *c, uint8_t type, const void *payload, uint16_t len)
{
	uint8_t frame[CSTP_HDR_LEN + CSTP_MAX_PAYLOAD];

	if (len > CSTP_MAX_PAYLOAD)
		len = CSTP_MAX_PAYLOAD;
	cstp_put_header(frame, type, len);
	memcpy(frame + CSTP_HDR_LEN, payload, len);
	return tls_send(c, frame, CSTP_HDR_LEN + (size_t)len);
}

void tunnel_notify_stop(struct conn *c)
{
	send_control(c, CSTP_DISCONNECT, "\xb0Server shutting down", 21);
}

/* Send DISCONNECT (0xb0, text), end the session, close after the flush. */
static struct conn_step disconnect(struct conn *c, const char *text)
{
	uint8_t payload[IPC_REASON_MAX + 1];
	size_t n = strlen(text);

	if (n > IPC_REASON_MAX)
		n = IPC_REASON_MAX;
	/* The client quits on a DISCONNECT and does not reconnect. */
	payload[0] = 0xb0;
	memcpy(payload + 1, text, n);
	if (send_control(c, CSTP_DISCONNECT, payload, (uint16_t)(n + 1)) == -EPIPE)
		return step_close(TLS_SEND_FAILED);
	c->bye = true;
	return (struct conn_step){CS_DRAIN, text};
}

struct conn_step tunnel_on_master(struct conn *c, const struct ipc_msg *m)
{
	if (c->sess_id != m->u.kick.sess_id)
		return step_to(CS_TUNNEL);
	if (m->type == IPC_KICK)
		return step_close("replaced by a newer connection of its session");
	return disconnect(c, "Disconnected by administrator");
}

struct conn_step tunnel_tick(struct conn *c, time_t now, unsigned tick)
{
	/* The client sends DPD after session.dpd idle seconds; three
	 * periods of silence mean it is gone (its session is kept). */
	if (W.cfg->dpd && now - c->last_rx > 3 * (time_t)W.cfg->dpd)
		return step_close("peer dead: no data for 3 DPD periods");
	if (tick % STATS_PERIOD == 0 && (c->ctr.rx_pkts || c->ctr.tx_pkts || c->ctr.drop_queue ||
					 c->ctr.drop_spoofed || c->ctr.drop_malformed))
		chan_report_stats(c);
	return step_to(CS_TUNNEL);
}

static void on_data_frame(struct conn *c, const struct cstp_frame *f)
{
	size_t ip_len;
	enum pkt_verdict v;

	v = pkt_check_client(f->payload, f->len, c->have4 ? &c->v4 : NULL, c->have6 ? &c->v6 : NULL,
			     &ip_len);
	switch (v) {
	case PKT_OK:
		tunio_write(c, f->payload, ip_len);
		break;
	case PKT_SPOOFED:
	case PKT_NOADDR:
		c->ctr.drop_spoofed++;
		break;
	default:
		c->ctr.drop_malformed++;
	}
}

static struct conn_step on_frame(struct conn *c, const struct cstp_frame *f)
{
	switch (f->type) {
	case CSTP_DATA:
		on_data_frame(c, f);
		break;
	case CSTP_DPD_REQ:
		if (send_control(c, CSTP_DPD_RESP, f->payload, f->len) == -EPIPE)
			return step_close(TLS_SEND_FAILED);
		break;
	case CSTP_DPD_RESP:
	case CSTP_KEEPALIVE:
		break;
	case CSTP_DISCONNECT:
		/* 0xb0: the user quit, so the session ends.  Anything else
		 * (pause, reconnecting, no reason) keeps it. */
		c->bye = f->len >= 1 && f->payload[0] == 0xb0;
		log_info("session %u: client disconnected (reason 0x%02x%s)", c->serial,
			 f->len ? f->payload[0] : 0, c->bye ? ", session ends" : "");
		return step_close(c->bye ? "client logged out" : "client disconnected");
	default: /* TERMINATE from a client: treat as a drop of the line */
		return step_close("client sent TERMINATE");
	}
	return step_to(CS_TUNNEL);
}

static struct conn_step bad_frame(struct conn *c, int r)
{
	log_warn("session %u: bad CSTP frame from %s: %s", c->serial, c->peer, cstp_strerror(r));
	return step_close("protocol error");
}

struct conn_step tunnel_on_data(struct conn *c, const uint8_t *buf, size_t len)
{
	struct conn_step st = step_to(CS_TUNNEL);
	struct cstp_frame f;
	size_t max = CSTP_HDR_LEN + c->mtu;
	int r;

	c->last_rx = time(NULL);
	/* The stock client sends one frame per record; a frame split across
	 * records is reassembled in c->part. */
	if (c->part_len) {
		size_t take = max - c->part_len;
		if (take > len)
			take = len;
		memcpy(c->part + c->part_len, buf, take);
		r = cstp_parse(c->part, c->part_len + take, c->mtu, &f);
		if (r == 0) {
			c->part_len = (uint16_t)(c->part_len + take);
			return st;
		}
		if (r < 0)
			return bad_frame(c, r);
		buf += (size_t)r - c->part_len;
		len -= (size_t)r - c->part_len;
		c->part_len = 0;
		st = on_frame(c, &f);
	}
	while (len > 0 && st.next == CS_TUNNEL) {
		r = cstp_parse(buf, len, c->mtu, &f);
		if (r == 0) {
			if (!c->part && !(c->part = malloc(CSTP_HDR_LEN + CSTP_MAX_PAYLOAD)))
				return step_close("out of memory");
			memcpy(c->part, buf, len);
			c->part_len = (uint16_t)len;
			return st;
		}
		if (r < 0)
			return bad_frame(c, r);
		st = on_frame(c, &f);
		buf += r;
		len -= (size_t)r;
	}
	return st;
}
