/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): SIGHUP as a transaction.  Everything new is loaded off to
 * the side into a struct reload_set: the config, the self-signed
 * certificate when one is due, the password db and the TLS material.  On
 * any error the reason is logged and nothing changes; otherwise the master
 * commits each part to its owner and the workers are sent the new TLS
 * material and settings.  Tunnels keep running throughout. */
#ifndef TUNNELD_RELOAD_H
#define TUNNELD_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>

#include "conf/config.h"

struct passwd_db;

struct reload_set {
	struct cfg cfg;
	struct passwd_db *pw;
	char *cert, *key; /* the PEM files' bytes, for the workers */
	size_t clen, klen;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

/* Load the config at path and all it names into *rs.  Switches the log
 * destination last if it changed: nothing can fail after that step.  0;
 * or -1 with the reason logged, *rs left empty and nothing changed. */
int reload_load(struct reload_set *rs, const struct cfg *live, const char *path, bool daemon);

/* Commit the config: the changes are logged, settings that need a restart
 * keep their running values (each changed one is named), *live becomes
 * the new config and the log level applies. */
void reload_commit_cfg(struct reload_set *rs, struct cfg *live);

/* Send the n workers the TLS material of rs and the settings of live. */
void reload_push(const struct reload_set *rs, const struct cfg *live, unsigned n);

/* Free what *rs holds: what was not committed, or what the commit put
 * there in exchange (the old password db and credentials). */
void reload_discard(struct reload_set *rs);

#endif
