/* Master entry point (root): command line, config load, the server
 * certificate (made on the first start when none is configured), then
 * master_run(). */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/log.h"
#include "conf/config.h"
#include "daemon/master.h"
#include "daemon/cookies.h"
#include "daemon/selfcert.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: tunneld -c FILE [-f | -D] [-p PIDFILE] [-t]\n"
		   "An OpenConnect-compatible TLS VPN server.\n\n"
		   "  -c, --config FILE   configuration file (default " SYSCONFDIR
		   "/tunneld/tunneld.conf)\n"
		   "  -f, --foreground    stay in the foreground (the default)\n"
		   "  -D, --daemon        detach; return once the server is ready\n"
		   "  -p, --pid-file FILE write the daemon's PID to FILE (locked)\n"
		   "  -t, --test-config   check the configuration and exit\n"
		   "  -h, --help          this help\n"
		   "  -V, --version       print the version\n");
}

/* Whether stderr is the journal's stream: systemd names it in
 * JOURNAL_STREAM as DEVICE:INODE, and a line that starts with "<N>" is
 * then filed at priority N.  Without the prefix journald files every line
 * at the unit's default, info, where "journalctl -p warning" does not
 * look; an inherited JOURNAL_STREAM with stderr elsewhere (a terminal)
 * gets no prefix. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* A line of tunneld's own before the log is set up: a refused config
 * (LOG_ERR, FILE:LINE in text) at a start or with -t, or a warning. */
static void say(int prio, const char *text)
{
	const char *warn = prio == LOG_WARNING ? "warning: " : "";

	if (stderr_is_journal())
		fprintf(stderr, "<%d>tunneld: %s%s\n", prio, warn, text);
	else
		fprintf(stderr, "tunneld: %s%s\n", warn, text);
}

/* -t writes nothing: it tells which certificate a start would use. */
static void show_certificate(struct cfg *cfg)
{
	char err[CFG_ERR_LEN];
	struct selfcert sc;

	if (selfcert_apply(cfg, SELFCERT_DIR, false, &sc, err, sizeof(err)) < 0)
		say(LOG_WARNING, err);
	else if (sc.missing)
		printf("tunneld: no tls.certificate configured: the first start makes a "
		       "self-signed one, %s\n",
		       cfg->tls_certificate);
	else
		printf("tunneld: TLS certificate %s: %s\n", cfg->tls_certificate, sc.pin);
}

/* -t checks the cookie key file as a start would: 0, or -1 reported. */
static int show_cookie_keys(struct cfg *cfg)
{
	struct cookie_ring *ring;
	char err[CFG_ERR_LEN];

	if (!cfg->cookie_key_file)
		return 0;
	if (cookies_load(cfg, &ring, err, sizeof(err)) < 0) {
		fprintf(stderr, "tunneld: session.cookie-key-file %s\n", err);
		return -1;
	}
	cookies_commit(&ring);
	printf("tunneld: cookies: %s\n", cookies_describe(err, sizeof(err)));
	cookies_forget();
	return 0;
}

/* Fills in the self-signed pair when the config names no certificate and
 * logs the pin, where master_run() sends its own start-up lines: stderr
 * (the journal under systemd), or with --daemon the starter's stderr and
 * also the configured destination, where it stays to be found later. */
static int setup_certificate(struct cfg *cfg, bool daemon)
{
	char err[CFG_ERR_LEN];
	struct selfcert sc;

	log_init_master((int)cfg->log_level);
	log_set_json(cfg->log_format == LOG_FMT_JSON);
	if (log_set_destination(daemon ? "stderr" : cfg->log_destination, 0) < 0)
		log_set_destination("stderr", 0); /* master_run() reports it */
	if (selfcert_apply(cfg, SELFCERT_DIR, true, &sc, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	selfcert_log(cfg, &sc);
	if (daemon && strcmp(cfg->log_destination, "stderr") &&
	    log_set_destination(cfg->log_destination, 1) == 0)
		selfcert_log(cfg, &sc);
	return 0;
}

static void print_version(void)
{
	printf("tunneld %s%s%s\n", PACKAGE_VERSION,
#ifdef SECCOMP_TRAP
	       " (seccomp trap)",
#else
	       "",
#endif
#ifdef TEST_HOOKS
	       " (test hooks)"
#else
	       ""
#endif
	);
}

/* The options into *mo, *path and *test.  -1 to go on, or the exit
 * status (help, version, a usage error). */
static int parse_args(int argc, char **argv, struct master_opts *mo, const char **path, bool *test)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	    {"daemon", no_argument, NULL, 'D'},	      {"pid-file", required_argument, NULL, 'p'},
	    {"test-config", no_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "c:fDp:thV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			*path = optarg;
			break;
		case 'f':
			mo->daemon = false;
			break;
		case 'D':
			mo->daemon = true;
			break;
		case 'p':
			mo->pid_file = optarg;
			break;
		case 't':
			*test = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			print_version();
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tunneld: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The daemon runs in "/": a relative PID file path becomes absolute, in
 * buf.  0, or -1 reported. */
static int absolute_pid_file(struct master_opts *mo, char *buf, size_t len)
{
	char cwd[2048];

	if (!mo->pid_file || mo->pid_file[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(buf, len, "%s/%s", cwd, mo->pid_file) >= len) {
		fprintf(stderr, "tunneld: --pid-file %s: path too long\n", mo->pid_file);
		return -1;
	}
	mo->pid_file = buf;
	return 0;
}

/* fds 0-2 open, on /dev/null if they were closed, so that no socket or
 * TUN queue becomes one: workers point 0-2 at /dev/null and their seccomp
 * filter refuses I/O on them.  0, or -1 when /dev/null cannot be opened. */
static int ensure_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_NOCTTY)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = SYSCONFDIR "/tunneld/tunneld.conf";
	char err[CFG_ERR_LEN], pidbuf[4096];
	struct master_opts mo = {0};
	bool test = false;
	char *abs = NULL;
	struct cfg cfg;
	int status;

	if (ensure_stdio() < 0)
		return 1;
	status = parse_args(argc, argv, &mo, &path, &test);
	if (status >= 0)
		return status;
	/* Reloads happen after chdir("/"): remember where the file is. */
	abs = realpath(path, NULL);
	if (abs)
		path = abs;
	if (cfg_load(path, &cfg, err, sizeof(err)) < 0) {
		say(LOG_ERR, err);
		free(abs);
		return 1;
	}
	if (test) {
		status = show_cookie_keys(&cfg) < 0 ? 1 : 0;
		if (status == 0)
			printf("tunneld: %s: configuration is valid\n", path);
		show_certificate(&cfg);
	} else if (absolute_pid_file(&mo, pidbuf, sizeof(pidbuf)) < 0 ||
		   setup_certificate(&cfg, mo.daemon) < 0) {
		status = 1;
	} else {
		mo.config = path;		/* abs: freed only after master_run() */
		status = master_run(&cfg, &mo); /* takes cfg, leaves it zeroed */
	}
	cfg_free(&cfg);
	free(abs);
	return status;
}
