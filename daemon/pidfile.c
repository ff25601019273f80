/* Master (root): PID file and daemonizing.  Owns the PID file's fd (and its
 * flock) and the readiness pipe to the process that started us. */
#include "config.h"
#include "daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

static int ready_fd = -1;

int pidfile_acquire(const char *path, int *out)
{
	char buf[32] = "";
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return log_errno(-errno, "PID file %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	/* The lock, not the file's existence, says whether a server runs:
	 * a file left by a crash is simply taken over. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EEXIST : -errno;
		if (r == -EEXIST)
			log_err("PID file %s: tunneld is already running (pid %s)", path, buf);
		else
			log_errno(r, "PID file %s: lock", path);
		close(fd);
		return r;
	}
	if (buf[0])
		log_info("PID file %s: replacing a stale one (pid %s is gone)", path, buf);
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    dprintf(fd, "%d\n", (int)getpid()) < 0) {
		int r = -errno;
		close(fd);
		return log_errno(r, "PID file %s: write", path);
	}
	*out = fd;
	return 0;
}

void pidfile_release(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}

static int to_devnull(int target, int flags)
{
	int fd = open("/dev/null", flags | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (dup2(fd, target) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int daemon_start(void)
{
	int p[2], r;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid > 0) {
		/* The starter: wait for the daemon's word. */
		close(p[1]);
		waitpid(pid, NULL, 0); /* the intermediate child exits at once */
		while ((r = (int)read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		_exit(r == 1 && c == '1' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	/* A second fork: the daemon is not a session leader, so it can never
	 * acquire a controlling terminal. */
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	umask(027);
	if (chdir("/") < 0 || to_devnull(STDIN_FILENO, O_RDONLY) < 0 ||
	    to_devnull(STDOUT_FILENO, O_WRONLY) < 0) {
		fprintf(stderr, "tunneld: daemonizing: %s\n", strerror(errno));
		_exit(1);
	}
	ready_fd = p[1];
	return 0;
}

void daemon_ready(void)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "1", 1) != 1)
		log_warn("could not tell the starting process we are ready");
	close(ready_fd);
	ready_fd = -1;
	if (to_devnull(STDERR_FILENO, O_WRONLY) < 0)
		log_warn("stderr to /dev/null: %s", strerror(errno));
}

void daemon_forget(void)
{
	if (ready_fd >= 0)
		close(ready_fd);
	ready_fd = -1;
}
