/* Master and workers: vets a control datagram (common/ipc.h) before the
 * receiver touches its fields.  Both ends are the same binary, so a bad
 * message means a bug or memory corruption on the other side; either way it
 * must not turn into an out-of-bounds index, an unterminated string or a
 * header injected into a client's HTTP answer.  Owns nothing; pure. */
#include "config.h"
#include "common/ipc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/grouplist.h"
#include "common/passwd.h"
#include "common/policy.h"
#include "common/pool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Who may send what.  Anything not in this table is an unknown type. */
static const struct {
	uint32_t type;
	const char *name;
	enum ipc_dir dir;
} ipc_types[] = {
    {IPC_READY, "IPC_READY", IPC_FROM_WORKER},
    {IPC_AUTH_REQ, "IPC_AUTH_REQ", IPC_FROM_WORKER},
    {IPC_AUTH_RESP, "IPC_AUTH_RESP", IPC_FROM_MASTER},
    {IPC_CONNECT_REQ, "IPC_CONNECT_REQ", IPC_FROM_WORKER},
    {IPC_CONNECT_RESP, "IPC_CONNECT_RESP", IPC_FROM_MASTER},
    {IPC_CLOSED, "IPC_CLOSED", IPC_FROM_WORKER},
    {IPC_KICK, "IPC_KICK", IPC_FROM_MASTER},
    {IPC_STATS, "IPC_STATS", IPC_FROM_WORKER},
    {IPC_DISCONNECT, "IPC_DISCONNECT", IPC_FROM_MASTER},
    {IPC_SETTINGS, "IPC_SETTINGS", IPC_FROM_MASTER},
    {IPC_TLS, "IPC_TLS", IPC_FROM_MASTER},
    {IPC_AUTH_CANCEL, "IPC_AUTH_CANCEL", IPC_FROM_WORKER},
    {IPC_DTLS, "IPC_DTLS", IPC_FROM_WORKER},
    {IPC_WSTATS, "IPC_WSTATS", IPC_FROM_WORKER},
    {IPC_POLICY, "IPC_POLICY", IPC_FROM_MASTER},
    {IPC_DRAIN, "IPC_DRAIN", IPC_FROM_MASTER},
    {IPC_SVC, "IPC_SVC", IPC_FROM_MASTER},
    {IPC_SVC_STATS, "IPC_SVC_STATS", IPC_FROM_WORKER},
};

_Static_assert(POLICY_MAX <= IPC_TLS_MAX, "a worker receives at most IPC_TLS_MAX bytes");

