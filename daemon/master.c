/* Master (root): the loop.  Owns the live config, the epoll with its
 * signalfd and 1 s timer, the control socket and PID file fds, and the
 * daemon's phase (starting, ready, draining, stopping); tells systemd its
 * status.  Each other duty has its own file and owner:
 *   slots.c    worker slots: TUN queues, listeners, spawn, reap, back-off
 *   wchan.c    per-worker channels: control messages, log forwarding
 *   auth.c     logins and CONNECTs, the session table, the password db
 *   hashpool.c the hashing processes that check passwords for auth.c
 *   reload.c   SIGHUP as a transaction
 *   keyproc.c  the key process, the only holder of the private key
 *   control.c  tunnelctl
 *   monitor.c  /metrics and /healthz (httpd.c serves them, metrics.c counts)
 *   nat.c      the nftables table of network.nat
 *   radius.c   RADIUS set-up; acct.c its accounting, coa.c Disconnect/CoA
 * Signal handlers do not exist: signals arrive through the signalfd and
 * the loop acts on them (signals[] below). */
#include "config.h"
#include "daemon/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/acct.h"
#include "daemon/auth.h"
#include "daemon/coa.h"
#include "daemon/control.h"
#include "daemon/cookies.h"
#include "daemon/events.h"
#include "daemon/fdlimit.h"
#include "daemon/fsutil.h"
#include "daemon/hashpool.h"
#include "daemon/httpd.h"
#include "daemon/keyproc.h"
#include "daemon/metrics.h"
#include "daemon/monitor.h"
#include "daemon/mstart.h"
#include "daemon/nat.h"
#include "daemon/logins.h"
#include "daemon/pidfile.h"
#include "daemon/radius.h"
#include "daemon/reload.h"
#include "daemon/services.h"
#include "daemon/sessions.h"
#include "daemon/slots.h"
#include "daemon/udp.h"
#include "daemon/wchan.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct master {
	struct cfg cfg; /* the live config; a reload replaces it in place */
	struct master_opts opts;
	unsigned n; /* worker slots */
	int ep, sigfd, timerfd;
	int ctl_fd; /* control socket (tunnelctl), -1 if none */
	int pid_fd; /* locked PID file, -1 if none */
	time_t started;
	bool announced; /* READY=1 sent: every worker was ready */
	bool draining;	/* drain (SIGQUIT, tunnelctl drain): see begin_drain() */
	bool drained;	/* ...and the tunnels were told to end */
	time_t drain_end_at, drain_deadline;
	bool stopping;
	time_t stop_deadline;
	bool failed;				 /* stopping because of an error: exit status 1 */
	bool want_reload, want_stop, want_drain; /* asked by tunnelctl; the loop acts */
};

static struct master M;

bool master_draining(void)
{
	return M.draining;
}

static bool stopping(void)
{
	return M.stopping;
}

/* ---- phases: ready, draining, stopping ------------------------------------ */

static void announce(void)
{
	if (M.announced)
		return;
	M.announced = true;
	/* Daemonized: from here on lines go where the config says, the
	 * "ready" line included; the starter learns it through the pipe. */
	if (M.opts.daemon && log_set_destination(M.cfg.log_destination, 1) < 0)
		log_warn("log.destination %s: cannot open; logging to stderr",
			 M.cfg.log_destination);
	log_info("ready: %u workers, tun %s, %u listen addresses (%u with PROXY headers), node %u "
		 "of %u",
		 M.n, M.cfg.tun_name, M.cfg.n_listen + M.cfg.n_listen_proxy, M.cfg.n_listen_proxy,
		 M.cfg.node_id, M.cfg.fleet_nodes);
	sd_notify(0, "READY=1\nSTATUS=Serving, no clients");
	if (M.opts.daemon)
		daemon_ready();
}

/* Stop.  keep: the tunnels end without a DISCONNECT, so their clients
 * retry and the next start re-creates each session from its cookie, with
 * its addresses; otherwise the clients are told to quit. */
