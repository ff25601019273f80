/* Master (root): creates the TUN queues, listeners and the shared owner map,
 * forks one worker per slot, then runs an epoll loop over signals, worker
 * control and log sockets.  Owns the session table and the password file;
 * password checks run here, off every worker's event loop.
 *
 * Workers are forked, not exec'ed: they inherit the parsed config, the
 * loaded certificate and the GnuTLS priority cache, so after set-up they
 * never open a file.  A slot keeps its TUN queue, listeners and inbox for
 * the daemon's lifetime, so a respawned worker takes over the same queue
 * and the same place in the reuseport group. */
#include "config.h"
#include "daemon/master.h"
#include "daemon/msgq.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/passwd.h"
#include "daemon/bans.h"
#include "daemon/control.h"
#include "daemon/listen.h"
#include "daemon/pidfile.h"
#include "daemon/selfcert.h"
#include "daemon/sessions.h"
#include "daemon/steer.h"
#include "daemon/tun.h"
#include "worker/worker.h"

#define INBOX_BUF (4 << 20)
#define LOG_RATE  500 /* log lines a second per worker */

enum ev_kind { EV_SIGNAL = 1, EV_TIMER, EV_IPC, EV_LOG, EV_CONTROL };

struct slot {
	pid_t pid;
	int ipc;     /* master end of the control socketpair, -1 if none */
	int log;     /* master end of the log socketpair */
	int tun_fd;  /* queue i */
	int *listen; /* n_listen fds */
	int inbox[2];
	bool ready;
	time_t started;
	time_t respawn_at; /* 0: none pending */
	time_t log_window; /* rate limit of the worker's log lines */
	unsigned log_lines;
	unsigned long log_suppressed;
	unsigned quick_deaths;
	/* Control messages the worker's socket had no room for yet, oldest
	 * first (a ring); sent as soon as it drains (EPOLLOUT). */
	struct msgq backlog;
};

/* Most control messages queued for one worker: far more than its
 * connections can have requests pending (limits.max-handshakes). */
#define IPC_BACKLOG_MAX 65536

struct master {
	struct cfg cfg;
	unsigned n;
	struct slot *slots;
	int ep, sigfd, timerfd;
	struct sess_table sess;
	struct passwd_db *pw;
	uint8_t *owner;
	size_t owner_len;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	bool announced, stopping;
	time_t stop_deadline;
	int ctl_fd;   /* control socket (tunnelctl), -1 if none */
	int pid_fd;   /* locked PID file, -1 if none */
	int steer_fd; /* BPF map lease -> TUN queue (steer.c), -1 if none */
	struct master_opts opts;
	bool draining; /* SIGQUIT: no new logins, stop when tunnels end */
	time_t drain_deadline;
	char status[128]; /* last STATUS= sent to systemd */
	time_t started;
	bool want_reload, want_stop;
	bool failed;		  /* stopping because of an error: exit status 1 */
	unsigned long ipc_waited; /* control messages that waited in a backlog */
	uid_t uid;		  /* what workers become */
	gid_t gid;
	const char *chroot_dir;
};

#define CHROOT_DIR RUNSTATEDIR "/tunneld/empty"

static struct master M;

static int ep_add(int fd, enum ev_kind kind, unsigned idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)kind << 32 | idx};

	return epoll_ctl(M.ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* In the child: keep only what slot i needs, then become the worker. */

static void __attribute__((noreturn)) worker_child(unsigned i, int ipc, int logfd)
{
	struct worker_env env;
	int *peer = calloc(M.n, sizeof(int));
	unsigned j, k;
	sigset_t none;

	/* Die with the master: nothing may keep the TUN queue or the port. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	if (!peer)
		_exit(1);
	close(M.ep);
	close(M.sigfd);
	close(M.timerfd);
	if (M.ctl_fd >= 0)
		close(M.ctl_fd);
	if (M.pid_fd >= 0)
		close(M.pid_fd); /* the lock stays with the master's open file */
	if (M.steer_fd >= 0)
		close(M.steer_fd);
	daemon_forget();
	for (j = 0; j < M.n; j++) {
		struct slot *s = &M.slots[j];
		if (s->ipc >= 0)
			close(s->ipc);
		if (s->log >= 0)
			close(s->log);
		msgq_free(&s->backlog); /* cookies meant for other connections */
		peer[j] = j == i ? -1 : s->inbox[1];
		if (j == i) {
			close(s->inbox[1]);
			continue;
		}
		close(s->inbox[0]);
		close(s->tun_fd);
		for (k = 0; k < M.cfg.n_listen; k++)
			close(s->listen[k]);
	}
	memset(&env, 0, sizeof(env));
	env.geom = M.sess.pool.g;
	/* The master's session table, cookies and password hashes are no
	 * business of a worker. */
	sess_table_free(&M.sess);
	passwd_db_free(M.pw);
	M.pw = NULL;

	env.id = i;
	env.n_workers = M.n;
	env.cfg = &M.cfg;
	env.listen_fds = M.slots[i].listen;
	env.n_listen = M.cfg.n_listen;
	env.tun_fd = M.slots[i].tun_fd;
	env.tun_vnet = tun_offload();
	env.ipc_fd = ipc;
	env.log_fd = logfd;
	env.inbox_fd = M.slots[i].inbox[0];
	env.peer_inbox = peer;
	env.owner = M.owner;
	env.cred = M.cred;
	env.prio = M.prio;
	env.uid = M.uid;
	env.gid = M.gid;
	env.chroot_dir = M.chroot_dir;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	_exit(worker_main(&env));
}

static int spawn(unsigned i)
{
	struct slot *s = &M.slots[i];
	int ipc[2], lg[2], big = 1 << 20, ipcbuf = 4 << 20;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ipc) < 0)
		return log_errno(-errno, "socketpair");
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, lg) < 0) {
		close(ipc[0]);
		close(ipc[1]);
		return log_errno(-errno, "socketpair");
	}
	/* Room for bursts of log records; a full socket drops, never blocks. */
	setsockopt(lg[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	/* Room for a login burst both ways: the worker's end blocks when full
	 * (it waits for the master), the master's end queues (ipc_send). */
#ifdef TEST_HOOKS
	/* Tests shrink the socket to drive messages through the backlog. */
	if (getenv("TUNNELD_TEST_IPCBUF"))
		ipcbuf = atoi(getenv("TUNNELD_TEST_IPCBUF"));
#endif
	setsockopt(ipc[0], SOL_SOCKET, SO_SNDBUFFORCE, &ipcbuf, sizeof(ipcbuf));
	setsockopt(ipc[1], SOL_SOCKET, SO_SNDBUFFORCE, &ipcbuf, sizeof(ipcbuf));
	fcntl(lg[0], F_SETFL, O_NONBLOCK);
	fcntl(ipc[0], F_SETFL, O_NONBLOCK);
	s->ipc = ipc[0];
	s->log = lg[0];
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close_fd(&s->ipc);
		close_fd(&s->log);
		close(ipc[1]);
		close(lg[1]);
		return log_errno(r, "fork");
	}
	if (pid == 0) {
		close(ipc[0]);
		close(lg[0]);
		worker_child(i, ipc[1], lg[1]);
	}
	close(ipc[1]);
	close(lg[1]);
	s->pid = pid;
	s->ready = false;
	s->started = time(NULL);
	s->respawn_at = 0;
	if (ep_add(s->ipc, EV_IPC, i) < 0 || ep_add(s->log, EV_LOG, i) < 0)
		return log_errno(-errno, "epoll_ctl");
	log_debug("worker %u started as pid %d", i, (int)pid);
	return 0;
}

