/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the key process (see keyproc.h).  Owns its pid, the
 * master's socket to it, every worker slot's socketpair to it, the
 * generation counter, and what a new key process needs to pick up where
 * the last one died: the path and generation of the key in use and the
 * public key it must match.  The master waits for the key process only
 * at start, reload and respawn, each wait bounded (KEYPROC_WAIT_MS). */
#include "config.h"
#include "daemon/keyproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "common/keyproto.h"
#include "common/log.h"
#include "conf/config.h"
#include "daemon/fsutil.h"
#include "daemon/keyserv.h"
#include "daemon/wchan.h"

#define KEYPROC_WAIT_MS 5000

static struct {
	struct keyproc_env env;
	pid_t pid;
	int ctl, ctl_child; /* the master's socket to it, and its end */
	int (*w)[2];	    /* per slot: [0] the worker's end, [1] the key process's */
	int *wk;	    /* the key process's ends in a row, for keyserv_main */
	uint32_t id, gen;   /* last request id; last generation handed out */
	/* The key in use, for a new key process. */
	uint32_t cur_gen;
	char *cur_path;
	gnutls_datum_t cur_spki, pending_spki;
	time_t respawn_at;
	bool stopping;
	/* The services' keys in use, for a new key process. */
	struct svckey {
		char *path;
		uint32_t gen;
		gnutls_datum_t spki;
	} svc[CFG_MAX_SERVICES];
	unsigned n_svc;
} K = {.ctl = -1, .ctl_child = -1};

/* ---- the child ------------------------------------------------------------------ */

static bool kept(int fd, const int *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Every fd of the master's (TUN queues, listeners, worker channels, the
 * log file...) but keep[] and 0-2. */
static void close_others(const int *keep, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd;

	if (!d)
		_exit(1); /* nothing is left open that we cannot name */
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (fd > STDERR_FILENO && fd != dirfd(d) && !kept(fd, keep, n))
			close(fd);
	}
	closedir(d);
}

static void __attribute__((noreturn)) child(void)
{
	struct keyserv_env se = {.ctl = K.ctl_child,
				 .workers = K.wk,
				 .n = K.env.n,
				 .uid = K.env.uid,
				 .gid = K.env.gid,
				 .chroot_dir = K.env.chroot_dir};
	int keep[K.env.n + 2];
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	/* The master's secrets are no business of the key process. */
	K.env.forget();
	wchan_forget();
	se.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (se.null_fd < 0)
		_exit(1);
	for (unsigned i = 0; i < K.env.n; i++)
		keep[i] = K.wk[i];
	keep[K.env.n] = K.ctl_child;
	keep[K.env.n + 1] = se.null_fd;
	close_others(keep, K.env.n + 2);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL); /* fails only on a bad argument */
	keyserv_main(&se);
}

static int spawn(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return log_errno(-errno, "fork (key process)");
	if (pid == 0)
		child();
	K.pid = pid;
	K.respawn_at = 0;
	log_debug("key process started as pid %d", (int)pid);
	return 0;
}

int keyproc_start(const struct keyproc_env *env)
{
	int ctl[2];

	K.env = *env;
	K.w = calloc(env->n, sizeof(*K.w));
	K.wk = calloc(env->n, sizeof(*K.wk));
	if (!K.w || !K.wk)
		return log_errno(-ENOMEM, "key process");
	for (unsigned i = 0; i < env->n; i++)
		K.w[i][0] = K.w[i][1] = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		return log_errno(-errno, "socketpair (key process)");
	K.ctl = ctl[0];
	K.ctl_child = ctl[1];
	for (unsigned i = 0; i < env->n; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, K.w[i]) < 0)
			return log_errno(-errno, "socketpair (key process)");
		K.wk[i] = K.w[i][1];
	}
	return spawn();
}

/* ---- requests ---------------------------------------------------------------------- */

/* Send rq (with fd passed when >= 0) and wait for its answer.  0, or
 * -errno (logged by the caller). */
