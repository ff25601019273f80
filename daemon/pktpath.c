/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the record of the packet path (pktpath.h).  Owns one
 * static struct pktpath, filled at start-up by tun.c, slots.c and udp.c,
 * read by control.c. */
#include "config.h"
#include "daemon/pktpath.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct pktpath P;

struct pktpath *pktpath(void)
{
	return &P;
}

void pktpath_on(struct pktpath_item *it)
{
	it->on = true;
	it->why[0] = '\0';
}

void pktpath_off(struct pktpath_item *it, const char *fmt, ...)
{
	va_list ap;

	it->on = false;
	va_start(ap, fmt);
	vsnprintf(it->why, sizeof(it->why), fmt, ap);
	va_end(ap);
}

const char *pktpath_bpf_why(int r)
{
	static char buf[PKTPATH_WHY_LEN];

	/* EPERM is what a sandbox gives: a capability set without CAP_BPF
	 * (or, before Linux 5.8, CAP_SYS_ADMIN), a seccomp filter without
	 * bpf, or kernel.unprivileged_bpf_disabled for a process without
	 * either capability. */
	if (r == -EPERM || r == -EACCES)
		snprintf(buf, sizeof(buf),
			 "%s: needs CAP_BPF (CAP_SYS_ADMIN before Linux 5.8) "
			 "and the bpf syscall",
			 strerror(-r));
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-r));
	return buf;
}
