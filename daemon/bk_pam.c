/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth process: the PAM backend (daemon/backend.h, auth.pam-service).
 * pam_authenticate() asks its questions through a conversation function
 * and does not return until they are answered, but the answers come from
 * a client that takes its time, and this process serves other logins
 * meanwhile.  So each login runs PAM on a stack of its own (ucontext): a
 * prompt switches back to the process's loop with the form to show, and
 * the answers switch back in.  Each prompt is a form step, the echo flag
 * choosing a text or a password input; the first password prompt takes
 * the first form's password.  An account whose password expired changes
 * it (pam_chauthtok: the new password asked in forms too).
 *
 * Owns the conversations (their stacks and PAM handles).  Runs as root and
 * unconfined: PAM modules read /etc/pam.d and their files, may write them
 * (pam_oath's counters) and may run helpers (hasher.h). */
#include "config.h"
#include "daemon/backend.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <security/pam_appl.h>

#include "common/passwd.h"

#define CONV_MAX   64		/* logins of this process waiting for answers */
#define CONV_STACK (256 * 1024) /* PAM modules' stack */
#define CONV_LIFE  900		/* seconds a conversation may wait (a dead master's) */

struct pconv {
	uint32_t id; /* 0: free */
	ucontext_t ctx;
	void *stack;
	char user[IPC_USER_MAX];
	char first[IPC_PASS_MAX]; /* the first form's password, for the first hidden prompt */
	char rhost[64];
	const struct bk_request *rq; /* the answers it is resumed with; NULL: give up */
	struct bk_result *rs;	     /* where it says what it wants or how it ended */
	char info[IPC_TEXT_MAX];     /* PAM's messages since the last form */
	bool done;
	time_t born;
};

static struct {
	const char *service;
	struct pconv c[CONV_MAX];
	uint32_t next;
	ucontext_t main;
	struct pconv *cur;
} K;

static void add_info(struct pconv *c, const char *text)
{
	size_t n = strlen(c->info);

	snprintf(c->info + n, sizeof(c->info) - n, "%s%s", n ? "\n" : "", text ? text : "");
}

/* The form of the prompts msg[idx[0..np)]. */
static void ask(struct pconv *c, const struct pam_message **msg, const int *idx, int np)
{
	struct ipc_form *f = &c->rs->form;

	memset(f, 0, sizeof(*f));
	for (int k = 0; k < np; k++) {
		const struct pam_message *m = msg[idx[k]];
		struct ipc_input *in = &f->in[f->n++];
		size_t n;

		in->type = m->msg_style == PAM_PROMPT_ECHO_ON ? IPC_INPUT_TEXT : IPC_INPUT_PASSWORD;
		if (k == 0)
			snprintf(in->name, sizeof(in->name), "answer");
		else
			snprintf(in->name, sizeof(in->name), "answer%d", k + 1);
		snprintf(in->label, sizeof(in->label), "%s", m->msg ? m->msg : "");
		/* A label is one line: PAM's may end in blanks or a newline. */
		for (n = 0; in->label[n]; n++)
			if ((unsigned char)in->label[n] < 0x20)
				in->label[n] = ' ';
	}
	snprintf(f->message, sizeof(f->message), "%s", c->info);
	c->info[0] = '\0';
	c->rs->kind = BK_ASK;
	c->rs->result = PW_OK;
	c->rs->conv = c->id;
}

/* The answer to prompt k of a form: by its name, else the password
 * (openconnect sends "answer" as <password>), else the first one. */
static const char *answer_of(const struct pconv *c, int k)
{
	char name[16];
	const char *v;

	snprintf(name, sizeof(name), k ? "answer%d" : "answer", k + 1);
	if ((v = bk_answer(c->rq, name)) != NULL)
		return v;
	if (k == 0 && c->rq->pass && c->rq->pass[0])
		return c->rq->pass;
	return k == 0 ? bk_answer(c->rq, NULL) : NULL;
}

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pconv *c = data;
	struct pam_response *r;
	int idx[IPC_INPUTS_MAX], np = 0;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || !(r = calloc((size_t)n, sizeof(*r))))
		return PAM_CONV_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			add_info(c, msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_OFF:
			if (c->first[0]) {
				r[i].resp = strdup(c->first);
				explicit_bzero(c->first, sizeof(c->first));
				break;
			}
			/* fall through */
		case PAM_PROMPT_ECHO_ON:
			if (np == IPC_INPUTS_MAX)
				goto fail;
			idx[np++] = i;
			break;
		default:
			goto fail;
		}
	}
	if (np) {
		ask(c, msg, idx, np);
		swapcontext(&c->ctx, &K.main); /* until the answers come */
		if (!c->rq)
			goto fail;
		for (int k = 0; k < np; k++) {
			const char *v = answer_of(c, k);
			r[idx[k]].resp = strdup(v ? v : "");
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* Our own ban policy answers brute force; PAM's delay would stall every
 * other login of this process. */
static void no_delay(int retval, unsigned usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

static int32_t result_of(int r)
{
	switch (r) {
	case PAM_SUCCESS:
		return PW_OK;
	case PAM_USER_UNKNOWN:
		return PW_UNKNOWN_USER;
	case PAM_ACCT_EXPIRED:
	case PAM_PERM_DENIED:
		return PW_LOCKED;
	default:
		return PW_BAD_PASSWORD;
	}
}

/* The login, on its own stack. */
static void run(void)
{
	struct pconv *c = K.cur;
	struct pam_conv pc = {conv_fn, c};
	pam_handle_t *ph = NULL;
	int r;

	r = pam_start(K.service, c->user, &pc, &ph);
	if (r == PAM_SUCCESS) {
		(void)pam_set_item(ph, PAM_RHOST, c->rhost);
		(void)pam_set_item(ph, PAM_FAIL_DELAY, (const void *)no_delay);
		r = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (r == PAM_SUCCESS) {
		r = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
		if (r == PAM_NEW_AUTHTOK_REQD) {
			add_info(c, "Your password has expired: choose a new one.");
			r = pam_chauthtok(ph, PAM_CHANGE_EXPIRED_AUTHTOK);
		}
	}
	memset(c->rs, 0, sizeof(*c->rs));
	c->rs->kind = r == PAM_SUCCESS ? BK_OK : BK_FAIL;
	c->rs->result = result_of(r);
	if (r != PAM_SUCCESS)
		snprintf(c->rs->form.message, sizeof(c->rs->form.message), "PAM: %s",
			 pam_strerror(ph, r));
	if (ph)
		pam_end(ph, r);
	c->done = true;
}

static void conv_free(struct pconv *c)
{
	if (c->stack)
		munmap(c->stack, CONV_STACK);
	explicit_bzero(c, sizeof(*c));
}

/* Into the conversation until it asks or ends. */
static void resume(struct pconv *c, const struct bk_request *rq, struct bk_result *rs)
{
	c->rq = rq;
	c->rs = rs;
	K.cur = c;
	swapcontext(&K.main, &c->ctx);
	if (c->done)
		conv_free(c);
}

static struct pconv *find(uint32_t id)
{
	struct pconv *c = &K.c[id % CONV_MAX];

	return id && c->id == id ? c : NULL;
}

/* Give up a conversation: its prompts get no answer, PAM fails. */
static void give_up(struct pconv *c)
{
	static struct bk_result junk;

	for (int i = 0; i < 8 && c->id && !c->done; i++)
		resume(c, NULL, &junk);
	explicit_bzero(&junk, sizeof(junk));
}

static void rhost_of(const char *peer, char *out, size_t cap)
{
	const char *end = strrchr(peer, ':');
	size_t n = end ? (size_t)(end - peer) : strlen(peer);

	if (peer[0] == '[' && n >= 2 && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	snprintf(out, cap, "%.*s", (int)n, peer);
}

/* c's own stack, and its context to start run() on it.  Apart, for
 * getcontext() returns twice. */
static __attribute__((noinline)) int stack_up(struct pconv *c)
{
	void *st =
	    mmap(NULL, CONV_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (st == MAP_FAILED)
		return -1;
	c->stack = st;
	if (getcontext(&c->ctx) < 0)
		return -1;
	c->ctx.uc_stack.ss_sp = c->stack;
	c->ctx.uc_stack.ss_size = CONV_STACK;
	c->ctx.uc_link = &K.main;
	makecontext(&c->ctx, run, 0);
	return 0;
}

static struct pconv *conv_new(const struct bk_request *rq)
{
	time_t now = time(NULL);
	struct pconv *c = NULL;

	for (unsigned i = 0; i < CONV_MAX; i++)
		if (K.c[i].id && now - K.c[i].born > CONV_LIFE)
			give_up(&K.c[i]);
	for (unsigned i = 0; i < CONV_MAX && !c; i++)
		if (!K.c[i].id)
			c = &K.c[i];
	if (!c)
		return NULL;
	if (stack_up(c) < 0) {
		conv_free(c);
		return NULL;
	}
	/* Ids name their slot and are never 0. */
	K.next += CONV_MAX;
	if (!K.next)
		K.next = CONV_MAX;
	c->id = K.next | (uint32_t)(c - K.c);
	c->born = now;
	snprintf(c->user, sizeof(c->user), "%s", rq->user);
	snprintf(c->first, sizeof(c->first), "%s", rq->pass);
	rhost_of(rq->peer, c->rhost, sizeof(c->rhost));
	return c;
}

static void start(const struct bk_request *rq, struct bk_result *rs)
{
	struct pconv *c = conv_new(rq);

	if (!c) {
		rs->kind = BK_FAIL;
		rs->result = PW_BAD_PASSWORD;
		snprintf(rs->form.message, sizeof(rs->form.message), "too many PAM logins waiting");
		return;
	}
	resume(c, rq, rs);
}

static void answer(const struct bk_request *rq, struct bk_result *rs)
{
	struct pconv *c = find(rq->conv);

	if (!c) {
		rs->kind = BK_FAIL;
		rs->result = PW_BAD_PASSWORD;
		snprintf(rs->form.message, sizeof(rs->form.message), "the login expired");
		return;
	}
	resume(c, rq, rs);
}

static void abort_conv(uint32_t conv)
{
	struct pconv *c = find(conv);

	if (c)
		give_up(c);
}

const struct backend *bk_pam(const char *service)
{
	static const struct backend be = {"PAM", start, answer, abort_conv};

	K.service = service;
	return &be;
}
