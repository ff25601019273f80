/* Configuration: parsed by the master (and tests); workers read a copy made
 * before fork.  cfg_load() parses into a fresh struct and never exits, so a
 * reload can throw the result away on error. */
#ifndef TUNNELD_CONFIG_H
#define TUNNELD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CFG_MAX_LISTEN 16
#define CFG_MAX_DNS    8
#define CFG_MAX_ROUTES 64
/* Workers: the shared owner[lease] map holds a worker's slot + 1 in one
 * byte (0: nobody), so slot 254 is the last one it can name. */
#define CFG_MAX_WORKERS 255
#define CFG_MAX_GROUPS	64  /* groups = ( ... ) */
#define CFG_MAX_PORTS	256 /* port ranges in one rules list */
#define CFG_GROUP_NAME	64  /* a group's name, NUL included */
#define CFG_BANNER_MAX	512 /* banner, a group's banner: bytes, NUL included */
#define CFG_MAX_ICPT	2   /* network.dns-intercept: one address per family */
#define CFG_MAX_RADIUS	8   /* RADIUS servers per list (radcli's SERVER_MAX) */
#define CFG_MAX_COA	4   /* radius.coa-listen addresses */
#define CFG_ERR_LEN	512
/* TLS stream services (services = ( ... )): at most this many, each named
 * by 1..CFG_SVC_NAME_MAX-1 characters. */
#define CFG_MAX_SERVICES 32
#define CFG_SVC_NAME_MAX 32
/* Buffer sizes for cfg_addr_str() and cfg_prefix_str(). */
#define CFG_ADDR_STRLEN	  INET6_ADDRSTRLEN
#define CFG_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

enum cfg_log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
enum cfg_log_format { LOG_FMT_TEXT, LOG_FMT_JSON }; /* log.format: "text", "json" */

struct cfg_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

struct cfg_prefix {
	struct cfg_addr addr; /* host bits cleared */
	unsigned len;	      /* prefix length */
};

/* Traffic rules (rules = { ... } and each group's): what a client may send
 * through the tunnel (common/rules.h applies them to packets). */
#define CFG_PROTO_TCP	0x1u
#define CFG_PROTO_UDP	0x2u
#define CFG_PROTO_ICMP	0x4u /* ICMP over IPv4, ICMPv6 over IPv6 */
#define CFG_PROTO_OTHER 0x8u /* every other IP protocol: only with "all" */
#define CFG_PROTO_ALL	0xfu

struct cfg_port_range {
	uint16_t lo, hi; /* destination ports lo..hi, both included */
};

struct cfg_ports {
	unsigned n; /* ranges sorted, disjoint and not adjacent (merged by the parser) */
	struct cfg_port_range r[CFG_MAX_PORTS];
};

struct cfg_rules {
	bool client_to_client; /* to other clients' addresses (the pools' leases) */
	bool global_only;      /* only to global unicast addresses */
	unsigned protocols;    /* CFG_PROTO_* */
	struct cfg_ports tcp_ports, udp_ports;
};

/* One entry of groups = ( ... ) (conf/groups.c).  What the group does not
 * set it takes from the top level (routes, DNS servers, each rule); the
 * pools carve leases out of network.ipv4-pool / ipv6-pool. */
struct cfg_group {
	char name[CFG_GROUP_NAME];
	bool have_routes, have_dns, have_ipv4_pool, have_ipv6_pool;
	struct cfg_prefix routes[CFG_MAX_ROUTES]; /* the top level's when not set */
	unsigned n_routes;
	struct cfg_addr dns[CFG_MAX_DNS]; /* the top level's when not set */
	unsigned n_dns;
	struct cfg_prefix ipv4_pool, ipv6_pool;
	struct cfg_rules rules;	     /* each rule the top level's when not set */
	char banner[CFG_BANNER_MAX]; /* shown after login (X-CSTP-Banner); "": banner's */
	/* The leases its pools name, [lease_lo, lease_hi) of the network
	 * pools' lease indexes (common/pool.h); 0, 0 without a pool. */
	uint32_t lease_lo, lease_hi;
};

struct cfg_listen {
	struct sockaddr_storage ss; /* port filled in */
	socklen_t sslen;
	char text[80]; /* as written, e.g. "198.18.0.1:443" or "[fd00::1]:443" */
};

/* One TLS stream service (conf/services.c): TLS terminated on the
 * workers, the plaintext relayed to connect. */
