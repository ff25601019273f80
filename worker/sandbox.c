/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: confinement, entered once after set-up and before serving.  Order
 * as OpenSSH does it: everything is open and GnuTLS is warm, then fds 0-2
 * become /dev/null, chroot to an empty directory, drop groups, gid, uid,
 * set no_new_privs, take away every file system right with Landlock where
 * the kernel has it, and load the seccomp allow-list last.  A worker that
 * is taken over can then touch no file, start no program, open no socket,
 * map no executable memory, signal no other process and write nothing to
 * the master's stdin, stdout or stderr (the admin's terminal, the
 * journal's stream). */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "common/scmpinit.h"
#include "common/log.h"

#ifdef TUNNELD_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

/* What a syscall's arguments must be for it to be allowed (the README's
 * seccomp table shows these names). */
enum arg_rule {
	ANY,	   /* any arguments */
	NO_EXEC,   /* prot (the third argument) without PROT_EXEC */
	OWN_PID,   /* the thread group (the first argument) is this worker */
	NOT_STDIO, /* the fd (the first argument) is above 2: fds 0-2 are /dev/null */
	/* Services' rows only: */
	INET_STREAM,  /* an AF_INET or AF_INET6 SOCK_STREAM socket (flags aside), protocol 0 */
	SHUT_WR_ONLY, /* shutdown of the write side only */
	CTL_FD,	      /* the fd (the first argument) is the control socket from the master */
	/* VPN rows again: */
	RCVLOWAT, /* fd above 2, SOL_SOCKET, SO_RCVLOWAT */
};

/* The allow-list: one row per syscall, with its argument rule and the
 * reason it is needed.  Everything else kills the process (or traps, in
 * --enable-seccomp-trap builds, to name the missing syscall in the log). */
static const struct {
	const char *name;
	enum arg_rule rule;
	const char *why;
} allowed[] = {
    {"epoll_wait", ANY, "loop.c: the only place the worker sleeps"},
    {"epoll_pwait", ANY, "loop.c: what glibc may use for epoll_wait"},
    {"epoll_ctl", ANY, "conn.c: register accepted sockets, toggle EPOLLOUT"},
    {"accept4", ANY, "conn.c: new client connections on the inherited listeners"},
    {"read", NOT_STDIO, "tunio.c: TUN queue; loop.c: timerfd and signalfd"},
    {"write", NOT_STDIO, "tunio.c: packets to the TUN queue"},
    {"recvfrom", NOT_STDIO, "tls.c: clients; tunio.c, udpio.c: inboxes; loop.c: control"},
    {"recvmmsg", NOT_STDIO, "udpio.c: DTLS datagrams, in batches"},
    {"sendmmsg", NOT_STDIO, "udpout.c: DTLS datagrams, in batches"},
    {"setsockopt", RCVLOWAT, "rxcoal.c: a bulk sender's receive mark (SO_RCVLOWAT)"},
    {"sendto", NOT_STDIO, "tls.c: clients; tunio.c, udpio.c: hand-offs; log.c, chan.c: master"},
    {"close", ANY, "conn.c: closing client connections; loop.c: the listeners, on SIGQUIT"},
    {"getrandom", ANY, "GnuTLS: handshake and record nonces"},
    {"clock_gettime", ANY, "time() and GnuTLS timers when the vDSO is not used"},
    {"gettimeofday", ANY, "time() fallback without the vDSO"},
    {"time", ANY, "time() fallback without the vDSO"},
    {"brk", ANY, "malloc: per-connection TLS state and buffers"},
    {"mmap", NO_EXEC, "malloc: large allocations (send queues)"},
    {"munmap", ANY, "free of large allocations"},
    {"mremap", ANY, "realloc of large allocations (keeps the protection)"},
    {"mprotect", NO_EXEC, "malloc arena growth"},
    {"madvise", ANY, "free: glibc returns memory to the kernel"},
    {"futex", ANY, "GnuTLS and glibc internal locks (uncontended: single thread)"},
    {"rt_sigreturn", ANY, "return from the SIGSYS trap handler in trap builds"},
    {"rt_sigprocmask", ANY, "glibc abort() and exit paths"},
    {"getpid", ANY, "glibc abort(): raise() to itself"},
    {"gettid", ANY, "glibc abort(): raise() to itself"},
    {"tgkill", OWN_PID, "glibc abort(): raise() to itself, never to another process"},
    {"exit", ANY, "thread exit"},
    {"exit_group", ANY, "worker exit: stop, master gone, fatal errors"},
    {"restart_syscall", ANY, "kernel restarts an interrupted wait"},
#ifdef TUNNELD_SANITIZERS
    {"sigaltstack", ANY, "sanitizer builds only: the ASan runtime drops its signal stack at exit"},
#endif
};

