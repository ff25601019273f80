/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The key a client's address is counted under, in the worker's admission
 * (limits.max-handshakes-per-address) and the master's bans (auth.ban-*).
 * Anyone with an IPv6 network holds all of its addresses, so an IPv6
 * address counts by its first limits.ipv6-prefix bits (/64 by default);
 * an IPv4 address counts whole, also when a dual-stack listener shows it
 * IPv4-mapped (::ffff:a.b.c.d), or every IPv4 client would share one key. */
#ifndef TUNNELD_ADDRKEY_H
#define TUNNELD_ADDRKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDRKEY_LEN 16 /* an IPv4 key is ::ffff:a.b.c.d */

/* The key of a peer address (AF_INET or AF_INET6; anything else: all
 * zero).  prefix6: 0..128 bits kept of an IPv6 address. */
void addrkey_of_sockaddr(const struct sockaddr *sa, unsigned prefix6, uint8_t key[ADDRKEY_LEN]);
/* The same from an address in text ("198.18.0.2", "fd00::2").  0, or
 * -EINVAL when it is not an address (key all zero). */
int addrkey_of_text(const char *text, unsigned prefix6, uint8_t key[ADDRKEY_LEN]);
/* The key in text: "198.18.0.2" for IPv4, "2001:db8::/64" for IPv6 (the
 * prefix length only below 128).  Cut short at len. */
void addrkey_text(const uint8_t key[ADDRKEY_LEN], unsigned prefix6, char *out, size_t len);
/* Whether key is an IPv4 address. */
bool addrkey_is_ipv4(const uint8_t key[ADDRKEY_LEN]);

#endif
