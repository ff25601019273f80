/* Unit tests for common/ipc.c, run by `make check`: every message type in
 * and against its direction, lengths, unterminated strings, numeric ranges,
 * the variable-size IPC_TLS (check_ipc_tls.c), and the settings of real
 * configs.  Messages
 * are checked from exact-size heap copies, so an over-read shows up under
 * valgrind or ASan. */
#include "config.h"
#include "common/ipc.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cookie.h"
#include "common/passwd.h"
#include "common/pool.h"
#include "tests/unit/check_ipc.h"

#define POOL 256 /* pool size passed to ipc_check where it matters */

char err[256];

/* ipc_check over an exact-size heap copy of buf[0..len). */
int check_buf(const void *buf, size_t len, enum ipc_dir dir, uint32_t pool)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	int r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	memset(err, 'x', sizeof(err));
	r = ipc_check(copy, len, dir, pool, err, sizeof(err));
	ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
	ck_assert(r == 0 || r == -EBADMSG);
	ck_assert(r == 0 ? err[0] == '\0' : err[0] != '\0');
	free(copy);
	return r;
}

static int check_msg(const struct ipc_msg *m, enum ipc_dir dir)
{
	return check_buf(m, sizeof(*m), dir, POOL);
}

#define ck_ok(m, dir) ck_assert_msg(check_msg(m, dir) == 0, "refused: %s", err)
#define ck_bad(m, dir, why)                                                                        \
	do {                                                                                       \
		ck_assert_msg(check_msg(m, dir) == -EBADMSG, "accepted, want \"%s\"", why);        \
		ck_assert_msg(strstr(err, why) != NULL, "error \"%s\", want \"%s\"", err, why);    \
	} while (0)

/* A message as the sending side builds it: zeroed, then filled. */
static struct ipc_msg msg(uint32_t type)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.ref.slot = 7;
	m.ref.gen = 3;
	return m;
}

#define BASE_CONF                                                                                  \
	"listen = [\"198.18.0.1:4443\"];\n"                                                        \
	"tls = { certificate = \"c.pem\"; key = \"k.pem\"; };\n"                                   \
	"auth = { password-file = \"passwd\"; };\n"

/* The settings message as the master builds it from a config. */
static void settings_from(const struct cfg *c, struct ipc_msg *m)
{
	int n = cfg_settings_pack(c, m->u.settings.blob, sizeof(m->u.settings.blob));

	ck_assert_int_gt(n, 0);
	m->u.settings.len = (uint32_t)n;
}

static void settings_default(struct ipc_msg *m)
{
	struct cfg c;
	char e[CFG_ERR_LEN];

	ck_assert_msg(cfg_load_string(BASE_CONF "network = { ipv4-pool = \"198.18.100.0/24\"; };\n",
				      "t.conf", &c, e, sizeof(e)) == 0,
		      "%s", e);
	settings_from(&c, m);
	cfg_free(&c);
}

struct ipc_msg valid(uint32_t type)
{
	struct ipc_msg m = msg(type);
	uint8_t ck[TICKET_V1_LEN];

	switch (type) {
	case IPC_AUTH_REQ:
		strcpy(m.u.auth_req.user, "alice");
		strcpy(m.u.auth_req.pass, "secret");
		strcpy(m.u.auth_req.peer, "198.18.0.10:40000");
		break;
	case IPC_AUTH_RESP:
		memset(ck, 0xa5, sizeof(ck));
		m.u.auth_resp.result = PW_OK;
		m.u.auth_resp.sess_id = 5 | (uint64_t)9 << 32;
		cookie_b64_encode(ck, sizeof(ck), m.u.auth_resp.cookie);
		break;
	case IPC_CONNECT_REQ:
		memset(m.u.connect_req.cookie, 0xff, sizeof(m.u.connect_req.cookie));
		m.u.connect_req.cookie_len = TICKET_V1_LEN;
		strcpy(m.u.connect_req.peer, "[fd00::10]:40000");
		break;
	case IPC_CONNECT_RESP:
		m.u.connect_resp.status = 200;
		m.u.connect_resp.lease = 2;
		strcpy(m.u.connect_resp.user, "alice");
		break;
	case IPC_CLOSED:
	case IPC_STATS:
		m.u.closed.end_session = type == IPC_CLOSED;
		m.u.closed.ctr.rx_pkts = ~0ull;
		strcpy(m.u.closed.reason, "client said goodbye");
		break;
	case IPC_SETTINGS:
		settings_default(&m);
		break;
	case IPC_DTLS:
		m.u.dtls.sess_id = 5 | (uint64_t)9 << 32;
		m.u.dtls.up = 1;
		m.u.dtls.peer.family = AF_INET6;
		m.u.dtls.peer.port = 40000;
		strcpy(m.u.dtls.cipher, "AES-256-GCM");
		break;
	default:
		break;
	}
	return m;
}

