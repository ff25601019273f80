/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TOTP (RFC 6238) secrets of password-file users, through liboath: the
 * file beside the password file, PASSWORD-FILE.totp, one "user:SECRET"
 * line per user (SECRET in base32, as authenticator apps take it), '#'
 * comments.  A user listed there is asked for a code after the password.
 * Loaded by the master with the password file; checked in the hashing
 * processes; written by tunneld-passwd --totp. */
#ifndef TUNNELD_TOTP_H
#define TUNNELD_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_STEP   30 /* seconds a code lasts */
#define TOTP_WINDOW 1  /* steps before and after now that are accepted */
#define TOTP_DIGITS 6

struct totp_db;

/* The secrets file of a password file: path + ".totp" into out. */
int totp_path(const char *passwd_path, char *out, size_t cap);
/* Load a secrets file: 0 (a missing file is no secrets: *out NULL), or -1
 * with err "FILE:LINE: reason". */
int totp_db_load(const char *path, struct totp_db **out, char *err, size_t errlen);
/* The same from memory. */
int totp_db_parse(const char *text, size_t len, const char *name, struct totp_db **out, char *err,
		  size_t errlen);
/* Wipes the secrets.  NULL is fine. */
void totp_db_free(struct totp_db *db);
size_t totp_db_count(const struct totp_db *db);
bool totp_db_has(const struct totp_db *db, const char *user);
/* Check code for user at time now (±TOTP_WINDOW steps).  0 with *step the
 * time step it is the code of, or -1 (no secret, not a code, wrong). */
int totp_check(const struct totp_db *db, const char *user, const char *code, int64_t now,
	       uint64_t *step);
/* A new random secret, base32 (NUL-terminated) in out: 0 or -errno. */
int totp_new_secret(char *out, size_t cap);

#endif