static void ipc_want_out(unsigned w, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
				 .data.u64 = (uint64_t)EV_IPC << 32 | w};

	epoll_ctl(M.ep, EPOLL_CTL_MOD, M.slots[w].ipc, &ev);
}

/* Send what waits, in order; stop at a full socket. */
static void ipc_flush(unsigned w)
{
	struct slot *s = &M.slots[w];

	struct ipc_msg *m;

	while ((m = msgq_front(&s->backlog)) != NULL) {
		if (send(s->ipc, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(*m)) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_warn("worker %u: control socket: %s", w, strerror(errno));
			msgq_free(&s->backlog);
			break;
		}
		msgq_pop(&s->backlog);
	}
	ipc_want_out(w, false);
}

/* Messages to a worker are never dropped for want of socket room: they
 * wait in the slot's backlog, in order, until the worker reads. */
static void ipc_send(unsigned w, struct ipc_msg *m)
{
	struct slot *s = &M.slots[w];

	if (s->ipc < 0)
		return;
	if (!s->backlog.len &&
	    send(s->ipc, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*m))
		return;
	if (!s->backlog.len && errno != EAGAIN && errno != EINTR) {
		log_warn("worker %u: control message %u lost: %s", w, m->type, strerror(errno));
		return;
	}
	M.ipc_waited++;
	if (msgq_push(&s->backlog, m, IPC_BACKLOG_MAX) < 0) {
		log_err("worker %u: %u control messages waiting; message %u lost", w,
			s->backlog.len, m->type);
		return;
	}
	if (s->backlog.len == 1)
		ipc_want_out(w, true);
}

static struct ban_policy ban_policy(void)
{
	struct ban_policy p = {M.cfg.ban_failures, M.cfg.ban_window, M.cfg.ban_time};

	return p;
}

static unsigned user_sessions(const char *user)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < M.sess.cap; i++)
		n += M.sess.s[i].used && !strcmp(M.sess.s[i].user, user);
	return n;
}

/* A login refused for a reason the user should read (not a bad password). */
static void refuse(unsigned w, struct ipc_msg *r, const char *why)
{
	r->u.auth_resp.result = -1;
	snprintf(r->u.auth_resp.reason, sizeof(r->u.auth_resp.reason), "%s", why);
	ipc_send(w, r);
}

