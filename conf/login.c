/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration: the checks of the login dialogue's keys (auth.max-tries'
 * texts, banners, PAM, client certificates, group choice), which only make
 * sense together; each refusal names FILE:LINE. */
#include <config.h>
#include "conf/keys.h"

#include <stdbool.h>
#include <string.h>

#include "common/grouplist.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The line of key path (its own, else its group's). */
static unsigned key_line(config_t *lc, const char *path)
{
	const config_setting_t *s = config_lookup(lc, path);

	return s ? (unsigned)config_setting_source_line(s) : cfg_enclosing_line(lc, path);
}

/* Text the login shows: at most max - 1 bytes, no control character but
 * LF where lf_ok (it goes into XML, or an HTTP header where not). */
static int check_text(struct cfg_ctx *x, config_t *lc, const char *path, const char *v, size_t max,
		      bool lf_ok)
{
	if (!v)
		return 0;
	if (strlen(v) >= max)
		return cfg_fail_line(x, key_line(lc, path), "%s: longer than %zu bytes", path,
				     max - 1);
	for (const char *p = v; *p; p++)
		if (((unsigned char)*p < 0x20 && !(lf_ok && *p == '\n')) || *p == 0x7f)
			return cfg_fail_line(
			    x, key_line(lc, path), "%s: control character at offset %zu%s", path,
			    (size_t)(p - v), lf_ok ? " (only \\n may be used)" : "");
	return 0;
}

/* A certificate field: a name we know or a dotted OID (NULL: none). */
static bool cert_field_ok(const char *f)
{
	static const char *const names[] = {"CN", "UID", "email", "OU", "O"};
	size_t n;

	if (!f)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(f, names[i]))
			return true;
	n = strlen(f);
	return n > 2 && n < 32 && strspn(f, "0123456789.") == n && f[0] != '.' && f[n - 1] != '.' &&
	       !strstr(f, "..");
}

/* Group choice: the list the first form offers. */
static int check_group_select(struct cfg_ctx *x, config_t *lc)
{
	const struct cfg *c = x->cfg;

	if (c->auth_group_list && !grouplist_ok(c->auth_group_list, GROUPLIST_LIST_MAX))
		return cfg_fail_line(x, key_line(lc, "auth.group-list"),
				     "auth.group-list: expected group names separated by commas "
				     "(each once, 1..%d of A-Z a-z 0-9 _ . -; %d bytes in all), "
				     "got \"%s\"",
				     GROUPLIST_NAME_MAX - 1, GROUPLIST_LIST_MAX - 1,
				     c->auth_group_list);
	if (c->auth_group_select && !c->auth_group_list)
		return cfg_fail_line(x, key_line(lc, "auth.group-select"),
				     "auth.group-select needs auth.group-list (the groups the "
				     "login form lists)");
	return 0;
}

/* The dialogue's texts and the certificate settings. */
int cfg_check_login(struct cfg_ctx *x, config_t *lc)
{
	const struct cfg *c = x->cfg;
	const char *m = c->auth_certificate;

	if (check_text(x, lc, "auth.failure-message", c->auth_failure_message, 96, false) < 0 ||
	    check_text(x, lc, "pre-login-banner", c->pre_login_banner, 512, true) < 0 ||
	    check_text(x, lc, "banner", c->banner, 512, false) < 0 ||
	    check_text(x, lc, "auth.pam-service", c->pam_service, 64, false) < 0)
		return -1;
	if (c->pam_service && strchr(c->pam_service, '/'))
		return cfg_fail_line(x, key_line(lc, "auth.pam-service"),
				     "auth.pam-service: a service name (a file in /etc/pam.d), "
				     "not a path: \"%s\"",
				     c->pam_service);
	if (m && strcmp(m, "optional") && strcmp(m, "required") && strcmp(m, "password"))
		return cfg_fail_line(x, key_line(lc, "auth.cert-mode"),
				     "auth.cert-mode: expected \"optional\", \"required\" or "
				     "\"password\", got \"%s\"",
				     m);
	if (m && strcmp(m, "optional") && !c->auth_ca)
		return cfg_fail_line(x, key_line(lc, "auth.cert-mode"),
				     "auth.cert-mode = \"%s\" needs auth.ca (the CA that "
				     "issues the clients' certificates)",
				     m);
	if (!cert_field_ok(c->auth_cert_user_field) || !cert_field_ok(c->auth_cert_group_field))
		return cfg_fail_line(
		    x,
		    key_line(lc, cert_field_ok(c->auth_cert_user_field) ? "auth.cert-group-field"
									: "auth.cert-user-field"),
		    "%s: expected \"CN\", \"UID\", \"email\", \"OU\", \"O\" or a "
		    "dotted OID such as \"2.5.4.45\"",
		    cert_field_ok(c->auth_cert_user_field) ? "auth.cert-group-field"
							   : "auth.cert-user-field");
	if (c->auth_crl && !c->auth_ca)
		return cfg_fail_line(x, key_line(lc, "auth.crl"),
				     "auth.crl needs auth.ca: a CRL lists certificates of a CA");
	return check_group_select(x, lc);
}
