/* Master: the multi-queue TUN device.  Created before the workers are
 * forked; queue i belongs to worker slot i for the daemon's lifetime. */
#ifndef TUNNELD_TUN_H
#define TUNNELD_TUN_H

#include <stdbool.h>

#include "conf/config.h"
#include "common/pool.h"

/* Create TUN device 'name' with n queues; fds[i] is queue i, non-blocking
 * and close-on-exec.  0 or -errno; -EBUSY (logged) when a device of that
 * name exists: it is never joined.
 *
 * Offloads are on unless the master's environment has TUNNELD_NO_OFFLOAD
 * set (to anything but "" or "0"), or the kernel refuses them: every
 * packet on the queues then carries a 10-byte little-endian virtio_net_hdr
 * (IFF_VNET_HDR, TUNSETVNETLE), reads may return TCP super-packets of up to
 * 64 KiB and writes may carry them (TUN_F_CSUM, TSO4, TSO6, TSO_ECN).  UDP
 * super-packets too (TUN_F_USO4, USO6) where the kernel takes them (6.2+)
 * and TUNNELD_NO_USO is not set. */
int tun_create(const char *name, unsigned n, int *fds);

/* Whether the queues tun_create() made carry vnet headers. */
bool tun_offload(void);
/* Whether they also carry UDP super-packets (GSO_UDP_L4). */
bool tun_uso(void);

/* Over rtnetlink: set the MTU, add the server's address of each pool
 * (pool index 1, with the pool's prefix length) and bring the link up. */
int tun_configure(const char *name, unsigned mtu, const struct pool_geom *g);

#endif
