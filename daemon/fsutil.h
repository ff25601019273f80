/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): small helpers of its files: mkdir -p of a path's
 * directories, closing an fd exactly once, and reading a shared file when
 * it changed.  Owns nothing. */
#ifndef TUNNELD_FSUTIL_H
#define TUNNELD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>

/* mkdir -p of the directories above the last component of path ("/a/b/c":
 * /a and /a/b), with mode for those it creates; existing ones are fine.
 * 0, or -errno of the first mkdir that failed (-ENAMETOOLONG when path
 * does not fit PATH_MAX). */
int mkdir_parents(const char *path, mode_t mode);

/* close(*fd) unless it is -1, then set it to -1. */
void close_fd(int *fd);

/* What was last read of a file another process replaces whole. */
struct fs_seen {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The whole of path, NUL-terminated (malloc'd, the caller frees it), when
 * it is a regular file of at most max bytes (no symlink followed) that
 * changed since *seen (device, inode, size, modification time), which is
 * then updated; NULL when it did not change, is absent, too large or
 * unreadable, or memory is short. */
char *fs_read_changed(const char *path, size_t max, struct fs_seen *seen);

#endif
