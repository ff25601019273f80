/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the key process (daemon/keyproc.c, daemon/keyserv.c) and the
 * workers' side of it (worker/keysign.c), without a network.  A real key
 * process is forked, confined as in the daemon (seccomp, and when run as
 * root no new user: uid 0 is kept), loads a key the test made, and signs:
 * for raw requests on a worker's socket, and in a whole TLS handshake over
 * a socketpair whose server credentials come from keysign_cred().  What a
 * taken-over worker might send is refused; a key that is not the
 * certificate's is refused; a dead key process costs one bounded wait. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/keyproto.h"
#include "daemon/keyproc.h"
#include "worker/worker.h"

static char dir[] = "/tmp/check_keyproc.XXXXXX";
static char key_path[64], other_path[64];
static gnutls_datum_t cert_pem;
static gnutls_pubkey_t pub;

static void forget_nothing(void)
{
}

/* A PEM key of the given type at path, and (for the first) a self-signed
 * certificate for it. */
static void make_key(const char *path, gnutls_pk_algorithm_t pk, unsigned bits, bool cert)
{
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t crt;
	gnutls_datum_t out;
	unsigned char serial[8] = {1};
	FILE *f;

	ck_assert_int_eq(gnutls_x509_privkey_init(&k), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(k, pk, bits, 0), 0);
	ck_assert_int_eq(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &out), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(out.data, 1, out.size, f), out.size);
	fclose(f);
	gnutls_free(out.data);
	if (cert) {
		ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
		gnutls_x509_crt_set_version(crt, 3);
		gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
		gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
		gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
		gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "test", 4);
		ck_assert_int_eq(gnutls_x509_crt_set_key(crt, k), 0);
		ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, k, GNUTLS_DIG_SHA256, 0), 0);
		ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem), 0);
		ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
		ck_assert_int_eq(gnutls_pubkey_import_x509(pub, crt, 0), 0);
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_x509_privkey_deinit(k);
}

/* A key process with the test's key committed as generation 1. */
static void setup(void)
{
	struct keyproc_env env = {.n = 2, .forget = forget_nothing};
	char err[256];
	int fd;

	strcpy(dir, "/tmp/check_keyproc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	snprintf(other_path, sizeof(other_path), "%s/other.pem", dir);
	make_key(key_path, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), true);
	make_key(other_path, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
		 false);
	env.uid = getuid();
	env.gid = getgid();
	ck_assert_int_eq(keyproc_start(&env), 0);
	fd = open(key_path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(keyproc_next_gen(), 1);
	ck_assert_msg(keyproc_load(fd, &cert_pem, 1, err, sizeof(err)) == 0, "%s", err);
	close(fd);
	keyproc_commit(1, key_path);
}

static void teardown(void)
{
	keyproc_stop();
	unlink(key_path);
	unlink(other_path);
	rmdir(dir);
	gnutls_free(cert_pem.data);
	gnutls_pubkey_deinit(pub);
}

/* One raw request on worker 0's socket; the answer's status (its
 * signature into sig when sig is not NULL), or 1 when none came. */
static int raw(const struct key_req *rq, size_t len, gnutls_datum_t *sig)
{
	static struct key_resp rs;
	int fd = keyproc_worker_fd(0);
	struct timeval tv = {2, 0};
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(send(fd, rq, len, 0), (ssize_t)len);
	n = recv(fd, &rs, sizeof(rs), 0);
	if (n < (ssize_t)KEY_RESP_HEAD)
		return 1;
	ck_assert_uint_eq(rs.id, rq->id);
	ck_assert_uint_eq(KEY_RESP_HEAD + rs.len, (size_t)n);
	if (sig)
		*sig = (gnutls_datum_t){rs.out, rs.len};
	return rs.status;
}

static struct key_req hash_req(uint32_t id, uint32_t gen, gnutls_datum_t *hash)
{
	static unsigned char h[32];
	struct key_req rq = {.op = KEY_SIGN_HASH, .id = id, .gen = gen};

	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, "data", 4, h), 0);
	rq.algo = GNUTLS_SIGN_ECDSA_SHA256;
	rq.len = sizeof(h);
	memcpy(rq.data, h, sizeof(h));
	*hash = (gnutls_datum_t){h, sizeof(h)};
	return rq;
}

START_TEST(test_sign_and_refuse)
{
	gnutls_datum_t hash, sig;
	struct key_req rq = hash_req(7, 1, &hash);

	/* A good request: a signature the certificate's key verifies. */
	ck_assert_int_eq(raw(&rq, KEY_REQ_HEAD + rq.len, &sig), 0);
	ck_assert_int_eq(gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &hash, &sig),
			 0);
	/* What a taken-over worker may try instead. */
	rq.gen = 2; /* no such key */
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len, NULL), 0);
	rq.gen = 1;
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len - 1, NULL), 0); /* len lies */
	rq.len = KEY_DATA_MAX + 1;
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + 32, NULL), 0);
	rq.len = 32;
	rq.op = KEY_LOAD; /* loading is the master's, on its own socket */
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len, NULL), 0);
	rq.op = KEY_COMMIT;
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len, NULL), 0);
	rq.op = KEY_SIGN_HASH;
	rq.algo = GNUTLS_SIGN_RSA_SHA256; /* not this key's kind */
	ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len, NULL), 0);
	/* Too short to answer: no answer, and the process lives on. */
	ck_assert_int_eq(raw(&rq, 3, NULL), 1);
	rq = hash_req(8, 1, &hash);
	ck_assert_int_eq(raw(&rq, KEY_REQ_HEAD + rq.len, &sig), 0);
	ck_assert_int_ne(keyproc_pid(), 0);
}
END_TEST

