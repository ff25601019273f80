/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the DTLS sockets (udp.h).  Owns every worker's UDP
 * sockets, the UDP hand-off inboxes and the peer map of the steering
 * program; sockets live for the daemon's lifetime, so a respawned worker
 * takes over its own in the same place of the reuseport group. */
#include "config.h"
#include "daemon/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/fsutil.h"
#include "daemon/pktpath.h"
#include "daemon/udpsteer.h"

#define UDP_BUF	  (4 << 20) /* socket buffers: bursts of datagrams */
#define PEERS_PER 4	    /* steering map entries per client allowed */

static unsigned n_workers, n_listen;
static int *fds;	/* n_workers x n_listen, worker-major */
static uint16_t *ports; /* n_listen */
static int (*inbox)[2]; /* per worker: [0] receive, [1] send */
static int *inbox_send; /* the send ends, by worker */
static int map_fd = -1; /* steering peer map, -1 without steering */
static int gro_err;	/* errno of a socket that refused UDP_GRO, 0: none did */

static int open_one(const struct cfg_listen *l, uint16_t port, int *out)
{
	struct sockaddr_storage ss = l->ss;
	int one = 1, big = UDP_BUF, fd, r;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, l->sslen) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Merged datagrams where the device does GRO (worker/udpio.c cuts
	 * them apart); a kernel without it just delivers them one by one. */
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		gro_err = errno;
	/* Beyond rmem_max: we are root here.  A smaller buffer only drops
	 * more under bursts. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	*out = fd;
	return 0;
}

static int open_all(const struct cfg *cfg)
{
	int r;

	for (unsigned k = 0; k < n_listen; k++) {
		const struct sockaddr_storage *ss = &cfg->listen[k].ss;
		uint16_t tcp =
		    ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
						   : ((const struct sockaddr_in6 *)ss)->sin6_port);

		ports[k] = cfg->dtls_port ? (uint16_t)cfg->dtls_port : tcp;
		/* Worker order: socket w of the group is worker w's
		 * (udpsteer.c picks sockets by index). */
		for (unsigned w = 0; w < n_workers; w++) {
			r = open_one(&cfg->listen[k], ports[k], &fds[w * n_listen + k]);
			if (r < 0)
				return log_errno(r, "UDP socket on %s port %u", cfg->listen[k].text,
						 ports[k]);
		}
	}
	for (unsigned w = 0; w < n_workers; w++) {
		int big = UDP_BUF;

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, inbox[w]) < 0)
			return log_errno(-errno, "socketpair");
		(void)setsockopt(inbox[w][0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		(void)setsockopt(inbox[w][1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
		inbox_send[w] = inbox[w][1];
	}
	return 0;
}

/* The program on each listen address's group; without it datagrams reach
 * workers by the kernel's hash and the workers hand them over. */
static void steer(const struct cfg *cfg)
{
	const char *off = getenv("TUNNELD_NO_STEERING");
	int *first = calloc(n_listen, sizeof(int));

	if (!first || n_workers < 2) {
		pktpath_off(&pktpath()->dtls_steering, "%s",
			    first ? "one worker: nothing to steer" : strerror(ENOMEM));
		free(first);
		return;
	}
	if (off && *off && strcmp(off, "0")) {
		pktpath_off(&pktpath()->dtls_steering, "TUNNELD_NO_STEERING is set");
		log_info("DTLS steering off (TUNNELD_NO_STEERING): datagrams reach workers by "
			 "hash and are handed over");
		free(first);
		return;
	}
	for (unsigned k = 0; k < n_listen; k++)
		first[k] = fds[k]; /* worker 0's socket of each group */
	map_fd = udpsteer_attach(first, n_listen, n_workers, PEERS_PER * cfg->max_clients + 64);
	free(first);
	if (map_fd < 0) {
		pktpath_off(&pktpath()->dtls_steering, "the kernel refused the program: %s",
			    pktpath_bpf_why(map_fd));
		log_warn("DTLS steering program not attached (%s): datagrams reach workers by "
			 "hash and are handed over",
			 pktpath_bpf_why(map_fd));
		map_fd = -1;
		return;
	}
	pktpath_on(&pktpath()->dtls_steering);
	log_info("DTLS steering on: each datagram goes to its session's worker");
}

/* For tunnelctl status: UDP GRO as the sockets took it, and UDP GSO as
 * the workers will try it (worker/udpout.c: on unless TUNNELD_NO_UDP_GSO;
 * a device that refuses it later turns it off in that worker, with a log
 * line).  The kernel's support is probed on a socket of its own: the
 * option set on a real one would segment all of its sends. */
static void record_offloads(void)
{
	struct pktpath *pp = pktpath();
	const char *off = getenv("TUNNELD_NO_UDP_GSO");
	int size = 1200, fd, r = 0;

	if (gro_err)
		pktpath_off(&pp->udp_gro, "refused by the kernel: %s", strerror(gro_err));
	else
		pktpath_on(&pp->udp_gro);
	if (off && *off && strcmp(off, "0")) {
		pktpath_off(&pp->udp_gso, "TUNNELD_NO_UDP_GSO is set");
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)) < 0)
		r = errno;
	if (fd >= 0)
		close(fd);
	if (r)
		pktpath_off(&pp->udp_gso, "refused by the kernel: %s", strerror(r));
	else
		pktpath_on(&pp->udp_gso);
}

