/* Master (root): config, TUN device, listeners, worker slots, the session
 * table and password checks, log forwarding, signals. */
#ifndef TUNNELD_MASTER_H
#define TUNNELD_MASTER_H

#include "conf/config.h"

/* Run the daemon in the foreground on a loaded config; returns the exit
 * status.  Takes ownership of cfg. */
int master_run(struct cfg *cfg);

#endif
