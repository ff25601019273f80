/* Unit tests for the self-signed first-start certificate (daemon/selfcert.c):
 * a pair made in a temporary directory is read back with GnuTLS and checked
 * field by field, its pin is recomputed another way (and with certtool when
 * it is installed), a second call reuses the files, and bad directories or
 * files give clear errors. */
#include "config.h"
#include "daemon/selfcert.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static char tmp[64];
static char dir[128];
static char err[CFG_ERR_LEN];

static void setup(void)
{
	strcpy(tmp, "/tmp/check_selfcert.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/state", tmp);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* A whole file, NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, 65536);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static gnutls_x509_crt_t load_crt(const char *path)
{
	gnutls_x509_crt_t crt;
	size_t len;
	char *pem = slurp(path, &len);
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};

	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	free(pem);
	return crt;
}

/* Base64 written out here, so the pin is not only checked against the
 * encoder that made it. */
static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = a[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* GnuTLS's SHA-256 key ID is the hash of the DER SubjectPublicKeyInfo. */
static void pin_by_key_id(gnutls_x509_crt_t crt, char *pin)
{
	unsigned char id[32];
	size_t len = sizeof(id);

	ck_assert_int_eq(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &len), 0);
	ck_assert_uint_eq(len, 32);
	strcpy(pin, "pin-sha256:");
	b64(id, len, pin + strlen(pin));
}

/* The pin certtool prints for the file, or "" when certtool is missing. */
static void pin_by_certtool(const char *path, char *pin, size_t len)
{
	char cmd[256], line[512];
	FILE *p;

	pin[0] = '\0';
	if (system("command -v certtool >/dev/null 2>&1") != 0)
		return;
	snprintf(cmd, sizeof(cmd), "certtool --pubkey-info --load-cert '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, "pin-sha256:");

		if (s && !pin[0]) {
			s[strcspn(s, " \n")] = '\0';
			snprintf(pin, len, "%s", s);
		}
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg(pin[0], "certtool printed no pin-sha256");
}

static void check_mode(const char *path, mode_t want)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	ck_assert_msg((st.st_mode & 07777) == want, "%s: mode %o, want %o", path,
		      st.st_mode & 07777, want);
	ck_assert_uint_eq(st.st_uid, geteuid());
}

static size_t count_entries(const char *path)
{
	char cmd[256], line[64];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	pclose(p);
	return (size_t)strtoul(line, NULL, 10);
}

