/* hostile (test tool): floods through a real tunnel, and the full
 * connect/login/CONNECT/logout cycle repeated many times.
 *
 * flood: after a real login and CONNECT, send DPD requests or ICMP echo
 * requests (to a lab host that answers) as fast as the link takes them,
 * reading the answers or never reading at all.  A client that never reads
 * makes the server queue towards it; limits.queue-bytes must bound that
 * queue.  After such a flood the tool stops, waits for SIGUSR1 (the test
 * looks at the server meanwhile), then drains its socket and reports how
 * many bytes were waiting: the kernel's buffers plus the server's queue.
 *
 * cycles: P processes, each repeating the whole client life on fresh
 * connections, for the memory test. */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- flood ---------------------------------------------------------------- */

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t make_ping(uint8_t *p, size_t size, const struct in_addr *src, const struct in_addr *dst,
		 uint16_t id, uint16_t seq)
{
	uint16_t c;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(size >> 8), p[3] = (uint8_t)size;
	p[4] = (uint8_t)(seq >> 8), p[5] = (uint8_t)seq;
	p[6] = 0x40; /* don't fragment */
	p[8] = 64;
	p[9] = 1; /* ICMP */
	memcpy(p + 12, &src->s_addr, 4);
	memcpy(p + 16, &dst->s_addr, 4);
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
	p[20] = 8; /* echo request */
	p[24] = (uint8_t)(id >> 8), p[25] = (uint8_t)id;
	p[26] = (uint8_t)(seq >> 8), p[27] = (uint8_t)seq;
	for (size_t i = 28; i < size; i++)
		p[i] = (uint8_t)i;
	c = csum(p + 20, size - 20);
	p[22] = (uint8_t)(c >> 8), p[23] = (uint8_t)c;
	return size;
}

static void flood_help(void)
{
	printf("Usage: hostile [-t SECONDS] flood dpd|ping [OPTIONS]\n"
	       "Log in, CONNECT, then for -t seconds send as fast as possible:\n"
	       "  dpd    CSTP DPD requests (type 3), --size payload bytes (default 1000)\n"
	       "  ping   ICMP echo requests to --dest (default 198.18.1.2), --size IP bytes\n"
	       "Options:\n"
	       "  --no-read       never read the socket; after the flood print 'flood: paused',\n"
	       "                  wait for SIGUSR1 (at most 60 s), then drain and report bytes\n"
	       "  --rcvbuf N      socket receive buffer (SO_RCVBUF) before connecting\n"
	       "  --pps N         at most N frames a second (default: no limit)\n"
	       "  --allow-close   the server may close the flooding tunnel (default: FAIL)\n"
	       "PASS when the flood ran its time (and, when reading, answers kept coming).\n");
	exit(0);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

/* Bytes waiting for us, read raw (the TLS stream is not decoded any more):
 * until a second SIGUSR1 (the test saw the server's send queue empty) and
 * then nothing for 0.5 s, or 30 s.  Not "until quiet": after a long zero
 * window the server's kernel may resend on a backed-off timer, seconds
 * apart, so quiet proves nothing. */
static uint64_t drain_raw(int fd)
{
	static uint8_t buf[1 << 16];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t end = now_ms() + 30000, last = now_ms();
	uint64_t total = 0;
	ssize_t n;
	int r;

	while (now_ms() < end) {
		r = poll(&p, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 1) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n <= 0)
				break;
			total += (uint64_t)n;
			last = now_ms();
		} else if (got_usr1 >= 2 && now_ms() - last >= 500) {
			break;
		}
	}
	return total;
}

