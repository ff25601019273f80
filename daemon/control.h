/* Master (root): the control socket that tunnelctl talks to.  One request
 * line in, one JSON document out, then the connection is closed.  The
 * master owns the listening fd; control.c owns nothing between calls. */
#ifndef TUNNELD_CONTROL_H
#define TUNNELD_CONTROL_H

#include <time.h>

struct sess_table;
struct session;

/* Longest request line, newline included; a longer one drops the client. */
#define CONTROL_LINE_MAX 512

/* Bind the socket at path (mode 0600, parent directories created 0755), a
 * stale socket file being replaced, and listen.  *fd is non-blocking and
 * CLOEXEC.  0, or -errno: -EADDRINUSE when a live server answers there,
 * -EEXIST when path is something other than a socket, -ENAMETOOLONG. */
int control_open(const char *path, int *fd);

/* Close the listening socket and remove its file. */
void control_close(int fd, const char *path);

/* The listening fd is readable: serve the waiting clients, each to the end
 * (read one line, run it, write the reply, close).  Bounded: at most
 * CONTROL_ACCEPT_BATCH clients per call, each given CONTROL_READ_MS to send
 * its line and CONTROL_WRITE_MS to take its reply; the rest stay queued and
 * epoll (level-triggered) reports the fd again. */
void control_on_listen(int lfd);

/* Provided by the master (master.c) for the commands. */
struct sess_table *master_sessions(void); /* read-only view for list/show */
unsigned master_worker_count(void);
int master_worker_pid(unsigned i); /* 0 if not running */
/* End the session: its client gets a DISCONNECT frame.  0 or -errno.  May
 * free the slot of s (sessions.h: used = false). */
int master_disconnect(struct session *s);
void master_request_reload(void); /* acted on by the loop, like SIGHUP */
void master_request_stop(void);	  /* acted on by the loop, like SIGTERM */
const char *master_version(void);
time_t master_started(void);

#endif
