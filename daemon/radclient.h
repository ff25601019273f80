/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RADIUS client proper, in the processes that talk to RADIUS servers
 * (never the master, never a worker): radcli set up from the radius.*
 * keys, an Access-Request with PAP and its answer, an Accounting-Request,
 * and the accounting process's loop.  radcli blocks for up to
 * radius.timeout * (radius.retries + 1) seconds per server; that is why
 * it runs here.  Owns the radcli handle of its process. */
#ifndef TUNNELD_RADCLIENT_H
#define TUNNELD_RADCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "common/ipc.h"
#include "conf/config.h"
#include "daemon/radattr.h"

struct rc_conf; /* radcli's rc_handle */

/* Acct-Status-Type (RFC 2866). */
enum acct_kind { ACCT_START = 1, ACCT_STOP = 2, ACCT_INTERIM = 3 };

/* One Accounting-Request, complete: the process adds nothing but the
 * NAS's own attributes and Acct-Delay-Time. */
struct acct_rec {
	uint32_t id;   /* the master's, for the answer */
	uint32_t kind; /* enum acct_kind */
	uint64_t sid;  /* Acct-Session-Id: "%016" PRIx64 */
	uint32_t nas_port;
	uint32_t session_time; /* s since the login (never reset by reconnects) */
	uint32_t cause;	       /* Acct-Terminate-Cause (Stop) */
	uint32_t delay;	       /* Acct-Delay-Time: s since the event */
	char user[IPC_USER_MAX];
	char peer[64]; /* Calling-Station-Id: the client's address */
	bool have4, have6;
	struct in_addr ip4;  /* Framed-IP-Address */
	struct in6_addr ip6; /* Framed-IPv6-Address */
	/* From the client (Acct-Input-*) and to it (Acct-Output-*). */
	uint64_t in_octets, out_octets, in_pkts, out_pkts;
	uint32_t class_len; /* the Access-Accept's Class values, echoed */
	uint8_t class_buf[RADIUS_CLASS_MAX];
};

/* The process's answer to record id. */
struct acct_ans {
	uint32_t id;
	int32_t result; /* 0: acknowledged; -ETIMEDOUT: no server answered; else -errno */
};

/* radcli for cfg's servers and the shared secret: its dictionary is read
 * now, before the process is confined.  NULL with the reason in err. */
struct rc_conf *radclient_open(const struct cfg *cfg, const char *secret, char *err, size_t errlen);
void radclient_close(struct rc_conf *rh);

/* What an Access-Request says about the login. */
struct radius_login {
	const char *user, *pass; /* pass: the password, or the answer to a challenge */
	const char *peer;  /* the client's "ADDRESS:PORT": Calling-Station-Id is the address */
	uint64_t sid;	   /* Acct-Session-Id */
	uint32_t nas_port; /* NAS-Port: unique per session, as sqlippool's default key wants */
	/* The answer to an Access-Challenge repeats its State (NULL: a
	 * first request, or a challenge without one). */
	const uint8_t *state;
	size_t state_len;
};

enum radclient_result {
	RADCLIENT_ACCEPT = 0, /* *g holds the answer's attributes */
	RADCLIENT_REJECT,
	RADCLIENT_CHALLENGE, /* an Access-Challenge: *rep holds its State */
	RADCLIENT_NO_ANSWER, /* no server answered in time */
	RADCLIENT_ERROR,     /* a bad answer, or radcli failed */
};

/* The words of an answer beyond what it grants: its Reply-Message
 * values (each ended by LF, cut at the end of msg) and, in a challenge,
 * its State (RFC 2865 5.24: the next request sends it back as is). */
struct radius_reply {
	char msg[IPC_TEXT_MAX];
	uint32_t state_len;
	uint8_t state[253];
};

/* Ask the servers (in order, each radius.retries + 1 times). */
enum radclient_result radclient_auth(struct rc_conf *rh, const struct radius_login *in,
				     struct radius_grant *g, struct radius_reply *rep);

/* Send one record.  0 when a server acknowledged it, -ETIMEDOUT when
 * none answered, else -errno. */
int radclient_acct(struct rc_conf *rh, const struct acct_rec *r);

/* The Calling-Station-Id of a peer "198.18.0.10:40000" or "[fd00::1]:40000":
 * the address alone, in out (cap bytes). */
void radclient_station(const char *peer, char *out, size_t cap);

#endif
