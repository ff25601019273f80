/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RADIUS client (see radclient.h): radcli in a hashing process with
 * RADIUS on, or in the accounting process.  Owns the process's radcli
 * handle; a password lives in it for one request and is wiped after. */
#include "config.h"
#include "daemon/radclient.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <radcli/radcli.h>

/* "ADDR:PORT:SECRET,..." as radcli's authserver and acctserver take it;
 * port_add moves each port (the accounting servers default to the
 * authentication ones, port + 1). */
static int server_list(const struct cfg_listen *l, unsigned n, unsigned port_add,
		       const char *secret, char *out, size_t cap)
{
	size_t used = 0;

	for (unsigned i = 0; i < n; i++) {
		char host[CFG_ADDR_STRLEN];
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l[i].ss;
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l[i].ss;
		bool v6 = l[i].ss.ss_family == AF_INET6;
		unsigned port = ntohs(v6 ? s6->sin6_port : s4->sin_port) + port_add;
		int w;

		if (!inet_ntop(l[i].ss.ss_family,
			       v6 ? (const void *)&s6->sin6_addr : (const void *)&s4->sin_addr,
			       host, sizeof(host)))
			return -EINVAL;
		w = snprintf(out + used, cap - used, "%s%s%s%s:%u:%s", i ? "," : "", v6 ? "[" : "",
			     host, v6 ? "]" : "", port > 65535 ? 65535 : port, secret);
		if (w < 0 || (size_t)w >= cap - used)
			return -ENAMETOOLONG;
		used += (size_t)w;
	}
	return 0;
}

struct rc_conf *radclient_open(const struct cfg *cfg, const char *secret, char *err, size_t errlen)
{
	char auth[1024], acct[1024], num[16];
	rc_handle *rh = rc_new();

	if (!rh || !rc_config_init(rh)) { /* rc_config_init frees rh when it fails */
		snprintf(err, errlen, "radcli: out of memory");
		return NULL;
	}
	if (server_list(cfg->radius_auth, cfg->n_radius_auth, 0, secret, auth, sizeof(auth)) < 0 ||
	    (cfg->n_radius_acct
		 ? server_list(cfg->radius_acct, cfg->n_radius_acct, 0, secret, acct, sizeof(acct))
		 : server_list(cfg->radius_auth, cfg->n_radius_auth, 1, secret, acct,
			       sizeof(acct))) < 0) {
		snprintf(err, errlen, "radius: the server list is too long for radcli");
		goto fail;
	}
	if (rc_add_config(rh, "authserver", auth, "tunneld", 0) < 0 ||
	    rc_add_config(rh, "acctserver", acct, "tunneld", 0) < 0 ||
	    rc_add_config(rh, "nas-identifier", cfg->radius_nas_id, "tunneld", 0) < 0 ||
	    rc_add_config(rh, "radius_deadtime", "0", "tunneld", 0) < 0) {
		snprintf(err, errlen, "radcli refused its settings");
		goto fail;
	}
	snprintf(num, sizeof(num), "%u", cfg->radius_timeout);
	if (rc_add_config(rh, "radius_timeout", num, "tunneld", 0) < 0)
		goto fail;
	snprintf(num, sizeof(num), "%u", cfg->radius_retries);
	if (rc_add_config(rh, "radius_retries", num, "tunneld", 0) < 0 || rc_apply_config(rh) < 0)
		goto fail;
	if (rc_read_dictionary(rh, cfg->radius_dictionary) < 0) {
		snprintf(err, errlen, "radius.dictionary %s: radcli cannot read it",
			 cfg->radius_dictionary);
		goto fail;
	}
	explicit_bzero(auth, sizeof(auth));
	explicit_bzero(acct, sizeof(acct));
	return rh;
fail:
	if (!err[0])
		snprintf(err, errlen, "radcli refused its settings");
	explicit_bzero(auth, sizeof(auth));
	explicit_bzero(acct, sizeof(acct));
	rc_destroy(rh);
	return NULL;
}

