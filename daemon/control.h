/* Master (root): the control socket that tunnelctl talks to.  One request
 * line in, one JSON document out, then the connection is closed.  The
 * master owns the listening fd; control.c keeps only the ops it was opened
 * with (struct control_ops) and owns nothing else between calls. */
#ifndef TUNNELD_CONTROL_H
#define TUNNELD_CONTROL_H

#include <time.h>

struct sess_table;
struct session;

/* Longest request line, newline included; a longer one drops the client. */
#define CONTROL_LINE_MAX 512

/* What the commands see of the master, given at control_open(). */
struct control_ops {
	struct sess_table *sessions; /* read by list/show/status, ended by disconnect */
	unsigned n_workers;
	const char *version;
	time_t started;
	int (*worker_pid)(unsigned i); /* 0 if not running */
	/* End the session: its client gets a DISCONNECT frame.  0 or -errno.
	 * May free the slot of s (sessions.h: used = false). */
	int (*disconnect)(struct session *s);
	void (*reload)(void);			/* acted on by the loop, like SIGHUP */
	void (*stop)(void);			/* acted on by the loop, like SIGINT */
	void (*drain)(void);			/* acted on by the loop, like SIGQUIT */
	unsigned long (*password_checks)(void); /* since the start; NULL: none */
};

/* Bind the socket at path (mode 0600, parent directories created 0755), a
 * stale socket file being replaced, and listen.  *fd is non-blocking and
 * CLOEXEC.  The commands use a copy of *ops from then on.  0, or -errno:
 * -EADDRINUSE when a live server answers there, -EEXIST when path is
 * something other than a socket, -ENAMETOOLONG. */
int control_open(const char *path, const struct control_ops *ops, int *fd);

/* Close the listening socket and remove its file. */
void control_close(int fd, const char *path);

/* The listening fd is readable: serve the waiting clients, each to the end
 * (read one line, run it, write the reply, close).  Bounded: at most
 * CONTROL_ACCEPT_BATCH clients per call, each given CONTROL_READ_MS to send
 * its line and CONTROL_WRITE_MS to take its reply; the rest stay queued and
 * epoll (level-triggered) reports the fd again. */
void control_on_listen(int lfd);

#endif
