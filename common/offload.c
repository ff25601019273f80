/* Worker (unprivileged), data path: segmentation of the TCP and UDP
 * super-packets read from the TUN device and coalescing of a client's TCP
 * segments and UDP datagrams into super-packets written to it
 * (IFF_VNET_HDR, TUNSETOFFLOAD).  Owns nothing; every function is pure over
 * the caller's buffers.
 *
 * Checksums are summed in memory order, 8 bytes at a time with the carry
 * added back (RFC 1071: the ones' complement sum does not depend on byte
 * order as long as it is stored the way it was summed). */
#include "config.h"
#include "common/offload.h"

#include <errno.h>
#include <string.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_CWR 0x80

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_CSUM_OFF 16
#define UDP_HLEN     8
#define UDP_CSUM_OFF 6
#define IP4_DF	     0x4000
#define IP4_FRAG     0x3fff /* MF and the fragment offset */

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void offload_vnet_get(const uint8_t *buf, struct offload_vnet *h)
{
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = le16(buf + 2);
	h->gso_size = le16(buf + 4);
	h->csum_start = le16(buf + 6);
	h->csum_offset = le16(buf + 8);
}

void offload_vnet_put(uint8_t *buf, const struct offload_vnet *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	put_le16(buf + 2, h->hdr_len);
	put_le16(buf + 4, h->gso_size);
	put_le16(buf + 6, h->csum_start);
	put_le16(buf + 8, h->csum_offset);
}

/* ---- checksums ----------------------------------------------------------- */

uint64_t offload_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t w, a = 0, b = 0, c = 0, d = 0;
	uint32_t q[4];

	/* 2^32 = 1 (mod 2^16 - 1) too: 32-bit words summed into four
	 * independent 64-bit accumulators (no carry to chase; 2^32 words
	 * before one could overflow) run ~1.7x faster than one carry chain. */
	while (n >= 16) {
		memcpy(q, p, 16);
		a += q[0];
		b += q[1];
		c += q[2];
		d += q[3];
		p += 16;
		n -= 16;
	}
	w = (a + b) + (c + d);
	sum += w;
	sum += sum < w;
	/* 2^64 = 1 (mod 2^16 - 1): a carry out of 64 bits is worth 1. */
	while (n >= 8) {
		memcpy(&w, p, 8);
		sum += w;
		sum += sum < w;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint8_t t[8] = {0};
		memcpy(t, p, n);
		memcpy(&w, t, 8);
		sum += w;
		sum += sum < w;
	}
	return sum;
}

uint16_t offload_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t offload_csum_pseudo(const uint8_t *pkt, bool v6, uint8_t proto, size_t l4_len)
{
	uint8_t t[8] = {0};

	if (!v6) {
		t[1] = proto;
		put16(t + 2, l4_len);
		return offload_csum_add(offload_csum_add(0, pkt + 12, 8), t, 4);
	}
	put32(t, (uint32_t)l4_len);
	t[7] = proto;
	return offload_csum_add(offload_csum_add(0, pkt + 8, 32), t, 8);
}

static void store_csum(uint8_t *at, uint16_t c)
{
	memcpy(at, &c, 2);
}

/* IPv4 header checksum over the first ihl bytes, field zeroed first. */
static void ip4_fix_csum(uint8_t *ip, size_t ihl)
{
	ip[10] = ip[11] = 0;
	store_csum(ip + 10, (uint16_t)~offload_csum_fold(offload_csum_add(0, ip, ihl)));
}

/* Full TCP or UDP checksum of pkt[l4..len). */
static void l4_fix_csum(uint8_t *pkt, bool v6, bool udp, size_t l4, size_t len)
{
	uint8_t *at = pkt + l4 + (udp ? UDP_CSUM_OFF : TCP_CSUM_OFF);
	uint64_t sum;
	uint16_t c;

	at[0] = at[1] = 0;
	sum = offload_csum_pseudo(pkt, v6, udp ? IPPROTO_UDP_ : IPPROTO_TCP_, len - l4);
	c = (uint16_t)~offload_csum_fold(offload_csum_add(sum, pkt + l4, len - l4));
	/* 0 means "no checksum" to UDP; 0xffff is the same sum. */
	store_csum(at, c || !udp ? c : 0xffff);
}

