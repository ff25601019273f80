/* Cookie table: runs in the master, which alone owns the table and the
 * cookies in it (they are bearer secrets: slots are wiped when freed, and
 * live in secret memory that forked workers see as zeros).
 * Also the base64url text form that workers parse from HTTP headers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cookie.h"
#include "common/secmem.h"

enum { SLOT_EMPTY = 0, SLOT_USED = 1, SLOT_DELETED = 2 };

#define COOKIE_MIN_CAP 16u
#define COOKIE_MAX_CAP (1u << 31)

/* The first 8 bytes of a cookie are already uniformly random, so they are
 * the hash.  A client can pick the bytes it sends, but only ever probes
 * its own chain; the key comparison is what must not leak. */
static uint32_t slot_of(const struct cookie_table *t, const uint8_t c[COOKIE_BYTES])
{
	uint64_t h;

	memcpy(&h, c, sizeof(h));
	return (uint32_t)h & (t->cap - 1);
}

/* Constant time: the result does not depend on where the first
 * difference is, so a timing attacker cannot guess a cookie bytewise. */
static int cookie_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < COOKIE_BYTES; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Slot holding c, or -1. */
static int64_t find(const struct cookie_table *t, const uint8_t c[COOKIE_BYTES])
{
	uint32_t mask = t->cap - 1;

	/* Terminates: the load limit keeps at least 30% of slots empty. */
	for (uint32_t i = slot_of(t, c);; i = (i + 1) & mask) {
		const struct cookie_entry *e = &t->slots[i];
		if (e->state == SLOT_EMPTY)
			return -1;
		if (e->state == SLOT_USED && cookie_equal(e->cookie, c))
			return i;
	}
}

