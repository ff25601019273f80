/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostile: scenarios around one login and tunnel: wrong logins (login),
 * forged and replayed cookies (connect, expired), bad CSTP frames (cstp)
 * and tunnels held open (hold). */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int cmd_login(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'},
					   {"text", required_argument, NULL, 'x'},
					   {"cookie-out", required_argument, NULL, 'o'},
					   {0}};
	const char *expect = NULL, *text = NULL, *out = NULL;
	struct hresp r;
	struct hc h;
	int c, rc;

	while ((c = getopt_long(argc, argv, "e:x:o:", lo, NULL)) != -1) {
		if (c == 'e')
			expect = optarg;
		else if (c == 'x')
			text = optarg;
		else if (c == 'o')
			out = optarg;
		else
			usage_error("login: bad option");
	}
	if (expect && strcmp(expect, "ok") && strcmp(expect, "refused"))
		usage_error("login: --expect ok|refused");
	rc = hc_open(&h, 0);
	if (rc < 0)
		return verdict(false, "login", "cannot connect: %s", strerror(-rc));
	rc = hc_login(&h, O.user, O.pass, &r);
	hc_close(&h);
	if (rc < 0)
		return verdict(false, "login", "no answer: %s", strerror(-rc));
	printf("login: user=%s result=%s status=%d message=\"%s\"\n", O.user, rc ? "refused" : "ok",
	       r.status, r.error);
	if (rc == 0 && out) {
		FILE *f = fopen(out, "w");
		if (!f || fprintf(f, "%s\n", r.cookie) < 0 || fclose(f) != 0)
			return verdict(false, "login", "cannot write %s", out);
	}
	explicit_bzero(r.cookie, sizeof(r.cookie));
	if (expect && strcmp(expect, rc ? "refused" : "ok"))
		return verdict(false, "login", "%s: %s, want %s (status %d, \"%s\")", O.user,
			       rc ? "refused" : "ok", expect, r.status, r.error);
	if (text && !strstr(r.error, text) && !strstr(r.reason, text))
		return verdict(false, "login", "%s: answer lacks \"%s\" (status %d, \"%s\")",
			       O.user, text, r.status, r.error);
	return verdict(true, "login", "%s: %s (status %d%s%s%s)", O.user, rc ? "refused" : "ok",
		       r.status, r.error[0] ? ", \"" : "", r.error, r.error[0] ? "\"" : "");
}

/* ---- connect: CONNECT with a bad cookie ----------------------------------- */

static void forged_cookie(char out[H_SEALED_LEN + 1])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[H_SEALED_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 7, sizeof(rnd));
	/* The length of a sealed cookie, so that the server opens it and finds
	 * it forged, rather than refusing its length. */
	for (int i = 0; i < H_SEALED_LEN; i++)
		out[i] = b64[rnd[i] & 63];
	out[H_SEALED_LEN] = 0;
}

/* After a refused CONNECT there must be no tunnel: the server closes, and
 * a CSTP frame sent anyway gets no answer. */
static bool no_tunnel(struct hc *h)
{
	uint8_t t;
	size_t l;

	if (h->eof)
		return true;
	hc_frame(h, TC_DPD_REQ, "probe", 5);
	return hc_next_frame(h, 1000, &t, NULL, 0, &l) != 1 && hc_wait_closed(h, O.timeout_ms) >= 0;
}