static bool l4_csum_ok(const uint8_t *pkt, bool v6, bool udp, size_t l4, size_t len)
{
	uint64_t sum = offload_csum_pseudo(pkt, v6, udp ? IPPROTO_UDP_ : IPPROTO_TCP_, len - l4);

	return offload_csum_fold(offload_csum_add(sum, pkt + l4, len - l4)) == 0xffff;
}

/* ---- segmentation ---------------------------------------------------------- */

/* Finish a CHECKSUM_PARTIAL packet: the field at start + off holds the
 * pseudo-header sum; the checksum covers start to the end of the packet. */
static int finish_csum(uint8_t *pkt, size_t len, const struct offload_vnet *h)
{
	size_t start = h->csum_start, at = start + h->csum_offset;
	uint16_t c;

	/* An odd offset from start would store the sum byte-swapped. */
	if (start >= len || at + 2 > len || h->csum_offset & 1)
		return -EINVAL;
	c = (uint16_t)~offload_csum_fold(offload_csum_add(0, pkt + start, len - start));
	/* 0 means "no checksum" to UDP; 0xffff is the same sum. */
	store_csum(pkt + at, c ? c : 0xffff);
	return 0;
}

/* The IP header of a super-packet of the GSO type: sets s->v6, s->udp,
 * s->l4 and s->len. */
static int seg_parse_ip(struct offload_seg *s, const uint8_t *pkt, size_t plen, unsigned type)
{
	uint8_t proto = IPPROTO_TCP_;
	size_t ip_len;

	if (type == OFFLOAD_GSO_UDP_L4) {
		/* The packet says which IP version; the type does not. */
		if (plen < 1)
			return -EINVAL;
		type = pkt[0] >> 4 == 6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4;
		proto = IPPROTO_UDP_;
		s->udp = true;
	}
	if (type == OFFLOAD_GSO_TCPV4) {
		if (plen < 20 || pkt[0] >> 4 != 4)
			return -EINVAL;
		s->l4 = (size_t)(pkt[0] & 0x0f) * 4;
		ip_len = get16(pkt + 2);
		/* A fragment cannot be a super-packet. */
		if (s->l4 < 20 || ip_len < s->l4 || ip_len > plen || (get16(pkt + 6) & IP4_FRAG) ||
		    pkt[9] != proto)
			return -EINVAL;
	} else {
		if (plen < 40 || pkt[0] >> 4 != 6)
			return -EINVAL;
		s->v6 = true;
		s->l4 = 40;
		ip_len = 40 + (size_t)get16(pkt + 4);
		/* Payload length 0 would be a jumbogram; extension headers
		 * are not segmented here. */
		if (ip_len == 40 || ip_len > plen || pkt[6] != proto)
			return -EINVAL;
	}
	s->len = ip_len;
	return 0;
}

/* The TCP header: sets s->hlen and s->mss. */
static int seg_parse_tcp(struct offload_seg *s, const struct offload_vnet *h, size_t max_pkt)
{
	size_t doff;

	if (s->len < s->l4 + 20)
		return -EINVAL;
	doff = (size_t)(s->pkt[s->l4 + 12] >> 4) * 4;
	if (doff < 20 || s->l4 + doff > s->len)
		return -EINVAL;
	s->hlen = s->l4 + doff;
	/* The kernel's hdr_len is the linear part, not the headers: only
	 * csum_start and csum_offset are checked against the packet. */
	if ((h->flags & OFFLOAD_F_NEEDS_CSUM) &&
	    (h->csum_start != s->l4 || h->csum_offset != TCP_CSUM_OFF))
		return -EINVAL;
	if (max_pkt <= s->hlen)
		return -EMSGSIZE;
	/* Segments may be cut smaller than the sender's: TCP does not care. */
	s->mss = max_pkt - s->hlen < h->gso_size ? max_pkt - s->hlen : h->gso_size;
	return 0;
}

