/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The key process (forked by the master, see keyproc.h): the only process
 * that holds the server's private key.  It signs for the workers, each on
 * its own socketpair, and loads keys the master passes it as open files. */
#ifndef TUNNELD_KEYSERV_H
#define TUNNELD_KEYSERV_H

#include <stddef.h>
#include <sys/types.h>

struct keyserv_env {
	int ctl;	    /* the master's socket: KEY_LOAD, KEY_COMMIT, KEY_DROP */
	const int *workers; /* n sockets, one per worker slot: sign requests */
	unsigned n;
	int null_fd; /* /dev/null, for fds 0-2 */
	uid_t uid;   /* who to become; root (0) when the master is not root */
	gid_t gid;
	const char *chroot_dir; /* NULL: stay (a test run as a user) */
};

/* Confine the process (chroot, the user, not dumpable, no_new_privs,
 * seccomp) and serve until the master's socket closes; exits. */
void keyserv_main(const struct keyserv_env *env) __attribute__((noreturn));

/* The key process's seccomp allow-list, for the README check. */
size_t keyserv_allowed_count(void);
const char *keyserv_allowed_name(size_t i);

#endif