static const struct {
	uint32_t type;
	enum ipc_dir dir;
} fixed_types[] = {
    {IPC_READY, IPC_FROM_WORKER},
    {IPC_AUTH_REQ, IPC_FROM_WORKER},
    {IPC_AUTH_RESP, IPC_FROM_MASTER},
    {IPC_CONNECT_REQ, IPC_FROM_WORKER},
    {IPC_CONNECT_RESP, IPC_FROM_MASTER},
    {IPC_CLOSED, IPC_FROM_WORKER},
    {IPC_KICK, IPC_FROM_MASTER},
    {IPC_STATS, IPC_FROM_WORKER},
    {IPC_DISCONNECT, IPC_FROM_MASTER},
    {IPC_AUTH_CANCEL, IPC_FROM_WORKER},
    {IPC_DTLS, IPC_FROM_WORKER},
    {IPC_WSTATS, IPC_FROM_WORKER}, /* the worker's own figures */
    {IPC_DRAIN, IPC_FROM_MASTER},
    {IPC_SVC_STATS, IPC_FROM_WORKER},
    {IPC_SETTINGS, IPC_FROM_MASTER}, /* last: test_lengths goes on with it */
};
#define N_FIXED (sizeof(fixed_types) / sizeof(fixed_types[0]))

START_TEST(test_every_type_its_way)
{
	size_t i;

	for (i = 0; i < N_FIXED; i++) {
		struct ipc_msg m = valid(fixed_types[i].type);
		enum ipc_dir other =
		    fixed_types[i].dir == IPC_FROM_WORKER ? IPC_FROM_MASTER : IPC_FROM_WORKER;

		ck_ok(&m, fixed_types[i].dir);
		ck_bad(&m, other, "travels the other way");
		ck_assert_str_ne(ipc_type_name(fixed_types[i].type), "unknown");
		ck_assert_ptr_nonnull(strstr(err, ipc_type_name(fixed_types[i].type)));
	}
}
END_TEST

/* The master steers the peer and shows the cipher to tunnelctl. */
START_TEST(test_dtls)
{
	struct ipc_msg m = valid(IPC_DTLS);

	ck_ok(&m, IPC_FROM_WORKER);
	m.u.dtls.up = 2;
	ck_ok(&m, IPC_FROM_WORKER);
	m.u.dtls.up = 3;
	ck_bad(&m, IPC_FROM_WORKER, "up 3 is not 0, 1 or 2");
	m = valid(IPC_DTLS);
	m.u.dtls.peer.family = AF_UNIX;
	ck_bad(&m, IPC_FROM_WORKER, "peer has address family");
	m.u.dtls.up = 0; /* down: the peer is not looked at */
	ck_ok(&m, IPC_FROM_WORKER);
	m = valid(IPC_DTLS);
	strcpy(m.u.dtls.cipher, "AES\r\n");
	ck_bad(&m, IPC_FROM_WORKER, "cipher has a control character");
	memset(m.u.dtls.cipher, 'x', sizeof(m.u.dtls.cipher));
	ck_bad(&m, IPC_FROM_WORKER, "cipher is not NUL-terminated");
}
END_TEST

START_TEST(test_unknown_types)
{
	static const uint32_t types[] = {0, IPC_SVC_STATS + 1, 0x100, 0xffffffffu};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct ipc_msg m = msg(types[i]);

		ck_bad(&m, IPC_FROM_WORKER, "unknown type");
		ck_bad(&m, IPC_FROM_MASTER, "unknown type");
		ck_assert_str_eq(ipc_type_name(types[i]), "unknown");
	}
	ck_assert_str_eq(ipc_type_name(IPC_TLS), "IPC_TLS");
}
END_TEST