/* Rows added only when the worker serves TLS stream services (a daemon
 * started with services = ( ... )); a VPN-only worker's list stays as
 * above.  Landlock (ABI 4 and later) also limits connect() to the
 * services' destination ports (enter_landlock). */
static const struct {
	const char *name;
	enum arg_rule rule;
	const char *why;
} svc_allowed[] = {
    {"socket", INET_STREAM, "relay.c: a stream's TCP socket to its service's destination"},
    {"connect", NOT_STDIO, "relay.c: connect it (non-blocking; again to learn the result)"},
    {"shutdown", SHUT_WR_ONLY, "relay.c: half-close forwarded (close_notify or FIN -> FIN)"},
    {"getsockname", NOT_STDIO, "relay.c: the address a client connected to (PROXY v2)"},
    {"recvmsg", CTL_FD, "loop.c: a reload's services come with their listeners (SCM_RIGHTS)"},
};

size_t sandbox_allowed_count(void)
{
	return sizeof(allowed) / sizeof(allowed[0]);
}

const char *sandbox_allowed_name(size_t i)
{
	return i < sandbox_allowed_count() ? allowed[i].name : NULL;
}

#ifdef TUNNELD_SANITIZERS
/* Sanitizer builds only (--enable-sanitizers; build with clang, whose ASan
 * and UBSan share one runtime and one report file).  At a report the
 * runtimes would open the report file, ask isatty() for colours and start
 * llvm-symbolizer; at exit LeakSanitizer stops the world with clone and
 * ptrace and reads /proc.  None of that is on the allow-list, and none of
 * it is added: a worker does it before it is confined, or not at all. */

/* Defaults, before ASAN_OPTIONS / UBSAN_OPTIONS: no colours (no ioctl on
 * stderr) and no symbolizer process; reports carry module+offset frames,
 * which tests/ci/20-sanitizers.sh symbolizes when it prints them. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void)
{
	return "color=never:symbolize=0";
}
const char *__ubsan_default_options(void)
{
	return "color=never:symbolize=0:print_stacktrace=1";
}

static void sanitizers_prepare(void)
{
	/* Opens "<log_path>.<pid>" now (the runtime would at the first
	 * report); with log_path unset, reports go to the inherited stderr. */
	__sanitizer_get_report_path();
	/* Caches /proc/self/maps for the stack traces of reports. */
	__sanitizer_sandbox_on_notify(NULL);
	/* The worker's leak check, now: it also turns off the one at exit. */
	__lsan_do_leak_check();
}
#endif