START_TEST(test_generate)
{
	struct cfg cfg = {0};
	struct selfcert sc;
	gnutls_x509_crt_t crt;
	gnutls_certificate_credentials_t cred;
	char want[256], host[256], buf[512], pin[64], tool_pin[64];
	size_t len;
	unsigned usage, critical, bits;
	gnutls_ecc_curve_t curve;
	unsigned char serial[32];
	unsigned int status;

	ck_assert_msg(selfcert_apply(&cfg, dir, true, &sc, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sc.self_signed);
	ck_assert(sc.generated);
	ck_assert(!sc.missing);
	snprintf(want, sizeof(want), "%s/server-cert.pem", dir);
	ck_assert_str_eq(cfg.tls_certificate, want);
	snprintf(want, sizeof(want), "%s/server-key.pem", dir);
	ck_assert_str_eq(cfg.tls_key, want);
	check_mode(dir, 0700);
	check_mode(cfg.tls_key, 0600);
	/* Nothing but the two files: no temporary file is left behind. */
	ck_assert_uint_eq(count_entries(dir), 2);

	/* GnuTLS accepts the pair as a server's credentials: the key belongs
	 * to the certificate. */
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	ck_assert_int_ge(gnutls_certificate_set_x509_key_file2(
			     cred, cfg.tls_certificate, cfg.tls_key, GNUTLS_X509_FMT_PEM, NULL, 0),
			 0);
	gnutls_certificate_free_credentials(cred);

	crt = load_crt(cfg.tls_certificate);
	ck_assert_int_eq(gnutls_x509_crt_get_version(crt), 3);
	ck_assert_int_eq(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_ECDSA);
	ck_assert_int_eq(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL), 0);
	ck_assert_int_eq(curve, GNUTLS_ECC_CURVE_SECP256R1);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	len = sizeof(buf);
	ck_assert_int_eq(
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len), 0);
	ck_assert_str_eq(buf, host);
	len = sizeof(buf);
	ck_assert_int_eq(gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &len, NULL),
			 GNUTLS_SAN_DNSNAME);
	ck_assert_str_eq(buf, host);
	ck_assert_int_eq(gnutls_x509_crt_get_key_usage(crt, &usage, &critical), 0);
	ck_assert_uint_eq(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	len = sizeof(buf);
	ck_assert_int_eq(gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &len, NULL), 0);
	ck_assert_str_eq(buf, GNUTLS_KP_TLS_WWW_SERVER);
	ck_assert_int_eq(gnutls_x509_crt_get_basic_constraints(crt, NULL, NULL, NULL),
			 0); /* CA: no */
	ck_assert_int_eq(gnutls_x509_crt_get_expiration_time(crt) -
			     gnutls_x509_crt_get_activation_time(crt),
			 (time_t)3652 * 86400);
	ck_assert_int_le(gnutls_x509_crt_get_activation_time(crt), time(NULL));
	len = sizeof(serial);
	ck_assert_int_eq(gnutls_x509_crt_get_serial(crt, serial, &len), 0);
	ck_assert_uint_eq(len, 16);
	ck_assert_uint_eq(serial[0] & 0x80, 0); /* positive */
	/* Self-signed: issued by itself, and its signature checks out. */
	ck_assert_int_eq(gnutls_x509_crt_check_issuer(crt, crt), 1);
	ck_assert_int_eq(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status), 0);
	ck_assert_uint_eq(status, 0);

	/* The pin: "pin-sha256:" and 44 base64 characters, the same however
	 * it is computed. */
	ck_assert_uint_eq(strlen(sc.pin), 11 + 44);
	pin_by_key_id(crt, pin);
	ck_assert_str_eq(sc.pin, pin);
	pin_by_certtool(cfg.tls_certificate, tool_pin, sizeof(tool_pin));
	if (tool_pin[0])
		ck_assert_str_eq(sc.pin, tool_pin);
	ck_assert_int_eq(selfcert_pin_file(cfg.tls_certificate, pin, sizeof(pin), err, sizeof(err)),
			 0);
	ck_assert_str_eq(pin, sc.pin);
	gnutls_x509_crt_deinit(crt);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_reuse)
{
	struct cfg a = {0}, b = {0};
	struct selfcert sa, sb;
	char *cert1, *key1, *cert2, *key2;

	ck_assert_msg(selfcert_apply(&a, dir, true, &sa, err, sizeof(err)) == 0, "%s", err);
	cert1 = slurp(a.tls_certificate, NULL);
	key1 = slurp(a.tls_key, NULL);
	ck_assert_msg(selfcert_apply(&b, dir, true, &sb, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sb.self_signed);
	ck_assert(!sb.generated);
	ck_assert_str_eq(sb.pin, sa.pin);
	ck_assert_str_eq(b.tls_certificate, a.tls_certificate);
	cert2 = slurp(b.tls_certificate, NULL);
	key2 = slurp(b.tls_key, NULL);
	ck_assert_str_eq(cert1, cert2);
	ck_assert_str_eq(key1, key2);
	free(cert2);
	free(key2);
	cfg_free(&b);

	/* Half a pair (the certificate lost) is replaced by a new pair. */
	ck_assert_int_eq(unlink(a.tls_certificate), 0);
	ck_assert_msg(selfcert_apply(&b, dir, true, &sb, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sb.generated);
	ck_assert_str_ne(sb.pin, sa.pin);
	key2 = slurp(b.tls_key, NULL);
	ck_assert_str_ne(key1, key2);
	free(key2);
	free(cert1);
	free(key1);
	cfg_free(&a);
	cfg_free(&b);
}
END_TEST

/* Two servers (or two starts) never share a key. */
START_TEST(test_fresh_keys)
{
	char dir2[160];
	struct cfg a = {0}, b = {0};
	struct selfcert sa, sb;
	gnutls_x509_crt_t ca, cb;
	unsigned char s1[32], s2[32];
	size_t l1 = sizeof(s1), l2 = sizeof(s2);

	snprintf(dir2, sizeof(dir2), "%s/other", tmp);
	ck_assert_msg(selfcert_apply(&a, dir, true, &sa, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(selfcert_apply(&b, dir2, true, &sb, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_ne(sa.pin, sb.pin);
	ca = load_crt(a.tls_certificate);
	cb = load_crt(b.tls_certificate);
	ck_assert_int_eq(gnutls_x509_crt_get_serial(ca, s1, &l1), 0);
	ck_assert_int_eq(gnutls_x509_crt_get_serial(cb, s2, &l2), 0);
	ck_assert(l1 != l2 || memcmp(s1, s2, l1) != 0);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(cb);
	cfg_free(&a);
	cfg_free(&b);
}
END_TEST

START_TEST(test_no_create)
{
	struct cfg cfg = {0};
	struct selfcert sc;
	struct stat st;

	/* tunneld -t: the paths are named, nothing is written. */
	ck_assert_msg(selfcert_apply(&cfg, dir, false, &sc, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sc.self_signed);
	ck_assert(sc.missing);
	ck_assert(!sc.generated);
	ck_assert_str_eq(sc.pin, "");
	ck_assert_ptr_nonnull(strstr(cfg.tls_certificate, "/state/server-cert.pem"));
	ck_assert_ptr_nonnull(strstr(cfg.tls_key, "/state/server-key.pem"));
	ck_assert_int_eq(stat(dir, &st), -1);
	cfg_free(&cfg);

	/* Once the pair exists, the pin is reported. */
	ck_assert_int_eq(selfcert_apply(&cfg, dir, true, &sc, err, sizeof(err)), 0);
	cfg_free(&cfg);
	ck_assert_int_eq(selfcert_apply(&cfg, dir, false, &sc, err, sizeof(err)), 0);
	ck_assert(!sc.missing);
	ck_assert_uint_eq(strlen(sc.pin), 55);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_configured)
{
	struct cfg gen = {0}, cfg = {0};
	struct selfcert sg, sc;
	char chain[256], *pem;
	FILE *f;

	ck_assert_int_eq(selfcert_apply(&gen, dir, true, &sg, err, sizeof(err)), 0);
	/* A configured chain: the pin is the one of its first certificate,
	 * and the config stays as it was. */
	snprintf(chain, sizeof(chain), "%s/chain.pem", tmp);
	pem = slurp(gen.tls_certificate, NULL);
	f = fopen(chain, "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s%s", pem, pem);
	fclose(f);
	free(pem);
	cfg.tls_certificate = strdup(chain);
	cfg.tls_key = strdup(gen.tls_key);
	ck_assert_msg(selfcert_apply(&cfg, "/nonexistent", true, &sc, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert(!sc.self_signed);
	ck_assert(!sc.generated);
	ck_assert_str_eq(sc.pin, sg.pin);
	ck_assert_str_eq(cfg.tls_certificate, chain);
	ck_assert_str_eq(cfg.tls_key, gen.tls_key);
	cfg_free(&cfg);
	cfg_free(&gen);
}
END_TEST

/* Each error names the path and the reason; the config is left alone. */
START_TEST(test_errors)
{
	struct cfg cfg = {0};
	struct selfcert sc;
	char path[160], want[256], pin[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/file", tmp);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs("not a certificate\n", f);
	fclose(f);

	ck_assert_int_eq(selfcert_apply(&cfg, path, true, &sc, err, sizeof(err)), -ENOTDIR);
	ck_assert_ptr_null(cfg.tls_certificate);
	ck_assert_ptr_null(cfg.tls_key);
	snprintf(want, sizeof(want), "self-signed certificate: %s: exists and is not a directory",
		 path);
	ck_assert_str_eq(err, want);

	snprintf(dir, sizeof(dir), "%s/missing/state", tmp);
	ck_assert_int_eq(selfcert_apply(&cfg, dir, true, &sc, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "self-signed certificate: cannot create directory %s: No such file or directory",
		 dir);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(cfg.tls_certificate);

	/* Without create (tunneld -t) the file in the way is reported too. */
	ck_assert_int_eq(selfcert_apply(&cfg, path, false, &sc, err, sizeof(err)), -ENOTDIR);
	snprintf(want, sizeof(want), "self-signed certificate: %s/server-cert.pem: Not a directory",
		 path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(cfg.tls_certificate);

	ck_assert_int_eq(selfcert_pin_file(path, pin, sizeof(pin), err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a PEM certificate: ", path);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);

	snprintf(path, sizeof(path), "%s/none.pem", tmp);
	ck_assert_int_eq(selfcert_pin_file(path, pin, sizeof(pin), err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	ck_assert_str_eq(err, want);

	cfg.tls_certificate = strdup(path);
	cfg.tls_key = strdup(path);
	ck_assert_int_eq(selfcert_apply(&cfg, dir, true, &sc, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "tls.certificate %s: cannot read: No such file or directory",
		 path);
	ck_assert_str_eq(err, want);
	ck_assert_str_eq(cfg.tls_certificate, path);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_dir_made_private)
{
	struct cfg cfg = {0};
	struct selfcert sc;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_msg(selfcert_apply(&cfg, dir, true, &sc, err, sizeof(err)) == 0, "%s", err);
	check_mode(dir, 0700);
	check_mode(cfg.tls_key, 0600);
	cfg_free(&cfg);
}
END_TEST

static Suite *selfcert_suite(void)
{
	Suite *s = suite_create("selfcert");
	TCase *tc = tcase_create("selfcert");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_generate);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_fresh_keys);
	tcase_add_test(tc, test_no_create);
	tcase_add_test(tc, test_configured);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_dir_made_private);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(selfcert_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
