/* hostile (test tool, run in a lab client namespace by the tests in tests/hostile/):
 * a TLS client that misbehaves towards tunneld on purpose.  This file owns
 * the command line, the shared helpers and the scenarios that need one or
 * a few connections; loris.c and flood.c hold the many-connection ones.
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

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
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
static int raw_connect(unsigned src_i)
{
	struct pollfd p = {.events = POLLOUT};
	socklen_t sl = sizeof(int);
	int err = 0;

	p.fd = tcp_start(src_i);
	if (p.fd < 0)
		return p.fd;
	if (poll(&p, 1, O.timeout_ms) != 1 ||
	    getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
		close(p.fd);
		return err ? -err : -ETIMEDOUT;
	}
	return p.fd;
}

static bool read_file_line(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	out[strcspn(out, "\r\n")] = 0;
	return ok && out[0];
}

/* ---- garbage: bytes that are not TLS ------------------------------------- */

static int cmd_garbage(int argc, char **argv)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: tunneld-lab\r\n\r\n";
	uint8_t junk[512], buf[4096];
	struct pollfd p = {.events = POLLIN};
	int64_t t0, deadline;
	size_t got = 0;
	ssize_t n;

	(void)argv;
	if (argc > 1)
		usage_error("garbage takes no arguments");
	p.fd = raw_connect(0);
	if (p.fd < 0)
		return verdict(false, "garbage", "cannot connect: %s", strerror(-p.fd));
	/* Plain HTTP first, as a confused browser would, then noise that
	 * never starts a TLS record (0x16 is a handshake record). */
	if (getrandom(junk, sizeof(junk), 0) != (ssize_t)sizeof(junk))
		memset(junk, 0x5a, sizeof(junk));
	for (size_t i = 0; i < sizeof(junk); i++)
		if (junk[i] == 0x16)
			junk[i] = 0x17;
	t0 = now_ms();
	if (send(p.fd, http, sizeof(http) - 1, MSG_NOSIGNAL) < 0 ||
	    send(p.fd, junk, sizeof(junk), MSG_NOSIGNAL) < 0)
		vlog("send: %s (server already gone)", strerror(errno));
	deadline = t0 + O.timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			close(p.fd);
			printf("garbage: closed=no got_bytes=%zu\n", got);
			return verdict(false, "garbage",
				       "the server kept a non-TLS connection open "
				       "for %d ms",
				       O.timeout_ms);
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(p.fd, buf, sizeof(buf), 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		break;
	}
	close(p.fd);
	printf("garbage: closed=yes after_ms=%lld got_bytes=%zu\n", (long long)(now_ms() - t0),
	       got);
	return verdict(true, "garbage", "closed %lld ms after non-TLS bytes",
		       (long long)(now_ms() - t0));
}

/* ---- http: malformed and oversized requests after TLS -------------------- */

