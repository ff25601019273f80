/* Configuration loader: run by the master at start and on SIGHUP, by
 * `tunneld -t` and by the tests.  Owns the table of keys and nothing between
 * calls: it parses text into a fresh struct cfg that the caller owns and
 * releases with cfg_free().  The value parsers are in values.c, the reload
 * helpers (diff, worker settings) in settings.c. */
/* <> because "config.h" would find conf/config.h from this directory. */
#include <config.h>
#include "conf/keys.h"

#include <errno.h>
#include <libgen.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where tunnelctl finds the master; tools/tunnelctl.c uses the same default.
 * RUNSTATEDIR comes from Makefile.am; the fallback keeps other builds (the
 * fuzzers) compiling. */
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define CONTROL_SOCKET_DEFAULT RUNSTATEDIR "/tunneld/control.sock"

/* DTLS 1.2 with a pre-shared key only (the key comes from the TLS session,
 * PROTOCOL.md 6.2), AEAD suites, AES-GCM first: what openconnect offers. */
#define DTLS_PRIORITIES_DEFAULT                                                                    \
	"NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"       \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

/* TLS 1.2 and 1.3, the server's order, no static RSA (the key process
 * signs, never decrypts), and NORMAL's groups with X25519 moved first: a
 * handshake with it costs the server less than with P-256 (bench/
 * handshake.sh: 15 % more connects per CPU-second, the hash excluded),
 * and GnuTLS and OpenSSL clients send a share for it.  A client that
 * lists X25519 without a share for it is asked again (HelloRetryRequest). */
#define TLS_PRIORITIES_DEFAULT                                                                     \
	"NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:"      \
	"+GROUP-X448:+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+GROUP-FFDHE6144:"         \
	"+GROUP-FFDHE8192:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-RSA"

/* A config file is a few kilobytes; refuse anything absurd before parsing. */
#define CFG_MAX_FILE (1024 * 1024)

#define OFF(field) offsetof(struct cfg, field)
#define RQ	   KEY_REQUIRED
#define RL	   KEY_RELOADABLE
#define WK	   KEY_WORKER
#define PA	   KEY_PATH

/* Every setting tunneld knows.  Anything else in a file is an error, so a typo
 * cannot silently leave a default in place.  conf/tunneld.conf documents each
 * row and tests/unit/check_config.c checks that it does. */