/* The UDP header: sets s->hlen and s->mss. */
static int seg_parse_udp(struct offload_seg *s, const struct offload_vnet *h, size_t max_pkt)
{
	size_t payload;

	s->hlen = s->l4 + UDP_HLEN;
	/* The UDP length of a super-packet is the whole, as the kernel
	 * builds it (udp_send_skb, udp_gro_complete). */
	if (s->len < s->hlen || get16(s->pkt + s->l4 + 4) != s->len - s->l4)
		return -EINVAL;
	if ((h->flags & OFFLOAD_F_NEEDS_CSUM) &&
	    (h->csum_start != s->l4 || h->csum_offset != UDP_CSUM_OFF))
		return -EINVAL;
	/* A datagram is never cut: the first (the largest) must fit. */
	payload = s->len - s->hlen;
	if (s->hlen + (payload < h->gso_size ? payload : h->gso_size) > max_pkt)
		return -EMSGSIZE;
	s->mss = h->gso_size;
	return 0;
}

int offload_seg_init(struct offload_seg *s, uint8_t *buf, size_t len, size_t max_pkt)
{
	struct offload_vnet h;
	uint8_t *pkt = buf + OFFLOAD_VNET_LEN;
	size_t plen, payload;
	unsigned type;
	int r;

	memset(s, 0, sizeof(*s));
	if (len <= OFFLOAD_VNET_LEN)
		return -EINVAL;
	offload_vnet_get(buf, &h);
	plen = len - OFFLOAD_VNET_LEN;
	s->pkt = pkt;
	type = h.gso_type & (unsigned)~OFFLOAD_GSO_ECN;
	if (h.gso_type == OFFLOAD_GSO_NONE) {
		if (h.flags & OFFLOAD_F_NEEDS_CSUM) {
			r = finish_csum(pkt, plen, &h);
			if (r < 0)
				return r;
			/* Done: parsing the buffer again must not redo it. */
			buf[0] &= (uint8_t)~OFFLOAD_F_NEEDS_CSUM;
		}
		s->len = plen;
		s->count = 1;
		return 1;
	}
	if (type != OFFLOAD_GSO_TCPV4 && type != OFFLOAD_GSO_TCPV6 &&
	    h.gso_type != OFFLOAD_GSO_UDP_L4)
		return -EPROTONOSUPPORT;
	if (h.gso_size == 0)
		return -EINVAL;
	r = seg_parse_ip(s, pkt, plen, type);
	if (r < 0)
		return r;
	r = s->udp ? seg_parse_udp(s, &h, max_pkt) : seg_parse_tcp(s, &h, max_pkt);
	if (r < 0)
		return r;
	if (s->hlen > sizeof(s->hdr))
		return -EINVAL; /* cannot be: 60 + 60 at most */
	memcpy(s->hdr, pkt, s->hlen);
	payload = s->len - s->hlen;
	s->count = payload ? (unsigned)((payload + s->mss - 1) / s->mss) : 1;
	s->gso = true;
	return (int)s->count;
}

/* The headers at out of the next segment, its chunk of payload after
 * them, fixed: lengths, IPv4 id and header checksum, TCP sequence number
 * and flags (UDP: length) and the transport checksum. */
static int seg_finish(struct offload_seg *s, uint8_t *out, size_t chunk)
{
	size_t n = s->hlen + chunk;
	bool first = s->next == 0, last = s->next + 1 == s->count;
	uint8_t *l4;

	if (s->v6) {
		put16(out + 4, n - 40);
	} else {
		put16(out + 2, n);
		put16(out + 4, (uint16_t)(get16(s->hdr + 4) + s->next));
		ip4_fix_csum(out, s->l4);
	}
	l4 = out + s->l4;
	if (s->udp) {
		put16(l4 + 4, n - s->l4);
	} else {
		put32(l4 + 4, get32(l4 + 4) + (uint32_t)s->off);
		/* FIN and PSH belong to the last segment, CWR to the first. */
		if (!last)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (!first)
			l4[13] &= (uint8_t)~TCP_CWR;
	}
	l4_fix_csum(out, s->v6, s->udp, s->l4, n);
	s->off += chunk;
	s->next++;
	return (int)n;
}

