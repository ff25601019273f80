/* Self-signed server certificate: run by the master (root) before it loads
 * its TLS credentials, at start and on every reload.  Owns the files
 * server-cert.pem and server-key.pem in the state directory; writes them
 * only when the config names no certificate and they are not there yet, so
 * the pin that clients were given stays valid across restarts.  A new pair
 * is made in a child process: the master never holds a private key. */
#include "config.h"
#include "daemon/selfcert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/log.h"

#define VALID_DAYS  3652 /* ten years */
#define SERIAL_SIZE 16

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int r,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* GnuTLS's error codes are negative but no errno. */
static int gnutls_fail(char *err, size_t errlen, int g, const char *what)
{
	return fail(err, errlen, g == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL, "%s: %s", what,
		    gnutls_strerror(g));
}

int selfcert_pin_file(const char *cert_path, char *pin, size_t pinlen, char *err, size_t errlen)
{
	gnutls_datum_t pem = {NULL, 0}, spki = {NULL, 0}, b64 = {NULL, 0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	unsigned char digest[32];
	int g, r = 0;

	errno = 0;
	g = gnutls_load_file(cert_path, &pem);
	if (g < 0) {
		/* gnutls_load_file keeps errno from fopen() or fread(). */
		r = errno ? -errno : -EIO;
		return fail(err, errlen, r, "%s: cannot read: %s", cert_path, strerror(-r));
	}
	if ((g = gnutls_x509_crt_init(&crt)) < 0 || (g = gnutls_pubkey_init(&pub)) < 0) {
		r = gnutls_fail(err, errlen, g, "GnuTLS");
		goto out;
	}
	if ((g = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
		r = fail(err, errlen, -EINVAL, "%s: not a PEM certificate: %s", cert_path,
			 gnutls_strerror(g));
		goto out;
	}
	if ((g = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (g = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) < 0 ||
	    (g = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest)) < 0 ||
	    (g = gnutls_base64_encode2(&(gnutls_datum_t){digest, sizeof(digest)}, &b64)) < 0) {
		r = gnutls_fail(err, errlen, g, cert_path);
		goto out;
	}
	if ((size_t)snprintf(pin, pinlen, "pin-sha256:%.*s", (int)b64.size, (char *)b64.data) >=
	    pinlen)
		r = fail(err, errlen, -ENOSPC, "%s: pin buffer too small", cert_path);
out:
	gnutls_free(b64.data);
	gnutls_free(spki.data);
	gnutls_free(pem.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return r;
}

/* The directory exists, is one, and only root gets in: it holds the key. */
static int ensure_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return fail(err, errlen, -errno, "cannot create directory %s: %s", dir,
			    strerror(errno));
	if (stat(dir, &st) < 0)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, -ENOTDIR, "%s: exists and is not a directory", dir);
	if ((st.st_mode & 077) && chmod(dir, st.st_mode & 07700) < 0)
		return fail(err, errlen, -errno, "cannot make %s private: %s", dir,
			    strerror(errno));
	return 0;
}

/* Writes data to a new file next to path and returns its name in *tmp (to be
 * renamed over path by the caller).  Nobody ever sees a half-written file. */
static int write_tmp(const char *path, const gnutls_datum_t *data, mode_t mode, char **tmp,
		     char *err, size_t errlen)
{
	const unsigned char *p = data->data;
	size_t left = data->size;
	char *name;
	int fd, r = 0;

	if (asprintf(&name, "%s.XXXXXX", path) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		r = fail(err, errlen, -errno, "cannot create %s: %s", name, strerror(errno));
		free(name);
		return r;
	}
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (!r && left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r < 0) {
		fail(err, errlen, r, "cannot write %s: %s", name, strerror(-r));
		unlink(name);
		free(name);
		return r;
	}
	*tmp = name;
	return 0;
}

/* The host name for the certificate's subject and SAN. */
static void host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || !buf[0])
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

