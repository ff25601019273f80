/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Key process (forked by the master; then the workers' user, chrooted to
 * the empty directory, not dumpable, seccomp): holds the server's private
 * key, and nothing else of the master's.  Owns the key in use, the
 * KEY_OLD before it (a worker whose control socket is backed up may get
 * its new certificate several reloads late, and handshakes that began
 * with an old certificate finish with its key) and one loaded but not yet
 * committed (a reload in progress).  Every request is checked: a worker may be
 * taken over, and then it can ask for signatures, but the key never
 * leaves this process.
 *
 * One epoll loop, level-triggered, one message per ready socket a turn:
 * a worker that floods its socket delays the others by one signature
 * each, no more.  Answers that find a full socket are dropped (the worker
 * gives up on its own). */
#include "config.h"
#include "daemon/keyserv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <seccomp.h>

#include "common/scmpinit.h"
#include "common/keyproto.h"
#include "conf/config.h"

#ifdef TUNNELD_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#endif

#define KEY_FILE_MAX (64 * 1024)
#define CTL_TAG	     UINT32_MAX /* epoll data of the master's socket */

struct key {
	uint32_t gen; /* 0: none */
	gnutls_privkey_t pk;
};

#define KEY_OLD 8 /* committed keys kept after their successor, newest first */
static struct key cur, old[KEY_OLD], pending;

/* The services' keys (KEY_SVC_*), each in one of three sets as the VPN's
 * key: loaded aside by a start or reload, in use, and in use before (for
 * handshakes that began under it). */
enum svc_set { SVC_FREE, SVC_PENDING, SVC_CUR, SVC_PREV };
#define SVC_KEYS (3 * CFG_MAX_SERVICES)
static struct {
	enum svc_set set;
	struct key k;
} svc[SVC_KEYS];

/* The allow-list, one row per syscall with its reason; anything else kills
 * the process (traps, naming the syscall, in --enable-seccomp-trap builds).
 * mmap and mprotect are allowed without PROT_EXEC only. */
static const struct {
	const char *name;
	const char *why;
} allowed[] = {
    {"epoll_wait", "the loop's only wait"},
    {"epoll_pwait", "what glibc may use for epoll_wait"},
    {"recvfrom", "sign requests from the workers"},
    {"recvmsg", "the master's requests, KEY_LOAD with the key file's fd"},
    {"sendto", "answers"},
    {"read", "the key file, through the fd the master passed"},
    {"close", "that fd"},
    {"getrandom", "ECDSA nonces, RSA blinding and PSS salts"},
    {"clock_gettime", "GnuTLS, when the vDSO is not used"},
    {"gettimeofday", "time() fallback without the vDSO"},
    {"time", "time() fallback without the vDSO"},
    {"brk", "malloc"},
    {"mmap", "malloc: large allocations (not executable)"},
    {"munmap", "free of large allocations"},
    {"mremap", "realloc of large allocations"},
    {"mprotect", "malloc arena growth (not executable)"},
    {"madvise", "free: glibc returns memory to the kernel"},
    {"futex", "GnuTLS and glibc internal locks (single thread)"},
    {"rt_sigreturn", "return from the SIGSYS handler in trap builds"},
    {"rt_sigprocmask", "glibc abort() and exit paths"},
    {"getpid", "glibc abort(): raise() to itself"},
    {"gettid", "glibc abort(): raise() to itself"},
    {"tgkill", "glibc abort(): raise() to itself"},
    {"exit_group", "exit: the master is gone, or a fatal error"},
    {"restart_syscall", "the kernel restarts an interrupted wait"},
#ifdef SECCOMP_TRAP
    {"write", "trap builds: the SIGSYS handler names the syscall on stderr"},
#endif
#ifdef TUNNELD_SANITIZERS
    {"sigaltstack", "sanitizer builds only: the ASan runtime drops its signal stack at exit"},
#endif
};

size_t keyserv_allowed_count(void)
{
	return sizeof(allowed) / sizeof(allowed[0]);
}

const char *keyserv_allowed_name(size_t i)
{
	return i < keyserv_allowed_count() ? allowed[i].name : NULL;
}

static void key_free(struct key *k)
{
	gnutls_privkey_deinit(k->pk);
	memset(k, 0, sizeof(*k));
}

static const struct key *key_of(uint32_t gen)
{
	if (gen && cur.gen == gen)
		return &cur;
	for (size_t i = 0; gen && i < KEY_OLD; i++)
		if (old[i].gen == gen)
			return &old[i];
	for (size_t i = 0; gen && i < SVC_KEYS; i++)
		if ((svc[i].set == SVC_CUR || svc[i].set == SVC_PREV) && svc[i].k.gen == gen)
			return &svc[i].k;
	return NULL;
}

