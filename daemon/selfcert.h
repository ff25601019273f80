/* The server certificate when the config names none: a self-signed ECDSA
 * P-256 pair kept in the state directory, made by the master (root) on the
 * first start, and the pin clients need to trust it. */
#ifndef TUNNELD_SELFCERT_H
#define TUNNELD_SELFCERT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

/* LOCALSTATEDIR comes from Makefile.am; the fallback keeps other builds
 * compiling. */
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define SELFCERT_DIR	   LOCALSTATEDIR "/lib/tunneld"
#define SELFCERT_CERT_NAME "server-cert.pem"
#define SELFCERT_KEY_NAME  "server-key.pem"

/* "pin-sha256:" and 44 base64 characters: what openconnect --servercert
 * takes. */
#define SELFCERT_PIN_LEN 64

struct selfcert {
	bool self_signed;	    /* the config named no certificate */
	bool generated;		    /* a new pair was written just now */
	bool missing;		    /* self-signed, create was false, not there yet */
	char pin[SELFCERT_PIN_LEN]; /* "pin-sha256:BASE64", empty when missing */
};

/* When cfg names no certificate, set cfg->tls_certificate and cfg->tls_key
 * to DIR/server-cert.pem and DIR/server-key.pem; when create is true and
 * either is absent, make a new pair there first (DIR created mode 0700, the
 * key 0600; each file written to a temporary name and renamed).  Then read
 * the certificate in use (the first one of a chain) and compute its pin.
 * 0, or -errno with err holding the reason; cfg is unchanged on error. */
int selfcert_apply(struct cfg *cfg, const char *dir, bool create, struct selfcert *out, char *err,
		   size_t errlen);

/* The pin of the first certificate in a PEM file: base64 of the SHA-256 of
 * its DER SubjectPublicKeyInfo.  0 or -errno, with err set. */
int selfcert_pin_file(const char *cert_path, char *pin, size_t pinlen, char *err, size_t errlen);

/* The log lines for the outcome of selfcert_apply(): a new pair is
 * announced, and the certificate in use is always logged with its pin at
 * info level as "TLS certificate FILE: pin-sha256:...". */
void selfcert_log(const struct cfg *cfg, const struct selfcert *sc);

/* The master's call on reload: selfcert_apply() on SELFCERT_DIR (create
 * true), then selfcert_log().  0 or -errno with err set (not logged). */
int selfcert_setup(struct cfg *cfg, char *err, size_t errlen);

#endif
