/* Master: TUN queue steering.  A small eBPF program attached to the TUN
 * device (TUNSETSTEERINGEBPF) sends each packet to the queue of the worker
 * that owns its destination address, looked up in a BPF array indexed by
 * pool lease and kept by the master; without it the kernel picks a queue
 * by flow hash and the wrong worker has to hand the packet over. */
#ifndef TUNNELD_STEER_H
#define TUNNELD_STEER_H

#include <stdint.h>
#include "common/pool.h"

/* Load the program and its map and attach them through tun_fd (any queue
 * of the device).  Returns the map fd (close-on-exec), or -errno. */
int steer_attach(int tun_fd, const struct pool_geom *g);

/* Packets to lease go to queue q from now on.  0 or -errno. */
int steer_set(int map_fd, uint32_t lease, uint32_t q);

#endif
