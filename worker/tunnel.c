/* Worker: the CSTP data path (PROTOCOL.md section 5).  Owns the worker's
 * TUN queue fd, its inbox and the lease -> connection map of its tunnels.
 *
 * TUN -> client: a packet read from our queue goes to the worker that owns
 * its destination lease (owner[] map, written by the master).  The kernel
 * picks queues by flow hash, so a packet for another worker's client is
 * handed to that worker's inbox (a datagram socket), never dropped for
 * having arrived on the wrong queue.
 * client -> TUN: each DATA frame is checked (well-formed IP, source = the
 * client's lease) and written to our queue.
 *
 * With TUN offloads (env->tun_vnet, daemon/tun.c) one syscall moves many
 * packets: a read may return a TCP super-packet of up to 64 KiB, cut here
 * into packets of the tunnel MTU (common/offload.c) for our client, or
 * handed whole, vnet header and all, to the worker of another client (so
 * hand-offs carry what a read gives: vnet form with offloads, plain
 * packets without).  A client's DATA frames of one loop turn are merged
 * while they continue one TCP flow and written as one super-packet: when
 * another client's packet or one that does not continue the flow comes,
 * when the tunnel stops, and once per loop turn before the loop sleeps
 * (tunnel_flush_tun). */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cstp.h"
#include "common/log.h"
#include "common/offload.h"

/* Packets read per wake-up before yielding to others.  Counted in packets,
 * not reads: one read may bring 45 of them, and they must fit the
 * clients' send queues (limits.queue-bytes) until the loop flushes. */
#define TUN_BATCH 64

/* Reads land after room for the vnet header, which is at least the CSTP
 * header's size, so a packet that needs no cutting is framed in place. */
static uint8_t tun_in[OFFLOAD_BUF_LEN];
/* The super-packet being built for one write, and whose packets it holds. */
static uint8_t tun_out[OFFLOAD_BUF_LEN];
static struct offload_gro gro = {.buf = tun_out};
static struct conn *gro_conn;
static size_t gro_bytes; /* IP bytes of the packets in it */

/* For the log line at stop: packets per TUN syscall. */
static struct {
	uint64_t reads, read_pkts, writes, write_pkts, bad_reads;
} io;

void tunnel_start(struct conn *c)
{
	const struct pool_geom *g = &W.env->geom;

	c->have4 = g->have4;
	c->have6 = c->have6 && g->have6;
	if (c->have4)
		pool_addr4(g, (uint32_t)c->lease, &c->v4);
	if (c->have6)
		pool_addr6(g, (uint32_t)c->lease, &c->v6);
	c->mtu = (uint16_t)W.cfg->mtu;
	c->state = CS_TUNNEL;
	conn_pending_done(c);
	c->deadline = 0;
	c->last_rx = time(NULL);
	W.lease_conn[c->lease] = conn_index(c) + 1;
}

void tunnel_stop(struct conn *c)
{
	/* Its packets leave now, while its counters are still its own. */
	if (gro_conn == c)
		tunnel_flush_tun();
	if (c->lease >= 0 && W.lease_conn[c->lease] == conn_index(c) + 1)
		W.lease_conn[c->lease] = 0;
}

void tunnel_send_control(struct conn *c, uint8_t type, const void *payload, uint16_t len)
{
	uint8_t frame[CSTP_HDR_LEN + CSTP_MAX_PAYLOAD];

	if (len > CSTP_MAX_PAYLOAD)
		len = CSTP_MAX_PAYLOAD;
	cstp_put_header(frame, type, len);
	memcpy(frame + CSTP_HDR_LEN, payload, len);
	tls_send(c, frame, CSTP_HDR_LEN + (size_t)len);
}