void radclient_close(struct rc_conf *rh)
{
	if (rh)
		rc_destroy(rh);
}

void radclient_station(const char *peer, char *out, size_t cap)
{
	const char *start = peer, *end;
	size_t n;

	if (peer[0] == '[') {
		start = peer + 1;
		end = strchr(start, ']');
	} else {
		end = strrchr(peer, ':');
	}
	n = end ? (size_t)(end - start) : strlen(start);
	snprintf(out, cap, "%.*s", (int)n, start);
}

static bool add_u32(rc_handle *rh, VALUE_PAIR **l, int attr, uint32_t v)
{
	return rc_avpair_add(rh, l, attr, &v, 0, 0) != NULL;
}

static bool add_str(rc_handle *rh, VALUE_PAIR **l, int attr, const void *v, int len)
{
	return rc_avpair_add(rh, l, attr, v, len, 0) != NULL;
}

/* What every request says about the session: who, from where, which. */
static bool add_session(rc_handle *rh, VALUE_PAIR **l, const char *user, const char *peer,
			uint64_t sid)
{
	char station[64], id[17];

	radclient_station(peer, station, sizeof(station));
	snprintf(id, sizeof(id), "%016" PRIx64, sid);
	return add_str(rh, l, PW_USER_NAME, user, -1) &&
	       add_u32(rh, l, PW_SERVICE_TYPE, PW_FRAMED) &&
	       add_u32(rh, l, PW_FRAMED_PROTOCOL, PW_PPP) &&
	       add_u32(rh, l, PW_NAS_PORT_TYPE, PW_VIRTUAL) &&
	       add_str(rh, l, PW_CALLING_STATION_ID, station, -1) &&
	       add_str(rh, l, PW_ACCT_SESSION_ID, id, -1);
}

static void free_wiped(VALUE_PAIR *l)
{
	for (VALUE_PAIR *vp = l; vp; vp = rc_avpair_next(vp)) {
		unsigned type, id;

		rc_avpair_get_attr(vp, &type, &id);
		if (id == PW_USER_PASSWORD) {
			char *v;
			unsigned len;
			if (rc_avpair_get_raw(vp, &v, &len) == 0)
				explicit_bzero(v, AUTH_STRING_LEN + 1);
		}
	}
	rc_avpair_free(l);
}

/* An answer's Reply-Messages and a challenge's State into *rep. */
static void read_reply(VALUE_PAIR *got, const char *msg, bool challenge, struct radius_reply *rep)
{
	VALUE_PAIR *vp = challenge ? rc_avpair_get(got, PW_STATE, 0) : NULL;
	char *v;
	unsigned len;

	snprintf(rep->msg, sizeof(rep->msg), "%s", msg);
	if (vp && rc_avpair_get_raw(vp, &v, &len) == 0 && len <= sizeof(rep->state)) {
		memcpy(rep->state, v, len);
		rep->state_len = len;
	}
}

enum radclient_result radclient_auth(struct rc_conf *rh, const struct radius_login *in,
				     struct radius_grant *g, struct radius_reply *rep)
{
	VALUE_PAIR *send = NULL, *got = NULL;
	char msg[PW_MAX_MSG_SIZE];
	enum radclient_result res;
	int r;

	memset(g, 0, sizeof(*g));
	memset(rep, 0, sizeof(*rep));
	msg[0] = '\0';
	if (!add_session(rh, &send, in->user, in->peer, in->sid) ||
	    !add_str(rh, &send, PW_USER_PASSWORD, in->pass, -1) ||
	    (in->state && in->state_len &&
	     !add_str(rh, &send, PW_STATE, in->state, (int)in->state_len))) {
		free_wiped(send);
		return RADCLIENT_ERROR;
	}
	r = rc_aaa(rh, in->nas_port, send, &got, msg, 1, PW_ACCESS_REQUEST);
	free_wiped(send);
	switch (r) {
	case OK_RC:
		radattr_read(got, g);
		res = RADCLIENT_ACCEPT;
		break;
	case REJECT_RC:
		res = RADCLIENT_REJECT;
		break;
	case CHALLENGE_RC:
		res = RADCLIENT_CHALLENGE;
		break;
	case TIMEOUT_RC:
		res = RADCLIENT_NO_ANSWER;
		break;
	default: /* a bad answer, or radcli failed */
		res = RADCLIENT_ERROR;
		break;
	}
	if (res != RADCLIENT_NO_ANSWER && res != RADCLIENT_ERROR)
		read_reply(got, msg, res == RADCLIENT_CHALLENGE, rep);
	rc_avpair_free(got);
	return res;
}

