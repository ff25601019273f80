/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the worker slot table.  Slot i holds worker i's pid, TUN
 * queue i, its listeners and its inbox for the daemon's lifetime; a
 * respawn reuses the slot.  Also what every worker inherits at fork: the
 * TLS credentials and the identity it drops to. */
#ifndef TUNNELD_SLOTS_H
#define TUNNELD_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

#include "common/pool.h"
#include "conf/config.h"

/* What the master hands the slot table at set-up. */
struct slots_env {
	const struct cfg *cfg; /* the live config (master.c), read at each use */
	unsigned n;	       /* slots: one worker each */
	struct pool_geom geom; /* address pools: TUN addresses, steering, workers */
	const uint8_t *owner;  /* owner[lease] map, the workers' read-only view (auth.c) */
	/* Run in each new worker before anything else: closes and wipes
	 * what the master's other parts own (fds, sessions, passwords). */
	void (*forget)(void);
};

/* New credentials for workers spawned from now on (built by reload.c, at
 * start too), signing with the key process's key of generation gen; the
 * old ones, or NULLs, land in *cred and *prio for the caller to free. */
void slots_swap_tls(gnutls_certificate_credentials_t *cred, gnutls_priority_t *prio, uint32_t gen);
/* The generation of the credentials workers get now: the last start's or
 * reload's. */
uint32_t slots_tls_generation(void);
/* cisco.profile, read for the workers to serve.  0, or -EINVAL logged. */
int slots_load_profile(const struct cfg *cfg);
/* Workers run as cfg's user:group inside an empty root-owned directory;
 * look them up and make the directory.  0, or -errno logged. */
int slots_set_identity(const struct cfg *cfg);
/* What slots_set_identity found (0, 0, NULL when not root): the hashing
 * processes and the key process become the same. */
void slots_identity(uid_t *uid, gid_t *gid, const char **chroot_dir);

/* The TUN device with one queue per slot, steering, one listener per slot
 * and listen address (or the ones from socket activation), the inboxes.
 * 0, or -errno logged. */
int slots_setup(const struct slots_env *env);
/* The steering map fd (steer.c), -1 when packets go by flow hash. */
int slots_steer_fd(void);
/* Close every fd and free the table and the credentials. */
void slots_free(void);

/* Fork worker i on a new channel (wchan.c).  0 or -errno logged. */
int slots_spawn(unsigned i);
/* Respawn the slots whose back-off ran out. */
void slots_respawn_due(time_t now);

enum reap_result {
	REAP_NONE,     /* no (more) exited worker */
	REAP_EXITED,   /* *slot exited; respawned after its back-off unless stopping */
	REAP_TUN_GONE, /* *slot exited because the TUN device is gone: stop */
};
/* Reap one exited worker, if any (SIGCHLD; call until REAP_NONE): its
 * channel is closed and its death logged. */
enum reap_result slots_reap(bool stopping, unsigned *slot);

/* Worker i sent IPC_READY; true when every slot is ready. */
bool slots_ready(unsigned i);
/* Signal every running worker. */
void slots_kill(int signo);
/* SIGTERM to every running worker: keep (sigqueue with
 * IPC_STOP_KEEP_SESSIONS) ends the tunnels without a DISCONNECT. */
void slots_stop(bool keep);
/* SIGQUIT to every worker, and our copies of the listeners closed. */
void slots_drain(void);
bool slots_all_exited(void);
/* Worker i's pid, 0 if not running. */
int slots_pid(unsigned i);
/* Workers running and ready (IPC_READY). */
unsigned slots_up(void);

#endif
