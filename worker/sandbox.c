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

#ifdef SECCOMP_TRAP
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	/* Not async-signal-safe, but this build exists to debug the list. */
	log_err("seccomp: forbidden syscall %s (%d)", name ? name : "?", si->si_syscall);
	_exit(70);
}
#endif

/* Row i of the allow-list as a seccomp rule. */
static int add_rule(scmp_filter_ctx ctx, int nr, enum arg_rule rule, pid_t self)
{
	/* The unused second datum is spelt out: compilers warn otherwise. */
	switch (rule) {
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

static int load_seccomp(void)
{
	scmp_filter_ctx ctx;
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
	pid_t self = getpid();
	size_t i;
	int r;

#ifdef SECCOMP_TRAP
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	deny = SCMP_ACT_TRAP;
#endif
	ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < sandbox_allowed_count(); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = add_rule(ctx, nr, allowed[i].rule, self);
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

static int enter_landlock(void)
{
	struct landlock_ruleset_attr attr = {0};
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
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return -errno;
	e = syscall(SYS_landlock_restrict_self, fd, 0) < 0 ? -errno : 0;
	close(fd);
	if (e == 0)
		log_debug("Landlock: no file system access (ABI %ld)", abi);
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
	r = enter_landlock();
	if (r < 0)
		return log_errno(r, "Landlock");
	r = load_seccomp();
	if (r < 0)
		return log_errno(r, "loading the seccomp filter");
	return 0;
}