START_TEST(test_lengths)
{
	struct ipc_msg m[2];
	size_t i, len;

	for (i = 0; i < N_FIXED; i++) {
		m[0] = valid(fixed_types[i].type);
		memset(&m[1], 0, sizeof(m[1]));
		for (len = 0; len <= sizeof(m[0]) + 1; len++) {
			int r = check_buf(m, len, fixed_types[i].dir, POOL);

			if (len == sizeof(m[0]))
				ck_assert_msg(r == 0, "%s", err);
			else
				ck_assert_msg(r == -EBADMSG, "%s: %zu bytes accepted",
					      ipc_type_name(fixed_types[i].type), len);
		}
	}
	/* What the master's recv() into a struct would see: type + ref. */
	ck_assert_int_eq(check_buf(m, 12, IPC_FROM_MASTER, POOL), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "IPC_SETTINGS: 12 bytes, expected"));
	ck_assert_int_eq(check_buf(m, 3, IPC_FROM_MASTER, POOL), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
}
END_TEST

START_TEST(test_unaligned)
{
	struct ipc_msg m = valid(IPC_SETTINGS);
	unsigned char *buf = malloc(sizeof(m) + 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf + 1, &m, sizeof(m));
	ck_assert_int_eq(ipc_check(buf + 1, sizeof(m), IPC_FROM_MASTER, POOL, err, sizeof(err)), 0);
	free(buf);
}
END_TEST

/* Fills a string field to its last byte: refused; NUL in the last byte: fine. */
#define CK_TERMINATION(type, dir, field, name)                                                     \
	do {                                                                                       \
		struct ipc_msg m_ = valid(type);                                                   \
		memset(m_.field, 'a', sizeof(m_.field));                                           \
		ck_bad(&m_, dir, name " is not NUL-terminated");                                   \
		m_.field[sizeof(m_.field) - 1] = '\0';                                             \
		ck_ok(&m_, dir);                                                                   \
	} while (0)

START_TEST(test_strings_terminated)
{
	CK_TERMINATION(IPC_AUTH_REQ, IPC_FROM_WORKER, u.auth_req.user, "user");
	CK_TERMINATION(IPC_AUTH_REQ, IPC_FROM_WORKER, u.auth_req.pass, "pass");
	CK_TERMINATION(IPC_AUTH_REQ, IPC_FROM_WORKER, u.auth_req.peer, "peer");
	CK_TERMINATION(IPC_CONNECT_REQ, IPC_FROM_WORKER, u.connect_req.peer, "peer");
	CK_TERMINATION(IPC_CONNECT_RESP, IPC_FROM_MASTER, u.connect_resp.user, "user");
	CK_TERMINATION(IPC_CONNECT_RESP, IPC_FROM_MASTER, u.connect_resp.reason, "reason");
	CK_TERMINATION(IPC_CLOSED, IPC_FROM_WORKER, u.closed.reason, "reason");
	CK_TERMINATION(IPC_STATS, IPC_FROM_WORKER, u.closed.reason, "reason");
}
END_TEST

/* A CONNECT's cookie is a version 1 or a version 2 ticket, no other
 * length. */
START_TEST(test_connect_cookie_len)
{
	struct ipc_msg m = valid(IPC_CONNECT_REQ);

	ck_ok(&m, IPC_FROM_WORKER);
	m.u.connect_req.cookie_len = TICKET_V2_LEN;
	ck_ok(&m, IPC_FROM_WORKER);
	m.u.connect_req.cookie_len = 0;
	ck_bad(&m, IPC_FROM_WORKER, "cookie of 0 bytes, not 405 or 591");
	m.u.connect_req.cookie_len = TICKET_MAX_LEN + 1;
	ck_bad(&m, IPC_FROM_WORKER, "cookie of 592 bytes");
}
END_TEST

START_TEST(test_client_text_passes)
{
	/* Whatever the client's XML decoded to, the master must get it. */
	struct ipc_msg m = valid(IPC_AUTH_REQ);

	strcpy(m.u.auth_req.user, "al\r\nice\x7f");
	strcpy(m.u.auth_req.pass, "\t\x01\xff");
	ck_ok(&m, IPC_FROM_WORKER);
	m.u.auth_req.user[0] = '\0';
	m.u.auth_req.pass[0] = '\0';
	ck_ok(&m, IPC_FROM_WORKER);
}
END_TEST

