/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): NAT egress (network.nat.interface).  Traffic from the
 * address pools that leaves by the interface is masqueraded, by rules in
 * an nftables table of tunneld's own, "inet tunneld", written through
 * libnftables: each change is one transaction that replaces the whole
 * table (a table a crash left behind included), so it is never doubled
 * and never half there.  Owns the rules it installed (their text); the
 * master calls it at start, reload and stop.  Needs CAP_NET_ADMIN, which
 * the master keeps; workers never touch it. */
#ifndef TUNNELD_NAT_H
#define TUNNELD_NAT_H

#include "conf/config.h"

#define NAT_TABLE "tunneld" /* in the inet family */

/* Make the table what cfg asks for: installed or replaced when
 * network.nat.interface is set, deleted when it is not and we had
 * installed it (at start without it, nftables is not touched).  Nothing
 * is done when the rules would not change.  0, or -1 with the reason
 * logged (the rules in place stay as they were). */
int nat_apply(const struct cfg *cfg);
/* At stop: delete the table if we installed it. */
void nat_stop(void);

/* The ruleset nat_apply() installs for cfg, for the tests: into buf,
 * 0, or -ENOBUFS when it does not fit; "" without NAT. */
int nat_ruleset(const struct cfg *cfg, char *buf, size_t len);

#endif
