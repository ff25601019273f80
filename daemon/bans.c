/* Master: failed-login counting and address bans.  A linear table: it is
 * touched once per login, and BAN_MAX bounds both its memory and the scan. */
#include "config.h"
#include "daemon/bans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addrkey.h"

static struct ban bans[BAN_MAX];

void ban_addr_of_peer(const char *peer, unsigned prefix6, char out[BAN_ADDR_LEN])
{
	char host[BAN_ADDR_LEN];
	uint8_t key[ADDRKEY_LEN];
	const char *end;
	size_t n;

	out[0] = '\0';
	if (peer[0] == '[') {
		peer++;
		end = strchr(peer, ']');
	} else {
		end = strrchr(peer, ':');
	}
	if (!end)
		end = peer + strlen(peer);
	n = (size_t)(end - peer);
	if (n == 0 || n >= BAN_ADDR_LEN)
		return;
	memcpy(host, peer, n);
	host[n] = '\0';
	if (addrkey_of_text(host, prefix6, key) == 0)
		addrkey_text(key, prefix6, out, BAN_ADDR_LEN);
}

static struct ban *find(const char *addr)
{
	if (!addr[0])
		return NULL;
	for (unsigned i = 0; i < BAN_MAX; i++)
		if (bans[i].addr[0] && !strcmp(bans[i].addr, addr))
			return &bans[i];
	return NULL;
}

/* When an entry stops mattering: its ban's end, or its window's end. */
static time_t lapse(const struct ban *b, const struct ban_policy *p)
{
	time_t w = b->window_start + (time_t)p->window;

	return b->until > w ? b->until : w;
}

static struct ban *slot_for(const char *addr, time_t now, const struct ban_policy *p)
{
	struct ban *b = find(addr), *victim = NULL;

	if (b)
		return b;
	for (unsigned i = 0; i < BAN_MAX; i++) {
		if (!bans[i].addr[0]) {
			victim = &bans[i];
			break;
		}
		if (!victim || lapse(&bans[i], p) < lapse(victim, p))
			victim = &bans[i];
	}
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->window_start = now;
	return victim;
}

unsigned ban_left(const char *addr, time_t now, unsigned w)
{
	const struct ban *b = find(addr);

	if (!b || b->until <= now || (!b->shared && b->worker != w))
		return 0;
	return (unsigned)(b->until - now);
}

/* One more worker's word about the address. */
static void reported_by(struct ban *b, unsigned w)
{
	if (b->failures == 0 && !b->until) {
		b->worker = w;
		b->shared = false;
	} else if (b->worker != w) {
		b->shared = true;
	}
}

const struct ban *ban_fail(const char *addr, time_t now, const struct ban_policy *p, unsigned w)
{
	struct ban *b;

	if (!p->failures || !addr[0])
		return NULL;
	b = slot_for(addr, now, p);
	if (b->until > now) {
		reported_by(b, w); /* banned on one worker, caught on another */
		return NULL;
	}
	if (now - b->window_start >= (time_t)p->window) {
		b->window_start = now;
		b->failures = 0;
		b->until = 0;
	}
	reported_by(b, w);
	if (++b->failures < p->failures)
		return NULL;
	b->until = now + (time_t)p->time;
	return b;
}

/* Whether the entry's key is the network "NET/LEN" holding addr. */
static bool covers(const char *entry, const char *addr)
{
	uint8_t net[ADDRKEY_LEN], key[ADDRKEY_LEN];
	const char *slash = strchr(entry, '/');
	char text[BAN_ADDR_LEN];
	unsigned bits;

	if (!slash || (size_t)(slash - entry) >= sizeof(text))
		return false;
	memcpy(text, entry, (size_t)(slash - entry));
	text[slash - entry] = '\0';
	bits = (unsigned)strtoul(slash + 1, NULL, 10);
	return addrkey_of_text(text, 128, net) == 0 && addrkey_of_text(addr, bits, key) == 0 &&
	       !addrkey_is_ipv4(key) && memcmp(net, key, sizeof(key)) == 0;
}

bool ban_lift(const char *addr, time_t now)
{
	bool was = false;

	for (unsigned i = 0; i < BAN_MAX; i++) {
		struct ban *b = &bans[i];

		if (!b->addr[0] || (strcmp(b->addr, addr) && !covers(b->addr, addr)))
			continue;
		was = was || b->until > now;
		memset(b, 0, sizeof(*b));
	}
	return was;
}

void ban_expire(time_t now, const struct ban_policy *p)
{
	for (unsigned i = 0; i < BAN_MAX; i++)
		if (bans[i].addr[0] && lapse(&bans[i], p) <= now)
			memset(&bans[i], 0, sizeof(bans[i]));
}

const struct ban *ban_nth(unsigned n, time_t now)
{
	for (unsigned i = 0; i < BAN_MAX; i++)
		if (bans[i].addr[0] && bans[i].until > now && n-- == 0)
			return &bans[i];
	return NULL;
}

void ban_reset(void)
{
	memset(bans, 0, sizeof(bans));
}
