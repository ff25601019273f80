/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the hashing processes and the checks that wait for them
 * (see hashpool.h).  Owns the processes (pid, socket, back-off), one FIFO
 * of checks per worker and the passwords in them, which are wiped when a
 * check ends.
 *
 * A check's life: hashpool_submit queues it on its worker's FIFO; dispatch
 * hands it to a free process, taking the workers in turn; the answer (or
 * the process's death) ends it through env.done.  hashpool_cancel drops it
 * while it waits; once sent, it is hashed and ends with cancelled set.  A
 * reload kills the processes and starts new ones with the new db; what
 * they were hashing goes back to the head of its FIFO. */
#include "config.h"
#include "daemon/hashpool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "common/log.h"
#include "common/passwd.h"
#include "daemon/backend.h"
#include "daemon/events.h"
#include "daemon/fsutil.h"
#include "daemon/sessions.h"

struct job {
	struct job *next;
	unsigned w;
	struct ipc_ref ref;
	uint32_t id;
	bool cancelled;
	uint64_t submitted_us; /* CLOCK_MONOTONIC */
	uint64_t sid;
	uint32_t nas_port;
	char user[IPC_USER_MAX];
	char pass[IPC_PASS_MAX];
	char peer[64];
	struct hash_op op; /* op.proc: the process it must go to, -1 any */
	uint32_t n_ans;
	struct ipc_answer ans[IPC_INPUTS_MAX];
};

struct queue {
	struct job *head, *tail;
	unsigned pending; /* waiting here or being hashed */
};

struct hasher {
	pid_t pid;	  /* 0: none, or reaped */
	int fd;		  /* our end of its socket, -1: not running */
	struct job *busy; /* being hashed */
	time_t started, respawn_at;
	unsigned quick_deaths;
};

static struct {
	struct hashpool_env env;
	int ep;
	struct queue *q;
	struct hasher *h;
	unsigned rr; /* the worker whose check went out last */
	uint32_t next_id;
	uint32_t next_port; /* NAS-Port of the next check */
	const struct passwd_db *db;
	bool stopping;
} P = {.ep = -1};

/* ---- checks ----------------------------------------------------------- */

static void job_free(struct job *j)
{
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void push_front(struct job *j)
{
	struct queue *q = &P.q[j->w];

	j->next = q->head;
	q->head = j;
	if (!q->tail)
		q->tail = j;
}

/* Take j (after prev, NULL for the head) off queue q. */
static void unlink_job(struct queue *q, struct job *prev, struct job *j)
{
	if (prev)
		prev->next = j->next;
	else
		q->head = j->next;
	if (q->tail == j)
		q->tail = prev;
	j->next = NULL;
}

/* The next check for process h: the oldest of the next worker with one
 * that any process may take or that must go to h (a conversation it
 * holds). */
static struct job *next_job(unsigned h)
{
	for (unsigned k = 1; k <= P.env.n_workers; k++) {
		unsigned w = (P.rr + k) % P.env.n_workers;
		struct queue *q = &P.q[w];
		struct job *j, *prev = NULL;

		for (j = q->head; j && j->op.proc >= 0 && j->op.proc != (int)h; j = j->next)
			prev = j;
		if (!j)
			continue;
		unlink_job(q, prev, j);
		P.rr = w;
		return j;
	}
	return NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The end of a check: the answer to env.done, the password wiped. */
static void finish(struct job *j, int result, const struct hash_resp *rs, int proc)
{
	struct hash_done d = {.w = j->w,
			      .ref = j->ref,
			      .user = j->user,
			      .peer = j->peer,
			      .result = result,
			      .cancelled = j->cancelled,
			      .usec = now_us() - j->submitted_us,
			      .sid = j->sid,
			      .nas_port = j->nas_port,
			      .grant =
				  P.env.radius_open && rs && result == PW_OK ? &rs->grant : NULL,
			      .op = j->op.op,
			      .resp = rs,
			      .proc = proc};

	P.q[j->w].pending--;
	P.env.done(&d);
	job_free(j);
}

/* ---- processes -------------------------------------------------------- */

static void drop_socket(struct hasher *h)
{
	(void)epoll_ctl(P.ep, EPOLL_CTL_DEL, h->fd, NULL);
	close_fd(&h->fd);
}

/* Hasher h is gone (its socket closed, or reaped): what it hashed ends
 * with -1, and it comes back after its back-off. */
static void mark_dead(struct hasher *h)
{
	time_t now = time(NULL);
	unsigned delay;

	if (h->fd < 0)
		return;
	drop_socket(h);
	if (h->busy) {
		struct job *j = h->busy;
		h->busy = NULL;
		finish(j, -1, NULL, (int)(h - P.h));
	}
	h->quick_deaths = now - h->started < 5 ? h->quick_deaths + 1 : 0;
	delay = h->quick_deaths ? 1u << (h->quick_deaths - 1) : 0;
	h->respawn_at = now + (delay > 30 ? 30 : delay);
	if (delay && !P.stopping)
		log_warn("hasher %u: respawn in %u s", (unsigned)(h - P.h),
			 delay > 30 ? 30 : delay);
}

static bool send_job(struct hasher *h, struct job *j)
{
	static struct hash_req rq;
	ssize_t n;

	memset(&rq, 0, sizeof(rq));
	rq.id = j->id;
	memcpy(rq.user, j->user, sizeof(rq.user));
	memcpy(rq.pass, j->pass, sizeof(rq.pass));
	memcpy(rq.peer, j->peer, sizeof(rq.peer));
	rq.sid = j->sid;
	rq.nas_port = j->nas_port;
	rq.op = j->op.op;
	rq.conv = j->op.conv;
	rq.n_ans = j->n_ans;
	memcpy(rq.ans, j->ans, sizeof(rq.ans));
	rq.now = (int64_t)time(NULL);
	n = send(h->fd, &rq, sizeof(rq), MSG_DONTWAIT | MSG_NOSIGNAL);
	explicit_bzero(&rq, sizeof(rq));
	if (n != (ssize_t)sizeof(rq))
		return false;
	h->busy = j;
	return true;
}

/* Give every free process a check. */
static void dispatch(void)
{
	for (unsigned i = 0; i < P.env.n; i++) {
		struct hasher *h = &P.h[i];
		struct job *j;

		if (h->fd < 0 || h->busy || !(j = next_job(i)))
			continue;
		if (!send_job(h, j)) {
			push_front(j); /* not hashed: it waits for another */
			log_warn("hasher %u: cannot send it a check: %s", i, strerror(errno));
			mark_dead(h);
		}
	}
}

/* In the child: only fd and 0-2 stay, nothing the master holds. */
static void __attribute__((noreturn)) child(int fd)
{
	struct rc_conf *rh = NULL;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	P.env.forget();
	hashpool_forget(); /* other processes' sockets, queued passwords */
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
		_exit(1);
	if (close_range(4, ~0u, 0) < 0)
		_exit(1);
	/* Signals the master takes from a terminal or an administrator are
	 * not for us; SIGTERM (a stop of the whole service) ends us. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL); /* fails only on a bad argument */
	(void)prctl(PR_SET_NAME, "tunneld-hash");
	if (P.env.radius_open && !(rh = P.env.radius_open()))
		_exit(1); /* the reason is logged: the master tried it at start */
	hasher_main(3, P.db, &P.env.id, rh);
}

static int spawn(unsigned i)
{
	struct hasher *h = &P.h[i];
	int sv[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return log_errno(-errno, "hasher %u: socketpair", i);
	r = fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
	if (r == 0)
		r = ev_ctl(P.ep, EPOLL_CTL_ADD, sv[0], EPOLLIN, EV_HASHER, i);
	if (r < 0) {
		log_errno(r, "hasher %u: set-up", i);
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = log_errno(-errno, "hasher %u: fork", i);
		(void)epoll_ctl(P.ep, EPOLL_CTL_DEL, sv[0], NULL);
		goto fail;
	}
	if (pid == 0)
		child(sv[1]);
	close(sv[1]);
	h->pid = pid;
	h->fd = sv[0];
	h->started = time(NULL);
	h->respawn_at = 0;
	log_debug("hasher %u started as pid %d", i, (int)pid);
	return 0;
fail:
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* ---- the interface ---------------------------------------------------- */

int hashpool_setup(int ep, const struct hashpool_env *env)
{
	P.env = *env;
	P.ep = ep;
	P.q = calloc(env->n_workers, sizeof(*P.q));
	P.h = calloc(env->n, sizeof(*P.h));
	if (!P.q || !P.h)
		return log_errno(-ENOMEM, "hashing processes");
	for (unsigned i = 0; i < env->n; i++)
		P.h[i].fd = -1;
	P.rr = env->n_workers - 1; /* worker 0 first */
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &P.next_port, sizeof(P.next_port));
	return 0;
}

void hashpool_set_backend(const char *pam_service, const struct totp_db *totp)
{
	P.env.id.pam_service = pam_service;
	P.env.id.totp = totp;
}

int hashpool_start(const struct passwd_db *db)
{
	unsigned started = 0;

	P.db = db;
	for (unsigned i = 0; i < P.env.n; i++)
		if (spawn(i) == 0)
			started++;
		else
			P.h[i].respawn_at = time(NULL) + 1;
	if (!started)
		return -ECHILD;
	dispatch();
	return 0;
}

void hashpool_restart(const struct passwd_db *db)
{
	for (unsigned i = 0; i < P.env.n; i++) {
		struct hasher *h = &P.h[i];

		if (h->fd >= 0)
			drop_socket(h);
		if (h->busy) {
			/* Not answered: hashed again, with the new db. */
			if (h->busy->cancelled) {
				P.q[h->busy->w].pending--;
				job_free(h->busy);
			} else {
				push_front(h->busy);
			}
			h->busy = NULL;
		}
		if (h->pid > 0) {
			(void)kill(h->pid, SIGKILL);
			(void)waitpid(h->pid, NULL, 0); /* at once: it was killed */
			h->pid = 0;
		}
		h->quick_deaths = 0;
	}
	if (hashpool_start(db) < 0)
		log_err("no hashing process could be started: logins wait for the next try");
}

void hashpool_stop(void)
{
	P.stopping = true;
}

int hashpool_submit(unsigned w, const struct ipc_msg *m, unsigned max)
{
	struct hash_op op = {BK_OP_START, 0, -1, 0, 0};

	return hashpool_submit_op(w, m, &op, max);
}

uint32_t hashpool_nas_port(void)
{
	return ++P.next_port;
}

int hashpool_submit_op(unsigned w, const struct ipc_msg *m, const struct hash_op *op, unsigned max)
{
	struct queue *q;
	struct job *j;

	if (w >= P.env.n_workers || (!m && op->op != BK_OP_ABORT) ||
	    (op->proc >= 0 && (unsigned)op->proc >= P.env.n))
		return -EINVAL;
	q = &P.q[w];
	if (q->pending >= max && op->op != BK_OP_ABORT)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->w = w;
	j->id = ++P.next_id;
	j->submitted_us = now_us();
	j->sid = op->sid ? op->sid : sess_make_sid(P.env.node_id);
	j->nas_port = op->sid ? op->nas_port : hashpool_nas_port();
	j->op = *op;
	if (m) {
		j->ref = m->ref;
		memcpy(j->user, m->u.auth_req.user, sizeof(j->user));
		memcpy(j->pass, m->u.auth_req.pass, sizeof(j->pass));
		memcpy(j->peer, m->u.auth_req.peer, sizeof(j->peer));
		j->n_ans =
		    m->u.auth_req.n_ans < IPC_INPUTS_MAX ? m->u.auth_req.n_ans : IPC_INPUTS_MAX;
		memcpy(j->ans, m->u.auth_req.ans, sizeof(j->ans));
	} else {
		j->cancelled = true; /* an abort: nobody waits for its answer */
	}
	j->user[sizeof(j->user) - 1] = j->pass[sizeof(j->pass) - 1] = j->peer[sizeof(j->peer) - 1] =
	    0;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->pending++;
	dispatch();
	return 0;
}

/* Drop worker w's waiting checks that match (all when ref is NULL; never
 * an abort), and mark its running ones cancelled. */
static void withdraw(unsigned w, const struct ipc_ref *ref)
{
	struct queue *q = &P.q[w];
	struct job **pp = &q->head, *j, *last = NULL;

	while ((j = *pp) != NULL) {
		/* An abort frees a conversation in a process: it goes. */
		if (j->op.op == BK_OP_ABORT ||
		    (ref && (j->ref.slot != ref->slot || j->ref.gen != ref->gen))) {
			last = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		q->pending--;
		job_free(j);
	}
	q->tail = last;
	for (unsigned i = 0; i < P.env.n; i++) {
		j = P.h[i].busy;
		if (j && j->w == w &&
		    (!ref || (j->ref.slot == ref->slot && j->ref.gen == ref->gen)))
			j->cancelled = true;
	}
}

void hashpool_cancel(unsigned w, struct ipc_ref ref)
{
	if (w < P.env.n_workers)
		withdraw(w, &ref);
}

void hashpool_drop_worker(unsigned w)
{
	if (w < P.env.n_workers)
		withdraw(w, NULL);
}

unsigned hashpool_pending(unsigned w)
{
	return w < P.env.n_workers ? P.q[w].pending : 0;
}

/* A result that exists, and with RADIUS well-formed attributes. */
static bool answer_ok(const struct hash_resp *rs)
{
	if (P.env.radius_open)
		return rs->result == PW_OK	      ? radattr_check(&rs->grant) == NULL
		       : rs->result == HASH_ERROR     ? true
		       : rs->result == HASH_NO_ANSWER ? true
						      : rs->result == PW_BAD_PASSWORD;
	return rs->result >= PW_OK && rs->result <= PW_WEAK_HASH;
}

/* Every text of an answer ends inside its array (the process is not
 * trusted; its form and message are shown and logged). */
static void terminate(struct hash_resp *rs)
{
	struct ipc_form *f = &rs->form;

	for (unsigned k = 0; k < IPC_INPUTS_MAX; k++) {
		f->in[k].name[sizeof(f->in[k].name) - 1] = 0;
		f->in[k].label[sizeof(f->in[k].label) - 1] = 0;
	}
	f->auth_id[sizeof(f->auth_id) - 1] = f->message[sizeof(f->message) - 1] = 0;
	f->error[sizeof(f->error) - 1] = f->banner[sizeof(f->banner) - 1] = 0;
	f->group_list[sizeof(f->group_list) - 1] = f->group_sel[sizeof(f->group_sel) - 1] = 0;
	rs->groups[sizeof(rs->groups) - 1] = 0;
}

void hashpool_on_event(unsigned i, uint32_t events)
{
	static struct hash_resp rs;
	struct hasher *h;
	ssize_t n;

	(void)events;
	if (i >= P.env.n || (h = &P.h[i])->fd < 0)
		return; /* closed earlier in this batch of events */
	n = recv(h->fd, &rs, sizeof(rs), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* A taken-over process could answer anything: only the answer to
	 * the check it holds, with a result that exists, counts. */
	if (n == (ssize_t)sizeof(rs) && h->busy && rs.id == h->busy->id && answer_ok(&rs) &&
	    rs.kind >= BK_OK && rs.kind <= BK_ASK) {
		struct job *j = h->busy;
		h->busy = NULL;
		terminate(&rs);
		finish(j, rs.result, &rs, (int)i);
		explicit_bzero(&rs, sizeof(rs));
		dispatch();
		return;
	}
	/* n <= 0: it closed its end, it is gone. */
	if (n > 0 && !P.stopping)
		log_err("hasher %u: a broken answer (%zd bytes): restarting it", i, n);
	if (n > 0 && h->pid > 0)
		(void)kill(h->pid, SIGKILL);
	mark_dead(h);
}

static void log_death(unsigned i, pid_t pid, int status)
{
	if (P.stopping)
		return;
	if (WIFSIGNALED(status))
		log_err("hasher %u (pid %d) killed by signal %d (%s)", i, (int)pid,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_err("hasher %u (pid %d) exited with status %d", i, (int)pid,
			WEXITSTATUS(status));
}

void hashpool_reap(void)
{
	int status;

	for (unsigned i = 0; i < P.env.n; i++) {
		struct hasher *h = &P.h[i];

		if (h->pid <= 0 || waitpid(h->pid, &status, WNOHANG) != h->pid)
			continue;
		log_death(i, h->pid, status);
		h->pid = 0;
		mark_dead(h);
	}
}

void hashpool_tick(time_t now)
{
	bool spawned = false;

	for (unsigned i = 0; i < P.env.n; i++) {
		struct hasher *h = &P.h[i];

		if (h->fd >= 0 || P.stopping || !P.db || now < h->respawn_at)
			continue;
		if (h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) != 0)
			h->pid = 0; /* reaped now, or by someone else */
		if (spawn(i) == 0)
			spawned = true;
		else
			h->respawn_at = now + 1;
	}
	if (spawned)
		dispatch();
}

/* Every check wiped and freed, every socket closed. */
static void forget_all(void)
{
	struct job *j;

	for (unsigned w = 0; P.q && w < P.env.n_workers; w++) {
		while ((j = P.q[w].head) != NULL) {
			P.q[w].head = j->next;
			job_free(j);
		}
		P.q[w].tail = NULL;
		P.q[w].pending = 0;
	}
	for (unsigned i = 0; P.h && i < P.env.n; i++) {
		if (P.h[i].busy)
			job_free(P.h[i].busy);
		P.h[i].busy = NULL;
		close_fd(&P.h[i].fd);
	}
}

void hashpool_forget(void)
{
	forget_all();
}

void hashpool_free(void)
{
	P.stopping = true;
	forget_all(); /* closing the sockets ends the processes... */
	for (unsigned i = 0; P.h && i < P.env.n; i++)
		if (P.h[i].pid > 0) {
			/* ...and this ends one stuck in a long hash. */
			(void)kill(P.h[i].pid, SIGKILL);
			(void)waitpid(P.h[i].pid, NULL, 0);
		}
	free(P.q);
	free(P.h);
	P.q = NULL;
	P.h = NULL;
	P.db = NULL;
}
