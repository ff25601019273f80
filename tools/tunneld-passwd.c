/* tunneld-passwd: run by an administrator (usually root) to edit the
 * password file.  Owns the file while it runs: FILE.tmp, created
 * exclusively, is both the lock and the new copy that replaces FILE. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/passwd.h"
#include "common/totp.h"
#include "tools/totp-file.h"

#define PROG	   "tunneld-passwd"
#define MAX_PASS   1024 /* longer input is refused */
#define HASH_SIZE  512
#define MAX_FILE   (16u << 20)
#define EXIT_USAGE 2

/* ACT_GROUPS: -g for a user the file has (the password stays). */
enum action { ACT_SET, ACT_DELETE, ACT_LOCK, ACT_UNLOCK, ACT_GROUPS, ACT_TOTP, ACT_NO_TOTP };

/* Set while we hold the lock; removed by die() and on signals so that a
 * failed run does not leave the lock behind. */
static char *tmp_path;

/* Terminal state while echo is off, restored by the signal handler too. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (tmp_path)
		unlink(tmp_path);
	exit(EXIT_FAILURE);
}

static void usage_error(const char *msg) __attribute__((noreturn));
static void help(void) __attribute__((noreturn));

static void usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", msg);
	exit(EXIT_USAGE);
}

static void help(void)
{
	printf("Usage: " PROG " -f PASSWDFILE [-m yescrypt|sha512] [-g GROUPS] USER\n"
	       "       " PROG " -f PASSWDFILE -d|-l|-u USER\n"
	       "       " PROG " -f PASSWDFILE --totp|--no-totp USER\n"
	       "\n"
	       "Edit a tunneld password file.  Without -d, -l or -u, add USER or\n"
	       "change USER's password (a locked user stays locked).  The password\n"
	       "is read twice from the terminal, or as one line from standard input\n"
	       "when that is not a terminal.  With -g, a user the file has keeps\n"
	       "the password and gets the groups; a new one is added with both.\n"
	       "\n"
	       "  -f, --file=FILE     password file (created when adding a user)\n"
	       "  -d, --delete        delete USER\n"
	       "  -l, --lock          lock USER (the password is kept)\n"
	       "  -u, --unlock        unlock USER\n"
	       "  -m, --method=NAME   hash with yescrypt (default) or sha512\n"
	       "  -g, --groups=LIST   USER's groups, comma-separated (\"\" for none)\n"
	       "      --totp          give USER a new TOTP secret (PASSWDFILE.totp): the\n"
	       "                      login then asks for a code too; prints the otpauth URI\n"
	       "                      for an authenticator app (and a QR code with qrencode)\n"
	       "      --no-totp       remove USER's TOTP secret\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       show the version\n");
	exit(EXIT_SUCCESS);
}

static void on_signal(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	if (tmp_path)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from fd into buf (NUL-terminated, without "\n" or "\r\n").
 * Returns its length, or dies. */
static size_t read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("cannot read the password: %s", strerror(errno));
		if (r == 0 || c == '\n')
			break;
		if (c == '\0')
			die("the password contains a NUL byte");
		if (n + 1 >= cap)
			die("the password is longer than %d bytes", MAX_PASS);
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n;
}

static void prompt_tty(const char *prompt, char *buf, size_t cap)
{
	struct termios t;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		die("cannot read terminal settings: %s", strerror(errno));
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	tty_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		die("cannot turn off echo: %s", strerror(errno));
	read_line(STDIN_FILENO, buf, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_changed = 0;
}

/* Read the new password and return its hash in out. */
static void get_password_hash(const char *user, const char *prefix, char *out, size_t cap)
{
	static char pw[MAX_PASS + 2], again[MAX_PASS + 2];
	char prompt[128];
	int r;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "New password for %s: ", user);
		prompt_tty(prompt, pw, sizeof(pw));
		if (pw[0] != '\0') {
			prompt_tty("Retype the password: ", again, sizeof(again));
			if (strcmp(pw, again) != 0) {
				explicit_bzero(pw, sizeof(pw));
				explicit_bzero(again, sizeof(again));
				die("the passwords do not match");
			}
		}
	} else {
		read_line(STDIN_FILENO, pw, sizeof(pw));
	}
	if (pw[0] == '\0')
		die("empty password refused");
	r = passwd_hash(pw, prefix, out, cap);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	if (r < 0)
		die("cannot hash the password: %s", strerror(-r));
}

