/* Unit tests for common/passwd.c: run by `make check`, no privileges.
 * Owns the scratch files it creates in /tmp and removes them. */
#include "config.h"

#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/passwd.h"

#define HASH_LEN 256

static struct passwd_db *parse_ok(const char *text)
{
	struct passwd_db *db = NULL;
	char err[256] = "";

	ck_assert_msg(passwd_db_parse(text, strlen(text), "t.pw", &db, err, sizeof(err)) == 0,
		      "parse failed: %s", err);
	ck_assert_ptr_nonnull(db);
	return db;
}

/* The error must be "t.pw:LINE: " followed by text containing why. */
static void parse_bad(const char *text, size_t len, unsigned line, const char *why)
{
	struct passwd_db *db = (struct passwd_db *)1;
	char err[256] = "", prefix[32];

	ck_assert_int_eq(passwd_db_parse(text, len, "t.pw", &db, err, sizeof(err)), -1);
	ck_assert_ptr_null(db);
	snprintf(prefix, sizeof(prefix), "t.pw:%u: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix '%s', got '%s'",
		      prefix, err);
	ck_assert_msg(strstr(err, why) != NULL, "want '%s' in '%s'", why, err);
}

static void parse_bad_str(const char *text, unsigned line, const char *why)
{
	parse_bad(text, strlen(text), line, why);
}

START_TEST(test_valid_user)
{
	char name[PASSWD_MAX_USER + 2];

	ck_assert(passwd_valid_user("alice"));
	ck_assert(passwd_valid_user("a"));
	ck_assert(passwd_valid_user("Bob.Smith_2@example-corp.com"));
	ck_assert(passwd_valid_user("a-"));
	ck_assert(!passwd_valid_user(""));
	ck_assert(!passwd_valid_user(NULL));
	ck_assert(!passwd_valid_user("-a"));
	ck_assert(!passwd_valid_user("a b"));
	ck_assert(!passwd_valid_user("a:b"));
	ck_assert(!passwd_valid_user("a/b"));
	ck_assert(!passwd_valid_user("\xc3\xa9t\xc3\xa9"));
	ck_assert(!passwd_valid_user("a\n"));
	memset(name, 'x', PASSWD_MAX_USER);
	name[PASSWD_MAX_USER] = '\0';
	ck_assert(passwd_valid_user(name));
	name[PASSWD_MAX_USER] = 'x';
	name[PASSWD_MAX_USER + 1] = '\0';
	ck_assert(!passwd_valid_user(name));
}
END_TEST

START_TEST(test_parse_good)
{
	struct passwd_db *db;

	db = parse_ok("# tunneld users\n"
		      "\n"
		      "alice:$y$j9T$abc$def   \n"
		      "   \t\n"
		      "  # indented comment\n"
		      "bob:!$6$salt$hash\t\n"
		      "carol@example.com:$6$rounds=5000$s$h\n"
		      "dave:$y$x");
	ck_assert_uint_eq(passwd_db_count(db), 4);
	passwd_db_free(db);

	db = parse_ok("");
	ck_assert_uint_eq(passwd_db_count(db), 0);
	passwd_db_free(db);

	db = parse_ok("# only a comment\n\n\n");
	ck_assert_uint_eq(passwd_db_count(db), 0);
	passwd_db_free(db);

	db = parse_ok("a:$6$x\r\nb:$6$y\r\n\r\n#c\r\n");
	ck_assert_uint_eq(passwd_db_count(db), 2);
	passwd_db_free(db);
}
END_TEST

/* Regression: a file without users left the entry array NULL and
 * passwd_db_parse() and passwd_db_check() handed it to qsort() and
 * bsearch(), whose array must not be NULL even for zero elements
 * (undefined behaviour; UBSan stops the sanitizer build here). */
START_TEST(test_no_users)
{
	static const char *const texts[] = {"", "\n", "# no one yet\n", "  \t\r\n# x\n"};
	struct passwd_db *db;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		db = parse_ok(texts[i]);
		ck_assert_uint_eq(passwd_db_count(db), 0);
		ck_assert_int_eq(passwd_db_check(db, "alice", "pw"), PW_UNKNOWN_USER);
		ck_assert_int_eq(passwd_db_check(db, "", ""), PW_UNKNOWN_USER);
		passwd_db_free(db);
	}
	/* The only line is bad: refused, with nothing to sort either. */
	parse_bad_str("alice\n", 1, "missing ':'");
}
END_TEST