struct chk {
	const char *type; /* name for messages */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct chk *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (k->err && k->errlen) {
		n = snprintf(k->err, k->errlen, "%s: ", k->type);
		if (n >= 0 && (size_t)n < k->errlen) {
			va_start(ap, fmt);
			vsnprintf(k->err + n, k->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EBADMSG;
}

const char *ipc_type_name(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ipc_types); i++)
		if (ipc_types[i].type == type)
			return ipc_types[i].name;
	return "unknown";
}

/* A C string that fills at most the whole array, NUL included. */
static int str_ok(struct chk *k, const char *what, const char *p, size_t size)
{
	if (memchr(p, '\0', size) == NULL)
		return bad(k, "%s is not NUL-terminated within %zu bytes", what, size);
	return 0;
}

/* Text that the worker copies into an HTTP header or a log line: no CR,
 * LF or other control character that could end the line early. */
static int text_ok(struct chk *k, const char *what, const char *p, size_t size, bool empty_ok)
{
	size_t i;

	if (str_ok(k, what, p, size) < 0)
		return -EBADMSG;
	if (!empty_ok && p[0] == '\0')
		return bad(k, "%s is empty", what);
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return bad(k, "%s has a control character at offset %zu", what, i);
	return 0;
}

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A name the worker writes into an XML attribute as it is. */
static int name_ok(struct chk *k, const char *what, const char *p, size_t size)
{
	size_t i;

	if (str_ok(k, what, p, size) < 0)
		return -EBADMSG;
	if (p[0] == '\0')
		return bad(k, "%s is empty", what);
	for (i = 0; p[i] != '\0'; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-'))
			return bad(k, "%s has '%c' at offset %zu", what, p[i], i);
	return 0;
}

/* Text for an XML element: LF (and TAB, CR) allowed, no other control
 * character (XML 1.0 cannot carry them). */
static int xml_text_ok(struct chk *k, const char *what, const char *p, size_t size)
{
	size_t i;

	if (str_ok(k, what, p, size) < 0)
		return -EBADMSG;
	for (i = 0; p[i] != '\0'; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') ||
		    p[i] == 0x7f)
			return bad(k, "%s has a control character at offset %zu", what, i);
	return 0;
}

/* The form the worker shows: every field is written into XML. */
static int check_form(struct chk *k, const struct ipc_form *f)
{
	if (f->n > IPC_INPUTS_MAX)
		return bad(k, "form has %u inputs, over %d", f->n, IPC_INPUTS_MAX);
	if (f->cert_request > 1)
		return bad(k, "form cert_request %u is not 0 or 1", f->cert_request);
	for (uint32_t i = 0; i < f->n; i++) {
		if (f->in[i].type != IPC_INPUT_TEXT && f->in[i].type != IPC_INPUT_PASSWORD)
			return bad(k, "form input %u has type %u", i, f->in[i].type);
		if (name_ok(k, "form input name", f->in[i].name, sizeof(f->in[i].name)) < 0 ||
		    text_ok(k, "form input label", f->in[i].label, sizeof(f->in[i].label), true) <
			0)
			return -EBADMSG;
	}
	if ((f->auth_id[0] || f->n) &&
	    name_ok(k, "form auth_id", f->auth_id, sizeof(f->auth_id)) < 0)
		return -EBADMSG;
	if (xml_text_ok(k, "form message", f->message, sizeof(f->message)) < 0 ||
	    xml_text_ok(k, "form banner", f->banner, sizeof(f->banner)) < 0 ||
	    text_ok(k, "form error", f->error, sizeof(f->error), true) < 0)
		return -EBADMSG;
	if (str_ok(k, "form group_list", f->group_list, sizeof(f->group_list)) < 0 ||
	    str_ok(k, "form group_sel", f->group_sel, sizeof(f->group_sel)) < 0)
		return -EBADMSG;
	if (f->group_list[0] && !grouplist_ok(f->group_list, sizeof(f->group_list)))
		return bad(k, "form group_list is not a list of group names");
	if (f->group_sel[0] && !grouplist_has(f->group_list, f->group_sel))
		return bad(k, "form group_sel is not one of group_list");
	return 0;
}

static int check_auth_req(struct chk *k, const struct ipc_msg *m)
{
	/* Client text: any byte but NUL; the master only looks it up. */
	if (str_ok(k, "user", m->u.auth_req.user, sizeof(m->u.auth_req.user)) < 0 ||
	    str_ok(k, "pass", m->u.auth_req.pass, sizeof(m->u.auth_req.pass)) < 0 ||
	    str_ok(k, "peer", m->u.auth_req.peer, sizeof(m->u.auth_req.peer)) < 0 ||
	    str_ok(k, "group", m->u.auth_req.group, sizeof(m->u.auth_req.group)) < 0)
		return -EBADMSG;
	if (m->u.auth_req.flags & ~(IPC_AUTH_START | IPC_AUTH_CERT_FAIL))
		return bad(k, "flags 0x%x unknown", m->u.auth_req.flags);
	if (m->u.auth_req.n_ans > IPC_INPUTS_MAX)
		return bad(k, "%u answers, over %d", m->u.auth_req.n_ans, IPC_INPUTS_MAX);
	for (uint32_t i = 0; i < m->u.auth_req.n_ans; i++)
		if (str_ok(k, "answer name", m->u.auth_req.ans[i].name,
			   sizeof(m->u.auth_req.ans[i].name)) < 0 ||
		    str_ok(k, "answer value", m->u.auth_req.ans[i].value,
			   sizeof(m->u.auth_req.ans[i].value)) < 0)
			return -EBADMSG;
	/* The worker's word about a certificate: logged and looked up. */
	if (text_ok(k, "cert_user", m->u.auth_req.cert_user, sizeof(m->u.auth_req.cert_user),
		    true) < 0 ||
	    text_ok(k, "cert_groups", m->u.auth_req.cert_groups, sizeof(m->u.auth_req.cert_groups),
		    true) < 0)
		return -EBADMSG;
	return 0;
}

static int check_auth_resp(struct chk *k, const struct ipc_msg *m)
{
	const char *ck = m->u.auth_resp.cookie;
	int32_t r = m->u.auth_resp.result;
	size_t i, n;

	/* -1: the master could not or would not check (stopping, no room). */
	if ((r < -1 || r > PW_WEAK_HASH) && r != IPC_AUTH_FORM)
		return bad(k, "result %d is not a password check result", (int)r);
	if (check_form(k, &m->u.auth_resp.form) < 0)
		return -EBADMSG;
	if (str_ok(k, "cookie", ck, sizeof(m->u.auth_resp.cookie)) < 0)
		return -EBADMSG;
	/* A refusal's reason goes into the login form shown to the user. */
	if (text_ok(k, "reason", m->u.auth_resp.reason, sizeof(m->u.auth_resp.reason), true) < 0)
		return -EBADMSG;
	if (r != PW_OK)
		return 0;
	/* It goes into a Set-Cookie header as it is. */
	n = strlen(ck);
	if (n != TICKET_V1_TEXT_LEN && n != TICKET_V2_TEXT_LEN)
		return bad(k, "cookie of %zu characters, not %d or %d", n, TICKET_V1_TEXT_LEN,
			   TICKET_V2_TEXT_LEN);
	for (i = 0; i < n; i++)
		if (!b64url_char(ck[i]))
			return bad(k, "cookie byte %zu is not base64url", i);
	return 0;
}

static int check_connect_req(struct chk *k, const struct ipc_msg *m)
{
	uint32_t n = m->u.connect_req.cookie_len;

	if (str_ok(k, "peer", m->u.connect_req.peer, sizeof(m->u.connect_req.peer)) < 0)
		return -EBADMSG;
	/* A version 1 or a version 2 ticket (common/ticket.h). */
	if (n != TICKET_V1_LEN && n != TICKET_V2_LEN)
		return bad(k, "cookie of %u bytes, not %d or %d", n, TICKET_V1_LEN, TICKET_V2_LEN);
	return 0;
}

static int check_connect_resp(struct chk *k, const struct ipc_msg *m, uint32_t pool_size)
{
	int32_t st = m->u.connect_resp.status;
	uint32_t lease = m->u.connect_resp.lease;

	if (st != 200 && st != 401 && st != 403 && st != 503)
		return bad(k, "status %d is not 200, 401, 403 or 503", (int)st);
	/* The reason goes into an X-Reason header, the user into the log. */
	if (text_ok(k, "reason", m->u.connect_resp.reason, sizeof(m->u.connect_resp.reason), true) <
		0 ||
	    text_ok(k, "banner", m->u.connect_resp.banner, sizeof(m->u.connect_resp.banner), true) <
		0 ||
	    text_ok(k, "user", m->u.connect_resp.user, sizeof(m->u.connect_resp.user), st != 200) <
		0)
		return -EBADMSG;
	/* The group picks the tunnel's policy by name. */
	if (text_ok(k, "group", m->u.connect_resp.group, sizeof(m->u.connect_resp.group), true) < 0)
		return -EBADMSG;
	if (m->u.connect_resp.group[0] &&
	    !cfg_group_name_valid(m->u.connect_resp.group, strlen(m->u.connect_resp.group)))
		return bad(k, "group \"%s\" is not a group name", m->u.connect_resp.group);
	/* The lease indexes the worker's lease -> connection map. */
	if (st == 200 && pool_size != 0 && (lease <= POOL_SERVER_INDEX || lease >= pool_size))
		return bad(k, "lease %u is outside %u..%u", lease, POOL_SERVER_INDEX + 1,
			   pool_size - 1);
	/* The session's routes become X-CSTP-Split-Include headers. */
	if (m->u.connect_resp.n_routes > IPC_SESS_ROUTES_MAX)
		return bad(k, "n_routes %u > %d", m->u.connect_resp.n_routes, IPC_SESS_ROUTES_MAX);
	for (uint32_t i = 0; i < m->u.connect_resp.n_routes; i++)
		if (!cfg_prefix_valid(&m->u.connect_resp.routes[i]))
			return bad(k, "route %u is no valid prefix", i);
	return 0;
}

/* The settings blob is checked by the config table itself: bounds, counts,
 * families and prefix lengths as conf/ defines them. */
static int check_settings(struct chk *k, const struct ipc_settings *st)
{
	char why[160];

	if (st->len > sizeof(st->blob))
		return bad(k, "len %u > %zu", st->len, sizeof(st->blob));
	if (cfg_settings_apply(st->blob, st->len, NULL, why, sizeof(why)) < 0)
		return bad(k, "%s", why);
	return 0;
}

/* The master puts the peer into the steering map and the cipher into
 * tunnelctl's answers. */
static int check_dtls(struct chk *k, const struct ipc_msg *m)
{
	uint32_t fam = m->u.dtls.peer.family;

	if (m->u.dtls.up > 2)
		return bad(k, "up %u is not 0, 1 or 2", m->u.dtls.up);
	if (m->u.dtls.up && fam != AF_INET && fam != AF_INET6)
		return bad(k, "peer has address family %u", fam);
	return text_ok(k, "cipher", m->u.dtls.cipher, sizeof(m->u.dtls.cipher), true);
}

/* The groups' policy: checked by its own unpacker, which builds nothing
 * here.  len includes the type word. */
static int check_policy(struct chk *k, const void *buf, size_t len)
{
	char why[128];

	if (len > POLICY_MAX)
		return bad(k, "%zu bytes, over %u", len, (unsigned)POLICY_MAX);
	if (policy_unpack(buf, len, NULL, why, sizeof(why)) < 0)
		return bad(k, "%s", why);
	return 0;
}

/* The master looks each id up; counts are counts. */
static int check_svc_stats(struct chk *k, const struct ipc_msg *m)
{
	if (m->u.svc_stats.n > SVC_STATS_MAX)
		return bad(k, "n %u > %u", m->u.svc_stats.n, SVC_STATS_MAX);
	return 0;
}

/* A variable-size message: header, certificate, priorities. */
static int check_tls(struct chk *k, const unsigned char *buf, size_t len)
{
	struct ipc_tls h;
	size_t body;

	if (len < sizeof(h))
		return bad(k, "%zu bytes, shorter than its header", len);
	if (len > IPC_TLS_MAX)
		return bad(k, "%zu bytes, over %u", len, (unsigned)IPC_TLS_MAX);
	memcpy(&h, buf, sizeof(h));
	/* Each part is bounded first, so the sum cannot wrap. */
	if (h.cert_len == 0 || h.cert_len > IPC_TLS_MAX || h.prio_len == 0 ||
	    h.prio_len > IPC_TLS_MAX)
		return bad(k, "part lengths %u, %u not within 1..%u", h.cert_len, h.prio_len,
			   (unsigned)IPC_TLS_MAX);
	if (h.key_gen == 0)
		return bad(k, "key generation 0");
	if (h.ca_len > IPC_TLS_MAX || h.crl_len > IPC_TLS_MAX || (h.crl_len && !h.ca_len))
		return bad(k, "CA and CRL lengths %u, %u", h.ca_len, h.crl_len);
	if (str_ok(k, "user_field", h.user_field, sizeof(h.user_field)) < 0 ||
	    str_ok(k, "group_field", h.group_field, sizeof(h.group_field)) < 0)
		return -EBADMSG;
	body = (size_t)h.cert_len + h.prio_len + h.ca_len + h.crl_len;
	if (body != len - sizeof(h))
		return bad(k, "parts add up to %zu bytes, the datagram carries %zu", body,
			   len - sizeof(h));
	/* The priorities become a C string: a NUL would cut them short. */
	if (memchr(buf + sizeof(h) + h.cert_len, '\0', h.prio_len) != NULL)
		return bad(k, "the priority string holds a NUL byte");
	return 0;
}

static int check_closed(struct chk *k, const struct ipc_msg *m)
{
	if (m->u.closed.end_session > 1)
		return bad(k, "end_session %u is not 0 or 1", m->u.closed.end_session);
	return str_ok(k, "reason", m->u.closed.reason, sizeof(m->u.closed.reason));
}

static int check_wstats(struct chk *k, const struct ipc_msg *m)
{
	if (m->u.wstats.handshakes > IPC_WSTATS_MAX_HANDSHAKES)
		return bad(k, "handshakes %u over %u", m->u.wstats.handshakes,
			   IPC_WSTATS_MAX_HANDSHAKES);
	return 0;
}

int ipc_check(const void *buf, size_t len, enum ipc_dir dir, uint32_t pool_size, char *err,
	      size_t errlen)
{
	struct chk k = {"control message", err, errlen};
	const struct ipc_msg *m;
	struct ipc_msg copy;
	uint32_t type;
	size_t i;

	if (err && errlen)
		err[0] = '\0';
	if (len < sizeof(type))
		return bad(&k, "%zu bytes, too short for a type", len);
	memcpy(&type, buf, sizeof(type));
	for (i = 0; i < ARRAY_SIZE(ipc_types) && ipc_types[i].type != type; i++)
		;
	if (i == ARRAY_SIZE(ipc_types))
		return bad(&k, "unknown type %u", type);
	k.type = ipc_types[i].name;
	if (ipc_types[i].dir != dir)
		return bad(&k, "sent by the %s, but it travels the other way",
			   dir == IPC_FROM_WORKER ? "worker" : "master");
	if (type == IPC_TLS || type == IPC_POLICY) /* the variable-size ones */
		return type == IPC_TLS ? check_tls(&k, buf, len) : check_policy(&k, buf, len);
	if (type == IPC_SVC)
		return svcmsg_check(buf, len, err, errlen);
	if (len != sizeof(struct ipc_msg))
		return bad(&k, "%zu bytes, expected %zu", len, sizeof(struct ipc_msg));
	/* recv() buffers carry no alignment promise. */
	memcpy(&copy, buf, sizeof(copy));
	m = &copy;

	switch (type) {
	case IPC_AUTH_REQ:
		if (check_auth_req(&k, m) < 0)
			goto fail;
		break;
	case IPC_AUTH_RESP:
		if (check_auth_resp(&k, m) < 0)
			goto fail;
		break;
	case IPC_CONNECT_REQ:
		if (check_connect_req(&k, m) < 0)
			goto fail;
		break;
	case IPC_CONNECT_RESP:
		if (check_connect_resp(&k, m, pool_size) < 0)
			goto fail;
		break;
	case IPC_CLOSED:
	case IPC_STATS: /* IPC_STATS uses the layout of IPC_CLOSED */
		if (check_closed(&k, m) < 0)
			goto fail;
		break;
	case IPC_SETTINGS:
		if (check_settings(&k, &m->u.settings) < 0)
			goto fail;
		break;
	case IPC_DTLS:
	case IPC_SVC_STATS:
		if ((type == IPC_DTLS ? check_dtls(&k, m) : check_svc_stats(&k, m)) < 0)
			goto fail;
		break;
	case IPC_WSTATS:
		if (check_wstats(&k, m) < 0)
			goto fail;
		break;
	default: /* IPC_READY, IPC_KICK, IPC_DISCONNECT, IPC_AUTH_CANCEL, IPC_DRAIN: any field
		  values do (the ref names a request of the sender's only) */
		break;
	}
	explicit_bzero(&copy, sizeof(copy)); /* it may hold a password */
	return 0;
fail:
	explicit_bzero(&copy, sizeof(copy));
	return -EBADMSG;
}
