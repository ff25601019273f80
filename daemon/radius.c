/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS set-up (see radius.h).  The secret stays in the
 * master and in the processes that need it (RADIUS hashing processes,
 * the accounting process); workers and the key process wipe it.
 *
 * Why a prison of its own: radcli names the server's port by service
 * ("radius", "radacct") when it resolves the server's address, so glibc
 * reads /etc/services at every request; the workers' empty prison has
 * none, and the processes must not see the real /etc.  Their prison holds
 * etc/services with those two lines, written here, and nothing else. */
#include "config.h"
#include "daemon/radius.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <radcli/radcli.h>

#include "common/log.h"
#include "daemon/fsutil.h"
#include "daemon/radclient.h"

#define PRISON_DIR RUNSTATEDIR "/tunneld/radius"
#define SECRET_MAX 95 /* what radcli keeps (MAX_SECRET_LENGTH - 1) */

static const char services[] = "# written by tunneld: the ports radcli names\n"
			       "radius\t\t1812/udp\n"
			       "radacct\t\t1813/udp\n";

static struct {
	const struct cfg *cfg;
	char secret[SECRET_MAX + 1];
	rc_handle *dict;
	const char *prison;
} R;

bool radius_on(void)
{
	return R.cfg && R.cfg->n_radius_auth;
}

const char *radius_secret(void)
{
	return R.secret;
}

struct rc_conf *radius_dict(void)
{
	return R.dict;
}

const char *radius_prison(void)
{
	return R.prison;
}

/* The secret: the file's first line, 1..95 printable characters with no
 * blank or comma (radcli's server lists are split at those).  0, or -1
 * logged. */
static int read_secret(const char *path)
{
	char buf[256];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		log_err("radius.secret-file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		log_err("radius.secret-file %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] == ',' || buf[i] == 0x7f)
			len = 0; /* refused below */
	if (len == 0 || len > SECRET_MAX) {
		explicit_bzero(buf, sizeof(buf));
		log_err("radius.secret-file %s: the first line must be the secret, 1..%d printable "
			"characters without blanks or commas",
			path, SECRET_MAX);
		return -1;
	}
	if (st.st_mode & 044)
		log_warn("radius.secret-file %s is readable by others than its owner: chmod 600 it",
			 path);
	memcpy(R.secret, buf, len + 1);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Whether the prison's etc/services is ours already: root's, 0644, the
 * lines above. */
static bool services_ok(void)
{
	char buf[sizeof(services) + 1];
	struct stat st;
	ssize_t n;
	int fd = open(PRISON_DIR "/etc/services", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = fstat(fd, &st) < 0 ? -1 : read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)sizeof(services) - 1 && !memcmp(buf, services, (size_t)n) &&
	       st.st_uid == 0 && (st.st_mode & 07777) == 0644;
}

/* PRISON_DIR/etc/services as above: root-owned, not writable by others. */
static int make_prison(void)
{
	char tmp[] = PRISON_DIR "/etc/services.XXXXXX";
	struct stat st;
	int fd;

	if (geteuid() != 0)
		return 0; /* a test run as a user: not confined */
	(void)mkdir_parents(PRISON_DIR "/etc", 0755);
	(void)mkdir(PRISON_DIR "/etc", 0755);
	if (stat(PRISON_DIR, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022) ||
	    stat(PRISON_DIR "/etc", &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		log_err("%s must be a root-owned directory not writable by others", PRISON_DIR);
		return -1;
	}
	R.prison = PRISON_DIR;
	if (services_ok())
		return 0; /* as written before, by this server or another one */
	/* A name of its own: servers starting side by side do not clash. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || write(fd, services, sizeof(services) - 1) != sizeof(services) - 1 ||
	    fchmod(fd, 0644) < 0 || close(fd) < 0 || rename(tmp, PRISON_DIR "/etc/services") < 0) {
		log_err("%s/etc/services: %s", PRISON_DIR, strerror(errno));
		if (fd >= 0)
			(void)unlink(tmp);
		R.prison = NULL;
		return -1;
	}
	return 0;
}

int radius_open(const struct cfg *cfg)
{
	char err[256] = "";
	struct rc_conf *test;

	R.cfg = cfg;
	if (!radius_on())
		return 0;
	if (read_secret(cfg->radius_secret_file) < 0 || make_prison() < 0)
		return -1;
	/* The processes open theirs after fork; this one proves it works. */
	test = radclient_open(cfg, R.secret, err, sizeof(err));
	if (!test) {
		log_err("%s: %s", cfg->path, err);
		return -1;
	}
	radclient_close(test);
	R.dict = rc_new();
	if (R.dict && !rc_config_init(R.dict))
		R.dict = NULL; /* rc_config_init freed it */
	if (!R.dict || rc_read_dictionary(R.dict, cfg->radius_dictionary) < 0) {
		log_err("radius.dictionary %s: radcli cannot read it", cfg->radius_dictionary);
		radius_forget();
		return -1;
	}
	log_info("RADIUS: %u authentication server(s), accounting %s, Disconnect/CoA on %u "
		 "address(es)",
		 cfg->n_radius_auth, cfg->radius_accounting ? "on" : "off", cfg->n_radius_coa);
	return 0;
}

struct rc_conf *radius_client(void)
{
	char err[256] = "";

	return radius_on() ? radclient_open(R.cfg, R.secret, err, sizeof(err)) : NULL;
}

void radius_forget(void)
{
	explicit_bzero(R.secret, sizeof(R.secret));
	if (R.dict)
		rc_destroy(R.dict);
	R.dict = NULL;
}

void radius_close(void)
{
	radius_forget();
	R.cfg = NULL;
}