START_TEST(test_parse_bad_lines)
{
	char long_user[PASSWD_MAX_USER + 16];

	parse_bad_str("alice\n", 1, "missing ':'");
	parse_bad_str("# c\n\nalice $y$x\n", 3, "missing ':'");
	parse_bad_str("a:$6$x\nbad user:$y$x\n", 2, "invalid user name");
	parse_bad_str("-bob:$6$x\n", 1, "invalid user name");
	parse_bad_str(":$6$x\n", 1, "invalid user name");
	parse_bad_str(" alice:$6$x\n", 1, "invalid user name");
	parse_bad_str("alice:\n", 1, "empty hash");
	parse_bad_str("alice:   \r\n", 1, "empty hash");
	parse_bad_str("alice:!\n", 1, "empty hash");
	parse_bad_str("alice:secret\n", 1, "not a crypt hash");
	parse_bad_str("alice:!secret\n", 1, "not a crypt hash");
	parse_bad_str("alice:!!$6$x\n", 1, "not a crypt hash");
	parse_bad_str("alice:$6$a b\n", 1, "not a crypt hash");
	/* The third field is the group list: a third colon is no part of it. */
	parse_bad_str("alice:$6$a:b:c\n", 1, "invalid group list");
	parse_bad_str("alice:$6$\xff\n", 1, "not a crypt hash");
	parse_bad_str("a:$6$x\r\nb\r\n", 2, "missing ':'");

	memset(long_user, 'u', PASSWD_MAX_USER + 1);
	strcpy(long_user + PASSWD_MAX_USER + 1, ":$6$x\n");
	parse_bad_str(long_user, 1, "invalid user name");

	parse_bad("a:$6$x\nb:$6$\0y\n", 15, 2, "NUL");
}
END_TEST

START_TEST(test_parse_duplicates)
{
	parse_bad_str("a:$6$x\nb:$6$y\na:$6$z\n", 3, "duplicate user 'a' (first on line 1)");
	parse_bad_str("z:$6$1\na:$6$2\nz:$6$3\na:$6$4\n", 3,
		      "duplicate user 'z' (first on line 1)");
	parse_bad_str("b:$6$1\na:$6$2\na:$6$3\nb:$6$4\n", 3,
		      "duplicate user 'a' (first on line 2)");
	parse_bad_str("a:$6$1\na:$y$2\na:$y$3\n", 2, "duplicate user 'a'");
	/* Locking does not make a second entry for the same user. */
	parse_bad_str("a:$6$1\na:!$6$2\n", 2, "duplicate user 'a'");
	/* Whichever problem comes first in the file is reported. */
	parse_bad_str("a:$6$x\na:$6$y\nbroken\n", 2, "duplicate user 'a'");
	parse_bad_str("a:$6$x\nbroken\na:$6$y\n", 2, "missing ':'");
}
END_TEST

/* Hashes made with passwd_hash for both methods, checked four ways. */
static void check_method(const char *prefix)
{
	char h_alice[HASH_LEN], h_bob[HASH_LEN], text[1024];
	struct passwd_db *db;

	ck_assert_int_eq(passwd_hash("correct horse", prefix, h_alice, sizeof(h_alice)), 0);
	ck_assert_int_eq(passwd_hash("bobs secret", prefix, h_bob, sizeof(h_bob)), 0);
	ck_assert(strncmp(h_alice, prefix, strlen(prefix)) == 0);
	snprintf(text, sizeof(text), "# users\nalice:%s\nbob:!%s\n", h_alice, h_bob);
	db = parse_ok(text);
	ck_assert_uint_eq(passwd_db_count(db), 2);

	ck_assert_int_eq(passwd_db_check(db, "alice", "correct horse"), PW_OK);
	ck_assert_int_eq(passwd_db_check(db, "alice", "correct horsE"), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "alice", "correct horse "), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "alice", "correct"), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "alice", ""), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "alice", NULL), PW_BAD_PASSWORD);
	/* The stored hash itself is not a password. */
	ck_assert_int_eq(passwd_db_check(db, "alice", h_alice), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "Alice", "correct horse"), PW_UNKNOWN_USER);
	ck_assert_int_eq(passwd_db_check(db, "mallory", "correct horse"), PW_UNKNOWN_USER);
	ck_assert_int_eq(passwd_db_check(db, "", "x"), PW_UNKNOWN_USER);
	ck_assert_int_eq(passwd_db_check(db, NULL, "x"), PW_UNKNOWN_USER);
	ck_assert_int_eq(passwd_db_check(db, "bob", "bobs secret"), PW_LOCKED);
	ck_assert_int_eq(passwd_db_check(db, "bob", "wrong"), PW_LOCKED);
	/* Repeated checks reuse the db's crypt state. */
	ck_assert_int_eq(passwd_db_check(db, "alice", "correct horse"), PW_OK);
	passwd_db_free(db);

	/* Unlocked, bob's password works. */
	snprintf(text, sizeof(text), "bob:%s\n", h_bob);
	db = parse_ok(text);
	ck_assert_int_eq(passwd_db_check(db, "bob", "bobs secret"), PW_OK);
	passwd_db_free(db);
}

