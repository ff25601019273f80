/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Client certificates (see cert.h): run by the master when it builds the
 * credentials workers inherit, and by the workers (unprivileged, after
 * the handshake) to read who a client is.  Owns nothing.  The chain is
 * checked by GnuTLS against the CA and CRL in the credentials; the master
 * takes the worker's word for the result (daemon/logins.c), so only what
 * passed that check is ever reported. */
#include "config.h"
#include "worker/cert.h"

#include <stdio.h>
#include <string.h>
#include <gnutls/x509.h>

#include "common/passwd.h"

int cert_cred_apply(gnutls_certificate_credentials_t cred, const gnutls_datum_t *ca,
		    const gnutls_datum_t *crl, const char **what)
{
	int r;

	*what = "auth.ca";
	r = gnutls_certificate_set_x509_trust_mem(cred, ca, GNUTLS_X509_FMT_PEM);
	if (r == 0)
		return GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (r < 0 || !crl)
		return r < 0 ? r : 0;
	*what = "auth.crl";
	r = gnutls_certificate_set_x509_crl_mem(cred, crl, GNUTLS_X509_FMT_PEM);
	return r < 0 ? r : 0;
}

/* The OID a field name stands for, or the name itself (a dotted OID). */
static const char *oid_of(const char *field)
{
	static const struct {
		const char *name, *oid;
	} names[] = {{"CN", GNUTLS_OID_X520_COMMON_NAME},
		     {"UID", GNUTLS_OID_LDAP_UID},
		     {"email", GNUTLS_OID_PKCS9_EMAIL},
		     {"OU", GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME},
		     {"O", GNUTLS_OID_X520_ORGANIZATION_NAME}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, field))
			return names[i].oid;
	return field;
}

/* Value idx of field in crt's subject (email: else the first rfc822Name
 * of the subjectAltName).  0, or -1 when there is none. */
static int field_value(gnutls_x509_crt_t crt, const char *field, unsigned idx, char *out,
		       size_t cap)
{
	size_t n = cap;
	unsigned type;

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid_of(field), idx, 0, out, &n) == 0)
		return 0;
	if (strcmp(field, "email") || idx)
		return -1;
	for (unsigned i = 0; i < 16; i++) {
		n = cap;
		int r = gnutls_x509_crt_get_subject_alt_name2(crt, i, out, &n, &type, NULL);
		if (r < 0)
			return -1;
		if (type == GNUTLS_SAN_RFC822NAME)
			return 0;
	}
	return -1;
}

/* Group names go into a comma-separated list: a value that would break it
 * is left out. */
static void add_groups(gnutls_x509_crt_t crt, const char *field, char *groups, size_t gcap)
{
	char v[128];
	size_t len = 0;

	groups[0] = '\0';
	for (unsigned i = 0; field && i < 32 && field_value(crt, field, i, v, sizeof(v)) == 0;
	     i++) {
		if (!passwd_valid_user(v) || len + strlen(v) + 2 > gcap)
			continue;
		len += (size_t)snprintf(groups + len, gcap - len, "%s%s", len ? "," : "", v);
	}
}

int cert_identity(gnutls_session_t s, const char *user_field, const char *group_field, char *user,
		  size_t ucap, char *groups, size_t gcap, const char **why)
{
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	unsigned n = 0, status = 0;
	int r = -1;

	user[0] = groups[0] = '\0';
	chain = gnutls_certificate_get_peers(s, &n);
	if (!chain || n == 0)
		return 0;
	*why = "it does not verify against auth.ca (unknown CA, expired or revoked)";
	if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	*why = "it cannot be read";
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0)
		goto out;
	*why = "it has no valid user name in auth.cert-user-field";
	if (field_value(crt, user_field, 0, user, ucap) < 0 || !passwd_valid_user(user)) {
		user[0] = '\0';
		goto out;
	}
	add_groups(crt, group_field, groups, gcap);
	r = 1;
out:
	gnutls_x509_crt_deinit(crt);
	return r;
}