const struct cfg_key cfg_keys[] = {
    /* path, type, field, aux field, default, numeric default, min, max, flags */
    {"listen", CT_LISTEN, OFF(listen), OFF(n_listen), NULL, 0, 1, CFG_MAX_LISTEN, RQ},
    {"workers", CT_WORKERS, OFF(workers), 0, NULL, 0, 1, CFG_MAX_WORKERS, 0},
    {"user", CT_STRING, OFF(user), 0, "tunneld", 0, 0, 0, 0},
    {"group", CT_STRING, OFF(group), 0, "tunneld", 0, 0, 0, 0},
    {"tls.certificate", CT_STRING, OFF(tls_certificate), 0, NULL, 0, 0, 0, RL | PA},
    {"tls.key", CT_STRING, OFF(tls_key), 0, NULL, 0, 0, 0, RL | PA},
    {"tls.priorities", CT_STRING, OFF(tls_priorities), 0, TLS_PRIORITIES_DEFAULT, 0, 0, 0, RL},
    {"auth.password-file", CT_STRING, OFF(password_file), 0, NULL, 0, 0, 0, RL | PA},
    {"network.tun", CT_IFNAME, OFF(tun_name), 0, "tunneld0", 0, 1, 15, 0},
    {"network.mtu", CT_UINT, OFF(mtu), 0, NULL, 1400, 576, 9000, 0},
    {"network.ipv4-pool", CT_PREFIX4, OFF(ipv4_pool), OFF(have_ipv4_pool), NULL, 0, 8, 30, 0},
    {"network.ipv6-pool", CT_PREFIX6, OFF(ipv6_pool), OFF(have_ipv6_pool), NULL, 0, 64, 126, 0},
    {"network.dns", CT_ADDRS, OFF(dns), OFF(n_dns), NULL, 0, 0, CFG_MAX_DNS, RL | WK},
    {"network.routes", CT_PREFIXES, OFF(routes), OFF(n_routes), NULL, 0, 0, CFG_MAX_ROUTES,
     RL | WK},
    {"session.reconnect-timeout", CT_UINT, OFF(reconnect_timeout), 0, NULL, 300, 10, 86400,
     RL | WK},
    {"session.dpd", CT_UINT, OFF(dpd), 0, NULL, 60, 0, 3600, RL | WK},
    {"session.keepalive", CT_UINT, OFF(keepalive), 0, NULL, 30, 0, 3600, RL | WK},
    {"limits.max-clients", CT_UINT, OFF(max_clients), 0, NULL, 10000, 1, 1000000, RL | WK},
    {"limits.handshake-timeout", CT_UINT, OFF(handshake_timeout), 0, NULL, 10, 1, 600, RL | WK},
    {"limits.auth-timeout", CT_UINT, OFF(auth_timeout), 0, NULL, 60, 1, 3600, RL | WK},
    {"limits.queue-bytes", CT_UINT, OFF(queue_bytes), 0, NULL, 262144, 16384, 67108864, RL | WK},
    {"limits.max-sessions-per-user", CT_UINT, OFF(max_sessions_per_user), 0, NULL, 4, 0, 1000000,
     RL},
    {"limits.max-handshakes", CT_UINT, OFF(max_handshakes), 0, NULL, 1024, 1, 1000000, RL | WK},
    {"limits.max-handshakes-per-address", CT_UINT, OFF(max_handshakes_per_addr), 0, NULL, 64, 1,
     1000000, RL | WK},
    {"limits.max-pending-logins", CT_UINT, OFF(max_pending_logins), 0, NULL, 256, 1, 65536,
     RL | WK},
    {"limits.ipv6-prefix", CT_UINT, OFF(ipv6_prefix), 0, NULL, 64, 32, 128, RL | WK},
    {"limits.http-max-header-bytes", CT_UINT, OFF(http_max_header), 0, NULL, 8192, 1024, 65536,
     RL | WK},
    {"limits.http-max-body-bytes", CT_UINT, OFF(http_max_body), 0, NULL, 16384, 1024, 1048576,
     RL | WK},
    {"auth.ban-failures", CT_UINT, OFF(ban_failures), 0, NULL, 10, 0, 100000, RL},
    {"auth.ban-window", CT_UINT, OFF(ban_window), 0, NULL, 300, 1, 86400, RL},
    {"auth.ban-time", CT_UINT, OFF(ban_time), 0, NULL, 600, 1, 2592000, RL},
    {"session.drain-timeout", CT_UINT, OFF(drain_timeout), 0, NULL, 30, 0, 86400, RL},
    {"log.level", CT_LOGLEVEL, OFF(log_level), 0, "info", 0, 0, 0, RL | WK},
    {"log.destination", CT_STRING, OFF(log_destination), 0, "auto", 0, 0, 0, RL | PA},
    {"control.socket", CT_STRING, OFF(control_socket), 0, CONTROL_SOCKET_DEFAULT, 0, 0, 0, PA},
    {"dtls.enable", CT_BOOL, OFF(dtls_enable), 0, NULL, 1, 0, 1, 0},
    {"dtls.port", CT_UINT, OFF(dtls_port), 0, NULL, 0, 0, 65535, 0},
    {"dtls.priorities", CT_STRING, OFF(dtls_priorities), 0, DTLS_PRIORITIES_DEFAULT, 0, 0, 0, 0},
    {"dtls.cisco-compat", CT_BOOL, OFF(dtls_cisco_compat), 0, NULL, 1, 0, 1, RL | WK},
    {"session.rekey-time", CT_UINT, OFF(rekey_time), 0, NULL, 172800, 10, 31536000, RL | WK},
    {"session.node-id", CT_UINT, OFF(node_id), 0, NULL, 0, 0, 255, 0},
    {"cisco.profile", CT_STRING, OFF(cisco_profile), 0, NULL, 0, 0, 0, PA},
    {"log.format", CT_WORD, OFF(log_format), 0, "text|json", 0, 0, 0, RL}, /* cfg_log_format */
    {"metrics.listen", CT_ADDRPORT, OFF(metrics_listen), OFF(have_metrics), NULL, 0, 0, 0, RL},
    {"network.nat.interface", CT_IFNAME, OFF(nat_interface), 0, NULL, 0, 1, 15, RL},
    {"network.dns-intercept", CT_ADDRS, OFF(dns_intercept), OFF(n_dns_intercept), NULL, 0, 0,
     CFG_MAX_ICPT, RL},
    {"session.idle-timeout", CT_UINT, OFF(idle_timeout), 0, NULL, 0, 0, 31536000, RL | WK},
    {"session.max-lifetime", CT_UINT, OFF(max_lifetime), 0, NULL, 0, 0, 31536000, RL | WK},
    {"rules.client-to-client", CT_BOOL, OFF(rules.client_to_client), 0, NULL, 0, 0, 1, RL},
    {"rules.global-only", CT_BOOL, OFF(rules.global_only), 0, NULL, 0, 0, 1, RL},
    {"rules.protocols", CT_PROTOS, OFF(rules.protocols), 0, NULL, CFG_PROTO_ALL, 0, 0, RL},
    {"rules.tcp-ports", CT_PORTS, OFF(rules.tcp_ports), 0, NULL, 0, 0, CFG_MAX_PORTS, RL},
    {"rules.udp-ports", CT_PORTS, OFF(rules.udp_ports), 0, NULL, 0, 0, CFG_MAX_PORTS, RL},
    {"groups", CT_GROUPS, OFF(groups), OFF(n_groups), NULL, 0, 0, CFG_MAX_GROUPS, RL},
    {"listen-proxy", CT_LISTEN, OFF(listen_proxy), OFF(n_listen_proxy), NULL, 0, 0, CFG_MAX_LISTEN,
     0},
    {"session.cookie-key-file", CT_STRING, OFF(cookie_key_file), 0, NULL, 0, 0, 0, RL | PA},
    {"session.cookie-lifetime", CT_UINT, OFF(cookie_lifetime), 0, NULL, 86400, 10, 31536000, RL},
    {"session.drain-wait", CT_UINT, OFF(drain_wait), 0, NULL, 10, 0, 3600, RL},
    {"fleet.nodes", CT_UINT, OFF(fleet_nodes), 0, NULL, 1, 1, 256, 0},
    {"fleet.state-dir", CT_STRING, OFF(fleet_state_dir), 0, NULL, 0, 0, 0, RL | PA},
    {"radius.auth-servers", CT_LISTEN, OFF(radius_auth), OFF(n_radius_auth), NULL, 0, 0,
     CFG_MAX_RADIUS, 0},
    {"radius.acct-servers", CT_LISTEN, OFF(radius_acct), OFF(n_radius_acct), NULL, 0, 0,
     CFG_MAX_RADIUS, 0},
    {"radius.secret-file", CT_STRING, OFF(radius_secret_file), 0, NULL, 0, 0, 0, PA},
    {"radius.nas-identifier", CT_STRING, OFF(radius_nas_id), 0, "tunneld", 0, 0, 0, 0},
    {"radius.dictionary", CT_STRING, OFF(radius_dictionary), 0, "/etc/radcli/dictionary", 0, 0, 0,
     PA},
    {"radius.timeout", CT_UINT, OFF(radius_timeout), 0, NULL, 3, 1, 60, 0},
    {"radius.retries", CT_UINT, OFF(radius_retries), 0, NULL, 2, 0, 10, 0},
    {"radius.processes", CT_UINT, OFF(radius_processes), 0, NULL, 4, 1, 64, 0},
    {"radius.accounting", CT_BOOL, OFF(radius_accounting), 0, NULL, 1, 0, 1, 0},
    {"radius.interim-interval", CT_UINT, OFF(radius_interim), 0, NULL, 0, 0, 86400, RL},
    {"radius.min-interim-interval", CT_UINT, OFF(radius_min_interim), 0, NULL, 60, 1, 86400, RL},
    {"radius.acct-queue", CT_UINT, OFF(radius_acct_queue), 0, NULL, 4096, 16, 1048576, 0},
    {"radius.stop-wait", CT_UINT, OFF(radius_stop_wait), 0, NULL, 5, 0, 60, RL},
    {"radius.coa-listen", CT_LISTEN, OFF(radius_coa), OFF(n_radius_coa), NULL, 0, 0, CFG_MAX_COA,
     0},
    {"auth.max-tries", CT_UINT, OFF(auth_max_tries), 0, NULL, 3, 1, 100, RL},
    {"auth.failure-message", CT_STRING, OFF(auth_failure_message), 0, "Login failed.", 0, 0, 0, RL},
    {"pre-login-banner", CT_STRING, OFF(pre_login_banner), 0, NULL, 0, 0, 0, RL},
    {"banner", CT_STRING, OFF(banner), 0, NULL, 0, 0, 0, RL},
    {"auth.pam-service", CT_STRING, OFF(pam_service), 0, NULL, 0, 0, 0, RL},
    {"auth.ca", CT_STRING, OFF(auth_ca), 0, NULL, 0, 0, 0, RL | PA},
    {"auth.crl", CT_STRING, OFF(auth_crl), 0, NULL, 0, 0, 0, RL | PA},
    {"auth.cert-mode", CT_STRING, OFF(auth_certificate), 0, "optional", 0, 0, 0, RL},
    {"auth.cert-user-field", CT_STRING, OFF(auth_cert_user_field), 0, "CN", 0, 0, 0, RL},
    {"auth.cert-group-field", CT_STRING, OFF(auth_cert_group_field), 0, NULL, 0, 0, 0, RL},
    {"auth.group-select", CT_BOOL, OFF(auth_group_select), 0, NULL, 0, 0, 1, RL},
    {"auth.group-list", CT_STRING, OFF(auth_group_list), 0, NULL, 0, 0, 0, RL},
    {"services", CT_SERVICES, OFF(services), OFF(n_services), NULL, 0, 0, CFG_MAX_SERVICES, RL},
};