START_TEST(test_auth_resp)
{
	struct ipc_msg m = valid(IPC_AUTH_RESP);
	int32_t r;

	for (r = -1; r <= PW_WEAK_HASH; r++) {
		m.u.auth_resp.result = r;
		ck_ok(&m, IPC_FROM_MASTER);
	}
	m.u.auth_resp.result = -2;
	ck_bad(&m, IPC_FROM_MASTER, "result -2");
	m.u.auth_resp.result = PW_WEAK_HASH + 1;
	ck_bad(&m, IPC_FROM_MASTER, "is not a password check result");

	/* On success the cookie goes into Set-Cookie as it is. */
	m = valid(IPC_AUTH_RESP);
	m.u.auth_resp.cookie[10] = '\r';
	ck_bad(&m, IPC_FROM_MASTER, "cookie byte 10 is not base64url");
	m.u.auth_resp.cookie[10] = '\0';
	ck_bad(&m, IPC_FROM_MASTER, "cookie of 10 characters, not 540 or 788");
	m.u.auth_resp.cookie[10] = 'A';
	m.u.auth_resp.cookie[TICKET_V1_TEXT_LEN] = 'A'; /* one too many */
	ck_bad(&m, IPC_FROM_MASTER, "cookie of 541 characters");
	/* A cookie with a RADIUS grant (version 2) is longer. */
	memset(m.u.auth_resp.cookie, 'A', TICKET_V2_TEXT_LEN);
	ck_ok(&m, IPC_FROM_MASTER);
	memset(m.u.auth_resp.cookie, 'A', sizeof(m.u.auth_resp.cookie));
	ck_bad(&m, IPC_FROM_MASTER, "cookie is not NUL-terminated");
	/* A refusal carries no cookie. */
	m = valid(IPC_AUTH_RESP);
	memset(m.u.auth_resp.cookie, 0, sizeof(m.u.auth_resp.cookie));
	m.u.auth_resp.result = PW_BAD_PASSWORD;
	ck_ok(&m, IPC_FROM_MASTER);
	m.u.auth_resp.result = PW_OK;
	ck_bad(&m, IPC_FROM_MASTER, "cookie of 0 characters");

	/* A refusal's reason goes into the login form the user sees. */
	m = valid(IPC_AUTH_RESP);
	m.u.auth_resp.result = -1;
	snprintf(m.u.auth_resp.reason, sizeof(m.u.auth_resp.reason), "banned, try later");
	ck_ok(&m, IPC_FROM_MASTER);
	m.u.auth_resp.reason[6] = '\n';
	ck_bad(&m, IPC_FROM_MASTER, "reason has a control character at offset 6");
	memset(m.u.auth_resp.reason, 'x', sizeof(m.u.auth_resp.reason));
	ck_bad(&m, IPC_FROM_MASTER, "reason is not NUL-terminated");
}
END_TEST

START_TEST(test_connect_resp)
{
	static const int32_t good[] = {200, 401, 403, 503};
	static const int32_t badst[] = {0, -1, 100, 201, 302, 400, 404, 500, 502, 65536 + 200};
	struct ipc_msg m = valid(IPC_CONNECT_RESP);
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m.u.connect_resp.status = good[i];
		ck_ok(&m, IPC_FROM_MASTER);
	}
	for (i = 0; i < sizeof(badst) / sizeof(badst[0]); i++) {
		m.u.connect_resp.status = badst[i];
		ck_bad(&m, IPC_FROM_MASTER, "is not 200, 401, 403 or 503");
	}

	/* The reason becomes an X-Reason header line. */
	m = valid(IPC_CONNECT_RESP);
	m.u.connect_resp.status = 503;
	strcpy(m.u.connect_resp.reason, "No free address\r\nSet-Cookie: x=y");
	ck_bad(&m, IPC_FROM_MASTER, "reason has a control character at offset 15");
	strcpy(m.u.connect_resp.reason, "No free address in the pool");
	ck_ok(&m, IPC_FROM_MASTER);
	/* Refusals need no user; a tunnel does. */
	m.u.connect_resp.user[0] = '\0';
	ck_ok(&m, IPC_FROM_MASTER);
	m.u.connect_resp.status = 200;
	ck_bad(&m, IPC_FROM_MASTER, "user is empty");
	strcpy(m.u.connect_resp.user, "bob\n");
	ck_bad(&m, IPC_FROM_MASTER, "user has a control character");
}
END_TEST