/* Read the whole file.  Returns false if it does not exist. */
static bool read_file(const char *path, char **buf, size_t *len, struct stat *st)
{
	size_t cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*buf = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return false;
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0)
		die("cannot stat %s: %s", path, strerror(errno));
	if (!S_ISREG(st->st_mode))
		die("%s is not a regular file", path);
	for (;;) {
		ssize_t n;
		if (*len == cap) {
			if (cap >= MAX_FILE)
				die("%s is larger than %u bytes", path, MAX_FILE);
			cap = cap ? cap * 2 : 4096;
			*buf = realloc(*buf, cap);
			if (!*buf)
				die("out of memory");
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return true;
}

/* Refuse to edit a file tunneld would not load: the edit could otherwise
 * hide or duplicate an entry. */
static void validate(const char *path, const char *buf, size_t len)
{
	struct passwd_db *db;
	char err[512];

	if (passwd_db_parse(buf ? buf : "", len, path, &db, err, sizeof(err)) < 0)
		die("%s", err);
	passwd_db_free(db);
}

struct user_line {
	size_t start, end;	     /* the line, end past its '\n' */
	size_t hash_start, hash_end; /* the hash incl. any '!', without trailing blanks */
	size_t fields_end;	     /* past the group field (hash_end without one) */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Find user's line in a file that passed validate(), so every line that
 * is not blank or a comment is "user:hash" or "user:hash:groups". */
static bool find_user(const char *buf, size_t len, const char *user, struct user_line *u)
{
	size_t ulen = strlen(user), pos = 0;

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos, t = n, i = 0;
		const char *colon;

		u->start = pos;
		u->end = pos + n + (nl ? 1 : 0);
		pos = u->end;
		while (t > 0 && is_blank(s[t - 1]))
			t--;
		while (i < t && is_blank(s[i]))
			i++;
		if (i == t || s[i] == '#')
			continue;
		colon = memchr(s, ':', t);
		if (colon && (size_t)(colon - s) == ulen && memcmp(s, user, ulen) == 0) {
			const char *g = memchr(colon + 1, ':', t - ulen - 1);

			u->hash_start = u->start + ulen + 1;
			u->hash_end = u->start + (g ? (size_t)(g - s) : t);
			u->fields_end = u->start + t;
			return true;
		}
	}
	return false;
}

/* buf[0, a) + mid + buf[b, len) */
static char *replace_span(const char *buf, size_t len, size_t a, size_t b, const char *mid,
			  size_t *out_len)
{
	size_t m = strlen(mid);
	char *out = malloc(a + m + (len - b) + 1);

	if (!out)
		die("out of memory");
	memcpy(out, buf, a);
	memcpy(out + a, mid, m);
	memcpy(out + a + m, buf + b, len - b);
	*out_len = a + m + (len - b);
	return out;
}

/* What the command line asks for. */
struct request {
	const char *path, *user;
	const char *prefix; /* of the hash: "$y$" yescrypt, "$6$" SHA-512 */
	const char *groups; /* -g: the new group field, NULL to keep it */
	enum action act;
};

static char *apply(const struct request *rq, const char *buf, size_t len, const char *hash,
		   size_t *out_len)
{
	enum action act = rq->act;
	const char *path = rq->path, *user = rq->user;
	struct user_line u;
	char line[PASSWD_MAX_USER + HASH_SIZE + PASSWD_MAX_GROUPS + 8];
	bool found = find_user(buf, len, user, &u);
	bool locked = found && buf[u.hash_start] == '!';

	if (!found && act != ACT_SET)
		die("no such user '%s' in %s", user, path);
	if (act == ACT_GROUPS) {
		snprintf(line, sizeof(line), "%s%s", rq->groups[0] ? ":" : "", rq->groups);
		return replace_span(buf, len, u.hash_end, u.fields_end, line, out_len);
	}
	if (act == ACT_SET && found) {
		if (locked)
			fprintf(stderr, PROG ": note: '%s' stays locked; unlock with -u\n", user);
		snprintf(line, sizeof(line), "%s%s", locked ? "!" : "", hash);
		return replace_span(buf, len, u.hash_start, u.hash_end, line, out_len);
	}
	if (act == ACT_SET) {
		/* Append, ending an unterminated last line first. */
		snprintf(line, sizeof(line), "%s%s:%s%s%s\n",
			 len > 0 && buf[len - 1] != '\n' ? "\n" : "", user, hash,
			 rq->groups && rq->groups[0] ? ":" : "", rq->groups ? rq->groups : "");
		return replace_span(buf, len, len, len, line, out_len);
	}
	if (act == ACT_DELETE)
		return replace_span(buf, len, u.start, u.end, "", out_len);
	if (act == ACT_LOCK) {
		if (locked)
			die("user '%s' is already locked in %s", user, path);
		return replace_span(buf, len, u.hash_start, u.hash_start, "!", out_len);
	}
	if (!locked)
		die("user '%s' is not locked in %s", user, path);
	return replace_span(buf, len, u.hash_start, u.hash_start + 1, "", out_len);
}

static void write_all(int fd, const char *buf, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("cannot write %s: %s", path, strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* The rename is only durable once the directory entry is on disk. */
static void sync_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (!dir)
		die("out of memory");
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		die("%s was replaced, but syncing %s failed: %s", path, dir, strerror(errno));
	close(fd);
	free(dir);
}

static void set_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Fills rq from the command line, or exits (help, version, usage errors). */
static void parse_args(int argc, char **argv, struct request *rq)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"delete", no_argument, NULL, 'd'},
	    {"lock", no_argument, NULL, 'l'},
	    {"unlock", no_argument, NULL, 'u'},
	    {"method", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"groups", required_argument, NULL, 'g'},
	    {"totp", no_argument, NULL, 'T'},
	    {"no-totp", no_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
	};
	const char *method = NULL;
	int n_actions = 0, c;

	*rq = (struct request){.prefix = "$y$", .act = ACT_SET};
	while ((c = getopt_long(argc, argv, "f:dlum:g:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			rq->path = optarg;
			break;
		case 'd':
		case 'l':
		case 'u':
			rq->act = c == 'd' ? ACT_DELETE : c == 'l' ? ACT_LOCK : ACT_UNLOCK;
			n_actions++;
			break;
		case 'm':
			method = optarg;
			break;
		case 'g':
			rq->groups = optarg;
			break;
		case 'T':
		case 'N':
			rq->act = c == 'T' ? ACT_TOTP : ACT_NO_TOTP;
			n_actions++;
			break;
		case 'h':
			help();
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (!rq->path)
		usage_error("no password file given (-f)");
	if (optind + 1 != argc)
		usage_error(optind == argc ? "no user given" : "more than one user given");
	if (n_actions > 1)
		usage_error("only one of -d, -l, -u, --totp and --no-totp may be given");
	if (method && rq->act != ACT_SET)
		usage_error("-m only applies when setting a password");
	if (rq->groups && rq->act != ACT_SET)
		usage_error("-g only applies when adding a user or setting groups");
	if (rq->groups && !passwd_valid_groups(rq->groups))
		usage_error(
		    "invalid group list (comma-separated names of 1-63 of A-Z a-z 0-9 . _ -, "
		    "at most 255 bytes)");
	if (method && strcmp(method, "sha512") == 0)
		rq->prefix = "$6$";
	else if (method && strcmp(method, "yescrypt") != 0)
		usage_error("unknown method (use yescrypt or sha512)");
	rq->user = argv[optind];
	if (!passwd_valid_user(rq->user))
		usage_error("invalid user name (1-64 of A-Z a-z 0-9 . _ @ -, not starting with -)");
}

/* Creates PATH.tmp exclusively: the lock, and the new copy.  Returns its
 * fd; tmp_path is set from then on, so that die() removes it. */
static int take_lock(const char *path)
{
	char *tmp;
	int fd;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		die("out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST)
		die("%s exists: another " PROG " is running, or one was interrupted "
		    "(then remove it)",
		    tmp);
	if (fd < 0)
		die("cannot create %s: %s", tmp, strerror(errno));
	tmp_path = tmp;
	return fd;
}

/* Under the lock (fd is tmp_path): reads the file again, since another
 * run may have changed it, applies the request, writes the new copy with
 * the file's owner and mode, and renames it over the file.  Wipes hash. */
static void rewrite(int fd, const struct request *rq, char *hash, size_t hash_size)
{
	const char *path = rq->path;
	char *buf, *out, *tmp = tmp_path;
	size_t len, out_len;
	struct stat st;
	bool exists;

	exists = read_file(path, &buf, &len, &st);
	if (!exists && rq->act != ACT_SET)
		die("cannot open %s: %s", path, strerror(ENOENT));
	validate(path, buf, len);
	out = apply(rq, buf ? buf : "", len, hash, &out_len);
	explicit_bzero(hash, hash_size);

	if (exists && fchown(fd, st.st_uid, st.st_gid) < 0)
		die("cannot give %s the owner of %s: %s", tmp_path, path, strerror(errno));
	if (fchmod(fd, exists ? st.st_mode & 07777 : 0600) < 0)
		die("cannot set the mode of %s: %s", tmp_path, strerror(errno));
	write_all(fd, out, out_len, tmp_path);
	if (fsync(fd) < 0)
		die("cannot sync %s: %s", tmp_path, strerror(errno));
	if (close(fd) < 0)
		die("cannot write %s: %s", tmp_path, strerror(errno));
	if (rename(tmp_path, path) < 0)
		die("cannot rename %s to %s: %s", tmp_path, path, strerror(errno));
	tmp_path = NULL;
	sync_dir(path);
	free(buf);
	free(out);
	free(tmp);
}

/* A deleted user's TOTP secret goes too (when there is a secrets file). */
static void drop_totp(const char *path, const char *user)
{
	char tp[4096], err[512];

	if (totp_path(path, tp, sizeof(tp)) == 0 && access(tp, F_OK) == 0 &&
	    totp_file_set(path, user, NULL, err, sizeof(err)) < 0)
		die("%s", err);
}

/* --totp, --no-totp: the user must be in the password file. */
static void set_totp(const struct request *rq)
{
	char secret[128], uri[512], err[512];
	char *buf;
	size_t len;
	struct stat st;
	struct user_line u;

	if (!read_file(rq->path, &buf, &len, &st))
		die("cannot open %s: %s", rq->path, strerror(ENOENT));
	validate(rq->path, buf, len);
	if (!find_user(buf, len, rq->user, &u))
		die("%s: no user %s", rq->path, rq->user);
	free(buf);
	if (rq->act == ACT_TOTP && totp_new_secret(secret, sizeof(secret)) < 0)
		die("cannot make a secret");
	if (totp_file_set(rq->path, rq->user, rq->act == ACT_TOTP ? secret : NULL, err,
			  sizeof(err)) < 0)
		die("%s", err);
	if (rq->act == ACT_TOTP) {
		if (totp_uri(rq->user, secret, uri, sizeof(uri)) < 0)
			die("user name too long for a URI");
		printf("%s\n", uri);
		totp_print_qr(uri);
	}
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(uri, sizeof(uri));
}

int main(int argc, char **argv)
{
	struct request rq;
	char hash[HASH_SIZE] = "", *buf;
	size_t len;
	struct stat st;

	parse_args(argc, argv, &rq);
	set_signals();
	if (rq.act == ACT_TOTP || rq.act == ACT_NO_TOTP) {
		set_totp(&rq);
		return EXIT_SUCCESS;
	}
	/* Report a broken or unreadable file before asking for a password,
	 * and hash before taking the lock, so the lock is held only while the
	 * file is rewritten (never while someone types). */
	if (read_file(rq.path, &buf, &len, &st)) {
		struct user_line u;

		validate(rq.path, buf, len);
		/* -g for a user the file has: only the groups change. */
		if (rq.groups && find_user(buf, len, rq.user, &u))
			rq.act = ACT_GROUPS;
	} else if (rq.act != ACT_SET) {
		die("cannot open %s: %s", rq.path, strerror(ENOENT));
	}
	free(buf);
	if (rq.act == ACT_SET)
		get_password_hash(rq.user, rq.prefix, hash, sizeof(hash));
	rewrite(take_lock(rq.path), &rq, hash, sizeof(hash));
	if (rq.act == ACT_DELETE)
		drop_totp(rq.path, rq.user);
	return EXIT_SUCCESS;
}