const size_t cfg_n_keys = ARRAY_SIZE(cfg_keys);

/* One load: the parse context and which keys the file set. */
struct load {
	struct cfg_ctx x;
	bool seen[ARRAY_SIZE(cfg_keys)];
};

static const struct cfg_key *key_find(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (!strcmp(cfg_keys[i].path, path))
			return &cfg_keys[i];
	return NULL;
}

/* Whether some key lives inside the group at path. */
static bool is_group(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (!strncmp(cfg_keys[i].path, path, n) && cfg_keys[i].path[n] == '.')
			return true;
	return false;
}

static int walk_group(struct load *ld, const config_setting_t *grp, const char *prefix)
{
	struct cfg_ctx *x = &ld->x;

	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k = NULL;
		char path[128];
		int n;

		n = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
			     name);
		/* A name too long for path is no key and no group either. */
		if (n > 0 && (size_t)n < sizeof(path))
			k = key_find(path);
		if (k) {
			if (cfg_parse_key(x, k, s) < 0)
				return -1;
			ld->seen[k - cfg_keys] = true;
		} else if (n > 0 && (size_t)n < sizeof(path) && is_group(path)) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				return cfg_fail(x, s,
						"%s: expected a group like %s = { ... }, got %s",
						path, path, cfg_type_name(s));
			if (walk_group(ld, s, path) < 0)
				return -1;
		} else {
			return cfg_fail(x, s, "unknown setting %s%s%s", prefix ? prefix : "",
					prefix ? "." : "", name);
		}
	}
	return 0;
}