static char *build_request(const char *kind, size_t size, size_t *len)
{
	static const char init[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth "
				   "client=\"vpn\" type=\"init\"><version who=\"vpn\">hostile"
				   "</version></config-auth>";
	char *b = malloc(size + 4096);
	size_t n = 0;

	if (!b)
		return NULL;
	if (!strcmp(kind, "header")) {
		/* The request line and headers come to exactly size bytes,
		 * the blank line included. */
		static const char head[] = "POST / HTTP/1.1\r\nHost: tunneld-lab\r\n"
					   "Content-Length: 0\r\nX-Pad: ";
		size_t fixed = sizeof(head) - 1 + 4;
		if (size < fixed + 1)
			size = fixed + 1;
		n = (size_t)sprintf(b, "%s", head);
		memset(b + n, 'a', size - fixed);
		n += size - fixed;
		memcpy(b + n, "\r\n\r\n", 4);
		n += 4;
	} else if (!strcmp(kind, "line")) {
		static const char tail[] = " HTTP/1.1\r\nHost: tunneld-lab\r\n\r\n";
		n = (size_t)sprintf(b, "GET /");
		size_t pad = size > 5 ? size - 5 : 1;
		memset(b + n, 'p', pad);
		n += pad;
		memcpy(b + n, tail, sizeof(tail) - 1);
		n += sizeof(tail) - 1;
	} else if (!strcmp(kind, "body")) {
		/* A login document padded with blanks to size bytes. */
		size_t body = size < sizeof(init) - 1 ? sizeof(init) - 1 : size;
		n = (size_t)sprintf(b,
				    "POST / HTTP/1.1\r\nHost: tunneld-lab\r\nContent-Type: "
				    "application/xml\r\nContent-Length: %zu\r\n\r\n%s",
				    body, init);
		memset(b + n, ' ', body - (sizeof(init) - 1));
		n += body - (sizeof(init) - 1);
	} else if (!strcmp(kind, "garbage")) {
		n = (size_t)sprintf(b, "\x01\x02\x03 this is not HTTP \x7f\r\n\r\n");
	} else if (!strcmp(kind, "chunked")) {
		n = (size_t)sprintf(b, "POST / HTTP/1.1\r\nHost: tunneld-lab\r\n"
				       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	} else {
		free(b);
		usage_error("http: unknown kind '%s' (header, line, body, garbage, chunked)", kind);
	}
	*len = n;
	return b;
}

static int cmd_http(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'}, {0}};
	int expect = 0, c, rc;
	size_t size = 0, len;
	struct hresp r;
	struct hc h;
	char *req;
	long closed_ms;

	while ((c = getopt_long(argc, argv, "e:", lo, NULL)) != -1) {
		if (c != 'e')
			usage_error("http: bad option");
		expect = (int)parse_count(optarg, 100, 599);
	}
	if (optind >= argc || !expect)
		usage_error("usage: http KIND [SIZE] --expect STATUS");
	if (optind + 1 < argc)
		size = (size_t)parse_count(argv[optind + 1], 1, 1 << 24);
	req = build_request(argv[optind], size, &len);
	if (!req)
		return verdict(false, "http", "out of memory");
	rc = hc_open(&h, 0);
	if (rc < 0) {
		free(req);
		return verdict(false, "http", "cannot connect: %s", strerror(-rc));
	}
	/* The server may answer and close before the whole request is in; a
	 * failed send is not the verdict, the answer is. */
	rc = hc_send(&h, req, len);
	if (rc < 0)
		vlog("send stopped: %s", strerror(-rc));
	free(req);
	rc = hc_response(&h, &r, false);
	if (rc < 0) {
		hc_close(&h);
		printf("http: kind=%s size=%zu bytes=%zu status=none\n", argv[optind], size, len);
		return verdict(false, "http", "%s %zu: no HTTP answer (%s)", argv[optind], size,
			       strerror(-rc));
	}
	closed_ms = r.status >= 400 ? hc_wait_closed(&h, O.timeout_ms) : -1;
	hc_close(&h);
	printf("http: kind=%s size=%zu bytes=%zu status=%d reason=\"%s\" closed=%s\n", argv[optind],
	       size, len, r.status, r.reason, closed_ms >= 0 ? "yes" : "no");
	if (r.status != expect)
		return verdict(false, "http", "%s %zu: status %d, want %d", argv[optind], size,
			       r.status, expect);
	if (expect >= 400 && closed_ms < 0)
		return verdict(false, "http", "%s: status %d but the connection stayed open",
			       argv[optind], r.status);
	return verdict(true, "http", "%s %zu: status %d%s", argv[optind], size, r.status,
		       expect >= 400 ? ", then closed" : "");
}

/* ---- login ---------------------------------------------------------------- */

static int cmd_login(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'},
					   {"text", required_argument, NULL, 'x'},
					   {"cookie-out", required_argument, NULL, 'o'},
					   {0}};
	const char *expect = NULL, *text = NULL, *out = NULL;
	struct hresp r;
	struct hc h;
	int c, rc;

	while ((c = getopt_long(argc, argv, "e:x:o:", lo, NULL)) != -1) {
		if (c == 'e')
			expect = optarg;
		else if (c == 'x')
			text = optarg;
		else if (c == 'o')
			out = optarg;
		else
			usage_error("login: bad option");
	}
	if (expect && strcmp(expect, "ok") && strcmp(expect, "refused"))
		usage_error("login: --expect ok|refused");
	rc = hc_open(&h, 0);
	if (rc < 0)
		return verdict(false, "login", "cannot connect: %s", strerror(-rc));
	rc = hc_login(&h, O.user, O.pass, &r);
	hc_close(&h);
	if (rc < 0)
		return verdict(false, "login", "no answer: %s", strerror(-rc));
	printf("login: user=%s result=%s status=%d message=\"%s\"\n", O.user, rc ? "refused" : "ok",
	       r.status, r.error);
	if (rc == 0 && out) {
		FILE *f = fopen(out, "w");
		if (!f || fprintf(f, "%s\n", r.cookie) < 0 || fclose(f) != 0)
			return verdict(false, "login", "cannot write %s", out);
	}
	explicit_bzero(r.cookie, sizeof(r.cookie));
	if (expect && strcmp(expect, rc ? "refused" : "ok"))
		return verdict(false, "login", "%s: %s, want %s (status %d, \"%s\")", O.user,
			       rc ? "refused" : "ok", expect, r.status, r.error);
	if (text && !strstr(r.error, text) && !strstr(r.reason, text))
		return verdict(false, "login", "%s: answer lacks \"%s\" (status %d, \"%s\")",
			       O.user, text, r.status, r.error);
	return verdict(true, "login", "%s: %s (status %d%s%s%s)", O.user, rc ? "refused" : "ok",
		       r.status, r.error[0] ? ", \"" : "", r.error, r.error[0] ? "\"" : "");
}

/* ---- connect: CONNECT with a bad cookie ----------------------------------- */

static void forged_cookie(char out[44])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[43];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 7, sizeof(rnd));
	for (int i = 0; i < 43; i++)
		out[i] = b64[rnd[i] & 63];
	/* The last character carries 4 bits of the 32 bytes and 2 zero bits. */
	out[42] = b64[rnd[42] & 60];
	out[43] = 0;
}

