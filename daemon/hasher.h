/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hashing process (forked by hashpool.c): what it is sent and answers,
 * and its main function.  One request in flight per process, over its own
 * SOCK_SEQPACKET socketpair; the password db is the one it was forked
 * with. */
#ifndef TUNNELD_HASHER_H
#define TUNNELD_HASHER_H

#include <stdint.h>
#include <sys/types.h>

#include "common/ipc.h"

struct passwd_db;

struct hash_req {
	uint32_t id;
	char user[IPC_USER_MAX];
	char pass[IPC_PASS_MAX]; /* wiped by both sides after use */
};

struct hash_resp {
	uint32_t id;	/* the request's */
	int32_t result; /* enum passwd_result */
};

/* Who the process becomes before it reads a request (slots.c looked them
 * up for the workers).  With chroot_dir NULL, or when not root, the
 * corresponding step is skipped (tests run as a user). */
struct hasher_id {
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;
};

/* In the forked child, whose only fds left are 0-2 and fd: confine the
 * process (chroot, uid and gid, no_new_privs, a seccomp allow-list), then
 * answer each struct hash_req on fd with passwd_db_check() until fd
 * closes.  Never returns. */
void hasher_main(int fd, const struct passwd_db *db, const struct hasher_id *id)
    __attribute__((noreturn));

#endif
