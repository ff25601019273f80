/* Cookie table: maps a random 256-bit session cookie to a session id.
 * Owned by the master.  Cookies travel as 43 characters of unpadded
 * base64url in "Cookie: webvpn=...". */
#ifndef TUNNELD_COOKIE_H
#define TUNNELD_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#define COOKIE_BYTES	32
#define COOKIE_TEXT_LEN 43 /* base64url, no padding, no NUL */

struct cookie_entry {
	uint8_t cookie[COOKIE_BYTES];
	uint32_t value; /* session id */
	uint8_t state;	/* 0 empty, 1 used, 2 deleted (tombstone) */
};

struct cookie_table {
	struct cookie_entry *slots;
	uint32_t cap;	/* power of two */
	uint32_t count; /* live entries */
	uint32_t tomb;	/* tombstones */
};

int cookie_table_init(struct cookie_table *t, uint32_t initial_cap);
void cookie_table_free(struct cookie_table *t);

/* Fill c with fresh random bytes (getrandom); 0 or -errno. */
int cookie_generate(uint8_t c[COOKIE_BYTES]);

/* Insert; -EEXIST if present, -ENOMEM. Grows as needed. */
int cookie_insert(struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t value);
/* 0 and *value on hit, -ENOENT on miss.  Compares in constant time per slot. */
int cookie_lookup(const struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t *value);
int cookie_remove(struct cookie_table *t, const uint8_t c[COOKIE_BYTES]);
/* A present entry's new value: 0, or -ENOENT. */
int cookie_set(struct cookie_table *t, const uint8_t c[COOKIE_BYTES], uint32_t value);

/* base64url without padding of n bytes: COOKIE_B64_LEN(n) characters and
 * a NUL into out; constant time in the bytes (no table, no branch on them). */
#define COOKIE_B64_LEN(n) (((n)*8 + 5) / 6)
void cookie_b64_encode(const uint8_t *in, size_t n, char *out);
/* Exactly COOKIE_B64_LEN(n) base64url characters into n bytes, the unused
 * low bits of the last character zero (one spelling per value): 0, or
 * -EINVAL with out wiped. */
int cookie_b64_decode(const char *s, size_t len, uint8_t *out, size_t n);

/* out must hold COOKIE_TEXT_LEN + 1 bytes; NUL-terminated. */
void cookie_encode(const uint8_t c[COOKIE_BYTES], char *out);
/* Decode exactly COOKIE_TEXT_LEN base64url chars; 0 or -EINVAL. */
int cookie_decode(const char *s, size_t len, uint8_t c[COOKIE_BYTES]);

#endif
