/* TUN offloads (IFF_VNET_HDR): splitting the TCP and UDP super-packets the
 * kernel hands us into packets that fit the tunnel, and merging a client's
 * TCP segments or same-size UDP datagrams into super-packets for one
 * write().  Pure functions over the caller's buffers, no I/O: used by the
 * worker's data path (worker/tunio.c), unit-tested
 * (tests/unit/check_offload.c) and fuzzed (tests/fuzz/fuzz_offload.c). */
#ifndef TUNNELD_OFFLOAD_H
#define TUNNELD_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ackfilter.h"

/* struct virtio_net_hdr (<linux/virtio_net.h>) as it sits in front of every
 * packet on a TUN fd opened with IFF_VNET_HDR.  The master sets
 * TUNSETVNETLE, so the 16-bit fields are little-endian on any host; they
 * are read and written byte by byte here. */
#define OFFLOAD_VNET_LEN 10
#define OFFLOAD_MAX_IP	 65535 /* an IP packet, super-packets included */
#define OFFLOAD_BUF_LEN	 (OFFLOAD_VNET_LEN + OFFLOAD_MAX_IP)

#define OFFLOAD_F_NEEDS_CSUM 0x01 /* finish the checksum at csum_start + csum_offset */
#define OFFLOAD_F_DATA_VALID 0x02 /* checksum already verified */
#define OFFLOAD_GSO_NONE     0
#define OFFLOAD_GSO_TCPV4    1
#define OFFLOAD_GSO_TCPV6    4
/* VIRTIO_NET_HDR_GSO_UDP_L4 (USO, Linux 6.2; Debian 12's headers lack it):
 * UDP datagrams of gso_size payload each, IPv4 or IPv6 as the packet says. */
#define OFFLOAD_GSO_UDP_L4 5
#define OFFLOAD_GSO_ECN	   0x80 /* with TCPV4/6: CWR goes on the first segment only */
/* At most this many datagrams in a UDP super-packet we write: as many as
 * the kernel's own UDP GRO merges (UDP_GRO_CNT_MAX). */
#define OFFLOAD_UDP_MAX_SEGS 64