static void on_auth(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_AUTH_RESP, .ref = m->ref};
	struct ban_policy pol = ban_policy();
	time_t now = time(NULL);
	char addr[BAN_ADDR_LEN];
	enum passwd_result res;
	struct session *s;
	unsigned left, held;

	m->u.auth_req.user[sizeof(m->u.auth_req.user) - 1] = 0;
	m->u.auth_req.pass[sizeof(m->u.auth_req.pass) - 1] = 0;
	m->u.auth_req.peer[sizeof(m->u.auth_req.peer) - 1] = 0;
	if (M.draining) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		log_info("login for user '%s' from %s refused: the server is stopping",
			 m->u.auth_req.user, m->u.auth_req.peer);
		r.u.auth_resp.result = -1;
		ipc_send(w, &r);
		return;
	}
	ban_addr_of_peer(m->u.auth_req.peer, addr);
	if ((left = ban_left(addr, now)) > 0) {
		explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
		log_warn("login for user '%s' from %s refused: address banned for %u more s",
			 m->u.auth_req.user, m->u.auth_req.peer, left);
		refuse(w, &r, "Too many failed logins from your address: banned, try again later");
		return;
	}
	res = passwd_db_check(M.pw, m->u.auth_req.user, m->u.auth_req.pass);
	explicit_bzero(m->u.auth_req.pass, sizeof(m->u.auth_req.pass));
	r.u.auth_resp.result = res;
	if (res != PW_OK) {
		log_warn("login failed for user '%s' from %s: %s", m->u.auth_req.user,
			 m->u.auth_req.peer, passwd_result_str(res));
		if (ban_fail(addr, now, &pol))
			log_warn("%s banned for %u s after %u failed logins in %u s (auth.ban-*)",
				 addr, pol.time, pol.failures, pol.window);
		ipc_send(w, &r);
		return;
	}
	ban_success(addr);
	if (M.cfg.max_sessions_per_user &&
	    (held = user_sessions(m->u.auth_req.user)) >= M.cfg.max_sessions_per_user) {
		log_warn("login for user '%s' from %s refused: %u sessions held "
			 "(limits.max-sessions-per-user = %u)",
			 m->u.auth_req.user, m->u.auth_req.peer, held, M.cfg.max_sessions_per_user);
		refuse(w, &r,
		       "Too many sessions for this user (limits.max-sessions-per-user); log out "
		       "elsewhere first");
		return;
	}
	s = sess_create(&M.sess, m->u.auth_req.user, m->u.auth_req.peer);
	if (!s) {
		log_err("login for user '%s' from %s: cannot create a session", m->u.auth_req.user,
			m->u.auth_req.peer);
		r.u.auth_resp.result = -1;
		ipc_send(w, &r);
		return;
	}
	r.u.auth_resp.sess_id = sess_id(&M.sess, s);
	cookie_encode(s->cookie, r.u.auth_resp.cookie);
	log_info("session %u: user '%s' logged in from %s (worker %u)", s->serial, s->user, s->peer,
		 w);
	ipc_send(w, &r);
	explicit_bzero(&r, sizeof(r));
}

static unsigned count_tunnels(void);

static void on_connect(unsigned w, struct ipc_msg *m)
{
	struct ipc_msg r = {.type = IPC_CONNECT_RESP, .ref = m->ref};
	struct session *s;
	int rc;

	m->u.connect_req.peer[sizeof(m->u.connect_req.peer) - 1] = 0;
	s = sess_by_cookie(&M.sess, m->u.connect_req.cookie);
	explicit_bzero(m->u.connect_req.cookie, sizeof(m->u.connect_req.cookie));
	if (!s) {
		log_warn("CONNECT from %s refused: unknown or expired cookie",
			 m->u.connect_req.peer);
		r.u.connect_resp.status = 401;
		snprintf(r.u.connect_resp.reason, sizeof(r.u.connect_resp.reason),
			 "Cookie is not valid");
		ipc_send(w, &r);
		return;
	}
	if (s->worker < 0 && count_tunnels() >= M.cfg.max_clients) {
		log_warn("session %u: CONNECT from %s refused: %u tunnels up (limits.max-clients)",
			 s->serial, m->u.connect_req.peer, M.cfg.max_clients);
		r.u.connect_resp.status = 503;
		snprintf(r.u.connect_resp.reason, sizeof(r.u.connect_resp.reason),
			 "Server full (limits.max-clients)");
		ipc_send(w, &r);
		return;
	}
	if (s->worker >= 0) {
		/* One live tunnel per session: the newest wins (a client that
		 * reconnects before we noticed its old TCP died). */
		struct ipc_msg k = {.type = IPC_KICK, .ref = s->ref};
		k.u.kick.sess_id = sess_id(&M.sess, s);
		log_info("session %u: replacing its tunnel on worker %d", s->serial, s->worker);
		ipc_send((unsigned)s->worker, &k);
		sess_unbind(&M.sess, s);
	}
	rc = sess_bind(&M.sess, s, (int)w, m->ref);
	if (rc < 0) {
		log_err("session %u: user '%s' from %s refused: address pool exhausted (%u leases "
			"in use)",
			s->serial, s->user, m->u.connect_req.peer, M.sess.pool.used);
		r.u.connect_resp.status = 503;
		snprintf(r.u.connect_resp.reason, sizeof(r.u.connect_resp.reason),
			 "No free address in the pool");
		ipc_send(w, &r);
		return;
	}
	if (M.steer_fd >= 0 && (rc = steer_set(M.steer_fd, (uint32_t)s->lease, w)) < 0)
		log_warn("session %u: steering map update failed: %s", s->serial, strerror(-rc));
	r.u.connect_resp.status = 200;
	r.u.connect_resp.sess_id = sess_id(&M.sess, s);
	r.u.connect_resp.lease = (uint32_t)s->lease;
	snprintf(r.u.connect_resp.user, sizeof(r.u.connect_resp.user), "%s", s->user);
	log_info("session %u: tunnel up for '%s' from %s on worker %u, lease %lld", s->serial,
		 s->user, m->u.connect_req.peer, w, (long long)s->lease);
	ipc_send(w, &r);
}

static void on_closed(unsigned w, struct ipc_msg *m)
{
	struct session *s = sess_by_id(&M.sess, m->u.closed.sess_id);

	if (!s)
		return;
	m->u.closed.reason[sizeof(m->u.closed.reason) - 1] = 0;
	sess_add_counters(s, &m->u.closed.ctr);
	if (s->worker != (int)w || s->ref.slot != m->ref.slot || s->ref.gen != m->ref.gen)
		return; /* an old tunnel of a session that moved on */
	if (m->u.closed.end_session) {
		sess_end(&M.sess, s, m->u.closed.reason);
		return;
	}
	log_info("session %u: tunnel closed (%s); kept %u s for a reconnect", s->serial,
		 m->u.closed.reason, M.cfg.reconnect_timeout);
	sess_unbind(&M.sess, s);
}

