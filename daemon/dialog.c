/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master: the login dialogue's state machine (see dialog.h).  Pure: no
 * I/O, no clock, no allocation; a struct dlg is all it owns.  The rules it
 * keeps: a session is granted only on the backend's OK (or, with
 * auth.certificate = "required", on a certificate the worker verified);
 * a form's answers go to the backend that asked for them; every wrong
 * answer counts, and auth.max-tries of them end the dialogue. */
#include "config.h"
#include "daemon/dialog.h"

#include <stdio.h>
#include <string.h>

#include "common/grouplist.h"

void dlg_init(struct dlg *d)
{
	memset(d, 0, sizeof(*d));
	d->st = DLG_NEW;
}

static void input(struct ipc_form *f, uint32_t type, const char *name, const char *label)
{
	struct ipc_input *in = &f->in[f->n++];

	in->type = type;
	snprintf(in->name, sizeof(in->name), "%s", name);
	snprintf(in->label, sizeof(in->label), "%s", label);
}

/* The first form: user name and password (the password alone when the
 * certificate names the user); the pre-login banner on the very first. */
static void first_form(struct dlg *d, const struct dlg_policy *p, struct dlg_out *out,
		       const char *error)
{
	struct ipc_form *f = &out->form;

	out->kind = DLG_OUT_FORM;
	snprintf(f->auth_id, sizeof(f->auth_id), "main");
	if (p->cert == DLG_CERT_PASSWORD)
		snprintf(f->message, sizeof(f->message), "Enter the password of %s.", d->cert_user);
	else
		input(f, IPC_INPUT_TEXT, "username", "Username:");
	input(f, IPC_INPUT_PASSWORD, "password", "Password:");
	if (error)
		snprintf(f->error, sizeof(f->error), "%s", error);
	if (d->forms == 0 && p->pre_login_banner)
		snprintf(f->banner, sizeof(f->banner), "%s", p->pre_login_banner);
	if (p->group_list && p->group_list[0]) {
		snprintf(f->group_list, sizeof(f->group_list), "%s", p->group_list);
		if (grouplist_has(p->group_list, d->group))
			snprintf(f->group_sel, sizeof(f->group_sel), "%s", d->group);
	}
	d->st = DLG_ASKED;
	d->follow = false;
	d->forms++;
}

static void end(struct dlg *d, struct dlg_out *out, const char *error)
{
	out->kind = DLG_OUT_END;
	out->form.n = 0;
	snprintf(out->form.auth_id, sizeof(out->form.auth_id), "failure");
	snprintf(out->form.error, sizeof(out->form.error), "%s", error);
	d->st = DLG_DONE;
}

/* A GRANT for d->user, in the group chosen if any: the user must be one
 * of the list's and in that group (groups: the user's), else the END. */
static void grant(struct dlg *d, const struct dlg_policy *p, const char *groups,
		  struct dlg_out *out)
{
	bool listed = p->group_list && p->group_list[0];

	if (listed && d->group[0] &&
	    (!grouplist_has(p->group_list, d->group) || !groups ||
	     !grouplist_has(groups, d->group))) {
		char why[IPC_REASON_MAX];

		snprintf(why, sizeof(why), "You are not a member of group %.40s.", d->group);
		end(d, out, why);
		out->not_member = true;
		return;
	}
	out->kind = DLG_OUT_GRANT;
	out->user = d->user;
	out->group = listed && d->group[0] ? d->group : NULL;
	d->st = DLG_DONE;
}

static bool has_answers(const struct ipc_msg *m)
{
	return !(m->u.auth_req.flags & IPC_AUTH_START) &&
	       (m->u.auth_req.user[0] || m->u.auth_req.pass[0] || m->u.auth_req.n_ans);
}

/* No answers yet: the first form, or with a certificate that suffices the
 * session at once (or Cisco's request for one). */
