/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the TUN side of the data path.  Owns the worker's TUN queue fd,
 * its inbox, the lease -> connection map of its tunnels, the TUN write
 * batch and the hand-off and I/O counters.
 *
 * TUN -> client: a packet read from our queue goes to the worker that owns
 * its destination lease (owner[] map, written by the master).  The kernel
 * picks queues by flow hash, so a packet for another worker's client is
 * handed to that worker's inbox (a datagram socket), never dropped for
 * having arrived on the wrong queue.  Ours is framed as CSTP in place and
 * queued with tls_send().
 * client -> TUN: tunnel.c checks each DATA frame and tunio_write() writes
 * it to our queue.
 *
 * With TUN offloads (env->tun_vnet, daemon/tun.c) one syscall moves many
 * packets: a read may return a TCP super-packet of up to 64 KiB, or with
 * USO (env->tun_uso) a UDP one, cut here into packets of the tunnel MTU
 * (UDP: into its datagrams; common/offload.c) for our client, or handed
 * whole, vnet header and all, to the worker of another client (so
 * hand-offs carry what a read gives: vnet form with offloads, plain
 * packets without).  Clients' DATA frames are merged while they continue
 * one TCP flow (or, with USO, one UDP flow of one datagram size), in one
 * batch per flow for up to GRO_SLOTS flows of any clients at once, and
 * written as one super-packet: when a packet does not continue its flow's
 * batch, when a new flow needs the room, when the tunnel stops, and
 * before the loop sleeps (tunio_flush).
 * A pure ACK followed in its batch by a later one of its flow is dropped
 * (common/offload.h, the ACK filter): a download's ACKs, which come one
 * per packet of the client, would each cost a write and, on the server's
 * LAN side, the sender an ACK to process.  TUNNELD_NO_ACK_FILTER=1 turns
 * it off. */
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
#include "common/rules.h"

/* Packets read per wake-up before yielding to others.  Counted in packets,
 * not reads: one read may bring 45 of them, and they must fit the
 * clients' send queues (limits.queue-bytes) until the loop flushes. */
#define TUN_BATCH 64
/* Each packet written to the TUN may bring an answer into the queue we
 * read (an echo reply, a DNS answer): the worker reads the TUN after every
 * TUN_DRAIN_AT packets it wrote, and a wake-up reads as many more as were
 * written since the last (up to TUN_OWED_MAX), so a client's flood of
 * requests (one recv() of 64 KiB holds 2,000 small ones) does not fill
 * that queue, a kernel ring of tx_queue_len (500) packets, and drop other
 * clients' answers there.  Past the queue, a client that does not read
 * loses only its own (limits.queue-bytes). */
#define TUN_DRAIN_AT 256
#define TUN_OWED_MAX 448

/* Reads land after room for the vnet header, which is at least the CSTP
 * header's size, so a packet that needs no cutting is framed in place. */
static uint8_t tun_in[OFFLOAD_BUF_LEN];
/* The super-packets being built for TUN writes: one batch per flow, for
 * up to GRO_SLOTS flows at once (of one client or of several), so
 * interleaved flows still leave in long batches.  A flow is its addresses,
 * protocol and, for TCP and UDP that is not a fragment, its ports
 * (rules_l4_parse walks IPv6 extension headers); a
 * packet without ports (ICMP, fragments, anything else) first writes all
 * batches, and batches are written oldest first, so no packet overtakes
 * one of its flow (nor a fragment its datagram's head). */
#define GRO_SLOTS 4
struct flow_key {
	uint8_t ver, proto;
	bool ports;
	uint8_t addrs[32]; /* source, destination (IPv4: 8 bytes used) */
	uint8_t port[4];
};
struct gro_slot {
	struct offload_gro gro;
	struct conn *conn; /* whose packets it holds; NULL = empty */
	struct flow_key key;
	size_t bytes;	      /* IP bytes of the packets in it */
	enum ctr_proto proto; /* theirs: a batch holds one flow */
	uint64_t born;	      /* batch order, for writing oldest first */
};
static uint8_t tun_out[GRO_SLOTS][OFFLOAD_BUF_LEN];
static struct gro_slot slots[GRO_SLOTS];
static unsigned slots_busy, slots_most;
static uint64_t births, evictions;

