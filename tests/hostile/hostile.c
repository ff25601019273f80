/* hostile (test tool, run in a lab client namespace by the tests in tests/hostile/):
 * a TLS client that misbehaves towards tunneld on purpose.  This file owns
 * the command line and the shared helpers; probes.c and session.c hold the
 * scenarios on one or a few connections, loris.c, flood.c and burst.c the
 * many-connection ones, hdtls.c the DTLS ones.
 * Every scenario prints key=value lines and ends with one line
 * "PASS: hostile CMD: ..." or "FAIL: hostile CMD: ...", exit status 0 / 1
 * (2 for a usage error). */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct hopts O;
gnutls_certificate_credentials_t H_CRED;
static const char *cmd_name = "";

/* ---- helpers ------------------------------------------------------------- */

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!O.verbose)
		return;
	fprintf(stderr, "hostile %s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int verdict(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%s: hostile %s: ", ok ? "PASS" : "FAIL", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok ? 0 : 1;
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hostile: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hostile --help'.\n");
	exit(2);
}

double parse_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return end == s || *end || v < 0 || v > 86400 ? -1 : v;
}

long parse_count(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("'%s': want a number from %ld to %ld", s, min, max);
	return v;
}

static bool parse_addr(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return true;
	}
	return false;
}

/* "198.18.0.1:4443" or "[fd00::1]:4443" */
static void parse_server(const char *arg)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(arg, ':');
	size_t n;

	if (!colon || colon == arg)
		usage_error("-s %s: want ADDRESS:PORT", arg);
	n = (size_t)(colon - arg);
	if (arg[0] == '[') {
		if (n < 3 || arg[n - 1] != ']')
			usage_error("-s %s: want [IPV6]:PORT", arg);
		arg++;
		n -= 2;
	}
	if (n >= sizeof(host))
		usage_error("-s %s: bad address", arg);
	memcpy(host, arg, n);
	host[n] = 0;
	if (!parse_addr(host, (uint16_t)parse_count(colon + 1, 1, 65535), &O.server, &O.server_len))
		usage_error("-s: '%s' is not an IP address", host);
}

static void add_src(const char *text)
{
	socklen_t l;

	if (O.n_src >= H_MAX_SRC)
		usage_error("-b: at most %d source addresses", H_MAX_SRC);
	if (!parse_addr(text, 0, &O.src[O.n_src], &l))
		usage_error("-b: '%s' is not an IP address", text);
	O.n_src++;
}

/* -b LIST: addresses separated by commas; "198.18.0.100-119" is a range of
 * the last IPv4 byte. */
static void parse_sources(const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *item;

	if (!copy)
		exit(1);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		if (!dash) {
			add_src(item);
			continue;
		}
		*dash = 0;
		char *dot = strrchr(item, '.');
		if (!dot)
			usage_error("-b: a range is A.B.C.D-E");
		long first = parse_count(dot + 1, 0, 255), last = parse_count(dash + 1, 0, 255);
		if (last < first)
			usage_error("-b: empty range");
		*dot = 0;
		for (long i = first; i <= last; i++) {
			char a[INET_ADDRSTRLEN];
			snprintf(a, sizeof(a), "%s.%ld", item, i);
			add_src(a);
		}
	}
	free(copy);
}

const char *src_text(unsigned i, char *buf, size_t len)
{
	const struct sockaddr_storage *ss;

	if (O.n_src == 0)
		return "auto";
	ss = &O.src[i % O.n_src];
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf,
			  (socklen_t)len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
			  (socklen_t)len);
	return buf;
}

