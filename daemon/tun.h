/* Master: the multi-queue TUN device.  Created before the workers are
 * forked; queue i belongs to worker slot i for the daemon's lifetime. */
#ifndef TUNNELD_TUN_H
#define TUNNELD_TUN_H

#include "conf/config.h"
#include "common/pool.h"

/* Create (or attach to) TUN device 'name' with n queues; fds[i] is queue i,
 * non-blocking and close-on-exec.  0 or -errno. */
int tun_create(const char *name, unsigned n, int *fds);

/* Over rtnetlink: set the MTU, add the server's address of each pool
 * (pool index 1, with the pool's prefix length) and bring the link up. */
int tun_configure(const char *name, unsigned mtu, const struct pool_geom *g);

#endif