static void stop_as(const char *why, bool keep)
{
	if (M.stopping)
		return;
	if (keep)
		log_info("stopping (%s): the tunnels end without a DISCONNECT; their clients "
			 "reconnect to the next start, which takes their cookies",
			 why);
	else
		log_info("stopping (%s)", why);
	sd_notify(0, "STOPPING=1");
	M.stopping = true;
	hashpool_stop();
	M.stop_deadline = time(NULL) + 5;
	slots_stop(keep);
}

static void begin_stop(const char *why)
{
	stop_as(why, false);
}

/* SIGTERM (systemctl, the SysV script, upgrades): a short outage. */
static void restart_stop(const char *why)
{
	stop_as(why, true);
}

/* Drain (SIGQUIT, tunnelctl drain), for a node behind a load balancer:
 *   t0            no new connections: the listeners close (workers first
 *                 take what waits in their queues), so the balancer's
 *                 check fails, and master_draining() says so (/healthz);
 *                 logins and CONNECTs on open connections still succeed
 *   t0 + session.drain-wait (past the balancer's probe interval)
 *                 every tunnel is ended without a DISCONNECT (IPC_DRAIN):
 *                 its client reconnects, through the balancer, to another
 *                 node, which re-creates the session from the cookie;
 *                 logins and CONNECTs here are refused from now on
 *   stop          once no tunnel is left, or at session.drain-timeout; one
 *                 that comes first ends the drain as a stop does (clients
 *                 are told the server shuts down, they do not move)
 * Sessions are not ended: their cookies stay good elsewhere. */
static void begin_drain(void)
{
	time_t now = time(NULL);

	if (M.draining || M.stopping)
		return;
	M.draining = true;
	M.drain_end_at = now + M.cfg.drain_wait;
	M.drain_deadline = now + M.cfg.drain_timeout;
	log_info("draining: no new connections; tunnels end in %u s (session.drain-wait) so that "
		 "their clients reconnect elsewhere, the server stops in %u s at most",
		 M.cfg.drain_wait, M.cfg.drain_timeout);
	if (M.cfg.drain_wait >= M.cfg.drain_timeout)
		log_warn("session.drain-wait (%u s) is not below session.drain-timeout (%u s): "
			 "tunnels will be stopped, not moved to another node",
			 M.cfg.drain_wait, M.cfg.drain_timeout);
	sd_notify(0, "STATUS=Draining");
	slots_drain();
}

/* The drain's second step: every worker ends its tunnels. */
static void end_tunnels(unsigned tunnels)
{
	struct ipc_msg m = {.type = IPC_DRAIN};

	M.drained = true;
	auth_stop_logins();
	log_info("draining: ending %u tunnel(s); their clients reconnect to another node", tunnels);
	for (unsigned w = 0; w < M.n; w++)
		if (wchan_up(w))
			wchan_send(w, &m);
}

static void update_status(time_t now)
{
	const struct sess_table *t = auth_sessions();
	unsigned tunnels = t->tunnels;

	if (M.draining && (tunnels == 0 || now >= M.drain_deadline)) {
		begin_stop(tunnels ? "drain timeout" : "all tunnels ended");
		return;
	}
	if (M.draining && !M.drained && now >= M.drain_end_at)
		end_tunnels(tunnels);
	mstart_status(M.draining, tunnels, t->count, M.n);
}

/* ---- reload --------------------------------------------------------------- */

/* SIGHUP is a transaction (reload.c): load everything new first; on any
 * error change nothing.  Then commit each part to its owner: the config
 * (ours), users (auth.c), the key (the key process), TLS credentials for
 * new workers (slots.c), and the workers get the certificate and the
 * settings for new sessions. */