static int call(struct key_req *rq, int fd, struct key_resp *rs)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {rq, KEY_REQ_HEAD + rq->len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct pollfd p = {.fd = K.ctl, .events = POLLIN};
	int left = KEYPROC_WAIT_MS;
	ssize_t n;

	if (!K.pid || K.ctl < 0)
		return -ESRCH;
	rq->id = ++K.id;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(K.ctl, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	/* The answer, past any to an earlier request that timed out. */
	while (left > 0) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (poll(&p, 1, left) == 0)
			break;
		n = recv(K.ctl, rs, sizeof(*rs), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (n >= (ssize_t)KEY_RESP_HEAD && (size_t)n <= sizeof(*rs) && rs->id == rq->id &&
		    KEY_RESP_HEAD + rs->len == (size_t)n)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return -ETIMEDOUT;
}

uint32_t keyproc_next_gen(void)
{
	return ++K.gen;
}

/* The SubjectPublicKeyInfo (DER) of the first certificate of a PEM chain. */
static int cert_spki(const gnutls_datum_t *pem, gnutls_datum_t *spki)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int r;

	if ((r = gnutls_x509_crt_init(&crt)) == 0 && (r = gnutls_pubkey_init(&pub)) == 0 &&
	    (r = gnutls_x509_crt_import(crt, pem, GNUTLS_X509_FMT_PEM)) == 0 &&
	    (r = gnutls_pubkey_import_x509(pub, crt, 0)) == 0)
		r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, spki);
	gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return r;
}

static bool same(const gnutls_datum_t *a, const uint8_t *b, size_t n)
{
	return a->size == n && memcmp(a->data, b, n) == 0;
}

/* Load fd as gen (op KEY_LOAD or KEY_SVC_LOAD) and compare its public key
 * with spki. */
static int load_op(enum key_op op, int fd, const gnutls_datum_t *spki, uint32_t gen, char *err,
		   size_t errlen)
{
	struct key_req rq = {.op = op, .gen = gen};
	struct key_resp rs;
	int r = call(&rq, fd, &rs);

	if (r < 0) {
		snprintf(err, errlen, "key process: %s", strerror(-r));
		return -1;
	}
	if (rs.status < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(rs.status));
		return -1;
	}
	if (!same(spki, rs.out, rs.len)) {
		if (op == KEY_LOAD)
			keyproc_drop(gen);
		snprintf(err, errlen, "the key is not the certificate's");
		return -1;
	}
	return 0;
}

static int load(int fd, const gnutls_datum_t *spki, uint32_t gen, char *err, size_t errlen)
{
	return load_op(KEY_LOAD, fd, spki, gen, err, errlen);
}

int keyproc_load(int fd, const gnutls_datum_t *cert_pem, uint32_t gen, char *err, size_t errlen)
{
	int r;

	gnutls_free(K.pending_spki.data);
	K.pending_spki.data = NULL;
	r = cert_spki(cert_pem, &K.pending_spki);
	if (r < 0) {
		snprintf(err, errlen, "certificate: %s", gnutls_strerror(r));
		return -1;
	}
	return load(fd, &K.pending_spki, gen, err, errlen);
}

static int simple(enum key_op op, uint32_t gen)
{
	struct key_req rq = {.op = op, .gen = gen};
	struct key_resp rs;
	int r = call(&rq, -1, &rs);

	return r < 0 ? r : rs.status < 0 ? -EINVAL : 0;
}

void keyproc_commit(uint32_t gen, const char *key_path)
{
	int r = simple(KEY_COMMIT, gen);

	/* Recorded even when the key process just died: its successor loads
	 * this one. */
	if (r < 0)
		log_err("key process: committing key generation %u: %s", gen, strerror(-r));
	K.cur_gen = gen;
	free(K.cur_path);
	K.cur_path = strdup(key_path);
	gnutls_free(K.cur_spki.data);
	K.cur_spki = K.pending_spki;
	K.pending_spki = (gnutls_datum_t){NULL, 0};
}

void keyproc_drop(uint32_t gen)
{
	(void)simple(KEY_DROP, gen); /* a dead key process forgot it anyway */
}

/* ---- the services' keys ------------------------------------------------------------ */

int keyproc_svc_load(int fd, const gnutls_datum_t *cert_pem, uint32_t gen, char *err, size_t errlen)
{
	gnutls_datum_t spki = {NULL, 0};
	int r = cert_spki(cert_pem, &spki);

	if (r < 0) {
		snprintf(err, errlen, "certificate: %s", gnutls_strerror(r));
		return -1;
	}
	r = load_op(KEY_SVC_LOAD, fd, &spki, gen, err, errlen);
	gnutls_free(spki.data);
	return r;
}

static void svc_forget(void)
{
	for (unsigned i = 0; i < K.n_svc; i++) {
		free(K.svc[i].path);
		gnutls_free(K.svc[i].spki.data);
	}
	memset(K.svc, 0, sizeof(K.svc));
	K.n_svc = 0;
}