static size_t seg_chunk(const struct offload_seg *s)
{
	size_t chunk = s->len - s->hlen - s->off;

	return chunk > s->mss ? s->mss : chunk;
}

int offload_seg_next(struct offload_seg *s, uint8_t *out, size_t cap)
{
	size_t chunk;

	if (s->next >= s->count)
		return 0;
	if (!s->gso) {
		if (cap < s->len)
			return -ENOBUFS;
		memcpy(out, s->pkt, s->len);
		s->next++;
		return (int)s->len;
	}
	chunk = seg_chunk(s);
	if (cap < s->hlen + chunk)
		return -ENOBUFS;
	memcpy(out, s->hdr, s->hlen);
	memcpy(out + s->hlen, s->pkt + s->hlen + s->off, chunk);
	return seg_finish(s, out, chunk);
}

int offload_seg_next_inplace(struct offload_seg *s, uint8_t **out)
{
	if (s->next >= s->count)
		return 0;
	if (!s->gso) {
		s->next++;
		*out = s->pkt;
		return (int)s->len;
	}
	/* The payload stays; the headers go just before it. */
	*out = s->pkt + s->off;
	memcpy(*out, s->hdr, s->hlen);
	return seg_finish(s, *out, seg_chunk(s));
}

/* ---- coalescing ------------------------------------------------------------ */

/* What a packet looks like to the coalescer. */
struct l4_pkt {
	bool ok; /* a TCP segment or UDP datagram that may be merged */
	bool v6, udp;
	size_t l4, hlen, payload;
	uint8_t flags; /* TCP's */
	uint32_t seq;
	bool ack_only;	 /* a pure ACK the ACK filter may drop or keep */
	struct ackf ack; /* what it tells, if so */
};

/* The IP header: sets t->v6, t->udp and t->l4.  False for a packet that
 * can never be merged. */
static bool classify_ip(const uint8_t *pkt, size_t len, bool uso, struct l4_pkt *t)
{
	uint8_t proto;

	if (len >= 20 && pkt[0] == 0x45) {
		proto = pkt[9];
		t->l4 = 20;
		/* No options, not a fragment, header checksum right: the
		 * merged header is rewritten, so a broken one must not pass.
		 * TCP needs DF too; UDP without it keeps its ids (continues). */
		if (get16(pkt + 2) != len || (get16(pkt + 6) & IP4_FRAG) ||
		    (proto == IPPROTO_TCP_ && !(get16(pkt + 6) & IP4_DF)) ||
		    offload_csum_fold(offload_csum_add(0, pkt, 20)) != 0xffff)
			return false;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		proto = pkt[6];
		t->v6 = true;
		t->l4 = 40;
		if (40 + (size_t)get16(pkt + 4) != len)
			return false;
	} else {
		return false;
	}
	t->udp = proto == IPPROTO_UDP_;
	return proto == IPPROTO_TCP_ || (t->udp && uso);
}

/* A segment without payload at pkt[0..len), header length len - l4. */
static void classify_ack(const uint8_t *pkt, size_t len, struct l4_pkt *t)
{
	t->hlen = len;
	t->ack_only =
	    ackf_parse(pkt, len, t->l4, &t->ack) && l4_csum_ok(pkt, t->v6, false, t->l4, len);
}

