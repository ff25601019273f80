/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the logins in progress, one login dialogue
 * (daemon/dialog.c) per client connection, driven by the workers'
 * requests and the backends' answers from the auth processes (hashpool.c,
 * backend.h).  Owns the table of dialogues, the TOTP secrets of the
 * password file and the last time step used by each TOTP user. */
#ifndef TUNNELD_LOGINS_H
#define TUNNELD_LOGINS_H

#include <time.h>

#include "common/ipc.h"
#include "conf/config.h"

struct hash_done;
struct totp_db;

/* cfg is read at each request, so a reload applies. */
void logins_open(const struct cfg *cfg);
/* Free the dialogues and the secrets. */
void logins_close(void);
/* In a forked worker: the same (wiped). */
void logins_forget(void);

/* The TOTP secrets beside the password file at start: 0, or -1 logged. */
int logins_load_totp(const char *passwd_path);
/* Reload: put *t in place of the secrets in use, which land in *t. */
void logins_swap_totp(struct totp_db **t);
/* The secrets in use, for the auth processes. */
const struct totp_db *logins_totp(void);

/* IPC_AUTH_REQ from worker w (vetted by ipc_check()): refused at once
 * (stopping, banned), or a step of its connection's dialogue: a form, a
 * request to the backend (hashpool_submit*), whose answer comes to
 * auth_login_done, or a session (auth_grant).  m is wiped. */
void auth_login(unsigned w, struct ipc_msg *m);
/* IPC_AUTH_CANCEL: the connection went away; its dialogue goes. */
void auth_cancel(unsigned w, struct ipc_msg *m);
/* A backend answered (hashpool.c's done callback); failures count
 * towards bans, even when the client left meanwhile. */
void auth_login_done(const struct hash_done *d);
/* Worker w died: its dialogues go. */
void logins_worker_gone(unsigned w);
/* Once a second: dialogues older than limits.auth-timeout go. */
void logins_tick(time_t now);

#endif