void keyproc_svc_commit(const struct keyproc_svckey *keys, unsigned n)
{
	int r = simple(KEY_SVC_COMMIT, 0);

	if (r < 0)
		log_err("key process: committing the services' keys: %s", strerror(-r));
	svc_forget();
	for (unsigned i = 0; i < n && i < CFG_MAX_SERVICES; i++) {
		K.svc[i].path = strdup(keys[i].path);
		K.svc[i].gen = keys[i].gen;
		if (!K.svc[i].path || cert_spki(keys[i].cert_pem, &K.svc[i].spki) < 0)
			log_err("key process: service key %s: out of memory", keys[i].path);
		K.n_svc = i + 1;
	}
}

void keyproc_svc_drop(void)
{
	(void)simple(KEY_SVC_DROP, 0); /* a dead key process forgot them anyway */
}

/* A new key process: the services' keys in use, loaded again. */
static void svc_reload_all(void)
{
	char err[256];
	unsigned ok = 0;

	for (unsigned i = 0; i < K.n_svc; i++) {
		int fd = K.svc[i].path ? open(K.svc[i].path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;

		if (fd < 0) {
			log_err("key process: service key %s: %s", K.svc[i].path, strerror(errno));
			continue;
		}
		if (load_op(KEY_SVC_LOAD, fd, &K.svc[i].spki, K.svc[i].gen, err, sizeof(err)) < 0)
			log_err("key process: service key %s: %s", K.svc[i].path, err);
		else
			ok++;
		close(fd);
	}
	if (K.n_svc && simple(KEY_SVC_COMMIT, 0) == 0)
		log_info("key process: %u of %u service keys loaded again", ok, K.n_svc);
}

/* ---- workers ------------------------------------------------------------------------- */

int keyproc_worker_fd(unsigned i)
{
	return i < K.env.n ? K.w[i][0] : -1;
}

void keyproc_forget(unsigned i)
{
	close_fd(&K.ctl);
	close_fd(&K.ctl_child);
	for (unsigned j = 0; j < K.env.n; j++) {
		close_fd(&K.w[j][1]);
		if (j != i)
			close_fd(&K.w[j][0]);
	}
}

/* ---- its life ----------------------------------------------------------------------- */

bool keyproc_reaped(pid_t pid, int status)
{
	if (!K.pid || pid != K.pid)
		return false;
	K.pid = 0;
	if (K.stopping)
		return true;
	if (WIFSIGNALED(status))
		log_err("key process (pid %d) killed by signal %d (%s); starting a new one",
			(int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_err("key process (pid %d) exited with status %d; starting a new one", (int)pid,
			WEXITSTATUS(status));
	K.respawn_at = time(NULL) + 1;
	return true;
}

void keyproc_tick(time_t now)
{
	char err[256];
	int fd;

	if (K.pid || !K.respawn_at || now < K.respawn_at || K.stopping)
		return;
	if (spawn() < 0) {
		K.respawn_at = now + 5;
		return;
	}
	svc_reload_all();
	if (!K.cur_gen)
		return;
	fd = open(K.cur_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_err("key process: tls.key %s: %s; handshakes fail until a reload", K.cur_path,
			strerror(errno));
		return;
	}
	if (load(fd, &K.cur_spki, K.cur_gen, err, sizeof(err)) < 0 ||
	    simple(KEY_COMMIT, K.cur_gen) < 0)
		log_err("key process: tls.key %s: %s; handshakes fail until a reload", K.cur_path,
			err);
	else
		log_info("key process: key generation %u loaded again", K.cur_gen);
	close(fd);
}

pid_t keyproc_pid(void)
{
	return K.pid;
}

void keyproc_stop(void)
{
	K.stopping = true;
	if (K.pid > 0) {
		(void)kill(K.pid, SIGKILL); /* it holds nothing to save */
		(void)waitpid(K.pid, NULL, 0);
		K.pid = 0;
	}
	close_fd(&K.ctl);
	close_fd(&K.ctl_child);
	for (unsigned i = 0; K.w && i < K.env.n; i++) {
		close_fd(&K.w[i][0]);
		close_fd(&K.w[i][1]);
	}
	free(K.w);
	free(K.wk);
	K.w = NULL;
	K.wk = NULL;
	free(K.cur_path);
	K.cur_path = NULL;
	gnutls_free(K.cur_spki.data);
	gnutls_free(K.pending_spki.data);
	K.cur_spki = K.pending_spki = (gnutls_datum_t){NULL, 0};
	svc_forget();
}
