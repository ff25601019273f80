/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS accounting (see acct.h).  Owns the FIFO of
 * records and the accounting process (pid, socket, back-off).  One record
 * is out at a time, the head of the FIFO: it leaves the FIFO only when
 * the process answers for it, so the order of a session's Start, Interims
 * and Stop is the order they happened in, across retries and restarts of
 * the process. */
#include "config.h"
#include "daemon/acct.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/events.h"
#include "daemon/fsutil.h"
#include "daemon/radclient.h"

#define RETRY_PAUSE 5 /* s before a record no server answered is sent again */

struct rec {
	struct rec *next;
	struct acct_rec r;
	time_t event; /* when it happened: Acct-Delay-Time counts from here */
};

static struct {
	struct acct_env env;
	int ep, fd; /* our end of the process's socket, -1: not running */
	pid_t pid;
	struct rec *head, *tail;
	unsigned n;
	bool busy;	 /* the head is with the process */
	time_t retry_at; /* the head waits until then (a server did not answer) */
	time_t started, respawn_at;
	unsigned quick_deaths;
	uint32_t next_id;
	unsigned long refused; /* records the full queue refused, not yet logged */
	time_t refused_logged;
	bool stopping;
} A = {.ep = -1, .fd = -1};

/* ---- the exactly-once state ------------------------------------------ */

int acct_begin(uint8_t *st)
{
	if (*st != ACCT_NONE)
		return 0;
	*st = ACCT_STARTED;
	return ACCT_START;
}

int acct_interim(const uint8_t *st)
{
	return *st == ACCT_STARTED ? ACCT_INTERIM : 0;
}

int acct_end(uint8_t *st)
{
	if (*st != ACCT_STARTED)
		return 0;
	*st = ACCT_STOPPED;
	return ACCT_STOP;
}

/* ---- the process ------------------------------------------------------ */

/* The accounting process: confined as a RADIUS hashing process is, then
 * each record on fd is sent and answered, until fd closes. */
