/* Master entry point: command line, config load, then master_run(). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf/config.h"
#include "daemon/master.h"

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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	    {"daemon", no_argument, NULL, 'D'},	      {"pid-file", required_argument, NULL, 'p'},
	    {"test-config", no_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *path = SYSCONFDIR "/tunneld/tunneld.conf";
	char err[CFG_ERR_LEN];
	struct master_opts mo = {0};
	char *abs = NULL;
	struct cfg cfg;
	int test = 0, o, rc;

	while ((o = getopt_long(argc, argv, "c:fDp:thV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			mo.daemon = false;
			break;
		case 'D':
			mo.daemon = true;
			break;
		case 'p':
			mo.pid_file = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
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
	/* Reloads happen after chdir("/"): remember where the file is. */
	abs = realpath(path, NULL);
	if (abs)
		path = abs;
	if (cfg_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tunneld: %s\n", err);
		free(abs);
		return 1;
	}
	if (test) {
		printf("tunneld: %s: configuration is valid\n", path);
		cfg_free(&cfg);
		free(abs);
		return 0;
	}
	mo.config = path;
	/* The daemon runs in "/": make a relative PID file path absolute. */
	char pidbuf[4096];
	if (mo.pid_file && mo.pid_file[0] != '/') {
		char cwd[2048];
		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(pidbuf, sizeof(pidbuf), "%s/%s", cwd, mo.pid_file) >=
			sizeof(pidbuf)) {
			fprintf(stderr, "tunneld: --pid-file %s: path too long\n", mo.pid_file);
			cfg_free(&cfg);
			free(abs);
			return 1;
		}
		mo.pid_file = pidbuf;
	}
	rc = master_run(&cfg, &mo);
	free(abs);
	return rc;
}
