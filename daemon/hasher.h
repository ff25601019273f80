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
#include "daemon/backend.h" /* HASH_NO_ANSWER, HASH_ERROR */
#include "daemon/radattr.h"

struct passwd_db;
struct rc_conf;
struct totp_db;

struct hash_req {
	uint32_t id;
	char user[IPC_USER_MAX];
	char pass[IPC_PASS_MAX]; /* wiped by both sides after use */
	/* The dialogue (daemon/backend.h): enum bk_op, the conversation of
	 * BK_OP_ANSWER and BK_OP_ABORT, the client, the other answers, the
	 * master's clock. */
	uint32_t op;
	uint32_t conv;
	char peer[64];
	uint32_t n_ans;
	struct ipc_answer ans[IPC_INPUTS_MAX];
	int64_t now;
	/* For RADIUS (radclient.h): the session to be. */
	uint64_t sid;
	uint32_t nas_port;
};

struct hash_resp {
	uint32_t id;		   /* the request's */
	int32_t result;		   /* enum passwd_result (PW_OK or PW_BAD_PASSWORD with
				      RADIUS), HASH_NO_ANSWER or HASH_ERROR */
	struct radius_grant grant; /* RADIUS, PW_OK: the Access-Accept's attributes */
	/* What the backend said: enum bk_kind, the conversation to answer
	 * (BK_ASK), a one-time code's time step, its prompts or message,
	 * the user's groups (BK_OK). */
	uint32_t kind;
	uint32_t conv;
	uint64_t otp_step;
	struct ipc_form form;
	char groups[IPC_GROUPS_MAX];
};

/* Who the process becomes before it reads a request (slots.c looked them
 * up for the workers).  With chroot_dir NULL, or when not root, the
 * corresponding step is skipped (tests run as a user). */
struct hasher_id {
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;
	/* auth.pam-service: PAM checks the logins.  PAM modules read files
	 * (/etc/pam.d, /etc/shadow, a token file they also write) and may run
	 * helpers, so such a process stays root, unconfined. */
	const char *pam_service;
	const struct totp_db *totp; /* the password file's TOTP secrets; NULL: none */
};

/* In the forked child, whose only fds left are 0-2 and fd: confine the
 * process (chroot, uid and gid, no_new_privs, a seccomp allow-list; not
 * with PAM), then answer each struct hash_req on fd with the backend
 * (daemon/backend.h: the password file, PAM, or RADIUS through rh when
 * it is not NULL) until fd closes.  A
 * BK_OP_ABORT is answered too (BK_FAIL), so every request has one answer.
 * Never returns. */
void hasher_main(int fd, const struct passwd_db *db, const struct hasher_id *id, struct rc_conf *rh)
    __attribute__((noreturn));

/* The confinement of hasher_main, for the accounting process too:
 * radius adds the rows a RADIUS client needs (UDP sockets, poll, the
 * /etc/services of its prison).  NULL, or the step that failed (errno
 * set). */
const char *hasher_confine(const struct hasher_id *id, bool radius);

#endif