static void do_reload(void)
{
	struct reload_set rs;
	char st[384];
	unsigned revoked;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)mstart_monotonic_usec());
	if (reload_load(&rs, &M.cfg, M.opts.config, M.opts.daemon) == 0) {
		reload_commit_cfg(&rs, &M.cfg);
		if (rs.metrics_new) { /* bound by reload_load */
			httpd_swap(rs.metrics_fd);
			rs.metrics_fd = -1;
		}
		(void)nat_apply(&M.cfg); /* on failure the old rules stay (logged) */
		auth_reconfigure();	 /* the groups' pools */
		(void)fdlimit_apply(&M.cfg, M.n, false); /* for workers forked from now on */
		auth_swap_users(&rs.pw);
		cookies_commit(&rs.keys);
		log_info("cookies: %s", cookies_describe(st, sizeof(st)));
		logins_swap_totp(&rs.totp);
		revoked = auth_revoke_changed();
		keyproc_commit(rs.tls.gen, M.cfg.tls_key);
		rs.tls.committed = true;
		slots_swap_tls(&rs.tls.cred, &rs.tls.prio, rs.tls.gen);
		reload_push(&rs, &M.cfg, M.n);
		services_commit(rs.svc); /* the services and their listeners */
		rs.svc = NULL;
		log_info("reloaded %s: %zu users%s", M.opts.config, auth_user_count(),
			 revoked ? " (sessions of removed, locked or changed users ended)" : "");
		reload_discard(&rs); /* the old users and credentials */
		/* New hashing processes with the new users; forked after the
		 * discard, so they never see the reload's key bytes. */
		hashpool_set_backend(M.cfg.pam_service, logins_totp());
		hashpool_restart(auth_users());
	}
	sd_notify(0, "READY=1");
}

/* ---- signals -------------------------------------------------------------- */

static void reap_workers(const char *signame)
{
	enum reap_result r;
	unsigned w;

	(void)signame;
	hashpool_reap(); /* first: slots_reap reaps any child */
	acct_reap();
	while ((r = slots_reap(M.stopping, &w)) != REAP_NONE) {
		auth_worker_gone(w);
		metrics_worker_gone(w);
		logins_worker_gone(w);
		services_worker_gone(w);
		if (r == REAP_TUN_GONE) {
			M.failed = true;
			begin_stop("tunnel device gone");
		}
	}
}

static void reload_signal(const char *signame)
{
	(void)signame;
	do_reload();
}

static void drain_signal(const char *signame)
{
	(void)signame;
	begin_drain();
}

static void reopen_log(const char *signame)
{
	(void)signame;
	if (log_reopen() < 0)
		log_warn("cannot reopen the log file; keeping the old one");
	else
		log_info("log file reopened");
}

/* Every signal the master takes, blocked and read from the signalfd. */
static const struct {
	int signo;
	const char *name;
	void (*action)(const char *name); /* NULL: read and ignored */
} signals[] = {
    {SIGTERM, "SIGTERM", restart_stop},
    {SIGINT, "SIGINT", begin_stop},
    {SIGCHLD, "SIGCHLD", reap_workers},
    {SIGHUP, "SIGHUP", reload_signal},
    {SIGQUIT, "SIGQUIT", drain_signal},
    {SIGUSR1, "SIGUSR1", reopen_log},
    /* The workers' test hook (tests/e2e/sandbox.sh); a stray one sent to
     * the master must not kill it. */
    {SIGUSR2, "SIGUSR2", NULL},
};

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(M.sigfd, &si, sizeof(si)) == sizeof(si))
		for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
			if (signals[i].signo == (int)si.ssi_signo && signals[i].action)
				signals[i].action(signals[i].name);
}

static void on_timer(void)
{
	uint64_t ticks;
	time_t now = time(NULL);

	if (read(M.timerfd, &ticks, sizeof(ticks)) < 0)
		return;
	auth_tick(now);
	logins_tick(now);
	hashpool_tick(now);
	httpd_tick(now);
	acct_tick(now);
	keyproc_tick(now);
	if (!M.stopping && !M.draining)
		slots_respawn_due(now);
	if (M.announced && !M.stopping)
		update_status(now);
	if (M.stopping && now >= M.stop_deadline)
		slots_kill(SIGKILL);
}

/* ---- worker messages ------------------------------------------------------ */

static void on_ready(unsigned w, struct ipc_msg *m)
{
	(void)m;
	if (slots_ready(w))
		announce();
}

/* What a worker may send and who answers it (OpenSSH's mon_table).
 * ipc_check() has vetted type, direction and fields before. */
