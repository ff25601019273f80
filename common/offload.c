/* Worker (unprivileged), data path: segmentation of the TCP super-packets
 * read from the TUN device and coalescing of a client's TCP segments into
 * super-packets written to it (IFF_VNET_HDR, TUNSETOFFLOAD).  Owns nothing;
 * every function is pure over the caller's buffers.
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
#define TCP_CSUM_OFF 16

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
	uint64_t w;

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

/* Full TCP checksum of the segment pkt[l4..len). */
static void tcp_fix_csum(uint8_t *pkt, bool v6, size_t l4, size_t len)
{
	uint64_t sum;

	pkt[l4 + TCP_CSUM_OFF] = pkt[l4 + TCP_CSUM_OFF + 1] = 0;
	sum = offload_csum_pseudo(pkt, v6, IPPROTO_TCP_, len - l4);
	sum = offload_csum_add(sum, pkt + l4, len - l4);
	store_csum(pkt + l4 + TCP_CSUM_OFF, (uint16_t)~offload_csum_fold(sum));
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

/* The IP header of a TCP super-packet: sets s->v6, s->l4 and s->len. */
static int seg_parse_ip(struct offload_seg *s, const uint8_t *pkt, size_t plen, unsigned type)
{
	size_t ip_len;

	if (type == OFFLOAD_GSO_TCPV4) {
		if (plen < 20 || pkt[0] >> 4 != 4)
			return -EINVAL;
		s->l4 = (size_t)(pkt[0] & 0x0f) * 4;
		ip_len = get16(pkt + 2);
		/* A fragment cannot be a super-packet. */
		if (s->l4 < 20 || ip_len < s->l4 || ip_len > plen || (get16(pkt + 6) & 0x3fff) ||
		    pkt[9] != IPPROTO_TCP_)
			return -EINVAL;
	} else {
		if (plen < 40 || pkt[0] >> 4 != 6)
			return -EINVAL;
		s->v6 = true;
		s->l4 = 40;
		ip_len = 40 + (size_t)get16(pkt + 4);
		/* Payload length 0 would be a jumbogram; extension headers
		 * are not segmented here. */
		if (ip_len == 40 || ip_len > plen || pkt[6] != IPPROTO_TCP_)
			return -EINVAL;
	}
	s->len = ip_len;
	return 0;
}

int offload_seg_init(struct offload_seg *s, uint8_t *buf, size_t len, size_t max_pkt)
{
	struct offload_vnet h;
	uint8_t *pkt = buf + OFFLOAD_VNET_LEN;
	size_t plen, doff, payload;
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
	if (type != OFFLOAD_GSO_TCPV4 && type != OFFLOAD_GSO_TCPV6)
		return -EPROTONOSUPPORT;
	if (h.gso_size == 0)
		return -EINVAL;
	r = seg_parse_ip(s, pkt, plen, type);
	if (r < 0)
		return r;
	if (s->len < s->l4 + 20)
		return -EINVAL;
	doff = (size_t)(pkt[s->l4 + 12] >> 4) * 4;
	if (doff < 20 || s->l4 + doff > s->len)
		return -EINVAL;
	s->hlen = s->l4 + doff;
	/* The kernel's hdr_len is the linear part, not the headers: only
	 * csum_start and csum_offset are checked against the packet. */
	if ((h.flags & OFFLOAD_F_NEEDS_CSUM) &&
	    (h.csum_start != s->l4 || h.csum_offset != TCP_CSUM_OFF))
		return -EINVAL;
	if (max_pkt <= s->hlen)
		return -EMSGSIZE;
	s->mss = max_pkt - s->hlen < h.gso_size ? max_pkt - s->hlen : h.gso_size;
	payload = s->len - s->hlen;
	s->count = payload ? (unsigned)((payload + s->mss - 1) / s->mss) : 1;
	s->gso = true;
	return (int)s->count;
}

int offload_seg_next(struct offload_seg *s, uint8_t *out, size_t cap)
{
	size_t chunk, n;
	uint8_t *tcp;
	bool first, last;

	if (s->next >= s->count)
		return 0;
	if (!s->gso) {
		if (cap < s->len)
			return -ENOBUFS;
		memcpy(out, s->pkt, s->len);
		s->next++;
		return (int)s->len;
	}
	chunk = s->len - s->hlen - s->off;
	if (chunk > s->mss)
		chunk = s->mss;
	n = s->hlen + chunk;
	if (cap < n)
		return -ENOBUFS;
	first = s->next == 0;
	last = s->next + 1 == s->count;
	memcpy(out, s->pkt, s->hlen);
	memcpy(out + s->hlen, s->pkt + s->hlen + s->off, chunk);
	if (s->v6) {
		put16(out + 4, n - 40);
	} else {
		put16(out + 2, n);
		put16(out + 4, (uint16_t)(get16(s->pkt + 4) + s->next));
		ip4_fix_csum(out, s->l4);
	}
	tcp = out + s->l4;
	put32(tcp + 4, get32(tcp + 4) + (uint32_t)s->off);
	/* FIN and PSH belong to the last segment, CWR to the first. */
	if (!last)
		tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (!first)
		tcp[13] &= (uint8_t)~TCP_CWR;
	tcp_fix_csum(out, s->v6, s->l4, n);
	s->off += chunk;
	s->next++;
	return (int)n;
}

/* ---- coalescing ------------------------------------------------------------ */

/* What a packet looks like to the coalescer. */
struct tcp_seg {
	bool ok; /* a TCP segment that may be merged */
	bool v6;
	size_t l4, hlen, payload;
	uint8_t flags;
	uint32_t seq;
};

static bool tcp_csum_ok(const uint8_t *pkt, bool v6, size_t l4, size_t len)
{
	uint64_t sum = offload_csum_pseudo(pkt, v6, IPPROTO_TCP_, len - l4);

	return offload_csum_fold(offload_csum_add(sum, pkt + l4, len - l4)) == 0xffff;
}

static void classify(const uint8_t *pkt, size_t len, struct tcp_seg *t)
{
	size_t doff;

	memset(t, 0, sizeof(*t));
	if (len >= 20 && pkt[0] == 0x45) {
		/* No options, DF, not a fragment, header checksum right: the
		 * merged header is rewritten, so a broken one must not pass. */
		if (get16(pkt + 2) != len || pkt[9] != IPPROTO_TCP_ ||
		    (get16(pkt + 6) & 0x7fff) != 0x4000 ||
		    offload_csum_fold(offload_csum_add(0, pkt, 20)) != 0xffff)
			return;
		t->l4 = 20;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		if (40 + (size_t)get16(pkt + 4) != len || pkt[6] != IPPROTO_TCP_)
			return;
		t->v6 = true;
		t->l4 = 40;
	} else {
		return;
	}
	if (len < t->l4 + 20)
		return;
	doff = (size_t)(pkt[t->l4 + 12] >> 4) * 4;
	if (doff < 20 || t->l4 + doff >= len)
		return; /* no payload: pure ACKs are not merged */
	t->hlen = t->l4 + doff;
	t->payload = len - t->hlen;
	t->flags = pkt[t->l4 + 13];
	t->seq = get32(pkt + t->l4 + 4);
	if ((t->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_CWR)) || !(t->flags & TCP_ACK))
		return;
	/* The kernel will not check a CHECKSUM_PARTIAL packet again. */
	t->ok = tcp_csum_ok(pkt, t->v6, t->l4, len);
}

