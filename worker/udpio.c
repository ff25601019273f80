/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: DTLS datagrams in.  Owns the receive batch (recvmmsg), the
 * hand-off table and the counters of what could not be placed.
 *
 * Each datagram goes to its tunnel's DTLS channel (conn_dgram):
 *   1. a ClientHello carrying one of this node's App-IDs:
 *        this worker's                                  -> that tunnel
 *        another worker's                               -> handed to it
 *   2. a known peer (address and port)                  -> its tunnel
 *   3. a peer this worker handed a ClientHello of before -> handed again
 *   4. handshake records of a peer no tunnel here knows -> offered to the
 *        other workers (its ClientHello went to one by App-ID, and the
 *        kernel was not yet told to steer the peer there)
 *   5. a new port of an address with a channel here     -> that tunnel,
 *        which moves its channel only if a record decrypts (a NAT rebound)
 *   else dropped and counted.  4 and 5 are rate-limited together.
 * With the kernel's steering (daemon/udpsteer.c) a datagram reaches the
 * right worker at once, and 2-3 are rare; without it (or before the master
 * has steered a new peer) the hand-offs keep every datagram deliverable.
 *
 * UDP GRO (UDP_GRO on the sockets, daemon/udp.c): where the network device
 * merges a client's datagrams, one message brings many, each gso_size long
 * but the last; they are cut apart here and placed one by one.
 *
 * Receive coalescing, as rxcoal.c does for TLS: a socket that brought
 * MOD_ENTER datagrams within MOD_HOLD_US leaves the epoll set (events 0)
 * and is read on a deadline, MOD_HOLD_US after the last read, so one
 * wake-up takes a millisecond's datagrams in a few recvmmsg() calls, and
 * their packets go to the TUN device in bigger batches (fewer ACKs back).
 * A deadline read that finds fewer than MOD_STAY puts the socket back.
 * TUNNELD_NO_RXCOAL=1 turns it off with rxcoal.c's. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/dtls.h"
#include "common/log.h"
#include "common/peermap.h"

#define IN_BATCH    32	  /* datagrams per recvmmsg() */
#define IN_BUDGET   256	  /* datagrams per wake-up before yielding */
#define IN_MAX	    65536 /* a merged (GRO) message; one datagram is at most 16 KiB */
#define TRIALS_PS   512	  /* rebinding trials a second */
#define MOD_HOLD_US 1000  /* longest a datagram waits on a coalesced socket */
#define MOD_ENTER   32	  /* datagrams within MOD_HOLD_US that start coalescing */
#define MOD_STAY    16	  /* a deadline read that finds fewer ends it */

/* A datagram handed over by another worker: this header, then the bytes. */
struct fwd_hdr {
	union udp_addr a;
	uint8_t k;
};

static struct mmsghdr msgs[IN_BATCH];
static struct iovec iov[IN_BATCH];
static union udp_addr addr[IN_BATCH];
static uint8_t bufs[IN_BATCH][IN_MAX];
static union {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
} ctl[IN_BATCH];
static uint8_t fwd_buf[sizeof(struct fwd_hdr) + IN_MAX];
static struct peermap fwd; /* peer -> worker + 1, for peers handed over */
static unsigned trials;	   /* this second's */
static time_t trial_second;

static struct {
	uint64_t in, calls, handed_out, handed_in, unknown, other_node, gro_msgs, offered, declined;
	uint64_t mod_entered, mod_left, mod_reads;
} st;

/* Per socket: the window's start (µs) and datagrams, and while out of
 * the epoll set, when it is read next. */
static struct {
	int64_t win_start, due;
	unsigned win;
	bool on;
} * mod;
static bool mod_enabled;

int udpio_init(void)
{
	if (!W.env->udp_fds)
		return 0;
	mod_enabled = rxcoal_enabled();
	mod = calloc(W.env->n_plain ? W.env->n_plain : 1, sizeof(*mod));
	if (!mod)
		return -ENOMEM;
	for (unsigned i = 0; i < IN_BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], IN_MAX};
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return peermap_init(&fwd, W.max_conns);
}