START_TEST(test_check_yescrypt)
{
	check_method("$y$");
}
END_TEST

START_TEST(test_check_sha512)
{
	check_method("$6$");
}
END_TEST

START_TEST(test_check_many_users)
{
	char h[HASH_LEN], text[64 * 1024];
	struct passwd_db *db;
	size_t off = 0;

	ck_assert_int_eq(passwd_hash("pw", "$6$", h, sizeof(h)), 0);
	/* Written out of order so that lookup depends on the sorting. */
	for (int i = 199; i >= 0; i--)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "user%03d:%s%s\r\n", i,
					i == 150 ? "" : "!", h);
	db = parse_ok(text);
	ck_assert_uint_eq(passwd_db_count(db), 200);
	ck_assert_int_eq(passwd_db_check(db, "user150", "pw"), PW_OK);
	ck_assert_int_eq(passwd_db_check(db, "user000", "pw"), PW_LOCKED);
	ck_assert_int_eq(passwd_db_check(db, "user199", "pw"), PW_LOCKED);
	ck_assert_int_eq(passwd_db_check(db, "user200", "pw"), PW_UNKNOWN_USER);
	ck_assert_int_eq(passwd_db_check(db, "user15", "pw"), PW_UNKNOWN_USER);
	passwd_db_free(db);
}
END_TEST

/* crypt_r failing (unknown method, broken hash) is a bad password, never a
 * match on the failure token. */
START_TEST(test_check_broken_hash)
{
	struct passwd_db *db;

	db = parse_ok("a:$nope$xyz\nb:$6$\nc:$y$!!!\nd:!$nope$\n");
	ck_assert_int_eq(passwd_db_check(db, "a", ""), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "a", "xyz"), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "a", "*0"), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "b", ""), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "c", ""), PW_BAD_PASSWORD);
	ck_assert_int_eq(passwd_db_check(db, "d", ""), PW_LOCKED);
	passwd_db_free(db);
}
END_TEST

/* CPU time of one check, in microseconds: crypt is single-threaded, so
 * this is its cost whatever else the machine runs. */
static double check_us(const struct passwd_db *db, const char *user)
{
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	passwd_db_check(db, user, "not the password");
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Medians of n interleaved checks of user and of unknown. */
static void medians(const struct passwd_db *db, const char *user, double *known, double *unknown)
{
	enum { N = 31 };
	double k[N], u[N];

	for (int i = 0; i < N; i++) {
		k[i] = check_us(db, user);
		u[i] = check_us(db, "nobody-here");
	}
	qsort(k, N, sizeof(k[0]), cmp_double);
	qsort(u, N, sizeof(u[0]), cmp_double);
	*known = k[N / 2];
	*unknown = u[N / 2];
}

/* Finding #5: an unknown user costs what a user of the file's method and
 * cost costs, so login timing does not tell who exists.  Before, unknown
 * users were hashed with default-cost yescrypt whatever the file used. */
START_TEST(test_unknown_user_timing)
{
	char h[HASH_LEN], text[16 * 1024];
	struct passwd_db *db;
	double known, unknown;
	size_t off = 0;

	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(passwd_hash("pw", "$6$", h, sizeof(h)), 0);
		off += (size_t)snprintf(text + off, sizeof(text) - off, "user%d:%s\n", i, h);
	}
	db = parse_ok(text);
	ck_assert_ptr_null(passwd_db_warning(db)); /* one method, one cost */
	medians(db, "user3", &known, &unknown);
	printf("$6$ users: known %.0f us, unknown %.0f us\n", known, unknown);
	ck_assert_msg(unknown >= known * 0.8 && unknown <= known * 1.2,
		      "unknown user %.0f us, $6$ user %.0f us: more than 20%% apart", unknown,
		      known);
	passwd_db_free(db);
}
END_TEST

