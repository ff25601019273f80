/* Master: daemon manners for SysV-style starts: --daemon and --pid-file. */
#ifndef TUNNELD_PIDFILE_H
#define TUNNELD_PIDFILE_H

/* Create/lock path and write our PID.  A file locked by a live tunneld is
 * -EEXIST (logged with its PID); a stale one is taken over.  *fd keeps the
 * lock for the daemon's lifetime.  0 or -errno. */
int pidfile_acquire(const char *path, int *fd);
/* Clean exit: remove the file, drop the lock. */
void pidfile_release(const char *path, int fd);

/* fork, setsid, fork, umask 027, chdir /, stdin/stdout to /dev/null.  The
 * original process waits and exits 0 once daemon_ready() is called, or 1
 * if the daemon dies first; so an init script's "start" reports the truth.
 * stderr stays open until daemon_ready(), so start-up errors are seen.
 * Returns 0 in the daemon, -errno on failure (in the original process). */
int daemon_start(void);
/* Tell the waiting parent we are serving; stderr goes to /dev/null. */
void daemon_ready(void);
/* In a forked worker: drop the readiness pipe. */
void daemon_forget(void);

#endif