int cmd_flood(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"no-read", no_argument, NULL, 'n'},      {"size", required_argument, NULL, 's'},
	    {"dest", required_argument, NULL, 'd'},   {"pps", required_argument, NULL, 'p'},
	    {"rcvbuf", required_argument, NULL, 'r'}, {"allow-close", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},	      {0}};
	static uint8_t pkt[16384], pl[16384];
	const char *dest = "198.18.1.2";
	bool no_read = false, allow_close = false, ping;
	long size = 1000, pps = 0;
	struct in_addr src, dst;
	uint64_t sent = 0, got_resp = 0, got_data = 0, bytes = 0;
	struct hresp r;
	struct hc *h;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			no_read = true;
			break;
		case 's':
			size = parse_count(optarg, 28, 1400);
			break;
		case 'd':
			dest = optarg;
			break;
		case 'p':
			pps = parse_count(optarg, 1, 10000000);
			break;
		case 'r':
			O.rcvbuf = (int)parse_count(optarg, 1024, 1 << 26);
			break;
		case 'a':
			allow_close = true;
			break;
		case 'h':
			flood_help();
			break;
		default:
			fprintf(stderr, "hostile flood: see 'hostile flood --help'\n");
			return 2;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "dpd") && strcmp(argv[optind], "ping"))) {
		fprintf(stderr, "hostile flood: want dpd or ping; see 'hostile flood --help'\n");
		return 2;
	}
	ping = !strcmp(argv[optind], "ping");
	if (inet_pton(AF_INET, dest, &dst) != 1) {
		fprintf(stderr, "hostile flood: --dest %s is not an IPv4 address\n", dest);
		return 2;
	}
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	signal(SIGUSR1, on_usr1);

	h = malloc(sizeof(*h));
	if (!h)
		return verdict(false, "flood", "out of memory");
	rc = hc_tunnel(h, 0, &r);
	if (rc != 0) {
		free(h);
		return verdict(false, "flood", "tunnel failed (%d)", rc);
	}
	if (ping && inet_pton(AF_INET, r.addr4, &src) != 1) {
		hc_close(h);
		free(h);
		return verdict(false, "flood", "no IPv4 address in the CONNECT answer");
	}
	printf("flood: kind=%s tunnel_ip=%s size=%ld read=%s\n", argv[optind], r.addr4, size,
	       no_read ? "no" : "yes");
	fflush(stdout);

	int64_t t0 = now_ms(), end = t0 + (int64_t)(O.seconds * 1000), now;
	uint16_t id = (uint16_t)getpid();
	const char *stop = NULL;
	for (now = t0; now < end; now = now_ms()) {
		if (pps && (int64_t)sent >= (now - t0) * pps / 1000 + 1) {
			usleep(200);
			continue;
		}
		if (ping) {
			make_ping(pkt, (size_t)size, &src, &dst, id, (uint16_t)sent);
			rc = hc_frame(h, TC_DATA, pkt, (size_t)size);
		} else {
			memset(pkt, (int)(sent & 0xff), (size_t)size);
			rc = hc_frame(h, TC_DPD_REQ, pkt, (size_t)size);
		}
		if (rc < 0) {
			stop =
			    rc == -ETIMEDOUT ? "the server stopped reading" : "the server closed";
			break;
		}
		sent++;
		bytes += 8 + (uint64_t)size;
		while (!no_read) {
			uint8_t t;
			size_t l;
			int f = hc_next_frame(h, 0, &t, pl, sizeof(pl), &l);
			if (f != 1) {
				if (f < 0 && f != -ETIMEDOUT && f != -ENOBUFS)
					stop = "the server closed";
				break;
			}
			got_resp += t == TC_DPD_RESP;
			got_data += t == TC_DATA;
		}
		if (stop)
			break;
	}
	double secs = (double)(now_ms() - t0) / 1000;
	printf("flood: sent=%llu frames bytes=%llu seconds=%.1f rate=%.0f/s received_dpd_resp=%llu "
	       "received_data=%llu closed_by_server=%s\n",
	       (unsigned long long)sent, (unsigned long long)bytes, secs, sent / (secs ? secs : 1),
	       (unsigned long long)got_resp, (unsigned long long)got_data, stop ? "yes" : "no");

	if (no_read && !stop) {
		/* Let the answers in flight land, then hold still while the
		 * test looks at the server's queue. */
		usleep(1000 * 1000);
		printf("flood: paused\n");
		fflush(stdout);
		struct timespec ts = {60, 0};
		int64_t wait_end = now_ms() + 60000;
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		while (!got_usr1 && now_ms() < wait_end) {
			sigset_t empty;
			sigemptyset(&empty);
			ts.tv_sec = 1;
			/* Unblocked only while waiting, so the flag cannot race. */
			pselect(0, NULL, NULL, NULL, &ts, &empty);
		}
		int inq = 0;
		ioctl(h->fd, FIONREAD, &inq);
		uint64_t drained = drain_raw(h->fd);
		printf("flood: recvq_at_drain=%d drained_bytes=%llu signalled=%s\n", inq,
		       (unsigned long long)drained, got_usr1 ? "yes" : "no");
	}
	if (!stop)
		hc_frame(h, TC_DISCONNECT, "\xb0hostile flood done", 19);
	hc_close(h);
	free(h);
	if (stop && !allow_close)
		return verdict(false, "flood", "%s after %.1f s (%llu frames)", stop, secs,
			       (unsigned long long)sent);
	if (!no_read && !stop && !(ping ? got_data : got_resp))
		return verdict(false, "flood", "no answer came back during the flood");
	return verdict(true, "flood", "%s: %llu frames in %.1f s%s", argv[optind],
		       (unsigned long long)sent, secs, stop ? " (then the server closed it)" : "");
}

/* ---- cycles ----------------------------------------------------------------- */

