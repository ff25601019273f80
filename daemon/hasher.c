/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hashing process (see hasher.h): forked by the master (hashpool.c) with
 * the password db, it confines itself as a worker does, then runs crypt
 * for one request at a time.  It owns nothing but its socket; a password
 * lives in it for one check.  Taken over (through a flaw of crypt, say),
 * it can read the hashes it was given and nothing else: no TLS key, no
 * cookie, no file, no socket but its own. */
#include "config.h"
#include "daemon/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <seccomp.h>

#include "common/scmpinit.h"
#include "common/passwd.h"
#include "daemon/backend.h"

#ifdef TUNNELD_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#endif

/* The allow-list: one row per syscall, with the reason it is needed.
 * Everything else kills the process (traps, in --enable-seccomp-trap
 * builds, writing the syscall's name to stderr). */
static const struct {
	const char *name;
	const char *why;
} allowed[] = {
    {"recvfrom", "a request from the master"},
    {"sendto", "the answer to the master"},
    {"brk", "malloc (crypt's scratch space, glibc)"},
    {"mmap", "yescrypt's memory, large allocations"},
    {"munmap", "yescrypt's memory, large allocations"},
    {"mremap", "realloc of large allocations"},
    {"mprotect", "malloc arena growth"},
    {"madvise", "free: glibc returns memory to the kernel"},
    {"futex", "glibc internal locks (uncontended: single thread)"},
    {"rt_sigreturn", "return from the SIGSYS trap handler in trap builds"},
    {"rt_sigprocmask", "glibc abort() and exit paths"},
    {"getpid", "glibc abort(): raise() to itself"},
    {"gettid", "glibc abort(): raise() to itself"},
    {"tgkill", "glibc abort(): raise() to itself"},
    {"exit", "thread exit"},
    {"exit_group", "the master closed the socket, or a broken request"},
    {"restart_syscall", "kernel restarts an interrupted wait"},
#ifdef TUNNELD_SANITIZERS
    {"sigaltstack", "sanitizer builds only: the ASan runtime drops its signal stack at exit"},
#endif
#ifdef SECCOMP_TRAP
    {"write", "trap builds only: the forbidden syscall's name to stderr"},
#endif
};

/* More for a RADIUS client (radclient.c: radcli, glibc's getaddrinfo),
 * in a prison that holds only etc/services (radius.c): each row allows
 * its syscall when its argument rule holds; rule ERRNO refuses it with
 * EACCES instead of killing. */
enum rad_rule { R_ANY, R_INET, R_INET6, R_ERRNO_UNIX, R_RDONLY };
static const struct {
	const char *name;
	enum rad_rule rule;
	const char *why;
} radius_allowed[] = {
    {"socket", R_INET, "radcli: a UDP socket per request (IPv4 server)"},
    {"socket", R_INET6, "radcli: a UDP socket per request (IPv6 server)"},
    {"socket", R_ERRNO_UNIX, "glibc syslog, where radcli logs: refused, no /dev/log here"},
    {"bind", R_ANY, "radcli: binds its socket to the source address"},
    {"connect", R_ANY, "radcli: finds its source address (a connected UDP socket)"},
    {"getsockname", R_ANY, "radcli: reads that source address"},
    {"poll", R_ANY, "radcli: waits radius.timeout for the answer"},
    {"ppoll", R_ANY, "radcli: the same, where glibc uses ppoll"},
    {"close", R_ANY, "radcli: closes its socket after each request"},
    {"openat", R_RDONLY, "getaddrinfo: etc/services of the prison, read-only"},
    {"read", R_ANY, "getaddrinfo: reads etc/services"},
    {"fstat", R_ANY, "glibc stdio: the file's size"},
    {"newfstatat", R_ANY, "glibc stdio and nsswitch: file status"},
    {"lseek", R_ANY, "glibc stdio"},
    {"fcntl", R_ANY, "glibc stdio and sockets: descriptor flags"},
    {"getrandom", R_ANY, "radcli (GnuTLS): the Request Authenticator"},
    {"clock_gettime", R_ANY, "radcli: timeouts, Event-Timestamp"},
    {"gettimeofday", R_ANY, "radcli: timeouts, without the vDSO"},
    {"time", R_ANY, "time(), without the vDSO"},
};