struct cfg_service {
	char name[CFG_SVC_NAME_MAX];
	struct cfg_listen listen;  /* where clients connect (TLS) */
	struct cfg_listen connect; /* the destination (plain TCP) */
	char *certificate, *key;   /* PEM files, required */
	char *ca; /* PEM file of CAs a client certificate must chain to; NULL: none asked */
	bool proxy_protocol;	  /* a PROXY v2 header first, towards the destination */
	unsigned max_connections; /* open streams, all workers together */
	unsigned connect_timeout; /* s, for the destination's TCP connect */
	unsigned idle_timeout;	  /* s without a byte either way */
	unsigned line;		  /* where it is in the file, for messages */
};

struct cfg {
	char *path; /* file it came from (the name given to cfg_load_string) */

	struct cfg_listen listen[CFG_MAX_LISTEN];
	unsigned n_listen;
	unsigned workers; /* 0 = "auto": one per online CPU (cfg_worker_count) */
	char *user;	  /* default "tunneld" */
	char *group;	  /* default "tunneld" */

	char *tls_certificate; /* PEM file; NULL: self-signed, made at start */
	char *tls_key;	       /* PEM file; with tls_certificate or neither */
	char *tls_priorities;  /* GnuTLS priority string */

	char *password_file; /* auth.password-file, required */

	char *tun_name; /* network.tun, default "tunneld0" */
	unsigned mtu;	/* network.mtu, default 1400, 576..9000 */
	bool have_ipv4_pool;
	struct cfg_prefix ipv4_pool; /* network.ipv4-pool, prefix len 8..30 */
	bool have_ipv6_pool;
	struct cfg_prefix ipv6_pool; /* network.ipv6-pool, prefix len 64..126 */
	struct cfg_addr dns[CFG_MAX_DNS];
	unsigned n_dns;
	struct cfg_prefix routes[CFG_MAX_ROUTES]; /* empty: default route via tunnel */
	unsigned n_routes;

	unsigned reconnect_timeout; /* session.reconnect-timeout, s, default 300 */
	unsigned dpd;		    /* session.dpd, s, default 60 */
	unsigned keepalive;	    /* session.keepalive, s, default 30 */

	unsigned max_clients;	    /* limits.max-clients, default 10000 (all workers) */
	unsigned handshake_timeout; /* limits.handshake-timeout, s, default 10 */
	unsigned auth_timeout;	    /* limits.auth-timeout, s: TLS up to tunnel, default 60 */
	unsigned queue_bytes;	    /* limits.queue-bytes: per-client send queue, default 262144 */

	unsigned max_sessions_per_user;	  /* limits.max-sessions-per-user, 0 = no limit */
	unsigned max_handshakes;	  /* limits.max-handshakes: connections not yet tunnels */
	unsigned max_handshakes_per_addr; /* limits.max-handshakes-per-address */
	unsigned max_pending_logins;	  /* limits.max-pending-logins: password checks */
	unsigned ipv6_prefix; /* limits.ipv6-prefix: an IPv6 client counts by this /N, default 64 */
	unsigned http_max_header; /* limits.http-max-header-bytes, default 8192 */
	unsigned http_max_body;	  /* limits.http-max-body-bytes, default 16384 */
	unsigned ban_failures;	/* auth.ban-failures: failed logins that ban an address, 0 = off */
	unsigned ban_window;	/* auth.ban-window, s: the failures must fall within it */
	unsigned ban_time;	/* auth.ban-time, s: how long the ban lasts */
	unsigned drain_timeout; /* session.drain-timeout: SIGQUIT grace, s, default 30 */
	enum cfg_log_level log_level; /* log.level: "error","warning","info","debug" */
	char *log_destination;	      /* log.destination: auto, stderr, syslog or /path */

	char *control_socket; /* control.socket: tunnelctl's AF_UNIX socket */

	/* DTLS, the UDP data channel (PROTOCOL.md section 6). */
	bool dtls_enable;	/* dtls.enable, default true */
	unsigned dtls_port;	/* dtls.port: 0 = each listen address's own port */
	char *dtls_priorities;	/* dtls.priorities: GnuTLS priorities, PSK mode */
	bool dtls_cisco_compat; /* dtls.cisco-compat: Cisco clients get legacy DTLS */
	unsigned rekey_time;	/* session.rekey-time, s: TLS 1.3 key update period */
	unsigned node_id;	/* session.node-id: this node's number in a fleet */
	char *cisco_profile;	/* cisco.profile: AnyConnect XML profile file, NULL: none */

