/* Master (root, so it may bind low ports): opens the listeners before
 * fork.  Each worker slot keeps its own socket of the reuseport group. */
#include "config.h"
#include "daemon/listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

int listen_open(const struct cfg_listen *l, int *out)
{
	int one = 1, fd, r;

	fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    /* Accepted sockets inherit it: CSTP frames are latency-sensitive
	     * and we batch ourselves before each send(). */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	if (l->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) < 0)
		goto fail;
	if (listen(fd, 4096) < 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}