/* Row i of the allow-list as a seccomp rule. */
static int add_rule(scmp_filter_ctx ctx, int nr, enum arg_rule rule, pid_t self, int ctl)
{
	const scmp_datum_t flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
	int r;

	/* The unused second datum is spelt out: compilers warn otherwise. */
	switch (rule) {
	case INET_STREAM:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3, SCMP_A0(SCMP_CMP_EQ, AF_INET, 0),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, ~flags, SOCK_STREAM),
				     SCMP_A2(SCMP_CMP_EQ, 0, 0));
		return r < 0 ? r
			     : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3,
						SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0),
						SCMP_A1(SCMP_CMP_MASKED_EQ, ~flags, SOCK_STREAM),
						SCMP_A2(SCMP_CMP_EQ, 0, 0));
	case SHUT_WR_ONLY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2,
					SCMP_A0(SCMP_CMP_GT, STDERR_FILENO, 0),
					SCMP_A1(SCMP_CMP_EQ, SHUT_WR, 0));
	case CTL_FD:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)ctl, 0));
	case RCVLOWAT:
		return seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, nr, 3, SCMP_A0(SCMP_CMP_GT, STDERR_FILENO, 0),
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0), SCMP_A2(SCMP_CMP_EQ, SO_RCVLOWAT, 0));
	case NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case OWN_PID:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0));
	case NOT_STDIO:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_GT, STDERR_FILENO, 0));
	case ANY:
		break;
	}
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int load_seccomp(const struct worker_env *env)
{
	scmp_filter_ctx ctx;
	pid_t self = getpid();
	size_t i;
	int r;

	ctx = scmp_start(NULL);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < sandbox_allowed_count(); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = add_rule(ctx, nr, allowed[i].rule, self, env->ipc_fd);
		if (r < 0)
			goto out;
	}
	for (i = 0; env->svc_msg && i < sizeof(svc_allowed) / sizeof(svc_allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(svc_allowed[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue;
		r = add_rule(ctx, nr, svc_allowed[i].rule, self, env->ipc_fd);
		if (r < 0)
			goto out;
	}
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

/* Landlock: a ruleset that handles every file system right the kernel
 * knows and grants none, on top of the empty chroot.  Kernels without it
 * (ENOSYS, or EOPNOTSUPP when it is off at boot) leave seccomp alone to
 * forbid opening files; any other failure is an error. */
#define LL_ACCESS_FS_V1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_ACCESS_FS_V2 ((1ULL << 14) - 1) /* + REFER */
#define LL_ACCESS_FS_V3 ((1ULL << 15) - 1) /* + TRUNCATE */
#define LL_ACCESS_FS_V5 ((1ULL << 16) - 1) /* + IOCTL_DEV */

/* Landlock's network rules (ABI 4), which Debian 12's headers lack. */
#define LL_RULE_NET_PORT	  2
#define LL_ACCESS_NET_BIND_TCP	  (1ULL << 0)
#define LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
struct ll_ruleset_attr {
	uint64_t handled_access_fs, handled_access_net;
};
struct ll_net_port_attr {
	uint64_t allowed_access, port;
} __attribute__((packed));

/* A worker serving services: TCP connect() only to their destination
 * ports (as configured at start), bind() never. */
static int landlock_ports(int fd, const struct worker_env *env)
{
	struct ll_net_port_attr pa = {.allowed_access = LL_ACCESS_NET_CONNECT_TCP};
	struct svc_def d;
	struct ipc_svc h;

	memcpy(&h, env->svc_msg, sizeof(h));
	for (uint32_t i = 0; i < h.n; i++) {
		svcmsg_def(env->svc_msg, i, &d);
		pa.port = ntohs(((const struct sockaddr_in *)&d.connect.ss)->sin_port);
		if (syscall(SYS_landlock_add_rule, fd, LL_RULE_NET_PORT, &pa, 0) < 0)
			return -errno;
	}
	return 0;
}

static int enter_landlock(const struct worker_env *env)
{
	struct ll_ruleset_attr attr = {0};
	long abi;
	int fd, e;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		log_debug("Landlock not available (%s): seccomp alone keeps files out",
			  strerror(errno));
		return 0;
	}
	attr.handled_access_fs = abi >= 5   ? LL_ACCESS_FS_V5
				 : abi >= 3 ? LL_ACCESS_FS_V3
				 : abi >= 2 ? LL_ACCESS_FS_V2
					    : LL_ACCESS_FS_V1;
	if (env->svc_msg && abi >= 4)
		attr.handled_access_net = LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP;
	/* Older ABIs take the first field only. */
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
			  attr.handled_access_net ? sizeof(attr) : sizeof(attr.handled_access_fs),
			  0);
	if (fd < 0)
		return -errno;
	e = attr.handled_access_net ? landlock_ports(fd, env) : 0;
	if (e == 0)
		e = syscall(SYS_landlock_restrict_self, fd, 0) < 0 ? -errno : 0;
	close(fd);
	if (e == 0)
		log_debug("Landlock: no file system access%s (ABI %ld)",
			  attr.handled_access_net ? ", TCP connect only to the services' ports"
						  : "",
			  abi);
	return e;
}

/* fds 0-2 are the master's stdin, stdout and stderr: the admin's terminal
 * or the journal's stream, where a line would bypass the master's log
 * (its levels, its rate limit).  A worker logs through its socket. */
static int close_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	for (int i = STDIN_FILENO; i <= STDERR_FILENO; i++)
		if (fd != i && dup2(fd, i) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

int sandbox_enter(const struct worker_env *env)
{
	int r;

#ifdef TUNNELD_SANITIZERS
	sanitizers_prepare();
#endif
	r = close_stdio();
	if (r < 0)
		return log_errno(r, "fds 0-2 to /dev/null");
	if (env->chroot_dir) {
		if (chroot(env->chroot_dir) < 0 || chdir("/") < 0)
			return log_errno(-errno, "chroot(%s)", env->chroot_dir);
	}
	if (getuid() == 0 || geteuid() == 0) {
		if (setgroups(1, &env->gid) < 0 || setresgid(env->gid, env->gid, env->gid) < 0 ||
		    setresuid(env->uid, env->uid, env->uid) < 0)
			return log_errno(-errno, "dropping privileges to %u:%u", (unsigned)env->uid,
					 (unsigned)env->gid);
		/* Make sure there is no way back. */
		if (env->uid != 0 && setuid(0) == 0)
			return log_errno(-EPERM, "privileges could be regained");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_errno(-errno, "PR_SET_NO_NEW_PRIVS");
	r = enter_landlock(env);
	if (r < 0)
		return log_errno(r, "Landlock");
	r = load_seccomp(env);
	if (r < 0)
		return log_errno(r, "loading the seccomp filter");
	return 0;
}
