/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hashing process (forked by hashpool.c): what it is sent and answers,
 * and its main function.  One request in flight per process, over its own
 * SOCK_SEQPACKET socketpair; the password db is the one it was forked
 * with. */
#ifndef TUNNELD_HASHER_H
#define TUNNELD_HASHER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/ipc.h"
#include "daemon/radattr.h"

struct passwd_db;
struct rc_conf;

struct hash_req {
	uint32_t id;
	char user[IPC_USER_MAX];
	char pass[IPC_PASS_MAX]; /* wiped by both sides after use */
	/* For RADIUS (radclient.h): the client, the session to be. */
	char peer[64];
	uint64_t sid;
	uint32_t nas_port;
};

/* Results beyond enum passwd_result, from a RADIUS process. */
#define HASH_NO_ANSWER 16 /* no RADIUS server answered in time */
#define HASH_ERROR     17 /* a bad answer, or radcli failed */

struct hash_resp {
	uint32_t id;		   /* the request's */
	int32_t result;		   /* enum passwd_result (PW_OK or PW_BAD_PASSWORD with
				      RADIUS), HASH_NO_ANSWER or HASH_ERROR */
	struct radius_grant grant; /* RADIUS, PW_OK: the Access-Accept's attributes */
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
 * answer each struct hash_req on fd with passwd_db_check(), or with an
 * Access-Request through rh when it is not NULL (RADIUS logins), until fd
 * closes.  Never returns. */
void hasher_main(int fd, const struct passwd_db *db, const struct hasher_id *id, struct rc_conf *rh)
    __attribute__((noreturn));

/* The confinement of hasher_main, for the accounting process too:
 * radius adds the rows a RADIUS client needs (UDP sockets, poll, the
 * /etc/services of its prison).  NULL, or the step that failed (errno
 * set). */
const char *hasher_confine(const struct hasher_id *id, bool radius);

#endif
