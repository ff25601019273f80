/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker, test builds only (--enable-test-hooks; packages never have it):
 * SIGUSR2 makes the worker try what a taken-over worker would, so the
 * end-to-end tests can prove that the confinement stops it.  The value
 * sent with the signal (sigqueue(3), `kill -q VALUE`) picks the try; its
 * bits above the low byte are the try's argument.  Each try logs what it
 * is about to do first, then does it: the tests expect the worker to die
 * of it, and the master to log the signal and respawn it. */
#include "config.h"
#include "worker/worker.h"

#ifdef TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

/* The first lease another worker holds, or -1. */
static int64_t foreign_lease(void)
{
	for (uint32_t i = 0; i < W.env->geom.size; i++) {
		uint8_t o = __atomic_load_n(&W.env->owner[i], __ATOMIC_ACQUIRE);
		if (o != 0 && o != W.env->id + 1)
			return i;
	}
	return -1;
}

/* Claim another worker's client in owner[]: its downlink would come here. */
static void steal_lease(void)
{
	int64_t lease = foreign_lease();
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *p;

	if (lease < 0) {
		log_err("test hook: no lease of another worker in owner[]");
		return;
	}
	p = (uint8_t *)(uintptr_t)&W.env->owner[lease];
	if (mprotect((void *)((uintptr_t)p & ~(uintptr_t)(page - 1)), (size_t)page,
		     PROT_READ | PROT_WRITE) < 0)
		log_err("test hook: mprotect(owner[], PROT_WRITE): %s", strerror(errno));
	log_err("test hook: writing owner[%lld] = %u", (long long)lease, W.env->id + 1);
	__atomic_store_n(p, (uint8_t)(W.env->id + 1), __ATOMIC_RELEASE);
	log_err("test hook: owner[%lld] is now %u", (long long)lease, *p);
}

/* Executable memory: the first step of running injected code. */
static void exec_page(bool by_mmap)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (by_mmap) {
		log_err("test hook: mmap(PROT_READ | PROT_EXEC)");
		p = mmap(NULL, (size_t)page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		log_err("test hook: mmap(PROT_EXEC): %s",
			p == MAP_FAILED ? strerror(errno) : "done");
		return;
	}
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_err("test hook: mmap: %s", strerror(errno));
		return;
	}
	log_err("test hook: mprotect(PROT_READ | PROT_EXEC)");
	log_err("test hook: mprotect(PROT_EXEC): %s",
		mprotect(p, (size_t)page, PROT_READ | PROT_EXEC) < 0 ? strerror(errno) : "done");
}

/* Stop a sibling worker: it would never be noticed (it does not exit). */
static void signal_other(pid_t pid)
{
	log_err("test hook: tgkill(%d, SIGSTOP)", (int)pid);
	log_err("test hook: tgkill(%d, SIGSTOP): %s", (int)pid,
		syscall(SYS_tgkill, pid, pid, SIGSTOP) < 0 ? strerror(errno) : "done");
}

/* A line on the master's stderr, past its log: the admin's terminal, or
 * the journal at the priority of our choice. */
static void write_stderr(void)
{
	static const char line[] = "<0>test hook: forged emergency\n";

	log_err("test hook: write(2)");
	log_err("test hook: write(2): %s",
		write(STDERR_FILENO, line, sizeof(line) - 1) < 0 ? strerror(errno) : "done");
}

void testhook_run(uint32_t signo, int32_t value)
{
	if (signo != SIGUSR2)
		return;
	switch (value & 0xff) {
	case TESTHOOK_OPEN:
		close(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
		break;
	case TESTHOOK_OWNER:
		steal_lease();
		break;
	case TESTHOOK_MPROTECT_EXEC:
	case TESTHOOK_MMAP_EXEC:
		exec_page((value & 0xff) == TESTHOOK_MMAP_EXEC);
		break;
	case TESTHOOK_SIGNAL:
		signal_other((pid_t)(value >> 8));
		break;
	case TESTHOOK_STDERR:
		write_stderr();
		break;
	default:
		log_err("test hook: unknown try %d", value & 0xff);
	}
}
#endif
