/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Auth process with RADIUS: the Access-Challenges waiting for the user's
 * answer.  Each holds what the next Access-Request of its login must
 * repeat (the user, the State, Acct-Session-Id and NAS-Port); the master
 * knows a challenge only by its id.  A fixed table: an entry goes when
 * its login ends (Accept, Reject, an error), when the master aborts it,
 * or RADCHAL_LIFE seconds after its challenge.  Pure: no I/O, the clock
 * is passed in; owns nothing beyond the table. */
#ifndef TUNNELD_RADCHAL_H
#define TUNNELD_RADCHAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"

#define RADCHAL_MAX	 64  /* challenges of one process waiting for answers */
#define RADCHAL_LIFE	 300 /* seconds a challenge waits for its answer */
#define RADIUS_STATE_MAX 253 /* an attribute's value (RFC 2865 5.24) */

struct radchal {
	uint32_t id; /* 0: free */
	char user[IPC_USER_MAX];
	uint64_t sid;	   /* Acct-Session-Id of the first Access-Request */
	uint32_t nas_port; /* its NAS-Port */
	uint32_t rounds;   /* challenges answered so far */
	uint32_t state_len;
	uint8_t state[RADIUS_STATE_MAX];
	int64_t asked; /* when the last challenge came */
};

struct radchal_table {
	struct radchal c[RADCHAL_MAX];
	uint32_t next;
};

/* A free entry with a new id (never 0, never one in use), after dropping
 * the expired ones; NULL when all are waiting. */
struct radchal *radchal_new(struct radchal_table *t, int64_t now);
/* Challenge id, or NULL (none, or expired: then dropped). */
struct radchal *radchal_find(struct radchal_table *t, uint32_t id, int64_t now);
/* Record challenge c's State (len bytes, at most RADIUS_STATE_MAX) and
 * its time.  0, or -1 when the State is too long (c unchanged). */
int radchal_set_state(struct radchal *c, const void *state, size_t len, int64_t now);
/* Forget challenge id (wiped); nothing when there is none. */
void radchal_drop(struct radchal_table *t, uint32_t id);
/* Entries in use and not expired at now. */
unsigned radchal_count(const struct radchal_table *t, int64_t now);

#endif