/* Free every service key of set from; move those of set to into from's. */
static void svc_shift(enum svc_set from, enum svc_set to)
{
	for (size_t i = 0; i < SVC_KEYS; i++)
		if (svc[i].set == from) {
			key_free(&svc[i].k);
			svc[i].set = SVC_FREE;
		}
	for (size_t i = 0; i < SVC_KEYS; i++)
		if (svc[i].set == to)
			svc[i].set = from;
}

/* ---- signing ---------------------------------------------------------------- */

static int sign(const struct key_req *rq, gnutls_datum_t *sig)
{
	const struct key *k = key_of(rq->gen);
	gnutls_datum_t in = {(unsigned char *)rq->data, rq->len};
	gnutls_sign_algorithm_t algo = (gnutls_sign_algorithm_t)rq->algo;

	if (!k)
		return GNUTLS_E_INSUFFICIENT_CREDENTIALS;
	if (rq->op == KEY_SIGN_DATA)
		return gnutls_privkey_sign_data2(k->pk, algo, 0, &in, sig);
	/* What GnuTLS hands an external key: for PKCS#1 v1.5 the DigestInfo
	 * as "raw RSA", for everything else the hash and its algorithm. */
	if (algo == GNUTLS_SIGN_RSA_RAW)
		return gnutls_privkey_sign_hash(k->pk, 0, GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &in,
						sig);
	return gnutls_privkey_sign_hash2(k->pk, algo, 0, &in, sig);
}

