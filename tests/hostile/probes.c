/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostile: scenarios on one raw or TLS connection that never log in:
 * garbage bytes (garbage) and malformed HTTP (http). */
#include "config.h"
#include "tests/hostile/hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

bool read_file_line(const char *path, char *out, size_t cap)
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

int cmd_garbage(int argc, char **argv)
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

int cmd_http(int argc, char **argv)
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
