/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the fd budget.  Workers inherit RLIMIT_NOFILE from the
 * master; each needs room for its connection table, and the master for
 * every slot's fds.  The soft limit is raised to what the larger needs, up
 * to the hard limit. */
#ifndef TUNNELD_FDLIMIT_H
#define TUNNELD_FDLIMIT_H

#include <stdbool.h>

#include "conf/config.h"

/* Raise the soft RLIMIT_NOFILE for cfg with n workers.  When the hard limit
 * is too low: at start, log both numbers and the keys to lower and return
 * -EMFILE (tunneld refuses to start); on reload (at_start false) warn and
 * return 0.  0, or -errno logged. */
int fdlimit_apply(const struct cfg *cfg, unsigned n, bool at_start);

#endif
