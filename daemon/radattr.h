/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a RADIUS server grants a session: the attributes of an
 * Access-Accept (or of a CoA-Request) that tunneld honours, read from
 * radcli's attribute lists into one fixed-size struct that travels from
 * the process that asked (hasher.c) to the master over a socket.  Used in
 * the hashing processes and in the master; owns nothing; pure but for
 * radcli's list accessors. */
#ifndef TUNNELD_RADATTR_H
#define TUNNELD_RADATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "conf/config.h"

#define RADIUS_ROUTES_MAX 16  /* Framed-Route and Framed-IPv6-Route together */
#define RADIUS_CLASS_MAX  256 /* bytes of Class values kept (each: length, bytes) */
#define RADIUS_GROUPS_MAX 256 /* groups from Class, comma-separated */

/* Which fields of struct radius_grant an answer set. */
enum {
	RG_IP4 = 1u << 0,	      /* Framed-IP-Address */
	RG_IP6 = 1u << 1,	      /* Framed-IPv6-Address, or a /128 Framed-IPv6-Prefix */
	RG_SESSION_TIMEOUT = 1u << 2, /* Session-Timeout */
	RG_IDLE_TIMEOUT = 1u << 3,    /* Idle-Timeout */
	RG_INTERIM = 1u << 4,	      /* Acct-Interim-Interval */
	RG_CLASS = 1u << 5,	      /* Class (one or more) */
};

struct radius_grant {
	uint32_t have; /* RG_* */
	struct in_addr ip4;
	struct in6_addr ip6;
	uint32_t session_timeout, idle_timeout, interim; /* seconds; 0: none */
	uint32_t n_routes;
	struct cfg_prefix routes[RADIUS_ROUTES_MAX];
	/* Class values as received, to be echoed in accounting (RFC 2865
	 * 5.25): each is its length (1..253) then its bytes. */
	uint32_t class_len;
	uint8_t class_buf[RADIUS_CLASS_MAX];
	/* What was dropped, for the log line (0: nothing). */
	uint32_t dropped_routes, dropped_classes, dropped_prefixes;
};

struct rc_value_pair;

/* Add the pairs of list (radcli's VALUE_PAIR, received) to *g: the
 * attributes above; others are left alone.  Framed-Route and
 * Framed-IPv6-Route are "PREFIX [GATEWAY [METRIC...]]" (the prefix may be
 * written "a.b.c.d/n" or "a.b.c.d" alone, host bits are cleared); a
 * shorter Framed-IPv6-Prefix than /128 is counted in dropped_prefixes (a
 * client holds one address).  Pure: logs nothing. */
void radattr_read(struct rc_value_pair *list, struct radius_grant *g);

/* Whether *g is well-formed (a process's answer is not trusted): counts
 * and lengths in range, each route a valid prefix.  NULL, or what is
 * wrong. */
const char *radattr_check(const struct radius_grant *g);

/* The groups in Class: each Class value may hold several, separated by
 * ';' or ',', each with an optional "OU=" before it (Cisco's
 * "OU=staff;"); blanks around a name are dropped, names hold no control
 * characters.  Written comma-separated into out (cap bytes), the first
 * group first; names that do not fit are left out.  The number of groups
 * written. */
unsigned radattr_groups(const struct radius_grant *g, char *out, size_t cap);

/* The i-th Class value (0-based) of g: its bytes and length; false past
 * the last. */
bool radattr_class(const struct radius_grant *g, unsigned i, const uint8_t **val, size_t *len);

#endif