/* Octets as the 32-bit counter and its Gigawords (RFC 2869 5.1). */
static bool add_octets(rc_handle *rh, VALUE_PAIR **l, int attr, int giga, uint64_t v)
{
	return add_u32(rh, l, attr, (uint32_t)v) && add_u32(rh, l, giga, (uint32_t)(v >> 32));
}

static bool add_usage(rc_handle *rh, VALUE_PAIR **l, const struct acct_rec *r)
{
	return add_u32(rh, l, PW_ACCT_SESSION_TIME, r->session_time) &&
	       add_octets(rh, l, PW_ACCT_INPUT_OCTETS, PW_ACCT_INPUT_GIGAWORDS, r->in_octets) &&
	       add_octets(rh, l, PW_ACCT_OUTPUT_OCTETS, PW_ACCT_OUTPUT_GIGAWORDS, r->out_octets) &&
	       add_u32(rh, l, PW_ACCT_INPUT_PACKETS,
		       r->in_pkts > UINT32_MAX ? UINT32_MAX : (uint32_t)r->in_pkts) &&
	       add_u32(rh, l, PW_ACCT_OUTPUT_PACKETS,
		       r->out_pkts > UINT32_MAX ? UINT32_MAX : (uint32_t)r->out_pkts);
}

static bool add_record(rc_handle *rh, VALUE_PAIR **l, const struct acct_rec *r)
{
	struct radius_grant g = {.class_len = r->class_len};
	const uint8_t *cv;
	size_t clen;

	if (!add_u32(rh, l, PW_ACCT_STATUS_TYPE, r->kind) ||
	    !add_session(rh, l, r->user, r->peer, r->sid) ||
	    !add_u32(rh, l, PW_ACCT_AUTHENTIC, PW_RADIUS) ||
	    !add_u32(rh, l, PW_ACCT_DELAY_TIME, r->delay) ||
	    !add_u32(rh, l, PW_EVENT_TIMESTAMP, (uint32_t)time(NULL)))
		return false;
	if (r->have4 && !add_u32(rh, l, PW_FRAMED_IP_ADDRESS, ntohl(r->ip4.s_addr)))
		return false;
	if (r->have6 && !add_str(rh, l, PW_FRAMED_IPV6_ADDRESS, &r->ip6, 16))
		return false;
	memcpy(g.class_buf, r->class_buf,
	       r->class_len < RADIUS_CLASS_MAX ? r->class_len : RADIUS_CLASS_MAX);
	for (unsigned i = 0; radattr_class(&g, i, &cv, &clen); i++)
		if (!add_str(rh, l, PW_CLASS, cv, (int)clen))
			return false;
	if (r->kind != ACCT_START && !add_usage(rh, l, r))
		return false;
	return r->kind != ACCT_STOP || add_u32(rh, l, PW_ACCT_TERMINATE_CAUSE, r->cause);
}

int radclient_acct(struct rc_conf *rh, const struct acct_rec *r)
{
	VALUE_PAIR *send = NULL;
	int rc;

	if (!add_record(rh, &send, r)) {
		rc_avpair_free(send);
		return -EINVAL;
	}
	rc = rc_aaa(rh, r->nas_port, send, NULL, NULL, 1, PW_ACCOUNTING_REQUEST);
	rc_avpair_free(send);
	return rc == OK_RC ? 0 : rc == TIMEOUT_RC ? -ETIMEDOUT : -EIO;
}