static void check_all_ready(void)
{
	unsigned i;

	for (i = 0; i < M.n; i++)
		if (!M.slots[i].ready)
			return;
	if (M.announced)
		return;
	M.announced = true;
	/* Daemonized: from here on lines go where the config says, the
	 * "ready" line included; the starter learns it through the pipe. */
	if (M.opts.daemon && log_set_destination(M.cfg.log_destination, 1) < 0)
		log_warn("log.destination %s: cannot open; logging to stderr",
			 M.cfg.log_destination);
	log_info("ready: %u workers, tun %s, %u listen addresses", M.n, M.cfg.tun_name,
		 M.cfg.n_listen);
	sd_notify(0, "READY=1\nSTATUS=Serving, no clients");
	if (M.opts.daemon)
		daemon_ready();
}

static void on_ipc(unsigned w)
{
	char why[128];
	struct ipc_msg m;
	ssize_t n;
	int budget = 256;

	while (budget-- > 0) {
		n = recv(M.slots[w].ipc, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The worker is gone; SIGCHLD does the rest. */
			epoll_ctl(M.ep, EPOLL_CTL_DEL, M.slots[w].ipc, NULL);
			close_fd(&M.slots[w].ipc);
			return;
		}
		/* A worker may be taken over: vet everything it sends. */
		if (ipc_check(&m, (size_t)n, IPC_FROM_WORKER, 0, why, sizeof(why)) < 0) {
			log_err("worker %u: control message refused: %s", w, why);
			explicit_bzero(&m, sizeof(m));
			continue;
		}
		switch (m.type) {
		case IPC_READY:
			M.slots[w].ready = true;
			M.slots[w].quick_deaths = 0;
			check_all_ready();
			break;
		case IPC_AUTH_REQ:
			on_auth(w, &m);
			break;
		case IPC_CONNECT_REQ:
			on_connect(w, &m);
			break;
		case IPC_CLOSED:
			on_closed(w, &m);
			break;
		case IPC_STATS: {
			struct session *s = sess_by_id(&M.sess, m.u.closed.sess_id);
			if (s)
				sess_add_counters(s, &m.u.closed.ctr);
			break;
		}
		default:
			log_err("worker %u: unknown control message type %u", w, m.type);
		}
		explicit_bzero(&m, sizeof(m));
	}
}

static void on_log(unsigned w)
{
	char rec[LOG_RECORD_MAX + 1], tag[32];
	int budget = 512;
	ssize_t n;

	snprintf(tag, sizeof(tag), "worker %u", w);
	while (budget-- > 0) {
		n = recv(M.slots[w].log, rec, LOG_RECORD_MAX, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				epoll_ctl(M.ep, EPOLL_CTL_DEL, M.slots[w].log, NULL);
				close_fd(&M.slots[w].log);
			}
			return;
		}
		if (n < 2)
			continue;
		/* A flooding worker loses lines, not the master's time: past
		 * LOG_RATE lines a second they are read, counted and dropped. */
		struct slot *s = &M.slots[w];
		time_t now = time(NULL);
		if (now != s->log_window) {
			if (s->log_suppressed) {
				char msg[96];
				snprintf(msg, sizeof(msg), "%lu log lines suppressed (rate limit)",
					 s->log_suppressed);
				log_write_line(LOG_WARNING, tag, msg);
			}
			s->log_window = now;
			s->log_lines = 0;
			s->log_suppressed = 0;
		}
		if (++s->log_lines > LOG_RATE) {
			s->log_suppressed++;
			continue;
		}
		rec[n] = 0;
		log_write_line(rec[0] & 7, tag, rec + 1);
	}
}

static void begin_stop(const char *why);

static void reap(void)
{
	int status;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < M.n; i++)
			if (M.slots[i].pid == pid)
				break;
		if (i == M.n)
			continue;
		struct slot *s = &M.slots[i];
		s->pid = 0;
		if (s->log >= 0)
			on_log(i); /* its last words */
		if (s->ipc >= 0) {
			epoll_ctl(M.ep, EPOLL_CTL_DEL, s->ipc, NULL);
			close_fd(&s->ipc);
		}
		msgq_free(&s->backlog); /* answers for connections that died with it */
		if (s->log >= 0) {
			epoll_ctl(M.ep, EPOLL_CTL_DEL, s->log, NULL);
			close_fd(&s->log);
		}
		sess_unbind_worker(&M.sess, (int)i);
		if (M.stopping) {
			log_debug("worker %u exited", i);
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_TUN_GONE) {
			log_err("worker %u: the tunnel device %s is gone (deleted?): stopping", i,
				M.cfg.tun_name);
			M.failed = true;
			begin_stop("tunnel device gone");
			continue;
		}
		if (WIFSIGNALED(status))
			log_err("worker %u (pid %d) killed by signal %d (%s)", i, (int)pid,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			log_err("worker %u (pid %d) exited with status %d", i, (int)pid,
				WEXITSTATUS(status));
		/* Back off when a worker keeps dying young: 1, 2, 4 .. 30 s. */
		time_t now = time(NULL);
		if (now - s->started < 5)
			s->quick_deaths++;
		else
			s->quick_deaths = 0;
		unsigned delay = s->quick_deaths ? 1u << (s->quick_deaths - 1) : 0;
		if (delay > 30)
			delay = 30;
		s->respawn_at = now + delay;
		if (delay)
			log_warn("worker %u: respawn in %u s", i, delay);
	}
}

