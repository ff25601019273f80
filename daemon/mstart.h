/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): start-up steps that need none of master.c's state. */
#ifndef TUNNELD_MSTART_H
#define TUNNELD_MSTART_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"

/* CLOCK_MONOTONIC in microseconds (systemd's MONOTONIC_USEC). */
uint64_t mstart_monotonic_usec(void);
/* A warning when net.ipv4.ip_forward is 0. */
void mstart_warn_forwarding(void);
/* The fleet keys that seal and open cookies (cookies.h), read before
 * detaching like every file, and again after (a fork wipes them): 0, or
 * -1 logged. */
int mstart_cookie_keys(const struct cfg *cfg);
/* The hashing processes, one per CPU (cfg's radius.processes with
 * RADIUS), forked before the TUN device and the listeners exist, each
 * dropping to the workers' user in their prison, then RADIUS accounting's
 * process; their events on ep; forget runs in each child.  0 or -1. */
int mstart_hashers(int ep, const struct cfg *cfg, unsigned n_workers, void (*forget)(void));
/* systemd's STATUS= line, sent when it changed. */
void mstart_status(bool draining, unsigned tunnels, unsigned sessions, unsigned workers);

#endif