/* After a refused CONNECT there must be no tunnel: the server closes, and
 * a CSTP frame sent anyway gets no answer. */
static bool no_tunnel(struct hc *h)
{
	uint8_t t;
	size_t l;

	if (h->eof)
		return true;
	hc_frame(h, TC_DPD_REQ, "probe", 5);
	return hc_next_frame(h, 1000, &t, NULL, 0, &l) != 1 && hc_wait_closed(h, O.timeout_ms) >= 0;
}

static int cmd_connect(int argc, char **argv)
{
	static const struct option lo[] = {{"expect", required_argument, NULL, 'e'},
					   {"cookie", required_argument, NULL, 'c'},
					   {"cookie-file", required_argument, NULL, 'f'},
					   {"tampered", required_argument, NULL, 't'},
					   {"forged", no_argument, NULL, 'F'},
					   {"no-cookie", no_argument, NULL, 'N'},
					   {0}};
	char cookie[H_COOKIE_MAX] = "";
	const char *what = NULL;
	bool have = false;
	int expect = 0, c, rc;
	struct hresp r;
	struct hc h;

	while ((c = getopt_long(argc, argv, "e:c:f:t:FN", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			expect = (int)parse_count(optarg, 100, 599);
			break;
		case 'c':
			snprintf(cookie, sizeof(cookie), "%s", optarg);
			have = true, what = "given cookie";
			break;
		case 'f':
		case 't':
			if (!read_file_line(optarg, cookie, sizeof(cookie)))
				usage_error("connect: cannot read a cookie from %s", optarg);
			have = true, what = "cookie from file";
			if (c == 't') {
				/* One character off: a near miss, not noise. */
				cookie[0] = cookie[0] == 'A' ? 'B' : 'A';
				what = "tampered cookie";
			}
			break;
		case 'F':
			forged_cookie(cookie);
			have = true, what = "forged cookie";
			break;
		case 'N':
			have = false, what = "no cookie";
			break;
		default:
			usage_error("connect: bad option");
		}
	}
	if (!what || !expect)
		usage_error("usage: connect --cookie C|--cookie-file F|--tampered F|--forged|"
			    "--no-cookie --expect STATUS");
	rc = hc_open(&h, 0);
	if (rc < 0)
		return verdict(false, "connect", "cannot connect: %s", strerror(-rc));
	rc = hc_connect(&h, have ? cookie : NULL, &r);
	explicit_bzero(cookie, sizeof(cookie));
	if (rc < 0) {
		hc_close(&h);
		return verdict(false, "connect", "%s: no answer (%s)", what, strerror(-rc));
	}
	bool closed = rc != 200 && no_tunnel(&h);
	if (rc == 200)
		hc_frame(&h, TC_DISCONNECT, "\xb0hostile", 8);
	hc_close(&h);
	printf("connect: cookie=%s status=%d reason=\"%s\" x_reason=\"%s\" tunnel=%s\n", what, rc,
	       r.reason, r.x_reason,
	       rc == 200 ? "yes"
	       : closed	 ? "no"
			 : "unclear");
	if (rc != expect)
		return verdict(false, "connect", "%s: status %d, want %d", what, rc, expect);
	if (rc != 200 && !closed)
		return verdict(false, "connect", "%s: status %d but the connection stayed usable",
			       what, rc);
	return verdict(true, "connect", "%s: status %d%s", what, rc,
		       rc != 200 ? ", no tunnel, closed" : "");
}

/* ---- expired: a cookie that was good once -------------------------------- */

static int reconnect_status(const char *cookie, struct hresp *r)
{
	struct hc h;
	int rc = hc_open(&h, 0);

	if (rc < 0)
		return rc;
	rc = hc_connect(&h, cookie, r);
	if (rc == 200)
		hc_frame(&h, TC_DISCONNECT, "", 0); /* no reason byte: keep the session */
	hc_close(&h);
	return rc;
}

static int cmd_expired(int argc, char **argv)
{
	char cookie[H_COOKIE_MAX];
	double wait_s = 0;
	struct hresp r;
	struct hc h;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "bye") && strcmp(argv[1], "wait")) ||
	    (!strcmp(argv[1], "wait") && argc != 3) || (!strcmp(argv[1], "bye") && argc != 2))
		usage_error("usage: expired bye | expired wait SECONDS");
	if (argc == 3 && (wait_s = parse_seconds(argv[2])) < 0)
		usage_error("expired wait: bad SECONDS");
	rc = hc_tunnel(&h, 0, &r);
	if (rc != 0)
		return verdict(false, "expired", "first tunnel failed (%d)", rc);
	memcpy(cookie, r.cookie, sizeof(cookie));
	if (!strcmp(argv[1], "bye")) {
		/* The user logs out: DISCONNECT with reason 0xb0 ends the session. */
		hc_frame(&h, TC_DISCONNECT, "\xb0hostile logs out", 17);
		long ms = hc_wait_closed(&h, O.timeout_ms);
		hc_close(&h);
		printf("expired: bye sent, server closed=%s\n", ms >= 0 ? "yes" : "no");
	} else {
		/* The line drops without a goodbye: the session waits for a
		 * reconnect, which works at once... */
		hc_close(&h);
		rc = reconnect_status(cookie, &r);
		printf("expired: reconnect at once status=%d\n", rc);
		if (rc != 200) {
			explicit_bzero(cookie, sizeof(cookie));
			return verdict(false, "expired",
				       "reconnect within the timeout: %d, want 200", rc);
		}
		/* ...but not after session.reconnect-timeout. */
		vlog("waiting %.1f s", wait_s);
		usleep((useconds_t)(wait_s * 1e6));
	}
	rc = reconnect_status(cookie, &r);
	explicit_bzero(cookie, sizeof(cookie));
	printf("expired: mode=%s status=%d reason=\"%s\"\n", argv[1], rc, r.reason);
	if (rc != 401)
		return verdict(false, "expired", "%s: CONNECT with the old cookie got %d, want 401",
			       argv[1], rc);
	return verdict(true, "expired", "%s: the old cookie gets 401", argv[1]);
}