static void classify_tcp(const uint8_t *pkt, size_t len, struct l4_pkt *t)
{
	size_t doff;

	if (len < t->l4 + 20)
		return;
	doff = (size_t)(pkt[t->l4 + 12] >> 4) * 4;
	if (doff >= 20 && t->l4 + doff == len) {
		classify_ack(pkt, len, t); /* no payload: never merged */
		return;
	}
	if (doff < 20 || t->l4 + doff > len)
		return;
	t->hlen = t->l4 + doff;
	t->payload = len - t->hlen;
	t->flags = pkt[t->l4 + 13];
	t->seq = get32(pkt + t->l4 + 4);
	if ((t->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_CWR)) || !(t->flags & TCP_ACK))
		return;
	/* The kernel will not check a CHECKSUM_PARTIAL packet again. */
	t->ok = l4_csum_ok(pkt, t->v6, false, t->l4, len);
}

static void classify_udp(const uint8_t *pkt, size_t len, struct l4_pkt *t)
{
	const uint8_t *u = pkt + t->l4;

	/* No payload would mean gso_size 0; an IPv4 checksum of 0 means
	 * "none": nothing proves the datagram intact, so it goes alone. */
	if (len <= t->l4 + UDP_HLEN || get16(u + 4) != len - t->l4 || get16(u + 6) == 0)
		return;
	t->hlen = t->l4 + UDP_HLEN;
	t->payload = len - t->hlen;
	t->ok = l4_csum_ok(pkt, t->v6, true, t->l4, len);
}

static void classify(const uint8_t *pkt, size_t len, bool uso, struct l4_pkt *t)
{
	memset(t, 0, sizeof(*t));
	if (!classify_ip(pkt, len, uso, t))
		return;
	if (t->udp)
		classify_udp(pkt, len, t);
	else
		classify_tcp(pkt, len, t);
}

/* Does the packet continue the batch exactly? */
static bool continues(const struct offload_gro *g, const uint8_t *pkt, const struct l4_pkt *t)
{
	const uint8_t *h = g->buf + OFFLOAD_VNET_LEN;
	const uint8_t *ht = h + g->l4, *pt = pkt + t->l4;

	if (t->v6 != g->v6 || t->udp != g->udp || t->hlen != g->hlen || t->payload > g->gso)
		return false;
	if (!g->v6) {
		/* tos, flags/fragment, ttl/protocol, addresses */
		if (h[1] != pkt[1] || memcmp(h + 6, pkt + 6, 4) || memcmp(h + 12, pkt + 12, 8))
			return false;
		/* Without DF the id may matter (fragments downstream): the
		 * kernel numbers the segments on from the first one's. */
		if (g->udp && !(get16(h + 6) & IP4_DF) && get16(pkt + 4) != g->next_id)
			return false;
	} else {
		/* traffic class/flow label, next header/hop limit, addresses */
		if (memcmp(h, pkt, 4) || memcmp(h + 6, pkt + 6, 34))
			return false;
	}
	if (g->udp)
		return !memcmp(ht, pt, 4); /* ports */
	/* sequence; ports; ack; data offset; flags but PSH; window; options */
	return t->seq == g->next_seq && !memcmp(ht, pt, 4) && !memcmp(ht + 8, pt + 8, 5) &&
	       (ht[13] | TCP_PSH) == (pt[13] | TCP_PSH) && !memcmp(ht + 14, pt + 14, 2) &&
	       !memcmp(ht + 20, pt + 20, g->hlen - g->l4 - 20);
}

/* Is the batch's pure ACK (alone: nothing joins one) superseded by pkt
 * (common/ackfilter.h)? */
static bool supersedes(const struct offload_gro *g, const uint8_t *pkt, const struct l4_pkt *t)
{
	return g->ack_filter && g->ack_only && t->ack_only && t->v6 == g->v6 &&
	       ackf_supersedes(g->buf + OFFLOAD_VNET_LEN, &g->ack, pkt, &t->ack, t->l4, t->v6);
}

void offload_gro_init(struct offload_gro *g, uint8_t *buf, bool uso)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
	g->uso = uso;
}

int offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	struct l4_pkt t;

	if (len == 0 || len > OFFLOAD_MAX_IP)
		return -EINVAL;
	classify(pkt, len, g->uso, &t);
	if (g->len == 0) {
		memcpy(g->buf + OFFLOAD_VNET_LEN, pkt, len);
		g->len = OFFLOAD_VNET_LEN + len;
		g->count = 1;
		g->open = t.ok && !(t.flags & TCP_PSH);
		g->v6 = t.v6;
		g->udp = t.udp;
		g->l4 = t.l4;
		g->hlen = t.hlen;
		g->gso = t.payload;
		g->next_seq = t.seq + (uint32_t)t.payload;
		g->next_id = t.ok && !t.v6 ? (uint16_t)(get16(pkt + 4) + 1) : 0;
		g->ack_only = t.ack_only;
		g->ack = t.ack;
		return OFFLOAD_GRO_ADDED;
	}
	if (supersedes(g, pkt, &t)) {
		memcpy(g->buf + OFFLOAD_VNET_LEN, pkt, len);
		g->len = OFFLOAD_VNET_LEN + len;
		g->hlen = t.hlen;
		g->ack = t.ack;
		g->superseded++;
		return OFFLOAD_GRO_REPLACED;
	}
	if (!g->open || !t.ok || !continues(g, pkt, &t) || g->len + t.payload > OFFLOAD_BUF_LEN)
		return OFFLOAD_GRO_FLUSH;
	memcpy(g->buf + g->len, pkt + t.hlen, t.payload);
	g->len += t.payload;
	g->count++;
	g->next_seq += (uint32_t)t.payload;
	g->next_id++;
	/* A short packet or a push ends the batch; the push is carried on
	 * the super-packet and the kernel puts it on the last segment. */
	if (t.payload < g->gso || (t.flags & TCP_PSH) ||
	    (g->udp && g->count == OFFLOAD_UDP_MAX_SEGS)) {
		if (!g->udp)
			g->buf[OFFLOAD_VNET_LEN + g->l4 + 13] |= t.flags & TCP_PSH;
		g->open = false;
	}
	return OFFLOAD_GRO_ADDED;
}

size_t offload_gro_take(struct offload_gro *g)
{
	struct offload_vnet h = {0};
	uint8_t *pkt = g->buf + OFFLOAD_VNET_LEN;
	size_t n = g->len, ip_len = n - OFFLOAD_VNET_LEN;
	size_t csum_off = g->udp ? UDP_CSUM_OFF : TCP_CSUM_OFF;

	if (n == 0)
		return 0;
	if (g->count > 1) {
		if (g->v6) {
			put16(pkt + 4, ip_len - 40);
		} else {
			put16(pkt + 2, ip_len);
			ip4_fix_csum(pkt, g->l4);
		}
		/* The UDP length of a super-packet is the whole; the kernel
		 * sets each datagram's as it cuts. */
		if (g->udp)
			put16(pkt + g->l4 + 4, ip_len - g->l4);
		/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header
		 * sum, not complemented; the kernel adds the rest per segment. */
		store_csum(pkt + g->l4 + csum_off,
			   offload_csum_fold(offload_csum_pseudo(
			       pkt, g->v6, g->udp ? IPPROTO_UDP_ : IPPROTO_TCP_, ip_len - g->l4)));
		h.flags = OFFLOAD_F_NEEDS_CSUM;
		h.gso_type = g->udp  ? OFFLOAD_GSO_UDP_L4
			     : g->v6 ? OFFLOAD_GSO_TCPV6
				     : OFFLOAD_GSO_TCPV4;
		h.hdr_len = (uint16_t)g->hlen;
		h.gso_size = (uint16_t)g->gso;
		h.csum_start = (uint16_t)g->l4;
		h.csum_offset = (uint16_t)csum_off;
	}
	offload_vnet_put(g->buf, &h);
	g->len = 0;
	g->count = 0;
	g->open = false;
	g->ack_only = false;
	g->superseded = 0;
	return n;
}