static void __attribute__((noreturn))
acct_main(int fd, struct rc_conf *rh, const struct hasher_id *id)
{
	const char *failed = hasher_confine(id, true);
	struct acct_rec r;
	struct acct_ans a;
	ssize_t n;

	if (failed) {
		dprintf(STDERR_FILENO, "tunneld: acct: error: %s: %s\n", failed, strerror(errno));
		_exit(1);
	}
	for (;;) {
		n = recv(fd, &r, sizeof(r), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			_exit(0); /* the master is done with us */
		if (n != (ssize_t)sizeof(r))
			_exit(2);
		r.user[sizeof(r.user) - 1] = r.peer[sizeof(r.peer) - 1] = '\0';
		if (r.class_len > RADIUS_CLASS_MAX)
			r.class_len = 0;
		a.id = r.id;
		a.result = radclient_acct(rh, &r);
		if (send(fd, &a, sizeof(a), MSG_NOSIGNAL) != (ssize_t)sizeof(a))
			_exit(errno == EPIPE ? 0 : 3);
	}
}

static void __attribute__((noreturn)) child(int fd)
{
	struct rc_conf *rh;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	A.env.forget();
	acct_forget();
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
		_exit(1);
	if (close_range(4, ~0u, 0) < 0)
		_exit(1);
	/* A stop of the whole service (SIGTERM to the group) must not cost
	 * the Stops: the master closes our socket when it is done. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_NAME, "tunneld-acct");
	rh = A.env.open();
	if (!rh)
		_exit(1);
	acct_main(3, rh, &A.env.id);
}

static int spawn(void)
{
	int sv[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return log_errno(-errno, "accounting process: socketpair");
	r = fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
	if (r == 0)
		r = ev_ctl(A.ep, EPOLL_CTL_ADD, sv[0], EPOLLIN, EV_ACCT, 0);
	if (r < 0) {
		log_errno(r, "accounting process: set-up");
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = log_errno(-errno, "accounting process: fork");
		(void)epoll_ctl(A.ep, EPOLL_CTL_DEL, sv[0], NULL);
		goto fail;
	}
	if (pid == 0)
		child(sv[1]);
	close(sv[1]);
	A.pid = pid;
	A.fd = sv[0];
	A.started = time(NULL);
	A.respawn_at = 0;
	A.busy = false;
	log_debug("accounting process started as pid %d", (int)pid);
	return 0;
fail:
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* The process is gone: what it was sending goes again with the next. */
static void mark_dead(void)
{
	time_t now = time(NULL);
	unsigned delay;

	if (A.fd < 0)
		return;
	(void)epoll_ctl(A.ep, EPOLL_CTL_DEL, A.fd, NULL);
	close_fd(&A.fd);
	A.busy = false;
	A.quick_deaths = now - A.started < 5 ? A.quick_deaths + 1 : 0;
	delay = A.quick_deaths ? 1u << (A.quick_deaths - 1) : 0;
	A.respawn_at = now + (delay > 30 ? 30 : delay);
	if (!A.stopping)
		log_err("accounting process died: respawn in %u s", delay > 30 ? 30 : delay);
}

/* Give the process the head of the FIFO, if it is free and may go. */
static void dispatch(void)
{
	time_t now = time(NULL);
	struct acct_rec *r;

	if (A.fd < 0 || A.busy || !A.head || now < A.retry_at)
		return;
	r = &A.head->r;
	r->delay = now > A.head->event ? (uint32_t)(now - A.head->event) : 0;
	if (send(A.fd, r, sizeof(*r), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(*r)) {
		log_warn("accounting process: cannot send it a record: %s", strerror(errno));
		if (A.pid > 0)
			(void)kill(A.pid, SIGKILL);
		mark_dead();
		return;
	}
	A.busy = true;
}

int acct_setup(int ep, const struct acct_env *env)
{
	A.env = *env;
	A.ep = ep;
	return ep < 0 ? 0 : spawn();
}

/* ---- the queue -------------------------------------------------------- */

static void pop_head(void)
{
	struct rec *h = A.head;

	A.head = h->next;
	if (!A.head)
		A.tail = NULL;
	A.n--;
	free(h);
}

/* Make room for a Start or a Stop: the oldest Interim not being sent. */
static bool drop_interim(void)
{
	struct rec **pp = &A.head, *prev = NULL;

	if (A.busy && A.head) {
		prev = A.head;
		pp = &A.head->next;
	}
	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		struct rec *d = *pp;
		if (d->r.kind != ACCT_INTERIM)
			continue;
		*pp = d->next;
		if (A.tail == d)
			A.tail = prev;
		A.n--;
		free(d);
		return true;
	}
	return false;
}

static void log_refused(time_t now)
{
	if (!A.refused || now == A.refused_logged)
		return;
	log_warn("radius: %lu accounting record(s) dropped: radius.acct-queue (%u) is full, "
		 "the servers do not answer",
		 A.refused, A.env.queue_max);
	A.refused = 0;
	A.refused_logged = now;
}

int acct_queue(const struct acct_rec *r)
{
	time_t now = time(NULL);
	struct rec *e;

	if (A.n >= A.env.queue_max && (r->kind == ACCT_INTERIM || !drop_interim())) {
		A.refused++;
		log_refused(now);
		return -ENOBUFS;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = *r;
	e->r.id = ++A.next_id;
	e->event = now;
	if (A.tail)
		A.tail->next = e;
	else
		A.head = e;
	A.tail = e;
	A.n++;
	dispatch();
	return 0;
}

unsigned acct_pending(void)
{
	return A.n;
}

bool acct_nth(unsigned i, struct acct_rec *r)
{
	const struct rec *e = A.head;

	while (e && i--)
		e = e->next;
	if (e)
		*r = e->r;
	return e != NULL;
}

static const char *kind_name(uint32_t kind)
{
	return kind == ACCT_START ? "Start" : kind == ACCT_STOP ? "Stop" : "Interim-Update";
}

/* The answer for the head: gone when acknowledged or refused for good;
 * kept and sent again after a pause when no server answered. */
static void answered(const struct acct_ans *a)
{
	struct acct_rec *r = &A.head->r;

	A.busy = false;
	if (a->result == -ETIMEDOUT) {
		log_warn("radius: accounting %s of session %016llx: no server answered; sent "
			 "again in %d s (%u record(s) waiting)",
			 kind_name(r->kind), (unsigned long long)r->sid, RETRY_PAUSE, A.n);
		A.retry_at = time(NULL) + RETRY_PAUSE;
		return;
	}
	if (a->result < 0)
		log_err("radius: accounting %s of session %016llx dropped: %s", kind_name(r->kind),
			(unsigned long long)r->sid, strerror(-a->result));
	else
		log_debug("radius: accounting %s of session %016llx acknowledged",
			  kind_name(r->kind), (unsigned long long)r->sid);
	pop_head();
}

void acct_on_event(uint32_t events)
{
	struct acct_ans a;
	ssize_t n;

	(void)events;
	if (A.fd < 0)
		return;
	n = recv(A.fd, &a, sizeof(a), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(a) && A.busy && A.head && a.id == A.head->r.id) {
		answered(&a);
		dispatch();
		return;
	}
	if (n > 0 && !A.stopping)
		log_err("accounting process: a broken answer (%zd bytes): restarting it", n);
	if (n > 0 && A.pid > 0)
		(void)kill(A.pid, SIGKILL);
	mark_dead();
}

void acct_reap(void)
{
	int status;

	if (A.pid <= 0 || waitpid(A.pid, &status, WNOHANG) != A.pid)
		return;
	if (!A.stopping && WIFSIGNALED(status))
		log_err("accounting process (pid %d) killed by signal %d", (int)A.pid,
			WTERMSIG(status));
	else if (!A.stopping)
		log_err("accounting process (pid %d) exited with status %d", (int)A.pid,
			WEXITSTATUS(status));
	A.pid = 0;
	mark_dead();
}

void acct_tick(time_t now)
{
	log_refused(now);
	if (A.fd < 0 && A.ep >= 0 && !A.stopping && now >= A.respawn_at) {
		if (A.pid > 0 && waitpid(A.pid, NULL, WNOHANG) != 0)
			A.pid = 0;
		if (spawn() < 0)
			A.respawn_at = now + 1;
	}
	dispatch();
}

void acct_flush(unsigned seconds)
{
	time_t deadline = time(NULL) + seconds;
	unsigned n = A.n;

	if (!n)
		return;
	log_info("radius: sending %u accounting record(s) before stopping (at most %u s)", n,
		 seconds);
	while (A.n && time(NULL) < deadline) {
		struct pollfd p = {.fd = A.fd, .events = POLLIN};

		if (A.fd < 0)
			acct_tick(time(NULL));
		dispatch();
		if (A.fd >= 0 && poll(&p, 1, 200) > 0)
			acct_on_event(p.revents);
		else if (A.fd < 0 && poll(NULL, 0, 200) < 0)
			break;
		acct_reap();
	}
	if (A.n)
		log_warn("radius: %u accounting record(s) not sent: radius.stop-wait (%u s) ran "
			 "out",
			 A.n, seconds);
}

void acct_forget(void)
{
	while (A.head)
		pop_head();
	if (A.fd >= 0)
		close(A.fd);
	A.fd = -1;
	A.ep = -1;
}

void acct_free(void)
{
	A.stopping = true;
	acct_forget(); /* closing the socket ends the process... */
	if (A.pid > 0) {
		/* ...and this one stuck waiting for a server. */
		(void)kill(A.pid, SIGKILL);
		(void)waitpid(A.pid, NULL, 0);
	}
	A.pid = 0;
}
