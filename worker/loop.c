/* Worker (one per CPU, forked by the master): set-up, then the epoll loop
 * over its listeners, its TUN queue, its inbox, its control socket, a 1 s
 * timer, its signals and every client connection it accepted.  Owns the
 * loop's own fds and flags and the receiving end of the control socket.
 * After set-up it opens no files and creates no sockets other than
 * accepted ones. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_EVENTS	256
#define IPC_BATCH	256 /* control messages read per wake-up */
#define TUN_WAIT_TURNS	4   /* loop turns a TUN write batch may wait */
#define ACCEPT_PAUSE_MS 100 /* out of fds: the listeners rest this long */

static int sigfd = -1, tfd = -1;
static bool stopping;
static bool keep_sessions; /* the master's SIGTERM of a restart */
static bool draining;	   /* SIGQUIT: listeners closed */
static unsigned tun_turns; /* loop turns the TUN write batch has waited */

/* accept4() out of fds or memory: the listeners are out of epoll until
 * resume_ms (monotonic), and a line is logged once a second at most. */
static struct {
	int64_t resume_ms; /* 0: listening */
	unsigned long pauses;
	time_t logged;
	unsigned long nofile; /* RLIMIT_NOFILE at start, for the log line */
} fdshort;

static int ep_add(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(W.ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void on_ipc_msg(const struct ipc_msg *m)
{
	switch (m->type) {
	case IPC_AUTH_RESP:
	case IPC_CONNECT_RESP:
	case IPC_KICK:
	case IPC_DISCONNECT:
		conn_reply(m);
		break;
	case IPC_SETTINGS:
		ctx_apply_settings(&m->u.settings);
		break;
	case IPC_DRAIN:
		conn_drain_tunnels();
		break;
	default:
		log_err("unknown control message %u", m->type);
	}
}

/* One control datagram into buf (MSG_TRUNC: its real size, so an
 * oversized one is refused rather than read cut short), and the fds it
 * carried (IPC_SVC's listeners).  Without services a worker has no
 * recvmsg (sandbox.c) and no fd ever comes. */
static ssize_t ipc_recv(uint8_t *buf, size_t cap, int *fds, unsigned *nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * CFG_MAX_SERVICES)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	ssize_t n;

	*nfds = 0;
	if (!svc_enabled())
		return recv(W.env->ipc_fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
	n = recvmsg(W.env->ipc_fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); n >= 0 && h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			for (size_t k = 0; k < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
				if (*nfds < CFG_MAX_SERVICES)
					memcpy(&fds[(*nfds)++], CMSG_DATA(h) + k * sizeof(int),
					       sizeof(int));
	return n;
}

static void close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

static void on_ipc(void)
{
	static uint8_t buf[IPC_SVC_MAX] __attribute__((aligned(16)));
	int fds[CFG_MAX_SERVICES];
	unsigned nfds;
	char why[128];
	int budget = IPC_BATCH;
	uint32_t type;
	ssize_t n;

	while (budget-- > 0) {
		n = ipc_recv(buf, sizeof(buf), fds, &nfds);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The master is gone: nobody is left to route for. */
			log_err("control socket closed; exiting");
			exit(1);
		}
		if (ipc_check(buf, (size_t)n, IPC_FROM_MASTER, W.env->geom.size, why, sizeof(why)) <
		    0) {
			log_err("control message refused: %s", why);
			close_fds(fds, nfds);
			explicit_bzero(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
			continue;
		}
		memcpy(&type, buf, sizeof(type));
		if (type == IPC_SVC) {
			(void)svc_apply(buf, (size_t)n, fds, nfds); /* takes the fds */
			nfds = 0;
		}
		close_fds(fds, nfds); /* none comes with other messages */
		if (type == IPC_TLS) {
			if (tls_reload(buf, (size_t)n) == 0)
				log_info("new certificate loaded for new connections");
		} else if (type == IPC_POLICY) {
			ctx_apply_policy(buf, (size_t)n);
		} else if ((size_t)n == sizeof(struct ipc_msg)) {
			struct ipc_msg m;
			memcpy(&m, buf, sizeof(m));
			on_ipc_msg(&m);
			explicit_bzero(&m, sizeof(m));
		}
		explicit_bzero(buf, (size_t)n);
	}
}

/* Drain: take no new connections; tunnels run on.  What waits in a
 * listener's queue is taken first (it would be reset by the close); the
 * balancer's next connection finds the port closed and goes elsewhere. */
static void stop_listening(void)
{
	unsigned i;

	for (i = 0; i < W.env->n_listen; i++) {
		epoll_ctl(W.ep, EPOLL_CTL_DEL, W.env->listen_fds[i], NULL);
		for (int batch = 0; batch < 16 && !fdshort.resume_ms; batch++)
			if (conn_accept(i) < 0)
				break;
		close(W.env->listen_fds[i]);
	}
	svc_stop_listening();
	draining = true;
	fdshort.resume_ms = 0;
	log_info("draining: no longer accepting connections");
}

static int listen_on(unsigned i)
{
	return ep_add(W.env->listen_fds[i], EPOLLIN | EPOLLEXCLUSIVE, ev_data(K_LISTEN, i, 0));
}

/* accept4() failed for want of fds or memory (err): the connection stays
 * queued, so a level-triggered listener would wake the loop again at once,
 * for ever.  The listeners rest ACCEPT_PAUSE_MS instead, while connections
 * that end give fds back. */
static void pause_listening(int err)
{
	time_t now = time(NULL);

	for (unsigned i = 0; i < W.env->n_listen; i++)
		epoll_ctl(W.ep, EPOLL_CTL_DEL, W.env->listen_fds[i], NULL);
	svc_listen_pause(true);
	fdshort.resume_ms = mono_ms() + ACCEPT_PAUSE_MS;
	fdshort.pauses++;
	if (now != fdshort.logged) {
		log_warn("accept: %s (RLIMIT_NOFILE %lu at start): not accepting for %d ms, "
			 "%lu time(s) since the last such line",
			 strerror(-err), fdshort.nofile, ACCEPT_PAUSE_MS, fdshort.pauses);
		fdshort.pauses = 0;
		fdshort.logged = now;
	}
}

static void resume_listening(void)
{
	fdshort.resume_ms = 0;
	for (unsigned i = 0; i < W.env->n_listen; i++)
		if (listen_on(i) < 0)
			log_errno(-errno, "epoll_ctl");
	svc_listen_pause(false);
}

/* The earlier of two waits in ms, -1 meaning none. */
static int earlier(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* epoll_wait's timeout: none with a TUN batch to write, else until the
 * first receive-coalescing deadline or the end of the listeners' rest,
 * whichever comes first, or for ever. */
static int wait_ms(void)
{
	int64_t left;
	int coal;

	if (tunio_pending())
		return 0;
	coal = earlier(rxcoal_wait_ms(), udpio_wait_ms());
	if (!fdshort.resume_ms)
		return coal;
	left = fdshort.resume_ms - mono_ms();
	return earlier(coal, left > 0 ? (int)left : 0);
}

static void on_signals(void)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stopping = true;
		if (si.ssi_signo == SIGTERM && si.ssi_code == SI_QUEUE &&
		    si.ssi_int == IPC_STOP_KEEP_SESSIONS)
			keep_sessions = true;
		if (si.ssi_signo == SIGQUIT)
			stop_listening();
#ifdef TEST_HOOKS
		testhook_run(si.ssi_signo, si.ssi_int);
#endif
	}
}

static void on_event(const struct epoll_event *ev)
{
	uint64_t d = ev->data.u64;
	uint32_t idx = (uint32_t)(d >> 32) & 0xffffff;
	uint64_t expirations;

	switch ((unsigned)(d >> 56)) {
	case K_LISTEN: {
		int r;
		if (draining || stopping || fdshort.resume_ms)
			break;
		r = conn_accept(idx);
		if (r < 0)
			pause_listening(r);
		break;
	}
	case K_TUN:
		tunio_on_tun();
		break;
	case K_INBOX:
		tunio_on_inbox();
		break;
	case K_IPC:
		if (ev->events & EPOLLOUT)
			chan_flush();
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_ipc();
		break;
	case K_TIMER:
		if (read(tfd, &expirations, sizeof(expirations)) > 0) {
			conn_tick(time(NULL));
			chan_report_worker(conn_pending(), tunio_no_client(), tls_generation());
			svc_report();
		}
		break;
	case K_SIGNAL:
		on_signals();
		break;
	case K_CONN:
		conn_on_event(idx, (uint32_t)d, ev->events);
		break;
	case K_UDP:
		udpio_on_socket(idx);
		break;
	case K_UDP_INBOX:
		udpio_on_inbox();
		break;
	case K_SVC: {
		int r;
		if (draining || stopping || fdshort.resume_ms)
			break;
		r = conn_accept_svc(idx);
		if (r < 0)
			pause_listening(r);
		break;
	}
	case K_UP:
		conn_on_upstream(idx, (uint32_t)d, ev->events);
		break;
	}
}

/* One turn: wait, handle what is ready, then flush what it produced.
 * Returns -errno when epoll_wait fails. */
static int turn(void)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, i;

	/* The TUN write batches (clients' segments, one batch per flow,
	 * coalesced) wait while more events are ready, so a busy worker
	 * writes bigger batches; they go out before the loop would sleep, or
	 * after TUN_WAIT_TURNS turns at most. */
	n = epoll_wait(W.ep, evs, MAX_EVENTS, wait_ms());
	if (fdshort.resume_ms && mono_ms() >= fdshort.resume_ms)
		resume_listening();
	if (n == 0 || (tunio_pending() && ++tun_turns >= TUN_WAIT_TURNS)) {
		tunio_flush();
		tun_turns = 0;
		if (n == 0) {
			rxcoal_poll(conn_read_now);
			udpio_poll();
			conn_flush_all();
			udpout_flush();
			return 0;
		}
	}
	if (n < 0)
		return errno == EINTR ? 0 : log_errno(-errno, "epoll_wait");
	for (i = 0; i < n; i++)
		on_event(&evs[i]);
	rxcoal_poll(conn_read_now);
	udpio_poll();
	/* One send() per connection for everything this turn produced: the
	 * send queues are bounded, so they do not wait. */
	conn_flush_all();
	udpout_flush();
	return 0;
}

static int setup_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return sigfd < 0 ? -errno : 0;
}

