/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: datagrams to clients.  Owns the send batch: GnuTLS hands each
 * DTLS record to udpout_queue(), which copies it into the batch; the loop
 * sends the batch once per turn (udpout_flush), one sendmmsg() per run of
 * datagrams on the same socket.  A full batch is sent at once.  DTLS is
 * lossy by design: what the socket refuses is counted and dropped. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

#define OUT_MAX	  64	      /* datagrams per batch */
#define OUT_BYTES (256 << 10) /* their bytes */

static struct mmsghdr msgs[OUT_MAX];
static struct iovec iov[OUT_MAX];
static union udp_addr addr[OUT_MAX];
static int fds[OUT_MAX];
static uint8_t buf[OUT_BYTES];
static unsigned n;
static size_t used;

static struct {
	uint64_t calls, sent, dropped;
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

/* One run of datagrams on one socket. */
static void send_run(unsigned from, unsigned count)
{
	unsigned done = 0;
	int r;

	while (done < count) {
		r = sendmmsg(fds[from], msgs + from + done, count - done, MSG_DONTWAIT);
		st.calls++;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN (the socket is full) or an error for the
			 * datagram at the head: drop it, go on with the rest. */
			st.dropped++;
			done++;
			continue;
		}
		st.sent += (unsigned)r;
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
		log_info("DTLS out: %llu datagrams in %llu sendmmsg calls (%.1f per call), %llu "
			 "dropped",
			 (unsigned long long)st.sent, (unsigned long long)st.calls,
			 st.calls ? (double)st.sent / (double)st.calls : 0.0,
			 (unsigned long long)st.dropped);
}