static void respawn_due(time_t now)
{
	unsigned i;

	for (i = 0; i < M.n; i++) {
		struct slot *s = &M.slots[i];
		if (!M.stopping && !M.draining && s->pid == 0 && s->respawn_at &&
		    now >= s->respawn_at) {
			log_info("worker %u: respawning", i);
			if (spawn(i) < 0)
				s->respawn_at = now + 1;
		}
	}
}

static void begin_stop(const char *why)
{
	unsigned i;

	if (M.stopping)
		return;
	log_info("stopping (%s)", why);
	sd_notify(0, "STOPPING=1");
	M.stopping = true;
	M.stop_deadline = time(NULL) + 5;
	for (i = 0; i < M.n; i++)
		if (M.slots[i].pid > 0)
			kill(M.slots[i].pid, SIGTERM);
}

/* SIGQUIT: stop taking logins (workers close their listeners), let the
 * tunnels run out for up to session.drain-timeout, then stop. */
static void begin_drain(void)
{
	unsigned i;

	if (M.draining || M.stopping)
		return;
	M.draining = true;
	M.drain_deadline = time(NULL) + M.cfg.drain_timeout;
	log_info("graceful stop: no new logins; waiting up to %u s for tunnels to end",
		 M.cfg.drain_timeout);
	sd_notify(0, "STATUS=Draining");
	for (i = 0; i < M.n; i++) {
		if (M.slots[i].pid > 0)
			kill(M.slots[i].pid, SIGQUIT);
		/* Our copies too: a listener nobody accepts on would leave new
		 * clients hanging instead of refused. */
		for (unsigned k = 0; k < M.cfg.n_listen; k++)
			close_fd(&M.slots[i].listen[k]);
	}
}

static unsigned count_tunnels(void)
{
	return M.sess.tunnels;
}

static void update_status(time_t now)
{
	char st[sizeof(M.status)];
	unsigned tunnels = count_tunnels();

	if (M.draining && (tunnels == 0 || now >= M.drain_deadline)) {
		begin_stop(tunnels ? "drain timeout" : "all tunnels ended");
		return;
	}
	snprintf(st, sizeof(st), "%s%u clients connected, %u sessions, %u workers",
		 M.draining ? "Draining: " : "", tunnels, M.sess.count, M.n);
	if (strcmp(st, M.status) != 0) {
		memcpy(M.status, st, sizeof(st));
		sd_notifyf(0, "STATUS=%s", st);
	}
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Read a whole (small) file: certificates and keys for the workers. */
static int slurp(const char *path, char **buf, size_t *len)
{
	char *b = malloc(IPC_TLS_MAX / 3);
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !b) {
		int r = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		free(b);
		return r;
	}
	while ((n = read(fd, b + got, IPC_TLS_MAX / 3 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (n < 0 || got == IPC_TLS_MAX / 3) {
		explicit_bzero(b, got);
		free(b);
		return n < 0 ? -errno : -EFBIG;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* Send the new certificate, key and priorities to every worker: each
 * loads them for new handshakes; tunnels keep theirs. */
static void push_tls(const char *cert, size_t clen, const char *key, size_t klen, const char *prio)
{
	size_t plen = strlen(prio), total = sizeof(struct ipc_tls) + clen + klen + plen;
	struct ipc_tls h = {IPC_TLS, (uint32_t)clen, (uint32_t)klen, (uint32_t)plen};
	char *m = malloc(total);
	unsigned i;

	if (!m)
		return;
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), cert, clen);
	memcpy(m + sizeof(h) + clen, key, klen);
	memcpy(m + sizeof(h) + clen + klen, prio, plen);
	for (i = 0; i < M.n; i++)
		if (M.slots[i].ipc >= 0 &&
		    send(M.slots[i].ipc, m, total, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)total)
			log_warn("worker %u: new certificate not delivered: %s", i,
				 strerror(errno));
	explicit_bzero(m, total);
	free(m);
}

static int settings_msg(struct ipc_msg *m)
{
	int n;

	memset(m, 0, sizeof(*m));
	m->type = IPC_SETTINGS;
	n = cfg_settings_pack(&M.cfg, m->u.settings.blob, sizeof(m->u.settings.blob));
	if (n < 0)
		return log_errno(n, "settings for the workers");
	m->u.settings.len = (uint32_t)n;
	return 0;
}

#define SWAP(a, b)                                                                                 \
	do {                                                                                       \
		__typeof__(a) t_ = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = t_;                                                                          \
	} while (0)

/* Settings that need a restart keep their running values in the new
 * config; each one that changed is named in the log. */
static void keep_restart_only(struct cfg *nc)
{
	size_t i, n = cfg_key_count();

	for (i = cfg_key_next_diff(&M.cfg, nc, 0); i < n; i = cfg_key_next_diff(&M.cfg, nc, i + 1))
		if (!cfg_key_reloadable(i))
			log_warn("reload: %s changed; restart tunneld to apply it",
				 cfg_key_name(i));
	cfg_keep_restart_only(nc, &M.cfg);
}

/* SIGHUP is a transaction: parse and load everything new first; on any
 * error log it and change nothing.  Then apply: users, TLS material, log
 * settings, and the settings workers use for new sessions.  Tunnels keep
 * running throughout. */
static void reload(void)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_priority_t prio = NULL;
	struct passwd_db *pw = NULL;
	char err[CFG_ERR_LEN], *cert = NULL, *key = NULL;
	size_t clen = 0, klen = 0, i, n = cfg_key_count();
	const char *errpos = NULL;
	struct ipc_msg m;
	struct cfg nc;
	int r;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)monotonic_usec());
	if (cfg_load(M.opts.config, &nc, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		goto done;
	}
	if (selfcert_setup(&nc, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		goto fail;
	}
	if (passwd_db_load(nc.password_file, &pw, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		goto fail;
	}
	if ((r = slurp(nc.tls_certificate, &cert, &clen)) < 0 ||
	    (r = slurp(nc.tls_key, &key, &klen)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.certificate %s / tls.key %s: %s",
			M.opts.config, nc.tls_certificate, nc.tls_key, strerror(-r));
		goto fail;
	}
	gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)clen};
	gnutls_datum_t kd = {(unsigned char *)key, (unsigned)klen};
	if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (r = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL,
						      0)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.certificate %s / tls.key %s: %s",
			M.opts.config, nc.tls_certificate, nc.tls_key, gnutls_strerror(r));
		goto fail;
	}
	if ((r = gnutls_priority_init2(&prio, nc.tls_priorities, &errpos, 0)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.priorities: %s near '%s'",
			M.opts.config, gnutls_strerror(r), errpos ? errpos : "");
		goto fail;
	}
	if (strcmp(nc.log_destination, M.cfg.log_destination) &&
	    log_set_destination(nc.log_destination, M.opts.daemon) < 0) {
		log_err("reload failed, nothing changed: log.destination %s: cannot open",
			nc.log_destination);
		goto fail;
	}

	/* Everything loaded: commit. */
	for (i = cfg_key_next_diff(&M.cfg, &nc, 0); i < n;
	     i = cfg_key_next_diff(&M.cfg, &nc, i + 1))
		if (cfg_key_reloadable(i))
			log_info("reload: %s changed", cfg_key_name(i));
	keep_restart_only(&nc);
	cfg_free(&M.cfg);
	M.cfg = nc;
	passwd_db_free(M.pw);
	M.pw = pw;
	pw = NULL;
	SWAP(M.cred, cred);
	SWAP(M.prio, prio);
	log_set_level((int)M.cfg.log_level);
	push_tls(cert, clen, key, klen, M.cfg.tls_priorities);
	if (settings_msg(&m) == 0)
		for (unsigned w = 0; w < M.n; w++)
			ipc_send(w, &m);
	log_info("reloaded %s: %zu users", M.opts.config, passwd_db_count(M.pw));
	goto cleanup;