static int setup(const struct worker_env *env)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	struct rlimit nofile;
	unsigned i;

	ctx_init(env);
	tls_init(env);
	if (keysign_init(env->key_fd) < 0)
		return log_errno(-errno, "the key process's socket");
	if (conn_init() < 0 || tunio_init() < 0 || rxcoal_init() < 0 || udpio_init() < 0 ||
	    ctx_policy_init() < 0)
		return log_errno(-ENOMEM, "worker tables");
	if (dtls_init() < 0)
		return -EINVAL;
	cisco_init();
	udpout_init();
	W.ep = epoll_create1(EPOLL_CLOEXEC);
	if (W.ep < 0 || setup_signals() < 0)
		return log_errno(-errno, "worker event set-up");
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return log_errno(-errno, "worker event set-up");
	for (i = 0; i < env->n_listen; i++)
		if (listen_on(i) < 0)
			return log_errno(-errno, "epoll_ctl");
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
		fdshort.nofile = (unsigned long)nofile.rlim_cur;
	if (ep_add(env->tun_fd, EPOLLIN, ev_data(K_TUN, 0, 0)) < 0 ||
	    ep_add(env->inbox_fd, EPOLLIN, ev_data(K_INBOX, 0, 0)) < 0 ||
	    ep_add(env->ipc_fd, EPOLLIN, ev_data(K_IPC, 0, 0)) < 0 ||
	    ep_add(tfd, EPOLLIN, ev_data(K_TIMER, 0, 0)) < 0 ||
	    ep_add(sigfd, EPOLLIN, ev_data(K_SIGNAL, 0, 0)) < 0)
		return log_errno(-errno, "epoll_ctl");
	for (i = 0; env->udp_fds && i < env->n_plain; i++)
		if (ep_add(env->udp_fds[i], EPOLLIN, ev_data(K_UDP, i, 0)) < 0)
			return log_errno(-errno, "epoll_ctl");
	if (env->udp_fds && ep_add(env->udp_inbox_fd, EPOLLIN, ev_data(K_UDP_INBOX, 0, 0)) < 0)
		return log_errno(-errno, "epoll_ctl");
	return svc_init();
}