static int set_defaults(struct cfg_ctx *x)
{
	for (const struct cfg_key *k = cfg_keys; k < cfg_keys + ARRAY_SIZE(cfg_keys); k++) {
		void *f = cfg_field(x->cfg, k->off);

		switch (k->type) {
		case CT_STRING:
		case CT_IFNAME:
			if (k->def_str && !(*(char **)f = strdup(k->def_str)))
				return cfg_fail_line(x, 0, "out of memory");
			break;
		case CT_UINT:
		case CT_WORKERS:
			*(unsigned *)f = k->def_num;
			break;
		case CT_LOGLEVEL:
			cfg_loglevel_parse(k->def_str, f);
			break;
		case CT_BOOL:
			*(bool *)f = k->def_num != 0;
			break;
		case CT_WORD:
			*(unsigned *)f = 0; /* the first word */
			break;
		case CT_ADDRPORT:
		case CT_PROTOS:
			*(unsigned *)f = k->def_num;
			break;
		case CT_PORTS:
			cfg_ports_all(f);
			break;
		case CT_GROUPS:
		case CT_PREFIX4:
		case CT_PREFIX6:
		case CT_LISTEN:
		case CT_ADDRS:
		case CT_PREFIXES:
		case CT_SERVICES:
			break; /* absent by default: zeroed */
		}
	}
	return 0;
}

