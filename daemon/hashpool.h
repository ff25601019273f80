/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the pool of hashing processes that check passwords off
 * the master's loop, and the queues of checks that wait for them.  Each
 * worker has its own bounded queue; a free process takes the next check
 * of the next worker in turn, so a flood through one worker gets no more
 * than its share.  A check whose connection went away before its turn is
 * dropped, not hashed. */
#ifndef TUNNELD_HASHPOOL_H
#define TUNNELD_HASHPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/ipc.h"
#include "daemon/hasher.h"

struct passwd_db;
struct totp_db;

struct hash_done;

struct hashpool_env {
	unsigned n;	    /* hashing processes */
	unsigned n_workers; /* queues */
	struct hasher_id id;
	/* Run first in each new hashing process: closes and wipes what the
	 * master's other parts hold (TLS credentials, sessions, cookies). */
	void (*forget)(void);
	/* Each check's end, in the master (struct hash_done below). */
	void (*done)(const struct hash_done *d);
	/* RADIUS logins (radius.auth-servers): run in each new process
	 * before it is confined, radcli for the servers; NULL: password
	 * checks.  A process whose call fails exits. */
	struct rc_conf *(*radius_open)(void);
	unsigned node_id; /* session.node-id: the top byte of each sid */
};

/* A check that ended (env->done's argument). */
struct hash_done {
	unsigned w; /* the worker that asked */
	struct ipc_ref ref;
	const char *user, *peer;
	/* enum passwd_result, or -1 when the process checking it died. */
	int result;
	/* The worker withdrew it (IPC_AUTH_CANCEL, or the worker died)
	 * while it was being hashed: nobody waits for the answer. */
	bool cancelled;
	uint64_t usec; /* from hashpool_submit() to its end (waiting included) */
	/* The session to be: its fleet-wide id (sessions.h) and NAS-Port,
	 * already in the Access-Request with RADIUS. */
	uint64_t sid;
	uint32_t nas_port;
	/* RADIUS, PW_OK: the Access-Accept's attributes (checked with
	 * radattr_check); NULL for a password check. */
	const struct radius_grant *grant;
	/* The dialogue's (daemon/backend.h): the request's enum bk_op, the
	 * backend's whole answer (NULL when the process died), the process
	 * that gave it (a conversation's answers go back to it). */
	uint32_t op;
	const struct hash_resp *resp;
	int proc;
};

/* A request of the dialogue beyond a first check: its enum bk_op, the
 * conversation, and the process that holds it (-1: any); the session to
 * be of the login it goes on (its first request's hash_done sid and
 * nas_port: a RADIUS challenge's answer names the same), 0: a new one. */
struct hash_op {
	uint32_t op;
	uint32_t conv;
	int proc;
	uint64_t sid;
	uint32_t nas_port;
};

/* Queues for env->n_workers workers; processes join the epoll ep as
 * EV_HASHER when started.  0 or -ENOMEM (logged). */
int hashpool_setup(int ep, const struct hashpool_env *env);
/* The backend of the processes started from now on: PAM with service
 * pam_service (NULL: the password file, with the TOTP secrets totp, which
 * must stay until the next call).  The processes running keep theirs
 * until hashpool_restart. */
void hashpool_set_backend(const char *pam_service, const struct totp_db *totp);
/* Fork the processes with db (which must stay until hashpool_restart or
 * hashpool_free).  0, or -errno logged when none could be started. */
int hashpool_start(const struct passwd_db *db);
/* A reload: the processes end and new ones start with db; the checks
 * they were running are run again by the new ones. */
void hashpool_restart(const struct passwd_db *db);
/* Stopping: processes that end are no longer replaced or reported. */
void hashpool_stop(void);

/* Queue the IPC_AUTH_REQ m of worker w (copied; the caller wipes m).
 * 0, or -EBUSY when w has max checks waiting or running already, or
 * -ENOMEM. */
int hashpool_submit(unsigned w, const struct ipc_msg *m, unsigned max);
/* The same for any request of the dialogue (m may be NULL for
 * BK_OP_ABORT, which is never refused and whose answer is not waited
 * for: its end comes with cancelled set). */
int hashpool_submit_op(unsigned w, const struct ipc_msg *m, const struct hash_op *op, unsigned max);
/* A NAS-Port for a new RADIUS session (the next of a counter). */
uint32_t hashpool_nas_port(void);
/* Worker w's connection ref is gone: drop its check if it waits; if it is
 * being hashed, its end comes with cancelled set. */
void hashpool_cancel(unsigned w, struct ipc_ref ref);
/* Worker w died: the same for every check of it. */
void hashpool_drop_worker(unsigned w);
/* Checks of worker w waiting or running. */
unsigned hashpool_pending(unsigned w);

/* EV_HASHER on process h: its answer goes to env->done (user and peer
 * valid for the call only), then it takes the next check. */
void hashpool_on_event(unsigned h, uint32_t events);
/* SIGCHLD, before anyone else reaps: log the processes that died. */
void hashpool_reap(void);
/* Once a second: restart processes whose back-off ran out. */
void hashpool_tick(time_t now);

/* In a worker: close the sockets, wipe the queued passwords. */
void hashpool_forget(void);
/* Stop the processes, wipe and free everything. */
void hashpool_free(void);

#endif