/* To worker w's hand-off inbox; false when it could not be sent. */
static bool send_to(unsigned w, const struct udp_peer *p, const uint8_t *d, size_t n)
{
	struct fwd_hdr h = {p->a, p->k};

	if (w >= W.env->n_workers || w == W.env->id || W.env->udp_peer_inbox[w] < 0 || n > IN_MAX)
		return false;
	memcpy(fwd_buf, &h, sizeof(h));
	memcpy(fwd_buf + sizeof(h), d, n);
	return send(W.env->udp_peer_inbox[w], fwd_buf, sizeof(h) + n,
		    MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

/* To worker w, which holds the peer's tunnel: so is all that follows. */
static void hand_over(unsigned w, const struct udp_peer *p, const uint8_t *d, size_t n)
{
	struct peer_key key;

	if (!send_to(w, p, d, n)) {
		st.unknown++;
		return;
	}
	st.handed_out++;
	if (peer_key_of(&p->a.sa, true, &key) == 0 && peermap_put(&fwd, &key, w + 1) < 0) {
		/* Full of peers that left long ago: start over. */
		memset(fwd.slot, 0, (fwd.mask + 1) * sizeof(*fwd.slot));
		fwd.n = 0;
		(void)peermap_put(&fwd, &key, w + 1);
	}
}

static bool trial_allowed(void)
{
	time_t now = time(NULL);

	if (now != trial_second) {
		trial_second = now;
		trials = 0;
	}
	return trials++ < TRIALS_PS;
}

/* Where a datagram goes; handed_in: it came from another worker, which
 * never bounces it back. */
static void place(const struct udp_peer *p, const uint8_t *d, size_t n, bool handed_in)
{
	struct peer_key key;
	const uint8_t *id;
	struct conn *c;
	uint32_t v;

	/* A ClientHello goes by its App-ID even from a known peer: after a
	 * reconnect the same port may start the new tunnel's channel. */
	if (dtls_hello_id(d, n, &id) == 0) {
		if (id[DTLS_ID_NODE] != W.cfg->node_id) {
			st.other_node++;
			return;
		}
		if (id[DTLS_ID_WORKER] != W.env->id && !handed_in) {
			log_debug("DTLS ClientHello handed to worker %u", id[DTLS_ID_WORKER]);
			hand_over(id[DTLS_ID_WORKER], p, d, n);
			return;
		}
		if ((c = dtls_by_id(id)))
			conn_dgram(c, p, d, n);
		else
			st.unknown++;
		return;
	}
	if ((c = dtls_by_peer(p, true))) {
		conn_dgram(c, p, d, n);
		return;
	}
	/* Another worker's offer that is not ours: nothing more to try. */
	if (handed_in) {
		st.declined++;
		return;
	}
	if (!dtls_record_plausible(d, n)) {
		st.unknown++;
		return;
	}
	if (peer_key_of(&p->a.sa, true, &key) == 0 && peermap_get(&fwd, &key, &v)) {
		hand_over(v - 1, p, d, n);
		return;
	}
	if (!trial_allowed()) {
		st.unknown++;
		return;
	}
	/* The rest of a handshake whose ClientHello went to another worker
	 * by its App-ID, before the master steered the peer there: offered
	 * to every other worker, which takes it only for that exact peer. */
	if (d[0] == DTLS_CT_HANDSHAKE || d[0] == DTLS_CT_CCS) {
		for (unsigned w = 0; w < W.env->n_workers; w++)
			st.offered += send_to(w, p, d, n);
		return;
	}
	if ((c = dtls_by_peer(p, false))) {
		conn_dgram(c, p, d, n);
		return;
	}
	st.unknown++;
}

/* The segment size of a merged message, 0 for a single datagram. */
static size_t gro_size(const struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int size;

			memcpy(&size, CMSG_DATA(cm), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	return 0;
}

/* One message: a datagram, or a run of them merged by GRO. */
static void take(const struct udp_peer *p, const uint8_t *d, size_t n, size_t seg)
{
	if (!seg || seg >= n) {
		place(p, d, n, false);
		return;
	}
	st.gro_msgs++;
	for (size_t off = 0; off < n; off += seg) {
		place(p, d + off, n - off < seg ? n - off : seg, false);
		st.in++;
	}
	st.in--; /* the message itself was counted once */
}

static unsigned read_socket(unsigned k)
{
	unsigned got = 0;
	int r;

	while (got < IN_BUDGET) {
		for (unsigned i = 0; i < IN_BATCH; i++) {
			msgs[i].msg_hdr.msg_name = &addr[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(addr[i]);
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		r = recvmmsg(W.env->udp_fds[k], msgs, IN_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return got;
		st.calls++;
		st.in += (unsigned)r;
		for (int i = 0; i < r; i++) {
			struct udp_peer p = {.a = addr[i], .k = (uint8_t)k};

			/* An empty datagram would read as the end of the DTLS session:
			 * anyone may send one from a forged address. */
			if ((addr[i].sa.sa_family == AF_INET || addr[i].sa.sa_family == AF_INET6) &&
			    msgs[i].msg_len)
				take(&p, bufs[i], msgs[i].msg_len, gro_size(&msgs[i].msg_hdr));
		}
		got += (unsigned)r;
		if (r < IN_BATCH)
			return got;
	}
	return got;
}

/* k out of the epoll set (on) or back in. */
static bool mod_set(unsigned k, bool on)
{
	struct epoll_event ev = {.events = on ? 0 : EPOLLIN, .data.u64 = ev_data(K_UDP, k, 0)};

	if (epoll_ctl(W.ep, EPOLL_CTL_MOD, W.env->udp_fds[k], &ev) < 0) {
		log_errno(-errno, "epoll_ctl of a DTLS socket");
		return false;
	}
	mod[k].on = on;
	return true;
}

void udpio_on_socket(unsigned k)
{
	unsigned got = read_socket(k);
	int64_t now;

	if (!mod_enabled || mod[k].on)
		return;
	now = mono_us();
	if (now - mod[k].win_start >= MOD_HOLD_US) {
		mod[k].win_start = now;
		mod[k].win = 0;
	}
	mod[k].win += got;
	if (mod[k].win >= MOD_ENTER && mod_set(k, true)) {
		mod[k].due = now + MOD_HOLD_US;
		st.mod_entered++;
	}
}

int udpio_wait_ms(void)
{
	int64_t first = INT64_MAX, left;

	for (unsigned k = 0; mod && k < W.env->n_plain; k++)
		if (mod[k].on && mod[k].due < first)
			first = mod[k].due;
	if (first == INT64_MAX)
		return -1;
	left = first - mono_us();
	return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

void udpio_poll(void)
{
	int64_t now = 0;
	unsigned got;

	for (unsigned k = 0; mod && k < W.env->n_plain; k++) {
		if (!mod[k].on)
			continue;
		if (!now)
			now = mono_us();
		if (now < mod[k].due)
			continue;
		st.mod_reads++;
		got = read_socket(k);
		if (got >= IN_BUDGET) /* more is waiting: next turn */
			mod[k].due = now;
		else if (got >= MOD_STAY)
			mod[k].due = now + MOD_HOLD_US;
		else if (mod_set(k, false)) {
			mod[k].win = 0;
			st.mod_left++;
		}
	}
}

void udpio_on_inbox(void)
{
	struct fwd_hdr h;
	ssize_t n;

	for (unsigned got = 0; got < IN_BUDGET; got++) {
		n = recv(W.env->udp_inbox_fd, fwd_buf, sizeof(fwd_buf), MSG_DONTWAIT);
		if (n < (ssize_t)sizeof(h))
			return;
		memcpy(&h, fwd_buf, sizeof(h));
		st.handed_in++;
		if (h.k < W.env->n_plain &&
		    (h.a.sa.sa_family == AF_INET || h.a.sa.sa_family == AF_INET6)) {
			struct udp_peer p = {.a = h.a, .k = h.k};
			place(&p, fwd_buf + sizeof(h), (size_t)n - sizeof(h), true);
		}
	}
}

void udpio_log_stats(void)
{
	if (st.in || st.handed_in)
		log_info("DTLS in: %llu datagrams in %llu recvmmsg calls (%.1f per call; %llu "
			 "merged messages); handed %llu to other workers, took %llu; offered %llu "
			 "handshake records of unsteered peers, declined %llu; %llu for no tunnel, "
			 "%llu for other nodes",
			 (unsigned long long)st.in, (unsigned long long)st.calls,
			 st.calls ? (double)st.in / (double)st.calls : 0.0,
			 (unsigned long long)st.gro_msgs, (unsigned long long)st.handed_out,
			 (unsigned long long)st.handed_in, (unsigned long long)st.offered,
			 (unsigned long long)st.declined, (unsigned long long)st.unknown,
			 (unsigned long long)st.other_node);
	if (st.mod_entered)
		log_info("DTLS in, coalescing: entered %llu times, left %llu, %llu reads on the "
			 "deadline",
			 (unsigned long long)st.mod_entered, (unsigned long long)st.mod_left,
			 (unsigned long long)st.mod_reads);
}