/* Line of the group that should have held path, or 0 when it is absent too. */
unsigned cfg_enclosing_line(config_t *lc, const char *path)
{
	const char *dot = strrchr(path, '.');
	char group[64];
	config_setting_t *g;

	if (!dot || (size_t)(dot - path) >= sizeof(group))
		return 0;
	memcpy(group, path, (size_t)(dot - path));
	group[dot - path] = '\0';
	g = config_lookup(lc, group);
	return g ? config_setting_source_line(g) : 0;
}

/* log.destination: one of its words, or a file path, which has a '/'
 * ("/var/log/t.log", "log/t.log", "./t.log"): "journal" is a typo, not a
 * file next to the config. */
static bool is_log_word(const char *v)
{
	return !strcmp(v, "auto") || !strcmp(v, "stderr") || !strcmp(v, "syslog");
}

/* network.nat.interface must name an interface that exists here (in this
 * network namespace): a typo would leave the clients without NAT. */
static int check_nat(struct cfg_ctx *x, config_t *lc)
{
	const char *ifn = x->cfg->nat_interface;
	const config_setting_t *s;

	if (!ifn || if_nametoindex(ifn) > 0)
		return 0;
	s = config_lookup(lc, "network.nat.interface");
	return cfg_fail_line(x, s ? config_setting_source_line(s) : 0,
			     "network.nat.interface: no interface \"%s\" here (%s)", ifn,
			     strerror(errno));
}

/* The line of the setting at path, or 0. */
static unsigned setting_line(config_t *lc, const char *path)
{
	const config_setting_t *s = config_lookup(lc, path);

	return s ? (unsigned)config_setting_source_line(s) : 0;
}

/* The fleet's keys, which only make sense together. */
static int check_fleet(struct cfg_ctx *x, config_t *lc)
{
	const struct cfg *c = x->cfg;
	unsigned line;

	if (c->node_id >= c->fleet_nodes) {
		line = setting_line(lc, "session.node-id");
		return cfg_fail_line(x, line ? line : setting_line(lc, "fleet.nodes"),
				     "session.node-id %u is not below fleet.nodes (%u): the nodes "
				     "of a fleet are numbered 0..fleet.nodes - 1",
				     c->node_id, c->fleet_nodes);
	}
	for (unsigned i = 0; i < c->n_listen_proxy; i++)
		for (unsigned j = 0; j < c->n_listen; j++)
			if (cfg_listen_eq(&c->listen_proxy[i], &c->listen[j]))
				return cfg_fail_line(x, setting_line(lc, "listen-proxy"),
						     "listen-proxy: \"%s\" is in listen too: an "
						     "address takes the PROXY protocol or not",
						     c->listen_proxy[i].text);
	return 0;
}

/* Logins go through the password file or through RADIUS, one of them. */
static int check_radius(struct load *ld, config_t *lc)
{
	struct cfg_ctx *x = &ld->x;
	const struct cfg *c = x->cfg;

	if (!c->password_file && !c->n_radius_auth)
		return cfg_fail_line(x, cfg_enclosing_line(lc, "auth.password-file"),
				     "missing required key auth.password-file (or "
				     "radius.auth-servers, for logins through RADIUS)");
	if (c->password_file && c->n_radius_auth)
		return cfg_fail_line(x, cfg_enclosing_line(lc, "radius.auth-servers"),
				     "radius.auth-servers: logins go through RADIUS or through "
				     "auth.password-file, not both: remove one");
	if (!c->n_radius_auth && (c->n_radius_acct || c->n_radius_coa || c->radius_secret_file))
		return cfg_fail_line(x, cfg_enclosing_line(lc, "radius.auth-servers"),
				     "radius: %s is set but radius.auth-servers is empty",
				     c->n_radius_acct  ? "radius.acct-servers"
				     : c->n_radius_coa ? "radius.coa-listen"
						       : "radius.secret-file");
	if (c->n_radius_auth && !c->radius_secret_file)
		return cfg_fail_line(x, cfg_enclosing_line(lc, "radius.auth-servers"),
				     "radius: set radius.secret-file, the file holding the secret "
				     "shared with the RADIUS servers");
	return 0;
}

