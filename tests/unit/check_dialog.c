/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the login dialogue's state machine (daemon/dialog.c), the
 * urlencoded form parser (common/formenc.c), the answers of an XML
 * auth-reply (common/authxml.c) and the forms the worker writes, the TOTP
 * codes (common/totp.c, RFC 6238's test secret) and the dialogue's config
 * keys. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/authxml.h"
#include "common/formenc.h"
#include "common/grouplist.h"
#include "common/totp.h"
#include "conf/config.h"
#include "daemon/dialog.h"

static const struct dlg_policy plain = {3, "Login failed.", "Banner.", DLG_CERT_OPTIONAL, NULL};

static struct ipc_msg req(const char *user, const char *pass, const char *cert)
{
	struct ipc_msg m = {.type = IPC_AUTH_REQ};

	if (!user && !pass)
		m.u.auth_req.flags = IPC_AUTH_START;
	snprintf(m.u.auth_req.user, sizeof(m.u.auth_req.user), "%s", user ? user : "");
	snprintf(m.u.auth_req.pass, sizeof(m.u.auth_req.pass), "%s", pass ? pass : "");
	snprintf(m.u.auth_req.cert_user, sizeof(m.u.auth_req.cert_user), "%s", cert ? cert : "");
	return m;
}

static struct dlg_out step(struct dlg *d, const struct dlg_policy *p, enum dlg_in_kind k,
			   const struct ipc_msg *m, const struct ipc_form *f)
{
	struct dlg_in in = {k, m, f, k == DLG_IN_ERROR ? "busy" : NULL, NULL};
	struct dlg_out out;

	dlg_step(d, p, &in, &out);
	return out;
}

/* The first form, wrong answers that ask again, then the end of tries. */
START_TEST(test_tries)
{
	struct ipc_msg start = req(NULL, NULL, NULL), wrong = req("alice", "x", NULL);
	struct dlg d;
	struct dlg_out o;

	dlg_init(&d);
	o = step(&d, &plain, DLG_IN_REQUEST, &start, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_uint_eq(o.form.n, 2);
	ck_assert_str_eq(o.form.in[0].name, "username");
	ck_assert_str_eq(o.form.in[1].name, "password");
	ck_assert_uint_eq(o.form.in[1].type, IPC_INPUT_PASSWORD);
	ck_assert_str_eq(o.form.auth_id, "main");
	ck_assert_str_eq(o.form.banner, "Banner.");
	ck_assert_str_eq(o.form.error, "");
	for (unsigned i = 1; i <= 3; i++) {
		o = step(&d, &plain, DLG_IN_REQUEST, &wrong, NULL);
		ck_assert_int_eq(o.kind, DLG_OUT_START);
		ck_assert_str_eq(o.user, "alice");
		/* A request while the backend checks is a broken worker. */
		if (i == 1) {
			struct dlg copy = d;
			ck_assert_int_eq(step(&copy, &plain, DLG_IN_REQUEST, &wrong, NULL).kind,
					 DLG_OUT_END);
		}
		o = step(&d, &plain, DLG_IN_FAIL, NULL, NULL);
		ck_assert_uint_eq(d.tries, i);
		if (i < 3) {
			ck_assert_int_eq(o.kind, DLG_OUT_FORM);
			ck_assert_str_eq(o.form.error, "Login failed.");
			ck_assert_str_eq(o.form.banner, ""); /* the first form's only */
			ck_assert(!o.failed);
		}
	}
	ck_assert_int_eq(o.kind, DLG_OUT_END);
	ck_assert(o.failed);
	ck_assert_uint_eq(o.form.n, 0);
	ck_assert_str_eq(o.form.error, "Login failed.");
	ck_assert_int_eq(d.st, DLG_DONE);
}
END_TEST

/* A backend's second form (a code): its answers go on, OK grants. */
START_TEST(test_second_step)
{
	struct ipc_msg first = req("bob", "pw", NULL), code = req("", "123456", NULL);
	struct ipc_form f = {.n = 1};
	struct dlg d;
	struct dlg_out o;

	f.in[0].type = IPC_INPUT_PASSWORD;
	strcpy(f.in[0].name, "secondary_password");
	strcpy(f.banner, "not shown");
	dlg_init(&d);
	/* A backend that was not asked has no say. */
	ck_assert_int_eq(step(&d, &plain, DLG_IN_OK, NULL, NULL).kind, DLG_OUT_NONE);
	ck_assert_int_eq(step(&d, &plain, DLG_IN_REQUEST, &first, NULL).kind, DLG_OUT_START);
	o = step(&d, &plain, DLG_IN_ASK, NULL, &f);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_str_eq(o.form.auth_id, "challenge");
	ck_assert_str_eq(o.form.banner, "");
	ck_assert(d.follow);
	ck_assert_int_eq(step(&d, &plain, DLG_IN_OK, NULL, NULL).kind, DLG_OUT_NONE);
	o = step(&d, &plain, DLG_IN_REQUEST, &code, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_ANSWER);
	ck_assert_str_eq(o.user, "bob");
	o = step(&d, &plain, DLG_IN_OK, NULL, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert_str_eq(o.user, "bob");
	ck_assert(!o.cert_only);
	/* A wrong code goes back to the first form. */
	dlg_init(&d);
	step(&d, &plain, DLG_IN_REQUEST, &first, NULL);
	step(&d, &plain, DLG_IN_ASK, NULL, &f);
	step(&d, &plain, DLG_IN_REQUEST, &code, NULL);
	o = step(&d, &plain, DLG_IN_FAIL, NULL, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_str_eq(o.form.in[0].name, "username");
	ck_assert_str_eq(o.form.error, "Login failed.");
	ck_assert(!d.follow);
	/* A backend's own word for the user (a RADIUS Reply-Message) takes
	 * the place of auth.failure-message, on the form again and at the
	 * end. */
	step(&d, &plain, DLG_IN_REQUEST, &first, NULL);
	step(&d, &plain, DLG_IN_ASK, NULL, &f);
	step(&d, &plain, DLG_IN_REQUEST, &code, NULL);
	{
		struct dlg_in in = {DLG_IN_FAIL, NULL, NULL, "Wrong code.", NULL};
		dlg_step(&d, &plain, &in, &o);
		ck_assert_int_eq(o.kind, DLG_OUT_FORM);
		ck_assert_str_eq(o.form.error, "Wrong code.");
		step(&d, &plain, DLG_IN_REQUEST, &first, NULL);
		dlg_step(&d, &plain, &in, &o);
		ck_assert_int_eq(o.kind, DLG_OUT_END);
		ck_assert(o.failed);
		ck_assert_str_eq(o.form.error, "Wrong code.");
	}
	/* A form of no inputs (or too many) from a backend ends it. */
	dlg_init(&d);
	step(&d, &plain, DLG_IN_REQUEST, &first, NULL);
	f.n = IPC_INPUTS_MAX + 1;
	ck_assert_int_eq(step(&d, &plain, DLG_IN_ASK, NULL, &f).kind, DLG_OUT_END);
}
END_TEST

START_TEST(test_certificates)
{
	struct dlg_policy req_pol = plain, pw_pol = plain;
	struct ipc_msg none = req(NULL, NULL, NULL), cert = req(NULL, NULL, "carol");
	struct ipc_msg pw = req("mallory", "pw", "carol"), nocert = req("carol", "pw", NULL);
	struct dlg d;
	struct dlg_out o;

	req_pol.cert = DLG_CERT_REQUIRED;
	pw_pol.cert = DLG_CERT_PASSWORD;
	/* Required: the certificate alone; none: Cisco's request, then the end. */
	dlg_init(&d);
	o = step(&d, &req_pol, DLG_IN_REQUEST, &cert, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert(o.cert_only);
	ck_assert_str_eq(o.user, "carol");
	dlg_init(&d);
	o = step(&d, &req_pol, DLG_IN_REQUEST, &none, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_END);
	ck_assert_uint_eq(o.form.cert_request, 1);
	none.u.auth_req.flags |= IPC_AUTH_CERT_FAIL;
	dlg_init(&d);
	o = step(&d, &req_pol, DLG_IN_REQUEST, &none, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_END);
	ck_assert_uint_eq(o.form.cert_request, 0);
	/* A password without a certificate checks nothing. */
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &req_pol, DLG_IN_REQUEST, &nocert, NULL).kind, DLG_OUT_END);
	/* Password mode: the user is the certificate's, whatever was typed. */
	dlg_init(&d);
	o = step(&d, &pw_pol, DLG_IN_REQUEST, &cert, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_uint_eq(o.form.n, 1);
	ck_assert_str_eq(o.form.in[0].name, "password");
	ck_assert_ptr_nonnull(strstr(o.form.message, "carol"));
	o = step(&d, &pw_pol, DLG_IN_REQUEST, &pw, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_START);
	ck_assert_str_eq(o.user, "carol");
	o = step(&d, &pw_pol, DLG_IN_OK, NULL, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert(!o.cert_only);
	/* Optional: a certificate names nobody. */
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &plain, DLG_IN_REQUEST, &cert, NULL).kind, DLG_OUT_FORM);
}
END_TEST

START_TEST(test_formenc)
{
	static const char ok[] = "username=al%69ce&password=p%40ss+word&otp=123456&group_list=eng";
	struct authxml ax;

	ck_assert_int_eq(formenc_parse(ok, strlen(ok), &ax), 0);
	ck_assert_int_eq(ax.type, AUTHXML_REPLY);
	ck_assert_str_eq(ax.username, "alice");
	ck_assert_str_eq(ax.password, "p@ss word");
	ck_assert_str_eq(ax.group, "eng");
	ck_assert_uint_eq(ax.n_ans, 1);
	ck_assert_str_eq(ax.ans[0].name, "otp");
	ck_assert_str_eq(ax.ans[0].value, "123456");
	ck_assert_int_eq(formenc_parse("", 0, &ax), 0);
	ck_assert_int_eq(ax.type, AUTHXML_INIT);
	/* Refused: twice the same name, a NUL, a broken escape, XML. */
	static const char *const bad[] = {
	    "password=a&password=b", "password=a%00b", "password=a%4", "password=%zz",
	    "<config-auth/>",	     "=value",	       "a=b c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(formenc_parse(bad[i], strlen(bad[i]), &ax) == -1, "%s", bad[i]);
		ck_assert_str_eq(ax.password, "");
	}
	ck_assert_int_eq(formenc_parse("username=a%0Ab&password=x", 25, &ax), AUTHXML_BAD_USER);
	ck_assert_str_eq(ax.password, "");
	/* A value one byte too long for its field. */
	char longv[400] = "password=";
	memset(longv + 9, 'x', AUTHXML_MAX_FIELD);
	ck_assert_int_eq(formenc_parse(longv, strlen(longv), &ax), -1);
	longv[9 + AUTHXML_MAX_FIELD - 1] = '\0';
	ck_assert_int_eq(formenc_parse(longv, strlen(longv), &ax), 0);
}
END_TEST

START_TEST(test_xml_answers_and_forms)
{
	static const char reply[] =
	    "<config-auth client=\"vpn\" type=\"auth-reply\"><auth><username>u</username>"
	    "<secondary_password>654321</secondary_password><x><y>z</y></x></auth>"
	    "<client-cert-fail/></config-auth>";
	struct ipc_form f = {.n = 2};
	struct authxml ax;
	char buf[4096];
	int n;

	ck_assert_int_eq(authxml_parse(reply, strlen(reply), &ax), 0);
	ck_assert_uint_eq(ax.n_ans, 1); /* <x> holds elements: no answer */
	ck_assert_str_eq(ax.ans[0].name, "secondary_password");
	ck_assert_str_eq(ax.ans[0].value, "654321");
	ck_assert(ax.cert_fail);
	f.in[0] = (struct ipc_input){IPC_INPUT_TEXT, "answer", "Name <first>:"};
	f.in[1] = (struct ipc_input){IPC_INPUT_PASSWORD, "answer2", "Code:"};
	strcpy(f.message, "Two lines\nof message & more");
	strcpy(f.error, "Wrong.");
	strcpy(f.banner, "Hello");
	f.cert_request = 1;
	n = authxml_write_dialog(buf, sizeof(buf), &f);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(buf, "<client-cert-request/>"));
	ck_assert_ptr_nonnull(strstr(buf, "<auth id=\"main\">"));
	ck_assert_ptr_nonnull(strstr(buf, "<banner>Hello</banner>"));
	ck_assert_ptr_nonnull(strstr(buf, "<message>Two lines\nof message &amp; more</message>"));
	ck_assert_ptr_nonnull(strstr(buf, "<error>Wrong.</error>"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "<input type=\"text\" name=\"answer\" label=\"Name &lt;first&gt;:\" />"));
	ck_assert_ptr_nonnull(strstr(buf, "<input type=\"password\" name=\"answer2\""));
	ck_assert_int_eq(authxml_parse(buf, (size_t)n, &ax), 0);
	/* No inputs: no form, the dialogue's end. */
	f.n = 0;
	n = authxml_write_dialog(buf, sizeof(buf), &f);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_null(strstr(buf, "<form"));
	ck_assert_int_eq(authxml_write_dialog(buf, 100, &f), -1);
}
END_TEST

/* RFC 6238 appendix B: the SHA-1 secret "12345678901234567890" (base32
 * GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ); at T = 59 s the 8-digit code is
 * 94287082, so the 6-digit one is 287082 (time step 1). */
START_TEST(test_totp)
{
	static const char f[] = "# test\nalice:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n";
	struct totp_db *db = NULL;
	char err[256], secret[64];
	uint64_t st;

	ck_assert_msg(totp_db_parse(f, strlen(f), "t.totp", &db, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(totp_db_count(db), 1);
	ck_assert(totp_db_has(db, "alice"));
	ck_assert(!totp_db_has(db, "bob"));
	ck_assert_int_eq(totp_check(db, "alice", "287082", 59, &st), 0);
	ck_assert_uint_eq(st, 1);
	/* One step either side; not two. */
	ck_assert_int_eq(totp_check(db, "alice", "287082", 59 + 30, &st), 0);
	ck_assert_int_eq(totp_check(db, "alice", "287082", 59 + 60, &st), -1);
	ck_assert_int_eq(totp_check(db, "alice", "287083", 59, &st), -1);
	ck_assert_int_eq(totp_check(db, "alice", "28708", 59, &st), -1);
	ck_assert_int_eq(totp_check(db, "bob", "287082", 59, &st), -1);
	totp_db_free(db);
	/* Bad lines name their line. */
	static const char bad[] = "alice:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nbob:not*base32\n";
	ck_assert_int_eq(totp_db_parse(bad, strlen(bad), "t.totp", &db, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "t.totp:2:"));
	static const char twice[] = "a:GEZDGNBVGY3TQOJQ\na:GEZDGNBVGY3TQOJQ\n";
	ck_assert_int_eq(totp_db_parse(twice, strlen(twice), "t.totp", &db, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert_int_eq(totp_new_secret(secret, sizeof(secret)), 0);
	ck_assert_uint_eq(strlen(secret), 32);
	ck_assert_uint_eq(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
}
END_TEST

#define BASE "listen = [\"0.0.0.0:443\"];\nnetwork = { ipv4-pool = \"198.18.100.0/24\"; };\n"

static int load(const char *extra, char *err)
{
	char text[2048];
	struct cfg c;
	int r;

	snprintf(text, sizeof(text), BASE "%s", extra);
	r = cfg_load_string(text, "t.conf", &c, err, CFG_ERR_LEN);
	if (r == 0)
		cfg_free(&c);
	return r;
}

START_TEST(test_config_keys)
{
	char err[CFG_ERR_LEN];
	struct cfg c;

	ck_assert_int_eq(cfg_load_string(BASE "auth = { password-file = \"p\"; };\n", "t.conf", &c,
					 err, sizeof(err)),
			 0);
	ck_assert_uint_eq(c.auth_max_tries, 3);
	ck_assert_str_eq(c.auth_failure_message, "Login failed.");
	ck_assert_str_eq(c.auth_certificate, "optional");
	ck_assert_str_eq(c.auth_cert_user_field, "CN");
	ck_assert_ptr_null(c.pre_login_banner);
	ck_assert_ptr_null(c.pam_service);
	cfg_free(&c);
	ck_assert_int_eq(load("auth = { password-file = \"p\"; max-tries = 0; };", err), -1);
	ck_assert_int_eq(load("auth = { password-file = \"p\"; cert-mode = \"always\"; };", err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:3: auth.cert-mode: expected"));
	ck_assert_int_eq(load("auth = { password-file = \"p\"; cert-mode = \"required\"; };", err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "needs auth.ca"));
	ck_assert_int_eq(load("auth = { password-file = \"p\"; crl = \"c\"; };", err), -1);
	ck_assert_int_eq(load("auth = { password-file = \"p\"; pam-service = \"/etc/x\"; };", err),
			 -1);
	ck_assert_int_eq(load("auth = { password-file = \"p\"; ca = \"a\"; cert-user-field = "
			      "\"1.2.3.4\"; cert-group-field = \"OU\"; };",
			      err),
			 0);
	ck_assert_int_eq(
	    load("auth = { password-file = \"p\"; cert-user-field = \"1..2\"; };", err), -1);
	ck_assert_int_eq(
	    load("auth = { password-file = \"p\"; };\nbanner = \"two\\nlines\";\n", err), -1);
	ck_assert_ptr_nonnull(strstr(err, "banner: control character"));
	ck_assert_int_eq(
	    load("auth = { password-file = \"p\"; };\npre-login-banner = \"two\\nlines\";\n", err),
	    0);
	ck_assert_int_eq(
	    load("auth = { password-file = \"p\"; failure-message = \"a\\tb\"; };\n", err), -1);
}
END_TEST

START_TEST(test_grouplist)
{
	char big[300];

	ck_assert(grouplist_ok("staff", 256));
	ck_assert(grouplist_ok("staff,eng,a.b-c_d", 256));
	ck_assert(!grouplist_ok("", 256));
	ck_assert(!grouplist_ok("staff,", 256));
	ck_assert(!grouplist_ok(",staff", 256));
	ck_assert(!grouplist_ok("staff,,eng", 256));
	ck_assert(!grouplist_ok("staff,eng,staff", 256));
	ck_assert(!grouplist_ok("st aff", 256));
	ck_assert(!grouplist_ok("staff,eng", 9)); /* no room for the NUL */
	memset(big, 'g', 64);
	big[64] = '\0';
	ck_assert(!grouplist_ok(big, sizeof(big))); /* a name of 64 */
	big[63] = '\0';
	ck_assert(grouplist_ok(big, sizeof(big)));
	ck_assert(group_name_ok("eng") && !group_name_ok("") && !group_name_ok("a,b"));
	ck_assert(grouplist_has("staff,eng", "eng") && grouplist_has("staff,eng", "staff"));
	ck_assert(!grouplist_has("staff,eng", "sta") && !grouplist_has("staff,eng", "staff,eng"));
	ck_assert(!grouplist_has("staff,eng", "") && !grouplist_has("", "eng"));
}
END_TEST

/* The chosen group first (a cookie's list: the node that re-creates the
 * session chooses the first it defines). */
START_TEST(test_grouplist_first)
{
	char out[16];

	grouplist_first("eng,staff,ops", "staff", out, sizeof(out));
	ck_assert_str_eq(out, "staff,eng,ops");
	grouplist_first("eng,staff,ops", "ops", out, sizeof(out));
	ck_assert_str_eq(out, "ops,eng,staff");
	grouplist_first("eng,staff", "eng", out, sizeof(out));
	ck_assert_str_eq(out, "eng,staff");
	grouplist_first("eng,staffs", "staf", out, sizeof(out)); /* not a prefix match */
	ck_assert_str_eq(out, "staf,eng,staffs");
	grouplist_first("", "staff", out, sizeof(out));
	ck_assert_str_eq(out, "staff");
	grouplist_first("eng,staff", "", out, sizeof(out));
	ck_assert_str_eq(out, "eng,staff");
	/* No room for one more name: the list as it was. */
	grouplist_first("eng,staffs,ops", "admin", out, sizeof(out));
	ck_assert_str_eq(out, "eng,staffs,ops");
	grouplist_first("eng,staffs,ops", "ops", out, sizeof(out));
	ck_assert_str_eq(out, "ops,eng,staffs");
}
END_TEST

static struct dlg_out ok_with(struct dlg *d, const struct dlg_policy *p, const char *groups)
{
	struct dlg_in in = {DLG_IN_OK, NULL, NULL, NULL, groups};
	struct dlg_out out;

	dlg_step(d, p, &in, &out);
	return out;
}

static struct ipc_msg req_group(const char *user, const char *pass, const char *group)
{
	struct ipc_msg m = req(user, pass, NULL);

	snprintf(m.u.auth_req.group, sizeof(m.u.auth_req.group), "%s", group);
	return m;
}

/* Group choice: the list in the first form, the pick recorded from any
 * request, granted only in a group of the user's that the list has. */
START_TEST(test_group_choice)
{
	struct dlg_policy gp = plain, cp;
	struct ipc_msg start = req(NULL, NULL, NULL), init = req_group(NULL, NULL, "eng");
	struct ipc_msg eng = req_group("alice", "pw", "eng"), none = req("alice", "pw", NULL);
	struct ipc_msg root = req_group("alice", "pw", "root");
	struct dlg d;
	struct dlg_out o;

	gp.group_list = "staff,eng";
	dlg_init(&d);
	o = step(&d, &gp, DLG_IN_REQUEST, &start, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_str_eq(o.form.group_list, "staff,eng");
	ck_assert_str_eq(o.form.group_sel, "");
	/* The stock client asks the form again for the group it picked. */
	o = step(&d, &gp, DLG_IN_REQUEST, &init, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_FORM);
	ck_assert_str_eq(o.form.group_sel, "eng");
	ck_assert_int_eq(step(&d, &gp, DLG_IN_REQUEST, &eng, NULL).kind, DLG_OUT_START);
	o = ok_with(&d, &gp, "ops,eng");
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert_str_eq(o.group, "eng");
	/* A group of the list the user is not in: the end, not a wrong try. */
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &gp, DLG_IN_REQUEST, &eng, NULL).kind, DLG_OUT_START);
	o = ok_with(&d, &gp, "staff");
	ck_assert_int_eq(o.kind, DLG_OUT_END);
	ck_assert(!o.failed && o.not_member);
	ck_assert_str_eq(o.form.error, "You are not a member of group eng.");
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &gp, DLG_IN_REQUEST, &eng, NULL).kind, DLG_OUT_START);
	ck_assert_int_eq(ok_with(&d, &gp, NULL).kind, DLG_OUT_END);
	/* A group the list does not have, even one of the user's. */
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &gp, DLG_IN_REQUEST, &root, NULL).kind, DLG_OUT_START);
	ck_assert_int_eq(ok_with(&d, &gp, "root").kind, DLG_OUT_END);
	/* No pick: no group chosen (the session gets the default). */
	dlg_init(&d);
	ck_assert_int_eq(step(&d, &gp, DLG_IN_REQUEST, &none, NULL).kind, DLG_OUT_START);
	o = ok_with(&d, &gp, "staff");
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert_ptr_null(o.group);
	/* Without a list a pick means nothing. */
	dlg_init(&d);
	o = step(&d, &plain, DLG_IN_REQUEST, &start, NULL);
	ck_assert_str_eq(o.form.group_list, "");
	ck_assert_int_eq(step(&d, &plain, DLG_IN_REQUEST, &eng, NULL).kind, DLG_OUT_START);
	o = ok_with(&d, &plain, "staff");
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert_ptr_null(o.group);
	/* A certificate alone: its groups decide. */
	cp = gp;
	cp.cert = DLG_CERT_REQUIRED;
	init = req_group(NULL, NULL, "staff");
	snprintf(init.u.auth_req.cert_user, sizeof(init.u.auth_req.cert_user), "carol");
	snprintf(init.u.auth_req.cert_groups, sizeof(init.u.auth_req.cert_groups), "staff");
	dlg_init(&d);
	o = step(&d, &cp, DLG_IN_REQUEST, &init, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_GRANT);
	ck_assert(o.cert_only);
	ck_assert_str_eq(o.group, "staff");
	snprintf(init.u.auth_req.group, sizeof(init.u.auth_req.group), "eng");
	dlg_init(&d);
	o = step(&d, &cp, DLG_IN_REQUEST, &init, NULL);
	ck_assert_int_eq(o.kind, DLG_OUT_END);
	ck_assert(!o.cert_only);
}
END_TEST

START_TEST(test_group_form_and_keys)
{
	struct ipc_form f = {.n = 1};
	char buf[4096], err[CFG_ERR_LEN];
	struct cfg c;

	f.in[0] = (struct ipc_input){IPC_INPUT_PASSWORD, "password", "Password:"};
	strcpy(f.group_list, "staff,eng");
	strcpy(f.group_sel, "eng");
	ck_assert_int_gt(authxml_write_dialog(buf, sizeof(buf), &f), 0);
	ck_assert_ptr_nonnull(strstr(buf, "<select name=\"group_list\" label=\"GROUP:\">\n"
					  "<option value=\"staff\">staff</option>\n"
					  "<option value=\"eng\" selected=\"true\">eng</option>\n"
					  "</select>\n<input type=\"password\""));
	f.group_list[0] = '\0';
	ck_assert_int_gt(authxml_write_dialog(buf, sizeof(buf), &f), 0);
	ck_assert_ptr_null(strstr(buf, "<select"));
	ck_assert_int_eq(cfg_load_string(BASE "auth = { password-file = \"p\"; group-select = "
					      "true; group-list = \"staff,eng\"; };\n",
					 "t.conf", &c, err, sizeof(err)),
			 0);
	ck_assert(c.auth_group_select);
	ck_assert_str_eq(c.auth_group_list, "staff,eng");
	cfg_free(&c);
	ck_assert_int_eq(load("auth = { password-file = \"p\"; group-select = true; };", err), -1);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:3: auth.group-select needs auth.group-list"));
	ck_assert_int_eq(load("auth = { password-file = \"p\"; group-list = \"a,,b\"; };", err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:3: auth.group-list: expected group names"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dialog");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tries);
	tcase_add_test(tc, test_second_step);
	tcase_add_test(tc, test_certificates);
	tcase_add_test(tc, test_formenc);
	tcase_add_test(tc, test_xml_answers_and_forms);
	tcase_add_test(tc, test_totp);
	tcase_add_test(tc, test_config_keys);
	tcase_add_test(tc, test_grouplist);
	tcase_add_test(tc, test_grouplist_first);
	tcase_add_test(tc, test_group_choice);
	tcase_add_test(tc, test_group_form_and_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
