/* Master entry point: command line, config load, then master_run(). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf/config.h"
#include "daemon/master.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: tunneld -c FILE [-f] [-t]\n"
		   "An OpenConnect-compatible TLS VPN server.\n\n"
		   "  -c, --config FILE   configuration file (default " SYSCONFDIR
		   "/tunneld/tunneld.conf)\n"
		   "  -f, --foreground    stay in the foreground (the default)\n"
		   "  -t, --test-config   check the configuration and exit\n"
		   "  -h, --help          this help\n"
		   "  -V, --version       print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	    {"test-config", no_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *path = SYSCONFDIR "/tunneld/tunneld.conf";
	char err[CFG_ERR_LEN];
	struct cfg cfg;
	int test = 0, o;

	while ((o = getopt_long(argc, argv, "c:fthV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'f':
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
	if (cfg_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tunneld: %s\n", err);
		return 1;
	}
	if (test) {
		printf("tunneld: %s: configuration is valid\n", path);
		cfg_free(&cfg);
		return 0;
	}
	return master_run(&cfg);
}
