/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): directories for the control socket and the workers'
 * chroot, fd closing, and the fleet's shared files read when they change
 * (see fsutil.h).  Owns nothing. */
#include "config.h"
#include "daemon/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
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

char *fs_read_changed(const char *path, size_t max, struct fs_seen *seen)
{
	struct stat st;
	char *text;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max ||
	    (seen->present && seen->dev == st.st_dev && seen->ino == st.st_ino &&
	     seen->size == st.st_size && seen->mtime.tv_sec == st.st_mtim.tv_sec &&
	     seen->mtime.tv_nsec == st.st_mtim.tv_nsec)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	while (text && got < (size_t)st.st_size &&
	       (r = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	if (!text)
		return NULL;
	text[got] = '\0';
	*seen = (struct fs_seen){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
	return text;
}
