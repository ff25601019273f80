/* Master (root): the daemon's main loop over signals, the timer, the worker
 * channels and the control socket; it hands each duty to its owner
 * (master.c lists them). */
#ifndef TUNNELD_MASTER_H
#define TUNNELD_MASTER_H

#include "conf/config.h"

#include <stdbool.h>

struct master_opts {
	bool daemon;	      /* --daemon: detach, report readiness to the starter */
	const char *pid_file; /* --pid-file */
	const char *config;   /* absolute path, for reloads */
};

/* Run the daemon on a loaded config; returns the exit status.  Takes
 * ownership of cfg. */
int master_run(struct cfg *cfg, const struct master_opts *opts);

/* Whether the server drains (SIGQUIT, tunnelctl drain): it takes no new
 * connections and a load balancer should send it none (/healthz). */
bool master_draining(void);

#endif