/* Besides connections, listeners and inboxes: fds 0-2, the TUN queue,
 * the control and log sockets, epoll, signalfd, timerfd, and room for a
 * few more (a sanitizer's report file, sockets set up by later features). */
#define WORKER_OWN_FDS 24

unsigned worker_fd_need(const struct cfg *cfg, unsigned n_workers)
{
	/* A service's stream holds a second fd: its destination's socket. */
	return conn_table_size(cfg, n_workers) + svc_table_room(cfg, n_workers) + cfg->n_listen +
	       cfg->n_listen_proxy + cfg->n_services + n_workers + WORKER_OWN_FDS;
}

int worker_main(const struct worker_env *env)
{
	struct ipc_msg ready = {.type = IPC_READY};

	log_init_worker(env->log_fd, (int)env->cfg->log_level);
	if (setup(env) < 0 || sandbox_enter(env) < 0)
		return 1;
	if (chan_send(&ready) < 0)
		return 1;
	log_debug("worker %u ready (pid %d)", env->id, (int)getpid());
	while (!stopping)
		if (turn() < 0)
			return 1;
	/* The master waits for the counters of every tunnel closed now
	 * (accounting Stops); it kills a worker after its stop timeout. */
	chan_stopping(STOP_REPORT_MS);
	conn_shutdown(!keep_sessions);
	chan_finish();
	tunio_log_stats();
	rxcoal_log_stats();
	udpio_log_stats();
	udpout_log_stats();
	return 0;
}
