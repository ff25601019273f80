/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: datagrams to clients.  Owns the send batch: GnuTLS hands each
 * DTLS record to udpout_queue(), which copies it into the batch; the loop
 * sends the batch once per turn (udpout_flush), one sendmmsg() per run of
 * datagrams on the same socket.  A full batch is sent at once.  DTLS is
 * lossy by design: what the socket refuses is counted and dropped.
 *
 * UDP segmentation offload (UDP_SEGMENT): consecutive datagrams to the same
 * peer of the same size (the last may be shorter) are one message of the
 * batch, which the kernel cuts into datagrams as late as it can, so a
 * download's packets cross the UDP and IP layers once per run, not once
 * each.  A kernel or device that refuses it turns it off. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/udp.h>

#include "common/log.h"

#define OUT_MAX	  64	      /* datagrams per batch */
#define OUT_BYTES (256 << 10) /* their bytes */
#define GSO_BYTES 65000	      /* at most in one segmented message */

static struct mmsghdr msgs[OUT_MAX];
static struct iovec iov[OUT_MAX];
static union udp_addr addr[OUT_MAX];
static int fds[OUT_MAX];
static uint8_t buf[OUT_BYTES];
static unsigned n;
static size_t used;
/* The messages actually sent: runs merged for segmentation. */
static struct mmsghdr out[OUT_MAX];
static struct iovec out_iov[OUT_MAX];
static unsigned out_segs[OUT_MAX]; /* datagrams in each */
static union {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
} ctl[OUT_MAX];
static bool gso = true;

static struct {
	uint64_t calls, sent, dropped, gso_msgs;
} st;

void udpout_queue(int fd, const struct udp_peer *p, const void *data, size_t len)
{
	if (len > sizeof(buf)) {
		st.dropped++;
		return;
	}
	if (n == OUT_MAX || sizeof(buf) - used < len)
		udpout_flush();
	memcpy(buf + used, data, len);
	addr[n] = p->a;
	iov[n] = (struct iovec){buf + used, len};
	memset(&msgs[n], 0, sizeof(msgs[n]));
	msgs[n].msg_hdr.msg_name = &addr[n];
	msgs[n].msg_hdr.msg_namelen =
	    p->a.sa.sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	msgs[n].msg_hdr.msg_iov = &iov[n];
	msgs[n].msg_hdr.msg_iovlen = 1;
	fds[n] = fd;
	n++;
	used += len;
}

void udpout_init(void)
{
	/* Benchmarks compare with and without (tests/offload/bench.sh). */
	gso = !env_set("TUNNELD_NO_UDP_GSO");
}

static bool same_peer(unsigned a, unsigned b)
{
	return msgs[a].msg_hdr.msg_namelen == msgs[b].msg_hdr.msg_namelen &&
	       !memcmp(&addr[a], &addr[b], msgs[a].msg_hdr.msg_namelen);
}

/* Merge msgs[from..to) into out[]: each run to one peer of equal sizes
 * (the last may be shorter) becomes one message segmented by the kernel.
 * Returns the messages. */
static unsigned merge(unsigned from, unsigned to)
{
	unsigned k = 0, i = from, j;

	while (i < to) {
		size_t seg = iov[i].iov_len, total = seg;

		for (j = i + 1; gso && j < to && same_peer(i, j) && iov[j].iov_len <= seg &&
				total + iov[j].iov_len <= GSO_BYTES;
		     j++) {
			total += iov[j].iov_len;
			if (iov[j].iov_len < seg) {
				j++;
				break;
			}
		}
		out[k] = msgs[i];
		out_iov[k] = (struct iovec){iov[i].iov_base, total};
		out[k].msg_hdr.msg_iov = &out_iov[k];
		out_segs[k] = j - i;
		if (j - i > 1) {
			struct cmsghdr *cm = (struct cmsghdr *)ctl[k].buf;
			uint16_t size = (uint16_t)seg;

			out[k].msg_hdr.msg_control = ctl[k].buf;
			out[k].msg_hdr.msg_controllen = sizeof(ctl[k].buf);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(size));
			memcpy(CMSG_DATA(cm), &size, sizeof(size));
			st.gso_msgs++;
		}
		k++;
		i = j;
	}
	return k;
}

/* One run of datagrams on one socket. */
static void send_run(unsigned from, unsigned count)
{
	unsigned m = merge(from, from + count), done = 0;
	int r;

	while (done < m) {
		r = sendmmsg(fds[from], out + done, m - done, MSG_DONTWAIT);
		st.calls++;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (gso && out_segs[done] > 1 && (errno == EIO || errno == EINVAL)) {
				/* No segmentation here: datagrams one by one. */
				log_info("UDP segmentation offload refused (%s): off",
					 strerror(errno));
				gso = false;
				send_run(from, count);
				return;
			}
			/* EAGAIN (the socket is full) or an error for the
			 * message at the head: drop it, go on with the rest. */
			st.dropped += out_segs[done];
			done++;
			continue;
		}
		for (int k = 0; k < r; k++)
			st.sent += out_segs[done + (unsigned)k];
		done += (unsigned)r;
	}
}

void udpout_flush(void)
{
	unsigned i = 0, j;

	while (i < n) {
		for (j = i + 1; j < n && fds[j] == fds[i]; j++)
			;
		send_run(i, j - i);
		i = j;
	}
	n = 0;
	used = 0;
}

void udpout_log_stats(void)
{
	if (st.sent || st.dropped)
		log_info("DTLS out: %llu datagrams in %llu sendmmsg calls (%.1f per call; %llu "
			 "segmented messages), %llu dropped",
			 (unsigned long long)st.sent, (unsigned long long)st.calls,
			 st.calls ? (double)st.sent / (double)st.calls : 0.0,
			 (unsigned long long)st.gso_msgs, (unsigned long long)st.dropped);
}