static int check_required(struct load *ld, config_t *lc)
{
	struct cfg_ctx *x = &ld->x;

	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if ((cfg_keys[i].flags & KEY_REQUIRED) && !ld->seen[i])
			return cfg_fail_line(x, cfg_enclosing_line(lc, cfg_keys[i].path),
					     "missing required key %s", cfg_keys[i].path);
	if (!x->cfg->tls_certificate != !x->cfg->tls_key)
		return cfg_fail_line(x, cfg_enclosing_line(lc, "tls.certificate"),
				     "tls: set tls.certificate and tls.key together, or neither "
				     "(a self-signed pair is then made on first start)");
	if (!x->cfg->have_ipv4_pool && !x->cfg->have_ipv6_pool)
		return cfg_fail_line(x, cfg_enclosing_line(lc, "network.ipv4-pool"),
				     "network: set network.ipv4-pool, network.ipv6-pool or both: "
				     "clients need an address");
	if (cfg_groups_finish(x, lc) < 0)
		return -1;
	const char *d = x->cfg->log_destination;
	if (d && !is_log_word(d) && !strchr(d, '/')) {
		const config_setting_t *ls = config_lookup(lc, "log.destination");
		return cfg_fail_line(x, ls ? config_setting_source_line(ls) : 0,
				     "log.destination: expected \"auto\", \"stderr\", \"syslog\" "
				     "or a file path, got \"%s\"",
				     d);
	}
	if (check_fleet(x, lc) < 0 || check_radius(ld, lc) < 0 || cfg_check_login(x, lc) < 0 ||
	    check_nat(x, lc) < 0)
		return -1;
	return cfg_services_check(x);
}

int cfg_load_string(const char *text, const char *name, struct cfg *cfg, char *err, size_t errlen)
{
	struct load ld = {
	    .x = {.cfg = cfg, .name = name ? name : "(string)", .err = err, .errlen = errlen}};
	struct cfg_ctx *x = &ld.x;
	config_t lc;
	int r = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (err && errlen)
		err[0] = '\0';
	config_init(&lc);
	if (cfg_scan_text(x, text) < 0)
		goto out;
	if (!config_read_string(&lc, text)) {
		cfg_fail_line(x, (unsigned)config_error_line(&lc), "%s",
			      config_error_text(&lc) ? config_error_text(&lc) : "syntax error");
		goto out;
	}
	if (set_defaults(x) < 0 || walk_group(&ld, config_root_setting(&lc), NULL) < 0 ||
	    check_required(&ld, &lc) < 0)
		goto out;
	cfg->path = strdup(x->name);
	if (!cfg->path) {
		cfg_fail_line(x, 0, "out of memory");
		goto out;
	}
	r = 0;
out:
	config_destroy(&lc);
	if (r < 0)
		cfg_free(cfg);
	return r;
}

/* Reads the whole file; 0, or -errno (-EFBIG when over CFG_MAX_FILE, -EILSEQ
 * when it holds a NUL byte, which would hide the rest from libconfig). */
static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (len > CFG_MAX_FILE) {
			r = -EFBIG;
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		r = -EILSEQ;
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return r;
}

/* Each relative KEY_PATH value of x->cfg made absolute against the
 * directory of path, the config file.  0, or -1 with the error set. */