/* Mixed methods: unknown users cost what most users cost, and the
 * administrator is told that the others can be told apart. */
START_TEST(test_mixed_methods)
{
	char y[3][HASH_LEN], s6[HASH_LEN], text[4096];
	struct passwd_db *db;
	double known, unknown;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(passwd_hash("pw", "$y$", y[i], sizeof(y[i])), 0);
	ck_assert_int_eq(passwd_hash("pw", "$6$", s6, sizeof(s6)), 0);
	snprintf(text, sizeof(text), "a:%s\nb:%s\nc:!%s\nd:%s\n", s6, y[0], y[1], y[2]);
	db = parse_ok(text);
	ck_assert_ptr_nonnull(passwd_db_warning(db));
	ck_assert_ptr_nonnull(strstr(passwd_db_warning(db), "2 methods or costs"));
	ck_assert_ptr_nonnull(strstr(passwd_db_warning(db), "3 of 4 users"));
	ck_assert_int_eq(passwd_db_check(db, "b", "pw"), PW_OK);
	ck_assert_int_eq(passwd_db_check(db, "a", "pw"), PW_OK);
	medians(db, "b", &known, &unknown);
	printf("mostly $y$: yescrypt user %.0f us, unknown %.0f us\n", known, unknown);
	ck_assert(unknown >= known * 0.8 && unknown <= known * 1.2);
	passwd_db_free(db);
}
END_TEST

/* md5crypt (and NT) hashes are refused: such a user cannot log in, even
 * with the right password, and costs what an unknown user costs. */
START_TEST(test_weak_methods_refused)
{
	char s6[HASH_LEN], text[4096];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	struct passwd_db *db;
	const char *md5;
	double known, weak;

	ck_assert_ptr_nonnull(cd);
	ck_assert_int_eq(passwd_hash("pw", "$6$", s6, sizeof(s6)), 0);
	md5 = crypt_r("pw", "$1$abcdefgh$", cd);
	if (!md5 || md5[0] != '$')
		md5 = "$1$abcdefgh$GjCzRbbCtHjjYrKMGdGf30"; /* this libcrypt cannot make one */
	snprintf(text, sizeof(text),
		 "a:%s\nb:%s\nold:%s\nnt:$3$$8846f7eaee8fb117ad06bdd830b7586c\n", s6, s6, md5);
	free(cd);
	db = parse_ok(text);
	ck_assert_int_eq(passwd_db_check(db, "old", "pw"), PW_WEAK_HASH);
	ck_assert_int_eq(passwd_db_check(db, "nt", "password"), PW_WEAK_HASH);
	ck_assert_ptr_nonnull(passwd_db_warning(db));
	ck_assert_ptr_nonnull(
	    strstr(passwd_db_warning(db), "2 user(s) with an md5crypt or NT hash"));
	ck_assert_ptr_nonnull(strstr(passwd_db_warning(db), "'old', line 3"));
	ck_assert_ptr_null(strstr(passwd_db_warning(db), "methods or costs"));
	medians(db, "a", &known, &weak);
	ck_assert(check_us(db, "old") > known * 0.5); /* hashed like the others */
	passwd_db_free(db);
}
END_TEST

/* passwd_db_user: may the user log in as the db stands, and which hash
 * (a new one for the same password too: a new salt). */
