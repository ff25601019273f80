/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Client certificates (auth.ca, auth.crl, auth.cert-*-field): the CA and
 * CRL in the TLS credentials (master and workers build theirs the same
 * way), and the identity a worker reads from a client's certificate once
 * GnuTLS verified it. */
#ifndef TUNNELD_CERT_H
#define TUNNELD_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>

/* Trust ca (PEM) for client certificates and load crl (PEM, NULL: none)
 * into cred.  0, or a GnuTLS error code (*what names the part). */
int cert_cred_apply(gnutls_certificate_credentials_t cred, const gnutls_datum_t *ca,
		    const gnutls_datum_t *crl, const char **what);

/* The verified certificate of session s: its user (the value of
 * user_field: "CN", "UID", "email", "OU", "O" or a dotted OID) and groups
 * (group_field's values, comma-separated; NULL: none).  1 with the
 * identity, 0 when the client gave no certificate, -1 when it gave one
 * that does not verify or names no valid user (*why says which). */
int cert_identity(gnutls_session_t s, const char *user_field, const char *group_field, char *user,
		  size_t ucap, char *groups, size_t gcap, const char **why);

#endif
