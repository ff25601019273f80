/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): SIGHUP as a transaction.  Everything new is loaded off to
 * the side into a struct reload_set: the config, the self-signed
 * certificate when one is due, the password db and the TLS material (the
 * new key goes to the key process, uncommitted).  On
 * any error the reason is logged and nothing changes; otherwise the master
 * commits each part to its owner and the workers are sent the new TLS
 * material and settings.  Tunnels keep running throughout. */
#ifndef TUNNELD_RELOAD_H
#define TUNNELD_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#include "conf/config.h"

struct cookie_ring;
struct passwd_db;
struct totp_db;
struct services_set;

/* The TLS material of a start or a reload.  The private key is never
 * read here: its file is opened and passed to the key process. */
struct reload_tls {
	char *cert; /* the certificate file's bytes (PEM chain), for the workers */
	size_t clen;
	int key_fd;	/* tls.key, open; -1 once passed on */
	uint32_t gen;	/* the key's generation in the key process, 0: none */
	bool committed; /* the key process uses gen */
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	/* auth.ca and auth.crl's bytes (PEM), NULL for none: in cred, and
	 * for the workers. */
	char *ca, *crl;
	size_t calen, crllen;
};

struct reload_set {
	struct cfg cfg;
	struct passwd_db *pw;
	struct totp_db *totp; /* the password file's TOTP secrets (common/totp.h) */
	struct reload_tls tls;
	bool metrics_new;	  /* metrics.listen changed: metrics_fd takes over */
	int metrics_fd;		  /* its new socket, bound and listening; -1: none */
	struct cookie_ring *keys; /* session.cookie-key-file (cookies.h) */
	struct services_set *svc; /* daemon/services.c */
};

/* Read cfg's certificate and open its key, relative to the current
 * directory (before --daemon's chdir at start).  0, or -1 logged, lead
 * (the config file's path, or more) opening the line; nothing is kept. */
int reload_tls_open(struct reload_tls *t, const struct cfg *cfg, const char *lead);
/* Pass the key to the key process as a new generation (checked against
 * the certificate), and make the credentials and the priorities.  0, or
 * -1 logged as above. */
int reload_tls_load(struct reload_tls *t, const struct cfg *cfg, const char *lead);
/* Free t; a loaded key the key process has not committed is dropped. */
void reload_tls_free(struct reload_tls *t);

/* Load the config at path and all it names into *rs (a new metrics.listen
 * bound and listening too).  Switches the log
 * destination last if it changed: nothing can fail after that step.  0;
 * or -1 with the reason logged, *rs left empty and nothing changed. */
int reload_load(struct reload_set *rs, const struct cfg *live, const char *path, bool daemon);

/* Commit the config: the changes are logged, settings that need a restart
 * keep their running values (each changed one is named), *live becomes
 * the new config and the log level applies. */
void reload_commit_cfg(struct reload_set *rs, struct cfg *live);

/* Send the n workers the TLS material of rs (the certificate, the key's
 * generation, the priorities) and the settings of live. */
void reload_push(const struct reload_set *rs, const struct cfg *live, unsigned n);

/* Free what *rs holds: what was not committed, or what the commit put
 * there in exchange (the old password db and credentials). */
void reload_discard(struct reload_set *rs);

#endif
