/* libFuzzer harness for common/ipc.c: ipc_check() on any datagram, as the
 * master and the workers vet what arrives on their control sockets.  Input:
 * one byte for the direction (bit 0), whether a pool size applies (bit 1)
 * and whether the receive buffer is the master's (bit 2: only the first
 * sizeof(struct ipc_msg) bytes arrive while len counts them all, as
 * recv(MSG_TRUNC) reports), then the datagram.  Checks: the verdict is 0 or -EBADMSG with a
 * reason; and a datagram that passes is safe for the receiver's code: its
 * type travels that way, its length is its type's, every string it holds
 * ends inside its array, and its counts, families and lease index are in
 * range, so the formatting a receiver does over them never fails. */
#include "config.h"
#include "common/ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/pool.h"
#include "tests/fuzz/fuzz.h"

#define POOL 254 /* a /24 pool */

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

/* Accepted settings must apply to a config and keep every value inside
 * what the loader could have made. */
static void check_settings(const struct ipc_settings *st)
{
	char buf[CFG_PREFIX_STRLEN];
	struct cfg c;
	uint32_t i;

	memset(&c, 0, sizeof(c));
	FUZZ_ASSERT(cfg_settings_apply(st->blob, st->len, &c, NULL, 0) == 0);
	FUZZ_ASSERT(c.n_dns <= CFG_MAX_DNS && c.n_routes <= CFG_MAX_ROUTES);
	for (i = 0; i < c.n_dns; i++)
		FUZZ_ASSERT(cfg_addr_str(&c.dns[i], buf, sizeof(buf)) != NULL);
	for (i = 0; i < c.n_routes; i++)
		FUZZ_ASSERT(cfg_prefix_str(&c.routes[i], buf, sizeof(buf)) != NULL);
	FUZZ_ASSERT(c.max_clients >= 1 && c.queue_bytes >= 16384);
	FUZZ_ASSERT(c.log_level >= LOG_LVL_ERR && c.log_level <= LOG_LVL_DEBUG);
}

/* The login dialogue's answers: counted and terminated. */
static void check_answers(const struct ipc_msg *m)
{
	FUZZ_ASSERT(m->u.auth_req.n_ans <= IPC_INPUTS_MAX);
	FUZZ_ASSERT(TERMINATED(m->u.auth_req.group) && TERMINATED(m->u.auth_req.cert_user) &&
		    TERMINATED(m->u.auth_req.cert_groups));
	for (uint32_t i = 0; i < m->u.auth_req.n_ans; i++)
		FUZZ_ASSERT(TERMINATED(m->u.auth_req.ans[i].name) &&
			    TERMINATED(m->u.auth_req.ans[i].value));
}

/* A form the worker writes into XML: every text fits the document. */
static void check_form(const struct ipc_form *f)
{
	FUZZ_ASSERT(f->n <= IPC_INPUTS_MAX && f->cert_request <= 1);
	for (uint32_t i = 0; i < f->n; i++) {
		FUZZ_ASSERT(f->in[i].type == IPC_INPUT_TEXT || f->in[i].type == IPC_INPUT_PASSWORD);
		FUZZ_ASSERT(TERMINATED(f->in[i].name) && f->in[i].name[0] &&
			    TERMINATED(f->in[i].label));
		FUZZ_ASSERT(strcspn(f->in[i].label, "\r\n") == strlen(f->in[i].label));
	}
	FUZZ_ASSERT(TERMINATED(f->auth_id) && TERMINATED(f->message) && TERMINATED(f->error) &&
		    TERMINATED(f->banner));
	FUZZ_ASSERT(strcspn(f->error, "\r\n") == strlen(f->error));
}

