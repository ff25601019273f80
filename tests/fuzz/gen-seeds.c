/* Writes the binary seeds of tests/fuzz/corpus/{cstp,pkt,ipc,rules}: frames and
 * packets as the stock client sends them, and every control message as
 * master.c and the worker build them.  The text corpora (http, authxml,
 * config) are plain files.  Not built by make; after a change to the
 * formats, from the top of the source tree:
 *   make libtcommon.a && cc -I. -o /tmp/gen-seeds tests/fuzz/gen-seeds.c libtcommon.a -lconfig \
 *   && /tmp/gen-seeds tests/fuzz/corpus */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cstp.h"
#include "common/ipc.h"
#include "common/policy.h"
#include "conf/config.h"
#include "conf/keys.h"

static const char *outdir;

static void put(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static size_t frame(uint8_t *out, uint8_t type, const void *payload, size_t len)
{
	static const uint8_t magic[4] = {'S', 'T', 'F', 1};

	memcpy(out, magic, 4);
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
	out[6] = type;
	out[7] = 0;
	memcpy(out + CSTP_HDR_LEN, payload, len);
	return CSTP_HDR_LEN + len;
}

/* RFC 1071 checksum over an IPv4 header. */
static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An ICMP echo request of the given payload size, as ping sends it. */
static size_t ping4(uint8_t *p, const char *src, const char *dst, size_t data)
{
	size_t total = 20 + 8 + data;
	uint16_t c;

	memset(p, 0, total);
	p[0] = 0x45;
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[6] = 0x40; /* DF */
	p[8] = 64;
	p[9] = 1; /* ICMP */
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 8; /* echo request */
	p[25] = 1;
	p[27] = 1;
	memset(p + 28, 0x5a, data);
	return total;
}

static size_t ping6(uint8_t *p, const char *src, const char *dst, size_t data)
{
	size_t plen = 8 + data;

	memset(p, 0, 40 + plen);
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = 58; /* ICMPv6 */
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	p[40] = 128; /* echo request */
	memset(p + 48, 0x5a, data);
	return 40 + plen;
}

static void cstp_seeds(void)
{
	static uint8_t buf[4 * 2048], pkt[1500];
	uint8_t bye[] = {0xb0};
	size_t n = 0, m;

	/* Byte 0 picks the limit: odd is CSTP_MAX_PAYLOAD. */
	buf[0] = 1;
	n = 1 + frame(buf + 1, CSTP_DPD_REQ, NULL, 0);
	put("cstp", "dpd-req", buf, n);
	n = 1 + frame(buf + 1, CSTP_KEEPALIVE, NULL, 0);
	put("cstp", "keepalive", buf, n);
	n = 1 + frame(buf + 1, CSTP_DISCONNECT, bye, 1);
	put("cstp", "disconnect", buf, n);
	m = ping4(pkt, "198.18.100.2", "198.18.1.2", 56);
	n = 1 + frame(buf + 1, CSTP_DATA, pkt, m);
	put("cstp", "data-ping4", buf, n);
	m = ping6(pkt, "fd00:100::2", "fd00:1::2", 56);
	n = 1 + frame(buf + 1, CSTP_DATA, pkt, m);
	put("cstp", "data-ping6", buf, n);
	/* Several frames in one read, the last one cut short. */
	n = 1 + frame(buf + 1, CSTP_DPD_RESP, NULL, 0);
	m = ping4(pkt, "198.18.100.2", "198.18.1.2", 1372);
	n += frame(buf + n, CSTP_DATA, pkt, m);
	n += frame(buf + n, CSTP_KEEPALIVE, NULL, 0);
	m = ping6(pkt, "fd00:100::2", "fd00:1::2", 100);
	n += frame(buf + n, CSTP_DATA, pkt, m);
	put("cstp", "stream", buf, n - 30);
	/* A small limit (byte 0 even: limit 64). */
	buf[0] = 128;
	m = ping4(pkt, "198.18.100.2", "198.18.1.2", 20);
	n = 1 + frame(buf + 1, CSTP_DATA, pkt, m);
	put("cstp", "small-limit", buf, n);
}

/* Flags, IPv4 lease, IPv6 lease, then the packet (fuzz_pkt.c). */
static size_t pkt_prefix(uint8_t *p, int flags, const char *v4, const char *v6)
{
	p[0] = (uint8_t)flags;
	inet_pton(AF_INET, v4, p + 1);
	inet_pton(AF_INET6, v6, p + 5);
	return 21;
}

static void pkt_seeds(void)
{
	static uint8_t buf[2048];
	size_t n;

	n = pkt_prefix(buf, 3, "198.18.100.2", "fd00:100::2");
	n += ping4(buf + n, "198.18.100.2", "198.18.1.2", 56);
	put("pkt", "ping4", buf, n);
	n = pkt_prefix(buf, 3, "198.18.100.2", "fd00:100::2");
	n += ping6(buf + n, "fd00:100::2", "fd00:1::2", 56);
	put("pkt", "ping6", buf, n);
	n = pkt_prefix(buf, 3, "198.18.100.3", "fd00:100::3");
	n += ping4(buf + n, "198.18.100.2", "198.18.1.2", 56);
	put("pkt", "spoofed4", buf, n);
	n = pkt_prefix(buf, 1, "198.18.100.2", "fd00:100::2");
	n += ping6(buf + n, "fd00:100::2", "fd00:1::2", 8);
	put("pkt", "no-lease6", buf, n);
	n = pkt_prefix(buf, 3, "198.18.100.2", "fd00:100::2");
	n += ping4(buf + n, "198.18.100.2", "198.18.1.2", 16);
	memset(buf + n, 0, 12); /* Ethernet-style padding after the packet */
	put("pkt", "padded4", buf, n + 12);
}

/* A UDP (17) or TCP (6) packet over IPv4 or IPv6 with its checksums,
 * data bytes of payload. */
static size_t l4pkt(uint8_t *p, bool v6, uint8_t proto, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, size_t data)
{
	size_t ip = v6 ? 40 : 20, hl = proto == 6 ? 20 : 8, n = ip + hl + data;
	uint32_t s = 0;

	memset(p, 0, n);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((hl + data) >> 8);
		p[5] = (uint8_t)(hl + data);
		p[6] = proto;
		p[7] = 64;
		inet_pton(AF_INET6, src, p + 8);
		inet_pton(AF_INET6, dst, p + 24);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(n >> 8);
		p[3] = (uint8_t)n;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = proto;
		inet_pton(AF_INET, src, p + 12);
		inet_pton(AF_INET, dst, p + 16);
		s = csum(p, 20);
		p[10] = (uint8_t)(s >> 8);
		p[11] = (uint8_t)s;
	}
	p[ip] = (uint8_t)(sport >> 8);
	p[ip + 1] = (uint8_t)sport;
	p[ip + 2] = (uint8_t)(dport >> 8);
	p[ip + 3] = (uint8_t)dport;
	if (proto == 17) {
		p[ip + 4] = (uint8_t)((hl + data) >> 8);
		p[ip + 5] = (uint8_t)(hl + data);
	} else {
		p[ip + 12] = 0x50;
		p[ip + 13] = 0x02; /* SYN */
	}
	memset(p + ip + hl, 0x3c, data);
	/* The pseudo-header and the segment (a checksum field of 0 so far). */
	s = 0;
	for (size_t i = v6 ? 8 : 12; i < (v6 ? 40u : 20u); i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	s += proto + (uint32_t)(hl + data);
	for (size_t i = ip; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	p[ip + (proto == 6 ? 16 : 6)] = (uint8_t)(s >> 8);
	p[ip + (proto == 6 ? 17 : 7)] = (uint8_t)s;
	return n;
}

/* The rules harness: a 36-byte header, then a packet. */
static void rules_seeds(void)
{
	static uint8_t buf[36 + 2048];
	uint8_t *p = buf + 36;

	memset(buf, 0, 36);
	buf[0] = 4 | 8;		/* DNS both families, from the client, no c2c */
	buf[1] = 0x7;		/* tcp, udp, icmp */
	buf[2] = 2;		/* two TCP ranges */
	buf[3] = 1;		/* one UDP range */
	buf[4] = 0, buf[5] = 7; /* 0..91 */
	buf[6] = 4, buf[7] = 30;
	buf[8] = 1, buf[9] = 1;
	put("rules", "dns4-udp", buf,
	    36 + l4pkt(p, false, 17, "198.18.100.2", "198.18.100.1", 4000, 53, 29));
	put("rules", "dns6-tcp", buf,
	    36 + l4pkt(p, true, 6, "fd00:100::2", "fd00:100::1", 4000, 53, 0));
	put("rules", "tcp-443", buf,
	    36 + l4pkt(p, false, 6, "198.18.100.2", "8.8.8.8", 4000, 443, 0));
	put("rules", "udp6-lan", buf,
	    36 + l4pkt(p, true, 17, "fd00:100::2", "fd00:1::2", 4000, 9, 100));
	put("rules", "ping-client", buf, 36 + ping4(p, "198.18.100.2", "198.18.100.9", 56));
	put("rules", "ping6-lan", buf, 36 + ping6(p, "fd00:100::2", "fd00:1::2", 56));
	buf[0] |= 16; /* to the client */
	put("rules", "answer4-udp", buf,
	    36 + l4pkt(p, false, 17, "198.18.1.2", "198.18.100.2", 53, 4000, 80));
	put("rules", "answer6-tcp", buf,
	    36 + l4pkt(p, true, 6, "fd00:1::2", "fd00:100::2", 53, 4000, 0));
	put("rules", "from-client", buf, 36 + ping4(p, "198.18.100.9", "198.18.100.2", 56));
}

static void ipc_put(const char *name, int dir, const struct ipc_msg *m)
{
	static uint8_t buf[1 + sizeof(struct ipc_msg)];

	/* Byte 0: bit 0 master -> worker, bit 1 a pool size applies. */
	buf[0] = (uint8_t)(dir | 2);
	memcpy(buf + 1, m, sizeof(*m));
	put("ipc", name, buf, sizeof(buf));
}

/* The settings a reload sends, packed from a config as the master does. */
static void settings_seed(struct ipc_msg *m)
{
	static const char conf[] =
	    "listen = [\"198.18.0.1:4443\"];\n"
	    "auth = { password-file = \"passwd\"; };\n"
	    "network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
	    "  dns = [\"198.18.100.1\", \"fd00:100::1\"];\n"
	    "  routes = [\"198.18.1.0/24\", \"fd00:1::/64\"]; };\n"
	    "session = { reconnect-timeout = 60; dpd = 30; keepalive = 20; };\n"
	    "log = { level = \"debug\"; };\n";
	char err[CFG_ERR_LEN];
	struct cfg c;
	int n;

	if (cfg_load_string(conf, "seed.conf", &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "gen-seeds: %s\n", err);
		exit(1);
	}
	n = cfg_settings_pack(&c, m->u.settings.blob, sizeof(m->u.settings.blob));
	cfg_free(&c);
	if (n < 0)
		exit(1);
	m->u.settings.len = (uint32_t)n;
}

/* The groups' policy a reload sends (IPC_POLICY), packed from a config
 * with two groups, rules and transparent DNS as the master does. */
static void policy_seed(void)
{
	static const char conf[] =
	    "listen = [\"198.18.0.1:4443\"];\n"
	    "auth = { password-file = \"passwd\"; };\n"
	    "network = { ipv4-pool = \"198.18.100.0/24\"; ipv6-pool = \"fd00:100::/64\";\n"
	    "  dns = [\"198.18.1.2\", \"fd00:1::2\"]; dns-intercept = [\"198.18.100.1\"];\n"
	    "  routes = [\"198.18.1.0/24\", \"fd00:1::/64\"]; };\n"
	    "rules = { protocols = [\"tcp\", \"udp\", \"icmp\"]; tcp-ports = [\"22\", "
	    "\"80-90\", \"443\"]; };\n"
	    "groups = ( { name = \"staff\"; ipv4-pool = \"198.18.100.128/26\";\n"
	    "  rules = { client-to-client = true; udp-ports = [\"53\", \"1000-2000\"]; }; },\n"
	    "  { name = \"guests\"; routes = [\"198.18.1.2/32\"]; rules = { global-only = true; }; "
	    "} );\n";
	static uint8_t buf[1 + POLICY_MAX];
	uint32_t type = IPC_POLICY;
	char err[CFG_ERR_LEN];
	struct cfg c;
	int n;

	if (cfg_load_string(conf, "seed.conf", &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "gen-seeds: %s\n", err);
		exit(1);
	}
	n = policy_pack(&c, buf + 1, sizeof(buf) - 1);
	cfg_free(&c);
	if (n < 0)
		exit(1);
	buf[0] = 1;
	memcpy(buf + 1, &type, sizeof(type));
	put("ipc", "policy", buf, (size_t)n + 1);
}

/* IPC_SVC: one service, its certificate and no CA. */
static void svc_seed(const char *pem, const char *prio)
{
	static uint8_t b[1 + sizeof(struct ipc_svc) + sizeof(struct svc_def) + 256];
	struct ipc_svc h = {.type = IPC_SVC, .n = 1, .prio_len = (uint32_t)strlen(prio)};
	struct svc_def d;
	size_t n = 1;

	memset(&d, 0, sizeof(d));
	d.id = d.lgen = 1;
	d.key_gen = 2;
	strcpy(d.name, "web");
	if (cfg_listen_parse("198.18.0.1:8443", &d.listen) ||
	    cfg_listen_parse("198.18.1.2:8080", &d.connect))
		exit(1);
	d.max_connections = 1024;
	d.connect_timeout = 5;
	d.idle_timeout = 300;
	d.cert_len = (uint32_t)strlen(pem);
	if (sizeof(h) + sizeof(d) + h.prio_len + d.cert_len + 1 > sizeof(b))
		exit(1);
	b[0] = 1; /* from the master */
	memcpy(b + n, &h, sizeof(h));
	n += sizeof(h);
	memcpy(b + n, &d, sizeof(d));
	n += sizeof(d);
	memcpy(b + n, prio, h.prio_len);
	n += h.prio_len;
	memcpy(b + n, pem, d.cert_len);
	n += d.cert_len;
	put("ipc", "svc", b, n);
}

static void ipc_seeds(void)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	static const char prio[] = "NORMAL:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0";
	static uint8_t tls[1 + sizeof(struct ipc_tls) + sizeof(pem) + sizeof(prio)];
	struct ipc_tls h = {0};
	struct ipc_msg m;
	size_t n;

#define MSG(t)                                                                                     \
	do {                                                                                       \
		memset(&m, 0, sizeof(m));                                                          \
		m.type = (t);                                                                      \
		m.ref.slot = 3;                                                                    \
		m.ref.gen = 17;                                                                    \
	} while (0)
	MSG(IPC_READY);
	ipc_put("ready", 0, &m);
	MSG(IPC_AUTH_REQ);
	strcpy(m.u.auth_req.user, "alice");
	strcpy(m.u.auth_req.pass, "alice-pass");
	strcpy(m.u.auth_req.peer, "198.18.0.10:51234");
	ipc_put("auth-req", 0, &m);
	MSG(IPC_AUTH_RESP);
	m.u.auth_resp.sess_id = 0 | (uint64_t)1 << 32;
	/* A sealed cookie's text: TICKET_V1_TEXT_LEN base64url characters. */
	for (size_t i = 0; i < TICKET_V1_TEXT_LEN; i++)
		m.u.auth_resp.cookie[i] = "Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg-_"[i % 45];
	ipc_put("auth-resp-ok", 1, &m);
	MSG(IPC_AUTH_RESP);
	m.u.auth_resp.result = 1;
	ipc_put("auth-resp-bad", 1, &m);
	MSG(IPC_CONNECT_REQ);
	memset(m.u.connect_req.cookie, 0x42, sizeof(m.u.connect_req.cookie));
	m.u.connect_req.cookie_len = TICKET_V1_LEN;
	strcpy(m.u.connect_req.peer, "198.18.0.10:51236");
	ipc_put("connect-req", 0, &m);
	MSG(IPC_CONNECT_RESP);
	m.u.connect_resp.status = 200;
	m.u.connect_resp.sess_id = 0 | (uint64_t)1 << 32;
	m.u.connect_resp.lease = 2;
	strcpy(m.u.connect_resp.user, "alice");
	ipc_put("connect-resp-200", 1, &m);
	MSG(IPC_CONNECT_RESP);
	m.u.connect_resp.status = 503;
	strcpy(m.u.connect_resp.reason, "No free address in the pool");
	ipc_put("connect-resp-503", 1, &m);
	MSG(IPC_CLOSED);
	m.u.closed.sess_id = 0 | (uint64_t)1 << 32;
	m.u.closed.end_session = 1;
	m.u.closed.ctr.rx_pkts = 10;
	m.u.closed.ctr.rx_bytes = 840;
	strcpy(m.u.closed.reason, "client said goodbye");
	ipc_put("closed", 0, &m);
	MSG(IPC_STATS);
	m.u.closed.sess_id = 0 | (uint64_t)1 << 32;
	m.u.closed.ctr.tx_pkts = 5;
	ipc_put("stats", 0, &m);
	MSG(IPC_KICK);
	m.u.kick.sess_id = 0 | (uint64_t)1 << 32;
	ipc_put("kick", 1, &m);
	MSG(IPC_DISCONNECT);
	m.u.kick.sess_id = 0 | (uint64_t)1 << 32;
	ipc_put("disconnect", 1, &m);
	MSG(IPC_SETTINGS);
	settings_seed(&m);
	ipc_put("settings", 1, &m);
	MSG(IPC_AUTH_CANCEL);
	ipc_put("auth-cancel", 0, &m);
	MSG(IPC_DTLS);
	m.u.dtls.sess_id = 0 | (uint64_t)1 << 32;
	m.u.dtls.up = 1;
	m.u.dtls.peer.family = AF_INET;
	m.u.dtls.peer.port = 51300;
	inet_pton(AF_INET, "198.18.0.10", m.u.dtls.peer.addr);
	strcpy(m.u.dtls.cipher, "AES-256-GCM");
	ipc_put("dtls", 0, &m);
	MSG(IPC_WSTATS);
	m.u.wstats.handshakes = 3;
	m.u.wstats.no_client = 12;
	ipc_put("wstats", 0, &m);
	MSG(IPC_DRAIN);
	ipc_put("drain", 1, &m);
	MSG(IPC_SVC_STATS);
	m.u.svc_stats.n = 1;
	m.u.svc_stats.e[0].id = 1;
	m.u.svc_stats.e[0].open = 3;
	m.u.svc_stats.e[0].ctr.bytes_in = 1000;
	ipc_put("svc-stats", 0, &m);
#undef MSG
	svc_seed(pem, prio);

	h.type = IPC_TLS;
	h.cert_len = sizeof(pem) - 1;
	h.key_gen = 2;
	h.prio_len = sizeof(prio) - 1;
	tls[0] = 1;
	n = 1;
	memcpy(tls + n, &h, sizeof(h));
	n += sizeof(h);
	memcpy(tls + n, pem, h.cert_len);
	n += h.cert_len;
	memcpy(tls + n, prio, h.prio_len);
	n += h.prio_len;
	put("ipc", "tls", tls, n);
	policy_seed();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	cstp_seeds();
	pkt_seeds();
	ipc_seeds();
	rules_seeds();
	return 0;
}