static const struct {
	enum ipc_type type;
	void (*handler)(unsigned w, struct ipc_msg *m);
} worker_msgs[] = {
    {IPC_READY, on_ready},		/* set up and serving */
    {IPC_AUTH_REQ, auth_login},		/* user and password: a cookie or a refusal */
    {IPC_CONNECT_REQ, auth_connect},	/* a cookie: a lease or a refusal */
    {IPC_CLOSED, auth_closed},		/* a tunnel ended */
    {IPC_STATS, auth_stats},		/* a live tunnel's counters */
    {IPC_AUTH_CANCEL, auth_cancel},	/* the connection of a login went away */
    {IPC_DTLS, auth_dtls},		/* a tunnel's DTLS channel came up or went down */
    {IPC_WSTATS, metrics_worker},	/* the worker's own figures (/metrics) */
    {IPC_SVC_STATS, services_on_stats}, /* the TLS stream services' counters */
};

static void on_worker_msg(unsigned w, struct ipc_msg *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(worker_msgs); i++)
		if (worker_msgs[i].type == m->type) {
			worker_msgs[i].handler(w, m);
			return;
		}
	log_err("worker %u: unknown control message type %u", w, m->type);
}

/* ---- start-up ------------------------------------------------------------- */

/* The master's fds, in a forked child (the PID lock stays with the master's file). */
static void close_master_fds(void)
{
	int fds[] = {M.ep, M.sigfd, M.timerfd, M.ctl_fd, M.pid_fd};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Run by slots.c in each new worker: what the master and auth.c hold is no
 * business of a worker. */
static void forget_in_worker(void)
{
	close_master_fds();
	daemon_forget();
	httpd_forget();	   /* the monitoring endpoint's sockets */
	auth_forget();	   /* the session table, cookies and password hashes */
	hashpool_forget(); /* the passwords of queued checks */
	radius_forget();   /* the RADIUS secret */
	acct_forget();
	coa_forget();
	logins_forget(); /* the TOTP secrets, the logins in progress */
}

/* Run by hashpool.c in each new hashing process: it keeps the password
 * db and nothing else (it closes every fd but its socket and 0-2 after
 * this). */
static void forget_in_hasher(void)
{
	close_master_fds();
	daemon_forget();
	httpd_forget();
	auth_forget_sessions(); /* the session table and cookies */
	wchan_forget();		/* messages for workers: cookies */
	slots_free();		/* TLS credentials (the key), TUN queues, listeners */
	acct_forget();		/* (a RADIUS process keeps the secret) */
	coa_forget();
}

static void request_reload(void)
{
	M.want_reload = true;
}

static void request_stop(void)
{
	M.want_stop = true;
}

static void request_drain(void)
{
	M.want_drain = true;
}

/* The live config and where lines go; the number of workers. */
static int init(struct cfg *cfg, const struct master_opts *opts)
{
	long ncpu;

	memset(&M, 0, sizeof(M));
	M.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	M.ep = M.sigfd = M.timerfd = M.ctl_fd = M.pid_fd = -1;
	M.opts = *opts;
	M.started = time(NULL);
	log_init_master((int)M.cfg.log_level);
	log_set_json(M.cfg.log_format == LOG_FMT_JSON);
	/* With --daemon, lines go to stderr until we are ready, whatever the
	 * destination: start-up errors reach whoever started us. */
	if (log_set_destination(M.opts.daemon ? "stderr" : M.cfg.log_destination, 0) < 0)
		return log_errno(-errno, "log.destination %s", M.cfg.log_destination);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	M.n = cfg_worker_count(&M.cfg, ncpu);
	if (!M.cfg.workers && ncpu > (long)M.n)
		log_info("workers = \"auto\": %ld CPUs, but at most %u workers", ncpu, M.n);
	return fdlimit_apply(&M.cfg, M.n, true);
}

/* The key process, then the key (read by it from the file opened before
 * detaching) and the credentials workers inherit, as a reload makes them;
 * the master never holds the private key. */
static int start_keys(struct reload_tls *tls)
{
	struct keyproc_env ke = {.n = M.n, .forget = forget_in_worker};

	slots_identity(&ke.uid, &ke.gid, &ke.chroot_dir);
	if (keyproc_start(&ke) < 0 || reload_tls_load(tls, &M.cfg, M.cfg.path) < 0)
		return -1;
	keyproc_commit(tls->gen, M.cfg.tls_key);
	tls->committed = true;
	slots_swap_tls(&tls->cred, &tls->prio, tls->gen);
	return 0;
}

/* Read the files (users, the certificate, the workers' prison) and open
 * the key, detach if asked, start the key process, then the session
 * table and the owner map the workers will share. */
static int load_and_detach(void)
{
	struct reload_tls tls = {.key_fd = -1};
	int r = -1;

	if (auth_load_users(M.cfg.password_file) < 0 || mstart_cookie_keys(&M.cfg) < 0 ||
	    radius_open(&M.cfg) < 0 || logins_load_totp(M.cfg.password_file) < 0)
		return -1;
	if (slots_load_profile(&M.cfg) < 0 || slots_set_identity(&M.cfg) < 0 ||
	    reload_tls_open(&tls, &M.cfg, M.cfg.path) < 0)
		return -1;
	/* Files are read or open; the rest needs no path relative to our
	 * cwd.  The key process starts after detaching: it dies with its
	 * parent.  The cookie keys' pages came through daemon_start's fork
	 * wiped (secmem.h): the daemon reads them again (absolute path). */
	if (M.opts.daemon && daemon_start() < 0)
		log_errno(-errno, "daemonizing");
	else if ((!M.opts.daemon || mstart_cookie_keys(&M.cfg) == 0) &&
		 (!M.opts.pid_file || pidfile_acquire(M.opts.pid_file, &M.pid_fd) == 0) &&
		 start_keys(&tls) == 0)
		r = auth_open(&M.cfg);
	logins_open(&M.cfg);
	reload_tls_free(&tls);
	return r;
}

/* Signals blocked and read from a signalfd, a 1 s timer, the epoll, and
 * the worker channels registered with it. */
static int setup_events(void)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		sigaddset(&mask, signals[i].signo);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_errno(-errno, "event set-up");
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for an invalid signal */
	M.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	M.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	M.ep = epoll_create1(EPOLL_CLOEXEC);
	if (M.sigfd < 0 || M.timerfd < 0 || M.ep < 0 ||
	    timerfd_settime(M.timerfd, 0, &its, NULL) < 0)
		return log_errno(-errno, "event set-up");
	if ((r = ev_ctl(M.ep, EPOLL_CTL_ADD, M.sigfd, EPOLLIN, EV_SIGNAL, 0)) < 0 ||
	    (r = ev_ctl(M.ep, EPOLL_CTL_ADD, M.timerfd, EPOLLIN, EV_TIMER, 0)) < 0)
		return log_errno(r, "event set-up");
	return wchan_init(M.ep, M.n, on_worker_msg);
}

