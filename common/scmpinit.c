/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The start of a seccomp filter (see scmpinit.h). */
#include "config.h"
#include "common/scmpinit.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#ifdef SECCOMP_TRAP
static const char *trap_who;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	char line[160];
	int n;

	(void)sig;
	(void)uc;
	/* Not async-signal-safe, but this build exists to debug the lists. */
	if (!trap_who) {
		log_err("seccomp: forbidden syscall %s (%d)", name ? name : "?", si->si_syscall);
		_exit(70);
	}
	n = snprintf(line, sizeof(line), "tunneld: %s: error: seccomp: forbidden syscall %s (%d)\n",
		     trap_who, name ? name : "?", si->si_syscall);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n);
	_exit(70);
}
#endif

scmp_filter_ctx scmp_start(const char *who)
{
	uint32_t deny = SCMP_ACT_KILL_PROCESS;

#ifdef SECCOMP_TRAP
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	trap_who = who;
	deny = SCMP_ACT_TRAP;
#else
	(void)who;
#endif
	return seccomp_init(deny);
}