static int absolute_paths(struct cfg_ctx *x, const char *path)
{
	char *copy = strdup(path), *dir = NULL;
	int r = -1;

	if (!copy) {
		cfg_fail_line(x, 0, "out of memory");
		goto out;
	}
	dir = realpath(dirname(copy), NULL);
	if (!dir) {
		cfg_fail_line(x, 0, "cannot resolve its directory: %s", strerror(errno));
		goto out;
	}
	for (const struct cfg_key *k = cfg_keys; k < cfg_keys + ARRAY_SIZE(cfg_keys); k++) {
		char **f = cfg_field(x->cfg, k->off), *abs;

		if (!(k->flags & KEY_PATH) || !*f || (*f)[0] == '/' ||
		    (k->off == OFF(log_destination) && is_log_word(*f)))
			continue;
		if (asprintf(&abs, "%s/%s", dir, *f) < 0) {
			cfg_fail_line(x, 0, "out of memory");
			goto out;
		}
		free(*f);
		*f = abs;
	}
	if (cfg_services_paths(x->cfg, dir) < 0) {
		cfg_fail_line(x, 0, "out of memory");
		goto out;
	}
	r = 0;
out:
	free(dir);
	free(copy);
	return r;
}

int cfg_load(const char *path, struct cfg *cfg, char *err, size_t errlen)
{
	struct cfg_ctx x = {.name = path, .err = err, .errlen = errlen, .cfg = cfg};
	char *text = NULL;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	errno = 0;
	r = read_file(path, &text);
	if (r == -EFBIG)
		return cfg_fail_line(&x, 0, "larger than %d bytes", CFG_MAX_FILE);
	if (r == -EILSEQ)
		return cfg_fail_line(&x, 0, "contains a NUL byte");
	if (r < 0)
		return cfg_fail_line(&x, 0, "cannot read: %s", strerror(-r));
	r = cfg_load_string(text, path, cfg, err, errlen);
	free(text);
	if (r == 0 && absolute_paths(&x, path) < 0) {
		cfg_free(cfg);
		r = -1;
	}
	return r;
}

unsigned cfg_worker_count(const struct cfg *cfg, long online_cpus)
{
	unsigned long n = cfg->workers	    ? cfg->workers
			  : online_cpus > 0 ? (unsigned long)online_cpus
					    : 1;

	return n > CFG_MAX_WORKERS ? CFG_MAX_WORKERS : (unsigned)n;
}

void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (cfg_keys[i].type == CT_STRING || cfg_keys[i].type == CT_IFNAME ||
		    cfg_keys[i].type == CT_GROUPS)
			free(*(void **)cfg_field(cfg, cfg_keys[i].off));
	cfg_services_free(cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

size_t cfg_key_count(void)
{
	return ARRAY_SIZE(cfg_keys);
}

const char *cfg_key_name(size_t i)
{
	return i < ARRAY_SIZE(cfg_keys) ? cfg_keys[i].path : NULL;
}

bool cfg_key_reloadable(size_t i)
{
	return i < ARRAY_SIZE(cfg_keys) && (cfg_keys[i].flags & KEY_RELOADABLE);
}

const char *cfg_key_default_text(size_t i, char *buf, size_t len)
{
	const struct cfg_key *k = i < ARRAY_SIZE(cfg_keys) ? &cfg_keys[i] : NULL;
	char word[64];
	int n = -1;

	if (!k)
		return NULL;
	switch (k->type) {
	case CT_WORD:
		n = snprintf(buf, len, "\"%s\"", cfg_word(k, 0, word, sizeof(word)));
		break;
	case CT_STRING:
	case CT_IFNAME:
	case CT_LOGLEVEL:
		if (k->def_str)
			n = snprintf(buf, len, "\"%s\"", k->def_str);
		break;
	case CT_WORKERS:
		n = k->def_num ? snprintf(buf, len, "%u", k->def_num)
			       : snprintf(buf, len, "\"auto\"");
		break;
	case CT_UINT:
		n = snprintf(buf, len, "%u", k->def_num);
		break;
	case CT_BOOL:
		n = snprintf(buf, len, "%s", k->def_num ? "true" : "false");
		break;
	case CT_ADDRS:
	case CT_PREFIXES:
	case CT_GROUPS:
		n = snprintf(buf, len, "[]");
		break;
	case CT_PROTOS:
	case CT_PORTS:
		n = snprintf(buf, len, "\"all\"");
		break;
	case CT_PREFIX4:
	case CT_PREFIX6:
	case CT_LISTEN:
	case CT_ADDRPORT:
	case CT_SERVICES: /* none: "Default: none." */
		break;	  /* no default */
	}
	return n >= 0 && (size_t)n < len ? buf : NULL;
}