static uint32_t *lease_conn; /* lease -> conn index + 1, for our tunnels */

/* For the log lines at stop. */
static uint64_t drop_no_client, handoffs_out, handoffs_in;
static unsigned owed; /* packets written to the TUN since the last read */
static struct {
	uint64_t reads, read_pkts, writes, write_pkts, bad_reads, acks_superseded;
} io; /* packets per TUN syscall */
static struct {
	uint64_t cut, cut_pkts, written, written_pkts;
} super[2]; /* super-packets read and written: [0] TCP, [1] UDP */

int tunio_init(void)
{
	bool filter = !env_set("TUNNELD_NO_ACK_FILTER");

	for (unsigned k = 0; k < GRO_SLOTS; k++) {
		offload_gro_init(&slots[k].gro, tun_out[k], W.env->tun_uso);
		slots[k].gro.ack_filter = filter;
	}
	lease_conn = calloc(W.env->geom.size, sizeof(*lease_conn));
	return lease_conn ? 0 : -ENOMEM;
}

void tunio_map(struct conn *c)
{
	lease_conn[c->lease] = conn_index(c) + 1;
}

bool tunio_pending(void)
{
	return slots_busy > 0;
}

static void write_slot(struct gro_slot *s)
{
	struct conn *c = s->conn;
	unsigned count = s->gro.count, gone = s->gro.superseded;
	bool udp = s->gro.udp;
	size_t n = offload_gro_take(&s->gro);

	s->conn = NULL;
	slots_busy--;
	io.writes++;
	if (write(W.env->tun_fd, s->gro.buf, n) < 0) {
		/* A full TUN queue drops, as a full NIC ring would. */
		c->ctr.drop[DROP_QUEUE] += count + gone;
	} else {
		io.write_pkts += count;
		owed += count;
		io.acks_superseded += gone;
		/* The client sent the ACKs the filter dropped: they count. */
		ctr_rx(&c->ctr, s->proto, count + gone, s->bytes);
		if (count > 1) {
			super[udp].written++;
			super[udp].written_pkts += count;
		}
	}
	s->bytes = 0;
}

/* Write the batches (of c only, unless NULL), oldest first. */
static void write_slots(const struct conn *c)
{
	struct gro_slot *old;

	for (;;) {
		old = NULL;
		for (unsigned k = 0; k < GRO_SLOTS; k++)
			if (slots[k].conn && (!c || slots[k].conn == c) &&
			    (!old || slots[k].born < old->born))
				old = &slots[k];
		if (!old)
			return;
		write_slot(old);
	}
}

void tunio_flush(void)
{
	write_slots(NULL);
}

void tunio_unmap(struct conn *c)
{
	/* Its packets leave now, while its counters are still its own. */
	write_slots(c);
	if (c->lease >= 0 && lease_conn[c->lease] == conn_index(c) + 1)
		lease_conn[c->lease] = 0;
}

/* The flow of a checked packet (tunnel.c: an IPv4 or IPv6 header). */
static void flow_of(const uint8_t *pkt, size_t len, struct flow_key *k)
{
	struct rules_l4 t;

	memset(k, 0, sizeof(*k));
	k->ver = pkt[0] >> 4;
	memcpy(k->addrs, k->ver == 4 ? pkt + 12 : pkt + 8, k->ver == 4 ? 8 : 32);
	if (rules_l4_parse(pkt, len, k->ver == 6, &t) < 0)
		return;
	k->proto = t.proto;
	if ((t.proto == IPPROTO_TCP || t.proto == IPPROTO_UDP) && !t.frag && t.off + 4 <= len) {
		k->ports = true;
		memcpy(k->port, pkt + t.off, 4);
	}
}

/* A slot for a packet of c's flow k: its flow's batch, an empty one or the
 * oldest, written to make room. */
static struct gro_slot *slot_for(const struct conn *c, const struct flow_key *k)
{
	struct gro_slot *empty = NULL, *old = NULL, *s;

