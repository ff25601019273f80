/* Master: failed-login counting and address bans (auth.ban-*).  Keyed by
 * the client's address key (common/addrkey.h) in text: an IPv4 address,
 * or an IPv6 network of limits.ipv6-prefix bits ("2001:db8::/64").
 * Bounded: at most BAN_MAX keys are tracked; when full, the entry that
 * would expire first (never a live ban if anything else can go) makes
 * room.
 *
 * The address is the worker's word (a taken-over worker can name any), so
 * a ban counts which workers reported the failures: while they all came
 * through one worker, the ban holds on that worker only, which could
 * refuse that address's connections anyway.  A failure reported through
 * a second worker makes it hold server-wide.  A real client's connections
 * spread over the workers (SO_REUSEPORT), so its bans go server-wide after
 * a failure or two more; with one worker nothing changes. */
#ifndef TUNNELD_BANS_H
#define TUNNELD_BANS_H

#include <stdbool.h>
#include <time.h>

#define BAN_MAX	     4096
#define BAN_ADDR_LEN 48 /* an IPv6 address in text, NUL included */

struct ban {
	char addr[BAN_ADDR_LEN]; /* "" = free slot */
	unsigned failures;	 /* within the current window */
	time_t window_start;
	time_t until;	 /* banned while now < until; 0 = not banned */
	unsigned worker; /* the worker that reported the first failure */
	bool shared;	 /* another worker reported one too: holds on all */
};

struct ban_policy {
	unsigned failures; /* 0: never ban */
	unsigned window, time;
};

/* The key of a peer as the worker writes it: "198.18.0.2:1234" gives
 * "198.18.0.2", "[2001:db8::2]:1234" gives "2001:db8::/64" with prefix6 64
 * (the address alone with 128), "[::ffff:198.18.0.2]:1" gives
 * "198.18.0.2".  The port is optional.  Writes "" when it is no address. */
void ban_addr_of_peer(const char *peer, unsigned prefix6, char out[BAN_ADDR_LEN]);

/* Seconds left of a ban on addr for a connection on worker w, 0 when it
 * is not banned there. */
unsigned ban_left(const char *addr, time_t now, unsigned w);

/* Record a failed login reported by worker w; returns the entry when
 * this failure starts a ban, NULL otherwise.
 * Nothing clears the count before its window ends: a successful login
 * from the address does not (one valid account, or a real user behind
 * the same NAT, would otherwise let the address guess without end). */
const struct ban *ban_fail(const char *addr, time_t now, const struct ban_policy *p, unsigned w);

/* Lift the ban on addr (tunnelctl unban): a key as ban_nth() shows it, or
 * an IPv6 address inside a banned network.  False when none was banned. */
bool ban_lift(const char *addr, time_t now);

/* Drop entries whose ban and failure window have both passed. */
void ban_expire(time_t now, const struct ban_policy *p);

/* The i-th live ban (0..), NULL past the last. */
const struct ban *ban_nth(unsigned i, time_t now);

/* Forget everything (tests, exit). */
void ban_reset(void);

#endif
