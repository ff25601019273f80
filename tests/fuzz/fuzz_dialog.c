/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the login dialogue's state machine
 * (daemon/dialog.c): the input is a policy and a sequence of events (the
 * client's requests with or without answers and certificates, the
 * backend's asks, failures, successes and errors, in any order).  Checks
 * the rules it keeps: a session is granted only on the backend's OK while
 * it was checking, or on a certificate alone when auth.cert-mode is
 * "required"; answers reach the backend only from a request, and a
 * follow-up form's only as ANSWER; the tries never pass auth.max-tries and
 * the last wrong one ends the dialogue; a backend's word about nothing it
 * was asked changes nothing; every form has 1 to 4 valid inputs, every end
 * none; and each form the worker would write parses as XML.  Group choice:
 * a granted group is one of the list and of the user's groups. */
#include "config.h"
#include "daemon/dialog.h"

#include <string.h>

#include "common/authxml.h"
#include "common/grouplist.h"
#include "tests/fuzz/fuzz.h"

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static const char *const picks[] = {"", "staff", "eng", "root"};

static void request(struct input *in, struct ipc_msg *m)
{
	uint8_t b = next(in);
	uint8_t g = next(in);

	memset(m, 0, sizeof(*m));
	m->type = IPC_AUTH_REQ;
	if (b & 1)
		m->u.auth_req.flags |= IPC_AUTH_START;
	if (b & 2)
		m->u.auth_req.flags |= IPC_AUTH_CERT_FAIL;
	if (b & 4)
		strcpy(m->u.auth_req.user, b & 0x80 ? "alice" : "");
	if (b & 8)
		strcpy(m->u.auth_req.pass, "secret");
	if (b & 16)
		strcpy(m->u.auth_req.cert_user, "carol");
	if (b & 16 && g & 4)
		strcpy(m->u.auth_req.cert_groups, "staff,root");
	strcpy(m->u.auth_req.group, picks[g & 3]);
	m->u.auth_req.n_ans = (b >> 5) & 3;
	for (uint32_t i = 0; i < m->u.auth_req.n_ans && i < IPC_INPUTS_MAX; i++) {
		strcpy(m->u.auth_req.ans[i].name, "answer");
		strcpy(m->u.auth_req.ans[i].value, "123456");
	}
}

static void ask(struct input *in, struct ipc_form *f)
{
	uint8_t b = next(in);

	memset(f, 0, sizeof(*f));
	f->n = b % 6; /* 5 is beyond IPC_INPUTS_MAX: the machine must refuse it */
	for (uint32_t i = 0; i < f->n && i < IPC_INPUTS_MAX; i++) {
		f->in[i].type = (b & 0x80) ? IPC_INPUT_TEXT : IPC_INPUT_PASSWORD;
		strcpy(f->in[i].name, "answer");
		strcpy(f->in[i].label, "Code:");
	}
	if (b & 0x40)
		strcpy(f->message, "Enter the code.\nIt is on your phone.");
	if (b & 0x20)
		strcpy(f->banner, "must not be shown");
}

static void check_form(const struct ipc_form *f, bool end)
{
	static char xml[16384];
	struct authxml ax;
	int n;

	if (end)
		FUZZ_ASSERT(f->n == 0 && f->error[0]);
	else
		FUZZ_ASSERT(f->n >= 1 && f->n <= IPC_INPUTS_MAX);
	if (f->group_list[0])
		FUZZ_ASSERT(!end && grouplist_ok(f->group_list, sizeof(f->group_list)));
	if (f->group_sel[0])
		FUZZ_ASSERT(grouplist_has(f->group_list, f->group_sel));
	for (uint32_t i = 0; i < f->n; i++) {
		FUZZ_ASSERT(f->in[i].type == IPC_INPUT_TEXT || f->in[i].type == IPC_INPUT_PASSWORD);
		FUZZ_ASSERT(f->in[i].name[0] && memchr(f->in[i].name, 0, sizeof(f->in[i].name)));
	}
	n = authxml_write_dialog(xml, sizeof(xml), f);
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(authxml_parse(xml, (size_t)n, &ax) == 0 && ax.type == AUTHXML_OTHER);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	uint8_t pb = next(&in);
	struct dlg_policy pol = {1 + (pb & 7), "Login failed.",
				 (pb & 0x40) ? "Authorized users only." : NULL,
				 (enum dlg_cert)((pb >> 3) % 3), (pb & 0x80) ? "staff,eng" : NULL};
	static const char *const user_groups[] = {NULL, "eng", "staff,ops", ""};
	static struct ipc_msg m;
	struct ipc_form f;
	struct dlg_out out;
	struct dlg d;

	dlg_init(&d);
	while (in.n) {
		uint8_t op = next(&in) % 5;
		struct dlg_in ev = {(enum dlg_in_kind)op, NULL, NULL, NULL, NULL};
		enum dlg_state before = d.st;
		bool follow = d.follow;
		unsigned tries = d.tries;

		if (op == DLG_IN_REQUEST) {
			request(&in, &m);
			ev.req = &m;
		} else if (op == DLG_IN_ASK) {
			ask(&in, &f);
			ev.form = &f;
		} else if (op == DLG_IN_ERROR) {
			ev.text = "busy";
		} else if (op == DLG_IN_OK) {
			ev.groups = user_groups[next(&in) & 3];
		} else if (op == DLG_IN_FAIL && (next(&in) & 1)) {
			ev.text = "Wrong code."; /* the backend's word (RADIUS) */
		}
		dlg_step(&d, &pol, &ev, &out);
		FUZZ_ASSERT(d.tries <= pol.max_tries);
		if (op != DLG_IN_REQUEST && before != DLG_CHECKING) {
			/* Nobody asked the backend: nothing happens. */
			FUZZ_ASSERT(out.kind == DLG_OUT_NONE && d.st == before && d.tries == tries);
			continue;
		}
		switch (out.kind) {
		case DLG_OUT_GRANT:
			FUZZ_ASSERT(d.st == DLG_DONE && out.user && out.user[0]);
			if (out.cert_only)
				FUZZ_ASSERT(op == DLG_IN_REQUEST && pol.cert == DLG_CERT_REQUIRED &&
					    !strcmp(out.user, "carol"));
			else
				FUZZ_ASSERT(op == DLG_IN_OK && before == DLG_CHECKING);
			if (out.group) /* listed, and the user's */
				FUZZ_ASSERT(pol.group_list &&
					    grouplist_has(pol.group_list, out.group) &&
					    grouplist_has(out.cert_only ? m.u.auth_req.cert_groups
							  : ev.groups	? ev.groups
									: "",
							  out.group));
			break;
		case DLG_OUT_START:
			FUZZ_ASSERT(op == DLG_IN_REQUEST && !follow && d.st == DLG_CHECKING);
			FUZZ_ASSERT(out.user && out.user[0]);
			if (pol.cert == DLG_CERT_PASSWORD)
				FUZZ_ASSERT(!strcmp(out.user, "carol"));
			if (pol.cert != DLG_CERT_OPTIONAL)
				FUZZ_ASSERT(m.u.auth_req.cert_user[0]);
			break;
		case DLG_OUT_ANSWER:
			FUZZ_ASSERT(op == DLG_IN_REQUEST && follow && d.st == DLG_CHECKING);
			break;
		case DLG_OUT_FORM:
			FUZZ_ASSERT(d.st == DLG_ASKED);
			check_form(&out.form, false);
			if (op != DLG_IN_ASK || out.form.banner[0])
				FUZZ_ASSERT(!d.follow);
			break;
		case DLG_OUT_END:
			FUZZ_ASSERT(d.st == DLG_DONE);
			check_form(&out.form, true);
			if (out.failed)
				FUZZ_ASSERT(op == DLG_IN_FAIL && d.tries == pol.max_tries);
			break;
		default:
			FUZZ_ASSERT(
			    0); /* every event in CHECKING, and every request, does something */
		}
		if (op == DLG_IN_FAIL && out.kind == DLG_OUT_FORM)
			FUZZ_ASSERT(d.tries == tries + 1 &&
				    !strcmp(out.form.error, ev.text ? ev.text : "Login failed."));
		if (d.st == DLG_DONE)
			dlg_init(&d); /* the next connection */
	}
	return 0;
}