int cookie_table_init(struct cookie_table *t, uint32_t initial_cap)
{
	uint32_t cap = COOKIE_MIN_CAP;

	memset(t, 0, sizeof(*t));
	if (initial_cap > COOKIE_MAX_CAP)
		return -EINVAL;
	while (cap < initial_cap)
		cap <<= 1;
	t->slots = secmem_alloc((size_t)cap * sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	return 0;
}

void cookie_table_free(struct cookie_table *t)
{
	secmem_free(t->slots, (size_t)t->cap * sizeof(*t->slots)); /* wiped first */
	memset(t, 0, sizeof(*t));
}

/* Rehash into a table sized so the live entries fill at most 35% of it.
 * Doubling only when live entries are dense means a table that fills up
 * with tombstones is cleaned in place instead of growing forever, and the
 * 35% margin keeps rehashes at least cap/3 operations apart. */
static int rehash(struct cookie_table *t)
{
	uint64_t need = (uint64_t)t->count + 1;
	struct cookie_table nt = {.cap = t->cap, .count = t->count};

	while (need * 20 > (uint64_t)nt.cap * 7) {
		if (nt.cap >= COOKIE_MAX_CAP)
			return -ENOMEM;
		nt.cap <<= 1;
	}
	nt.slots = secmem_alloc((size_t)nt.cap * sizeof(*nt.slots));
	if (!nt.slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct cookie_entry *e = &t->slots[i];
		uint32_t j;
		if (e->state != SLOT_USED)
			continue;
		for (j = slot_of(&nt, e->cookie); nt.slots[j].state != SLOT_EMPTY;
		     j = (j + 1) & (nt.cap - 1))
			;
		nt.slots[j] = *e;
	}
	cookie_table_free(t);
	*t = nt;
	return 0;
}

int cookie_insert(struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t value)
{
	uint32_t mask, i;
	int64_t tomb = -1;
	struct cookie_entry *e;
	int r;

	if (find(t, c) >= 0)
		return -EEXIST;
	/* Keep used + deleted slots under 70%: probe chains stay short and
	 * find() always reaches an empty slot. */
	if (((uint64_t)t->count + t->tomb + 1) * 10 > (uint64_t)t->cap * 7) {
		r = rehash(t);
		if (r < 0)
			return r;
	}
	mask = t->cap - 1;
	for (i = slot_of(t, c); t->slots[i].state != SLOT_EMPTY; i = (i + 1) & mask) {
		if (t->slots[i].state == SLOT_DELETED && tomb < 0)
			tomb = i;
	}
	if (tomb >= 0) {
		i = (uint32_t)tomb;
		t->tomb--;
	}
	e = &t->slots[i];
	memcpy(e->cookie, c, COOKIE_BYTES);
	e->value = value;
	e->state = SLOT_USED;
	t->count++;
	return 0;
}

int cookie_lookup(const struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t *value)
{
	int64_t i = find(t, c);

	if (i < 0)
		return -ENOENT;
	*value = t->slots[i].value;
	return 0;
}

int cookie_set(struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t value)
{
	int64_t i = find(t, c);

	if (i < 0)
		return -ENOENT;
	t->slots[i].value = value;
	return 0;
}

int cookie_remove(struct cookie_table *t, const uint8_t c[COOKIE_BYTES])
{
	int64_t i = find(t, c);
	struct cookie_entry *e;

	if (i < 0)
		return -ENOENT;
	/* A tombstone, not an empty slot: later entries of the same probe
	 * chain must stay reachable. */
	e = &t->slots[i];
	explicit_bzero(e->cookie, COOKIE_BYTES);
	e->value = 0;
	e->state = SLOT_DELETED;
	t->count--;
	t->tomb++;
	return 0;
}

int cookie_generate(uint8_t c[COOKIE_BYTES])
{
	size_t got = 0;

	while (got < COOKIE_BYTES) {
		ssize_t n = getrandom(c + got, COOKIE_BYTES - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

/* base64url without lookup tables or branches on the data, so neither
 * the cache nor the branch predictor sees the cookie's bits. */
static char b64_char(unsigned v)
{
	int x = (int)v;
	int c = x + 'A';

	c += ((25 - x) >> 8) & ('a' - 'A' - 26);
	c -= ((51 - x) >> 8) & ('a' + 26 - '0');
	c -= ((61 - x) >> 8) & ('0' + 10 - '-');
	c += ((62 - x) >> 8) & ('_' - '-' - 1);
	return (char)c;
}

/* All ones when lo <= c <= hi, else zero: both differences are negative
 * exactly inside the range, and c is a byte so the shift spreads the
 * sign. */
static int range_mask(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* Value of a base64url character, or -1: each term adds value + 1 when
 * ch is inside its range and nothing otherwise. */
static int b64_value(unsigned char ch)
{
	int c = ch;
	int v = -1;

	v += range_mask(c, 'A', 'Z') & (c - 'A' + 1);
	v += range_mask(c, 'a', 'z') & (c - 'a' + 26 + 1);
	v += range_mask(c, '0', '9') & (c - '0' + 52 + 1);
	v += range_mask(c, '-', '-') & (62 + 1);
	v += range_mask(c, '_', '_') & (63 + 1);
	return v;
}

void cookie_b64_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64_char(acc >> bits & 63);
		}
	}
	/* The bits left (2 or 4) are padded with zeros; none for n % 3 == 0. */
	if (bits)
		out[o++] = b64_char(acc << (6 - bits) & 63);
	out[o] = '\0';
}

int cookie_b64_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	int bad = 0;

	if (len != COOKIE_B64_LEN(n))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		bad |= v;
		acc = acc << 6 | ((unsigned)v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The bits left over must be zero: any other value would be a
	 * second spelling of the same bytes. */
	bad |= -(int)(acc & ((1u << bits) - 1));
	if (bad < 0) {
		explicit_bzero(out, n);
		return -EINVAL;
	}
	return 0;
}

void cookie_encode(const uint8_t c[COOKIE_BYTES], char *out)
{
	/* 256 bits = 42 characters and 4 bits left, padded with zeros. */
	cookie_b64_encode(c, COOKIE_BYTES, out);
}

int cookie_decode(const char *s, size_t len, uint8_t c[COOKIE_BYTES])
{
	return cookie_b64_decode(s, len, c, COOKIE_BYTES);
}