fail:
	cfg_free(&nc);
cleanup:
	passwd_db_free(pw);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (prio)
		gnutls_priority_deinit(prio);
	if (key)
		explicit_bzero(key, klen);
	free(cert);
	free(key);
done:
	sd_notify(0, "READY=1");
}

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(M.sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			begin_stop(si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		case SIGCHLD:
			reap();
			break;
		case SIGHUP:
			reload();
			break;
		case SIGQUIT:
			begin_drain();
			break;
		case SIGUSR1:
			if (log_reopen() < 0)
				log_warn("cannot reopen the log file; keeping the old one");
			else
				log_info("log file reopened");
			break;
		default:
			break;
		}
	}
}

static void on_timer(void)
{
	uint64_t ticks;
	time_t now = time(NULL);
	unsigned i;

	if (read(M.timerfd, &ticks, sizeof(ticks)) < 0)
		return;
	sess_expire(&M.sess, now, M.cfg.reconnect_timeout);
	if (now % 16 == 0) {
		struct ban_policy pol = ban_policy();
		ban_expire(now, &pol);
	}
	respawn_due(now);
	if (M.announced && !M.stopping)
		update_status(now);
	if (M.stopping && now >= M.stop_deadline)
		for (i = 0; i < M.n; i++)
			if (M.slots[i].pid > 0)
				kill(M.slots[i].pid, SIGKILL);
}

static bool all_exited(void)
{
	unsigned i;

	for (i = 0; i < M.n; i++)
		if (M.slots[i].pid > 0)
			return false;
	return true;
}

static int setup_tls(void)
{
	const char *errpos = NULL;
	int r;

	r = gnutls_certificate_allocate_credentials(&M.cred);
	if (r < 0)
		goto gnutls_fail;
	r = gnutls_certificate_set_x509_key_file2(M.cred, M.cfg.tls_certificate, M.cfg.tls_key,
						  GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		log_err("%s: tls.certificate %s / tls.key %s: %s", M.cfg.path,
			M.cfg.tls_certificate, M.cfg.tls_key, gnutls_strerror(r));
		return -EINVAL;
	}
	r = gnutls_priority_init2(&M.prio, M.cfg.tls_priorities, &errpos, 0);
	if (r < 0) {
		log_err("%s: tls.priorities: %s near '%s'", M.cfg.path, gnutls_strerror(r),
			errpos ? errpos : "");
		return -EINVAL;
	}
	return 0;
gnutls_fail:
	log_err("GnuTLS: %s", gnutls_strerror(r));
	return -EINVAL;
}

/* Socket activation: systemd passed one listening socket per listen
 * address, in config order; every worker gets its own dup of it (the
 * workers' epoll uses EPOLLEXCLUSIVE, so one wakes per connection). */
static int n_activated;

/* With several queues, steer each packet to its client's worker.  Optional:
 * without it packets still arrive, at the cost of hand-offs.  The
 * environment variable TUNNELD_NO_STEERING=1 turns it off (benchmarks). */
static void setup_steering(int tun_fd)
{
	const char *off = getenv("TUNNELD_NO_STEERING");

	if (M.n < 2)
		return;
	if (off && *off && strcmp(off, "0")) {
		log_info("TUN steering off (TUNNELD_NO_STEERING): packets reach workers by flow "
			 "hash");
		return;
	}
	M.steer_fd = steer_attach(tun_fd, &M.sess.pool.g);
	if (M.steer_fd < 0) {
		log_warn("TUN steering program not attached (%s): packets reach workers by flow "
			 "hash and are handed over",
			 strerror(-M.steer_fd));
		M.steer_fd = -1;
		return;
	}
	log_info("TUN steering on: each packet goes to the queue of its client's worker");
}