int cmd_connect(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'},
					   {"cookie", required_argument, NULL, 'c'},
					   {"cookie-file", required_argument, NULL, 'f'},
					   {"tampered", required_argument, NULL, 't'},
					   {"forged", no_argument, NULL, 'F'},
					   {"no-cookie", no_argument, NULL, 'N'},
					   {0}};
	char cookie[H_COOKIE_MAX] = "";
	const char *what = NULL;
	bool have = false;
	int expect = 0, c, rc;
	struct hresp r;
	struct hc h;

	while ((c = getopt_long(argc, argv, "e:c:f:t:FN", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			expect = (int)parse_count(optarg, 100, 599);
			break;
		case 'c':
			snprintf(cookie, sizeof(cookie), "%s", optarg);
			have = true, what = "given cookie";
			break;
		case 'f':
		case 't':
			if (!read_file_line(optarg, cookie, sizeof(cookie)))
				usage_error("connect: cannot read a cookie from %s", optarg);
			have = true, what = "cookie from file";
			if (c == 't') {
				/* One character off: a near miss, not noise. */
				cookie[0] = cookie[0] == 'A' ? 'B' : 'A';
				what = "tampered cookie";
			}
			break;
		case 'F':
			forged_cookie(cookie);
			have = true, what = "forged cookie";
			break;
		case 'N':
			have = false, what = "no cookie";
			break;
		default:
			usage_error("connect: bad option");
		}
	}
	if (!what || !expect)
		usage_error("usage: connect --cookie C|--cookie-file F|--tampered F|--forged|"
			    "--no-cookie --expect STATUS");
	rc = hc_open(&h, 0);
	if (rc < 0)
		return verdict(false, "connect", "cannot connect: %s", strerror(-rc));
	rc = hc_connect(&h, have ? cookie : NULL, &r);
	explicit_bzero(cookie, sizeof(cookie));
	if (rc < 0) {
		hc_close(&h);
		return verdict(false, "connect", "%s: no answer (%s)", what, strerror(-rc));
	}
	bool closed = rc != 200 && no_tunnel(&h);
	if (rc == 200)
		hc_frame(&h, TC_DISCONNECT, "\xb0hostile", 8);
	hc_close(&h);
	printf("connect: cookie=%s status=%d reason=\"%s\" x_reason=\"%s\" tunnel=%s\n", what, rc,
	       r.reason, r.x_reason,
	       rc == 200 ? "yes"
	       : closed	 ? "no"
			 : "unclear");
	if (rc != expect)
		return verdict(false, "connect", "%s: status %d, want %d", what, rc, expect);
	if (rc != 200 && !closed)
		return verdict(false, "connect", "%s: status %d but the connection stayed usable",
			       what, rc);
	return verdict(true, "connect", "%s: status %d%s", what, rc,
		       rc != 200 ? ", no tunnel, closed" : "");
}

/* ---- expired: a cookie that was good once -------------------------------- */

static int reconnect_status(const char *cookie, struct hresp *r)
{
	struct hc h;
	int rc = hc_open(&h, 0);

	if (rc < 0)
		return rc;
	rc = hc_connect(&h, cookie, r);
	if (rc == 200)
		hc_frame(&h, TC_DISCONNECT, "", 0); /* no reason byte: keep the session */
	hc_close(&h);
	return rc;
}

int cmd_expired(int argc, char **argv)
{
	char cookie[H_COOKIE_MAX];
	double wait_s = 0;
	struct hresp r;
	struct hc h;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "bye") && strcmp(argv[1], "wait")) ||
	    (!strcmp(argv[1], "wait") && argc != 3) || (!strcmp(argv[1], "bye") && argc != 2))
		usage_error("usage: expired bye | expired wait SECONDS");
	if (argc == 3 && (wait_s = parse_seconds(argv[2])) < 0)
		usage_error("expired wait: bad SECONDS");
	rc = hc_tunnel(&h, 0, &r);
	if (rc != 0)
		return verdict(false, "expired", "first tunnel failed (%d)", rc);
	memcpy(cookie, r.cookie, sizeof(cookie));
	if (!strcmp(argv[1], "bye")) {
		/* The user logs out: DISCONNECT with reason 0xb0 ends the session. */
		hc_frame(&h, TC_DISCONNECT, "\xb0hostile logs out", 17);
		long ms = hc_wait_closed(&h, O.timeout_ms);
		hc_close(&h);
		printf("expired: bye sent, server closed=%s\n", ms >= 0 ? "yes" : "no");
	} else {
		/* The line drops without a goodbye: the session waits for a
		 * reconnect, which works at once... */
		hc_close(&h);
		rc = reconnect_status(cookie, &r);
		printf("expired: reconnect at once status=%d\n", rc);
		if (rc != 200) {
			explicit_bzero(cookie, sizeof(cookie));
			return verdict(false, "expired",
				       "reconnect within the timeout: %d, want 200", rc);
		}
		/* ...but not after session.reconnect-timeout. */
		vlog("waiting %.1f s", wait_s);
		usleep((useconds_t)(wait_s * 1e6));
	}
	rc = reconnect_status(cookie, &r);
	explicit_bzero(cookie, sizeof(cookie));
	printf("expired: mode=%s status=%d reason=\"%s\"\n", argv[1], rc, r.reason);
	if (rc != 401)
		return verdict(false, "expired", "%s: CONNECT with the old cookie got %d, want 401",
			       argv[1], rc);
	return verdict(true, "expired", "%s: the old cookie gets 401", argv[1]);
}