static void check_accepted(const uint8_t *buf, size_t len, enum ipc_dir dir, uint32_t pool)
{
	struct ipc_msg m;
	struct ipc_tls h;
	uint32_t type;

	memcpy(&type, buf, sizeof(type));
	if (type == IPC_TLS) {
		FUZZ_ASSERT(dir == IPC_FROM_MASTER && len >= sizeof(h) && len <= IPC_TLS_MAX);
		memcpy(&h, buf, sizeof(h));
		FUZZ_ASSERT(sizeof(h) + (size_t)h.cert_len + h.prio_len + h.ca_len + h.crl_len ==
				len &&
			    h.key_gen != 0);
		FUZZ_ASSERT(TERMINATED(h.user_field) && TERMINATED(h.group_field));
		return;
	}
	if (type == IPC_POLICY) { /* variable size: common/policy.c checked its entries */
		FUZZ_ASSERT(dir == IPC_FROM_MASTER && len > sizeof(type));
		return;
	}
	if (type == IPC_SVC) {
		struct ipc_svc sh;

		FUZZ_ASSERT(dir == IPC_FROM_MASTER && len >= sizeof(sh) && len <= IPC_SVC_MAX);
		memcpy(&sh, buf, sizeof(sh));
		FUZZ_ASSERT(sh.n <= CFG_MAX_SERVICES && sh.prio_len >= 1 && sh.prio_len <= 1024);
		return;
	}
	FUZZ_ASSERT(len == sizeof(m));
	memcpy(&m, buf, sizeof(m));
	switch (m.type) {
	case IPC_READY:
	case IPC_CONNECT_REQ:
	case IPC_AUTH_REQ:
	case IPC_CLOSED:
	case IPC_STATS:
	case IPC_AUTH_CANCEL:
	case IPC_DTLS:
	case IPC_WSTATS:
	case IPC_SVC_STATS:
		FUZZ_ASSERT(dir == IPC_FROM_WORKER);
		break;
	default:
		FUZZ_ASSERT(dir == IPC_FROM_MASTER);
	}
	switch (m.type) {
	case IPC_AUTH_REQ:
		FUZZ_ASSERT(TERMINATED(m.u.auth_req.user) && TERMINATED(m.u.auth_req.pass) &&
			    TERMINATED(m.u.auth_req.peer));
		check_answers(&m);
		break;
	case IPC_AUTH_RESP:
		FUZZ_ASSERT(TERMINATED(m.u.auth_resp.cookie));
		check_form(&m.u.auth_resp.form);
		if (m.u.auth_resp.result == 0)
			FUZZ_ASSERT((strlen(m.u.auth_resp.cookie) == TICKET_V1_TEXT_LEN ||
				     strlen(m.u.auth_resp.cookie) == TICKET_V2_TEXT_LEN) &&
				    strcspn(m.u.auth_resp.cookie, "\r\n;, ") ==
					strlen(m.u.auth_resp.cookie));
		break;
	case IPC_CONNECT_REQ:
		FUZZ_ASSERT(TERMINATED(m.u.connect_req.peer));
		FUZZ_ASSERT(m.u.connect_req.cookie_len == TICKET_V1_LEN ||
			    m.u.connect_req.cookie_len == TICKET_V2_LEN);
		break;
	case IPC_CONNECT_RESP:
		FUZZ_ASSERT(TERMINATED(m.u.connect_resp.user) &&
			    TERMINATED(m.u.connect_resp.reason));
		FUZZ_ASSERT(strcspn(m.u.connect_resp.reason, "\r\n") ==
			    strlen(m.u.connect_resp.reason));
		if (m.u.connect_resp.status == 200 && pool != 0)
			FUZZ_ASSERT(m.u.connect_resp.lease > POOL_SERVER_INDEX &&
				    m.u.connect_resp.lease < pool);
		break;
	case IPC_CLOSED:
	case IPC_STATS:
		FUZZ_ASSERT(TERMINATED(m.u.closed.reason) && m.u.closed.end_session <= 1);
		break;
	case IPC_SETTINGS:
		check_settings(&m.u.settings);
		break;
	case IPC_DTLS:
		FUZZ_ASSERT(m.u.dtls.up <= 2 && TERMINATED(m.u.dtls.cipher));
		break;
	case IPC_WSTATS:
		FUZZ_ASSERT(m.u.wstats.handshakes <= IPC_WSTATS_MAX_HANDSHAKES);
		break;
	case IPC_SVC_STATS:
		FUZZ_ASSERT(m.u.svc_stats.n <= SVC_STATS_MAX);
		break;
	case IPC_READY:
	case IPC_KICK:
	case IPC_DISCONNECT:
	case IPC_AUTH_CANCEL:
	case IPC_DRAIN:
		break;
	default:
		FUZZ_ASSERT(!"accepted an unknown type");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ipc_dir dir;
	size_t len, seen;
	uint32_t pool;
	char err[128];
	uint8_t *copy;
	int r;

	if (size == 0)
		return 0;
	dir = data[0] & 1 ? IPC_FROM_MASTER : IPC_FROM_WORKER;
	pool = data[0] & 2 ? POOL : 0;
	len = size - 1;
	seen = len;
	if (data[0] & 4 && dir == IPC_FROM_WORKER && len > sizeof(struct ipc_msg))
		seen = sizeof(struct ipc_msg);
	/* An exact-size copy at an odd address: no alignment is promised,
	 * and ASan sees any read past what the receiver got. */
	copy = malloc(seen + 1);
	FUZZ_ASSERT(copy != NULL);
	memcpy(copy + 1, data + 1, seen);
	r = ipc_check(copy + 1, len, dir, pool, err, sizeof(err));
	FUZZ_ASSERT(r != 0 || seen == len);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_ASSERT(r == 0 ? err[0] == '\0' : err[0] != '\0');
	if (r == 0)
		check_accepted(copy + 1, len, dir, pool);
	free(copy);
	return 0;
}
