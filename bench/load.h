/* tunneld-load: a load generator for tunneld (and any server speaking the
 * OpenConnect/AnyConnect CSTP protocol, e.g. ocserv).  One process, one
 * epoll loop, thousands of simulated clients; no TUN device per client:
 * IP packets are built in user space with the tunnel address the server
 * assigned as their source.  Interfaces between the tool's files. */
#ifndef TUNNELD_LOAD_H
#define TUNNELD_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

#include "tests/lib/tclient.h" /* now_ns(), xml_escape(), CSTP framing */
#include "tests/lib/tdtls.h"   /* the DTLS offer, key and client session */

#define LOAD_MAX_PIDS	8
#define LOAD_UA		"Open AnyConnect VPN Agent v9.01-3" /* what the stock client sends */
#define LOAD_MAGIC	0x746c6f64u			    /* "tlod": our echo payloads */
#define LOAD_MIN_PKT	(20 + 8 + (int)sizeof(struct echo_hdr))
#define LOAD_MIN_TCP	(20 + 20 + (int)sizeof(struct echo_hdr)) /* --proto tcp */
#define LOAD_MAX_PKT	1400
#define NS_PER_SEC	1000000000ull
#define HIST_US_BUCKETS 200000 /* 1 us buckets up to 200 ms, */
#define HIST_MS_BUCKETS 60000  /* then 1 ms buckets up to 60 s, then one overflow */

enum load_mode {
	MODE_NONE,
	MODE_CONNECT_RATE, /* connect, log in, CONNECT, say BYE, repeat */
	MODE_HOLD,	   /* hold N idle sessions, measure the server's memory */
	MODE_ECHO_LOAD,	   /* M sessions send UDP to the echo server */
	MODE_ECHO_SERVER,  /* run the UDP echo server (in the LAN namespace) */
	MODE_RAW_RTT,	   /* UDP echo RTT without a tunnel, for comparison */
	MODE_PROC_STAT,	   /* print CPU time and memory of a server's processes */
	MODE_REFLECT,	   /* reflect packets routed into a tun device (LAN namespace) */
};

struct opts {
	enum load_mode mode;
	struct sockaddr_in srv;
	const char *user, *pass;
	const char *pin; /* "pin-sha256:BASE64" of the server's public key */
	bool insecure;
	const char *priority; /* GnuTLS priority string of the client */
	double duration;      /* seconds of the measured phase */
	double connect_timeout;
	unsigned concurrency; /* connects in progress at once */
	unsigned sessions;    /* --hold N / --echo-load M */
	unsigned window;      /* echo packets in flight per session */
	unsigned payload;     /* IP packet size of echo packets */
	unsigned interval_us; /* pace: one packet per session per interval (0: closed loop) */
	struct sockaddr_in echo;
	uint16_t echo_port; /* --echo PORT */
	struct in_addr src_base;
	unsigned src_count; /* bind to src_base + i % src_count */
	pid_t server_pids[LOAD_MAX_PIDS];
	unsigned n_server_pids;
	const char *label;
	bool ipv4_only;
	bool raw_compare;	 /* echo-load: also probe the echo server without a tunnel */
	bool tcp;		 /* --proto tcp: echo packets are TCP-like segments */
	const char *reflect_dev; /* --reflect IFNAME */
	bool dtls;		 /* --dtls: offer DTLS, move the packets over it */
	unsigned dtls_rehs;	 /* --dtls-rehandshake SECS: a new DTLS session every SECS */
	unsigned dtls_timeout;	 /* --dtls-timeout SECS: a handshake gives up after */
	unsigned procs;		 /* --procs N: hold with N processes (0: as the fd limit asks) */
};

/* The payload after the IPv4 and UDP headers of every echo packet. */
struct echo_hdr {
	uint32_t magic;
	uint32_t client;
	uint32_t seq;
	uint32_t pad;
	uint64_t sent_ns;
};

/* tunneld-load.c: set by SIGINT and SIGTERM; every mode ends early. */
extern volatile sig_atomic_t stop_flag;

