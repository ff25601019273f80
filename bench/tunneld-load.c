/* tunneld-load: load generator for tunneld and other OpenConnect (CSTP)
 * servers.  Runs as root or not, in the client namespace of the bench lab
 * (or, with --echo, in the LAN namespace).  Options and the small modes;
 * the measuring modes and their reports are in modes.c.
 *
 * Every mode is bounded in time: --duration for the measured phase, and
 * connect phases end after --connect-phase seconds at most. */
#include "config.h"
#include "bench/load.h"

#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

volatile sig_atomic_t stop_flag; /* SIGINT, SIGTERM: end the mode early */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f, int code) __attribute__((noreturn));

static void usage(FILE *f, int code)
{
	fprintf(
	    f,
	    "Usage: tunneld-load MODE [OPTIONS]\n"
	    "Modes:\n"
	    "  --connect-rate        connect, log in, CONNECT, say goodbye, repeat\n"
	    "                        (--concurrency clients at once, for --duration s)\n"
	    "  --hold N              hold N idle sessions; with --server-pid, server RSS/PSS\n"
	    "                        per session\n"
	    "  --echo-load M         M sessions send UDP packets to --echo-addr through the\n"
	    "                        tunnel (--window in flight each, or one per --interval)\n"
	    "  --echo PORT           run the UDP echo server (in the LAN namespace)\n"
	    "  --raw-rtt             UDP echo RTT to --echo-addr without a tunnel\n"
	    "  --reflect IFNAME      create tun device IFNAME and send every UDP or TCP\n"
	    "                        packet routed into it back (LAN namespace; the echo\n"
	    "                        for --proto tcp)\n"
	    "  --proc-stat           print CPU seconds and memory of --server-pid's processes\n"
	    "  --hash-cost HASH      time one crypt() of --password against HASH (ms)\n"
	    "Options:\n"
	    "  -s, --server ADDR:PORT      server (default 198.18.0.1:4443)\n"
	    "  -u, --user NAME             user name (default alice)\n"
	    "  -p, --password PASS         password (default alice-pass)\n"
	    "      --servercert pin-sha256:B64  pin of the server's public key\n"
	    "      --insecure              accept any server certificate\n"
	    "      --priority STRING       GnuTLS priority string (default NORMAL)\n"
	    "  -t, --duration SEC          length of the measured phase (default 10)\n"
	    "  -c, --concurrency N         connects in progress at once (default 32)\n"
	    "      --connect-timeout SEC   per connect (default 20)\n"
	    "      --connect-phase SEC     limit for establishing all sessions (default 120)\n"
	    "      --echo-addr ADDR:PORT   echo server (default 198.18.1.2:9000)\n"
	    "      --window N              echo packets in flight per session (default 4)\n"
	    "      --size BYTES            IP size of echo packets, %d..%d (default 1000)\n"
	    "      --proto udp|tcp         echo packets: UDP, or TCP-like segments (ACK|PSH,\n"
	    "                              advancing sequence numbers) for a --reflect echo\n"
	    "      --interval USEC         pace: one packet per session per interval\n"
	    "      --source ADDR/COUNT     bind to COUNT consecutive source addresses\n"
	    "      --server-pid PID        server process (master); repeatable\n"
	    "      --raw-compare           echo-load: probe the echo server without a tunnel\n"
	    "                              too, alternating with the tunnel's packets\n"
	    "      --ipv4-only             ask for an IPv4 address only\n"
	    "      --label TEXT            name in the RESULT line\n"
	    "      --dtls                  hold / echo-load: offer DTLS (PSK-NEGOTIATE) and move\n"
	    "                              the packets over it; sessions whose handshake fails\n"
	    "                              stay on TLS (counted)\n"
	    "      --dtls-rehandshake SEC  a new DTLS handshake (same App-ID) every SEC per "
	    "session\n"
	    "      --dtls-timeout SEC      a DTLS handshake gives up after SEC (default 10)\n"
	    "      --procs N               hold: sessions held by N processes (default: as\n"
	    "                              many as the limit of open files asks for)\n",
	    LOAD_MIN_PKT, LOAD_MAX_PKT);
	exit(code);
}