/* DTLS is off, and with it what it would have used. */
static void record_off(const char *why)
{
	struct pktpath *pp = pktpath();

	pktpath_off(&pp->dtls, "%s", why);
	pktpath_off(&pp->dtls_steering, "DTLS is off");
	pktpath_off(&pp->udp_gso, "DTLS is off");
	pktpath_off(&pp->udp_gro, "DTLS is off");
}

bool udp_setup(const struct cfg *cfg, unsigned n)
{
	if (!cfg->dtls_enable) {
		record_off("dtls.enable is false");
		return false;
	}
	n_workers = n;
	n_listen = cfg->n_listen;
	fds = malloc(sizeof(int) * n * n_listen);
	ports = calloc(n_listen, sizeof(*ports));
	inbox = malloc(sizeof(*inbox) * n);
	inbox_send = malloc(sizeof(int) * n);
	if (!fds || !ports || !inbox || !inbox_send) {
		log_errno(-ENOMEM, "DTLS sockets");
		goto off;
	}
	for (unsigned i = 0; i < n * n_listen; i++)
		fds[i] = -1;
	for (unsigned w = 0; w < n; w++)
		inbox[w][0] = inbox[w][1] = inbox_send[w] = -1;
	if (open_all(cfg) < 0)
		goto off;
	steer(cfg);
	record_offloads();
	pktpath_on(&pktpath()->dtls);
	pktpath()->udp_sockets = n_listen;
	return true;
off:
	record_off("its UDP sockets could not be opened (see the log)");
	log_warn("DTLS is off: clients will use TLS only");
	udp_free();
	return false;
}

const int *udp_fds(unsigned w)
{
	return fds && w < n_workers ? &fds[w * n_listen] : NULL;
}

const uint16_t *udp_ports(void)
{
	return fds ? ports : NULL;
}

int udp_inbox(unsigned w)
{
	return fds && w < n_workers ? inbox[w][0] : -1;
}

const int *udp_peer_inboxes(void)
{
	return fds ? inbox_send : NULL;
}

bool udp_steered(void)
{
	return map_fd >= 0;
}

void udp_close_others(unsigned w)
{
	if (!fds)
		return;
	for (unsigned j = 0; j < n_workers; j++) {
		if (j == w) {
			close_fd(&inbox[j][1]); /* others write to it, not we */
			inbox_send[j] = -1;
			continue;
		}
		close_fd(&inbox[j][0]);
		for (unsigned k = 0; k < n_listen; k++)
			close_fd(&fds[j * n_listen + k]);
	}
	close_fd(&map_fd);
}

void udp_peer(unsigned w, const struct ipc_peer *p, bool up)
{
	struct sockaddr_storage ss;
	int r;

	if (map_fd < 0)
		return;
	memset(&ss, 0, sizeof(ss));
	if (p->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(p->port);
		memcpy(&s->sin_addr, p->addr, 4);
	} else if (p->family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(p->port);
		memcpy(&s->sin6_addr, p->addr, 16);
	} else {
		return;
	}
	r = up ? udpsteer_set(map_fd, (struct sockaddr *)&ss, w)
	       : udpsteer_unset(map_fd, (struct sockaddr *)&ss, 0);
	if (r < 0)
		log_debug("DTLS steering map: %s", strerror(-r));
}

void udp_free(void)
{
	for (unsigned i = 0; fds && i < n_workers * n_listen; i++)
		close_fd(&fds[i]);
	for (unsigned w = 0; inbox && w < n_workers; w++) {
		close_fd(&inbox[w][0]);
		close_fd(&inbox[w][1]);
	}
	close_fd(&map_fd);
	free(fds);
	free(ports);
	free(inbox);
	free(inbox_send);
	fds = NULL;
	ports = NULL;
	inbox = NULL;
	inbox_send = NULL;
}
