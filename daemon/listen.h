/* Master: listening sockets, one SO_REUSEPORT socket per worker and per
 * listen address, so the kernel spreads connections over the workers. */
#ifndef TUNNELD_LISTEN_H
#define TUNNELD_LISTEN_H

#include "conf/config.h"

/* Open a non-blocking, close-on-exec TCP listener on l.  0 / -errno. */
int listen_open(const struct cfg_listen *l, int *fd);

#endif