static void parse_addr(const char *s, struct sockaddr_in *a, const char *what)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		die("%s: expected ADDR:PORT, got '%s'", what, s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1 || port < 1 || port > 65535)
		die("%s: bad address '%s'", what, s);
}

static unsigned long num(const char *s, unsigned long lo, unsigned long hi, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v < lo || v > hi)
		die("%s: expected a number in %lu..%lu, got '%s'", what, lo, hi, s);
	return v;
}

/* As many open files as need, up to the hard limit (raised too where
 * that is allowed).  --hold spreads its sessions over processes when one
 * cannot hold them all; the other modes warn. */
static void raise_nofile(unsigned need, bool warn)
{
	struct rlimit r, hard;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur >= need)
		return;
	hard = r;
	if (r.rlim_max < need && geteuid() == 0)
		r.rlim_max = need;
	r.rlim_cur = need < r.rlim_max ? need : r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
		r = hard; /* not allowed to raise the hard limit: up to it */
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			getrlimit(RLIMIT_NOFILE, &r);
	}
	if (warn && r.rlim_cur < need)
		fprintf(stderr, "tunneld-load: warning: only %llu file descriptors\n",
			(unsigned long long)r.rlim_cur);
}

static int mode_proc_stat(const struct opts *o)
{
	struct srv_stat st;

	if (!o->n_server_pids)
		die("--proc-stat needs --server-pid");
	if (srv_stat_read(o->server_pids, o->n_server_pids, &st) < 0)
		die("no such process");
	printf("cpu_s=%.2f rss_kb=%llu pss_kb=%llu nproc=%u\n", st.cpu_s,
	       (unsigned long long)st.rss_kb, (unsigned long long)st.pss_kb, st.nproc);
	return 0;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The cost of one password check as the server does it (crypt of the
 * password with the stored hash's salt and parameters), in CPU time, so
 * that it compares with the server's CPU seconds on a busy machine too. */
static int mode_hash_cost(const struct opts *o, const char *hash)
{
	struct crypt_data cd;
	uint64_t t0 = cpu_ns(), w0 = now_ns(), t;
	unsigned n = 0;

	do {
		memset(&cd, 0, sizeof(cd));
		if (!crypt_rn(o->pass, hash, &cd, sizeof(cd)))
			die("crypt failed for '%s': %s", hash, strerror(errno));
		n++;
		t = cpu_ns() - t0;
	} while (t < NS_PER_SEC / 2 && n < 100000 && now_ns() - w0 < 5 * NS_PER_SEC);
	printf("RESULT mode=hash-cost method=%.3s ms=%.3f match=%s\n", hash, (double)t / n / 1e6,
	       strcmp(cd.output, hash) == 0 ? "yes" : "no");
	return 0;
}

/* ---- the command line ---- */

/* The mode options; false when opt is none of them.  --hash-cost sets
 * *hash (and no mode). */
static bool mode_option(struct opts *o, int opt, const char *arg, const char **hash)
{
	switch (opt) {
	case 'R':
		o->mode = MODE_CONNECT_RATE;
		break;
	case 'H':
		o->mode = MODE_HOLD;
		o->sessions = (unsigned)num(arg, 1, 1000000, "--hold");
		break;
	case 'E':
		o->mode = MODE_ECHO_LOAD;
		o->sessions = (unsigned)num(arg, 1, 1000000, "--echo-load");
		break;
	case 'e':
		o->mode = MODE_ECHO_SERVER;
		o->echo_port = (uint16_t)num(arg, 1, 65535, "--echo");
		break;
	case 'W':
		o->mode = MODE_RAW_RTT;
		break;
	case 'P':
		o->mode = MODE_PROC_STAT;
		break;
	case 'X':
		o->mode = MODE_NONE;
		*hash = arg;
		break;
	case 'x':
		o->mode = MODE_REFLECT;
		o->reflect_dev = arg;
		break;
	default:
		return false;
	}
	return true;
}

/* The server, the login and the sessions; false when opt is none of them. */
static bool session_option(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 's':
		parse_addr(arg, &o->srv, "--server");
		break;
	case 'u':
		o->user = arg;
		break;
	case 'p':
		o->pass = arg;
		break;
	case 'C':
		if (strncmp(arg, "pin-sha256:", 11) != 0)
			die("--servercert: expected pin-sha256:BASE64");
		o->pin = arg;
		break;
	case 'k':
		o->insecure = true;
		break;
	case 'y':
		o->priority = arg;
		break;
	case 't':
		o->duration = (double)num(arg, 1, 3600, "--duration");
		break;
	case 'c':
		o->concurrency = (unsigned)num(arg, 1, 100000, "--concurrency");
		break;
	case 'T':
		o->connect_timeout = (double)num(arg, 1, 600, "--connect-timeout");
		break;
	case 'F':
		connect_phase_s = (unsigned)num(arg, 1, 3600, "--connect-phase");
		break;
	case '4':
		o->ipv4_only = true;
		break;
	case 'l':
		o->label = arg;
		break;
	default:
		return false;
	}
	return true;
}

/* --source ADDR/COUNT */
static void parse_source(struct opts *o, const char *arg)
{
	char a[32];
	const char *sl = strchr(arg, '/');

	if (!sl || (size_t)(sl - arg) >= sizeof(a))
		die("--source: expected ADDR/COUNT");
	memcpy(a, arg, (size_t)(sl - arg));
	a[sl - arg] = '\0';
	if (inet_pton(AF_INET, a, &o->src_base) != 1)
		die("--source: bad address '%s'", a);
	o->src_count = (unsigned)num(sl + 1, 1, 65536, "--source");
}

/* The echo traffic and what is measured; false when opt is none of them. */
static bool traffic_option(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 'a':
		parse_addr(arg, &o->echo, "--echo-addr");
		break;
	case 'w':
		o->window = (unsigned)num(arg, 1, 1024, "--window");
		break;
	case 'z':
		o->payload = (unsigned)num(arg, LOAD_MIN_PKT, LOAD_MAX_PKT, "--size");
		break;
	case 'i':
		o->interval_us = (unsigned)num(arg, 1, 10000000, "--interval");
		break;
	case 'S':
		parse_source(o, arg);
		break;
	case 'm':
		if (o->n_server_pids == LOAD_MAX_PIDS)
			die("at most %d --server-pid", LOAD_MAX_PIDS);
		o->server_pids[o->n_server_pids++] = (pid_t)num(arg, 1, 1u << 22, "--server-pid");
		break;
	case 'r':
		o->raw_compare = true;
		break;
	case 'D':
		o->dtls = true;
		break;
	case 'K':
		o->dtls_rehs = (unsigned)num(arg, 1, 86400, "--dtls-rehandshake");
		break;
	case 'J':
		o->dtls_timeout = (unsigned)num(arg, 1, 600, "--dtls-timeout");
		break;
	case 'N':
		o->procs = (unsigned)num(arg, 1, MAX_PROCS, "--procs");
		break;
	case 'o':
		if (strcmp(arg, "tcp") == 0)
			o->tcp = true;
		else if (strcmp(arg, "udp") == 0)
			o->tcp = false;
		else
			die("--proto: expected udp or tcp, got '%s'", arg);
		break;
	default:
		return false;
	}
	return true;
}