void tunnel_disconnect(struct conn *c, const char *text)
{
	uint8_t payload[IPC_REASON_MAX + 1];
	size_t n = strlen(text);

	if (n > IPC_REASON_MAX)
		n = IPC_REASON_MAX;
	/* The client quits on a DISCONNECT and does not reconnect. */
	payload[0] = 0xb0;
	memcpy(payload + 1, text, n);
	tunnel_send_control(c, CSTP_DISCONNECT, payload, (uint16_t)(n + 1));
	if (c->state != CS_TUNNEL)
		return; /* the send failed and closed it */
	log_info("session %u: %s", c->serial, text);
	tunnel_stop(c);
	worker_report_closed(c, true, text);
	gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	c->state = CS_DRAIN; /* closed once the frame is out */
	conn_mark_dirty(c);
}

bool tunnel_tun_pending(void)
{
	return gro_conn != NULL && gro.count > 0;
}

void tunnel_flush_tun(void)
{
	struct conn *c = gro_conn;
	unsigned count = gro.count;
	size_t n = offload_gro_take(&gro);

	gro_conn = NULL;
	if (n == 0) {
		gro_bytes = 0;
		return;
	}
	io.writes++;
	if (write(W.env->tun_fd, tun_out, n) < 0) {
		/* A full TUN queue drops, as a full NIC ring would. */
		c->ctr.drop_queue += count;
	} else {
		io.write_pkts += count;
		c->ctr.rx_pkts += count;
		c->ctr.rx_bytes += gro_bytes;
	}
	gro_bytes = 0;
}

/* Queue a checked packet of c for the next TUN write. */
static void to_tun_batch(struct conn *c, const uint8_t *pkt, size_t len)
{
	if (gro_conn != c)
		tunnel_flush_tun();
	if (offload_gro_add(&gro, pkt, len) == OFFLOAD_GRO_FLUSH) {
		tunnel_flush_tun();
		offload_gro_add(&gro, pkt, len); /* an empty batch takes any packet */
	}
	gro_conn = c;
	gro_bytes += len;
}

static void on_data_frame(struct conn *c, const struct cstp_frame *f)
{
	size_t ip_len;
	enum pkt_verdict v;

	v = pkt_check_client(f->payload, f->len, c->have4 ? &c->v4 : NULL, c->have6 ? &c->v6 : NULL,
			     &ip_len);
	switch (v) {
	case PKT_OK:
		break;
	case PKT_SPOOFED:
	case PKT_NOADDR:
		c->ctr.drop_spoofed++;
		return;
	default:
		c->ctr.drop_malformed++;
		return;
	}
	if (W.env->tun_vnet) {
		to_tun_batch(c, f->payload, ip_len);
		return;
	}
	io.writes++;
	if (write(W.env->tun_fd, f->payload, ip_len) < 0) {
		/* A full TUN queue drops, as a full NIC ring would. */
		c->ctr.drop_queue++;
		return;
	}
	io.write_pkts++;
	c->ctr.rx_pkts++;
	c->ctr.rx_bytes += ip_len;
}

/* Returns false when the connection was closed. */
static bool on_frame(struct conn *c, const struct cstp_frame *f)
{
	switch (f->type) {
	case CSTP_DATA:
		on_data_frame(c, f);
		return true;
	case CSTP_DPD_REQ:
		tunnel_send_control(c, CSTP_DPD_RESP, f->payload, f->len);
		return c->state == CS_TUNNEL;
	case CSTP_DPD_RESP:
	case CSTP_KEEPALIVE:
		return true;
	case CSTP_DISCONNECT:
		/* 0xb0: the user quit, so the session ends.  Anything else
		 * (pause, reconnecting, no reason) keeps it. */
		c->bye = f->len >= 1 && f->payload[0] == 0xb0;
		log_info("session %u: client disconnected (reason 0x%02x%s)", c->serial,
			 f->len ? f->payload[0] : 0, c->bye ? ", session ends" : "");
		conn_close(c, c->bye ? "client logged out" : "client disconnected");
		return false;
	default: /* TERMINATE from a client: treat as a drop of the line */
		conn_close(c, "client sent TERMINATE");
		return false;
	}
}

