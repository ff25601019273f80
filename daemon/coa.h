/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the Disconnect and CoA listener (RFC 5176) on
 * radius.coa-listen.  UDP, non-blocking, in the master's loop: a request
 * costs two hashes, one walk of the session table and one sendto, and
 * nothing in it waits.  A request whose authenticator does not hold (not
 * the shared secret) is dropped without an answer, as RFC 5176 says; one
 * that names no session here gets a NAK with Error-Cause 503.  Sessions
 * are named by Acct-Session-Id (the sid's 16 hex digits) or User-Name,
 * either with Framed-IP-Address / Framed-IPv6-Address to narrow it down;
 * every session that matches all the attributes given is hit.
 * Disconnect-Request ends them (their cookies are refused from then on,
 * Acct-Terminate-Cause Admin-Reset); CoA-Request changes Session-Timeout,
 * Idle-Timeout, Acct-Interim-Interval and Class.  Owns its sockets. */
#ifndef TUNNELD_COA_H
#define TUNNELD_COA_H

#include "conf/config.h"

/* Bind radius.coa-listen; each socket joins ep as EV_COA with its index.
 * 0 (also with none), or -errno logged. */
int coa_open(int ep, const struct cfg *cfg);
/* EV_COA: read and answer what waits on socket idx (at most a batch). */
void coa_on_event(unsigned idx);
/* In a forked process: close the sockets. */
void coa_forget(void);
void coa_close(void);

#endif