/* A worker whose control socket is backed up gets its new certificate
 * several reloads late: its generation still signs after three more
 * commits, and is dropped only once 8 newer ones came after it. */
START_TEST(test_late_worker_keeps_signing)
{
	gnutls_datum_t hash, sig;
	struct key_req rq;
	char err[256];

	for (uint32_t gen = 2; gen <= 10; gen++) {
		int fd = open(key_path, O_RDONLY | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		ck_assert_uint_eq(keyproc_next_gen(), gen);
		ck_assert_msg(keyproc_load(fd, &cert_pem, gen, err, sizeof(err)) == 0, "%s", err);
		close(fd);
		keyproc_commit(gen, key_path);
		rq = hash_req(100 + gen, 1, &hash);
		if (gen <= 9) { /* 1 is among the 8 kept before the newest */
			ck_assert_msg(raw(&rq, KEY_REQ_HEAD + rq.len, &sig) == 0,
				      "generation 1 refused after %u commits", gen - 1);
			ck_assert_int_eq(gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_ECDSA_SHA256,
								    0, &hash, &sig),
					 0);
		} else {
			ck_assert_int_lt(raw(&rq, KEY_REQ_HEAD + rq.len, NULL), 0);
		}
	}
	rq = hash_req(200, 10, &hash);
	ck_assert_int_eq(raw(&rq, KEY_REQ_HEAD + rq.len, &sig), 0);
}
END_TEST

START_TEST(test_wrong_key_refused)
{
	char err[256];
	int fd = open(other_path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(keyproc_load(fd, &cert_pem, keyproc_next_gen(), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not the certificate's"));
	close(fd);
	/* Not a key at all. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(keyproc_load(fd, &cert_pem, keyproc_next_gen(), err, sizeof(err)), -1);
	close(fd);
}
END_TEST

/* A TLS 1.3 handshake over a socketpair: the server's credentials hold the
 * certificate and keysign's key.  0 when it completed. */
static int handshake(gnutls_certificate_credentials_t scred)
{
	gnutls_certificate_credentials_t ccred;
	gnutls_session_t s, c;
	int sv[2], rs = GNUTLS_E_AGAIN, rc = GNUTLS_E_AGAIN;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&ccred), 0);
	gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK);
	gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	gnutls_set_default_priority(s);
	gnutls_set_default_priority(c);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, scred);
	gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred);
	gnutls_transport_set_int(s, sv[0]);
	gnutls_transport_set_int(c, sv[1]);
	for (int i = 0; i < 1000 && (rs < 0 || rc < 0); i++) {
		if (rc < 0 && gnutls_error_is_fatal(rc) == 0)
			rc = gnutls_handshake(c);
		if (rs < 0 && gnutls_error_is_fatal(rs) == 0)
			rs = gnutls_handshake(s);
		if (gnutls_error_is_fatal(rs) || gnutls_error_is_fatal(rc))
			break;
	}
	gnutls_deinit(s);
	gnutls_deinit(c);
	gnutls_certificate_free_credentials(ccred);
	close(sv[0]);
	close(sv[1]);
	return rs == 0 && rc == 0 ? 0 : -1;
}

START_TEST(test_handshake_and_dead_key_process)
{
	gnutls_certificate_credentials_t cred;
	struct timespec t0, t1;
	double first, second;

	ck_assert_int_eq(keysign_init(keyproc_worker_fd(1)), 0);
	ck_assert_int_eq(keysign_cred(&cert_pem, 1, &cred), 0);
	ck_assert_int_eq(handshake(cred), 0);
	ck_assert_int_eq(handshake(cred), 0);
	/* The key process dies: one handshake waits for its answer (0.5 s),
	 * the next one fails at once. */
	kill(keyproc_pid(), SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(handshake(cred), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	first = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(handshake(cred), -1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	second = (double)(t0.tv_sec - t1.tv_sec) + (double)(t0.tv_nsec - t1.tv_nsec) / 1e9;
	ck_assert_msg(first >= 0.4 && first < 3, "the first wait took %.2f s", first);
	ck_assert_msg(second < 0.3, "the second handshake took %.2f s", second);
	gnutls_certificate_free_credentials(cred);
	waitpid(keyproc_pid(), NULL, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("keyproc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sign_and_refuse);
	tcase_add_test(tc, test_late_worker_keeps_signing);
	tcase_add_test(tc, test_wrong_key_refused);
	tcase_add_test(tc, test_handshake_and_dead_key_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *pre = getenv("LD_PRELOAD");
	SRunner *sr;
	int failed;

	/* Valgrind (tests/ci/20-sanitizers.sh runs every unit test under it)
	 * does not implement seccomp(2): the key process it would run could
	 * not confine itself, and exits.  The sanitizer build runs these
	 * tests instead. */
	if (pre && strstr(pre, "vgpreload")) {
		printf("check_keyproc: not under valgrind (no seccomp there)\n");
		return EXIT_SUCCESS;
	}
	sr = srunner_create(suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
