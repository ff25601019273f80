/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth process: the RADIUS backend (daemon/backend.h, radius.auth-servers).
 * The first form's password goes in an Access-Request (PAP, radclient.c);
 * an Access-Challenge becomes a form whose prompt is its Reply-Message,
 * and the answer goes in the next Access-Request with the challenge's
 * State and the first request's Acct-Session-Id and NAS-Port, as many
 * rounds as the server asks.  An Access-Accept is the login (its
 * attributes, and its Class values as the user's groups); an
 * Access-Reject after a challenge shows the server's Reply-Message.
 *
 * Owns the challenges waiting for answers (radchal.c: the State never
 * leaves this process).  Runs confined with the RADIUS rows of hasher.c's
 * seccomp list. */
#include "config.h"
#include "daemon/backend.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/passwd.h"
#include "daemon/radchal.h"
#include "daemon/radclient.h"

_Static_assert(sizeof(((struct radius_reply *)0)->state) == RADIUS_STATE_MAX,
	       "a challenge's State fits its table entry");

#define PROMPT "Response:" /* a challenge's prompt when it has no Reply-Message */

static struct {
	struct rc_conf *rh;
	struct radchal_table t;
} R;

/* One line of text: other control characters become blanks (a label), or
 * all but LF (a message). */
static void clean(char *s, bool keep_lf)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && !(keep_lf && *s == '\n'))
			*s = ' ';
}

/* The challenge's form: its last Reply-Message is the prompt of a
 * password input "answer", the ones before it the form's message. */
static void ask(const struct radchal *c, char *msg, struct bk_result *rs)
{
	struct ipc_input *in = &rs->form.in[0];
	size_t n = strlen(msg);
	char *last;

	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	last = strrchr(msg, '\n');
	in->type = IPC_INPUT_PASSWORD;
	snprintf(in->name, sizeof(in->name), "answer");
	snprintf(in->label, sizeof(in->label), "%s", last ? last + 1 : msg[0] ? msg : PROMPT);
	clean(in->label, false);
	if (last) {
		*last = '\0';
		snprintf(rs->form.message, sizeof(rs->form.message), "%s", msg);
		clean(rs->form.message, true);
	}
	rs->form.n = 1;
	rs->kind = BK_ASK;
	rs->result = PW_OK;
	rs->conv = c->id;
}

/* A challenge for the login of in (c: the entry of the one it answers,
 * NULL for a first one): its State kept, its form in rs. */
static void challenged(struct radchal *c, const struct radius_login *in, struct radius_reply *rep,
		       int64_t now, struct bk_result *rs)
{
	if (!c && (c = radchal_new(&R.t, now)) != NULL) {
		snprintf(c->user, sizeof(c->user), "%s", in->user);
		c->sid = in->sid;
		c->nas_port = in->nas_port;
	}
	if (!c) {
		rs->result = HASH_ERROR;
		snprintf(rs->form.message, sizeof(rs->form.message),
			 "RADIUS: too many challenges waiting for answers");
		return;
	}
	if (radchal_set_state(c, rep->state, rep->state_len, now) < 0) {
		radchal_drop(&R.t, c->id);
		rs->result = HASH_ERROR;
		return;
	}
	ask(c, rep->msg, rs);
}

/* One Access-Request for in and what its answer means; c: the challenge
 * it answers (NULL: the first request), dropped unless challenged again. */
static void request(struct radchal *c, const struct radius_login *in, int64_t now,
		    struct bk_result *rs)
{
	static struct radius_reply rep;
	uint32_t id = c ? c->id : 0;

	rs->kind = BK_FAIL;
	switch (radclient_auth(R.rh, in, &rs->grant, &rep)) {
	case RADCLIENT_ACCEPT:
		rs->kind = BK_OK;
		rs->result = PW_OK;
		radattr_groups(&rs->grant, rs->groups, sizeof(rs->groups));
		break;
	case RADCLIENT_CHALLENGE:
		challenged(c, in, &rep, now, rs);
		explicit_bzero(&rep, sizeof(rep));
		return;
	case RADCLIENT_REJECT:
		rs->result = PW_BAD_PASSWORD;
		if (c) {
			/* The server's word after a challenge is for the user
			 * (a first Reject keeps auth.failure-message). */
			snprintf(rs->form.error, sizeof(rs->form.error), "%.*s",
				 (int)strcspn(rep.msg, "\n"), rep.msg);
			clean(rs->form.error, false);
			snprintf(rs->form.message, sizeof(rs->form.message),
				 "RADIUS: Access-Reject after %u challenge(s)", c->rounds);
		}
		break;
	case RADCLIENT_NO_ANSWER:
		rs->result = HASH_NO_ANSWER;
		break;
	default:
		rs->result = HASH_ERROR;
		break;
	}
	radchal_drop(&R.t, id);
	explicit_bzero(&rep, sizeof(rep));
}

static void radius_start(const struct bk_request *rq, struct bk_result *rs)
{
	struct radius_login in = {rq->user, rq->pass, rq->peer, rq->sid, rq->nas_port, NULL, 0};

	request(NULL, &in, rq->now, rs);
}

/* The answer to a challenge: by its name, else the password (openconnect
 * sends a form's only hidden input as <password>), else the first. */
static const char *answer_of(const struct bk_request *rq)
{
	const char *v = bk_answer(rq, "answer");

	if (!v && rq->pass && rq->pass[0])
		v = rq->pass;
	if (!v)
		v = bk_answer(rq, NULL);
	return v ? v : "";
}

static void radius_answer(const struct bk_request *rq, struct bk_result *rs)
{
	struct radchal *c = radchal_find(&R.t, rq->conv, rq->now);
	struct radius_login in;

	/* The master names the login's session as at its start; anything
	 * else is not this challenge's answer. */
	if (!c || c->sid != rq->sid || c->nas_port != rq->nas_port || strcmp(c->user, rq->user)) {
		if (c)
			radchal_drop(&R.t, c->id);
		rs->kind = BK_FAIL;
		rs->result = PW_BAD_PASSWORD;
		snprintf(rs->form.message, sizeof(rs->form.message),
			 "RADIUS: the challenge expired");
		return;
	}
	c->rounds++;
	in = (struct radius_login){c->user,	answer_of(rq), rq->peer,    c->sid,
				   c->nas_port, c->state,      c->state_len};
	request(c, &in, rq->now, rs);
}

static void radius_abort(uint32_t conv)
{
	radchal_drop(&R.t, conv);
}

const struct backend *bk_radius(struct rc_conf *rh)
{
	static const struct backend be = {"RADIUS", radius_start, radius_answer, radius_abort};

	R.rh = rh;
	return &be;
}
