/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A PAM module for tests/e2e/login-pam.sh only (built by the test, never
 * installed): accounts whose password has expired.  dir=DIR holds, per
 * user, DIR/USER (the password, plain text: test data) and DIR/USER.expired
 * while it must be changed.  auth checks the password; account says
 * PAM_NEW_AUTHTOK_REQD while the mark is there; password asks the new
 * password twice, each in a prompt of its own, and stores it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

static const char *dir_of(int argc, const char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			return argv[i] + 4;
	return NULL;
}

static int path_of(pam_handle_t *ph, int argc, const char **argv, const char *ext, char *out,
		   size_t cap)
{
	const char *user = NULL, *dir = dir_of(argc, argv);

	if (!dir || pam_get_user(ph, &user, NULL) != PAM_SUCCESS || !user || strchr(user, '/'))
		return -1;
	return snprintf(out, cap, "%s/%s%s", dir, user, ext) < (int)cap ? 0 : -1;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *ph, int flags, int argc, const char **argv)
{
	char path[512], want[256] = "";
	const char *got = NULL;
	FILE *f;

	(void)flags;
	if (path_of(ph, argc, argv, "", path, sizeof(path)) < 0 || !(f = fopen(path, "r")))
		return PAM_USER_UNKNOWN;
	if (!fgets(want, sizeof(want), f))
		want[0] = '\0';
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	if (pam_get_authtok(ph, PAM_AUTHTOK, &got, NULL) != PAM_SUCCESS || !got)
		return PAM_AUTH_ERR;
	return want[0] && !strcmp(got, want) ? PAM_SUCCESS : PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *ph, int flags, int argc, const char **argv)
{
	(void)ph, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *ph, int flags, int argc, const char **argv)
{
	char path[512];

	(void)flags;
	if (path_of(ph, argc, argv, ".expired", path, sizeof(path)) < 0)
		return PAM_USER_UNKNOWN;
	return access(path, F_OK) == 0 ? PAM_NEW_AUTHTOK_REQD : PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *ph, int flags, int argc, const char **argv)
{
	char path[512], mark[512];
	char *a = NULL, *b = NULL;
	int r = PAM_AUTHTOK_ERR;
	FILE *f;

	if (flags & PAM_PRELIM_CHECK)
		return PAM_SUCCESS;
	if (path_of(ph, argc, argv, "", path, sizeof(path)) < 0 ||
	    path_of(ph, argc, argv, ".expired", mark, sizeof(mark)) < 0)
		return PAM_USER_UNKNOWN;
	if (pam_prompt(ph, PAM_PROMPT_ECHO_OFF, &a, "New password: ") != PAM_SUCCESS || !a ||
	    pam_prompt(ph, PAM_PROMPT_ECHO_OFF, &b, "Retype new password: ") != PAM_SUCCESS || !b)
		goto out;
	if (!a[0] || strcmp(a, b)) {
		pam_error(ph, "The passwords do not match.");
		goto out;
	}
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%s\n", a);
		if (fclose(f) == 0 && unlink(mark) == 0)
			r = PAM_SUCCESS;
	}
out:
	free(a);
	free(b);
	return r;
}
