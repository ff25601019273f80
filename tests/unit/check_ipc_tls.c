/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/ipc.c, continued from check_ipc.c: the
 * variable-size IPC_TLS, and a longer datagram than the receiver's buffer
 * (MSG_TRUNC). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/check_ipc.h"

/* An IPC_TLS datagram with these declared and actual part lengths, for
 * key generation 7. */
static size_t tls_msg(unsigned char *buf, uint32_t clen, uint32_t plen, size_t body)
{
	struct ipc_tls h = {.type = IPC_TLS, .cert_len = clen, .key_gen = 7, .prio_len = plen};

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 'P', body);
	return sizeof(h) + body;
}

START_TEST(test_tls)
{
	static unsigned char buf[IPC_TLS_MAX + 16];
	const size_t H = sizeof(struct ipc_tls);
	struct ipc_tls h;
	size_t n;

	n = tls_msg(buf, 1000, 30, 1030);
	ck_assert_msg(check_buf(buf, n, IPC_FROM_MASTER, 0) == 0, "%s", err);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_WORKER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "IPC_TLS: sent by the worker"));
	/* One byte more or less than the parts. */
	ck_assert_int_eq(check_buf(buf, n - 1, IPC_FROM_MASTER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "parts add up to 1030 bytes, the datagram carries 1029"));
	n = tls_msg(buf, 1000, 30, 1031);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	/* Every part must be there, and a key generation. */
	n = tls_msg(buf, 0, 30, 30);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	n = tls_msg(buf, 1000, 0, 1000);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	n = tls_msg(buf, 1000, 30, 1030);
	memcpy(&h, buf, sizeof(h));
	h.key_gen = 0;
	memcpy(buf, &h, sizeof(h));
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "key generation 0"));
	/* Lengths that would wrap a 32-bit sum to the right total. */
	n = tls_msg(buf, 0xffffffffu, 31, 30);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not within"));
	n = tls_msg(buf, 0x80000000u, 0x80000000u, 0);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	/* The largest datagram that fits the worker's buffer, and one over. */
	n = tls_msg(buf, IPC_TLS_MAX - H - 1, 1, IPC_TLS_MAX - H);
	ck_assert_msg(check_buf(buf, n, IPC_FROM_MASTER, 0) == 0, "%s", err);
	n = tls_msg(buf, IPC_TLS_MAX - H, 1, IPC_TLS_MAX - H + 1);
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "over"));
	/* Shorter than a header. */
	for (n = 4; n < H; n++)
		ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	/* A NUL inside the priority string; the PEM part is not text-checked. */
	n = tls_msg(buf, 10, 5, 15);
	buf[H + 3] = '\0';
	ck_assert_msg(check_buf(buf, n, IPC_FROM_MASTER, 0) == 0, "%s", err);
	buf[H + 14] = '\0';
	ck_assert_int_eq(check_buf(buf, n, IPC_FROM_MASTER, 0), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
}
END_TEST

/* The wiring common/ipc.h asks for: recv() with MSG_TRUNC into a buffer
 * of the receiver's size reports the whole length of a longer datagram,
 * and ipc_check() refuses it without reading past the buffer. */
START_TEST(test_recv_trunc)
{
	static unsigned char big[IPC_TLS_MAX + 64];
	struct ipc_msg m = valid(IPC_READY), *in;
	int sv[2];
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	in = malloc(sizeof(*in)); /* exact size: ASan and valgrind see over-reads */
	ck_assert_ptr_nonnull(in);

	memcpy(big, &m, sizeof(m));
	ck_assert_int_eq(send(sv[0], big, sizeof(m) + 1, 0), (ssize_t)sizeof(m) + 1);
	n = recv(sv[1], in, sizeof(*in), MSG_TRUNC);
	ck_assert_int_eq(n, (ssize_t)sizeof(m) + 1);
	ck_assert_int_eq(ipc_check(in, (size_t)n, IPC_FROM_WORKER, 0, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "expected"));

	ck_assert_int_eq(send(sv[0], &m, sizeof(m), 0), (ssize_t)sizeof(m));
	n = recv(sv[1], in, sizeof(*in), MSG_TRUNC);
	ck_assert_int_eq(ipc_check(in, (size_t)n, IPC_FROM_WORKER, 0, err, sizeof(err)), 0);

	/* A worker's buffer: an IPC_TLS one byte over IPC_TLS_MAX. */
	n = (ssize_t)tls_msg(big, IPC_TLS_MAX - sizeof(struct ipc_tls), 1,
			     IPC_TLS_MAX - sizeof(struct ipc_tls) + 1);
	ck_assert_int_eq(n, IPC_TLS_MAX + 1);
	ck_assert_int_eq(send(sv[0], big, (size_t)n, 0), n);
	n = recv(sv[1], big, IPC_TLS_MAX, MSG_TRUNC);
	ck_assert_int_eq(n, IPC_TLS_MAX + 1);
	ck_assert_int_eq(ipc_check(big, (size_t)n, IPC_FROM_MASTER, 0, err, sizeof(err)), -EBADMSG);
	free(in);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

void ipc_tls_tests(TCase *t)
{
	tcase_add_test(t, test_tls);
	tcase_add_test(t, test_recv_trunc);
}