static int open_control(void)
{
	const struct control_ops ops = {
	    .sessions = auth_sessions(),
	    .n_workers = M.n,
	    .version = PACKAGE_VERSION,
	    .started = M.started,
	    .worker_pid = slots_pid,
	    .disconnect = auth_disconnect,
	    .reload = request_reload,
	    .stop = request_stop,
	    .drain = request_drain,
	    .password_checks = auth_password_checks,
	};
	int r;

	r = control_open(M.cfg.control_socket, &ops, &M.ctl_fd);
	if (r < 0) {
		M.ctl_fd = -1;
		return log_errno(r, "control socket %s", M.cfg.control_socket);
	}
	r = ev_ctl(M.ep, EPOLL_CTL_ADD, M.ctl_fd, EPOLLIN, EV_CONTROL, 0);
	if (r < 0)
		return log_errno(r, "control socket %s", M.cfg.control_socket);
	return 0;
}

/* The slots, the control socket, then the workers.  A worker that cannot
 * be forked stops the daemon through the loop, as any later stop does. */
static int start(void)
{
	const struct sess_table *t = auth_sessions();
	const struct slots_env se = {
	    .cfg = &M.cfg,
	    .n = M.n,
	    .geom = t->pool.g,
	    .owner = auth_owner_view(),
	    .forget = forget_in_worker,
	};
	const struct monitor_phase phase = {.draining = master_draining, .stopping = stopping};

	/* The hashing processes come first: they inherit no socket. */
	if (mstart_hashers(M.ep, &M.cfg, M.n, forget_in_hasher) < 0)
		return -1;
	udp_setup(&M.cfg, M.n);
	if (slots_setup(&se) < 0 || services_start(&M.cfg, M.n) < 0)
		return -1;
	auth_use_steering(slots_steer_fd());
	if (open_control() < 0 || monitor_open(M.ep, &M.cfg, M.n, M.started, &phase) < 0 ||
	    nat_apply(&M.cfg) < 0 || coa_open(M.ep, &M.cfg) < 0)
		return -1;
	mstart_warn_forwarding();
	for (unsigned i = 0; i < M.n; i++)
		if (slots_spawn(i) < 0) {
			begin_stop("start-up failed");
			break;
		}
	return 0;
}