/* Does the segment continue the batch exactly? */
static bool continues(const struct offload_gro *g, const uint8_t *pkt, const struct tcp_seg *t)
{
	const uint8_t *h = g->buf + OFFLOAD_VNET_LEN;
	const uint8_t *ht = h + g->l4, *pt = pkt + t->l4;

	if (t->v6 != g->v6 || t->hlen != g->hlen || t->seq != g->next_seq || t->payload > g->gso)
		return false;
	if (!g->v6) {
		/* tos, flags/fragment, ttl/protocol, addresses */
		if (h[1] != pkt[1] || memcmp(h + 6, pkt + 6, 4) || memcmp(h + 12, pkt + 12, 8))
			return false;
	} else {
		/* traffic class/flow label, next header/hop limit, addresses */
		if (memcmp(h, pkt, 4) || memcmp(h + 6, pkt + 6, 34))
			return false;
	}
	/* ports; ack; data offset; flags but PSH; window; options */
	return !memcmp(ht, pt, 4) && !memcmp(ht + 8, pt + 8, 5) &&
	       (ht[13] | TCP_PSH) == (pt[13] | TCP_PSH) && !memcmp(ht + 14, pt + 14, 2) &&
	       !memcmp(ht + 20, pt + 20, g->hlen - g->l4 - 20);
}

void offload_gro_init(struct offload_gro *g, uint8_t *buf)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
}

int offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	struct tcp_seg t;

	if (len == 0 || len > OFFLOAD_MAX_IP)
		return -EINVAL;
	classify(pkt, len, &t);
	if (g->len == 0) {
		memcpy(g->buf + OFFLOAD_VNET_LEN, pkt, len);
		g->len = OFFLOAD_VNET_LEN + len;
		g->count = 1;
		g->open = t.ok && !(t.flags & TCP_PSH);
		if (t.ok) {
			g->v6 = t.v6;
			g->l4 = t.l4;
			g->hlen = t.hlen;
			g->gso = t.payload;
			g->next_seq = t.seq + (uint32_t)t.payload;
		}
		return OFFLOAD_GRO_ADDED;
	}
	if (!g->open || !t.ok || !continues(g, pkt, &t) || g->len + t.payload > OFFLOAD_BUF_LEN)
		return OFFLOAD_GRO_FLUSH;
	memcpy(g->buf + g->len, pkt + t.hlen, t.payload);
	g->len += t.payload;
	g->count++;
	g->next_seq += (uint32_t)t.payload;
	/* A short segment or a push ends the batch; the push is carried on
	 * the super-packet and the kernel puts it on the last segment. */
	if (t.payload < g->gso || (t.flags & TCP_PSH)) {
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

	if (n == 0)
		return 0;
	if (g->count > 1) {
		if (g->v6) {
			put16(pkt + 4, ip_len - 40);
		} else {
			put16(pkt + 2, ip_len);
			ip4_fix_csum(pkt, g->l4);
		}
		/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header
		 * sum, not complemented; the kernel adds the rest per segment. */
		store_csum(pkt + g->l4 + TCP_CSUM_OFF,
			   offload_csum_fold(
			       offload_csum_pseudo(pkt, g->v6, IPPROTO_TCP_, ip_len - g->l4)));
		h.flags = OFFLOAD_F_NEEDS_CSUM;
		h.gso_type = g->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4;
		h.hdr_len = (uint16_t)g->hlen;
		h.gso_size = (uint16_t)g->gso;
		h.csum_start = (uint16_t)g->l4;
		h.csum_offset = TCP_CSUM_OFF;
	}
	offload_vnet_put(g->buf, &h);
	g->len = 0;
	g->count = 0;
	g->open = false;
	return n;
}
