/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): directories for the control socket and the workers'
 * chroot, and fd closing (see fsutil.h).  Owns nothing. */
#include "config.h"
#include "daemon/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int mkdir_parents(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}
