/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master: the login dialogue of one connection, as a state machine that
 * only computes.  It is fed what happens (the client's request, the
 * backend's answer) and says what to do (show a form, ask the backend,
 * grant a session, end).  daemon/logins.c does it; the fuzzer and the unit
 * tests drive it directly.
 *
 *        REQUEST without answers                 REQUEST with answers
 *   NEW ------------------------> ASKED -----------------------------> CHECKING
 *    |   (first form; a           ^  ^  (START with the first form's,       |
 *    |    certificate alone:      |  |   ANSWER with a later form's)        |
 *    |    GRANT)                  |  +---- ASK: the backend's next form ----+
 *    |                            +------- FAIL, tries left: first form ----+
 *    |                                     again, with the error            |
 *    +--> DONE <---- OK: GRANT; FAIL, no tries left: END; ERROR: END -------+
 *
 * Group choice: with a list (auth.group-select) the first form has a
 * group_list select; a request naming a listed group records it (an init
 * naming one gets the first form again, with it selected: the stock
 * client's way); at GRANT the user must be in the group chosen, else END.
 * RADIUS challenges are one more ASK. */
#ifndef TUNNELD_DIALOG_H
#define TUNNELD_DIALOG_H

#include <stdbool.h>

#include "common/ipc.h"

enum dlg_cert {
	DLG_CERT_OPTIONAL, /* no certificate needed (one that is given names nobody) */
	DLG_CERT_REQUIRED, /* the certificate alone logs in: user from its field */
	DLG_CERT_PASSWORD, /* the certificate names the user, the password proves it */
};

struct dlg_policy {
	unsigned max_tries;	      /* auth.max-tries */
	const char *failure_message;  /* auth.failure-message */
	const char *pre_login_banner; /* NULL: none */
	enum dlg_cert cert;
	/* Group choice (auth.group-select): the groups the first form lists,
	 * comma-separated; NULL or "": no list. */
	const char *group_list;
};

enum dlg_state { DLG_NEW, DLG_ASKED, DLG_CHECKING, DLG_DONE };

struct dlg {
	enum dlg_state st;
	unsigned tries; /* wrong answers so far */
	unsigned forms; /* forms shown */
	bool follow;	/* the form out is the backend's: its answers go on (ANSWER) */
	char user[IPC_USER_MAX];
	char cert_user[IPC_USER_MAX]; /* from the verified certificate, "" for none */
	char group[IPC_USER_MAX];     /* the group chosen from the list, "" for none */
};

enum dlg_in_kind {
	DLG_IN_REQUEST, /* the client's IPC_AUTH_REQ */
	DLG_IN_ASK,	/* the backend asks a form */
	DLG_IN_FAIL,	/* the backend refused the answers */
	DLG_IN_OK,	/* the backend accepted them */
	DLG_IN_ERROR,	/* no backend could answer (busy, died) */
};

struct dlg_in {
	enum dlg_in_kind kind;
	const struct ipc_msg *req;   /* REQUEST */
	const struct ipc_form *form; /* ASK */
	const char *text;	     /* ERROR: what the user is told; FAIL: the same instead of
					auth.failure-message (NULL: that) */
	const char *groups;	     /* OK: the user's groups, comma-separated (NULL: none) */
};

enum dlg_out_kind {
	DLG_OUT_NONE,	/* nothing to do */
	DLG_OUT_FORM,	/* show out.form; the dialogue goes on */
	DLG_OUT_START,	/* the backend starts with the request's answers, for out.user */
	DLG_OUT_ANSWER, /* the backend's conversation goes on with the request's answers */
	DLG_OUT_GRANT,	/* a session for out.user (cert_only: no backend was asked) */
	DLG_OUT_END,	/* show out.form (no inputs) and forget the dialogue */
};

struct dlg_out {
	enum dlg_out_kind kind;
	struct ipc_form form;
	const char *user;  /* into the dlg: valid while it is */
	const char *group; /* GRANT: the group chosen (into the dlg), NULL: none */
	bool cert_only;
	bool failed;	 /* END after a wrong answer (the last try) */
	bool not_member; /* END: the user is not in the group chosen (d->group) */
};

void dlg_init(struct dlg *d);
void dlg_step(struct dlg *d, const struct dlg_policy *p, const struct dlg_in *in,
	      struct dlg_out *out);

#endif
