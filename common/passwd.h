/* The password file: "user:crypt-hash" lines, '#' comments, blank lines.
 * A hash starting with '!' marks a locked user.  An optional third field
 * lists the user's groups, comma-separated ("alice:$y$...:staff,eng"); a
 * file without it reads as before.  Loaded by the master, used
 * by the master only (workers never see hashes). */
#ifndef TUNNELD_PASSWD_H
#define TUNNELD_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWD_MAX_USER 64
/* The group field: at most this many bytes (the session's copy of it is
 * PASSWD_MAX_GROUPS + 1 bytes, daemon/sessions.h SESS_GROUPS_MAX). */
#define PASSWD_MAX_GROUPS 255

enum passwd_result {
	PW_OK = 0,
	PW_BAD_PASSWORD = 1,
	PW_UNKNOWN_USER = 2,
	PW_LOCKED = 3,
	PW_WEAK_HASH = 4, /* md5crypt or NT hash: refused until set again */
};

struct passwd_db;

/* Load a file; on error returns -1 and err holds "FILE:LINE: reason". */
int passwd_db_load(const char *path, struct passwd_db **out, char *err, size_t errlen);
/* Same from memory ('name' is used in messages). */
int passwd_db_parse(const char *text, size_t len, const char *name, struct passwd_db **out,
		    char *err, size_t errlen);
void passwd_db_free(struct passwd_db *db);
size_t passwd_db_count(const struct passwd_db *db);
/* What the caller should tell the administrator about a loaded db, or
 * NULL: hashes of several methods or costs (users of the less common ones
 * can be told from unknown users by timing), md5crypt or NT hashes (those
 * users cannot log in). */
const char *passwd_db_warning(const struct passwd_db *db);

/* Check credentials with crypt_r.  An unknown or locked user still costs
 * one hash, so timing does not reveal which users exist: an unknown user
 * (or one with a refused md5crypt/NT hash) is hashed like a user of the
 * most common method and cost in the file.  Not thread-safe:
 * each db has one crypt_data scratch area, so use a db from one thread. */
enum passwd_result passwd_db_check(const struct passwd_db *db, const char *user,
				   const char *password);
const char *passwd_result_str(enum passwd_result r);

/* Whether user may log in as the db stands (PW_OK, or why not), without
 * a hash: for sessions, which must end when their user is gone, locked or
 * has a new password.  *stamp identifies the user's hash (a new password
 * brings a new salt, so a new stamp); 0 for an unknown user. */
enum passwd_result passwd_db_user(const struct passwd_db *db, const char *user, uint64_t *stamp);

/* The user's groups as the file lists them ("staff,eng"), "" for an
 * unknown user or one without groups. */
const char *passwd_db_groups(const struct passwd_db *db, const char *user);
/* 1 if list is a group field we accept: comma-separated group names (1..63
 * of A-Z a-z 0-9 . _ -, conf/config.h cfg_group_name_valid), at most
 * PASSWD_MAX_GROUPS bytes; "" (no groups) included. */
int passwd_valid_groups(const char *list);

/* 1 if user is a name we accept, else 0: 1..PASSWD_MAX_USER chars of
 * [A-Za-z0-9._@-], not starting with '-'. */
int passwd_valid_user(const char *user);

/* Hash a password with a fresh salt: prefix "$y$" (yescrypt) or "$6$"
 * (SHA-512 crypt).  Writes NUL-terminated hash into out; 0 or -errno. */
int passwd_hash(const char *password, const char *prefix, char *out, size_t cap);

#endif