/* A new key and a certificate for it, both PEM. */
static int make_pair(gnutls_datum_t *cert_pem, gnutls_datum_t *key_pem, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[SERIAL_SIZE], keyid[64];
	size_t keyid_len = sizeof(keyid);
	time_t now = time(NULL);
	char host[256];
	int g;

	host_name(host, sizeof(host));
	if ((g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto fail;
	/* A positive number of full length (RFC 5280 4.1.2.2). */
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	if ((g = gnutls_x509_privkey_init(&key)) < 0 ||
	    (g = gnutls_x509_privkey_generate(
		 key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (g = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, keyid, &keyid_len)) <
		0 ||
	    (g = gnutls_x509_crt_init(&crt)) < 0 || (g = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (g = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (g = gnutls_x509_crt_set_activation_time(crt, now)) < 0 ||
	    (g = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)VALID_DAYS * 86400)) < 0 ||
	    (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					       (unsigned)strlen(host))) < 0 ||
	    (g = gnutls_x509_crt_set_subject_alt_name(
		 crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_SET)) < 0 ||
	    (g = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (g = gnutls_x509_crt_set_subject_key_id(crt, keyid, keyid_len)) < 0 ||
	    (g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, cert_pem)) < 0 ||
	    (g = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
						   GNUTLS_PKCS_PLAIN, key_pem)) < 0)
		goto fail;
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return 0;
fail:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	gnutls_free(cert_pem->data);
	cert_pem->data = NULL;
	return gnutls_fail(err, errlen, g, "making a self-signed certificate");
}

/* Makes the pair in dir (which exists): both files are complete before either is renamed
 * into place, the key first, so a crash leaves the old state or a key
 * without a certificate (which the next start replaces). */
static int generate(const char *dir, const char *cert, const char *key, char *err, size_t errlen)
{
	gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
	char *cert_tmp = NULL, *key_tmp = NULL;
	int r, dfd;

	if ((r = make_pair(&cert_pem, &key_pem, err, errlen)) < 0)
		goto out;
	if ((r = write_tmp(key, &key_pem, 0600, &key_tmp, err, errlen)) < 0 ||
	    (r = write_tmp(cert, &cert_pem, 0644, &cert_tmp, err, errlen)) < 0)
		goto out;
	if (rename(key_tmp, key) < 0) {
		r = fail(err, errlen, -errno, "cannot rename %s to %s: %s", key_tmp, key,
			 strerror(errno));
		goto out;
	}
	free(key_tmp);
	key_tmp = NULL;
	if (rename(cert_tmp, cert) < 0) {
		r = fail(err, errlen, -errno, "cannot rename %s to %s: %s", cert_tmp, cert,
			 strerror(errno));
		goto out;
	}
	free(cert_tmp);
	cert_tmp = NULL;
	/* The renames are durable once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		r = fail(err, errlen, -errno, "cannot sync %s: %s", dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
out:
	if (key_tmp)
		unlink(key_tmp);
	if (cert_tmp)
		unlink(cert_tmp);
	free(key_tmp);
	free(cert_tmp);
	if (key_pem.data) {
		explicit_bzero(key_pem.data, key_pem.size);
		gnutls_free(key_pem.data);
	}
	gnutls_free(cert_pem.data);
	return r;
}

/* generate() in a child process.  The master must never hold a private
 * key: every worker forked after it would inherit the freed parts of its
 * heap, and the key process is the only one to read the key (keyproc.h). */
static int generate_apart(const char *dir, const char *cert, const char *key, char *err,
			  size_t errlen)
{
	char why[256] = "";
	int p[2], status, r;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, errlen, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return fail(err, errlen, r, "fork: %s", strerror(-r));
	}
	if (pid == 0) {
		close(p[0]);
		r = generate(dir, cert, key, why, sizeof(why));
		if (r < 0 && write(p[1], why, strlen(why)) < 0)
			r = -EIO;
		_exit(r < 0 ? (-r & 0xff ? -r & 0xff : EIO) : 0);
	}
	close(p[1]);
	n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	why[n > 0 ? n : 0] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	r = WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
	return fail(err, errlen, r, "%s", why[0] ? why : "making a self-signed certificate failed");
}

/* Puts what the message is about in front of it; returns r. */
static int prefix_err(char *err, size_t errlen, const char *prefix, int r)
{
	size_t n = strlen(prefix);

	if (!err || errlen <= n)
		return r;
	memmove(err + n, err, errlen - n - 1);
	err[errlen - 1] = '\0';
	memcpy(err, prefix, n);
	return r;
}

/* 1 when the file is there, 0 when it is not, -errno when we cannot tell. */
static int present(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
}

int selfcert_apply(struct cfg *cfg, const char *dir, bool create, struct selfcert *out, char *err,
		   size_t errlen)
{
	char *cert = NULL, *key = NULL;
	int r, have_cert, have_key;

	memset(out, 0, sizeof(*out));
	if (cfg->tls_certificate) {
		r = selfcert_pin_file(cfg->tls_certificate, out->pin, sizeof(out->pin), err,
				      errlen);
		return r < 0 ? prefix_err(err, errlen, "tls.certificate ", r) : 0;
	}
	out->self_signed = true;
	if (asprintf(&cert, "%s/" SELFCERT_CERT_NAME, dir) < 0) {
		cert = NULL;
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (asprintf(&key, "%s/" SELFCERT_KEY_NAME, dir) < 0) {
		key = NULL;
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (create && (r = ensure_dir(dir, err, errlen)) < 0)
		goto out;
	if ((r = have_cert = present(cert, err, errlen)) < 0 ||
	    (r = have_key = present(key, err, errlen)) < 0)
		goto out;
	if (!have_cert || !have_key) {
		if (!create) {
			out->missing = true;
			goto done;
		}
		if ((r = generate_apart(dir, cert, key, err, errlen)) < 0)
			goto out;
		out->generated = true;
	}
	if ((r = selfcert_pin_file(cert, out->pin, sizeof(out->pin), err, errlen)) < 0)
		goto out;
done:
	cfg->tls_certificate = cert;
	cfg->tls_key = key;
	return 0;
out:
	free(cert);
	free(key);
	return prefix_err(err, errlen, "self-signed certificate: ", r);
}

void selfcert_log(const struct cfg *cfg, const struct selfcert *sc)
{
	if (sc->generated)
		log_info("no tls.certificate configured: made a self-signed certificate %s "
			 "(ECDSA P-256, valid for 10 years) and its key %s",
			 cfg->tls_certificate, cfg->tls_key);
	if (sc->pin[0])
		log_info("TLS certificate %s: %s", cfg->tls_certificate, sc->pin);
}

int selfcert_setup(struct cfg *cfg, char *err, size_t errlen)
{
	struct selfcert sc;
	int r = selfcert_apply(cfg, SELFCERT_DIR, true, &sc, err, errlen);

	if (r < 0)
		return r;
	selfcert_log(cfg, &sc);
	return 0;
}