	for (unsigned i = 0; i < GRO_SLOTS; i++) {
		s = &slots[i];
		if (!s->conn) {
			empty = empty ? empty : s;
			continue;
		}
		if (s->conn == c && !memcmp(&s->key, k, sizeof(*k)))
			return s;
		if (!old || s->born < old->born)
			old = s;
	}
	if (!empty) {
		evictions++;
		write_slot(old);
		empty = old;
	}
	return empty;
}

/* Queue a checked packet of c for a TUN write. */
static void to_tun_batch(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct flow_key k;
	struct gro_slot *s;

	flow_of(pkt, len, &k);
	if (!k.ports)
		write_slots(NULL);
	s = slot_for(c, &k);
	if (s->conn && offload_gro_add(&s->gro, pkt, len) != OFFLOAD_GRO_FLUSH) {
		s->bytes += len;
		return;
	}
	if (s->conn)
		write_slot(s);
	offload_gro_add(&s->gro, pkt, len); /* an empty batch takes any packet */
	s->conn = c;
	s->key = k;
	s->proto = ctr_proto_of(pkt, len);
	s->bytes = len;
	s->born = births++;
	if (++slots_busy > slots_most)
		slots_most = slots_busy;
}

void tunio_write(struct conn *c, const uint8_t *pkt, size_t len)
{
	if (W.env->tun_vnet) {
		to_tun_batch(c, pkt, len);
	} else {
		io.writes++;
		if (write(W.env->tun_fd, pkt, len) < 0) {
			/* A full TUN queue drops, as a full NIC ring would. */
			c->ctr.drop[DROP_QUEUE]++;
			return;
		}
		io.write_pkts++;
		owed++;
		ctr_rx(&c->ctr, ctr_proto_of(pkt, len), 1, len);
	}
	if (owed >= TUN_DRAIN_AT)
		tunio_on_tun(); /* only queues to clients: safe amid c's records */
}

/* The packet at frame + CSTP_HDR_LEN to c's client: over DTLS when its
 * channel is up (a one-byte header in place), else framed as CSTP. */