static int listen_inherited(unsigned k, int *fd)
{
	int src = SD_LISTEN_FDS_START + (int)k;

	if (sd_is_socket(src, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
		return -ENOTSOCK;
	if (fcntl(src, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	*fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	return *fd < 0 ? -errno : 0;
}

static int setup_slots(void)
{
	int *tun = calloc(M.n, sizeof(int));
	unsigned i, k;
	int r, big = INBOX_BUF;

	M.slots = calloc(M.n, sizeof(*M.slots));
	if (!tun || !M.slots) {
		free(tun);
		return log_errno(-ENOMEM, "worker slots");
	}
	n_activated = sd_listen_fds(1);
	if (n_activated > 0 && (unsigned)n_activated != M.cfg.n_listen) {
		free(tun);
		log_err("socket activation passed %d sockets, but %s lists %u listen addresses",
			n_activated, M.cfg.path, M.cfg.n_listen);
		return -EINVAL;
	}
	if (n_activated > 0)
		log_info("using %d listening sockets from socket activation", n_activated);
	r = tun_create(M.cfg.tun_name, M.n, tun);
	if (r < 0) {
		free(tun);
		return log_errno(r, "cannot create TUN device %s with %u queues", M.cfg.tun_name,
				 M.n);
	}
	r = tun_configure(M.cfg.tun_name, M.cfg.mtu, &M.sess.pool.g);
	if (r < 0) {
		free(tun);
		return log_errno(r, "cannot configure TUN device %s", M.cfg.tun_name);
	}
	setup_steering(tun[0]);
	for (i = 0; i < M.n; i++) {
		struct slot *s = &M.slots[i];
		s->ipc = s->log = -1;
		s->tun_fd = tun[i];
		s->listen = calloc(M.cfg.n_listen, sizeof(int));
		if (!s->listen) {
			free(tun);
			return log_errno(-ENOMEM, "worker slots");
		}
		for (k = 0; k < M.cfg.n_listen; k++) {
			r = n_activated > 0 ? listen_inherited(k, &s->listen[k])
					    : listen_open(&M.cfg.listen[k], &s->listen[k]);
			if (r < 0) {
				free(tun);
				return log_errno(r, "cannot listen on %s", M.cfg.listen[k].text);
			}
		}
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s->inbox) <
		    0) {
			free(tun);
			return log_errno(-errno, "socketpair");
		}
		/* Hand-offs between workers are bursts of packets; give them
		 * room beyond rmem_max (we are root here). */
		setsockopt(s->inbox[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		setsockopt(s->inbox[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	}
	free(tun);
	/* Our dups are in the slots; the originals would only leak. */
	for (k = 0; n_activated > 0 && k < (unsigned)n_activated; k++)
		close(SD_LISTEN_FDS_START + (int)k);
	return 0;
}

/* Workers run as cfg.user:cfg.group inside an empty directory. */
static int setup_identity(void)
{
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (geteuid() != 0)
		return 0; /* nothing to drop: a test run as a user */
	pw = getpwnam(M.cfg.user);
	if (!pw) {
		log_err("%s: user '%s' does not exist (create it, or set \"user\")", M.cfg.path,
			M.cfg.user);
		return -ENOENT;
	}
	gr = getgrnam(M.cfg.group);
	if (!gr) {
		log_err("%s: group '%s' does not exist (create it, or set \"group\")", M.cfg.path,
			M.cfg.group);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		log_err("%s: user '%s' is root; workers must run unprivileged", M.cfg.path,
			M.cfg.user);
		return -EINVAL;
	}
	M.uid = pw->pw_uid;
	M.gid = gr->gr_gid;
	/* mkdir -p, then insist the directory is ours and empty enough to
	 * be a prison: root-owned, not writable by others. */
	char path[] = CHROOT_DIR;
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
	if (stat(CHROOT_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		log_err("%s must be a root-owned directory not writable by others", CHROOT_DIR);
		return -EPERM;
	}
	M.chroot_dir = CHROOT_DIR;
	return 0;
}

static void warn_forwarding(void)
{
	char c = '1';
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	if (c == '0')
		log_warn("net.ipv4.ip_forward is 0: clients reach only this server");
}

static void teardown(void)
{
	unsigned i, k;

	close_fd(&M.steer_fd);
	for (i = 0; M.slots && i < M.n; i++) {
		struct slot *s = &M.slots[i];
		close_fd(&s->ipc);
		msgq_free(&s->backlog);
		close_fd(&s->log);
		close_fd(&s->tun_fd);
		close_fd(&s->inbox[0]);
		close_fd(&s->inbox[1]);
		for (k = 0; s->listen && k < M.cfg.n_listen; k++)
			close_fd(&s->listen[k]);
		free(s->listen);
	}
	free(M.slots);
	M.slots = NULL;
	sess_table_free(&M.sess);
	passwd_db_free(M.pw);
	if (M.owner)
		munmap(M.owner, M.owner_len);
	if (M.prio)
		gnutls_priority_deinit(M.prio);
	if (M.cred)
		gnutls_certificate_free_credentials(M.cred);
	cfg_free(&M.cfg);
}

/* The control socket's view of the master (control.h). */
struct sess_table *master_sessions(void)
{
	return &M.sess;
}

unsigned master_worker_count(void)
{
	return M.n;
}

int master_worker_pid(unsigned i)
{
	return i < M.n ? (int)M.slots[i].pid : 0;
}

int master_disconnect(struct session *s)
{
	if (s->worker >= 0 && M.slots[s->worker].ipc >= 0) {
		/* The worker sends the DISCONNECT frame and reports the
		 * session's end (IPC_CLOSED with end_session). */
		struct ipc_msg m = {.type = IPC_DISCONNECT, .ref = s->ref};
		m.u.kick.sess_id = sess_id(&M.sess, s);
		log_info("session %u: disconnect requested by the administrator", s->serial);
		ipc_send((unsigned)s->worker, &m);
		return 0;
	}
	sess_end(&M.sess, s, "disconnected by administrator");
	return 0;
}

void master_request_reload(void)
{
	M.want_reload = true;
}

void master_request_stop(void)
{
	M.want_stop = true;
}

const char *master_version(void)
{
	return PACKAGE_VERSION;
}

time_t master_started(void)
{
	return M.started;
}

int master_run(struct cfg *cfg, const struct master_opts *opts)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	char err[CFG_ERR_LEN];
	struct epoll_event evs[64];
	sigset_t mask;
	unsigned i;
	long ncpu;
	int rc = 1, n;

	memset(&M, 0, sizeof(M));
	M.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	M.ep = M.sigfd = M.timerfd = M.ctl_fd = M.pid_fd = M.steer_fd = -1;
	M.opts = *opts;
	M.started = time(NULL);
	log_init_master((int)M.cfg.log_level);
	/* With --daemon, lines go to stderr until we are ready, whatever the
	 * destination: start-up errors reach whoever started us. */
	if (log_set_destination(M.opts.daemon ? "stderr" : M.cfg.log_destination, 0) < 0) {
		log_errno(-errno, "log.destination %s", M.cfg.log_destination);
		goto out;
	}

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	M.n = M.cfg.workers ? M.cfg.workers : (unsigned)(ncpu > 0 ? ncpu : 1);

	if (passwd_db_load(M.cfg.password_file, &M.pw, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (setup_tls() < 0 || setup_identity() < 0)
		goto out;
	/* Files are read; the rest needs no path relative to our cwd. */
	if (M.opts.daemon && daemon_start() < 0) {
		log_errno(-errno, "daemonizing");
		goto out;
	}
	if (M.opts.pid_file && pidfile_acquire(M.opts.pid_file, &M.pid_fd) < 0)
		goto out;
	M.owner_len = POOL_MAX_SIZE;
	M.owner =
	    mmap(NULL, M.owner_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (M.owner == MAP_FAILED) {
		M.owner = NULL;
		log_errno(-errno, "mmap");
		goto out;
	}
	if (sess_table_init(&M.sess, &M.cfg, M.owner) < 0) {
		log_err("cannot set up the address pools");
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	M.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	M.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	M.ep = epoll_create1(EPOLL_CLOEXEC);
	if (M.sigfd < 0 || M.timerfd < 0 || M.ep < 0 ||
	    timerfd_settime(M.timerfd, 0, &its, NULL) < 0) {
		log_errno(-errno, "event set-up");
		goto out;
	}
	ep_add(M.sigfd, EV_SIGNAL, 0);
	ep_add(M.timerfd, EV_TIMER, 0);

	if (setup_slots() < 0)
		goto out;
	rc = control_open(M.cfg.control_socket, &M.ctl_fd);
	if (rc < 0) {
		log_errno(rc, "control socket %s", M.cfg.control_socket);
		M.ctl_fd = -1;
		rc = 1;
		goto out;
	}
	rc = 1;
	ep_add(M.ctl_fd, EV_CONTROL, 0);
	warn_forwarding();
	for (i = 0; i < M.n; i++)
		if (spawn(i) < 0) {
			begin_stop("start-up failed");
			break;
		}

	rc = 0;
	while (!(M.stopping && all_exited())) {
		n = epoll_wait(M.ep, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_errno(-errno, "epoll_wait");
			rc = 1;
			break;
		}
		for (int e = 0; e < n; e++) {
			unsigned kind = (unsigned)(evs[e].data.u64 >> 32);
			unsigned idx = (unsigned)evs[e].data.u64;
			switch (kind) {
			case EV_SIGNAL:
				on_signal();
				break;
			case EV_TIMER:
				on_timer();
				break;
			case EV_IPC:
				if (M.slots[idx].ipc >= 0 && (evs[e].events & EPOLLOUT))
					ipc_flush(idx);
				if (M.slots[idx].ipc >= 0)
					on_ipc(idx);
				break;
			case EV_LOG:
				if (M.slots[idx].log >= 0)
					on_log(idx);
				break;
			case EV_CONTROL:
				control_on_listen(M.ctl_fd);
				break;
			}
		}
		if (M.want_reload) {
			M.want_reload = false;
			reload();
		}
		if (M.want_stop) {
			M.want_stop = false;
			begin_stop("tunnelctl stop");
		}
	}
	if (!M.announced || M.failed)
		rc = 1;
	if (M.ipc_waited)
		log_info("%lu control messages waited for room in a worker's socket", M.ipc_waited);
	log_info("stopped");
out:
	if (M.ctl_fd >= 0)
		control_close(M.ctl_fd, M.cfg.control_socket);
	M.ctl_fd = -1;
	if (M.opts.pid_file)
		pidfile_release(M.opts.pid_file, M.pid_fd);
	M.pid_fd = -1;
	close_fd(&M.ep);
	close_fd(&M.sigfd);
	close_fd(&M.timerfd);
	teardown();
	return rc;
}
