/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the key process (keyserv.c), the only process that holds
 * the server's private key.  The master never reads the key file: it
 * opens it and passes the open file; it sends each worker's credentials
 * the certificate chain and a key generation, and each worker its own
 * socketpair to the key process, which the master keeps for the daemon's
 * lifetime (a respawned worker or key process takes it over).  Keys are
 * loaded, checked against the certificate and committed as part of the
 * reload transaction (reload.c). */
#ifndef TUNNELD_KEYPROC_H
#define TUNNELD_KEYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

struct keyproc_env {
	unsigned n; /* worker slots */
	uid_t uid;  /* what the key process becomes (the workers' user) */
	gid_t gid;
	const char *chroot_dir; /* NULL: none (a test run as a user) */
	/* Run in the key process first: closes and wipes what the master's
	 * other parts hold (sessions, password hashes). */
	void (*forget)(void);
};

/* The socketpairs and the key process.  0, or -errno logged. */
int keyproc_start(const struct keyproc_env *env);
/* A generation number not used before. */
uint32_t keyproc_next_gen(void);
/* Have the key process read the PEM key from fd (left open) as generation
 * gen, not in use yet, and check that it is the key of the first
 * certificate of cert_pem.  0, or -1 with err saying why (and the key
 * dropped). */
int keyproc_load(int fd, const gnutls_datum_t *cert_pem, uint32_t gen, char *err, size_t errlen);
/* Generation gen signs from now on; the 8 before it stay for handshakes
 * under way and workers that get their new certificate late.  key_path
 * is where a new key process reads it again. */
void keyproc_commit(uint32_t gen, const char *key_path);
/* Forget the loaded, uncommitted generation gen. */
void keyproc_drop(uint32_t gen);

/* The TLS stream services' keys (daemon/services.c), a set beside the
 * VPN's: keyproc_svc_load loads one aside as generation gen and checks it
 * against cert_pem (0, or -1 with err); keyproc_svc_commit makes the set
 * loaded aside the one in use (the set before stays for handshakes under
 * way) and records where each key is, for a new key process;
 * keyproc_svc_drop forgets the set loaded aside. */
struct keyproc_svckey {
	const char *path;
	uint32_t gen;
	const gnutls_datum_t *cert_pem;
};
int keyproc_svc_load(int fd, const gnutls_datum_t *cert_pem, uint32_t gen, char *err,
		     size_t errlen);
void keyproc_svc_commit(const struct keyproc_svckey *keys, unsigned n);
void keyproc_svc_drop(void);

/* Worker i's end of its socketpair to the key process. */
int keyproc_worker_fd(unsigned i);
/* In worker i, after fork: close every fd of the key process's but its
 * own end. */
void keyproc_forget(unsigned i);

/* A child exited (SIGCHLD): true when it was the key process; its end is
 * logged and a new one starts at the next tick. */
bool keyproc_reaped(pid_t pid, int status);
/* Once a second: start a new key process when one is due, and load the
 * key in use into it. */
void keyproc_tick(time_t now);
/* The key process's pid, 0 if none. */
pid_t keyproc_pid(void);
/* At exit: end the key process and close its sockets. */
void keyproc_stop(void);

#endif