static void deliver(struct conn *c, uint8_t *frame, size_t len)
{
	enum ctr_proto p = ctr_proto_of(frame + CSTP_HDR_LEN, len);
	int r;

	if (dtls_active(c)) {
		frame[CSTP_HDR_LEN - 1] = CSTP_DATA;
		r = dtls_send(c, frame + CSTP_HDR_LEN - 1, len + 1);
		if (r == 0) {
			ctr_tx(&c->ctr, p, 1, len);
			c->ctr.dtls_tx_pkts++;
			c->ctr.dtls_tx_bytes += len;
			return;
		}
		/* Too large for a datagram: TLS carries it. */
		if (r != -EMSGSIZE) {
			c->ctr.drop[DROP_QUEUE]++;
			return;
		}
	}
	cstp_put_header(frame, CSTP_DATA, (uint16_t)len);
	r = tls_send(c, frame, CSTP_HDR_LEN + len);
	if (r < 0) {
		if (r == -ENOBUFS)
			c->ctr.drop[DROP_QUEUE]++;
		return;
	}
	ctr_tx(&c->ctr, p, 1, len);
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

/* To our client of the lease: a packet sitting at frame + CSTP_HDR_LEN.
 * A session whose TLS broke this turn takes nothing more; conn.c closes
 * it at the flush. */
static void deliver_lease(int64_t lease, uint8_t *frame, size_t len)
{
	uint32_t ci = lease_conn[lease];
	struct conn *c = ci ? &W.conns[ci - 1] : NULL;

	if (!c || c->state != CS_TUNNEL || c->tls_failed || len > W.cfg->mtu) {
		drop_no_client++;
		return;
	}
	/* Its group's rules: another client's packet it may not get, an
	 * answer of the DNS resolver to rewrite (common/rules.h). */
	if (rules_to_client(&c->grp->rules, &W.env->geom, frame + CSTP_HDR_LEN, len) == RV_C2C) {
		c->ctr.drop[DROP_C2C]++;
		return;
	}
	deliver(c, frame, len);
}

/* To another worker's inbox: buf holds count packets. */
static void hand_off(uint8_t owner, const void *buf, size_t len, unsigned count, bool from_inbox)
{
	/* A packet handed to us is never handed on: if ownership moved again
	 * meanwhile, dropping it beats a loop between workers. */
	if (owner == 0 || from_inbox || owner > W.env->n_workers) {
		drop_no_client += count;
		return;
	}
	if (send(W.env->peer_inbox[owner - 1], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		drop_no_client += count;
	else
		handoffs_out += count;
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
	uint8_t owner, *seg;
	int64_t lease;
	unsigned count;
	int r;

	r = offload_seg_init(&s, buf, len, W.cfg->mtu);
	if (r < 0) {
		io.bad_reads++;
		drop_no_client++;
		return 0;
	}
	count = (unsigned)r;
	owner = owner_of(s.pkt, s.len, &lease);
	if (owner != W.env->id + 1) {
		hand_off(owner, buf, len, count, from_inbox);
		return count;
	}
	if (s.gso) {
		super[s.udp].cut++;
		super[s.udp].cut_pkts += count;
	}
	/* Each packet is framed where it lies; a segment over the end of the
	 * one before, which its client has taken (encrypted) by then. */
	while ((r = offload_seg_next_inplace(&s, &seg)) > 0)
		deliver_lease(lease, seg - CSTP_HDR_LEN, (size_t)r);
	return count;
}

void tunio_on_tun(void)
{
	uint8_t *at = W.env->tun_vnet ? tun_in : tun_in + OFFLOAD_VNET_LEN;
	size_t cap = sizeof(tun_in) - (size_t)(at - tun_in);
	unsigned pkts = 0, budget = TUN_BATCH + (owed < TUN_OWED_MAX ? owed : TUN_OWED_MAX);
	ssize_t n;
	int e;

	owed = 0;
	while (pkts < budget) {
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

void tunio_on_inbox(void)
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
		handoffs_in += k;
		pkts += k ? k : 1;
	}
}

uint64_t tunio_no_client(void)
{
	return drop_no_client;
}

void tunio_log_stats(void)
{
	log_info("stopping: handed off %llu packets to other workers, took %llu, dropped %llu "
		 "with no client",
		 (unsigned long long)handoffs_out, (unsigned long long)handoffs_in,
		 (unsigned long long)drop_no_client);
	log_info("TUN I/O (offloads %s): %llu reads carried %llu packets (%.1f per read), %llu "
		 "writes carried %llu packets (%.1f per write)",
		 W.env->tun_vnet ? "on" : "off", (unsigned long long)io.reads,
		 (unsigned long long)io.read_pkts,
		 io.reads ? (double)io.read_pkts / (double)io.reads : 0.0,
		 (unsigned long long)io.writes, (unsigned long long)io.write_pkts,
		 io.writes ? (double)io.write_pkts / (double)io.writes : 0.0);
	if (W.env->tun_vnet)
		log_info("TUN write batches: up to %u flows at once (of %d), %llu written early "
			 "to make room",
			 slots_most, GRO_SLOTS, (unsigned long long)evictions);
	if (W.env->tun_vnet)
		log_info(
		    "TUN ACK filter %s: %llu pure ACKs superseded by a later one of their flow",
		    slots[0].gro.ack_filter ? "on" : "off", (unsigned long long)io.acks_superseded);
	if (W.env->tun_vnet)
		log_info(
		    "TUN super-packets: cut %llu TCP into %llu segments and %llu UDP into %llu "
		    "datagrams; wrote %llu TCP of %llu segments and %llu UDP of %llu datagrams",
		    (unsigned long long)super[0].cut, (unsigned long long)super[0].cut_pkts,
		    (unsigned long long)super[1].cut, (unsigned long long)super[1].cut_pkts,
		    (unsigned long long)super[0].written, (unsigned long long)super[0].written_pkts,
		    (unsigned long long)super[1].written,
		    (unsigned long long)super[1].written_pkts);
	if (io.bad_reads)
		log_warn("TUN: dropped %llu malformed or unsupported offload packets",
			 (unsigned long long)io.bad_reads);
}