/* ---- cstp: bad frames inside a tunnel ------------------------------------- */

int cmd_cstp(int argc, char **argv)
{
	uint8_t f[TC_CSTP_HDR + 16384 + 64] = {0}, t, pl[64];
	const char *kind;
	struct hresp r;
	struct hc h;
	size_t len, l;
	long ms;
	int rc;

	if (argc != 2)
		usage_error("usage: cstp magic|length|type|compressed|reserved");
	kind = argv[1];
	rc = hc_tunnel(&h, 0, &r);
	if (rc != 0)
		return verdict(false, "cstp", "tunnel failed (%d)", rc);
	/* The tunnel works before the bad frame: a DPD is answered. */
	hc_frame(&h, TC_DPD_REQ, "hello", 5);
	do
		rc = hc_next_frame(&h, O.timeout_ms, &t, pl, sizeof(pl), &l);
	while (rc == 1 && t != TC_DPD_RESP);
	if (rc != 1) {
		hc_close(&h);
		return verdict(false, "cstp", "no DPD answer before the bad frame");
	}
	unsigned mtu = r.mtu ? r.mtu : 1400;
	tc_cstp_header(f, TC_DATA, 20);
	len = TC_CSTP_HDR + 20;
	if (!strcmp(kind, "magic")) {
		memcpy(f, "GET ", 4);
	} else if (!strcmp(kind, "length")) {
		size_t big = mtu + 100;
		f[4] = (uint8_t)(big >> 8), f[5] = (uint8_t)big;
		len = 8 + big;
	} else if (!strcmp(kind, "type")) {
		f[6] = 0x42;
	} else if (!strcmp(kind, "compressed")) {
		f[6] = TC_COMPRESSED; /* never negotiated */
	} else if (!strcmp(kind, "reserved")) {
		f[7] = 0x01;
	} else {
		hc_close(&h);
		usage_error("cstp: unknown kind '%s'", kind);
	}
	rc = hc_send(&h, f, len);
	ms = hc_wait_closed(&h, O.timeout_ms);
	hc_close(&h);
	printf("cstp: kind=%s mtu=%u frame_bytes=%zu closed=%s after_ms=%ld\n", kind, mtu, len,
	       ms >= 0 ? "yes" : "no", ms);
	if (ms < 0)
		return verdict(false, "cstp", "%s: the connection stayed open for %d ms", kind,
			       O.timeout_ms);
	return verdict(true, "cstp", "%s: server closed the tunnel after %ld ms", kind, ms);
}

/* ---- hold: several tunnels at once (limits.max-clients) ------------------- */

/* --ping: one echo request into the tunnel from its own address. */
static int hold_ping(struct hc *h, const char *src, const char *dest, uint16_t id)
{
	struct in_addr s, d;
	uint8_t pkt[64];

	if (inet_pton(AF_INET, src, &s) != 1 || inet_pton(AF_INET, dest, &d) != 1) {
		printf("hold: ping from '%s' to '%s': not IPv4 addresses\n", src, dest);
		return -1;
	}
	return hc_frame(h, TC_DATA, pkt, make_ping(pkt, sizeof(pkt), &s, &d, id, 1));
}