void tunnel_on_data(struct conn *c, const uint8_t *buf, size_t len)
{
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
			return;
		}
		if (r < 0)
			goto bad;
		buf += (size_t)r - c->part_len;
		len -= (size_t)r - c->part_len;
		c->part_len = 0;
		if (!on_frame(c, &f))
			return;
	}
	while (len > 0) {
		r = cstp_parse(buf, len, c->mtu, &f);
		if (r == 0) {
			if (!c->part && !(c->part = malloc(CSTP_HDR_LEN + CSTP_MAX_PAYLOAD))) {
				conn_close(c, "out of memory");
				return;
			}
			memcpy(c->part, buf, len);
			c->part_len = (uint16_t)len;
			return;
		}
		if (r < 0)
			goto bad;
		if (!on_frame(c, &f))
			return;
		buf += r;
		len -= (size_t)r;
	}
	return;
bad:
	log_warn("session %u: bad CSTP frame from %s: %s", c->serial, c->peer, cstp_strerror(r));
	conn_close(c, "protocol error");
}

static void deliver(struct conn *c, uint8_t *frame, size_t len)
{
	cstp_put_header(frame, CSTP_DATA, (uint16_t)len);
	if (tls_send(c, frame, CSTP_HDR_LEN + len) < 0) {
		if (c->state == CS_TUNNEL)
			c->ctr.drop_queue++;
		return;
	}
	c->ctr.tx_pkts++;
	c->ctr.tx_bytes += len;
}

static int64_t lease_of(const uint8_t *pkt, size_t len)
{
	const uint8_t *dst;
	uint32_t a4;

	switch (pkt_dst(pkt, len, &dst)) {
	case AF_INET:
		memcpy(&a4, dst, 4);
		return pool_index4(&W.env->geom, a4);
	case AF_INET6:
		return pool_index6_bytes(&W.env->geom, dst);
	default:
		return -1;
	}
}

/* Owner of the destination of pkt: 0 = nobody, else worker id + 1. */
static uint8_t owner_of(const uint8_t *pkt, size_t len, int64_t *lease)
{
	*lease = lease_of(pkt, len);
	if (*lease < 0)
		return 0;
	return __atomic_load_n(&W.env->owner[*lease], __ATOMIC_ACQUIRE);
}

/* To our client of the lease: a packet sitting at frame + CSTP_HDR_LEN. */
static void deliver_lease(int64_t lease, uint8_t *frame, size_t len)
{
	uint32_t ci = W.lease_conn[lease];

	if (ci && W.conns[ci - 1].state == CS_TUNNEL && len <= W.cfg->mtu)
		deliver(&W.conns[ci - 1], frame, len);
	else
		W.drop_no_client++;
}