int tcp_start(unsigned i)
{
	int fd, one = 1;

	fd = socket(O.server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Before connect(), so the window scale matches the small buffer. */
	if (O.rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &O.rcvbuf, sizeof(O.rcvbuf));
	if (O.n_src) {
		const struct sockaddr_storage *ss = &O.src[i % O.n_src];
		socklen_t l = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
		if (bind(fd, (const struct sockaddr *)ss, l) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	if (connect(fd, (const struct sockaddr *)&O.server, O.server_len) < 0 &&
	    errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

void want_fds(unsigned n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= n)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > n ? n : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* A plain TCP connection (no TLS), connected within O.timeout_ms. */
static void help(void)
{
	printf("Usage: hostile [OPTIONS] COMMAND [ARGS]\n"
	       "A client that misbehaves towards tunneld, for the tests in tests/hostile/.\n"
	       "Each command ends with a line 'PASS: ...' or 'FAIL: ...' (exit 0 / 1).\n\n"
	       "Options (before COMMAND):\n"
	       "  -s ADDR:PORT   server (default 198.18.0.1:4443)\n"
	       "  -b LIST        source addresses, round robin: A,B or A.B.C.D-E\n"
	       "  -u USER -p PASSWORD   credentials (default alice / alice-pass)\n"
	       "  -t SECONDS     how long floods and holds last (default 5)\n"
	       "  -w MS          wait for one answer (default 5000)\n"
	       "  --priority S   GnuTLS priority string (default NORMAL)\n"
	       "  -v             progress on stderr\n\n"
	       "Commands:\n"
	       "  garbage                 send bytes that are not TLS; the server must close\n"
	       "  http KIND [SIZE] --expect STATUS\n"
	       "                          after TLS send a request: header (header section of\n"
	       "                          SIZE bytes), line (request line of SIZE bytes), body\n"
	       "                          (SIZE-byte body), garbage, chunked; a status >= 400\n"
	       "                          must be followed by a close\n"
	       "  login [--expect ok|refused] [--text T] [--cookie-out FILE]\n"
	       "  connect --cookie C|--cookie-file F|--tampered F|--forged|--no-cookie\n"
	       "          --expect STATUS  CONNECT; a refusal must leave no tunnel\n"
	       "  expired bye             log in, CONNECT, log out (0xb0); the cookie gets 401\n"
	       "  expired wait SECONDS    log in, CONNECT, drop the line, reconnect (200), wait,\n"
	       "                          then the cookie gets 401\n"
	       "  cstp KIND               in a tunnel, one bad frame: magic, length (> MTU),\n"
	       "                          type, compressed, reserved; the server must close\n"
	       "  hold N [--expect LIST] [--reconnect] [--drop] [--ping DEST]\n"
	       "                          N tunnels held for -t s; LIST like\n"
	       "                          connect=200,connect=200,connect=503;\n"
	       "                          --ping: each sends one echo request to DEST\n"
	       "  loris MODE N [...]      N stalled connections (see 'hostile loris --help')\n"
	       "  flood dpd|ping [...]    flood a tunnel (see 'hostile flood --help')\n"
	       "  cycles N [-j P]         N x (TLS, login, CONNECT, DPD, logout), P at a time;\n"
	       "                          --while-file F: more while F exists\n"
	       "  burst login|cookie [...] short connections, one request each, for -t s\n"
	       "                          (see 'hostile burst --help')\n"
	       "  dtls flood|garbage|unknown [...]  hostile datagrams to the DTLS port\n"
	       "                          (see 'hostile dtls --help')\n");
	exit(0);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"help", no_argument, NULL, 'h'}, {"priority", required_argument, NULL, 'P'}, {0}};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"garbage", cmd_garbage}, {"http", cmd_http},	{"login", cmd_login},
		    {"connect", cmd_connect}, {"expired", cmd_expired}, {"cstp", cmd_cstp},
		    {"hold", cmd_hold},	      {"loris", cmd_loris},	{"flood", cmd_flood},
		    {"cycles", cmd_cycles},   {"burst", cmd_burst},	{"dtls", cmd_dtls}};
	int c;

	O.user = "alice";
	O.pass = "alice-pass";
	O.priority = "NORMAL";
	O.seconds = 5;
	O.timeout_ms = 5000;
	parse_server("198.18.0.1:4443");
	while ((c = getopt_long(argc, argv, "+s:b:u:p:t:w:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			parse_server(optarg);
			break;
		case 'b':
			parse_sources(optarg);
			break;
		case 'u':
			O.user = optarg;
			break;
		case 'p':
			O.pass = optarg;
			break;
		case 't':
			if ((O.seconds = parse_seconds(optarg)) < 0)
				usage_error("-t: bad number of seconds");
			break;
		case 'w':
			O.timeout_ms = (int)parse_count(optarg, 1, 3600000);
			break;
		case 'P':
			O.priority = optarg;
			break;
		case 'v':
			O.verbose = true;
			break;
		case 'h':
			help();
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (optind >= argc)
		usage_error("no command");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&H_CRED) < 0) {
		fprintf(stderr, "hostile: GnuTLS set-up failed\n");
		return 1;
	}
	cmd_name = argv[optind];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[optind]))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* GNU getopt: start afresh on the command's arguments */
		c = cmds[i].fn(argc, argv);
		gnutls_certificate_free_credentials(H_CRED);
		gnutls_global_deinit();
		return c;
	}
	usage_error("unknown command '%s'", argv[optind]);
}
