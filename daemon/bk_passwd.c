/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth process: the password-file backend (daemon/backend.h).  START
 * checks the password with crypt (an unknown user costs a hash like a
 * known one, passwd.c); a user with a TOTP secret (common/totp.h) is then
 * asked for a code in a second form, which ANSWER checks.  Owns the
 * conversations waiting for a code: the user's name and nothing else, no
 * longer than a login lasts.  The master refuses a code's time step used
 * before (replays), since it sees every process's logins. */
#include "config.h"
#include "daemon/backend.h"

#include <stdio.h>
#include <string.h>

#include "common/passwd.h"
#include "common/totp.h"

/* Logins of this process waiting for their code; a full table refuses a
 * new one (the master keeps far fewer dialogues per process). */
#define CONV_MAX 512

static struct {
	const struct passwd_db *db;
	const struct totp_db *totp;
	uint32_t next_conv;
	struct {
		uint32_t id; /* 0: free */
		char user[IPC_USER_MAX];
	} conv[CONV_MAX];
} B;

static void fail(struct bk_result *rs, int result)
{
	rs->kind = BK_FAIL;
	rs->result = result;
}

/* The second form: a code from the user's authenticator app.  The auth id
 * "challenge" lets openconnect fill it itself (--token-mode=totp). */
static void ask_code(struct bk_result *rs, uint32_t conv)
{
	struct ipc_input *in = &rs->form.in[0];

	rs->kind = BK_ASK;
	rs->result = PW_OK;
	rs->conv = conv;
	rs->form.n = 1;
	in->type = IPC_INPUT_PASSWORD;
	snprintf(in->name, sizeof(in->name), "secondary_password");
	snprintf(in->label, sizeof(in->label), "Verification code:");
	snprintf(rs->form.auth_id, sizeof(rs->form.auth_id), "challenge");
	snprintf(rs->form.message, sizeof(rs->form.message),
		 "Enter the code of your authenticator app.");
}

static void start(const struct bk_request *rq, struct bk_result *rs)
{
	int r = (int)passwd_db_check(B.db, rq->user, rq->pass);
	unsigned i;

	if (r != PW_OK) {
		fail(rs, r);
		return;
	}
	if (!totp_db_has(B.totp, rq->user)) {
		rs->kind = BK_OK;
		rs->result = PW_OK;
		return;
	}
	for (i = 0; i < CONV_MAX && B.conv[i].id; i++)
		;
	if (i == CONV_MAX) {
		fail(rs, PW_BAD_PASSWORD);
		snprintf(rs->form.message, sizeof(rs->form.message), "too many logins waiting");
		return;
	}
	/* Ids name a slot and are never 0; an old id cannot name a reused
	 * slot's login. */
	B.next_conv += CONV_MAX;
	if (!B.next_conv)
		B.next_conv = CONV_MAX;
	B.conv[i].id = B.next_conv | i;
	snprintf(B.conv[i].user, sizeof(B.conv[i].user), "%s", rq->user);
	ask_code(rs, B.conv[i].id);
}

static int slot_of(uint32_t conv)
{
	uint32_t i = conv & (CONV_MAX - 1);

	return conv && B.conv[i].id == conv ? (int)i : -1;
}

static void answer(const struct bk_request *rq, struct bk_result *rs)
{
	int i = slot_of(rq->conv);
	const char *code = bk_answer(rq, "secondary_password");

	if (!code && rq->pass && rq->pass[0])
		code = rq->pass; /* a client that renamed it (<password>) */
	if (!code)
		code = bk_answer(rq, NULL);
	if (i < 0) {
		fail(rs, PW_BAD_PASSWORD);
		snprintf(rs->form.message, sizeof(rs->form.message), "the login expired");
		return;
	}
	if (code && totp_check(B.totp, B.conv[i].user, code, rq->now, &rs->otp_step) == 0) {
		rs->kind = BK_OK;
		rs->result = PW_OK;
	} else {
		fail(rs, PW_BAD_PASSWORD);
		snprintf(rs->form.message, sizeof(rs->form.message), "wrong one-time code");
	}
	explicit_bzero(&B.conv[i], sizeof(B.conv[i]));
}

static void abort_conv(uint32_t conv)
{
	int i = slot_of(conv);

	if (i >= 0)
		explicit_bzero(&B.conv[i], sizeof(B.conv[i]));
}

const struct backend *bk_passwd(const struct passwd_db *db, const struct totp_db *totp)
{
	static const struct backend be = {"password file", start, answer, abort_conv};

	B.db = db;
	B.totp = totp;
	return &be;
}