static void answer(int fd, uint32_t id, int status, const void *out, size_t len)
{
	struct key_resp rs = {.id = id, .status = status};

	if (status == 0 && len <= sizeof(rs.out)) {
		if (len)
			memcpy(rs.out, out, len);
		rs.len = (uint32_t)len;
	} else if (status == 0) {
		rs.status = GNUTLS_E_SHORT_MEMORY_BUFFER;
	}
	/* A full socket: the worker stopped waiting long ago. */
	(void)send(fd, &rs, KEY_RESP_HEAD + rs.len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void on_worker(int fd)
{
	struct key_req rq;
	gnutls_datum_t sig = {NULL, 0};
	ssize_t n = recv(fd, &rq, sizeof(rq), MSG_DONTWAIT | MSG_TRUNC);
	int r;

	if (n < (ssize_t)KEY_REQ_HEAD)
		return; /* EAGAIN, or too short to answer */
	if ((size_t)n > sizeof(rq) || rq.len > KEY_DATA_MAX || KEY_REQ_HEAD + rq.len != (size_t)n ||
	    (rq.op != KEY_SIGN_HASH && rq.op != KEY_SIGN_DATA)) {
		answer(fd, rq.id, GNUTLS_E_INVALID_REQUEST, NULL, 0);
		return;
	}
	r = sign(&rq, &sig);
	answer(fd, rq.id, r < 0 ? r : 0, sig.data, sig.size);
	gnutls_free(sig.data);
}

/* ---- the master's requests --------------------------------------------------- */

/* A PEM key from fd (closed) into *k; the key process's copy of the file
 * is wiped.  Its public key, DER, into *spki.  0 or a GnuTLS error. */
static int load(int fd, struct key *k, gnutls_datum_t *spki)
{
	static char buf[KEY_FILE_MAX];
	gnutls_datum_t pem = {(unsigned char *)buf, 0};
	gnutls_pubkey_t pub = NULL;
	ssize_t n;
	int r;

	while ((n = read(fd, buf + pem.size, sizeof(buf) - pem.size)) > 0)
		pem.size += (unsigned)n;
	close(fd);
	if (n < 0 || pem.size == sizeof(buf)) {
		r = GNUTLS_E_FILE_ERROR;
		goto out;
	}
	if ((r = gnutls_privkey_init(&k->pk)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(k->pk, &pem, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0 ||
	    (r = gnutls_pubkey_init(&pub)) < 0 ||
	    (r = gnutls_pubkey_import_privkey(pub, k->pk, 0, 0)) < 0 ||
	    (r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, spki)) < 0)
		key_free(k);
out:
	gnutls_pubkey_deinit(pub);
	explicit_bzero(buf, pem.size);
	return r;
}

/* KEY_SVC_LOAD: fd (closed) into a free entry, loaded aside as gen. */
static int svc_load(int fd, uint32_t gen, gnutls_datum_t *spki)
{
	size_t i;
	int r;

	for (i = 0; i < SVC_KEYS && svc[i].set != SVC_FREE; i++)
		;
	if (fd < 0 || !gen || i == SVC_KEYS) {
		if (fd >= 0)
			close(fd);
		return fd < 0 ? GNUTLS_E_FILE_ERROR : GNUTLS_E_INVALID_REQUEST;
	}
	r = load(fd, &svc[i].k, spki);
	if (r == 0) {
		svc[i].k.gen = gen;
		svc[i].set = SVC_PENDING;
	}
	return r;
}

/* The passed fd of a KEY_LOAD, or -1. */
static int passed_fd(const struct msghdr *mh)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(mh);
	int fd = -1;

	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void on_master(int ctl)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct key_req rq;
	struct iovec iov = {&rq, sizeof(rq)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	gnutls_datum_t spki = {NULL, 0};
	ssize_t n = recvmsg(ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int fd = n > 0 ? passed_fd(&mh) : -1, r = 0;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		_exit(0); /* the master is gone */
	if (n < (ssize_t)KEY_REQ_HEAD) {
		if (fd >= 0)
			close(fd);
		return;
	}
	switch (rq.op) {
	case KEY_LOAD:
		key_free(&pending);
		r = fd < 0 ? GNUTLS_E_FILE_ERROR : load(fd, &pending, &spki);
		fd = -1;
		pending.gen = r < 0 ? 0 : rq.gen;
		break;
	case KEY_COMMIT:
		if (pending.gen == rq.gen && rq.gen) {
			key_free(&old[KEY_OLD - 1]);
			memmove(&old[1], &old[0], (KEY_OLD - 1) * sizeof(old[0]));
			old[0] = cur;
			cur = pending;
			memset(&pending, 0, sizeof(pending));
		} else if (cur.gen != rq.gen || !rq.gen) {
			r = GNUTLS_E_INVALID_REQUEST;
		}
		break;
	case KEY_DROP:
		if (pending.gen == rq.gen)
			key_free(&pending);
		break;
	case KEY_SVC_LOAD:
		r = svc_load(fd, rq.gen, &spki);
		fd = -1;
		break;
	case KEY_SVC_COMMIT:
		svc_shift(SVC_PREV, SVC_CUR);
		svc_shift(SVC_CUR, SVC_PENDING);
		break;
	case KEY_SVC_DROP:
		svc_shift(SVC_PENDING, SVC_FREE);
		break;
	default:
		r = GNUTLS_E_INVALID_REQUEST;
	}
	if (fd >= 0)
		close(fd);
	answer(ctl, rq.id, r, spki.data, spki.size);
	gnutls_free(spki.data);
}

/* ---- confinement and the loop -------------------------------------------------- */

static int load_seccomp(void)
{
	scmp_filter_ctx ctx;
	int r = 0;

	ctx = scmp_start("keys");
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < keyserv_allowed_count() && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i].name);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (nr == SCMP_SYS(mmap) || nr == SCMP_SYS(mprotect))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
#ifdef SECCOMP_TRAP
		else if (nr == SCMP_SYS(write))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO, 0));
#endif
		else
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

/* Nothing of the terminal or the journal; trap builds keep stderr for
 * the name of a forbidden syscall. */
static int confine(const struct keyserv_env *env)
{
	int last = STDERR_FILENO;

#ifdef SECCOMP_TRAP
	last = STDOUT_FILENO;
#endif
#ifdef TUNNELD_SANITIZERS
	/* As a worker does (worker/sandbox.c): the report file and the maps
	 * are opened now, while it can. */
	__sanitizer_get_report_path();
	__sanitizer_sandbox_on_notify(NULL);
#endif
	for (int fd = STDIN_FILENO; fd <= last; fd++)
		if (dup2(env->null_fd, fd) < 0)
			return -errno;
	close(env->null_fd);
	if (env->chroot_dir && (chroot(env->chroot_dir) < 0 || chdir("/") < 0))
		return -errno;
	if (getuid() == 0 && env->uid != 0) {
		if (setgroups(1, &env->gid) < 0 || setresgid(env->gid, env->gid, env->gid) < 0 ||
		    setresuid(env->uid, env->uid, env->uid) < 0)
			return -errno;
		if (setuid(0) == 0)
			return -EPERM; /* there must be no way back */
	}
	/* Not even the workers' user may read this process's memory. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return load_seccomp();
}

void keyserv_main(const struct keyserv_env *env)
{
	struct epoll_event ev = {.events = EPOLLIN}, evs[32];
	int ep = epoll_create1(EPOLL_CLOEXEC), n;

	(void)prctl(PR_SET_NAME, "tunneld-key"); /* ps and the tests tell it apart */
	if (ep < 0)
		_exit(1);
	ev.data.u32 = CTL_TAG;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, env->ctl, &ev) < 0)
		_exit(1);
	for (unsigned i = 0; i < env->n; i++) {
		ev.data.u32 = i;
		if (fcntl(env->workers[i], F_SETFL, O_NONBLOCK) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, env->workers[i], &ev) < 0)
			_exit(1);
	}
	if (confine(env) < 0)
		_exit(1);
	for (;;) {
		n = epoll_wait(ep, evs, sizeof(evs) / sizeof(evs[0]), -1);
		if (n < 0 && errno != EINTR)
			_exit(1);
		for (int e = 0; e < n; e++) {
			if (evs[e].data.u32 == CTL_TAG)
				on_master(env->ctl);
			else if (evs[e].data.u32 < env->n)
				on_worker(env->workers[evs[e].data.u32]);
		}
	}
}
