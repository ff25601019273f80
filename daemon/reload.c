/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the reload transaction (see reload.h).  Owns a struct
 * reload_set between load and discard, nothing else; the live config
 * belongs to master.c, the password db to auth.c, the credentials to
 * slots.c, the key to the key process (keyproc.c).  The start-up loads
 * its TLS material with the same functions. */
#include "config.h"
#include "daemon/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/passwd.h"
#include "common/policy.h"
#include "daemon/cookies.h"
#include "common/totp.h"
#include "daemon/fsutil.h"
#include "daemon/httpd.h"
#include "daemon/keyproc.h"
#include "daemon/selfcert.h"
#include "daemon/services.h"
#include "daemon/wchan.h"
#include "worker/cert.h"
#include "worker/worker.h"

/* Read a whole (small) file: the certificate chain for the workers. */
static int slurp(const char *path, char **buf, size_t *len)
{
	char *b = malloc(IPC_TLS_MAX / 2);
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
	while ((n = read(fd, b + got, IPC_TLS_MAX / 2 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (n < 0 || got == IPC_TLS_MAX / 2) {
		free(b);
		return n < 0 ? -errno : -EFBIG;
	}
	*buf = b;
	*len = got;
	return 0;
}

int reload_tls_open(struct reload_tls *t, const struct cfg *cfg, const char *lead)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->key_fd = -1;
	if ((r = slurp(cfg->tls_certificate, &t->cert, &t->clen)) < 0) {
		log_err("%s: tls.certificate %s: %s", lead, cfg->tls_certificate, strerror(-r));
		return -1;
	}
	if (cfg->auth_ca && (r = slurp(cfg->auth_ca, &t->ca, &t->calen)) < 0) {
		log_err("%s: auth.ca %s: %s", lead, cfg->auth_ca, strerror(-r));
		reload_tls_free(t);
		return -1;
	}
	if (cfg->auth_crl && (r = slurp(cfg->auth_crl, &t->crl, &t->crllen)) < 0) {
		log_err("%s: auth.crl %s: %s", lead, cfg->auth_crl, strerror(-r));
		reload_tls_free(t);
		return -1;
	}
	if (t->clen + t->calen + t->crllen + 4096 > IPC_TLS_MAX) {
		log_err("%s: tls.certificate, auth.ca and auth.crl together are over %u bytes",
			lead, (unsigned)IPC_TLS_MAX - 4096);
		reload_tls_free(t);
		return -1;
	}
	t->key_fd = open(cfg->tls_key, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (t->key_fd < 0) {
		log_err("%s: tls.key %s: %s", lead, cfg->tls_key, strerror(errno));
		reload_tls_free(t);
		return -1;
	}
	return 0;
}

/* The key process signs for the workers and cannot decrypt: a client that
 * would pick static RSA key exchange would fail its handshake. */
static void warn_rsa_kx(const struct cfg *cfg, gnutls_priority_t prio)
{
	const unsigned *kx;
	int n = gnutls_priority_kx_list(prio, &kx);

	for (int i = 0; i < n; i++)
		if (kx[i] == GNUTLS_KX_RSA) {
			log_warn("tls.priorities allows the RSA key exchange, which the key "
				 "process does not serve (it only signs): add \":-RSA\" to \"%s\"",
				 cfg->tls_priorities);
			return;
		}
}

int reload_tls_load(struct reload_tls *t, const struct cfg *cfg, const char *lead)
{
	gnutls_datum_t cd = {(unsigned char *)t->cert, (unsigned)t->clen};
	const char *errpos = NULL;
	char err[256];
	int r;

	t->gen = keyproc_next_gen();
	r = keyproc_load(t->key_fd, &cd, t->gen, err, sizeof(err));
	close_fd(&t->key_fd);
	if (r < 0) {
		t->gen = 0;
		log_err("%s: tls.certificate %s / tls.key %s: %s", lead, cfg->tls_certificate,
			cfg->tls_key, err);
		return -1;
	}
	if ((r = keysign_cred(&cd, t->gen, &t->cred)) < 0) {
		log_err("%s: tls.certificate %s: %s", lead, cfg->tls_certificate,
			gnutls_strerror(r));
		return -1;
	}
	if (t->ca) {
		gnutls_datum_t ca = {(unsigned char *)t->ca, (unsigned)t->calen};
		gnutls_datum_t crl = {(unsigned char *)t->crl, (unsigned)t->crllen};
		const char *what;

		if ((r = cert_cred_apply(t->cred, &ca, t->crl ? &crl : NULL, &what)) < 0) {
			log_err("%s: %s %s: %s", lead, what,
				t->crl && !strcmp(what, "auth.crl") ? cfg->auth_crl : cfg->auth_ca,
				gnutls_strerror(r));
			return -1;
		}
	}
	if ((r = gnutls_priority_init2(&t->prio, cfg->tls_priorities, &errpos, 0)) < 0) {
		log_err("%s: tls.priorities: %s near '%s'", lead, gnutls_strerror(r),
			errpos ? errpos : "");
		return -1;
	}
	warn_rsa_kx(cfg, t->prio);
	return 0;
}

void reload_tls_free(struct reload_tls *t)
{
	if (t->gen && !t->committed)
		keyproc_drop(t->gen);
	close_fd(&t->key_fd);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	free(t->cert);
	free(t->ca);
	free(t->crl);
	memset(t, 0, sizeof(*t));
	t->key_fd = -1;
}

/* A new metrics.listen is bound before anything is committed: a port in
 * use fails the reload, not the endpoint. */
static int metrics_load(struct reload_set *rs, const struct cfg *live)
{
	const struct cfg *nc = &rs->cfg;
	int r;

	if (nc->have_metrics == live->have_metrics &&
	    (!nc->have_metrics ||
	     (nc->metrics_listen.sslen == live->metrics_listen.sslen &&
	      !memcmp(&nc->metrics_listen.ss, &live->metrics_listen.ss, nc->metrics_listen.sslen))))
		return 0;
	rs->metrics_new = true;
	if (nc->have_metrics && (r = httpd_listen(&nc->metrics_listen, &rs->metrics_fd)) < 0) {
		log_err("reload failed, nothing changed: metrics.listen %s: %s",
			nc->metrics_listen.text, strerror(-r));
		return -1;
	}
	return 0;
}

/* The password file's TOTP secrets (common/totp.h), beside it. */
static int load_totp(struct reload_set *rs)
{
	char tp[4096], err[CFG_ERR_LEN];

	if (totp_path(rs->cfg.password_file, tp, sizeof(tp)) < 0 ||
	    totp_db_load(tp, &rs->totp, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		return -1;
	}
	return 0;
}

int reload_load(struct reload_set *rs, const struct cfg *live, const char *path, bool daemon)
{
	char err[CFG_ERR_LEN];

	memset(rs, 0, sizeof(*rs));
	rs->tls.key_fd = -1;
	rs->metrics_fd = -1;
	if (cfg_load(path, &rs->cfg, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		return -1;
	}
	/* The RADIUS keys need a restart: a reload that moves logins to or
	 * from RADIUS would leave them with neither. */
	if (!rs->cfg.n_radius_auth != !live->n_radius_auth) {
		log_err("reload failed, nothing changed: %s: logins move %s RADIUS "
			"(radius.auth-servers): restart tunneld for that",
			path, live->n_radius_auth ? "away from" : "to");
		cfg_free(&rs->cfg);
		return -1;
	}
	if (selfcert_setup(&rs->cfg, err, sizeof(err)) < 0 ||
	    (rs->cfg.password_file
		 ? passwd_db_load(rs->cfg.password_file, &rs->pw, err, sizeof(err))
		 : passwd_db_parse("", 0, "(none)", &rs->pw, err, sizeof(err))) < 0) {
		log_err("reload failed, nothing changed: %s", err);
		goto fail;
	}
	if (passwd_db_warning(rs->pw))
		log_warn("%s: %s", rs->cfg.password_file, passwd_db_warning(rs->pw));
	if (cookies_load(&rs->cfg, &rs->keys, err, sizeof(err)) < 0) {
		log_err("reload failed, nothing changed: session.cookie-key-file %s", err);
		goto fail;
	}
	if (rs->cfg.password_file && load_totp(rs) < 0)
		goto fail;
	snprintf(err, sizeof(err), "reload failed, nothing changed: %s", path);
	if (reload_tls_open(&rs->tls, &rs->cfg, err) < 0 ||
	    reload_tls_load(&rs->tls, &rs->cfg, err) < 0 || metrics_load(rs, live) < 0 ||
	    !(rs->svc = services_load(&rs->cfg, err)))
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
	log_set_json(live->log_format == LOG_FMT_JSON);
}

/* Send the new certificate, its key's generation and the priorities to
 * every worker: each loads them for new handshakes; tunnels keep theirs.
 * The key itself stays in the key process. */
static void push_tls(const struct reload_tls *t, const struct cfg *cfg, unsigned n)
{
	const char *prio = cfg->tls_priorities;
	size_t plen = strlen(prio),
	       total = sizeof(struct ipc_tls) + t->clen + plen + t->calen + t->crllen;
	struct ipc_tls h = {IPC_TLS,
			    (uint32_t)t->clen,
			    t->gen,
			    (uint32_t)plen,
			    (uint32_t)t->calen,
			    (uint32_t)t->crllen,
			    "",
			    ""};
	char *m = malloc(total);
	unsigned i;
	int r;

	if (!m)
		return;
	snprintf(h.user_field, sizeof(h.user_field), "%s", cfg->auth_cert_user_field);
	snprintf(h.group_field, sizeof(h.group_field), "%s",
		 cfg->auth_cert_group_field ? cfg->auth_cert_group_field : "");
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), t->cert, t->clen);
	memcpy(m + sizeof(h) + t->clen, prio, plen);
	if (t->calen)
		memcpy(m + sizeof(h) + t->clen + plen, t->ca, t->calen);
	if (t->crllen)
		memcpy(m + sizeof(h) + t->clen + plen + t->calen, t->crl, t->crllen);
	for (i = 0; i < n; i++)
		if ((r = wchan_send_raw(i, m, total)) < 0 && r != -ENOTCONN)
			log_warn("worker %u: new certificate not delivered: %s", i, strerror(-r));
	free(m);
}

/* The groups' routes, DNS servers and traffic rules (common/policy.h),
 * for the workers' new tunnels. */
static void push_policy(const struct cfg *cfg, unsigned n)
{
	size_t cap = policy_packed_size(cfg);
	uint32_t type = IPC_POLICY;
	uint8_t *m = malloc(cap);
	int len, r;

	if (!m) {
		log_err("the groups' policy for the workers: out of memory");
		return;
	}
	len = policy_pack(cfg, m, cap);
	if (len < 0) {
		log_errno(len, "the groups' policy for the workers");
		free(m);
		return;
	}
	memcpy(m, &type, sizeof(type));
	for (unsigned w = 0; w < n; w++)
		if ((r = wchan_send_raw(w, m, (size_t)len)) < 0 && r != -ENOTCONN)
			log_warn("worker %u: new groups' policy not delivered: %s; its new tunnels "
				 "keep the old one",
				 w, strerror(-r));
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

	push_tls(&rs->tls, live, n);
	if (settings_msg(&m, live) == 0)
		for (unsigned w = 0; w < n; w++)
			wchan_send(w, &m);
	push_policy(live, n);
}

void reload_discard(struct reload_set *rs)
{
	cfg_free(&rs->cfg);
	passwd_db_free(rs->pw);
	totp_db_free(rs->totp);
	reload_tls_free(&rs->tls);
	close_fd(&rs->metrics_fd);
	cookies_free(rs->keys);
	services_discard(rs->svc);
	memset(rs, 0, sizeof(*rs));
	rs->tls.key_fd = -1;
	rs->metrics_fd = -1;
}