	unsigned log_format;		  /* log.format: enum cfg_log_format */
	bool have_metrics;		  /* metrics.listen is set */
	struct cfg_listen metrics_listen; /* metrics.listen: /metrics and /healthz */
	char *nat_interface; /* network.nat.interface: masquerade out of it, NULL: off */
	/* Policy (issue 15): groups, traffic rules, transparent DNS, lifetimes. */
	struct cfg_group *groups; /* groups = ( ... ), n_groups of them (heap) */
	unsigned n_groups;
	struct cfg_rules rules;			     /* rules = { ... }: sessions without a group */
	struct cfg_addr dns_intercept[CFG_MAX_ICPT]; /* network.dns-intercept */
	unsigned n_dns_intercept;
	unsigned idle_timeout; /* session.idle-timeout, s without client data, 0 = none */
	unsigned max_lifetime; /* session.max-lifetime, s from login, 0 = none */
	/* Fleets of nodes behind a load balancer (README "Fleets"). */
	char *cookie_key_file;	  /* session.cookie-key-file: fleet keys; NULL: a random key */
	unsigned cookie_lifetime; /* session.cookie-lifetime, s: a cookie's life from login */
	unsigned drain_wait;	  /* session.drain-wait, s: drain, before tunnels are ended */
	unsigned fleet_nodes;	  /* fleet.nodes: the pools are cut into this many slices */
	char *fleet_state_dir;	  /* fleet.state-dir: revocations, claims; NULL: the default */
	struct cfg_listen listen_proxy[CFG_MAX_LISTEN]; /* listen-proxy: PROXY protocol first */
	unsigned n_listen_proxy;
	/* RADIUS (radius.*): logins, accounting, Disconnect/CoA; on when
	 * radius.auth-servers is not empty (then without auth.password-file). */
	struct cfg_listen radius_auth[CFG_MAX_RADIUS]; /* radius.auth-servers */
	unsigned n_radius_auth;
	struct cfg_listen radius_acct[CFG_MAX_RADIUS]; /* radius.acct-servers, empty: auth + 1 */
	unsigned n_radius_acct;
	char *radius_secret_file;    /* radius.secret-file: the shared secret, one line */
	char *radius_nas_id;	     /* radius.nas-identifier */
	char *radius_dictionary;     /* radius.dictionary: radcli's dictionary file */
	unsigned radius_timeout;     /* radius.timeout, s per try */
	unsigned radius_retries;     /* radius.retries: tries after the first, per server */
	unsigned radius_processes;   /* radius.processes: Access-Requests in flight */
	bool radius_accounting;	     /* radius.accounting: Start/Interim/Stop */
	unsigned radius_interim;     /* radius.interim-interval, s, 0: only RADIUS's */
	unsigned radius_min_interim; /* radius.min-interim-interval, s: the floor */
	unsigned radius_acct_queue;  /* radius.acct-queue: records waiting */
	unsigned radius_stop_wait;   /* radius.stop-wait, s: stopping waits for Stops */
	struct cfg_listen radius_coa[CFG_MAX_COA]; /* radius.coa-listen, UDP */
	unsigned n_radius_coa;
	/* The login dialogue and its backends (issue 20, issue 14's PAM and
	 * client certificates). */
	unsigned auth_max_tries;     /* auth.max-tries: wrong answers per connection */
	char *auth_failure_message;  /* auth.failure-message: the <error> of a wrong answer */
	char *pre_login_banner;	     /* pre-login-banner: shown with the first form; NULL: none */
	char *banner;		     /* banner: X-CSTP-Banner after login; NULL: none */
	char *pam_service;	     /* auth.pam-service: PAM checks passwords; NULL: the file */
	char *auth_ca;		     /* auth.ca: client certificates' CA (PEM); NULL: none asked */
	char *auth_crl;		     /* auth.crl: revoked client certificates (PEM); NULL: none */
	char *auth_certificate;	     /* auth.cert-mode: "optional", "required", "password" */
	char *auth_cert_user_field;  /* auth.cert-user-field: CN, UID, email, or an OID */
	char *auth_cert_group_field; /* auth.cert-group-field: OU, or an OID; NULL: none */
	bool auth_group_select;	     /* auth.group-select: the first form lists groups */
	char *auth_group_list;	     /* auth.group-list: those groups, "a,b"; NULL: none */
	struct cfg_service services[CFG_MAX_SERVICES]; /* services: TLS stream services */
	unsigned n_services;
};