/* ---- the loop ------------------------------------------------------------- */

static void dispatch(const struct epoll_event *ev)
{
	unsigned idx = ev_index_of(ev);

	switch (ev_kind_of(ev)) {
	case EV_SIGNAL:
		on_signal();
		break;
	case EV_TIMER:
		on_timer();
		break;
	case EV_IPC:
		wchan_on_ipc(idx, ev->events);
		break;
	case EV_LOG:
		wchan_on_log(idx);
		break;
	case EV_CONTROL:
		control_on_listen(M.ctl_fd);
		break;
	case EV_HASHER:
		hashpool_on_event(idx, ev->events);
		break;
	case EV_HTTP:
		httpd_on_event(idx, ev->events);
		break;
	case EV_ACCT:
		acct_on_event(ev->events);
		break;
	case EV_COA:
		coa_on_event(idx);
		break;
	}
}

/* Until stopped and every worker has exited.  0, or -errno when epoll
 * fails. */
static int run_loop(void)
{
	struct epoll_event evs[64];
	int n;

	while (!(M.stopping && slots_all_exited())) {
		n = epoll_wait(M.ep, evs, 64, -1);
		if (n < 0 && errno != EINTR)
			return log_errno(-errno, "epoll_wait");
		for (int e = 0; e < n; e++)
			dispatch(&evs[e]);
		if (M.want_reload) {
			M.want_reload = false;
			do_reload();
		}
		if (M.want_stop) {
			M.want_stop = false;
			begin_stop("tunnelctl stop");
		}
		if (M.want_drain) {
			M.want_drain = false;
			begin_drain();
		}
	}
	return 0;
}

static void shut_down(void)
{
	if (M.ctl_fd >= 0)
		control_close(M.ctl_fd, M.cfg.control_socket);
	M.ctl_fd = -1;
	if (M.opts.pid_file)
		pidfile_release(M.opts.pid_file, M.pid_fd);
	M.pid_fd = -1;
	hashpool_free();
	monitor_close();
	nat_stop();
	acct_free();
	coa_close();
	close_fd(&M.ep);
	close_fd(&M.sigfd);
	close_fd(&M.timerfd);
	slots_free();
	services_free();
	udp_free();
	keyproc_stop();
	wchan_free();
	auth_close();
	cookies_forget();
	radius_close();
	logins_close();
	cfg_free(&M.cfg);
}

int master_run(struct cfg *cfg, const struct master_opts *opts)
{
	int status = 1; /* the exit status */

	if (init(cfg, opts) == 0 && load_and_detach() == 0 && setup_events() == 0 && start() == 0) {
		if (run_loop() == 0 && M.announced && !M.failed)
			status = 0;
		if (radius_on()) { /* every session ends: Stops, and time to send them */
			auth_end_all("the server stopped",
				     M.failed ? SESS_END_NAS_ERROR : SESS_END_ADMIN_REBOOT);
			acct_flush(M.cfg.radius_stop_wait);
		}
		if (wchan_waited())
			log_info("%lu control messages waited for room in a worker's socket",
				 wchan_waited());
		log_info("stopped");
	}
	shut_down();
	return status;
}