/* One whole client life; NULL or what went wrong. */
static const char *one_cycle(struct hc *h, unsigned idx)
{
	static char why[128];
	struct hresp r;
	uint8_t t;
	size_t l;
	int rc, f;

	rc = hc_tunnel(h, idx, &r);
	if (rc != 0) {
		if (rc < 0)
			snprintf(why, sizeof(why), "login/CONNECT: %s", strerror(-rc));
		else
			snprintf(why, sizeof(why), "login/CONNECT: status %d", rc);
		return why;
	}
	if (hc_frame(h, TC_DPD_REQ, "cycle", 5) < 0) {
		hc_close(h);
		return "DPD send failed";
	}
	do
		f = hc_next_frame(h, O.timeout_ms, &t, NULL, 0, &l);
	while (f == 1 && t != TC_DPD_RESP);
	if (f != 1) {
		hc_close(h);
		return "no DPD answer";
	}
	hc_frame(h, TC_DISCONNECT, "\xb0hostile cycle", 14);
	if (hc_wait_closed(h, O.timeout_ms) < 0) {
		hc_close(h);
		return "the server kept the connection after the logout";
	}
	hc_close(h);
	return NULL;
}

int cmd_cycles(int argc, char **argv)
{
	static const struct option lo[] = {{"jobs", required_argument, NULL, 'j'},
					   {"max-fail", required_argument, NULL, 'f'},
					   {"limit", required_argument, NULL, 'l'},
					   {"while-file", required_argument, NULL, 'F'},
					   {0}};
	long n, jobs = 4, max_fail = 0;
	double limit = 600;
	const char *while_file = NULL;
	int c, pipes[64];
	pid_t pids[64];

	while ((c = getopt_long(argc, argv, "j:", lo, NULL)) != -1) {
		if (c == 'j')
			jobs = parse_count(optarg, 1, 64);
		else if (c == 'f')
			max_fail = parse_count(optarg, 0, 1000000);
		else if (c == 'l' && (limit = parse_seconds(optarg)) >= 0)
			;
		else if (c == 'F')
			while_file = optarg;
		else {
			fprintf(stderr, "usage: hostile cycles N [-j P] [--max-fail F] [--limit S] "
					"[--while-file F]\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: hostile cycles N [-j P] [--max-fail F] [--limit S] "
				"[--while-file F]\n");
		return 2;
	}
	n = parse_count(argv[optind], 1, 10000000);
	if (jobs > n)
		jobs = n;
	int64_t t0 = now_ms(), deadline = t0 + (int64_t)(limit * 1000);
	fflush(stdout);
	for (long j = 0; j < jobs; j++) {
		int pfd[2];
		if (pipe(pfd) < 0)
			return verdict(false, "cycles", "pipe: %s", strerror(errno));
		pids[j] = fork();
		if (pids[j] < 0)
			return verdict(false, "cycles", "fork: %s", strerror(errno));
		if (pids[j] == 0) {
			static struct hc h;
			long mine = n / jobs + (j < n % jobs), ok = 0, bad = 0;
			const char *first = NULL, *why;
			close(pfd[0]);
			/* N in all, and more while the file exists. */
			for (long k = 0;
			     (k < mine || (while_file && access(while_file, F_OK) == 0)) &&
			     now_ms() < deadline;
			     k++) {
				why = one_cycle(&h, (unsigned)(k * jobs + j));
				if (why) {
					bad++;
					if (!first)
						first = strdup(why);
					vlog("cycle %ld: %s", k, why);
				} else {
					ok++;
				}
			}
			dprintf(pfd[1], "%ld %ld %s\n", ok, bad, first ? first : "-");
			_exit(0);
		}
		close(pfd[1]);
		pipes[j] = pfd[0];
	}
	long ok = 0, bad = 0;
	char first[160] = "";
	for (long j = 0; j < jobs; j++) {
		char line[256] = "";
		FILE *f = fdopen(pipes[j], "r");
		long o = 0, b = 0;
		int st;
		if (f && fgets(line, sizeof(line), f)) {
			char *rest = NULL;
			o = strtol(line, &rest, 10);
			b = strtol(rest, &rest, 10);
			if (b && !first[0] && rest) {
				rest += strspn(rest, " ");
				rest[strcspn(rest, "\n")] = 0;
				snprintf(first, sizeof(first), "%s", rest);
			}
		}
		if (f)
			fclose(f);
		waitpid(pids[j], &st, 0);
		ok += o;
		bad += b;
	}
	double secs = (double)(now_ms() - t0) / 1000;
	long missing = n > ok + bad ? n - ok - bad : 0;
	printf(
	    "cycles: wanted=%ld ok=%ld failed=%ld not_run=%ld jobs=%ld seconds=%.1f rate=%.0f/s\n",
	    n, ok, bad, missing, jobs, secs, (ok + bad) / (secs ? secs : 1));
	if (missing)
		return verdict(false, "cycles", "%ld cycles not run within %.0f s", missing, limit);
	if (bad > max_fail)
		return verdict(false, "cycles", "%ld of %ld cycles failed (first: %s)", bad, n,
			       first);
	return verdict(true, "cycles", "%ld cycles in %.1f s, %ld failed", ok + bad, secs, bad);
}
