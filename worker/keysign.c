/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: the server's private key as GnuTLS sees it, without the key.
 * The credentials hold the certificate chain and a private key object
 * whose sign callbacks send what GnuTLS wants signed to the key process
 * (daemon/keyserv.c) on this worker's own socketpair and wait for the
 * signature.  GnuTLS calls them synchronously in the middle of a
 * handshake, so the wait blocks the loop; it is bounded by the socket's
 * timeouts (KEYSIGN_TIMEOUT_MS), set once before the sandbox, and after
 * one that ran out signing fails at once for a while (KEYSIGN_PAUSE_S).  A taken-over
 * worker can ask for signatures, as it could make them before, but it can
 * no longer read the key: no file, no copy in its memory.
 *
 * The master builds the credentials a worker inherits with the same
 * keysign_cred(); in the master the callbacks are never run (it does no
 * handshake), and would fail: it has no socket.  Owns the socket and the
 * request counter. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <gnutls/abstract.h>

#include "common/keyproto.h"
#include "common/log.h"

#define KEYSIGN_TIMEOUT_MS 500
/* After a request found no answer, signing fails at once for this long: a
 * dead key process (the master starts another within about a second)
 * would otherwise cost the loop a full wait for every handshake. */
#define KEYSIGN_PAUSE_S 2
#define CHAIN_MAX	16 /* certificates in a chain */
#define STALE_MAX	4  /* late answers read before giving up */

/* What a private key object of the credentials stands for. */
struct keyref {
	uint32_t gen; /* the key process's generation of the key */
	gnutls_pk_algorithm_t pk;
	unsigned bits;
};

static int key_fd = -1;
static uint32_t next_id;
static time_t paused_until;

int keysign_init(int fd)
{
	struct timeval tv = {KEYSIGN_TIMEOUT_MS / 1000, KEYSIGN_TIMEOUT_MS % 1000 * 1000};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	key_fd = fd;
	return 0;
}

/* One answer to request id into *rs: its length, or -1 at the timeout. */
static ssize_t await(uint32_t id, struct key_resp *rs)
{
	ssize_t n;

	for (int i = 0; i <= STALE_MAX; i++) {
		n = recv(key_fd, rs, sizeof(*rs), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* An answer to a request that timed out before: not ours. */
		if ((size_t)n >= KEY_RESP_HEAD && (size_t)n <= sizeof(*rs) && rs->id == id)
			return n;
	}
	return -1;
}

static int ask(const struct keyref *ref, enum key_op op, gnutls_sign_algorithm_t algo,
	       const gnutls_datum_t *in, gnutls_datum_t *sig)
{
	struct key_req rq = {.op = op, .id = ++next_id, .gen = ref->gen, .algo = algo};
	struct key_resp rs;
	ssize_t n;

	if (key_fd < 0 || in->size > KEY_DATA_MAX || time(NULL) < paused_until)
		return GNUTLS_E_PK_SIGN_FAILED;
	/* Answers that came after their request gave up. */
	while (recv(key_fd, &rs, sizeof(rs), MSG_DONTWAIT) > 0)
		;
	rq.len = in->size;
	memcpy(rq.data, in->data, in->size);
	if (send(key_fd, &rq, KEY_REQ_HEAD + rq.len, MSG_NOSIGNAL) !=
	    (ssize_t)(KEY_REQ_HEAD + rq.len))
		n = -1;
	else
		n = await(rq.id, &rs);
	if (n < 0) {
		paused_until = time(NULL) + KEYSIGN_PAUSE_S;
		log_err("key process: no answer to a sign request within %d ms; handshakes "
			"fail for %d s without waiting",
			KEYSIGN_TIMEOUT_MS, KEYSIGN_PAUSE_S);
		return GNUTLS_E_PK_SIGN_FAILED;
	}
	if (rs.status < 0 || rs.len == 0 || rs.len > KEY_OUT_MAX ||
	    KEY_RESP_HEAD + rs.len != (size_t)n) {
		log_err("key process: signing failed: %s",
			rs.status < 0 ? gnutls_strerror(rs.status) : "a malformed answer");
		return rs.status < 0 ? rs.status : GNUTLS_E_PK_SIGN_FAILED;
	}
	sig->data = gnutls_malloc(rs.len);
	if (!sig->data)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(sig->data, rs.out, rs.len);
	sig->size = rs.len;
	return 0;
}

/* ECDSA, RSA (PKCS#1 v1.5: a DigestInfo with GNUTLS_SIGN_RSA_RAW; PSS) */
static int sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
		     unsigned flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return ask(userdata, KEY_SIGN_HASH, algo, hash, sig);
}

/* Ed25519 and Ed448 sign the data itself. */
static int sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
		     unsigned flags, const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return ask(userdata, KEY_SIGN_DATA, algo, data, sig);
}

static int info(gnutls_privkey_t key, unsigned flags, void *userdata)
{
	const struct keyref *ref = userdata;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		/* GnuTLS has checked that the algorithm suits the key's type;
		 * the key process can make every signature of that type. */
		return 1;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)ref->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)ref->bits;
	return -1;
}

static void deinit(gnutls_privkey_t key, void *userdata)
{
	(void)key;
	free(userdata);
}

/* A private key object for generation gen, of the certificate's type. */
static int ext_key(const gnutls_pcert_st *leaf, uint32_t gen, gnutls_privkey_t *out)
{
	struct keyref *ref = calloc(1, sizeof(*ref));
	gnutls_privkey_t key = NULL;
	int r;

	if (!ref)
		return GNUTLS_E_MEMORY_ERROR;
	ref->gen = gen;
	r = gnutls_pubkey_get_pk_algorithm(leaf->pubkey, &ref->bits);
	if (r < 0)
		goto fail;
	ref->pk = (gnutls_pk_algorithm_t)r;
	/* No decrypt callback: static RSA key exchange would make the key
	 * process a decryption oracle for every recorded session. */
	if ((r = gnutls_privkey_init(&key)) < 0 ||
	    (r = gnutls_privkey_import_ext4(key, ref, sign_data, sign_hash, NULL, deinit, info,
					    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0)
		goto fail;
	*out = key;
	return 0;
fail:
	gnutls_privkey_deinit(key); /* not imported: ref is still ours */
	free(ref);
	return r;
}

int keysign_cred(const gnutls_datum_t *cert_pem, uint32_t gen,
		 gnutls_certificate_credentials_t *out)
{
	gnutls_pcert_st chain[CHAIN_MAX];
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_privkey_t key = NULL;
	unsigned n = CHAIN_MAX;
	int r;

	r = gnutls_pcert_list_import_x509_raw(chain, &n, cert_pem, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0)
		return r;
	if ((r = ext_key(&chain[0], gen, &key)) < 0 ||
	    (r = gnutls_certificate_allocate_credentials(&cred)) < 0)
		goto fail;
	/* GnuTLS would prove the pair by signing: the master compared the
	 * key process's public key with the certificate's instead. */
	gnutls_certificate_set_flags(cred, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	r = gnutls_certificate_set_key(cred, NULL, 0, chain, n, key);
	if (r < 0) {
		/* GnuTLS leaves the credentials in an undefined state: who owns
		 * the chain and the key then is not said, so they are left,
		 * rather than freed twice. */
		gnutls_certificate_free_credentials(cred);
		return r;
	}
	*out = cred; /* it owns the chain and the key now */
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		gnutls_pcert_deinit(&chain[i]);
	gnutls_privkey_deinit(key);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	return r;
}