/* ---- cstp: bad frames inside a tunnel ------------------------------------- */

static int cmd_cstp(int argc, char **argv)
{
	uint8_t f[TC_CSTP_HDR + 16384 + 64] = {0}, t, pl[64];
	const char *kind;
	struct hresp r;
	struct hc h;
	size_t len, l;
	long ms;
	int rc;

	if (argc != 2)
		usage_error("usage: cstp magic|length|type|compressed|reserved");
	kind = argv[1];
	rc = hc_tunnel(&h, 0, &r);
	if (rc != 0)
		return verdict(false, "cstp", "tunnel failed (%d)", rc);
	/* The tunnel works before the bad frame: a DPD is answered. */
	hc_frame(&h, TC_DPD_REQ, "hello", 5);
	do
		rc = hc_next_frame(&h, O.timeout_ms, &t, pl, sizeof(pl), &l);
	while (rc == 1 && t != TC_DPD_RESP);
	if (rc != 1) {
		hc_close(&h);
		return verdict(false, "cstp", "no DPD answer before the bad frame");
	}
	unsigned mtu = r.mtu ? r.mtu : 1400;
	tc_cstp_header(f, TC_DATA, 20);
	len = TC_CSTP_HDR + 20;
	if (!strcmp(kind, "magic")) {
		memcpy(f, "GET ", 4);
	} else if (!strcmp(kind, "length")) {
		size_t big = mtu + 100;
		f[4] = (uint8_t)(big >> 8), f[5] = (uint8_t)big;
		len = 8 + big;
	} else if (!strcmp(kind, "type")) {
		f[6] = 0x42;
	} else if (!strcmp(kind, "compressed")) {
		f[6] = TC_COMPRESSED; /* never negotiated */
	} else if (!strcmp(kind, "reserved")) {
		f[7] = 0x01;
	} else {
		hc_close(&h);
		usage_error("cstp: unknown kind '%s'", kind);
	}
	rc = hc_send(&h, f, len);
	ms = hc_wait_closed(&h, O.timeout_ms);
	hc_close(&h);
	printf("cstp: kind=%s mtu=%u frame_bytes=%zu closed=%s after_ms=%ld\n", kind, mtu, len,
	       ms >= 0 ? "yes" : "no", ms);
	if (ms < 0)
		return verdict(false, "cstp", "%s: the connection stayed open for %d ms", kind,
			       O.timeout_ms);
	return verdict(true, "cstp", "%s: server closed the tunnel after %ld ms", kind, ms);
}