/* To another worker's inbox: buf holds count packets. */
static void hand_off(uint8_t owner, const void *buf, size_t len, unsigned count, bool from_inbox)
{
	/* A packet handed to us is never handed on: if ownership moved again
	 * meanwhile, dropping it beats a loop between workers. */
	if (owner == 0 || from_inbox || owner > W.env->n_workers) {
		W.drop_no_client += count;
		return;
	}
	if (send(W.env->peer_inbox[owner - 1], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		W.drop_no_client += count;
	else
		W.handoffs_out += count;
}

/* Without offloads: one packet sitting at frame + CSTP_HDR_LEN. */
static void route(uint8_t *frame, size_t len, bool from_inbox)
{
	uint8_t *pkt = frame + CSTP_HDR_LEN;
	int64_t lease;
	uint8_t owner = owner_of(pkt, len, &lease);

	if (owner == W.env->id + 1)
		deliver_lease(lease, frame, len);
	else
		hand_off(owner, pkt, len, 1, from_inbox);
}

/* With offloads: buf[0..len) is what one read (or one hand-off) brought,
 * vnet header first.  Every packet of a super-packet has the same
 * destination, so another worker's is handed over whole, in this same
 * form: one send instead of one per segment.  Returns the packets in it. */
static unsigned route_vnet(uint8_t *buf, size_t len, bool from_inbox)
{
	struct offload_seg s;
	uint8_t *frame = W.scratch, owner;
	int64_t lease;
	unsigned count;
	int r;

	r = offload_seg_init(&s, buf, len, W.cfg->mtu);
	if (r < 0) {
		io.bad_reads++;
		W.drop_no_client++;
		return 0;
	}
	count = (unsigned)r;
	owner = owner_of(s.pkt, s.len, &lease);
	if (owner != W.env->id + 1) {
		hand_off(owner, buf, len, count, from_inbox);
		return count;
	}
	if (!s.gso) {
		deliver_lease(lease, buf + OFFLOAD_VNET_LEN - CSTP_HDR_LEN, s.len);
		return 1;
	}
	while ((r = offload_seg_next(&s, frame + CSTP_HDR_LEN, W.scratch_cap - CSTP_HDR_LEN)) > 0)
		deliver_lease(lease, frame, (size_t)r);
	return count;
}

void tunnel_on_tun(void)
{
	uint8_t *at = W.env->tun_vnet ? tun_in : tun_in + OFFLOAD_VNET_LEN;
	size_t cap = sizeof(tun_in) - (size_t)(at - tun_in);
	unsigned pkts = 0;
	ssize_t n;
	int e;

	while (pkts < TUN_BATCH) {
		n = read(W.env->tun_fd, at, cap);
		if (n < 0) {
			e = errno;
			if (e != EAGAIN && e != EINTR) {
				log_errno(-e, "TUN read");
				if (e == EBADFD || e == ENODEV || e == EIO) {
					log_err("TUN device %s is gone; exiting", W.cfg->tun_name);
					exit(WORKER_EXIT_TUN_GONE);
				}
			}
			return;
		}
		io.reads++;
		if (W.env->tun_vnet) {
			unsigned k = route_vnet(tun_in, (size_t)n, false);
			io.read_pkts += k;
			pkts += k ? k : 1;
		} else {
			route(at - CSTP_HDR_LEN, (size_t)n, false);
			io.read_pkts++;
			pkts++;
		}
	}
}

void tunnel_log_io(void)
{
	log_info("TUN I/O (offloads %s): %llu reads carried %llu packets (%.1f per read), %llu "
		 "writes carried %llu packets (%.1f per write)",
		 W.env->tun_vnet ? "on" : "off", (unsigned long long)io.reads,
		 (unsigned long long)io.read_pkts,
		 io.reads ? (double)io.read_pkts / (double)io.reads : 0.0,
		 (unsigned long long)io.writes, (unsigned long long)io.write_pkts,
		 io.writes ? (double)io.write_pkts / (double)io.writes : 0.0);
	if (io.bad_reads)
		log_warn("TUN: dropped %llu malformed or unsupported offload packets",
			 (unsigned long long)io.bad_reads);
}

void tunnel_on_inbox(void)
{
	uint8_t *at = W.env->tun_vnet ? tun_in : tun_in + OFFLOAD_VNET_LEN;
	size_t cap = sizeof(tun_in) - (size_t)(at - tun_in);
	unsigned pkts = 0, k;
	ssize_t n;

	/* Hand-offs come in the form our own reads have: vnet header first
	 * with offloads, plain packets without. */
	while (pkts < TUN_BATCH) {
		n = recv(W.env->inbox_fd, at, cap, MSG_DONTWAIT);
		if (n <= 0)
			return;
		if (W.env->tun_vnet) {
			k = route_vnet(tun_in, (size_t)n, true);
		} else {
			route(at - CSTP_HDR_LEN, (size_t)n, true);
			k = 1;
		}
		W.handoffs_in += k;
		pkts += k ? k : 1;
	}
}
