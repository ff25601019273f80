/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy the workers apply to new tunnels: per group (and for
 * sessions without one) the routes and DNS servers a CONNECT answer names,
 * the netmask of its addresses, and its traffic rules and transparent DNS
 * (common/rules.h).  The master packs it from its config into one
 * IPC_POLICY datagram at each reload; a worker unpacks it into a table it
 * keeps while tunnels use it, and builds its first one from the config it
 * inherits.  Pure: no I/O, no logging. */
#ifndef TUNNELD_POLICY_H
#define TUNNELD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/rules.h"
#include "conf/config.h"

/* The packed policy always fits one control datagram (cfg_load() refuses
 * a config whose policy would not). */
#define POLICY_MAX (96 * 1024)

struct pol_group {
	char name[CFG_GROUP_NAME]; /* "" for sessions without a group */
	unsigned len4, len6;	   /* netmask of its addresses: its pool's, else the network's */
	unsigned n_routes, n_dns;
	struct cfg_prefix routes[CFG_MAX_ROUTES];
	/* What clients are told: network.dns-intercept when set, else its
	 * servers (the rewrite goes to the first of each family). */
	struct cfg_addr dns[CFG_MAX_DNS];
	struct rules rules;
};

/* A worker's table; tunnels hold a reference while they run. */
struct policy {
	unsigned refs;
	unsigned n;	      /* g[0]: no group; g[1..]: groups = ( ... ) in order */
	struct pol_group g[]; /* n of them */
};

/* With split routes, clients are also given a host route to each
 * network.dns-intercept address no route covers.  The group (a name, ""
 * for the top level) whose routes leave no room for them, or NULL. */
const char *policy_routes_full(const struct cfg *cfg);
/* The packed size of cfg's policy (what policy_pack() would write). */
size_t policy_packed_size(const struct cfg *cfg);
/* Pack cfg's policy into buf after a 4-byte type word (IPC_POLICY, which
 * the caller writes): its length with the type word, -ENOBUFS, or -E2BIG
 * when policy_routes_full() says so. */
int policy_pack(const struct cfg *cfg, void *buf, size_t cap);
/* Check a packed policy and, when out is not NULL, build the table
 * (malloc'ed, refs 1) in *out.  0; -EBADMSG with the reason in err;
 * -ENOMEM. */
int policy_unpack(const void *buf, size_t len, struct policy **out, char *err, size_t errlen);
/* The group called name, or g[0] ("" or a name the table lacks). */
const struct pol_group *policy_group(const struct policy *p, const char *name);
/* Take and drop a reference; the last one frees the table. */
struct policy *policy_get(struct policy *p);
void policy_put(struct policy *p);

#endif