struct offload_vnet {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void offload_vnet_get(const uint8_t *buf, struct offload_vnet *h);
void offload_vnet_put(uint8_t *buf, const struct offload_vnet *h);

/* ---- Segmentation (TUN reads) ------------------------------------------ */

/* The most header bytes a segment repeats: IPv4 and TCP options. */
#define OFFLOAD_SEG_HDR_MAX 120

struct offload_seg {
	uint8_t *pkt; /* the IP packet, after the vnet header */
	size_t len;   /* its length */
	bool gso;     /* false: one packet, pkt[0..len) as it is */
	bool v6;
	bool udp;    /* GSO_UDP_L4: datagrams, not TCP segments */
	size_t l4;   /* IP header length = offset of the TCP/UDP header */
	size_t hlen; /* IP + TCP/UDP header length */
	size_t mss;  /* payload bytes per segment (datagram) */
	size_t off;  /* payload bytes already emitted */
	unsigned next, count;
	bool ecn;			  /* GSO_ECN: CWR on the first segment only */
	uint8_t hdr[OFFLOAD_SEG_HDR_MAX]; /* the super-packet's headers */
};

/* Parse buf[0..len): a vnet header and the packet after it.  A packet that
 * is not GSO has its checksum finished in place when the header says
 * NEEDS_CSUM, and the flag cleared, so the buffer can be parsed again (a
 * hand-off to another worker).  A TCP super-packet (GSO_TCPV4/V6) is cut
 * into segments of at most max_pkt bytes (the tunnel MTU) and at most
 * gso_size payload bytes.  A UDP one (GSO_UDP_L4) is cut into datagrams of
 * exactly gso_size payload bytes, the last one shorter: datagram
 * boundaries belong to the application, so they are never cut smaller.
 * Returns the number of packets offload_seg_next() will produce (>= 1), or
 * -EINVAL for a malformed header or packet, -EPROTONOSUPPORT for another
 * GSO type, -EMSGSIZE when max_pkt cannot hold the headers (TCP) or a
 * datagram (UDP).  Never reads outside buf[0..len); every length in the
 * headers is checked against len first. */
int offload_seg_init(struct offload_seg *s, uint8_t *buf, size_t len, size_t max_pkt);

/* Write the next packet to out (cap bytes) with its IP length, IPv4 id and
 * header checksum, TCP sequence number, flags and checksum (UDP: length
 * and checksum) fixed.  Returns its length, 0 when all were produced, or
 * -ENOBUFS if cap is too small. */
int offload_seg_next(struct offload_seg *s, uint8_t *out, size_t cap);

/* The same without copying the payload: the next packet is built where it
 * is, its headers written over the end of the one before (*out points at
 * it).  Only for a reader done with each packet before it asks for the
 * next; the bytes before *out, down to the start of the vnet header, are
 * free for a frame header.  Returns its length or 0 when all were
 * produced. */
int offload_seg_next_inplace(struct offload_seg *s, uint8_t **out);

/* ---- Coalescing (TUN writes) ------------------------------------------- */

/* One super-packet being built in the caller's buffer (OFFLOAD_BUF_LEN
 * bytes): consecutive TCP segments of one flow are appended while they
 * continue it exactly (next sequence number, same addresses, ports, ack,
 * window, options, IP fields), the way the kernel's GRO would merge them;
 * with uso, so are UDP datagrams of one flow (same IP fields, addresses
 * and ports) and one payload size, a shorter one ending the batch. */
struct offload_gro {
	uint8_t *buf;
	bool uso;	/* the device takes GSO_UDP_L4: UDP may be merged */
	size_t len;	/* bytes in buf, vnet header included; 0 = empty */
	unsigned count; /* packets in it */
	bool open;	/* a flow that may take more packets */
	bool v6, udp;
	size_t l4, hlen; /* of the first packet */
	size_t gso;	 /* payload of the first packet = segment size */
	uint32_t next_seq;
	uint16_t next_id; /* UDP over IPv4 without DF: the next IP id */
	/* ACK filter (common/ackfilter.h): a batch that is one pure ACK
	 * (ack_only) is replaced by a later pure ACK of its flow that says
	 * all it says; superseded counts those replaced since the last take.
	 * Off unless set. */
	bool ack_filter;
	bool ack_only;
	struct ackf ack; /* what the batch's pure ACK tells */
	unsigned superseded;
};

enum offload_gro_res {
	OFFLOAD_GRO_FLUSH = 0, /* does not continue the batch: take it, then add again */
	OFFLOAD_GRO_ADDED = 1,
	OFFLOAD_GRO_REPLACED = 2, /* a pure ACK took the place of an older one */
};

/* uso: the device was given TUN_F_USO4|USO6, so UDP datagrams may be merged. */
void offload_gro_init(struct offload_gro *g, uint8_t *buf, bool uso);

/* Add the IP packet pkt[0..len) (len = its IP length, at most
 * OFFLOAD_MAX_IP).  An empty batch takes any packet.  Only these can be
 * continued: TCP segments with payload, ACK set, no SYN/FIN/RST/URG/CWR,
 * valid checksum and (IPv4) DF set and no options; with uso, UDP datagrams
 * with payload, a UDP length that matches the IP length, a valid non-zero
 * checksum, (IPv4) no options, not a fragment, and either DF set or the
 * IPv4 id following the previous one (so the kernel's segments get the
 * very ids they had), at most OFFLOAD_UDP_MAX_SEGS of them.  With ack_filter, a batch of
 * one pure TCP ACK is overwritten by a later one of its flow that tells the
 * sender all it tells (common/ackfilter.h).  Returns enum
 * offload_gro_res. */
int offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len);

/* Finish the batch for one write(): a lone packet gets a zero vnet header
 * and goes out as it came; several become one super-packet with the IP
 * length (and IPv4 header checksum) set, GSO_TCPV4/V6 or GSO_UDP_L4 (and
 * the UDP length set to the whole), gso_size = the first packet's payload,
 * NEEDS_CSUM and the pseudo-header sum in the TCP/UDP checksum field, as
 * the kernel expects of a CHECKSUM_PARTIAL packet.  Returns the bytes to
 * write from g->buf and empties the batch (0 if it was empty). */
size_t offload_gro_take(struct offload_gro *g);

/* ---- Checksum helpers (also used by the tests) ------------------------- */

/* Ones' complement sum of buf[0..len) added to sum, unfolded.  Sums of
 * pieces may be added when every piece but the last has an even length. */
uint64_t offload_csum_add(uint64_t sum, const uint8_t *buf, size_t len);
/* Fold to 16 bits; the result is in memory order (memcpy it to the
 * checksum field). */
uint16_t offload_csum_fold(uint64_t sum);
/* Sum of the TCP/UDP pseudo-header of the IPv4 or IPv6 packet pkt. */
uint64_t offload_csum_pseudo(const uint8_t *pkt, bool v6, uint8_t proto, size_t l4_len);

#endif