START_TEST(test_connect_resp_lease)
{
	struct ipc_msg m = valid(IPC_CONNECT_RESP);
	static const struct {
		uint32_t lease, pool;
		int want;
	} cases[] = {
	    {0, POOL, -EBADMSG},
	    {1, POOL, -EBADMSG},
	    {2, POOL, 0},
	    {POOL - 1, POOL, 0},
	    {POOL, POOL, -EBADMSG},
	    {0xffffffffu, POOL, -EBADMSG},
	    {0xffffffffu, 0, 0},
	    {1, 0, 0},
	    {2, 3, 0},
	    {2, 2, -EBADMSG},
	    {POOL_MAX_SIZE - 1, POOL_MAX_SIZE, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.u.connect_resp.lease = cases[i].lease;
		ck_assert_msg(check_buf(&m, sizeof(m), IPC_FROM_MASTER, cases[i].pool) ==
				  cases[i].want,
			      "lease %u pool %u: %s", cases[i].lease, cases[i].pool, err);
	}
	/* Only a granted tunnel has a lease. */
	m.u.connect_resp.status = 401;
	m.u.connect_resp.lease = 0xffffffffu;
	ck_assert_int_eq(check_buf(&m, sizeof(m), IPC_FROM_MASTER, POOL), 0);
}
END_TEST

START_TEST(test_closed_and_stats)
{
	struct ipc_msg m = valid(IPC_CLOSED);

	m.u.closed.end_session = 0;
	ck_ok(&m, IPC_FROM_WORKER);
	m.u.closed.end_session = 2;
	ck_bad(&m, IPC_FROM_WORKER, "end_session 2");
	m = valid(IPC_STATS);
	m.u.closed.end_session = 0xffffffffu;
	ck_bad(&m, IPC_FROM_WORKER, "end_session");
	/* The master reports any reason; it ends no header. */
	m = valid(IPC_CLOSED);
	strcpy(m.u.closed.reason, "bye\r\n");
	ck_ok(&m, IPC_FROM_WORKER);
}
END_TEST

/* The worker settings are judged by conf/settings.c's table check
 * (tests/check_settings.c tests every bound); ipc_check() must apply it and
 * bound the length. */
START_TEST(test_settings_checked)
{
	struct ipc_msg m = valid(IPC_SETTINGS);
	uint32_t v = 99999;

	ck_ok(&m, IPC_FROM_MASTER);
	/* The first value is the first worker key in the table: the count of network.dns. */
	memcpy(m.u.settings.blob, &v, sizeof(v));
	ck_bad(&m, IPC_FROM_MASTER, "IPC_SETTINGS: network.dns: 99999 entries, at most 8");
	m = valid(IPC_SETTINGS);
	m.u.settings.len -= 1;
	ck_bad(&m, IPC_FROM_MASTER, "IPC_SETTINGS:");
	m.u.settings.len = sizeof(m.u.settings.blob) + 1;
	ck_bad(&m, IPC_FROM_MASTER, "len 2049 > 2048");
	m.u.settings.len = 0xffffffffu;
	ck_bad(&m, IPC_FROM_MASTER, "len");
}
END_TEST

/* Whatever config loads must give settings that a worker accepts: the
 * bounds in common/ipc.c follow conf/config.c's table. */
START_TEST(test_settings_of_configs)
{
	static const char *const confs[] = {
	    BASE_CONF "network = { ipv4-pool = \"198.18.100.0/24\"; };\n",
	    BASE_CONF
	    "network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
	    "  dns = [\"198.18.100.1\", \"fd00:100::1\", \"198.18.1.2\", \"fd00:1::2\",\n"
	    "         \"198.18.1.3\", \"fd00:1::3\", \"198.18.1.4\", \"fd00:1::4\"];\n"
	    "  routes = [\"0.0.0.0/0\", \"::/0\", \"198.18.1.0/24\", \"fd00:1::/64\",\n"
	    "            \"198.18.1.1/32\", \"fd00:1::1/128\"]; };\n"
	    "session = { reconnect-timeout = 10; dpd = 0; keepalive = 0; drain-timeout = 0; };\n"
	    "limits = { max-clients = 1; handshake-timeout = 1; auth-timeout = 1;\n"
	    "  queue-bytes = 16384; };\n"
	    "log = { level = \"error\"; };\n",
	    BASE_CONF "network = { ipv6-pool = \"fd00:100::/64\"; };\n"
		      "session = { reconnect-timeout = 86400; dpd = 3600; keepalive = 3600; };\n"
		      "limits = { max-clients = 1000000; handshake-timeout = 600;\n"
		      "  auth-timeout = 3600; queue-bytes = 67108864; };\n"
		      "log = { level = \"debug\"; };\n",
	    BASE_CONF "network = { ipv4-pool = \"198.18.100.0/24\"; };\n"
		      "log = { level = \"warning\"; };\n",
	};
	struct cfg c;
	struct ipc_msg m;
	char cerr[CFG_ERR_LEN];
	size_t i;

	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		ck_assert_msg(cfg_load_string(confs[i], "t.conf", &c, cerr, sizeof(cerr)) == 0,
			      "config %zu: %s", i, cerr);
		m = msg(IPC_SETTINGS);
		settings_from(&c, &m);
		ck_assert_msg(check_msg(&m, IPC_FROM_MASTER) == 0, "config %zu: %s", i, err);
		cfg_free(&c);
	}
	/* The loader refuses one past each bound, so no config can give
	 * settings the worker refuses. */
	ck_assert_int_eq(cfg_load_string(BASE_CONF "network = { ipv4-pool = \"198.18.100.0/24\"; "
						   "};\nlimits = { queue-bytes = 16383; };\n",
					 "t.conf", &c, cerr, sizeof(cerr)),
			 -1);
	ck_assert_int_eq(cfg_load_string(BASE_CONF "network = { ipv4-pool = \"198.18.100.0/24\"; "
						   "};\nsession = { reconnect-timeout = 9; };\n",
					 "t.conf", &c, cerr, sizeof(cerr)),
			 -1);
}
END_TEST

