/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: receive coalescing for clients that send in bulk.  Without it a
 * worker is woken for every few segments of an upload: one epoll_wait,
 * one recv() of ~3 KiB, a TUN write of two or three packets, and as many
 * ACKs back from the LAN, each its own record and send().  A client whose
 * reads bring at least RXC_ENTER bytes within RXC_HOLD_US (or RXC_MIN in
 * one read: the worker fell behind it) gets
 * SO_RCVLOWAT on its socket, so epoll wakes the worker once that much is
 * queued; what is queued when RXC_HOLD_US passed without such a wake-up
 * is read anyway (the loop's wait ends by then: rxcoal_wait_ms), so no
 * byte waits longer than that.  A client that slows down leaves: a read
 * on the deadline that finds less than RXC_MIN bytes puts the mark back
 * to one byte; one that finds more lowers the mark to what it found.  A
 * read that finds half as much again as the mark doubles it (at most
 * RXC_MAX: the read-ahead buffer).  Like a NIC's interrupt moderation,
 * adaptive, per client.
 *
 * Tunnels take part (conn.c calls rxcoal_read for their reads from the
 * client).  Services' streams do not: with them a service's upload took
 * less CPU per GB (1.83 -> 1.36-1.45 CPU-s, bench/services.sh) but moved
 * less (2.2 -> 1.7 Gbit/s), with the worker mostly idle and each recv()
 * full; the cause is not known yet.  TUNNELD_NO_RXCOAL=1 turns it off,
 * for benchmarks (tests/offload/bench.sh). */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

#define RXC_HOLD_US 1000u	/* longest a byte waits in the socket */
#define RXC_ENTER   (32u << 10) /* bytes within RXC_HOLD_US that make a bulk sender */
#define RXC_MIN	    (16u << 10) /* the lowest mark kept; below, the client leaves */
#define RXC_MAX	    (64u << 10) /* the highest: one recv() of the read-ahead buffer */

static bool enabled;
static uint32_t *list; /* conn indices of the coalesced clients */
static uint32_t n_list;
static int64_t polling_us; /* rxcoal_poll's time while it reads one, else 0 */
/* No deadline in the list is earlier (reads only push theirs later), so
 * the list is walked about once per RXC_HOLD_US, not once per turn. */
static int64_t next_due = INT64_MAX;
static struct {
	uint64_t reads, bytes, entered, left, polled, marks;
} st;

int rxcoal_init(void)
{
	enabled = !env_set("TUNNELD_NO_RXCOAL");
	list = calloc(W.max_conns ? W.max_conns : 1, sizeof(*list));
	return list ? 0 : -ENOMEM;
}

static bool set_mark(struct conn *c, uint32_t bytes)
{
	int v = (int)bytes;

	st.marks++;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == 0)
		return true;
	log_debug("SO_RCVLOWAT %u for %s: %m", bytes, c->peer);
	return false;
}

static void enter(struct conn *c, int64_t now)
{
	if (!set_mark(c, RXC_ENTER))
		return;
	c->rxc_mark = RXC_ENTER;
	c->rxc_slot = n_list;
	c->rxc_last = now;
	list[n_list++] = conn_index(c);
	if (now + RXC_HOLD_US < next_due)
		next_due = now + RXC_HOLD_US;
	st.entered++;
}

void rxcoal_forget(struct conn *c)
{
	uint32_t last;

	if (!c->rxc_mark)
		return;
	last = list[--n_list];
	list[c->rxc_slot] = last;
	W.conns[last].rxc_slot = c->rxc_slot;
	c->rxc_mark = 0;
	c->rxc_win_bytes = 0;
}

static void leave(struct conn *c)
{
	set_mark(c, 1);
	rxcoal_forget(c);
	st.left++;
}

/* A read of n bytes from c's client. */
void rxcoal_read(struct conn *c, size_t n)
{
	int64_t now;

	st.reads++;
	st.bytes += n;
	if (!enabled)
		return;
	now = polling_us ? polling_us : mono_us();
	if (!c->rxc_mark) {
		/* Bytes per RXC_HOLD_US window. */
		if (now - c->rxc_win_start >= RXC_HOLD_US) {
			c->rxc_win_start = now;
			c->rxc_win_bytes = 0;
		}
		c->rxc_win_bytes += (uint32_t)n;
		if (c->rxc_win_bytes >= RXC_ENTER || n >= RXC_MIN)
			enter(c, now);
		return;
	}
	if (polling_us) {
		/* The deadline came first: the client sends less than the
		 * mark per RXC_HOLD_US. */
		if (n < RXC_MIN)
			leave(c);
		else if (set_mark(c, (uint32_t)n & ~4095u))
			c->rxc_mark = (uint32_t)n & ~4095u;
	} else if (c->rxc_mark < RXC_MAX && n >= c->rxc_mark + c->rxc_mark / 2 &&
		   set_mark(c, c->rxc_mark * 2 > RXC_MAX ? RXC_MAX : c->rxc_mark * 2)) {
		/* Half as much again was queued by the time we read: the
		 * client sends faster than the mark needs.  (Not when a read
		 * merely comes soon: a sender held back by our receive
		 * window never reaches a bigger mark, and would wait for
		 * each deadline.) */
		c->rxc_mark = c->rxc_mark * 2 > RXC_MAX ? RXC_MAX : c->rxc_mark * 2;
	}
	c->rxc_last = now;
}

int rxcoal_wait_ms(void)
{
	int64_t left;

	if (!n_list)
		return -1;
	left = next_due - mono_us();
	return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

void rxcoal_poll(void (*read_now)(struct conn *c))
{
	int64_t now;
	uint32_t i = 0;

	if (!n_list)
		return;
	now = mono_us();
	if (now < next_due)
		return;
	next_due = INT64_MAX;
	while (i < n_list) {
		struct conn *c = &W.conns[list[i]];
		uint32_t idx = list[i];

		if (now - c->rxc_last < RXC_HOLD_US) {
			if (c->rxc_last + RXC_HOLD_US < next_due)
				next_due = c->rxc_last + RXC_HOLD_US;
			i++;
			continue;
		}
		st.polled++;
		polling_us = now;
		read_now(c);
		polling_us = 0;
		/* Nothing was there (or the read closed it): out. */
		if (c->rxc_mark && c->rxc_last != now)
			leave(c);
		/* Still listed at i: go on; else another took its place. */
		if (i < n_list && list[i] == idx) {
			if (now + RXC_HOLD_US < next_due)
				next_due = now + RXC_HOLD_US;
			i++;
		}
	}
}

bool rxcoal_enabled(void)
{
	return enabled;
}

void rxcoal_log_stats(void)
{
	if (st.reads)
		log_info(
		    "client reads: %llu recv() carried %llu bytes (%.0f per read); coalescing "
		    "entered %llu times, left %llu, %llu reads on the deadline, %llu marks set",
		    (unsigned long long)st.reads, (unsigned long long)st.bytes,
		    (double)st.bytes / (double)st.reads, (unsigned long long)st.entered,
		    (unsigned long long)st.left, (unsigned long long)st.polled,
		    (unsigned long long)st.marks);
}