static int add_radius_row(scmp_filter_ctx ctx, int nr, enum rad_rule rule)
{
	switch (rule) {
	case R_INET:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, AF_INET, 0));
	case R_INET6:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0));
	case R_ERRNO_UNIX:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1,
					SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	case R_RDONLY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDONLY));
	case R_ANY:
		break;
	}
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int load_seccomp(bool radius)
{
	scmp_filter_ctx ctx;
	int r = 0;

	ctx = scmp_start("hasher");
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i].name);
		if (nr != __NR_SCMP_ERROR) /* else: not on this architecture */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	for (size_t i = 0;
	     radius && i < sizeof(radius_allowed) / sizeof(radius_allowed[0]) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(radius_allowed[i].name);
		if (nr != __NR_SCMP_ERROR)
			r = add_radius_row(ctx, nr, radius_allowed[i].rule);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

/* As a worker (worker/sandbox.c), in OpenSSH's order.  NULL, or the
 * step that failed. */
const char *hasher_confine(const struct hasher_id *id, bool radius)
{
#ifdef TUNNELD_SANITIZERS
	/* Sanitizer builds: the report file is opened and the memory map
	 * cached now, as a worker does, so a report needs nothing the
	 * sandbox refuses.  (A hashing process ends with _exit: no leak
	 * check at exit.) */
	__sanitizer_get_report_path();
	__sanitizer_sandbox_on_notify(NULL);
#endif
	if (id->chroot_dir && (chroot(id->chroot_dir) < 0 || chdir("/") < 0))
		return "chroot";
	if (getuid() == 0 || geteuid() == 0) {
		if (setgroups(1, &id->gid) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
		    setresuid(id->uid, id->uid, id->uid) < 0)
			return "dropping privileges";
		if (id->uid != 0 && setuid(0) == 0)
			return "privileges could be regained";
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return "PR_SET_NO_NEW_PRIVS";
	if (load_seccomp(radius) < 0)
		return "loading the seccomp filter";
	return NULL;
}

/* One request to the backend, its answer into rs.  An abort is answered
 * too (BK_FAIL, nobody reads it), so the master's count of answers owed
 * stays simple. */
static void serve(const struct backend *be, struct hash_req *rq, struct hash_resp *rs)
{
	static struct bk_result r;
	struct bk_request b = {rq->op,	 rq->conv,
			       rq->user, rq->pass,
			       rq->peer, rq->n_ans < IPC_INPUTS_MAX ? rq->n_ans : IPC_INPUTS_MAX,
			       rq->ans,	 rq->now,
			       rq->sid,	 rq->nas_port};

	memset(&r, 0, sizeof(r));
	rq->user[sizeof(rq->user) - 1] = '\0';
	rq->pass[sizeof(rq->pass) - 1] = '\0';
	rq->peer[sizeof(rq->peer) - 1] = '\0';
	for (uint32_t i = 0; i < b.n_ans; i++) {
		rq->ans[i].name[sizeof(rq->ans[i].name) - 1] = '\0';
		rq->ans[i].value[sizeof(rq->ans[i].value) - 1] = '\0';
	}
	if (rq->op == BK_OP_START)
		be->start(&b, &r);
	else if (rq->op == BK_OP_ANSWER)
		be->answer(&b, &r);
	else
		be->abort(rq->conv);
	if (r.kind != BK_OK && r.kind != BK_ASK) {
		r.kind = BK_FAIL;
		if (r.result == PW_OK && rq->op != BK_OP_ABORT)
			r.result = PW_BAD_PASSWORD;
	}
	rs->result = r.result;
	rs->kind = r.kind;
	rs->conv = r.conv;
	rs->otp_step = r.otp_step;
	rs->form = r.form;
	memcpy(rs->groups, r.groups, sizeof(rs->groups));
	if (r.kind == BK_OK)
		rs->grant = r.grant; /* RADIUS's attributes (zero from the others) */
	explicit_bzero(&r, sizeof(r));
}

void hasher_main(int fd, const struct passwd_db *db, const struct hasher_id *id, struct rc_conf *rh)
{
	static struct hash_req rq;
	static struct hash_resp rs;
	const struct backend *be;
	const char *failed;
	ssize_t n;

	/* PAM modules need the files and rights of root (hasher.h). */
	be = rh		       ? bk_radius(rh)
	     : id->pam_service ? bk_pam(id->pam_service)
			       : bk_passwd(db, id->totp);
	failed = id->pam_service && !rh ? NULL : hasher_confine(id, rh != NULL);
	if (failed) {
		/* stderr is the master's: the exit status alone would not say
		 * which step it was. */
		dprintf(STDERR_FILENO, "tunneld: hasher: error: %s: %s\n", failed, strerror(errno));
		_exit(1);
	}
	for (;;) {
		n = recv(fd, &rq, sizeof(rq), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			_exit(0); /* the master closed our socket: stop, or a reload */
		if (n != (ssize_t)sizeof(rq))
			_exit(2); /* the master sends nothing else */
		memset(&rs, 0, sizeof(rs));
		rs.id = rq.id;
		serve(be, &rq, &rs);
		explicit_bzero(&rq, sizeof(rq));
		if (send(fd, &rs, sizeof(rs), MSG_NOSIGNAL) != (ssize_t)sizeof(rs))
			_exit(errno == EPIPE ? 0 : 3);
	}
}
