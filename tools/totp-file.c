/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-passwd --totp / --no-totp: the TOTP secrets file beside the
 * password file (common/totp.h), edited the way the password file is:
 * FILE.totp.tmp, created exclusively, is the lock and the new copy, which
 * replaces the file (mode 0600).  Run by an administrator. */
#include "config.h"
#include "tools/totp-file.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/totp.h"

extern char **environ;

#define MAX_TOTP_FILE (4u << 20)

static int fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	return -1;
}

/* The file's text without user's line(s), in a new buffer (may be ""). */
static char *without_user(const char *path, const char *user, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t cap = 1, n = 0, ul = strlen(user);
	char line[512], *out = calloc(1, 1), *grown;

	if (!out)
		return NULL;
	if (!f) {
		if (errno == ENOENT)
			return out;
		fail(err, errlen, "cannot open", path, errno);
		free(out);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		if (!strncmp(line, user, ul) && line[ul] == ':')
			continue;
		if (n + l + 1 > cap) {
			cap = (n + l + 1) * 2;
			if (cap > MAX_TOTP_FILE || !(grown = realloc(out, cap)))
				break;
			out = grown;
		}
		memcpy(out + n, line, l + 1);
		n += l;
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return out;
}

int totp_file_set(const char *passwd_path, const char *user, const char *secret, char *err,
		  size_t errlen)
{
	char path[4096], tmp[4200];
	char *text;
	FILE *f;
	int fd, r = -1;

	if (totp_path(passwd_path, path, sizeof(path)) < 0)
		return fail(err, errlen, "path too long:", passwd_path, ENAMETOOLONG);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(err, errlen,
			    errno == EEXIST ? "locked (remove it if no run is under way):"
					    : "cannot create",
			    tmp, errno);
	text = without_user(path, user, err, errlen);
	f = text ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs(text, f);
		if (text[0] && text[strlen(text) - 1] != '\n')
			fputc('\n', f);
		if (secret)
			fprintf(f, "%s:%s\n", user, secret);
		r = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
		if (fclose(f) != 0)
			r = -1;
		if (r < 0)
			fail(err, errlen, "cannot write", tmp, errno);
		else if (rename(tmp, path) < 0)
			r = fail(err, errlen, "cannot replace", path, errno);
	} else {
		if (text)
			fail(err, errlen, "cannot write", tmp, errno);
		close(fd);
	}
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The URI an authenticator app takes (Google's "Key Uri Format"). */
int totp_uri(const char *user, const char *secret, char *out, size_t cap)
{
	char label[3 * 64 + 1];
	size_t n = 0;
	int w;

	for (const char *p = user; *p && n + 4 < sizeof(label); p++) {
		if (*p == '@')
			n += (size_t)snprintf(label + n, sizeof(label) - n, "%%40");
		else
			label[n++] = *p;
	}
	label[n] = '\0';
	w = snprintf(out, cap,
		     "otpauth://totp/tunneld:%s?secret=%s&issuer=tunneld&algorithm=SHA1&digits=%d"
		     "&period=%d",
		     label, secret, TOTP_DIGITS, TOTP_STEP);
	return w < 0 || (size_t)w >= cap ? -1 : 0;
}

void totp_print_qr(const char *uri)
{
	char *argv[] = {"qrencode", "-t", "ANSIUTF8", (char *)uri, NULL};
	pid_t pid;
	int st;

	fflush(stdout);
	if (posix_spawnp(&pid, "qrencode", NULL, NULL, argv, environ) != 0)
		return; /* not installed: the URI alone */
	(void)waitpid(pid, &st, 0);
}