/* ---- hold: several tunnels at once (limits.max-clients) ------------------- */

static int cmd_hold(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"expect", required_argument, NULL, 'e'}, {"reconnect", no_argument, NULL, 'r'}, {0}};
	const char *expect = NULL;
	bool reconnect = false;
	char got[4096] = "", cookie0[H_COOKIE_MAX] = "";
	struct hc *hs;
	struct hresp r;
	long n;
	int c, ok = 1;

	while ((c = getopt_long(argc, argv, "e:r", lo, NULL)) != -1) {
		if (c == 'e')
			expect = optarg;
		else if (c == 'r')
			reconnect = true;
		else
			usage_error("hold: bad option");
	}
	if (optind + 1 != argc)
		usage_error("usage: hold N [--expect LIST] [--reconnect]");
	n = parse_count(argv[optind], 1, 1000);
	hs = calloc((size_t)n, sizeof(*hs));
	if (!hs)
		return verdict(false, "hold", "out of memory");
	want_fds((unsigned)n + 64);
	for (long i = 0; i < n; i++) {
		char item[160];
		hs[i].fd = -1;
		int rc = hc_open(&hs[i], (unsigned)i);
		if (rc < 0) {
			snprintf(item, sizeof(item), "open=%s",
				 rc == -ECONNRESET ? "closed" : "failed");
		} else if ((rc = hc_login(&hs[i], O.user, O.pass, &r)) != 0) {
			snprintf(item, sizeof(item), "login=%s", rc < 0 ? "none" : "refused");
			printf("hold: tunnel %ld: login refused: status=%d message=\"%s\"\n", i + 1,
			       r.status, r.error);
			hc_close(&hs[i]);
		} else {
			char ck[H_COOKIE_MAX];
			memcpy(ck, r.cookie, sizeof(ck));
			rc = hc_connect(&hs[i], ck, &r);
			if (i == 0)
				memcpy(cookie0, ck, sizeof(cookie0));
			explicit_bzero(ck, sizeof(ck));
			snprintf(item, sizeof(item), "connect=%d", rc < 0 ? 0 : rc);
			if (rc != 200) {
				printf("hold: tunnel %ld: CONNECT status=%d reason=\"%s\" "
				       "x_reason=\"%s\"\n",
				       i + 1, rc, r.reason, r.x_reason);
				hc_close(&hs[i]);
			}
		}
		printf("hold: tunnel %ld: %s\n", i + 1, item);
		if (got[0])
			strncat(got, ",", sizeof(got) - strlen(got) - 1);
		strncat(got, item, sizeof(got) - strlen(got) - 1);
	}
	fflush(stdout);
	if (reconnect && hs[0].tls) {
		/* The first tunnel's line drops and it comes back with its
		 * cookie: a reconnect, not a new session or client. */
		hc_close(&hs[0]);
		int rc = hc_open(&hs[0], 0);
		if (rc == 0)
			rc = hc_connect(&hs[0], cookie0, &r);
		printf("hold: reconnect of tunnel 1: connect=%d\n", rc < 0 ? 0 : rc);
		if (rc != 200) {
			ok = 0;
			hc_close(&hs[0]);
		}
	}
	explicit_bzero(cookie0, sizeof(cookie0));
	printf("hold: holding for %.1f s\n", O.seconds);
	fflush(stdout);
	usleep((useconds_t)(O.seconds * 1e6));
	for (long i = 0; i < n; i++) {
		if (hs[i].tls)
			hc_frame(&hs[i], TC_DISCONNECT, "\xb0hostile done", 13);
		hc_close(&hs[i]);
	}
	free(hs);
	printf("hold: results=%s\n", got);
	if (expect && strcmp(expect, got))
		return verdict(false, "hold", "got %s, want %s", got, expect);
	if (!ok)
		return verdict(false, "hold", "reconnect of tunnel 1 refused");
	return verdict(true, "hold", "%s%s", got, reconnect ? ", reconnect ok" : "");
}

/* ---- main ----------------------------------------------------------------- */

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
	       "  hold N [--expect LIST] [--reconnect]\n"
	       "                          N tunnels held for -t s; LIST like\n"
	       "                          connect=200,connect=200,connect=503\n"
	       "  loris MODE N [...]      N stalled connections (see 'hostile loris --help')\n"
	       "  flood dpd|ping [...]    flood a tunnel (see 'hostile flood --help')\n"
	       "  cycles N [-j P]         N x (TLS, login, CONNECT, DPD, logout), P at a time\n"
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
		    {"cycles", cmd_cycles},   {"dtls", cmd_dtls}};
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
