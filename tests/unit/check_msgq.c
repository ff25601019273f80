/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the master's per-worker FIFO of control messages
 * (daemon/msgq.c): order across wrap-around and growth, the bound, reuse;
 * and the channel that uses it (daemon/wchan.c): with the worker's socket
 * full, every message waits in order, and the variable-size ones (a new
 * certificate, the groups' policy, the services' listeners) each keep
 * their own place, the newest of a kind replacing an older one; and a
 * gone worker's last reports are taken at its reap, its requests not. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "daemon/msgq.h"
#include "daemon/wchan.h"

static struct ipc_msg numbered(uint32_t n)
{
	struct ipc_msg m = {.type = IPC_KICK};

	m.u.kick.sess_id = n;
	return m;
}

START_TEST(test_fifo_through_wrap_and_growth)
{
	struct msgq q = {0};
	uint32_t in = 0, out = 0;

	ck_assert_ptr_null(msgq_front(&q));
	/* Interleave pushes and pops so the ring wraps, then grows while
	 * wrapped: the order must survive both. */
	for (int round = 0; round < 50; round++) {
		for (int k = 0; k < 7; k++) {
			struct ipc_msg m = numbered(in++);
			ck_assert_int_eq(msgq_push(&q, &m, 1u << 20), 0);
		}
		for (int k = 0; k < 5; k++) {
			ck_assert_ptr_nonnull(msgq_front(&q));
			ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, out++);
			msgq_pop(&q);
		}
	}
	ck_assert_uint_eq(q.len, in - out);
	ck_assert_uint_ge(q.cap, q.len);
	while (msgq_front(&q)) {
		ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, out++);
		msgq_pop(&q);
	}
	ck_assert_uint_eq(out, in);
	msgq_pop(&q); /* popping an empty queue is harmless */
	ck_assert_uint_eq(q.len, 0);
	msgq_free(&q);
}
END_TEST

START_TEST(test_bound)
{
	struct msgq q = {0};
	struct ipc_msg m = numbered(1);
	unsigned n = 0;

	while (msgq_push(&q, &m, 128) == 0)
		n++;
	ck_assert_uint_eq(n, 128);
	ck_assert_int_eq(msgq_push(&q, &m, 128), -ENOBUFS);
	ck_assert_uint_eq(q.len, 128); /* nothing lost from the queue itself */
	msgq_free(&q);
	ck_assert_ptr_null(q.v);
	ck_assert_uint_eq(q.len, 0);
	/* Reusable after free. */
	ck_assert_int_eq(msgq_push(&q, &m, 128), 0);
	ck_assert_uint_eq(msgq_front(&q)->u.kick.sess_id, 1);
	msgq_free(&q);
}
END_TEST

/* A variable-size message: its type, then text. */
static size_t varmsg(uint8_t *buf, uint32_t type, const char *text)
{
	memcpy(buf, &type, sizeof(type));
	memcpy(buf + sizeof(type), text, strlen(text) + 1);
	return sizeof(type) + strlen(text) + 1;
}

static void no_msg(unsigned w, struct ipc_msg *m)
{
	(void)w;
	(void)m;
	ck_abort_msg("the worker end sent nothing");
}

/* What the worker end received, in order: "n<number>" for an IPC_KICK,
 * "<type>:<text>[+fd]" for the others. */
static char got[4096][48];
static unsigned n_got;

static void receive(int sock)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	uint8_t buf[sizeof(struct ipc_msg)];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *h;
	uint32_t type;
	ssize_t n;

	while ((n = recvmsg(sock, &mh, MSG_DONTWAIT)) > 0) {
		ck_assert_uint_lt(n_got, 4096);
		memcpy(&type, buf, sizeof(type));
		if (type == IPC_KICK) {
			ck_assert_int_eq(n, sizeof(struct ipc_msg));
			snprintf(got[n_got++], sizeof(got[0]), "n%u",
				 (unsigned)((struct ipc_msg *)buf)->u.kick.sess_id);
		} else {
			int fd = -1;
			char probe;

			h = CMSG_FIRSTHDR(&mh);
			if (h && h->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(h), sizeof(fd));
			/* The fd is the read end of the test's pipe: the
			 * byte written into it must be there. */
			if (fd >= 0) {
				ck_assert_int_eq(read(fd, &probe, 1), 1);
				ck_assert_int_eq(probe, 'x');
				close(fd);
			}
			snprintf(got[n_got++], sizeof(got[0]), "%u:%.30s%s", type,
				 (char *)buf + sizeof(type), fd >= 0 ? "+fd" : "");
		}
		mh.msg_controllen = sizeof(cm.b);
	}
}

static int position(const char *what)
{
	for (unsigned i = 0; i < n_got; i++)
		if (strcmp(got[i], what) == 0)
			return (int)i;
	return -1;
}

