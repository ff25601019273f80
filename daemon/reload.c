/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the reload transaction (see reload.h).  Owns a struct
 * reload_set between load and discard, nothing else; the live config
 * belongs to master.c, the password db to auth.c, the credentials to
 * slots.c. */
#include "config.h"
#include "daemon/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/passwd.h"
#include "daemon/selfcert.h"
#include "daemon/wchan.h"

/* Read a whole (small) file: certificates and keys for the workers. */
static int slurp(const char *path, char **buf, size_t *len)
{
	char *b = malloc(IPC_TLS_MAX / 3);
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !b) {
		int r = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		free(b);
		return r;
	}
	while ((n = read(fd, b + got, IPC_TLS_MAX / 3 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (n < 0 || got == IPC_TLS_MAX / 3) {
		explicit_bzero(b, got);
		free(b);
		return n < 0 ? -errno : -EFBIG;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* The certificate and key as bytes (the workers get them) and as GnuTLS
 * credentials, and the priorities.  0, or -1 logged. */
static int load_tls(struct reload_set *rs, const char *path)
{
	const struct cfg *nc = &rs->cfg;
	const char *errpos = NULL;
	int r;

	if ((r = slurp(nc->tls_certificate, &rs->cert, &rs->clen)) < 0 ||
	    (r = slurp(nc->tls_key, &rs->key, &rs->klen)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.certificate %s / tls.key %s: %s",
			path, nc->tls_certificate, nc->tls_key, strerror(-r));
		return -1;
	}
	gnutls_datum_t cd = {(unsigned char *)rs->cert, (unsigned)rs->clen};
	gnutls_datum_t kd = {(unsigned char *)rs->key, (unsigned)rs->klen};
	if ((r = gnutls_certificate_allocate_credentials(&rs->cred)) < 0 ||
	    (r = gnutls_certificate_set_x509_key_mem2(rs->cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL,
						      0)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.certificate %s / tls.key %s: %s",
			path, nc->tls_certificate, nc->tls_key, gnutls_strerror(r));
		return -1;
	}
	if ((r = gnutls_priority_init2(&rs->prio, nc->tls_priorities, &errpos, 0)) < 0) {
		log_err("reload failed, nothing changed: %s: tls.priorities: %s near '%s'", path,
			gnutls_strerror(r), errpos ? errpos : "");
		return -1;
	}
	return 0;
}

int reload_load(struct reload_set *rs, const struct cfg *live, const char *path, bool daemon)
{
	char err[CFG_ERR_LEN];

	memset(rs, 0, sizeof(*rs));
	if (cfg_load(path, &rs->cfg, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		return -1;
	}
	if (selfcert_setup(&rs->cfg, err, sizeof(err)) < 0 ||
	    passwd_db_load(rs->cfg.password_file, &rs->pw, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		goto fail;
	}
	if (passwd_db_warning(rs->pw))
		log_warn("%s: %s", rs->cfg.password_file, passwd_db_warning(rs->pw));
	if (load_tls(rs, path) < 0)
		goto fail;
	if (strcmp(rs->cfg.log_destination, live->log_destination) &&
	    log_set_destination(rs->cfg.log_destination, daemon) < 0) {
		log_err("reload failed, nothing changed: log.destination %s: cannot open",
			rs->cfg.log_destination);
		goto fail;
	}
	return 0;
fail:
	reload_discard(rs);
	return -1;
}

/* Settings that need a restart keep their running values in the new
 * config; each one that changed is named in the log. */
static void keep_restart_only(struct cfg *live, struct cfg *nc)
{
	size_t i, n = cfg_key_count();

	for (i = cfg_key_next_diff(live, nc, 0); i < n; i = cfg_key_next_diff(live, nc, i + 1))
		if (!cfg_key_reloadable(i))
			log_warn("reload: %s changed; restart tunneld to apply it",
				 cfg_key_name(i));
	cfg_keep_restart_only(nc, live);
}

void reload_commit_cfg(struct reload_set *rs, struct cfg *live)
{
	size_t i, n = cfg_key_count();

	for (i = cfg_key_next_diff(live, &rs->cfg, 0); i < n;
	     i = cfg_key_next_diff(live, &rs->cfg, i + 1))
		if (cfg_key_reloadable(i))
			log_info("reload: %s changed", cfg_key_name(i));
	keep_restart_only(live, &rs->cfg);
	cfg_free(live);
	*live = rs->cfg;
	memset(&rs->cfg, 0, sizeof(rs->cfg));
	log_set_level((int)live->log_level);
}

/* Send the new certificate, key and priorities to every worker: each
 * loads them for new handshakes; tunnels keep theirs. */
static void push_tls(const char *cert, size_t clen, const char *key, size_t klen, const char *prio,
		     unsigned n)
{
	size_t plen = strlen(prio), total = sizeof(struct ipc_tls) + clen + klen + plen;
	struct ipc_tls h = {IPC_TLS, (uint32_t)clen, (uint32_t)klen, (uint32_t)plen};
	char *m = malloc(total);
	unsigned i;
	int r;

	if (!m)
		return;
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), cert, clen);
	memcpy(m + sizeof(h) + clen, key, klen);
	memcpy(m + sizeof(h) + clen + klen, prio, plen);
	for (i = 0; i < n; i++)
		if ((r = wchan_send_raw(i, m, total)) < 0 && r != -ENOTCONN)
			log_warn("worker %u: new certificate not delivered: %s", i, strerror(-r));
	explicit_bzero(m, total);
	free(m);
}

/* The settings workers use, packed by the config table (KEY_WORKER rows). */
static int settings_msg(struct ipc_msg *m, const struct cfg *cfg)
{
	int n;

	memset(m, 0, sizeof(*m));
	m->type = IPC_SETTINGS;
	n = cfg_settings_pack(cfg, m->u.settings.blob, sizeof(m->u.settings.blob));
	if (n < 0)
		return log_errno(n, "settings for the workers");
	m->u.settings.len = (uint32_t)n;
	return 0;
}

void reload_push(const struct reload_set *rs, const struct cfg *live, unsigned n)
{
	struct ipc_msg m;

	push_tls(rs->cert, rs->clen, rs->key, rs->klen, live->tls_priorities, n);
	if (settings_msg(&m, live) == 0)
		for (unsigned w = 0; w < n; w++)
			wchan_send(w, &m);
}

void reload_discard(struct reload_set *rs)
{
	cfg_free(&rs->cfg);
	passwd_db_free(rs->pw);
	if (rs->cred)
		gnutls_certificate_free_credentials(rs->cred);
	if (rs->prio)
		gnutls_priority_deinit(rs->prio);
	if (rs->key)
		explicit_bzero(rs->key, rs->klen);
	free(rs->cert);
	free(rs->key);
	memset(rs, 0, sizeof(*rs));
}
