/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: accepting connections on the VPN's listeners and the services'.
 * Called by loop.c when a listener is readable; hands each connection
 * that passes admission (conn.c's limits.max-handshakes shares, svc.c's
 * max-connections) to conn_start().  Owns nothing between calls. */
#include "config.h"
#include "worker/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addrkey.h"
#include "common/log.h"

#define ACCEPT_BATCH 64 /* connections accepted per wake-up */

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

/* Accept what lfd has queued (a batch); k: the VPN's listen address
 * index, svc: service slot + 1 (0: the VPN). */
static int accept_batch(int lfd, unsigned k, unsigned svc)
{
	struct sockaddr_storage ss;
	uint8_t addr[ADDRKEY_LEN];
	char peer[64];
	socklen_t sl;
	int budget = ACCEPT_BATCH, fd;

	while (budget-- > 0) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of fds or memory: the connection stays queued and the
			 * listener readable; the caller backs off. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				return -errno;
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_errno(-errno, "accept");
			return 0;
		}
		addrkey_of_sockaddr((const struct sockaddr *)&ss, W.cfg->ipv6_prefix, addr);
		if ((svc && !svc_admit(svc - 1)) ||
		    !conn_admit(addr, !svc && k >= W.env->n_plain)) {
			close(fd);
			continue;
		}
		peer_text(&ss, peer, sizeof(peer));
		conn_start(fd, k, svc, peer, addr);
	}
	return 0;
}

int conn_accept(unsigned k)
{
	return accept_batch(W.env->listen_fds[k], k, 0);
}

int conn_accept_svc(unsigned i)
{
	int lfd = svc_listen_fd(i);

	return lfd < 0 ? 0 : accept_batch(lfd, 0, i + 1);
}
