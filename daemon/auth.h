/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the answers to workers' login and tunnel requests, and
 * the session table and password db they are checked against.  Answers
 * go out through wchan_send() (wchan.h), so a test can link a fake one
 * and check the login rules without workers. */
#ifndef TUNNELD_AUTH_H
#define TUNNELD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/ipc.h"
#include "conf/config.h"
#include "daemon/bans.h"

struct hash_done;
struct passwd_db;
struct sess_table;
struct session;

/* The password file at start: 0, or -1 with the reason logged. */
int auth_load_users(const char *path);
/* Reload: put *pw in place of the db in use, which lands in *pw for the
 * caller to free. */
void auth_swap_users(struct passwd_db **pw);
/* After a swap: end the sessions whose user is gone, locked or has a new
 * password (auth_disconnect's way: cookie invalid at once, DISCONNECT to a
 * live tunnel).  How many. */
unsigned auth_revoke_changed(void);
size_t auth_user_count(void);
/* The db in use, for the hashing processes (hashpool.c). */
const struct passwd_db *auth_users(void);

/* The shared owner[lease] map (mmap, for the workers too) and the
 * session table on cfg's address pools.  cfg is read at each request, so
 * a reload applies.  0, or -1 with the reason logged. */
int auth_open(const struct cfg *cfg);
/* Free the table, the db and the map. */
void auth_close(void);
/* In a forked worker: wipe the table (cookies) and the password hashes;
 * the owner map stays, the worker reads it. */
void auth_forget(void);
/* The owner map as workers see it: read-only, and no fork of the master
 * has the writable mapping (ownermap.h). */
const uint8_t *auth_owner_view(void);
/* In a forked hashing process: wipe the table and unmap the owner map;
 * the password db stays, it is what the process checks against. */
void auth_forget_sessions(void);

/* Steering map (steer.c) to update at each CONNECT; -1 for none. */
void auth_use_steering(int map_fd);
/* Graceful stop: every login from now on is refused. */
void auth_stop_logins(void);

/* The table, for the control socket and the status line. */
struct sess_table *auth_sessions(void);
/* (logins.c) Logins sent to the auth processes since the start (tunnelctl
 * status): a session re-created from its cookie costs none. */
unsigned long auth_password_checks(void);

/* Requests from worker w, already vetted by ipc_check(); each answers
 * (if at all) with wchan_send(w, ...).  m may be modified (wiped).  The
 * logins (IPC_AUTH_REQ, IPC_AUTH_CANCEL) are daemon/logins.c's. */
void auth_connect(unsigned w, struct ipc_msg *m); /* IPC_CONNECT_REQ */
void auth_closed(unsigned w, struct ipc_msg *m);  /* IPC_CLOSED */
void auth_stats(unsigned w, struct ipc_msg *m);	  /* IPC_STATS */

/* A login that passed (daemon/logins.c): whose, from where, how. */
struct auth_login {
	const char *user, *peer;
	const char *groups; /* comma-separated, NULL: none */
	int backend;	    /* enum sess_backend */
	const char *how;    /* for the log line ("certificate"), NULL: nothing */
	const char *group;  /* chosen in the login form (auth.group-select), NULL: none */
	/* The backend's last answer (its timing; with RADIUS the sid and
	 * the Access-Accept's attributes); NULL for a certificate alone. */
	const struct hash_done *done;
};
/* (grant.c) A session and its cookie to worker w's connection ref, unless the
 * server stops or the user holds limits.max-sessions-per-user (a refusal
 * with the reason). */
void auth_grant(unsigned w, struct ipc_ref ref, const struct auth_login *g);
/* The ban policy in force, and the log line of a ban that started. */
struct ban;
struct ban_policy auth_ban_policy(void);
void auth_log_ban(const struct ban *b, const struct ban_policy *pol);
/* SIGQUIT came: no new logins. */
bool auth_draining(void);
/* The live config (auth_open's). */
const struct cfg *auth_config(void);
/* IPC_DTLS: the tunnel's channel changed (steers its peer's datagrams). */
void auth_dtls(unsigned w, struct ipc_msg *m);

/* Worker w died: its checks are withdrawn, its tunnels become idle
 * sessions. */
void auth_worker_gone(unsigned w);
/* End the session (tunnelctl disconnect): its cookie is refused from now
 * on, its client gets a DISCONNECT frame (and does not come back), and it
 * ends when the tunnel is closed.  0 or -errno.  May free the slot of s
 * (sessions.h: used = false). */
int auth_disconnect(struct session *s);
/* After a reload committed the config: the groups' pools carve anew. */
void auth_reconfigure(void);
/* End s for why (a RADIUS Disconnect-Request, a timeout): as
 * auth_disconnect, with cause (enum sess_end_cause) for accounting.  May
 * free the slot of s. */
void auth_end(struct session *s, const char *why, uint8_t cause);
/* Stopping: every session ends now (accounting sends their Stops), cause
 * for those that had none. */
void auth_end_all(const char *why, uint8_t cause);
/* Once a second: sessions past reconnect-timeout end, old bans go. */
void auth_tick(time_t now);

#endif
