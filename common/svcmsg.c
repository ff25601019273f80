/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master and workers: the IPC_SVC table of services (common/svcmsg.h),
 * checked before a worker uses any field.  Owns nothing; pure. */
#include "config.h"
#include "common/svcmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err && errlen) {
		n = snprintf(err, errlen, "IPC_SVC: ");
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < errlen)
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static bool addr_ok(const struct cfg_listen *l)
{
	sa_family_t f = l->ss.ss_family;

	return (f == AF_INET && l->sslen == sizeof(struct sockaddr_in)) ||
	       (f == AF_INET6 && l->sslen == sizeof(struct sockaddr_in6));
}

static int def_ok(const struct svc_def *d, uint32_t i, char *err, size_t errlen)
{
	size_t nl = strnlen(d->name, sizeof(d->name));

	if (nl == 0 || nl == sizeof(d->name))
		return bad(err, errlen, "service %u: name empty or not terminated", i);
	for (size_t k = 0; k < nl; k++)
		if ((unsigned char)d->name[k] <= 0x20 || d->name[k] == 0x7f)
			return bad(err, errlen, "service %u: a control character in its name", i);
	if (!addr_ok(&d->listen) || !addr_ok(&d->connect))
		return bad(err, errlen, "service %u: an address of an unknown family", i);
	if (memchr(d->listen.text, 0, sizeof(d->listen.text)) == NULL ||
	    memchr(d->connect.text, 0, sizeof(d->connect.text)) == NULL)
		return bad(err, errlen, "service %u: an address text not terminated", i);
	if (d->proxy_protocol > 1 || d->max_connections == 0 || d->connect_timeout == 0 ||
	    d->idle_timeout == 0 || d->key_gen == 0)
		return bad(err, errlen, "service %u: a number out of range", i);
	if (d->cert_len == 0 || d->cert_len > SVC_CERT_MAX || d->ca_len > SVC_CA_MAX)
		return bad(err, errlen, "service %u: certificate %u or CA %u bytes", i, d->cert_len,
			   d->ca_len);
	return 0;
}

int svcmsg_check(const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	struct ipc_svc h;
	struct svc_def d;
	size_t need;

	if (len < sizeof(h))
		return bad(err, errlen, "%zu bytes, shorter than its header", len);
	if (len > IPC_SVC_MAX)
		return bad(err, errlen, "%zu bytes, over %u", len, (unsigned)IPC_SVC_MAX);
	memcpy(&h, p, sizeof(h));
	if (h.n > CFG_MAX_SERVICES || h.prio_len == 0 || h.prio_len > 1024)
		return bad(err, errlen, "%u services, priorities of %u bytes", h.n, h.prio_len);
	need = sizeof(h) + (size_t)h.n * sizeof(d) + h.prio_len;
	if (need > len)
		return bad(err, errlen, "the table needs %zu bytes, the datagram has %zu", need,
			   len);
	if (memchr(p + sizeof(h) + (size_t)h.n * sizeof(d), 0, h.prio_len))
		return bad(err, errlen, "the priority string holds a NUL byte");
	for (uint32_t i = 0; i < h.n; i++) {
		memcpy(&d, p + sizeof(h) + (size_t)i * sizeof(d), sizeof(d));
		if (def_ok(&d, i, err, errlen) < 0)
			return -EBADMSG;
		need += (size_t)d.cert_len + d.ca_len; /* each bounded: no wrap */
	}
	if (need != len)
		return bad(err, errlen, "parts add up to %zu bytes, the datagram carries %zu", need,
			   len);
	return 0;
}

void svcmsg_def(const void *buf, uint32_t i, struct svc_def *out)
{
	memcpy(out, (const char *)buf + sizeof(struct ipc_svc) + (size_t)i * sizeof(*out),
	       sizeof(*out));
}

static uint32_t count(const void *buf)
{
	struct ipc_svc h;

	memcpy(&h, buf, sizeof(h));
	return h.n;
}

const char *svcmsg_prio(const void *buf)
{
	return (const char *)buf + sizeof(struct ipc_svc) +
	       (size_t)count(buf) * sizeof(struct svc_def);
}

void svcmsg_part(const void *buf, uint32_t i, const char **cert, const char **ca)
{
	struct ipc_svc h;
	struct svc_def d;
	const char *p;

	memcpy(&h, buf, sizeof(h));
	p = svcmsg_prio(buf) + h.prio_len;
	for (uint32_t k = 0;; k++) {
		svcmsg_def(buf, k, &d);
		if (k == i) {
			*cert = p;
			*ca = p + d.cert_len;
			return;
		}
		p += (size_t)d.cert_len + d.ca_len;
	}
}
