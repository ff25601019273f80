/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): RADIUS accounting.  Records (Start, Interim-Update,
 * Stop) wait in one bounded FIFO in the master and go, one at a time and
 * in order, to the accounting process (tunneld-acct, forked by the
 * master, confined like a hashing process), which sends each with radcli
 * and answers whether a server acknowledged it.  A record no server
 * answered is sent again after a pause (Acct-Delay-Time grows), so the
 * master's loop never waits for a RADIUS server; only stopping does, for
 * at most radius.stop-wait seconds, so that the Stops go out. */
#ifndef TUNNELD_ACCT_H
#define TUNNELD_ACCT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "daemon/hasher.h"
#include "daemon/radclient.h"

/* A session's accounting: each record exactly once, in order.
 *   NONE --acct_begin--> STARTED --acct_end--> STOPPED
 * Interims only while STARTED; a session that never had a tunnel has no
 * Start and so no Stop. */
enum acct_state { ACCT_NONE = 0, ACCT_STARTED, ACCT_STOPPED };

/* What to send now for the event: 0 (nothing), or the enum acct_kind,
 * with *st moved on.  Pure. */
int acct_begin(uint8_t *st);
int acct_interim(const uint8_t *st);
int acct_end(uint8_t *st);

struct acct_env {
	struct hasher_id id; /* who the process becomes (its prison: the RADIUS one) */
	unsigned queue_max;  /* radius.acct-queue */
	/* Run first in the new process: closes and wipes what the master
	 * holds (as for a hashing process). */
	void (*forget)(void);
	/* In the new process, before it is confined: radcli for the
	 * accounting servers (radclient_open); NULL fails the process. */
	struct rc_conf *(*open)(void);
};

/* Fork the accounting process; it joins epoll ep as EV_ACCT.  0 or
 * -errno (logged).  With ep -1 the queue works without a process (unit
 * tests): records wait, nothing is sent. */
int acct_setup(int ep, const struct acct_env *env);
/* Queue a copy of *r (its id is set here).  0, or -ENOBUFS when the queue
 * is full (an Interim is refused then; a Start or a Stop takes the place
 * of the oldest Interim waiting, if any), logged at most once a second. */
int acct_queue(const struct acct_rec *r);
/* Records waiting or being sent. */
unsigned acct_pending(void);
/* The i-th record waiting (0: the oldest), copied to *r; false past the
 * last. */
bool acct_nth(unsigned i, struct acct_rec *r);
/* EV_ACCT: the process answered (or died). */
void acct_on_event(uint32_t events);
/* SIGCHLD, before anyone else reaps. */
void acct_reap(void);
/* Once a second: restart a dead process, send again after a pause. */
void acct_tick(time_t now);
/* Stopping: wait, for at most seconds, until every record is answered
 * (or given up).  Blocks the caller: only when the loop is over. */
void acct_flush(unsigned seconds);
/* In a forked process that is not the accounting one: close its socket,
 * forget the queue. */
void acct_forget(void);
/* Stop the process and free everything. */
void acct_free(void);

#endif
