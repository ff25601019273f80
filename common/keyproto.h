/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The key process's messages (daemon/keyserv.c).  Workers ask it to sign
 * (worker/keysign.c) over their own socketpair; the master loads, commits
 * and drops keys over another (daemon/keyproc.c).  One message per
 * SOCK_SEQPACKET datagram, sent only as long as it is used: a request is
 * its header and len bytes of data, an answer its header and len bytes of
 * out.  Neither side trusts the other's numbers: the key process checks
 * every field, a worker takes an answer only with its request's id. */
#ifndef TUNNELD_KEYPROTO_H
#define TUNNELD_KEYPROTO_H

#include <stddef.h>
#include <stdint.h>

/* What GnuTLS has signed: a hash, a DigestInfo, or for Ed25519 the data
 * itself (TLS 1.2: both randoms and the key exchange parameters, which an
 * 8192-bit FFDHE group makes about 2.1 KB). */
#define KEY_DATA_MAX 4096
/* An answer: a signature (RSA-8192: 1 KB) or a public key in DER. */
#define KEY_OUT_MAX 4096

enum key_op {
	KEY_SIGN_HASH = 1, /* worker: sign a hash (GnuTLS's sign_hash callback) */
	KEY_SIGN_DATA,	   /* worker: sign data (Ed25519: sign_data callback) */
	KEY_LOAD,	   /* master: read the key from the passed fd as generation gen;
			      the answer carries its public key (SubjectPublicKeyInfo, DER) */
	KEY_COMMIT,	   /* master: gen is the key in use; the one before it stays for
			      handshakes that began under it, older ones go */
	KEY_DROP,	   /* master: forget the loaded but uncommitted gen */
	/* The keys of the TLS stream services, beside the VPN's: */
	KEY_SVC_LOAD,	/* master: as KEY_LOAD, one more service key, loaded aside */
	KEY_SVC_COMMIT, /* master: the service keys loaded aside are the ones in use; those
			   in use before stay for handshakes under way, older ones go */
	KEY_SVC_DROP,	/* master: forget the service keys loaded aside */
};

struct key_req {
	uint32_t op;  /* enum key_op */
	uint32_t id;  /* echoed in the answer */
	uint32_t gen; /* the key: each certificate names the generation of its key */
	int32_t algo; /* gnutls_sign_algorithm_t of a sign request */
	uint32_t len; /* bytes of data used */
	uint8_t data[KEY_DATA_MAX];
};

struct key_resp {
	uint32_t id;
	int32_t status; /* 0, or a negative GnuTLS error code */
	uint32_t len;	/* bytes of out used */
	uint8_t out[KEY_OUT_MAX];
};

#define KEY_REQ_HEAD  offsetof(struct key_req, data)
#define KEY_RESP_HEAD offsetof(struct key_resp, out)

#endif
