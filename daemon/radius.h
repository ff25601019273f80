/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS set-up (radius.* keys).  Owns the shared secret
 * (read from radius.secret-file at start), the prison of the processes
 * that talk to RADIUS servers, and the master's own radcli handle, which
 * holds only the dictionary (coa.c reads Disconnect and CoA requests with
 * it).  The processes (hashing with RADIUS on, accounting) get their
 * radcli from radius_client(), called in them after fork. */
#ifndef TUNNELD_RADIUS_H
#define TUNNELD_RADIUS_H

#include <stdbool.h>

#include "conf/config.h"

struct rc_conf;

/* At start, with RADIUS on: read the secret, prepare the prison, check
 * that radcli takes the settings.  0 (also when RADIUS is off), or -1
 * with the reason logged.  cfg must outlive the module (the live one). */
int radius_open(const struct cfg *cfg);
bool radius_on(void);
/* The shared secret, for coa.c; "" when off. */
const char *radius_secret(void);
/* The master's radcli handle (dictionary only), NULL when off. */
struct rc_conf *radius_dict(void);
/* In a new RADIUS process, before it is confined: radcli for the
 * servers (hashpool_env.radius_open, acct_env.open); NULL on failure. */
struct rc_conf *radius_client(void);
/* The chroot directory of RADIUS processes (it holds etc/services, which
 * radcli's getaddrinfo reads), NULL when not running as root. */
const char *radius_prison(void);
/* In a forked process that is no RADIUS one (worker, key process): the
 * secret wiped, the handle freed. */
void radius_forget(void);
void radius_close(void);

#endif
