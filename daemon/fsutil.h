/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): two small helpers of its files: mkdir -p of a path's
 * directories, and closing an fd exactly once.  Owns nothing. */
#ifndef TUNNELD_FSUTIL_H
#define TUNNELD_FSUTIL_H

#include <sys/types.h>

/* mkdir -p of the directories above the last component of path ("/a/b/c":
 * /a and /a/b), with mode for those it creates; existing ones are fine.
 * 0, or -errno of the first mkdir that failed (-ENAMETOOLONG when path
 * does not fit PATH_MAX). */
int mkdir_parents(const char *path, mode_t mode);

/* close(*fd) unless it is -1, then set it to -1. */
void close_fd(int *fd);

#endif