START_TEST(test_wchan_kinds_keep_their_place)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), cipc, clog, pfd[2];
	uint8_t buf[256];
	char want[48];
	uint32_t i = 0, before_tls, before_policy;
	struct ipc_msg m;

	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(wchan_init(ep, 1, no_msg), 0);
	ck_assert_int_eq(wchan_open(0, &cipc, &clog), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], "x", 1), 1);
	/* Fill the socket: the first message that has to wait ends it. */
	while (wchan_waited() == 0) {
		ck_assert_uint_lt(i, 4000);
		m = numbered(i++);
		wchan_send(0, &m);
	}
	before_tls = i;
	ck_assert_int_eq(wchan_send_raw(0, buf, varmsg(buf, IPC_TLS, "cert-1")), 0);
	m = numbered(i++);
	wchan_send(0, &m);
	before_policy = i;
	ck_assert_int_eq(wchan_send_raw(0, buf, varmsg(buf, IPC_POLICY, "policy-1")), 0);
	/* Newer ones of each kind: they replace the waiting ones. */
	ck_assert_int_eq(wchan_send_raw(0, buf, varmsg(buf, IPC_TLS, "cert-2")), 0);
	ck_assert_int_eq(wchan_send_fds(0, buf, varmsg(buf, IPC_SVC, "svc-1"), &pfd[0], 1), 0);
	close(pfd[0]); /* the channel holds its own copy while it waits */
	m = numbered(i++);
	wchan_send(0, &m);
	ck_assert_int_eq(wchan_send_raw(0, buf, varmsg(buf, IPC_POLICY, "policy-2")), 0);
	/* The worker reads; each EPOLLOUT sends what fits. */
	for (int round = 0; round < 10000 && n_got < i + 3; round++) {
		receive(cipc);
		wchan_on_ipc(0, EPOLLOUT);
	}
	receive(cipc);
	ck_assert_uint_eq(n_got, i + 3);
	for (uint32_t k = 0; k < i; k++) { /* every fixed-size one, in order */
		snprintf(want, sizeof(want), "n%u", k);
		ck_assert_int_eq(position(want),
				 (int)(k + (k >= before_tls) + 2 * (k >= before_policy)));
	}
	/* The newest of each kind, where the first of its kind waited. */
	snprintf(want, sizeof(want), "%u:cert-2", IPC_TLS);
	ck_assert_int_eq(position(want), (int)before_tls);
	snprintf(want, sizeof(want), "%u:policy-2", IPC_POLICY);
	ck_assert_int_eq(position(want), (int)before_policy + 1);
	snprintf(want, sizeof(want), "%u:svc-1+fd", IPC_SVC);
	ck_assert_int_eq(position(want), (int)before_policy + 2);
	/* A fixed-size type has no place of its own. */
	ck_assert_int_eq(wchan_send_raw(0, buf, varmsg(buf, IPC_KICK, "fixed-size")), -EINVAL);
	close(pfd[1]);
	close(cipc);
	close(clog);
	wchan_free();
	close(ep);
}
END_TEST

static uint32_t taken[8];
static unsigned n_taken;

static void take_msg(unsigned w, struct ipc_msg *m)
{
	ck_assert_uint_eq(w, 0);
	ck_assert_uint_lt(n_taken, 8);
	taken[n_taken++] = m->type == IPC_CLOSED ? 1000 + m->u.closed.sess_id : m->type;
}

static void worker_says(int fd, uint32_t type, uint32_t sess_id)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	if (type == IPC_CLOSED || type == IPC_STATS) {
		m.u.closed.sess_id = sess_id;
		m.u.closed.ctr.rx_pkts = 8;
		snprintf(m.u.closed.reason, sizeof(m.u.closed.reason), "server restarting");
	}
	ck_assert_int_eq(send(fd, &m, sizeof(m), 0), (ssize_t)sizeof(m));
}

/* A worker that closed its tunnels and exited before the master read the
 * reports (the reap came first): the counters still arrive, in order;
 * what asked for an answer does not. */
START_TEST(test_wchan_close_takes_last_reports)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), cipc, clog;

	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(wchan_init(ep, 1, take_msg), 0);
	ck_assert_int_eq(wchan_open(0, &cipc, &clog), 0);
	worker_says(cipc, IPC_STATS, 7);
	worker_says(cipc, IPC_READY, 0);
	worker_says(cipc, IPC_CLOSED, 7);
	worker_says(cipc, IPC_CLOSED, 9);
	close(cipc);
	close(clog);
	wchan_close(0);
	ck_assert_uint_eq(n_taken, 3);
	ck_assert_uint_eq(taken[0], IPC_STATS);
	ck_assert_uint_eq(taken[1], 1007);
	ck_assert_uint_eq(taken[2], 1009);
	ck_assert(!wchan_up(0));
	wchan_free();
	close(ep);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("msgq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fifo_through_wrap_and_growth);
	tcase_add_test(tc, test_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("wchan");
	tcase_add_test(tc, test_wchan_kinds_keep_their_place);
	tcase_add_test(tc, test_wchan_close_takes_last_reports);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