/* Fills o from the defaults and the command line; *hash for --hash-cost.
 * Exits on --help and on errors. */
static void parse_args(int argc, char **argv, struct opts *o, const char **hash)
{
	static const struct option lo[] = {
	    {"connect-rate", no_argument, NULL, 'R'},
	    {"hold", required_argument, NULL, 'H'},
	    {"echo-load", required_argument, NULL, 'E'},
	    {"echo", required_argument, NULL, 'e'},
	    {"raw-rtt", no_argument, NULL, 'W'},
	    {"proc-stat", no_argument, NULL, 'P'},
	    {"hash-cost", required_argument, NULL, 'X'},
	    {"server", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"servercert", required_argument, NULL, 'C'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"priority", required_argument, NULL, 'y'},
	    {"duration", required_argument, NULL, 't'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"connect-timeout", required_argument, NULL, 'T'},
	    {"connect-phase", required_argument, NULL, 'F'},
	    {"echo-addr", required_argument, NULL, 'a'},
	    {"window", required_argument, NULL, 'w'},
	    {"size", required_argument, NULL, 'z'},
	    {"interval", required_argument, NULL, 'i'},
	    {"source", required_argument, NULL, 'S'},
	    {"server-pid", required_argument, NULL, 'm'},
	    {"ipv4-only", no_argument, NULL, '4'},
	    {"raw-compare", no_argument, NULL, 'r'},
	    {"label", required_argument, NULL, 'l'},
	    {"proto", required_argument, NULL, 'o'},
	    {"reflect", required_argument, NULL, 'x'},
	    {"dtls", no_argument, NULL, 'D'},
	    {"dtls-rehandshake", required_argument, NULL, 'K'},
	    {"dtls-timeout", required_argument, NULL, 'J'},
	    {"procs", required_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	*o = (struct opts){
	    .user = "alice",
	    .pass = "alice-pass",
	    .priority = "NORMAL",
	    .duration = 10,
	    .connect_timeout = 20,
	    .concurrency = 32,
	    .window = 4,
	    .payload = 1000,
	    .label = "-",
	    .dtls_timeout = 10,
	};
	parse_addr("198.18.0.1:4443", &o->srv, "--server");
	parse_addr("198.18.1.2:9000", &o->echo, "--echo-addr");
	while ((opt = getopt_long(argc, argv, "s:u:p:t:c:h", lo, NULL)) != -1) {
		if (opt == 'h')
			usage(stdout, 0);
		if (!mode_option(o, opt, optarg, hash) && !session_option(o, opt, optarg) &&
		    !traffic_option(o, opt, optarg))
			usage(stderr, 2);
	}
	if (optind != argc)
		usage(stderr, 2);
}

static int run_mode(const struct opts *o)
{
	switch (o->mode) {
	case MODE_CONNECT_RATE:
		return mode_connect_rate(o);
	case MODE_HOLD:
		return mode_hold(o);
	case MODE_ECHO_LOAD:
		return mode_echo_load(o);
	case MODE_ECHO_SERVER:
		return echo_server(o->echo_port, o->duration);
	case MODE_RAW_RTT:
		return raw_rtt(o);
	case MODE_REFLECT:
		return reflector(o->reflect_dev, o->duration);
	case MODE_PROC_STAT:
		return mode_proc_stat(o);
	default:
		usage(stderr, 2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *hash = NULL;
	int r;

	parse_args(argc, argv, &o, &hash);
	if (hash)
		return mode_hash_cost(&o, hash);
	if (o.tcp && o.payload < LOAD_MIN_TCP)
		die("--size: TCP-like packets need at least %d bytes", LOAD_MIN_TCP);
	if ((o.mode == MODE_CONNECT_RATE || o.mode == MODE_HOLD || o.mode == MODE_ECHO_LOAD) &&
	    !o.pin && !o.insecure)
		die("give --servercert pin-sha256:... or --insecure");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (gnutls_global_init() < 0)
		die("gnutls_global_init failed");
	/* A TCP socket per session; with DTLS up to three UDP sockets more
	 * (the channel, a re-handshake, the one it replaced). */
	raise_nofile((o.sessions > o.concurrency ? o.sessions : o.concurrency) * (o.dtls ? 4 : 1) +
			 64,
		     o.mode != MODE_HOLD);
	r = run_mode(&o);
	gnutls_global_deinit();
	return r;
}
