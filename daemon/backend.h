/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The login backends: what the auth (hashing) processes run for the
 * dialogue of daemon/dialog.c.  A backend is asked to start a login with
 * the answers of the first form, and then to go on with the answers of the
 * forms it asked for; each time it says one of three things: "ask these
 * prompts" (BK_ASK, and the conversation to answer), "failed" (BK_FAIL,
 * with a message), or "succeeded with these attributes" (BK_OK: groups, a
 * one-time code's time step).  No backend writes XML or HTTP, and none
 * runs in the master's loop or a worker: blocking work (a hash, PAM, a
 * RADIUS exchange) is what these processes are for.
 *
 * Backends: the password file (bk_passwd.c, with TOTP codes), PAM
 * (bk_pam.c) and RADIUS (bk_radius.c, through radclient.c, with its
 * Access-Challenges).  Client certificates need no process: the worker
 * verifies the chain and the master takes its word (daemon/logins.c). */
#ifndef TUNNELD_BACKEND_H
#define TUNNELD_BACKEND_H

#include <stdint.h>

#include "common/ipc.h"
#include "daemon/radattr.h"

struct passwd_db;
struct rc_conf;
struct totp_db;

/* What the master asks of a process (hash_req.op). */
enum bk_op {
	BK_OP_START = 0,  /* user, pass and the other answers of the first form */
	BK_OP_ANSWER = 1, /* the answers to conversation conv's prompts */
	BK_OP_ABORT = 2,  /* conversation conv is not wanted any more */
};

/* Results beyond enum passwd_result, from the RADIUS backend. */
#define HASH_NO_ANSWER 16 /* no RADIUS server answered in time */
#define HASH_ERROR     17 /* a bad answer, or radcli failed */

/* What a backend says (hash_resp.kind). */
enum bk_kind { BK_OK = 1, BK_FAIL = 2, BK_ASK = 3 };

struct bk_request {
	uint32_t op; /* enum bk_op */
	uint32_t conv;
	const char *user, *pass, *peer;
	uint32_t n_ans;
	const struct ipc_answer *ans;
	int64_t now; /* the master's clock (one-time codes) */
	/* RADIUS (hasher.c): the session to be, named in the Access-Request. */
	uint64_t sid;
	uint32_t nas_port;
};

struct bk_result {
	uint32_t kind;	   /* enum bk_kind */
	int32_t result;	   /* enum passwd_result: PW_OK, or why it failed (the log) */
	uint32_t conv;	   /* BK_ASK: the conversation its answers go to */
	uint64_t otp_step; /* BK_OK: the time step of the one-time code used, 0: none */
	/* BK_ASK: the prompts; BK_FAIL: message (for the log), if any, and
	 * error: what the user is shown instead of auth.failure-message
	 * (a RADIUS server's Reply-Message), if any. */
	struct ipc_form form;
	char groups[IPC_GROUPS_MAX]; /* BK_OK: the user's groups, comma-separated */
	struct radius_grant grant;   /* BK_OK from RADIUS: the Access-Accept's attributes */
};

struct backend {
	const char *name;
	void (*start)(const struct bk_request *rq, struct bk_result *rs);
	void (*answer)(const struct bk_request *rq, struct bk_result *rs);
	void (*abort)(uint32_t conv);
};

/* The value of answer name (or of the first answer when name is NULL),
 * or NULL. */
const char *bk_answer(const struct bk_request *rq, const char *name);

/* bk_passwd.c: the password file, and TOTP codes for users with a secret
 * (totp NULL: none). */
const struct backend *bk_passwd(const struct passwd_db *db, const struct totp_db *totp);
/* bk_pam.c: PAM service name. */
const struct backend *bk_pam(const char *service);
/* bk_radius.c: the servers of radcli handle rh. */
const struct backend *bk_radius(struct rc_conf *rh);

#endif