/* Parse the file at path into *cfg (zeroed first).  Returns 0, or -1 with
 * err holding "FILE:LINE: what is wrong" ("FILE: ..." when no line applies);
 * on error *cfg is left zeroed, with nothing to free.  Never prints.
 * Relative file paths (tls.certificate, tls.key, auth.password-file,
 * log.destination, control.socket) come out absolute, against the
 * directory of path: a reload from another cwd reads the same files. */
int cfg_load(const char *path, struct cfg *cfg, char *err, size_t errlen);

/* Same from a NUL-terminated buffer; name is used in messages in place of a
 * file name ("(string)" if NULL).  File paths stay as written. */
int cfg_load_string(const char *text, const char *name, struct cfg *cfg, char *err, size_t errlen);

/* The number of workers to run: workers, or for "auto" the online CPUs
 * (at least 1), at most CFG_MAX_WORKERS. */
unsigned cfg_worker_count(const struct cfg *cfg, long online_cpus);

/* Frees the strings and zeroes *cfg; safe on a zeroed struct. */
void cfg_free(struct cfg *cfg);

/* The table of known settings, by index 0..cfg_key_count()-1.  Names are the
 * dotted paths of the file ("network.ipv4-pool"); NULL past the end. */
size_t cfg_key_count(void);
const char *cfg_key_name(size_t i);
/* Whether a new value of key i applies on reload; the others need a restart. */
bool cfg_key_reloadable(size_t i);
/* The default of key i as it would be written in the file ("tunneld" in
 * quotes, 1400, "auto", [] for an empty list) in buf; NULL when the key has
 * no default (required, or absent unless set) or buf is too small. */
const char *cfg_key_default_text(size_t i, char *buf, size_t len);
/* The first key at index >= from whose value differs between a and b, or
 * cfg_key_count() if none does.  For the reload diff:
 *   for (i = cfg_key_next_diff(a, b, 0); i < n; i = cfg_key_next_diff(a, b, i + 1)) */
size_t cfg_key_next_diff(const struct cfg *a, const struct cfg *b, size_t from);

/* The settings workers use (the keys marked for them in the table), packed
 * for IPC_SETTINGS: cfg_settings_pack() writes them into buf and returns the
 * length, or -ENOBUFS when cap is too small.  CFG_SETTINGS_MAX always holds
 * them (tests/unit/check_settings.c checks a config at every list's maximum). */
#define CFG_SETTINGS_MAX 2048
int cfg_settings_pack(const struct cfg *cfg, void *buf, size_t cap);
/* Check a packed buffer against the table's types and bounds and, when cfg
 * is not NULL, store every value into *cfg; nothing is stored unless all of
 * it is good.  0, or -EBADMSG with the reason in err.  Pure. */
int cfg_settings_apply(const void *buf, size_t len, struct cfg *cfg, char *err, size_t errlen);
/* On reload: every key that needs a restart takes its running value from
 * *old into *nc (strings are swapped, so each struct still owns what
 * cfg_free() frees). */
void cfg_keep_restart_only(struct cfg *nc, struct cfg *old);

/* groups.c: the group called name, or NULL. */
const struct cfg_group *cfg_group_find(const struct cfg *cfg, const char *name);
/* The session's group: the first of the comma-separated names in list that
 * names a group of cfg, copied to out (CFG_GROUP_NAME bytes); "" when none
 * does.  Returns out. */
char *cfg_group_choose(const struct cfg *cfg, const char *list, char *out);
/* Whether s is a valid group name: 1..CFG_GROUP_NAME - 1 characters of
 * A-Z a-z 0-9 . _ - (the password file's group column uses them too). */
bool cfg_group_name_valid(const char *s, size_t len);

/* values.c: whether a prefix is well formed: a known family, its length
 * within the family's bits and no host bits set (what the parser makes);
 * for the checks of settings and policies that travel to the workers. */
bool cfg_prefix_valid(const struct cfg_prefix *p);

/* Formatting helpers shared with the worker: "198.18.0.1", "198.18.0.0/24".
 * Return buf, or NULL if the family is unknown or buf is too small. */
const char *cfg_addr_str(const struct cfg_addr *a, char *buf, size_t len);
const char *cfg_prefix_str(const struct cfg_prefix *p, char *buf, size_t len);
/* Whether a prefix is well formed (a known family, a length within it, no
 * host bits): for prefixes that come from elsewhere than a config file. */
bool cfg_prefix_valid(const struct cfg_prefix *p);

#endif
