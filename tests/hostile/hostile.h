/* hostile: a test client that misbehaves on purpose (the tests in tests/hostile/).
 * One process, run inside a lab client namespace; it talks TLS (GnuTLS) to
 * tunneld and reports what it saw as key=value lines and one PASS/FAIL line.
 * This header joins its files: hostile.c (options, small scenarios),
 * hconn.c (a blocking client connection: TLS, HTTP, CSTP), loris.c (many
 * stalled connections on one epoll loop), flood.c (floods and cycles),
 * burst.c (many short connections, one request each). */
#ifndef TUNNELD_HOSTILE_H
#define TUNNELD_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>

#include "tests/lib/tclient.h" /* now_ms(), wait_fd(), xml_escape(), CSTP framing */
#include "tests/lib/tdtls.h"   /* the DTLS offer, key and client session */

#define H_MAX_SRC    256 /* source addresses (-b) */
#define H_COOKIE_MAX 1024
/* A sealed cookie's length (common/ticket.h TICKET_V1_TEXT_LEN, written out:
 * the tool is a second implementation, independent of common/): 405 bytes
 * of base64url, no padding bits; logins here never carry a RADIUS grant. */
#define H_SEALED_LEN 540
#define H_RBUF	     (64 * 1024)

/* Command-line settings shared by every scenario. */
struct hopts {
	struct sockaddr_storage server;
	socklen_t server_len;
	struct sockaddr_storage src[H_MAX_SRC];
	unsigned n_src;
	const char *user, *pass;
	const char *priority;
	double seconds; /* -t: how long a flood or hold lasts */
	int timeout_ms; /* -w: wait for one answer */
	bool verbose;	/* -v: progress on stderr */
	int rcvbuf;	/* SO_RCVBUF for new sockets, 0: the kernel's */
	bool dtls;	/* CONNECT offers DTLS (the dtls command) */
};

extern struct hopts O;
extern gnutls_certificate_credentials_t H_CRED;

/* ---- util (hostile.c) --------------------------------------------------- */
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the verdict line and return the exit status (0 pass, 1 fail). */
int verdict(bool ok, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Parse "N", "N.M": seconds; -1 on error. */
double parse_seconds(const char *s);
long parse_count(const char *s, long min, long max);
/* A TCP socket bound to source i (round robin over -b), non-blocking,
 * connecting (EINPROGRESS) to the server.  -errno on failure. */
int tcp_start(unsigned i);
/* Raise RLIMIT_NOFILE to at least n (or the hard limit). */
void want_fds(unsigned n);
const char *src_text(unsigned i, char *buf, size_t len);

/* ---- one client connection (hconn.c) ------------------------------------ */
struct hresp {
	int status;		   /* 0 when none arrived */
	bool closed;		   /* the server closed after it */
	bool conn_close;	   /* "Connection: close" */
	char reason[128];	   /* status line text after the code */
	char x_reason[128];	   /* X-Reason header */
	char error[256];	   /* text of an <error> element of the body */
	char cookie[H_COOKIE_MAX]; /* Set-Cookie: webvpn=... */
	char addr4[64];		   /* CONNECT: X-CSTP-Address */
	unsigned mtu;		   /* CONNECT: X-CSTP-MTU */
	bool success;		   /* body has <auth id="success"> */
	char head[4096];	   /* the response head as it came (cut to fit) */
	size_t head_len;
};

struct hc {
	int fd;
	gnutls_session_t tls;
	uint8_t rbuf[H_RBUF]; /* decrypted bytes not yet consumed */
	size_t rlen;
	bool eof;
	uint64_t raw_in; /* TCP bytes received (ciphertext) */
};

/* TCP connect from source src_i and TLS handshake, within O.timeout_ms.
 * 0 or -errno / -EPROTO (TLS failed). */
int hc_open(struct hc *h, unsigned src_i);
void hc_close(struct hc *h);
/* Send len bytes as one TLS record (split only above 16 KiB). 0 / -errno. */
int hc_send(struct hc *h, const void *buf, size_t len);
/* Read one HTTP response head (and its body when it has a length).  For a
 * CONNECT answer with 200 the body is not read: CSTP follows.  0, or
 * -ETIMEDOUT / -ECONNRESET (closed before a whole head arrived). */
int hc_response(struct hc *h, struct hresp *r, bool connect);
/* The XML login: init POST, then the auth-reply.  0 with r->cookie set
 * (success) or 1 (refused: r says how), or -errno. */
int hc_login(struct hc *h, const char *user, const char *pass, struct hresp *r);
/* CONNECT /CSCOSSLC/tunnel with "Cookie: webvpn=cookie" (no Cookie header
 * when cookie is NULL).  Returns the status (0: none), r filled in. */
int hc_connect(struct hc *h, const char *cookie, struct hresp *r);
/* flood.c: an IPv4 ICMP echo request of size bytes (at least 28) in p. */
size_t make_ping(uint8_t *p, size_t size, const struct in_addr *src, const struct in_addr *dst,
		 uint16_t id, uint16_t seq);
/* One CSTP frame in one record. */
int hc_frame(struct hc *h, uint8_t type, const void *payload, size_t len);
/* Next CSTP frame: type and payload length; payload copied (up to cap).
 * 1 when a frame came, 0 on timeout, -errno on close or garbage. */
int hc_next_frame(struct hc *h, int timeout_ms, uint8_t *type, uint8_t *payload, size_t cap,
		  size_t *len);
/* Wait until the server closes the connection, reading and discarding.
 * Milliseconds it took, or -ETIMEDOUT. */
long hc_wait_closed(struct hc *h, int timeout_ms);
/* Log in and CONNECT on one connection: 0 (tunnel up; r has the address),
 * or the failing HTTP status, or -errno. */
int hc_tunnel(struct hc *h, unsigned src_i, struct hresp *r);
/* A first flight of a client handshake (the ClientHello record), made once
 * with GnuTLS: loris sends part of it. */
int client_hello(uint8_t *out, size_t cap, size_t *len);

/* The first line of a file, without its newline; false when unreadable. */
bool read_file_line(const char *path, char *out, size_t cap);

/* A usage error: the message on stderr, exit status 2. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- scenarios ---------------------------------------------------------- */
int cmd_garbage(int argc, char **argv);
int cmd_http(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_expired(int argc, char **argv);
int cmd_cstp(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_loris(int argc, char **argv);
int cmd_flood(int argc, char **argv);
int cmd_cycles(int argc, char **argv);
int cmd_burst(int argc, char **argv);
int cmd_dtls(int argc, char **argv);

#endif