START_TEST(test_user_state)
{
	char h1[HASH_LEN], h2[HASH_LEN], text[1024];
	struct passwd_db *a, *b;
	uint64_t s1, s2, s3;

	ck_assert_int_eq(passwd_hash("pw", "$6$", h1, sizeof(h1)), 0);
	ck_assert_int_eq(passwd_hash("pw", "$6$", h2, sizeof(h2)), 0);
	snprintf(text, sizeof(text), "u:%s\nl:!%s\nm:$1$abcdefgh$x\n", h1, h1);
	a = parse_ok(text);
	snprintf(text, sizeof(text), "u:%s\n", h2);
	b = parse_ok(text);
	ck_assert_int_eq(passwd_db_user(a, "u", &s1), PW_OK);
	ck_assert_int_eq(passwd_db_user(a, "l", &s3), PW_LOCKED);
	ck_assert_uint_eq(s1, s3); /* the same hash, locked */
	ck_assert_int_eq(passwd_db_user(a, "m", &s3), PW_WEAK_HASH);
	ck_assert_int_eq(passwd_db_user(a, "x", &s3), PW_UNKNOWN_USER);
	ck_assert_uint_eq(s3, 0);
	ck_assert_int_eq(passwd_db_user(b, "u", &s2), PW_OK);
	ck_assert_uint_ne(s1, s2);
	passwd_db_free(a);
	passwd_db_free(b);
}
END_TEST

START_TEST(test_hash)
{
	char a[HASH_LEN], b[HASH_LEN], tiny[8];

	ck_assert_int_eq(passwd_hash("same", "$y$", a, sizeof(a)), 0);
	ck_assert_int_eq(passwd_hash("same", "$y$", b, sizeof(b)), 0);
	ck_assert(strncmp(a, "$y$", 3) == 0);
	/* Fresh salt each time. */
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(passwd_hash("same", "$6$", a, sizeof(a)), 0);
	ck_assert(strncmp(a, "$6$", 3) == 0);
	ck_assert_int_eq(passwd_hash("same", "$y$", tiny, sizeof(tiny)), -ENOSPC);
	ck_assert_int_lt(passwd_hash("same", "$nope$", a, sizeof(a)), 0);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_passwd.XXXXXX", h[HASH_LEN], err[512] = "", want[600];
	struct passwd_db *db = NULL;
	FILE *f;
	int fd;

	ck_assert_int_eq(passwd_hash("s3cret", "$y$", h, sizeof(h)), 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# test\nalice:%s\n", h);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(passwd_db_load(path, &db, err, sizeof(err)), 0);
	ck_assert_uint_eq(passwd_db_count(db), 1);
	ck_assert_int_eq(passwd_db_check(db, "alice", "s3cret"), PW_OK);
	passwd_db_free(db);

	/* Errors name the file. */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("\nbroken\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(passwd_db_load(path, &db, err, sizeof(err)), -1);
	ck_assert_ptr_null(db);
	snprintf(want, sizeof(want), "%s:4: missing ':'", path);
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(passwd_db_load(path, &db, err, sizeof(err)), -1);
	ck_assert_ptr_null(db);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* No room for a message is not a crash. */
	ck_assert_int_eq(passwd_db_load(path, &db, NULL, 0), -1);
}
END_TEST

START_TEST(test_result_str)
{
	ck_assert_str_eq(passwd_result_str(PW_OK), "ok");
	ck_assert_str_eq(passwd_result_str(PW_BAD_PASSWORD), "bad password");
	ck_assert_str_eq(passwd_result_str(PW_UNKNOWN_USER), "unknown user");
	ck_assert_str_eq(passwd_result_str(PW_LOCKED), "locked");
	ck_assert_ptr_nonnull(strstr(passwd_result_str(PW_WEAK_HASH), "md5crypt"));
}
END_TEST

static Suite *passwd_suite(void)
{
	Suite *s = suite_create("passwd");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_valid_user);
	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_no_users);
	tcase_add_test(tc, test_parse_bad_lines);
	tcase_add_test(tc, test_parse_duplicates);
	tcase_add_test(tc, test_check_yescrypt);
	tcase_add_test(tc, test_check_sha512);
	tcase_add_test(tc, test_check_many_users);
	tcase_add_test(tc, test_check_broken_hash);
	tcase_add_test(tc, test_unknown_user_timing);
	tcase_add_test(tc, test_mixed_methods);
	tcase_add_test(tc, test_weak_methods_refused);
	tcase_add_test(tc, test_user_state);
	tcase_add_test(tc, test_hash);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_result_str);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(passwd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
