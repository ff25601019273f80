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
#include "common/rules.h"

#define RESP_MAX     8192
#define STATS_PERIOD 10 /* ticks (s) between counter reports to the master */
/* The CSTP rekey period told to clients: one year, as a 32-bit number. */
#define CSTP_REKEY_ADVERTISED 31536000u

static size_t put_routes(const struct conn *c, char *p, size_t cap)
{
	const struct pol_group *grp = c->grp;
	char a[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	size_t n = 0;
	/* The session's own routes (RADIUS) add to a split tunnel; a full
	 * tunnel carries them anyway. */
	unsigned i, own = grp->n_routes && c->granted ? c->granted->u.connect_resp.n_routes : 0;

	for (i = 0; i < grp->n_routes + own && n < cap; i++) {
		const struct cfg_prefix *r =
		    i < grp->n_routes ? &grp->routes[i]
				      : &c->granted->u.connect_resp.routes[i - grp->n_routes];
		int w;
		if (cisco_skip_route(c, r))
			continue;
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

/* The session's lifetimes as Cisco's headers say them (PROTOCOL.md 4.3):
 * the idle time, the lifetime and what is left of it (a reconnect gets
 * less), "none" when not set.  session.idle-timeout and max-lifetime, or
 * the session's own (RADIUS Idle-Timeout, Session-Timeout) where they are
 * set: the shorter lifetime is the one the master enforces first.
 * Length, or -1. */
static int put_lifetimes(const struct conn *c, char *out, size_t cap)
{
	const struct cfg *cfg = W.cfg;
	uint32_t own_left = c->granted ? c->granted->u.connect_resp.session_left : 0;
	uint32_t own_idle = c->granted ? c->granted->u.connect_resp.idle_timeout : 0;
	unsigned idle = own_idle ? own_idle : cfg->idle_timeout, total = cfg->max_lifetime;
	long left = 0;
	int w;

	if (cfg->max_lifetime) {
		left = (long)(c->created + (time_t)cfg->max_lifetime - time(NULL));
		left = left > 1 ? left : 1;
	}
	if (own_left && (!left || (long)own_left < left))
		left = (long)own_left, total = own_left;
	if (idle)
		w = snprintf(out, cap, "X-CSTP-Idle-Timeout: %u\r\n", idle);
	else
		w = snprintf(out, cap, "X-CSTP-Idle-Timeout: none\r\n");
	if (w < 0 || (size_t)w >= cap)
		return -1;
	if (left)
		w += snprintf(out + w, cap - (size_t)w,
			      "X-CSTP-Session-Timeout: %u\r\n"
			      "X-CSTP-Session-Timeout-Remaining: %ld\r\n",
			      total, left);
	else
		w += snprintf(out + w, cap - (size_t)w, "X-CSTP-Session-Timeout: none\r\n");
	return (size_t)w >= cap ? -1 : w;
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
	/* The netmask of the group's pool, else of the network pool. */
	if (c->have4) {
		unsigned len = c->grp->len4 ? c->grp->len4 : g->len4;
		struct in_addr m = {htonl(len ? ~0u << (32 - len) : 0)};
		inet_ntop(AF_INET, &c->v4, a, sizeof(a));
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
		PUT("X-CSTP-Address: %s\r\nX-CSTP-Netmask: %s\r\n", a, mask);
	}
	if (c->have6) {
		inet_ntop(AF_INET6, &c->v6, a, sizeof(a));
		PUT("X-CSTP-Address-IP6: %s/%u\r\n", a, c->grp->len6 ? c->grp->len6 : g->len6);
	}
	for (i = 0; i < c->grp->n_dns; i++) {
		const struct cfg_addr *d = &c->grp->dns[i];
		/* Cisco's client wants IPv6 ones in X-CSTP-DNS-IP6 (cisco.c). */
		if (c->cisco && d->family == AF_INET6)
			continue;
		inet_ntop(d->family, &d->u, a, sizeof(a));
		PUT("X-CSTP-DNS: %s\r\n", a);
	}
	if (login_banner()[0])
		PUT("X-CSTP-Banner: %s\r\n", login_banner());
	n += put_routes(c, out + n, cap - n);
	w = cisco_connect_headers(c, out + n, cap - n);
	if (w < 0)
		return -1;
	n += (size_t)w;
	/* Rekey "ssl" (Cisco Secure Client 5.1 refuses "none") after a year:
	 * the server updates the TLS keys itself every session.rekey-time
	 * (tunnel_tick), and a client's KeyUpdate crossing the server's has
	 * broken sessions (GnuTLS, FIELD.md section 5). */
	PUT("X-CSTP-Keepalive: %u\r\nX-CSTP-DPD: %u\r\n", cfg->keepalive, cfg->dpd);
	w = put_lifetimes(c, out + n, cap - n);
	if (w < 0)
		return -1;
	n += (size_t)w;
	PUT("X-CSTP-Disconnected-Timeout: %u\r\n"
	    "X-CSTP-Keep: true\r\nX-CSTP-Rekey-Method: ssl\r\nX-CSTP-Rekey-Time: %u\r\n"
	    "X-CSTP-MTU: %u\r\n",
	    cfg->reconnect_timeout, CSTP_REKEY_ADVERTISED, c->mtu);
	w = dtls_headers(c, out + n, cap - n);
	if (w < 0)
		return -1;
	n += (size_t)w;
	PUT("\r\n");
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
	c->mtu = (uint16_t)dtls_open(c, W.cfg->mtu);
	c->last_rx = c->rekeyed = time(NULL);
	c->pol = policy_get(W.policy); /* c->grp points into it */
	tunio_map(c);
	n = build_connected(c, resp, sizeof(resp));
	c->granted = NULL; /* the master's message is gone after this call */
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
	dtls_close(c);
	chan_report_closed(c, c->bye, why);
	policy_put(c->pol);
	c->pol = NULL;
	c->grp = NULL;
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

/* The master learns where the tunnel's data flows (tunnelctl, the DTLS
 * steering map); handshake: a handshake started, steer its peer here. */
static void report_dtls(struct conn *c, bool handshake)
{
	struct ipc_msg m = {.type = IPC_DTLS, .ref = {conn_index(c), c->gen}};

	m.u.dtls.sess_id = c->sess_id;
	dtls_report(c, &m, handshake);
	chan_send(&m);
}

/* The TLS 1.3 keys are updated by the server at session.rekey-time (the
 * client was told "ssl" with that period); TLS 1.2 has no key update. */
static struct conn_step rekey(struct conn *c, time_t now)
{
	int r;

	c->rekeyed = now;
	if (gnutls_protocol_get_version(c->tls) != GNUTLS_TLS1_3)
		return step_to(CS_TUNNEL);
	r = gnutls_session_key_update(c->tls, 0);
	if (r < 0 && r != GNUTLS_E_AGAIN) {
		log_info("session %u: TLS key update failed: %s", c->serial, gnutls_strerror(r));
		return step_close(TLS_SEND_FAILED);
	}
	log_debug("session %u: TLS keys updated", c->serial);
	return step_to(CS_TUNNEL);
}

struct conn_step tunnel_tick(struct conn *c, time_t now, unsigned tick)
{
	/* The client sends DPD after session.dpd idle seconds; three
	 * periods of silence mean it is gone (its session is kept). */
	if (W.cfg->dpd && now - c->last_rx > 3 * (time_t)W.cfg->dpd)
		return step_close("peer dead: no data for 3 DPD periods");
	/* The session's lifetimes end it: the client quits and its cookie
	 * goes (the master ends the session on the report). */
	if (W.cfg->max_lifetime && now - c->created >= (time_t)W.cfg->max_lifetime)
		return disconnect(c, "Session expired (session.max-lifetime)");
	if (W.cfg->idle_timeout && now - c->last_active >= (time_t)W.cfg->idle_timeout)
		return disconnect(c, "Idle timeout (session.idle-timeout)");
	if (dtls_down(c, now))
		report_dtls(c, false);
	if (tick % STATS_PERIOD == 0 && sess_counters_any(&c->ctr))
		chan_report_stats(c);
	if (now - c->rekeyed >= (time_t)W.cfg->rekey_time)
		return rekey(c, now);
	return step_to(CS_TUNNEL);
}

/* A checked packet against the group's rules (common/rules.h): NULL when
 * it is dropped (counted by reason), else the packet to write, a query to
 * the intercept address rewritten in a copy (records are GnuTLS's). */
static const uint8_t *apply_rules(struct conn *c, const uint8_t *pkt, size_t len)
{
	static uint8_t dns[CSTP_MAX_PAYLOAD];

	switch (rules_from_client(&c->grp->rules, &W.env->geom, pkt, len)) {
	case RV_PASS:
		return pkt;
	case RV_DNS:
		if (len > sizeof(dns))
			return pkt;
		memcpy(dns, pkt, len);
		rules_dns_rewrite(&c->grp->rules, dns, len);
		c->ctr.dns_intercepted++;
		return dns;
	case RV_C2C:
		c->ctr.drop[DROP_C2C]++;
		return NULL;
	case RV_NONGLOBAL:
		c->ctr.drop[DROP_NONGLOBAL]++;
		return NULL;
	case RV_PROTOCOL:
		c->ctr.drop[DROP_PROTOCOL]++;
		return NULL;
	case RV_PORT:
		c->ctr.drop[DROP_PORT]++;
		return NULL;
	default: /* RV_MALFORMED */
		c->ctr.drop[DROP_MALFORMED]++;
		return NULL;
	}
}

/* A packet from the client, over TLS or DTLS: checked, then to the TUN. */
static void packet_in(struct conn *c, const uint8_t *pkt, size_t len, bool dtls)
{
	size_t ip_len;
	enum pkt_verdict v;

	v = pkt_check_client(pkt, len, c->have4 ? &c->v4 : NULL, c->have6 ? &c->v6 : NULL, &ip_len);
	switch (v) {
	case PKT_OK:
		pkt = apply_rules(c, pkt, ip_len);
		if (!pkt)
			break;
		c->last_active = c->last_rx; /* data that passes counts as activity */
		if (dtls) {
			c->ctr.dtls_rx_pkts++;
			c->ctr.dtls_rx_bytes += ip_len;
		}
		tunio_write(c, pkt, ip_len);
		break;
	case PKT_SPOOFED:
	case PKT_NOADDR:
		c->ctr.drop[DROP_SPOOFED]++;
		break;
	default:
		c->ctr.drop[DROP_MALFORMED]++;
	}
}

static void on_data_frame(struct conn *c, const struct cstp_frame *f)
{
	/* Data over TLS: the client has no DTLS channel just now, so neither
	 * should the packets to it. */
	dtls_hint_tls(c);
	packet_in(c, f->payload, f->len, false);
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

/* One DTLS record: the type byte, then the payload (PROTOCOL.md 6.3). */
static void dtls_record_in(struct conn *c, const uint8_t *rec, size_t len)
{
	static uint8_t echo[CSTP_HDR_LEN + CSTP_MAX_PAYLOAD];

	c->last_rx = time(NULL);
	switch (rec[0]) {
	case CSTP_DATA:
		packet_in(c, rec + 1, len - 1, true);
		break;
	case CSTP_DPD_REQ:
		/* Also the client's MTU probe: the answer must come back at
		 * the same length with the same bytes. */
		if (len > sizeof(echo))
			break;
		memcpy(echo, rec, len);
		echo[0] = CSTP_DPD_RESP;
		if (dtls_send(c, echo, len) == 0)
			break;
		log_debug("session %u: DTLS DPD answer of %zu bytes not sent", c->serial, len);
		break;
	default: /* DPD-RESP, KEEPALIVE: liveness only; anything else is ignored */
		break;
	}
}

struct conn_step tunnel_on_dgram(struct conn *c, const struct udp_peer *from, const uint8_t *d,
				 size_t n)
{
	const uint8_t *rec;
	ssize_t len;

	switch (dtls_input(c, from, d, n)) {
	case DTLS_IN_NONE:
		return step_to(CS_TUNNEL);
	case DTLS_IN_STARTED:
		report_dtls(c, true);
		return step_to(CS_TUNNEL);
	case DTLS_IN_UP:
		report_dtls(c, false);
		log_info("session %u: DTLS up", c->serial);
		return step_to(CS_TUNNEL);
	case DTLS_IN_REBOUND:
		report_dtls(c, false);
		log_info("session %u: DTLS from a new address of the client", c->serial);
		break;
	case DTLS_IN_RECORDS:
		break;
	}
	while ((len = dtls_record(c, &rec)) > 0)
		dtls_record_in(c, rec, (size_t)len);
	if (len < 0 && dtls_shut(c))
		report_dtls(c, false);
	return step_to(CS_TUNNEL);
}