START_TEST(test_err_buffer)
{
	struct ipc_msg m = valid(IPC_SETTINGS);
	char small[8];

	m.u.settings.len = 99999;
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 0, NULL, 0), -EBADMSG);
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 0, small, sizeof(small)),
			 -EBADMSG);
	ck_assert_str_eq(small, "IPC_SET");
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 0, small, 1), -EBADMSG);
	ck_assert_str_eq(small, "");
	m = valid(IPC_SETTINGS);
	strcpy(small, "junk");
	ck_assert_int_eq(ipc_check(&m, sizeof(m), IPC_FROM_MASTER, 0, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "");
}
END_TEST

/* The fuzzer's seeds are valid messages of today's layout: a change to
 * struct ipc_msg must come with new seeds (tests/fuzz/gen-seeds.c), or the
 * fuzzer would start from inputs refused at the first check. */
START_TEST(test_fuzz_seeds_valid)
{
	static const char *const names[] = {
	    "auth-cancel",
	    "auth-req",
	    "auth-resp-bad",
	    "auth-resp-ok",
	    "closed",
	    "connect-req",
	    "connect-resp-200",
	    "connect-resp-503",
	    "disconnect",
	    "dtls",
	    "kick",
	    "ready",
	    "settings",
	    "stats",
	    "wstats",
	};
	static unsigned char buf[IPC_TLS_MAX + 1];
	char path[512], e1[160];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/ipc/%s", SRCDIR, names[i]);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "%s: cannot open", path);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* Byte 0 is the harness's mode (bit 0: direction); the
		 * datagram follows. */
		ck_assert_uint_gt(n, 1);
		ck_assert_msg(ipc_check(buf + 1, n - 1,
					(buf[0] & 1) ? IPC_FROM_MASTER : IPC_FROM_WORKER, 0, e1,
					sizeof(e1)) == 0,
			      "seed %s is refused (%s): regenerate with tests/fuzz/gen-seeds.c",
			      names[i], e1);
	}
}
END_TEST

static Suite *ipc_suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *t = tcase_create("check");

	tcase_add_test(t, test_every_type_its_way);
	tcase_add_test(t, test_unknown_types);
	tcase_add_test(t, test_lengths);
	tcase_add_test(t, test_unaligned);
	tcase_add_test(t, test_strings_terminated);
	tcase_add_test(t, test_connect_cookie_len);
	tcase_add_test(t, test_client_text_passes);
	tcase_add_test(t, test_auth_resp);
	tcase_add_test(t, test_connect_resp);
	tcase_add_test(t, test_connect_resp_lease);
	tcase_add_test(t, test_closed_and_stats);
	tcase_add_test(t, test_settings_checked);
	tcase_add_test(t, test_dtls);
	tcase_add_test(t, test_settings_of_configs);
	ipc_tls_tests(t);
	tcase_add_test(t, test_err_buffer);
	tcase_add_test(t, test_fuzz_seeds_valid);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
