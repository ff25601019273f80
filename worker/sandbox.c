/* Worker: confinement, entered once after set-up and before serving.  Order
 * as OpenSSH does it: everything is open and GnuTLS is warm, then chroot to
 * an empty directory, drop groups, gid, uid, set no_new_privs, and load the
 * seccomp allow-list last.  A worker that is taken over can then touch no
 * file, start no program and open no socket. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <seccomp.h>

#include "common/log.h"

#ifdef TUNNELD_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

/* The allow-list: one row per syscall, with the reason it is needed.
 * Everything else kills the process (or traps, in --enable-seccomp-trap
 * builds, to name the missing syscall in the log). */
static const struct {
	const char *name;
	const char *why;
} allowed[] = {
    {"epoll_wait", "loop.c: the only place the worker sleeps"},
    {"epoll_pwait", "loop.c: what glibc may use for epoll_wait"},
    {"epoll_ctl", "conn.c: register accepted sockets, toggle EPOLLOUT"},
    {"accept4", "conn.c: new client connections on the inherited listeners"},
    {"read", "tunio.c: TUN queue; loop.c: timerfd and signalfd"},
    {"write", "tunio.c: packets to the TUN queue"},
    {"recvfrom", "tls.c: client sockets; tunio.c: inbox; loop.c: control socket"},
    {"recvmmsg", "udpio.c: DTLS datagrams, in batches"},
    {"sendmmsg", "udpout.c: DTLS datagrams, in batches"},
    {"sendto", "tls.c: client sockets; tunio.c: hand-offs; log.c and chan.c: master"},
    {"close", "conn.c: closing client connections; loop.c: the listeners, on SIGQUIT"},
    {"getrandom", "GnuTLS: handshake and record nonces"},
    {"clock_gettime", "time() and GnuTLS timers when the vDSO is not used"},
    {"gettimeofday", "time() fallback without the vDSO"},
    {"time", "time() fallback without the vDSO"},
    {"brk", "malloc: per-connection TLS state and buffers"},
    {"mmap", "malloc: large allocations (send queues)"},
    {"munmap", "free of large allocations"},
    {"mremap", "realloc of large allocations"},
    {"mprotect", "malloc arena growth"},
    {"madvise", "free: glibc returns memory to the kernel"},
    {"futex", "GnuTLS and glibc internal locks (uncontended: single thread)"},
    {"rt_sigreturn", "return from the SIGSYS trap handler in trap builds"},
    {"rt_sigprocmask", "glibc abort() and exit paths"},
    {"getpid", "glibc abort(): raise() to itself"},
    {"gettid", "glibc abort(): raise() to itself"},
    {"tgkill", "glibc abort(): raise() to itself"},
    {"exit", "thread exit"},
    {"exit_group", "worker exit: stop, master gone, fatal errors"},
    {"restart_syscall", "kernel restarts an interrupted wait"},
#ifdef TUNNELD_SANITIZERS
    {"sigaltstack", "sanitizer builds only: the ASan runtime drops its signal stack at exit"},
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

static int load_seccomp(void)
{
	scmp_filter_ctx ctx;
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
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
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			goto out;
	}
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

int sandbox_enter(const struct worker_env *env)
{
	int r;

#ifdef TUNNELD_SANITIZERS
	sanitizers_prepare();
#endif
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
	r = load_seccomp();
	if (r < 0)
		return log_errno(r, "loading the seccomp filter");
	return 0;
}