/* util.c ------------------------------------------------------------------ */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Round-trip or connect-time histogram, microsecond resolution. */
struct hist {
	uint32_t *b; /* HIST_US_BUCKETS + HIST_MS_BUCKETS + 1 */
	uint64_t n, max_ns, sum_ns;
};
void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
/* Value at quantile q (0..1) in microseconds (the bucket's upper end). */
double hist_quantile_us(const struct hist *h, double q);
void hist_free(struct hist *h);
/* Add the buckets b (those of another process's histogram) to h, and the
 * totals of from unless it is NULL. */
void hist_merge(struct hist *h, const uint32_t *b, const struct hist *from);

/* CPU time and memory of a server: the processes under each root pid
 * (master + workers + helpers), with the CPU of reaped children
 * (cutime/cstime) so that short-lived per-client processes count too. */
struct srv_stat {
	double cpu_s;
	double hash_cpu_s; /* of that, tunneld's password hashing processes (tunneld-hash) */
	uint64_t rss_kb, pss_kb;
	unsigned nproc;
};
int srv_stat_read(const pid_t *roots, unsigned n, struct srv_stat *st);

/* IPv4 echo packet of 'size' bytes from src to dst, UDP or (tcp) a
 * TCP-like segment (ACK|PSH, a sequence number advancing with the stream
 * of this sender, valid checksums); returns its length. */
size_t pkt_build(uint8_t *out, size_t size, struct in_addr src, const struct sockaddr_in *dst,
		 uint16_t sport, const struct echo_hdr *eh, bool tcp);
/* The echo header of a UDP or TCP packet sent back to 'me', or NULL. */
const struct echo_hdr *pkt_parse(const uint8_t *p, size_t len, struct in_addr me);

int echo_server(uint16_t port, double duration);
/* Create tun device 'dev' and send every IPv4 UDP or TCP packet routed into
 * it back with addresses and ports swapped (checksums stay valid), for
 * duration seconds: an echo for TCP-like packets that no local TCP stack
 * answers with a reset. */
int reflector(const char *dev, double duration);
int raw_rtt(const struct opts *o);

/* client.c, conn.c, login.c, tunnel.c (between them: bench/client.h) ------ */
enum cstate {
	C_IDLE = 0,
	C_TCP,	     /* non-blocking connect in progress */
	C_HANDSHAKE, /* TLS handshake */
	C_HTTP,	     /* login dialogue and CONNECT */
	C_TUNNEL,    /* CSTP */
	C_BYE,	     /* sent DISCONNECT, waiting for the server to close */
};

struct http_state; /* only while logging in */
struct cdtls;	   /* dtls.c: the DTLS channel of a tunnel that was offered one */

/* An echo packet in flight: lost when no echo came within LOSS_NS. */
struct inflight {
	uint32_t seq;
	uint64_t sent_ns;
};
#define LOSS_NS NS_PER_SEC

struct client {
	enum cstate st;
	uint32_t gen; /* bumped at every close: stale epoll events are dropped */
	uint32_t idx;
	int fd;
	uint32_t events;
	gnutls_session_t tls;
	bool send_pending; /* gnutls_record_send said AGAIN: resume with NULL, 0 */
	uint64_t t_start;  /* start of this connect (ns) */
	uint64_t deadline; /* of the current connect / bye (ns), 0 = none */
	struct http_state *http;
	struct in_addr addr; /* X-CSTP-Address */
	uint8_t *part;	     /* a CSTP frame split across records */
	uint32_t part_len;
	uint32_t attempts; /* connects started (hold / echo-load set-up) */
	uint32_t inflight, seq;
	uint64_t last_progress, next_send;
	struct inflight *fl; /* o->window entries, inflight of them used */
	struct cdtls *dt;    /* NULL: no DTLS offered or asked for */
};