int cmd_hold(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'},
					   {"reconnect", no_argument, NULL, 'r'},
					   {"drop", no_argument, NULL, 'd'},
					   {"ping", required_argument, NULL, 'P'},
					   {0}};
	const char *expect = NULL, *ping = NULL;
	bool reconnect = false, drop = false;
	char got[4096] = "", cookie0[H_COOKIE_MAX] = "";
	struct hc *hs;
	struct hresp r;
	long n;
	int c, ok = 1, pinged = 1;

	while ((c = getopt_long(argc, argv, "e:r", lo, NULL)) != -1) {
		if (c == 'e')
			expect = optarg;
		else if (c == 'r')
			reconnect = true;
		else if (c == 'd')
			drop = true;
		else if (c == 'P')
			ping = optarg;
		else
			usage_error("hold: bad option");
	}
	if (optind + 1 != argc)
		usage_error("usage: hold N [--expect LIST] [--reconnect] [--drop] [--ping DEST]");
	n = parse_count(argv[optind], 1, 1000);
	hs = calloc((size_t)n, sizeof(*hs));
	if (!hs)
		return verdict(false, "hold", "out of memory");
	want_fds((unsigned)n + 64);
	for (long i = 0; i < n; i++) {
		char item[160];
		hs[i].fd = -1;
		int rc = hc_open(&hs[i], (unsigned)i);
		if (rc < 0) {
			snprintf(item, sizeof(item), "open=%s",
				 rc == -ECONNRESET ? "closed" : "failed");
		} else if ((rc = hc_login(&hs[i], O.user, O.pass, &r)) != 0) {
			snprintf(item, sizeof(item), "login=%s", rc < 0 ? "none" : "refused");
			printf("hold: tunnel %ld: login refused: status=%d message=\"%s\"\n", i + 1,
			       r.status, r.error);
			hc_close(&hs[i]);
		} else {
			char ck[H_COOKIE_MAX];
			memcpy(ck, r.cookie, sizeof(ck));
			rc = hc_connect(&hs[i], ck, &r);
			if (i == 0)
				memcpy(cookie0, ck, sizeof(cookie0));
			explicit_bzero(ck, sizeof(ck));
			snprintf(item, sizeof(item), "connect=%d", rc < 0 ? 0 : rc);
			if (rc == 200 && ping && hold_ping(&hs[i], r.addr4, ping, (uint16_t)i) < 0)
				pinged = 0;
			if (rc != 200) {
				printf("hold: tunnel %ld: CONNECT status=%d reason=\"%s\" "
				       "x_reason=\"%s\"\n",
				       i + 1, rc, r.reason, r.x_reason);
				hc_close(&hs[i]);
			}
		}
		printf("hold: tunnel %ld: %s\n", i + 1, item);
		if (got[0])
			strncat(got, ",", sizeof(got) - strlen(got) - 1);
		strncat(got, item, sizeof(got) - strlen(got) - 1);
	}
	fflush(stdout);
	if (reconnect && hs[0].tls) {
		/* The first tunnel's line drops and it comes back with its
		 * cookie: a reconnect, not a new session or client. */
		hc_close(&hs[0]);
		int rc = hc_open(&hs[0], 0);
		if (rc == 0)
			rc = hc_connect(&hs[0], cookie0, &r);
		printf("hold: reconnect of tunnel 1: connect=%d\n", rc < 0 ? 0 : rc);
		if (rc != 200) {
			ok = 0;
			hc_close(&hs[0]);
		}
	}
	explicit_bzero(cookie0, sizeof(cookie0));
	printf("hold: holding for %.1f s\n", O.seconds);
	fflush(stdout);
	usleep((useconds_t)(O.seconds * 1e6));
	for (long i = 0; i < n; i++) {
		/* --drop: the line just goes, so the server keeps the session
		 * (and its address) for a reconnect. */
		if (hs[i].tls && !drop)
			hc_frame(&hs[i], TC_DISCONNECT, "\xb0hostile done", 13);
		hc_close(&hs[i]);
	}
	free(hs);
	printf("hold: results=%s\n", got);
	if (expect && strcmp(expect, got))
		return verdict(false, "hold", "got %s, want %s", got, expect);
	if (!ok)
		return verdict(false, "hold", "reconnect of tunnel 1 refused");
	if (!pinged)
		return verdict(false, "hold", "a ping could not be sent");
	return verdict(true, "hold", "%s%s", got, reconnect ? ", reconnect ok" : "");
}

/* ---- main ----------------------------------------------------------------- */