static void opening(struct dlg *d, const struct dlg_policy *p, const struct ipc_msg *m,
		    struct dlg_out *out)
{
	if (p->cert == DLG_CERT_OPTIONAL) {
		first_form(d, p, out, NULL);
		return;
	}
	if (!d->cert_user[0]) {
		/* Cisco's way: <client-cert-request/>; a client that has
		 * none says so (<client-cert-fail/>) and gets the error. */
		end(d, out, "A valid client certificate is required.");
		out->form.cert_request = !(m->u.auth_req.flags & IPC_AUTH_CERT_FAIL);
		return;
	}
	if (p->cert == DLG_CERT_REQUIRED) {
		snprintf(d->user, sizeof(d->user), "%s", d->cert_user);
		grant(d, p, m->u.auth_req.cert_groups, out);
		out->cert_only = out->kind == DLG_OUT_GRANT;
		return;
	}
	first_form(d, p, out, NULL);
}

static void request(struct dlg *d, const struct dlg_policy *p, const struct ipc_msg *m,
		    struct dlg_out *out)
{
	if (d->st == DLG_CHECKING || d->st == DLG_DONE) {
		/* The worker waits for our answer before it sends more. */
		end(d, out, "The login could not be checked: try again");
		return;
	}
	/* The worker's word about the certificate, as verified on this
	 * connection. */
	snprintf(d->cert_user, sizeof(d->cert_user), "%s", m->u.auth_req.cert_user);
	/* The group the client picked, with any request that names one. */
	if (p->group_list && p->group_list[0] && m->u.auth_req.group[0])
		snprintf(d->group, sizeof(d->group), "%s", m->u.auth_req.group);
	if (!has_answers(m)) {
		opening(d, p, m, out);
		return;
	}
	if (d->follow) {
		out->kind = DLG_OUT_ANSWER;
		out->user = d->user;
		d->st = DLG_CHECKING;
		return;
	}
	if (p->cert != DLG_CERT_OPTIONAL && !d->cert_user[0]) {
		opening(d, p, m, out); /* no certificate, no password check */
		return;
	}
	snprintf(d->user, sizeof(d->user), "%s",
		 p->cert == DLG_CERT_PASSWORD ? d->cert_user : m->u.auth_req.user);
	if (!d->user[0]) {
		first_form(d, p, out, NULL);
		return;
	}
	out->kind = DLG_OUT_START;
	out->user = d->user;
	d->st = DLG_CHECKING;
}

void dlg_step(struct dlg *d, const struct dlg_policy *p, const struct dlg_in *in,
	      struct dlg_out *out)
{
	memset(out, 0, sizeof(*out));
	if (in->kind == DLG_IN_REQUEST) {
		request(d, p, in->req, out);
		return;
	}
	if (d->st != DLG_CHECKING) {
		/* A backend's word for a question nobody asked. */
		out->kind = DLG_OUT_NONE;
		return;
	}
	switch (in->kind) {
	case DLG_IN_ASK:
		out->kind = DLG_OUT_FORM;
		out->form = *in->form;
		if (!out->form.auth_id[0])
			snprintf(out->form.auth_id, sizeof(out->form.auth_id), "challenge");
		out->form.banner[0] = '\0';
		out->form.cert_request = 0;
		if (out->form.n == 0 || out->form.n > IPC_INPUTS_MAX) {
			end(d, out, "The login could not be checked: try again");
			return;
		}
		d->st = DLG_ASKED;
		d->follow = true;
		d->forms++;
		return;
	case DLG_IN_FAIL:
		if (++d->tries >= p->max_tries) {
			end(d, out, in->text ? in->text : p->failure_message);
			out->failed = true;
			return;
		}
		first_form(d, p, out, in->text ? in->text : p->failure_message);
		return;
	case DLG_IN_OK:
		grant(d, p, in->groups, out);
		return;
	default:
		end(d, out, in->text ? in->text : "The login could not be checked: try again");
		return;
	}
}