struct stats {
	uint64_t connects, connect_fail, drops, byes;
	uint64_t tx_pkts, rx_pkts, tx_bytes, rx_bytes, lost, bad_pkts, dpd;
	uint64_t handshakes, late;
	/* DTLS: channels up, handshakes that failed (the session stays on
	 * TLS), channels lost later; re-handshakes done and failed; records
	 * each way, and echo packets that went over TLS instead. */
	uint64_t dtls_up, dtls_failed, dtls_restarts, dtls_lost, rehs_ok, rehs_failed;
	uint64_t dtls_tx, dtls_rx, dtls_send_drop, dtls_bad, tls_tx_pkts;
	struct hist dtls_lat, rehs_lat;
	char dtls_reason[160];
	struct hist connect_lat, rtt;
	char tls_desc[160];
	char fail_reason[160];
};

struct load {
	const struct opts *o;
	int ep;
	struct client *c;
	unsigned n;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t cert_der; /* the first certificate that passed the pin check */
	uint8_t *scratch;
	size_t scratch_cap;
	bool sending;	     /* echo phase running */
	bool cycle;	     /* connect-rate: BYE and reconnect after CONNECT */
	unsigned in_connect; /* clients between C_TCP and C_TUNNEL */
	unsigned in_tunnel;
	unsigned dtls_pending; /* tunnels whose first DTLS handshake is running */
	struct stats s;
	/* --raw-compare: plain UDP probes between the tunnel's, same loop */
	int raw_fd;
	uint32_t raw_seq;
	uint64_t raw_next, raw_lost;
	struct hist raw;
};

#define RAW_TAG UINT32_MAX  /* epoll data of the raw probe socket */
#define UDP_TAG 0x80000000u /* epoll data: a client's DTLS socket (| index) */
void raw_probe_send(struct load *L, uint64_t now);

int load_init(struct load *L, const struct opts *o, unsigned n);
void load_free(struct load *L);
/* Start client i connecting (C_IDLE -> C_TCP). */
void client_start(struct load *L, struct client *c);
void client_close(struct load *L, struct client *c);
/* Send the DISCONNECT (0xb0) goodbye; the server then closes. */
void client_bye(struct load *L, struct client *c);
/* Send echo packets as the window and pacing allow. */
void client_pump(struct load *L, struct client *c, uint64_t now);
/* One epoll wait (at most timeout_ms) and dispatch. */
void load_poll(struct load *L, int timeout_ms);
/* Drop connects and byes that passed their deadline. */
void load_sweep(struct load *L, uint64_t now);
/* An echo packet came back to c (over TLS or DTLS). */
void client_echo(struct load *L, struct client *c, const uint8_t *p, size_t len);

/* modes.c ----------------------------------------------------------------- */
#define MAX_PROCS 64 /* --procs: processes of --hold */
/* --connect-phase SEC: the limit for establishing all sessions. */
extern unsigned connect_phase_s;
/* The measuring modes; each returns the exit code. */
int mode_connect_rate(const struct opts *o);
int mode_hold(const struct opts *o);
int mode_echo_load(const struct opts *o);

/* dtls.c ------------------------------------------------------------------ */
/* The CONNECT answer's head (hdr[0..len)): when it offers PSK-NEGOTIATE
 * DTLS, derive the key and start the handshake; else count a failure. */
void dtls_begin(struct load *L, struct client *c, const char *hdr, size_t len);
/* One of c's DTLS sockets is readable. */
void dtls_event(struct load *L, struct client *c);
/* Send one record (rec[0] is the type) over c's DTLS channel: true when
 * it went (or was dropped, as DTLS may), false when there is no channel
 * and the caller should use TLS. */
bool dtls_send(struct load *L, struct client *c, const uint8_t *rec, size_t len);
/* Retransmits, give-ups, re-handshakes, DPD on an idle channel. */
void dtls_sweep(struct load *L, struct client *c, uint64_t now);
bool dtls_up(const struct client *c);
void dtls_close(struct load *L, struct client *c);
void dtls_print(const struct load *L);
/* " dtls_up=N ..." for the RESULT line ("" without --dtls); a static buffer. */
const char *dtls_result(const struct load *L);

#endif
