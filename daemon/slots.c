/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the worker slot table (see slots.h).  Owns the TUN queues,
 * the listeners, the inboxes, the steering map, the workers' pids and
 * back-off, and what workers inherit: TLS credentials, uid, gid, chroot.
 *
 * Workers are forked, not exec'ed: they inherit the parsed config, the
 * loaded certificate (its key is the key process's: keyproc.c) and the
 * GnuTLS priority cache, so after set-up they never open a file.  A slot
 * keeps its TUN queue, listeners and inbox for the daemon's lifetime, so a
 * respawned worker takes over the same queue and the same place in the
 * reuseport group.  After fork the child wipes the master's dead stack
 * frames, closes every other slot's fds and the master's, and wipes the
 * session table and password hashes (worker_child; the session table and
 * cookie index arrive as zeros anyway, secmem.h); of the key process's
 * sockets it keeps its own. */
#include "config.h"
#include "daemon/slots.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/secmem.h"
#include "daemon/fsutil.h"
#include "daemon/keyproc.h"
#include "daemon/listen.h"
#include "daemon/pktpath.h"
#include "daemon/services.h"
#include "daemon/steer.h"
#include "daemon/tun.h"
#include "daemon/udp.h"
#include "daemon/wchan.h"
#include "worker/worker.h"

#define INBOX_BUF  (4 << 20)
#define CHROOT_DIR RUNSTATEDIR "/tunneld/empty"

struct slot {
	pid_t pid;   /* 0: not running */
	int tun_fd;  /* queue i */
	int *listen; /* cfg->n_listen fds */
	int inbox[2];
	bool ready;
	time_t started;
	time_t respawn_at; /* 0: none pending */
	unsigned quick_deaths;
};

static struct slots_env ctx; /* as the master gave it */
static struct slot *slots;
static int steer_fd = -1; /* BPF map lease -> TUN queue (steer.c), -1 if none */
/* Socket activation: systemd passed one listening socket per listen
 * address, in config order; every worker gets its own dup of it (the
 * workers' epoll uses EPOLLEXCLUSIVE, so one wakes per connection). */
static int n_activated;
/* What every worker inherits. */
static gnutls_certificate_credentials_t cred;
static gnutls_priority_t prio;
static uint32_t cred_gen; /* the key generation cred signs with */
static char *profile;	  /* cisco.profile's content, NULL: none */
static size_t profile_len;
static char profile_name[64];
static uid_t uid; /* what workers become */
static gid_t gid;
static const char *chroot_dir;

void slots_identity(uid_t *u, gid_t *g, const char **dir)
{
	*u = uid;
	*g = gid;
	*dir = chroot_dir;
}

void slots_swap_tls(gnutls_certificate_credentials_t *c, gnutls_priority_t *p, uint32_t gen)
{
	gnutls_certificate_credentials_t old_cred = cred;
	gnutls_priority_t old_prio = prio;

	cred = *c;
	prio = *p;
	cred_gen = gen;
	*c = old_cred;
	*p = old_prio;
}

uint32_t slots_tls_generation(void)
{
	return cred_gen;
}

#define PROFILE_MAX (256 << 10)

int slots_load_profile(const struct cfg *cfg)
{
	const char *base;
	FILE *f;
	size_t i;

	if (!cfg->cisco_profile)
		return 0;
	base = strrchr(cfg->cisco_profile, '/');
	base = base ? base + 1 : cfg->cisco_profile;
	/* It becomes a URL path and an XML text: plain characters only. */
	for (i = 0; base[i] && i + 1 < sizeof(profile_name); i++) {
		char ch = base[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			break;
		profile_name[i] = ch;
	}
	if (base[i] || i == 0) {
		log_err("%s: cisco.profile: the file name '%s' may hold only A-Z a-z 0-9 . _ - "
			"(at most %zu characters)",
			cfg->path, base, sizeof(profile_name) - 1);
		return -EINVAL;
	}
	profile = malloc(PROFILE_MAX);
	f = fopen(cfg->cisco_profile, "re");
	if (!profile || !f) {
		log_err("%s: cisco.profile %s: %s", cfg->path, cfg->cisco_profile,
			f ? strerror(ENOMEM) : strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	profile_len = fread(profile, 1, PROFILE_MAX, f);
	if (ferror(f) || profile_len == PROFILE_MAX || profile_len == 0) {
		log_err("%s: cisco.profile %s: %s", cfg->path, cfg->cisco_profile,
			ferror(f)     ? "read error"
			: profile_len ? "larger than 256 KiB"
				      : "empty");
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	log_info("Cisco client profile %s: %zu bytes", profile_name, profile_len);
	return 0;
}

int slots_set_identity(const struct cfg *cfg)
{
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (geteuid() != 0)
		return 0; /* nothing to drop: a test run as a user */
	pw = getpwnam(cfg->user);
	if (!pw) {
		log_err("%s: user '%s' does not exist (create it, or set \"user\")", cfg->path,
			cfg->user);
		return -ENOENT;
	}
	gr = getgrnam(cfg->group);
	if (!gr) {
		log_err("%s: group '%s' does not exist (create it, or set \"group\")", cfg->path,
			cfg->group);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		log_err("%s: user '%s' is root; workers must run unprivileged", cfg->path,
			cfg->user);
		return -EINVAL;
	}
	uid = pw->pw_uid;
	gid = gr->gr_gid;
	/* mkdir -p, then insist the directory is ours and empty enough to
	 * be a prison: root-owned, not writable by others.  The mkdirs'
	 * results are not needed: whatever failed shows in that check. */
	(void)mkdir_parents(CHROOT_DIR, 0755);
	(void)mkdir(CHROOT_DIR, 0755);
	if (stat(CHROOT_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		log_err("%s must be a root-owned directory not writable by others", CHROOT_DIR);
		return -EPERM;
	}
	chroot_dir = CHROOT_DIR;
	return 0;
}

/* With several queues, steer each packet to its client's worker.  Optional:
 * without it packets still arrive, at the cost of hand-offs.  The
 * environment variable TUNNELD_NO_STEERING=1 turns it off (benchmarks). */
static void setup_steering(int tun_fd)
{
	struct pktpath_item *it = &pktpath()->tun_steering;
	const char *off = getenv("TUNNELD_NO_STEERING");

	if (ctx.n < 2) {
		pktpath_off(it, "one worker, one queue: nothing to steer");
		return;
	}
	if (off && *off && strcmp(off, "0")) {
		pktpath_off(it, "TUNNELD_NO_STEERING is set");
		log_info("TUN steering off (TUNNELD_NO_STEERING): packets reach workers by flow "
			 "hash");
		return;
	}
	steer_fd = steer_attach(tun_fd, &ctx.geom);
	if (steer_fd < 0) {
		pktpath_off(it, "the kernel refused the program: %s", pktpath_bpf_why(steer_fd));
		log_warn("TUN steering program not attached (%s): packets reach workers by flow "
			 "hash and are handed over",
			 pktpath_bpf_why(steer_fd));
		steer_fd = -1;
		return;
	}
	pktpath_on(it);
	log_info("TUN steering on: each packet goes to the queue of its client's worker");
}

/* The device with one queue per slot, configured, and steering. */
static int setup_tun(void)
{
	const struct cfg *cfg = ctx.cfg;
	int *tun = calloc(ctx.n, sizeof(int));
	int r;

	if (!tun)
		return log_errno(-ENOMEM, "worker slots");
	r = tun_create(cfg->tun_name, ctx.n, tun);
	if (r < 0) {
		free(tun);
		return log_errno(r, "cannot create TUN device %s with %u queues", cfg->tun_name,
				 ctx.n);
	}
	for (unsigned i = 0; i < ctx.n; i++)
		slots[i].tun_fd = tun[i];
	free(tun);
	pktpath()->tun_queues = ctx.n;
	r = tun_configure(cfg->tun_name, cfg->mtu, &ctx.geom);
	if (r < 0)
		return log_errno(r, "cannot configure TUN device %s", cfg->tun_name);
	setup_steering(slots[0].tun_fd);
	return 0;
}

/* TCP listeners: listen's addresses, then listen-proxy's. */
static unsigned n_tcp(void)
{
	return ctx.cfg->n_listen + ctx.cfg->n_listen_proxy;
}

static const struct cfg_listen *tcp_addr(unsigned k)
{
	const struct cfg *cfg = ctx.cfg;

	return k < cfg->n_listen ? &cfg->listen[k] : &cfg->listen_proxy[k - cfg->n_listen];
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

/* Slot i's listeners and inbox. */
static int setup_slot(unsigned i)
{
	const struct cfg *cfg = ctx.cfg;
	struct slot *s = &slots[i];
	int r, big = INBOX_BUF;

	(void)cfg;
	s->listen = calloc(n_tcp(), sizeof(int));
	if (!s->listen)
		return log_errno(-ENOMEM, "worker slots");
	for (unsigned k = 0; k < n_tcp(); k++)
		s->listen[k] = -1;
	for (unsigned k = 0; k < n_tcp(); k++) {
		r = n_activated > 0 ? listen_inherited(k, &s->listen[k])
				    : listen_open(tcp_addr(k), &s->listen[k]);
		if (r < 0)
			return log_errno(r, "cannot listen on %s", tcp_addr(k)->text);
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s->inbox) < 0)
		return log_errno(-errno, "socketpair");
	/* Hand-offs between workers are bursts of packets; give them room
	 * beyond rmem_max (we are root here; as a user the defaults stay and
	 * only cost drops, hence the (void)s). */
	(void)setsockopt(s->inbox[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	(void)setsockopt(s->inbox[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return 0;
}

int slots_setup(const struct slots_env *env)
{
	const struct cfg *cfg = env->cfg;
	unsigned i, k;
	int r;

	ctx = *env;
	slots = calloc(ctx.n, sizeof(*slots));
	if (!slots)
		return log_errno(-ENOMEM, "worker slots");
	for (i = 0; i < ctx.n; i++)
		slots[i].tun_fd = slots[i].inbox[0] = slots[i].inbox[1] = -1;
	n_activated = sd_listen_fds(1);
	if (n_activated > 0 && (unsigned)n_activated != n_tcp()) {
		log_err("socket activation passed %d sockets, but %s lists %u listen addresses "
			"(listen, then listen-proxy)",
			n_activated, cfg->path, n_tcp());
		return -EINVAL;
	}
	if (n_activated > 0)
		log_info("using %d listening sockets from socket activation", n_activated);
	r = setup_tun();
	for (i = 0; r == 0 && i < ctx.n; i++)
		r = setup_slot(i);
	if (r < 0)
		return r;
	/* Our dups are in the slots; the originals would only leak. */
	for (k = 0; n_activated > 0 && k < (unsigned)n_activated; k++)
		close(SD_LISTEN_FDS_START + (int)k);
	return 0;
}

int slots_steer_fd(void)
{
	return steer_fd;
}

void slots_free(void)
{
	close_fd(&steer_fd);
	for (unsigned i = 0; slots && i < ctx.n; i++) {
		struct slot *s = &slots[i];
		close_fd(&s->tun_fd);
		close_fd(&s->inbox[0]);
		close_fd(&s->inbox[1]);
		for (unsigned k = 0; s->listen && k < n_tcp(); k++)
			close_fd(&s->listen[k]);
		free(s->listen);
	}
	free(slots);
	slots = NULL;
	if (prio)
		gnutls_priority_deinit(prio);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	prio = NULL;
	cred = NULL;
}

/* In the child: every slot's fds but our own, and our inbox's send end
 * (others write to it).  peer[j] becomes slot j's inbox send end. */
static void keep_own_fds(unsigned i, int *peer)
{
	for (unsigned j = 0; j < ctx.n; j++) {
		struct slot *s = &slots[j];
		peer[j] = j == i ? -1 : s->inbox[1];
		if (j == i) {
			close(s->inbox[1]);
			continue;
		}
		close(s->inbox[0]);
		close(s->tun_fd);
		for (unsigned k = 0; k < n_tcp(); k++)
			close(s->listen[k]);
	}
}

/* In the child: keep only what slot i needs, then become the worker. */
static void __attribute__((noreturn)) worker_child(unsigned i, int ipc, int logfd)
{
	struct worker_env env;
	int *peer = calloc(ctx.n, sizeof(int));
	sigset_t none;

	/* The master's dead stack frames may hold a cookie. */
	secmem_scrub_stack();
	/* Die with the master: nothing may keep the TUN queue or the port. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	if (!peer)
		_exit(1);
	/* The master's fds, session table, cookies and password hashes are
	 * no business of a worker. */
	ctx.forget();
	close_fd(&steer_fd);
	wchan_forget();
	keep_own_fds(i, peer);
	udp_close_others(i);
	keyproc_forget(i);
	services_close_others(i);

	memset(&env, 0, sizeof(env));
	env.geom = ctx.geom;
	env.id = i;
	env.n_workers = ctx.n;
	env.cfg = ctx.cfg;
	env.listen_fds = slots[i].listen;
	env.n_listen = n_tcp();
	env.n_plain = ctx.cfg->n_listen;
	env.tun_fd = slots[i].tun_fd;
	env.tun_vnet = tun_offload();
	env.tun_uso = tun_uso();
	env.ipc_fd = ipc;
	env.log_fd = logfd;
	env.inbox_fd = slots[i].inbox[0];
	env.peer_inbox = peer;
	env.owner = ctx.owner;
	env.cred = cred;
	env.tls_gen = cred_gen;
	env.prio = prio;
	env.key_fd = keyproc_worker_fd(i);
	env.uid = uid;
	env.gid = gid;
	env.chroot_dir = chroot_dir;
	env.udp_fds = udp_fds(i);
	env.udp_ports = udp_ports();
	env.udp_inbox_fd = udp_inbox(i);
	env.udp_peer_inbox = udp_peer_inboxes();
	env.udp_steered = udp_steered();
	env.profile = profile;
	env.profile_len = profile_len;
	env.profile_name = profile_name;
	services_worker_env(i, &env.svc_msg, &env.svc_len, &env.svc_fds, &env.n_svc);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL); /* fails only on a bad argument */
	_exit(worker_main(&env));
}

int slots_spawn(unsigned i)
{
	struct slot *s = &slots[i];
	int child_ipc, child_log, r;
	pid_t pid;

	r = wchan_open(i, &child_ipc, &child_log);
	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(child_ipc);
		close(child_log);
		wchan_close(i);
		return log_errno(r, "fork");
	}
	if (pid == 0)
		worker_child(i, child_ipc, child_log);
	close(child_ipc);
	close(child_log);
	s->pid = pid;
	s->ready = false;
	s->started = time(NULL);
	s->respawn_at = 0;
	log_debug("worker %u started as pid %d", i, (int)pid);
	return 0;
}

void slots_respawn_due(time_t now)
{
	for (unsigned i = 0; i < ctx.n; i++) {
		struct slot *s = &slots[i];
		if (s->pid == 0 && s->respawn_at && now >= s->respawn_at) {
			log_info("worker %u: respawning", i);
			if (slots_spawn(i) < 0)
				s->respawn_at = now + 1;
		}
	}
}

/* Back off when a worker keeps dying young: 1, 2, 4 .. 30 s. */
static void back_off(unsigned i)
{
	struct slot *s = &slots[i];
	time_t now = time(NULL);
	unsigned delay;

	if (now - s->started < 5)
		s->quick_deaths++;
	else
		s->quick_deaths = 0;
	delay = s->quick_deaths ? 1u << (s->quick_deaths - 1) : 0;
	if (delay > 30)
		delay = 30;
	s->respawn_at = now + delay;
	if (delay)
		log_warn("worker %u: respawn in %u s", i, delay);
}

enum reap_result slots_reap(bool stopping, unsigned *slot)
{
	int status;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < ctx.n && slots[i].pid != pid; i++)
			;
		if (i == ctx.n) {
			(void)keyproc_reaped(pid, status);
			continue;
		}
		slots[i].pid = 0;
		wchan_close(i);
		*slot = i;
		if (stopping) {
			log_debug("worker %u exited", i);
			return REAP_EXITED;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_TUN_GONE) {
			log_err("worker %u: the tunnel device %s is gone (deleted?): stopping", i,
				ctx.cfg->tun_name);
			return REAP_TUN_GONE;
		}
		if (WIFSIGNALED(status))
			log_err("worker %u (pid %d) killed by signal %d (%s)", i, (int)pid,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			log_err("worker %u (pid %d) exited with status %d", i, (int)pid,
				WEXITSTATUS(status));
		back_off(i);
		return REAP_EXITED;
	}
	return REAP_NONE;
}

bool slots_ready(unsigned i)
{
	slots[i].ready = true;
	slots[i].quick_deaths = 0;
	for (unsigned j = 0; j < ctx.n; j++)
		if (!slots[j].ready)
			return false;
	return true;
}

void slots_kill(int signo)
{
	for (unsigned i = 0; i < ctx.n; i++)
		if (slots[i].pid > 0)
			(void)kill(slots[i].pid, signo); /* one that just died: SIGCHLD reaps it */
}

void slots_stop(bool keep)
{
	union sigval v = {.sival_int = IPC_STOP_KEEP_SESSIONS};

	for (unsigned i = 0; i < ctx.n; i++)
		if (slots[i].pid > 0) /* one that just died: SIGCHLD reaps it */
			(void)(keep ? sigqueue(slots[i].pid, SIGTERM, v)
				    : kill(slots[i].pid, SIGTERM));
}

void slots_drain(void)
{
	for (unsigned i = 0; i < ctx.n; i++) {
		if (slots[i].pid > 0)
			(void)kill(slots[i].pid, SIGQUIT); /* as in slots_kill() */
		/* Our copies too: a listener nobody accepts on would leave new
		 * clients hanging instead of refused. */
		for (unsigned k = 0; k < n_tcp(); k++)
			close_fd(&slots[i].listen[k]);
	}
}

bool slots_all_exited(void)
{
	for (unsigned i = 0; i < ctx.n; i++)
		if (slots[i].pid > 0)
			return false;
	return true;
}

int slots_pid(unsigned i)
{
	return i < ctx.n ? (int)slots[i].pid : 0;
}

unsigned slots_up(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ctx.n; i++)
		n += slots[i].pid != 0 && slots[i].ready;
	return n;
}
