/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: pending connections (TLS handshake or login) counted by source,
 * the client's address key (common/addrkey.h), for admission in conn.c:
 * the per-address limit and, at limits.max-handshakes, which source loses
 * a connection.  A hash table keyed with a per-process random seed; it
 * grows with the number of sources and never holds a source with no
 * pending connection.  No dependency on the rest of the worker. */
#ifndef TUNNELD_SOURCES_H
#define TUNNELD_SOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addrkey.h"

/* Empty, with room for about n sources before it grows.  seed keys the
 * hash (random: the keys are the clients' choice).  0 or -ENOMEM. */
int srcs_init(uint32_t n, uint64_t seed);
void srcs_free(void);

/* Pending connections from key. */
uint32_t srcs_count(const uint8_t key[ADDRKEY_LEN]);
/* One more from key.  0, or -ENOMEM when the table could not grow (the
 * caller refuses the connection). */
int srcs_add(const uint8_t key[ADDRKEY_LEN]);
/* One fewer from key (it must have one). */
void srcs_remove(const uint8_t key[ADDRKEY_LEN]);
/* Sources with pending connections. */
uint32_t srcs_sources(void);

/* The source with the most pending connections into key; among equals
 * one picked by the random value pick.  Its count, 0 when there is no
 * source. */
uint32_t srcs_busiest(uint64_t pick, uint8_t key[ADDRKEY_LEN]);

#endif
