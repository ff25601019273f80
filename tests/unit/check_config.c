/* Unit tests for the configuration loader (conf/config.c): round trip of every
 * field, defaults, the shipped conf/tunneld.conf, the key table, the reload
 * diff and many broken files, each checked for its exact "FILE:LINE:". */
#include "config.h"
#include "conf/config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The required settings, one a line: a file made of BASE plus more lines
 * is valid unless the extra lines break it. */
#define L_LISTEN  "listen = [\"0.0.0.0:443\"];\n"
#define L_TLS	  "tls = { certificate = \"c.pem\"; key = \"k.pem\"; };\n"
#define L_AUTH	  "auth = { password-file = \"passwd\"; };\n"
#define L_NET	  "network = { ipv4-pool = \"198.18.100.0/24\"; };\n"
#define BASE	  L_LISTEN L_TLS L_AUTH L_NET /* lines 1-4 */
#define BASE3	  L_LISTEN L_TLS L_AUTH	      /* lines 1-3, no pool */
#define NO_LISTEN L_TLS L_AUTH L_NET	      /* lines 1-3 */
#define NET(...)                                                                                   \
	"network = {\n"                                                                            \
	"  ipv4-pool = \"198.18.100.0/24\";\n" __VA_ARGS__ "};\n"

static struct cfg c;
static char err[CFG_ERR_LEN];

static int load(const char *text)
{
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return cfg_load_string(text, "t.conf", &c, err, sizeof(err));
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static size_t key_index(const char *name)
{
	for (size_t i = 0; i < cfg_key_count(); i++)
		if (!strcmp(cfg_key_name(i), name))
			return i;
	ck_abort_msg("no key %s", name);
	return 0;
}

static void check_v4(const struct cfg_addr *a, const char *want)
{
	char buf[CFG_ADDR_STRLEN];

	ck_assert_int_eq(a->family, AF_INET);
	ck_assert_str_eq(cfg_addr_str(a, buf, sizeof(buf)), want);
}

static void check_prefix(const struct cfg_prefix *p, const char *want)
{
	char buf[CFG_PREFIX_STRLEN];

	ck_assert_str_eq(cfg_prefix_str(p, buf, sizeof(buf)), want);
}

static const char good[] = "# every setting, none at its default\n"
			   "listen = [ \"198.18.0.1:8443\", \"[fd00::1]:443\", \"0.0.0.0:1\" ];\n"
			   "workers = 4;\n"
			   "user = \"vpn\";\n"
			   "group = \"vpngroup\";\n"
			   "tls = {\n"
			   "  certificate = \"/etc/t/cert.pem\";\n"
			   "  key = \"/etc/t/key.pem\";\n"
			   "  priorities = \"SECURE256\";\n"
			   "};\n"
			   "auth = { password-file = \"/etc/t/passwd\"; };\n"
			   "network = {\n"
			   "  tun = \"vpn-0.x_Y\";\n"
			   "  mtu = 0x500;\n"
			   "  ipv4-pool = \"198.18.128.0/17\";\n"
			   "  ipv6-pool = \"fd00:200::/96\";\n"
			   "  dns = [ \"198.18.100.1\", \"fd00:100::1\" ];\n"
			   "  routes = ( \"198.18.1.0/24\", \"fd00:1::/64\", \"0.0.0.0/0\" );\n"
			   "};\n"
			   "session : { reconnect-timeout = 10; dpd = 0; keepalive = 3600; };\n"
			   "limits = {\n"
			   "  max-clients = 1000000L; handshake-timeout = 600;\n"
			   "  auth-timeout = 1; queue-bytes = 16384;\n"
			   "};\n"
			   "log = { level = \"debug\"; };\n";

START_TEST(test_round_trip)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct in6_addr want6;

	ck_assert_msg(load(good) == 0, "%s", err);
	ck_assert_str_eq(c.path, "t.conf");

	ck_assert_uint_eq(c.n_listen, 3);
	sin = (const struct sockaddr_in *)&c.listen[0].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8443);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc6120001u);
	ck_assert_uint_eq(c.listen[0].sslen, sizeof(struct sockaddr_in));
	ck_assert_str_eq(c.listen[0].text, "198.18.0.1:8443");
	sin6 = (const struct sockaddr_in6 *)&c.listen[1].ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00::1", &want6), 1);
	ck_assert_mem_eq(&sin6->sin6_addr, &want6, sizeof(want6));
	ck_assert_uint_eq(c.listen[1].sslen, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(c.listen[1].text, "[fd00::1]:443");
	sin = (const struct sockaddr_in *)&c.listen[2].ss;
	ck_assert_uint_eq(ntohs(sin->sin_port), 1);
	ck_assert_uint_eq(sin->sin_addr.s_addr, 0);

	ck_assert_uint_eq(c.workers, 4);
	ck_assert_str_eq(c.user, "vpn");
	ck_assert_str_eq(c.group, "vpngroup");
	ck_assert_str_eq(c.tls_certificate, "/etc/t/cert.pem");
	ck_assert_str_eq(c.tls_key, "/etc/t/key.pem");
	ck_assert_str_eq(c.tls_priorities, "SECURE256");
	ck_assert_str_eq(c.password_file, "/etc/t/passwd");
	ck_assert_str_eq(c.tun_name, "vpn-0.x_Y");
	ck_assert_uint_eq(c.mtu, 1280);
	ck_assert(c.have_ipv4_pool);
	ck_assert_int_eq(c.ipv4_pool.addr.family, AF_INET);
	ck_assert_uint_eq(c.ipv4_pool.len, 17);
	check_prefix(&c.ipv4_pool, "198.18.128.0/17");
	ck_assert(c.have_ipv6_pool);
	ck_assert_int_eq(c.ipv6_pool.addr.family, AF_INET6);
	check_prefix(&c.ipv6_pool, "fd00:200::/96");
	ck_assert_uint_eq(c.n_dns, 2);
	check_v4(&c.dns[0], "198.18.100.1");
	ck_assert_int_eq(c.dns[1].family, AF_INET6);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:100::1", &want6), 1);
	ck_assert_mem_eq(&c.dns[1].u.v6, &want6, sizeof(want6));
	ck_assert_uint_eq(c.n_routes, 3);
	check_prefix(&c.routes[0], "198.18.1.0/24");
	check_prefix(&c.routes[1], "fd00:1::/64");
	check_prefix(&c.routes[2], "0.0.0.0/0");
	ck_assert_uint_eq(c.reconnect_timeout, 10);
	ck_assert_uint_eq(c.dpd, 0);
	ck_assert_uint_eq(c.keepalive, 3600);
	ck_assert_uint_eq(c.max_clients, 1000000);
	ck_assert_uint_eq(c.handshake_timeout, 600);
	ck_assert_uint_eq(c.auth_timeout, 1);
	ck_assert_uint_eq(c.queue_bytes, 16384);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);

	cfg_free(&c);
	ck_assert(is_zero(&c, sizeof(c)));
	cfg_free(&c); /* twice is harmless */
}
END_TEST

START_TEST(test_defaults)
{
	ck_assert_msg(load(BASE) == 0, "%s", err);
	ck_assert_uint_eq(c.n_listen, 1);
	ck_assert_uint_eq(c.workers, 0);
	ck_assert_str_eq(c.user, "tunneld");
	ck_assert_str_eq(c.group, "tunneld");
	ck_assert_str_eq(c.tls_priorities,
			 "NORMAL:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-RSA");
	ck_assert_str_eq(c.tun_name, "tunneld0");
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert(c.have_ipv4_pool);
	ck_assert(!c.have_ipv6_pool);
	ck_assert_uint_eq(c.n_dns, 0);
	ck_assert_uint_eq(c.n_routes, 0);
	ck_assert_uint_eq(c.reconnect_timeout, 300);
	ck_assert_uint_eq(c.dpd, 60);
	ck_assert_uint_eq(c.keepalive, 30);
	ck_assert_uint_eq(c.max_clients, 10000);
	ck_assert_uint_eq(c.handshake_timeout, 10);
	ck_assert_uint_eq(c.auth_timeout, 60);
	ck_assert_uint_eq(c.queue_bytes, 262144);
	ck_assert_uint_eq(c.max_sessions_per_user, 4);
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	cfg_free(&c);
}
END_TEST

/* #15: "auto" follows the CPUs up to CFG_MAX_WORKERS (owner[] holds slot + 1
 * in a byte); a number is taken as written, within the table's bounds. */
START_TEST(test_worker_count)
{
	ck_assert_msg(load(BASE) == 0, "%s", err);
	ck_assert_uint_eq(c.workers, 0);
	ck_assert_uint_eq(cfg_worker_count(&c, 4), 4);
	ck_assert_uint_eq(cfg_worker_count(&c, 0), 1);
	ck_assert_uint_eq(cfg_worker_count(&c, -1), 1);
	ck_assert_uint_eq(cfg_worker_count(&c, 255), 255);
	ck_assert_uint_eq(cfg_worker_count(&c, 256), CFG_MAX_WORKERS);
	ck_assert_uint_eq(cfg_worker_count(&c, 4096), CFG_MAX_WORKERS);
	cfg_free(&c);
	ck_assert_msg(load(BASE "workers = 3;\n") == 0, "%s", err);
	ck_assert_uint_eq(cfg_worker_count(&c, 4096), 3);
	cfg_free(&c);
}
END_TEST

START_TEST(test_accepted_edges)
{
	/* Bounds are inclusive; "auto", IPv6 only, empty lists, and the log
	 * level names all load. */
	ck_assert_msg(load(L_LISTEN L_TLS L_AUTH
			   "workers = \"auto\";\n"
			   "network = { ipv6-pool = \"fd00::/126\"; dns = [];\n"
			   "  routes = []; tun = \"abcdefghijklmno\"; };\n"
			   "log = { level = \"error\"; };\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(c.workers, 0);
	ck_assert(!c.have_ipv4_pool);
	ck_assert(c.have_ipv6_pool);
	ck_assert_uint_eq(c.ipv6_pool.len, 126);
	ck_assert_str_eq(c.tun_name, "abcdefghijklmno");
	ck_assert_int_eq(c.log_level, LOG_LVL_ERR);
	cfg_free(&c);

	ck_assert_msg(load(BASE3
			   "workers = 255;\n"
			   "network = { ipv4-pool = \"10.0.0.0/8\"; ipv6-pool = \"fd00::/64\";\n"
			   "  mtu = 9000; };\n"
			   "log = { level = \"warning\"; };\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(c.workers, 255);
	ck_assert_uint_eq(c.ipv4_pool.len, 8);
	ck_assert_uint_eq(c.ipv6_pool.len, 64);
	ck_assert_uint_eq(c.mtu, 9000);
	ck_assert_int_eq(c.log_level, LOG_LVL_WARNING);
	cfg_free(&c);

	ck_assert_msg(load(BASE3 "network = { ipv4-pool = \"198.18.100.4/30\"; mtu = 576; };\n"
				 "limits = { queue-bytes = 67108864; max-clients = 1; };\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(c.ipv4_pool.len, 30);
	ck_assert_uint_eq(c.mtu, 576);
	ck_assert_uint_eq(c.queue_bytes, 67108864);
	ck_assert_uint_eq(c.max_clients, 1);
	cfg_free(&c);

	/* [::] and 0.0.0.0 on one port are different sockets; so are two ports. */
	ck_assert_msg(
	    load("listen = [\"0.0.0.0:443\", \"[::]:443\", \"0.0.0.0:444\"];\n" L_TLS L_AUTH
		     L_NET) == 0,
	    "%s", err);
	ck_assert_uint_eq(c.n_listen, 3);
	cfg_free(&c);
}
END_TEST

START_TEST(test_scan_ignores_comments_and_strings)
{
	/* Only real integer literals are checked for overflow, and @include
	 * only outside strings and comments. */
	ck_assert_msg(load("# 5000000000 @include \"x\"\n"
			   "// 5000000000\n"
			   "/* 5000000000\n @include \"y\" */\n" BASE
			   "user = \"5000000000 @include\";\n"
			   "group = \"a\\\"5000000000\";\n"
			   "session = { dpd = 2147483647L; };\n") != 0,
		      "dpd beyond 3600 must not load");
	ck_assert_msg(!strncmp(err, "t.conf:11: session.dpd: 2147483647 is out of range", 50), "%s",
		      err);
	ck_assert_msg(load("# 5000000000 @include \"x\"\n"
			   "// 5000000000\n"
			   "/* 5000000000\n @include \"y\" */\n" BASE
			   "user = \"5000000000 @include\";\n"
			   "group = \"a\\\"5000000000\";\n") == 0,
		      "%s", err);
	ck_assert_str_eq(c.user, "5000000000 @include");
	ck_assert_str_eq(c.group, "a\"5000000000");
	cfg_free(&c);
}
END_TEST

START_TEST(test_shipped_conf)
{
	char path[] = SRCDIR "/conf/tunneld.conf";

	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.path, path);
	/* The shipped file spells out the defaults. */
	ck_assert_uint_eq(c.workers, 0);
	ck_assert_str_eq(c.user, "tunneld");
	ck_assert_str_eq(c.tun_name, "tunneld0");
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert_uint_eq(c.reconnect_timeout, 300);
	ck_assert_uint_eq(c.dpd, 60);
	ck_assert_uint_eq(c.keepalive, 30);
	ck_assert_uint_eq(c.max_clients, 10000);
	ck_assert_uint_eq(c.handshake_timeout, 10);
	ck_assert_uint_eq(c.auth_timeout, 60);
	ck_assert_uint_eq(c.queue_bytes, 262144);
	ck_assert_uint_eq(c.max_sessions_per_user, 4);
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	ck_assert_str_eq(c.tls_priorities,
			 "NORMAL:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-RSA");
	ck_assert(c.have_ipv4_pool || c.have_ipv6_pool);
	ck_assert_uint_eq(c.n_routes, 0); /* default: everything through the tunnel */
	cfg_free(&c);
}
END_TEST

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_msg(f && buf, "%s: cannot read", path);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void load_into(struct cfg *out, const char *text);

/* Lines of the shipped file, split in place. */
struct lines {
	char *text;
	char *line[1024];
	size_t n;
};

static void split_lines(struct lines *l, char *text)
{
	l->text = text;
	l->n = 0;
	for (char *p = text; *p && l->n < ARRAY_SIZE(l->line); l->n++) {
		l->line[l->n] = p;
		p += strcspn(p, "\n");
		if (*p)
			*p++ = '\0';
	}
	ck_assert_uint_lt(l->n, ARRAY_SIZE(l->line));
}

static const char *skip_blanks(const char *p)
{
	return p + strspn(p, " \t");
}

/* "#name = ..." is a setting shown commented out, not documentation. */
static bool is_commented_setting(const char *p)
{
	p = skip_blanks(p);
	if (*p++ != '#' || !((*p >= 'a' && *p <= 'z')))
		return false;
	p += strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return !strncmp(p, " = ", 3);
}

/* The 1-based line that sets leaf commented out ("#leaf = "), 0 if none. */
static size_t commented_line(const struct lines *l, const char *leaf)
{
	char want[80];
	size_t found = 0;

	snprintf(want, sizeof(want), "#%s = ", leaf);
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(skip_blanks(l->line[i]), want, strlen(want))) {
			ck_assert_msg(!found, "%s is shown twice", leaf);
			found = i + 1;
		}
	return found;
}

/* The comment right above 1-based line n, its lines joined by spaces and
 * stripped of '#': the documentation of the setting on line n. */
static void comment_above(const struct lines *l, size_t n, char *out, size_t len)
{
	size_t first = n - 1, o = 0;

	while (first > 0) {
		const char *p = skip_blanks(l->line[first - 1]);

		if (*p != '#' || is_commented_setting(p))
			break;
		first--;
	}
	out[0] = '\0';
	for (size_t i = first; i + 1 < n; i++) {
		const char *p = skip_blanks(skip_blanks(l->line[i]) + 1);

		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? " " : "", p);
		ck_assert_uint_lt(o, len);
	}
}

/* The value after "Default: " as written: "a string", [a list], or a word. */
static void documented_default(const char *doc, const char *name, char *out, size_t len)
{
	const char *p = strstr(doc, "Default: "), *end;

	ck_assert_msg(p != NULL, "conf/tunneld.conf: %s: no \"Default: \" in \"%s\"", name, doc);
	ck_assert_msg(!strstr(p + 1, "Default: "), "%s: two defaults in \"%s\"", name, doc);
	p += strlen("Default: ");
	if (*p == '"')
		end = strchr(p + 1, '"') + 1;
	else if (*p == '[')
		end = strchr(p, ']') + 1;
	else
		end = p + strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
	ck_assert_msg(end > p && (size_t)(end - p) < len, "%s: cannot read the default", name);
	snprintf(out, len, "%.*s", (int)(end - p), p);
}

/* A value of the file in the form cfg_key_default_text() uses. */
static void value_text(const config_setting_t *s, char *out, size_t len)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		snprintf(out, len, "\"%s\"", config_setting_get_string(s));
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(out, len, "%lld", config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		snprintf(out, len, "%s", config_setting_length(s) ? "[...]" : "[]");
		break;
	case CONFIG_TYPE_BOOL:
		snprintf(out, len, "%s", config_setting_get_bool(s) ? "true" : "false");
		break;
	default:
		snprintf(out, len, "(other)");
	}
}

static size_t count_str(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The shipped file is the reference: every key of the loader's table is set
 * or shown commented out, right under its own comment, which carries the
 * [restart] or [reload] tag that cfg_key_reloadable() says and the default
 * that the loader uses ("Default: none" or "Required" for keys without
 * one); a key that is set is set to that default. */
START_TEST(test_shipped_conf_documents_every_key)
{
	static const char path[] = SRCDIR "/conf/tunneld.conf";
	char *text = slurp_file(path), doc[2048], def[256], said[256], val[256];
	struct lines l;
	config_t lc;

	config_init(&lc);
	ck_assert_msg(config_read_file(&lc, path), "%s:%d: %s", path, config_error_line(&lc),
		      config_error_text(&lc));
	ck_assert_uint_ge(cfg_key_count(), 30);
	/* One tag (opening a comment) per key, none left over for a key that
	 * is gone. */
	ck_assert_uint_eq(count_str(text, "# [restart]") + count_str(text, "# [reload]"),
			  cfg_key_count());
	split_lines(&l, text);
	for (size_t i = 0; i < cfg_key_count(); i++) {
		const char *name = cfg_key_name(i), *leaf = strrchr(name, '.');
		const config_setting_t *s = config_lookup(&lc, name);
		bool reload = cfg_key_reloadable(i);
		size_t line;

		leaf = leaf ? leaf + 1 : name;
		line = s ? (size_t)config_setting_source_line(s) : commented_line(&l, leaf);
		ck_assert_msg(line > 0, "%s: does not set %s", path, name);
		ck_assert_msg(!s || !commented_line(&l, leaf),
			      "%s: %s is set and shown commented out", path, name);
		comment_above(&l, line, doc, sizeof(doc));
		ck_assert_msg(doc[0], "%s:%zu: %s has no comment of its own", path, line, name);
		ck_assert_msg(strstr(doc, reload ? "[reload]" : "[restart]") &&
				  !strstr(doc, reload ? "[restart]" : "[reload]"),
			      "%s:%zu: %s applies on %s, the comment says \"%s\"", path, line, name,
			      reload ? "reload" : "restart", doc);
		if (!cfg_key_default_text(i, def, sizeof(def))) {
			ck_assert_msg(strstr(doc, "Required.") || strstr(doc, "Default: none."),
				      "%s:%zu: %s has no default: say \"Required.\" or \"Default: "
				      "none.\" in \"%s\"",
				      path, line, name, doc);
			continue;
		}
		documented_default(doc, name, said, sizeof(said));
		/* The build's run-state directory stands for itself. */
		if (!strncmp(said, "\"RUNSTATEDIR/", 13)) {
			char tail[128];

			ck_assert_uint_lt(strlen(said + 12), sizeof(tail));
			strcpy(tail, said + 12);
			snprintf(said, sizeof(said), "\"%.64s%s", RUNSTATEDIR, tail);
		}
		ck_assert_msg(!strcmp(said, def), "%s:%zu: %s: documented default %s, loader's %s",
			      path, line, name, said, def);
		if (s) {
			value_text(s, val, sizeof(val));
			ck_assert_msg(!strcmp(val, def), "%s:%zu: %s = %s, but the default is %s",
				      path, line, name, val, def);
		}
	}
	config_destroy(&lc);
	free(text);
}
END_TEST

START_TEST(test_key_default_text)
{
	char buf[128];

	ck_assert_str_eq(cfg_key_default_text(key_index("user"), buf, sizeof(buf)), "\"tunneld\"");
	ck_assert_str_eq(cfg_key_default_text(key_index("workers"), buf, sizeof(buf)), "\"auto\"");
	ck_assert_str_eq(cfg_key_default_text(key_index("network.mtu"), buf, sizeof(buf)), "1400");
	ck_assert_str_eq(cfg_key_default_text(key_index("network.dns"), buf, sizeof(buf)), "[]");
	ck_assert_str_eq(cfg_key_default_text(key_index("log.level"), buf, sizeof(buf)),
			 "\"info\"");
	ck_assert_str_eq(cfg_key_default_text(key_index("control.socket"), buf, sizeof(buf)),
			 "\"" RUNSTATEDIR "/tunneld/control.sock\"");
	ck_assert_ptr_null(cfg_key_default_text(key_index("listen"), buf, sizeof(buf)));
	ck_assert_ptr_null(cfg_key_default_text(key_index("tls.certificate"), buf, sizeof(buf)));
	ck_assert_ptr_null(cfg_key_default_text(key_index("network.ipv4-pool"), buf, sizeof(buf)));
	ck_assert_ptr_null(cfg_key_default_text(key_index("auth.password-file"), buf, sizeof(buf)));
	ck_assert_ptr_null(cfg_key_default_text(key_index("network.mtu"), buf, 4)); /* too small */
	ck_assert_ptr_null(cfg_key_default_text(cfg_key_count(), buf, sizeof(buf)));
	/* Every default, written into a file, loads to the same value. */
	for (size_t i = 0; i < cfg_key_count(); i++) {
		const char *name = cfg_key_name(i), *dot = strchr(name, '.');
		char text[1024], set[200], other[300] = "";
		const char *in[4] = {"", "", "", ""}; /* top level, tls, auth, network */
		static const char *const groups[] = {"tls", "auth", "network"};
		struct cfg a, b;

		if (!cfg_key_default_text(i, buf, sizeof(buf)))
			continue;
		snprintf(set, sizeof(set), "%s = %s;", dot ? dot + 1 : name, buf);
		in[0] = dot ? "" : set;
		for (size_t g = 0; dot && g < ARRAY_SIZE(groups); g++)
			if (!strncmp(name, groups[g], strlen(groups[g])) &&
			    name[strlen(groups[g])] == '.')
				in[g + 1] = set;
		if (dot && !in[1][0] && !in[2][0] && !in[3][0])
			snprintf(other, sizeof(other), "%.*s = { %s };\n", (int)(dot - name), name,
				 set);
		snprintf(text, sizeof(text),
			 "listen = [\"0.0.0.0:443\"];\n%s\n"
			 "tls = { certificate = \"c.pem\"; key = \"k.pem\"; %s };\n"
			 "auth = { password-file = \"passwd\"; %s };\n"
			 "network = { ipv4-pool = \"198.18.100.0/24\"; %s };\n%s",
			 in[0], in[1], in[2], in[3], other);
		load_into(&a, BASE);
		load_into(&b, text);
		ck_assert_msg(cfg_key_next_diff(&a, &b, 0) == cfg_key_count(), "%s = %s differs",
			      name, buf);
		cfg_free(&a);
		cfg_free(&b);
	}
}
END_TEST

START_TEST(test_key_table)
{
	static const char *const restart[] = {
	    "listen",
	    "workers",
	    "user",
	    "group",
	    "network.tun",
	    "network.mtu",
	    "network.ipv4-pool",
	    "network.ipv6-pool",
	    "control.socket",
	    "dtls.enable",
	    "dtls.port",
	    "dtls.priorities",
	    "session.node-id",
	    "cisco.profile",
	    "listen-proxy",
	    "fleet.nodes",
	};
	size_t n = cfg_key_count(), n_restart = 0;

	ck_assert_ptr_null(cfg_key_name(n));
	ck_assert(!cfg_key_reloadable(n));
	for (size_t i = 0; i < n; i++) {
		bool want_restart = false;

		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(cfg_key_name(i), cfg_key_name(j));
		for (size_t j = 0; j < ARRAY_SIZE(restart); j++)
			want_restart |= !strcmp(restart[j], cfg_key_name(i));
		ck_assert_msg(cfg_key_reloadable(i) == !want_restart, "%s", cfg_key_name(i));
		n_restart += want_restart;
	}
	ck_assert_uint_eq(n_restart, ARRAY_SIZE(restart));
	for (const char *const *k =
		 (const char *const[]){"tls.certificate", "tls.key", "tls.priorities",
				       "auth.password-file", "network.dns", "network.routes",
				       "log.level", "session.dpd", "limits.queue-bytes", NULL};
	     *k; k++)
		ck_assert_msg(cfg_key_reloadable(key_index(*k)), "%s", *k);
}
END_TEST

/* Every row of the table refuses a value of the wrong type, naming itself
 * and the line. */
START_TEST(test_every_key_checks_type)
{
	const char *name = cfg_key_name((size_t)_i);
	const char *dot = strchr(name, '.');
	char text[256], want[128];

	if (dot)
		snprintf(text, sizeof(text), "\n%.*s = {\n  %s = { x = 1; };\n};\n",
			 (int)(dot - name), name, dot + 1);
	else
		snprintf(text, sizeof(text), "\n\n%s = { x = 1; };\n", name);
	ck_assert_int_eq(load(text), -1);
	snprintf(want, sizeof(want), "t.conf:3: %s: expected ", name);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s: got \"%s\"", name, err);
	ck_assert_msg(strstr(err, "got a group") != NULL, "%s", err);
	ck_assert(is_zero(&c, sizeof(c)));
}
END_TEST

struct bad {
	const char *text;
	const char *prefix; /* "t.conf:LINE: " or "t.conf: " */
	const char *reason; /* substring of the rest */
};

static const struct bad bad[] = {
    /* log destinations */
    {BASE "log = { destination = \"t.log\"; };\n",
     "t.conf:5: ", "log.destination: expected \"auto\", \"stderr\", \"syslog\" or a file path"},
    {BASE "log = {\n destination = \"journal\"; };\n", "t.conf:6: ", "got \"journal\""},
    /* libconfig syntax */
    {BASE "mtu = ;\n", "t.conf:5: ", "syntax error"},
    {BASE "session = {\n  dpd = 5;\n", "t.conf:7: ", "syntax error"},
    {BASE "user = \"abc\n", "t.conf:6: ", "syntax error"},
    {BASE "\nworkers = 2;\nworkers = 3;\n", "t.conf:7: ", "duplicate setting"},
    {BASE "log = { level = \"info\"; };\nlog = { level = \"info\"; };\n",
     "t.conf:6: ", "duplicate setting"},
    {BASE "routes = [\"198.18.1.0/24\",\n 5];\n", "t.conf:6: ", "mismatched element type"},
    /* names */
    {BASE "\nworker = 2;\n", "t.conf:6: ", "unknown setting worker"},
    {BASE3 NET("  foo = 1;\n"), "t.conf:6: ", "unknown setting network.foo"},
    {BASE3 NET("  MTU = 1400;\n"), "t.conf:6: ", "unknown setting network.MTU"},
    {BASE "logging = { level = \"info\"; };\n", "t.conf:5: ", "unknown setting logging"},
    {BASE "mtu = 1400;\n", "t.conf:5: ", "unknown setting mtu"},
    {BASE "session = { tls = { key = \"k\"; }; };\n", "t.conf:5: ", "unknown setting session.tls"},
    {BASE
     "session = {\n"
     "  "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1;\n"
     "};\n",
     "t.conf:6: ", "unknown setting session.aaaaaaaa"},
    {BASE "@include \"other.conf\"\n", "t.conf:5: ", "@include is not supported"},
    /* types */
    {L_LISTEN L_AUTH L_NET "\ntls = \"x\";\n", "t.conf:5: ", "tls: expected a group"},
    {BASE "session = 5;\n", "t.conf:5: ", "session: expected a group like session = {"},
    {BASE "session = { dpd = \"60\"; };\n",
     "t.conf:5: ", "session.dpd: expected an integer, got a string"},
    {BASE "limits = {\n  queue-bytes = 65536.0;\n};\n",
     "t.conf:6: ", "limits.queue-bytes: expected an integer, got a floating-point number"},
    {BASE "session = { keepalive = true; };\n", "t.conf:5: ", "got a boolean"},
    {BASE "user = 0;\n", "t.conf:5: ", "user: expected a string, got an integer"},
    {BASE "group = [\"wheel\"];\n", "t.conf:5: ", "group: expected a string, got a list"},
    {BASE "user = { name = \"x\"; };\n", "t.conf:5: ", "user: expected a string, got a group"},
    {BASE3 "network = { tun = 0; };\n", "t.conf:4: ", "network.tun: expected a string"},
    {BASE "log = { level = 7; };\n", "t.conf:5: ", "log.level: expected a string"},
    /* empty strings */
    {BASE "user = \"\";\n", "t.conf:5: ", "user: must not be empty"},
    {L_LISTEN L_AUTH L_NET "tls = { certificate = \"\"; key = \"k\"; };\n",
     "t.conf:4: ", "tls.certificate: must not be empty"},
    /* workers */
    {BASE "workers = \"many\";\n",
     "t.conf:5: ", "workers: expected \"auto\" or an integer 1..255, got \"many\""},
    {BASE "workers = \"AUTO\";\n", "t.conf:5: ", "workers: expected \"auto\""},
    {BASE "workers = \"\";\n", "t.conf:5: ", "workers: expected \"auto\""},
    {BASE "workers = true;\n", "t.conf:5: ", "workers: expected \"auto\" or an integer"},
    {BASE "workers = 0;\n", "t.conf:5: ", "workers: 0 is out of range 1..255"},
    /* owner[] names slot + 1 in a byte: 256 workers cannot be told apart */
    {BASE "workers = 256;\n", "t.conf:5: ", "workers: 256 is out of range 1..255"},
    {BASE "workers = -1;\n", "t.conf:5: ", "workers: -1 is out of range"},
    /* integer ranges */
    {BASE3 NET("  mtu = 575;\n"), "t.conf:6: ", "network.mtu: 575 is out of range 576..9000"},
    {BASE3 NET("  mtu = 9001;\n"), "t.conf:6: ", "network.mtu: 9001 is out of range"},
    {BASE "session = { keepalive = -1; };\n",
     "t.conf:5: ", "session.keepalive: -1 is out of range 0..3600"},
    {BASE "session = { dpd = 3601; };\n", "t.conf:5: ", "session.dpd: 3601 is out of range"},
    {BASE "session = { reconnect-timeout = 9; };\n",
     "t.conf:5: ", "session.reconnect-timeout: 9 is out of range 10..86400"},
    {BASE "session = { reconnect-timeout = 86401; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { max-clients = 0; };\n",
     "t.conf:5: ", "limits.max-clients: 0 is out of range 1..1000000"},
    {BASE "limits = { max-clients = 1000001; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { handshake-timeout = 0; };\n",
     "t.conf:5: ", "limits.handshake-timeout: 0 is out of range 1..600"},
    {BASE "limits = { auth-timeout = 3601; };\n",
     "t.conf:5: ", "limits.auth-timeout: 3601 is out of range 1..3600"},
    {BASE "limits = { queue-bytes = 16383; };\n",
     "t.conf:5: ", "limits.queue-bytes: 16383 is out of range 16384..67108864"},
    {BASE "limits = { queue-bytes = 67108865; };\n", "t.conf:5: ", "out of range"},
    {BASE "limits = { max-clients = 5000000000L; };\n",
     "t.conf:5: ", "limits.max-clients: 5000000000 is out of range"},
    /* literals libconfig 1.5 would wrap to an in-range value */
    {BASE "limits = {\n  queue-bytes = 4295229440;\n};\n",
     "t.conf:6: ", "integer 4295229440 is out of range"},
    {BASE3 NET("  mtu = -4294965896;\n"), "t.conf:6: ", "integer -4294965896 is out of range"},
    {BASE3 NET("  mtu = 0x100000578;\n"), "t.conf:6: ", "integer 0x100000578 is out of range"},
    {BASE "workers = 99999999999999999999999;\n", "t.conf:5: ", "is out of range"},
    /* log level */
    {BASE "log = { level = \"verbose\"; };\n", "t.conf:5: ",
     "log.level: expected one of \"error\", \"warning\", \"info\", \"debug\", got \"verbose\""},
    {BASE "log = { level = \"INFO\"; };\n", "t.conf:5: ", "log.level: expected one of"},
    {BASE "log = { level = \"\"; };\n", "t.conf:5: ", "log.level: expected one of"},
    /* tun name */
    {BASE3 NET("  tun = \"tun 0\";\n"),
     "t.conf:6: ", "network.tun: \"tun 0\" is not a valid interface name"},
    {BASE3 NET("  tun = \"abcdefghijklmnop\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"..\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \".\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"a/b\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"tun%d\";\n"), "t.conf:6: ", "not a valid interface name"},
    {BASE3 NET("  tun = \"tun:0\";\n"), "t.conf:6: ", "not a valid interface name"},
    /* pools */
    {BASE3 "network = {\n  ipv4-pool = \"198.18.100.0\";\n};\n",
     "t.conf:5: ", "network.ipv4-pool: expected an IPv4 prefix like \"198.18.100.0/24\""},
    {BASE3 "network = { ipv4-pool = \"fd00:100::/64\"; };\n",
     "t.conf:4: ", "network.ipv4-pool: expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = 5; };\n", "t.conf:4: ",
     "network.ipv4-pool: expected an IPv4 prefix like \"198.18.100.0/24\", got an integer"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/24 \"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/+24\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"/24\"; };\n", "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100/24\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/33\"; };\n",
     "t.conf:4: ", "expected an IPv4 prefix"},
    {BASE3 "network = { ipv4-pool = \"198.18.100.0/31\"; };\n",
     "t.conf:4: ", "network.ipv4-pool: prefix length /31 is out of range /8../30"},
    {BASE3 "network = { ipv4-pool = \"198.0.0.0/7\"; };\n",
     "t.conf:4: ", "prefix length /7 is out of range"},
    {BASE3 "network = {\n\n  ipv4-pool = \"198.18.100.1/24\";\n};\n", "t.conf:6: ",
     "network.ipv4-pool: \"198.18.100.1/24\" has host bits set; did you mean "
     "\"198.18.100.0/24\"?"},
    {BASE3 "network = { ipv4-pool = \"198.18.101.0/23\"; };\n",
     "t.conf:4: ", "did you mean \"198.18.100.0/23\"?"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::/48\"; };\n",
     "t.conf:4: ", "network.ipv6-pool: prefix length /48 is out of range /64../126"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::/127\"; };\n",
     "t.conf:4: ", "prefix length /127 is out of range"},
    {BASE3 "network = { ipv6-pool = \"198.18.100.0/24\"; };\n",
     "t.conf:4: ", "network.ipv6-pool: expected an IPv6 prefix like \"fd00:100::/64\""},
    {BASE3 "network = { ipv6-pool = \"fd00:100::1/64\"; };\n",
     "t.conf:4: ", "has host bits set; did you mean \"fd00:100::/64\"?"},
    {BASE3 "network = { ipv6-pool = \"fd00:100::1:1/112\"; };\n",
     "t.conf:4: ", "did you mean \"fd00:100::1:0/112\"?"},
    /* no pool */
    {BASE3 "\nnetwork = {\n  mtu = 1400;\n};\n",
     "t.conf:5: ", "network.ipv4-pool, network.ipv6-pool or both"},
    {BASE3, "t.conf: ", "network.ipv4-pool, network.ipv6-pool or both"},
    /* missing required */
    {NO_LISTEN, "t.conf: ", "missing required key listen"},
    {"", "t.conf: ", "missing required key listen"},
    {L_LISTEN L_AUTH L_NET "\ntls = {\n  certificate = \"c\";\n};\n",
     "t.conf:5: ", "set tls.certificate and tls.key together, or neither"},
    {L_LISTEN L_AUTH L_NET "\ntls = {\n  key = \"k\";\n};\n",
     "t.conf:5: ", "set tls.certificate and tls.key together, or neither"},
    {L_LISTEN L_TLS L_NET "auth = {};\n", "t.conf:4: ", "missing required key auth.password-file"},
    /* listen */
    {NO_LISTEN "listen = [];\n", "t.conf:4: ", "listen: needs at least 1 entry"},
    {NO_LISTEN "listen = \"0.0.0.0:443\";\n",
     "t.conf:4: ", "listen: expected a list of strings like [\"0.0.0.0:443\"], got a string"},
    {NO_LISTEN "listen = [443];\n",
     "t.conf:4: ", "listen: entries must be strings like \"0.0.0.0:443\", got an integer"},
    {NO_LISTEN "listen = (\"0.0.0.0:443\",\n (\"[::]:443\"));\n",
     "t.conf:5: ", "listen: entries must be strings"},
    {NO_LISTEN "listen = [\"198.18.0.1\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.1\": missing \":PORT\""},
    {NO_LISTEN "listen = [\"198.18.0.1:0\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.1:0\": the port must be a number 1..65535"},
    {NO_LISTEN "listen = [\"198.18.0.1:65536\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:https\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:-443\"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.1:443 \"];\n", "t.conf:4: ", "port must be a number"},
    {NO_LISTEN "listen = [\"198.18.0.256:443\"];\n",
     "t.conf:4: ", "listen: \"198.18.0.256:443\": not an IP address"},
    {NO_LISTEN "listen = [\"vpn.example.com:443\"];\n",
     "t.conf:4: ", "host names are not resolved"},
    {NO_LISTEN "listen = [\":443\"];\n", "t.conf:4: ", "not an IP address"},
    {NO_LISTEN "listen = [\"::1:443\"];\n",
     "t.conf:4: ", "an IPv6 address needs brackets, as in \"[::]:443\""},
    {NO_LISTEN "listen = [\"[::1]\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[::1]443\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[::1:443\"];\n", "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"[198.18.0.1]:443\"];\n", "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[fe80::1%eth0]:443\"];\n", "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	       "0000]:443\"];\n",
     "t.conf:4: ", "not an IPv6 address"},
    {NO_LISTEN "listen = [\"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	       "0000:0000:0000:0000:0000:0000:0000]:443\"];\n",
     "t.conf:4: ", "expected \"ADDRESS:PORT\""},
    {NO_LISTEN "listen = [\"198.018.000.001:443\"];\n", "t.conf:4: ", "not an IP address"},
    /* libconfig dates a list entry by the token after it: keep "]" on its line. */
    {NO_LISTEN "listen = [\n  \"0.0.0.0:443\",\n  \"[::]:443\",\n  \"0.0.0.0:0443\"];\n",
     "t.conf:7: ", "listen: \"0.0.0.0:0443\" duplicates \"0.0.0.0:443\""},
    {NO_LISTEN "listen = [\"[::1]:443\", \"[0::1]:443\"];\n",
     "t.conf:4: ", "duplicates \"[::1]:443\""},
    {NO_LISTEN "listen = [\"198.18.0.1:1\", \"198.18.0.1:2\", \"198.18.0.1:3\", \"198.18.0.1:4\",\n"
	       "  \"198.18.0.1:5\", \"198.18.0.1:6\", \"198.18.0.1:7\", \"198.18.0.1:8\",\n"
	       "  \"198.18.0.1:9\", \"198.18.0.1:10\", \"198.18.0.1:11\", \"198.18.0.1:12\",\n"
	       "  \"198.18.0.1:13\", \"198.18.0.1:14\", \"198.18.0.1:15\", \"198.18.0.1:16\",\n"
	       "  \"198.18.0.1:17\"];\n",
     "t.conf:4: ", "listen: too many entries (17, at most 16)"},
    /* dns */
    {BASE3 NET("  dns = [\"198.18.100.1\", \"198.18.100.2\", \"198.18.100.3\",\n"
	       "    \"198.18.100.4\", \"198.18.100.5\", \"198.18.100.6\", \"198.18.100.7\",\n"
	       "    \"198.18.100.8\", \"fd00::9\"];\n"),
     "t.conf:6: ", "network.dns: too many entries (9, at most 8)"},
    {BASE3 NET("  dns = [\"198.18.100.1\",\n    \"198.18.100.1/32\"];\n"), "t.conf:7: ",
     "network.dns: expected an IP address like \"198.18.100.1\" or \"fd00:100::1\", got "
     "\"198.18.100.1/32\""},
    {BASE3 NET("  dns = [\"dns.example.com\"];\n"), "t.conf:6: ", "expected an IP address"},
    {BASE3 NET("  dns = [\"198.18.100.1 \"];\n"), "t.conf:6: ", "expected an IP address"},
    {BASE3 NET("  dns = ((\"198.18.100.1\"));\n"), "t.conf:6: ",
     "network.dns: entries must be strings like \"198.18.100.1\" or \"fd00:100::1\", got a "
     "list"},
    {BASE3 NET("  dns = \"198.18.100.1\";\n"),
     "t.conf:6: ", "network.dns: expected a list of strings"},
    /* routes */
    {BASE3 NET("  routes = [\"198.18.1.0\"];\n"), "t.conf:6: ",
     "network.routes: expected a prefix like \"198.18.1.0/24\" or \"fd00:1::/64\", got "
     "\"198.18.1.0\""},
    {BASE3 NET("  routes = [\"198.18.1.0/33\"];\n"), "t.conf:6: ", "expected a prefix"},
    {BASE3 NET("  routes = [\"fd00:1::/129\"];\n"), "t.conf:6: ", "expected a prefix"},
    {BASE3 NET("  routes = [\"198.18.1.0/24\",\n    \"fd00:1::1/64\"];\n"), "t.conf:7: ",
     "network.routes: \"fd00:1::1/64\" has host bits set; did you mean \"fd00:1::/64\"?"},
    {BASE3 NET("  routes = [\"198.18.1.128/24\"];\n"),
     "t.conf:6: ", "did you mean \"198.18.1.0/24\"?"},
    {BASE3 NET("  routes = [\"0.0.0.1/0\"];\n"), "t.conf:6: ", "did you mean \"0.0.0.0/0\"?"},
    {BASE3 NET("  routes = (\"198.18.1.0/24\", 5);\n"),
     "t.conf:6: ", "network.routes: entries must be strings"},
};

START_TEST(test_bad)
{
	const struct bad *b = &bad[_i];
	size_t n = strlen(b->prefix);

	ck_assert_msg(load(b->text) == -1, "case %d loaded:\n%s", _i, b->text);
	ck_assert_msg(!strncmp(err, b->prefix, n), "case %d: want prefix \"%s\", got \"%s\"", _i,
		      b->prefix, err);
	ck_assert_msg(strstr(err + n, b->reason) != NULL, "case %d: want \"%s\", got \"%s\"", _i,
		      b->reason, err);
	ck_assert_msg(is_zero(&c, sizeof(c)), "case %d: cfg not cleared", _i);
}
END_TEST

START_TEST(test_routes_limit)
{
	char text[8192];
	int n =
	    snprintf(text, sizeof(text), "%snetwork = { ipv4-pool = \"198.18.100.0/24\";\n", BASE3);

	n += snprintf(text + n, sizeof(text) - (size_t)n, "  routes = [");
	for (int i = 0; i < CFG_MAX_ROUTES; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"198.19.%d.0/24\"",
			      i ? ", " : "", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "];\n};\n");
	ck_assert_msg(load(text) == 0, "%s", err);
	ck_assert_uint_eq(c.n_routes, CFG_MAX_ROUTES);
	check_prefix(&c.routes[CFG_MAX_ROUTES - 1], "198.19.63.0/24");
	cfg_free(&c);

	/* One more is refused. */
	snprintf(text + n, sizeof(text) - (size_t)n, ", \"198.19.200.0/24\"];\n};\n");
	ck_assert_int_eq(load(text), -1);
	ck_assert_str_eq(err, "t.conf:5: network.routes: too many entries (65, at most 64)");
}
END_TEST

START_TEST(test_err_buffer)
{
	char small[12];

	/* Truncated but terminated; NULL err is allowed. */
	memset(small, 'X', sizeof(small));
	ck_assert_int_eq(cfg_load_string("x = 1;", "name.conf", &c, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "name.conf:1");
	ck_assert_int_eq(cfg_load_string("x = 1;", "name.conf", &c, NULL, 0), -1);
	ck_assert(is_zero(&c, sizeof(c)));
	ck_assert_int_eq(cfg_load_string("x = 1;", NULL, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "(string):1: unknown setting x");
	/* A success clears a stale message. */
	ck_assert_int_eq(cfg_load_string(BASE, "t.conf", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	cfg_free(&c);
}
END_TEST

static void write_tmp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_config.XXXXXX", want[64];
	static const char text[] = BASE "session = {\n  dpd = 5000;\n};\n";

	write_tmp(path, text, strlen(text));
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:6: session.dpd: 5000 is out of range", path);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
	ck_assert(is_zero(&c, sizeof(c)));
	unlink(path);

	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), BASE, strlen(BASE));
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.path, path);
	ck_assert_uint_eq(c.n_listen, 1);
	cfg_free(&c);
	unlink(path);
}
END_TEST

/* #18: relative file paths come out absolute, against the directory of the
 * config file, whatever the cwd: a reload after --daemon (chdir "/") must
 * read the same files as the start did. */
START_TEST(test_relative_paths)
{
	static const char text[] =
	    L_LISTEN "tls = { certificate = \"certs/c.pem\"; key = \"k.pem\"; };\n"
		     "auth = { password-file = \"passwd\"; };\n" L_NET
		     "log = { destination = \"./log/t.log\"; };\n"
		     "control = { socket = \"run/ctl.sock\"; };\n";
	char dir[] = "/tmp/check_config.XXXXXX", path[128], want[192], cwd[4096];
	const char *in[] = {"/", dir};

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	write_file(path, text);
	/* By its absolute path from "/", then by "./t.conf" from its directory. */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(chdir(in[i]), 0);
		ck_assert_msg(cfg_load(i ? "./t.conf" : path, &c, err, sizeof(err)) == 0, "%s",
			      err);
		snprintf(want, sizeof(want), "%s/passwd", dir);
		ck_assert_str_eq(c.password_file, want);
		snprintf(want, sizeof(want), "%s/certs/c.pem", dir);
		ck_assert_str_eq(c.tls_certificate, want);
		snprintf(want, sizeof(want), "%s/k.pem", dir);
		ck_assert_str_eq(c.tls_key, want);
		snprintf(want, sizeof(want), "%s/./log/t.log", dir);
		ck_assert_str_eq(c.log_destination, want);
		snprintf(want, sizeof(want), "%s/run/ctl.sock", dir);
		ck_assert_str_eq(c.control_socket, want);
		cfg_free(&c);
	}
	/* Absolute paths and log.destination's words stay as written. */
	write_file(path, BASE "log = { destination = \"syslog\"; };\n"
			      "control = { socket = \"/run/x.sock\"; };\n");
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.log_destination, "syslog");
	ck_assert_str_eq(c.control_socket, "/run/x.sock");
	cfg_free(&c);
	ck_assert_int_eq(chdir(cwd), 0);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_load_file_errors)
{
	char path[] = "/tmp/check_config.XXXXXX";
	static const char nul[] = BASE "# \0 hidden: x = 1;\n";
	size_t big_len = 1024 * 1024 + 1;
	char *big = malloc(big_len);

	ck_assert_int_eq(cfg_load("/nonexistent/tunneld.conf", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/tunneld.conf: cannot read: No such file or directory");
	ck_assert(is_zero(&c, sizeof(c)));

	ck_assert_int_eq(cfg_load("/tmp", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");

	/* A NUL would hide the rest of the file from libconfig. */
	write_tmp(path, nul, sizeof(nul) - 1);
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ": contains a NUL byte") && !strncmp(err, path, strlen(path)),
		      "%s", err);
	unlink(path);

	ck_assert_ptr_nonnull(big);
	memset(big, '\n', big_len);
	memcpy(big, BASE, strlen(BASE));
	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), big, big_len);
	ck_assert_int_eq(cfg_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ": larger than 1048576 bytes") != NULL, "%s", err);
	unlink(path);
	/* Exactly at the limit is fine. */
	write_tmp(strcpy(path, "/tmp/check_config.XXXXXX"), big, big_len - 1);
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	cfg_free(&c);
	unlink(path);
	free(big);
}
END_TEST

/* Loads text into *out, failing the test on error. */
static void load_into(struct cfg *out, const char *text)
{
	ck_assert_msg(cfg_load_string(text, "t.conf", out, err, sizeof(err)) == 0, "%s", err);
}

/* The names of the keys that differ between two texts, comma separated. */
static const char *diff(const char *ta, const char *tb)
{
	static char names[512];
	struct cfg a, b;
	size_t n = cfg_key_count();

	load_into(&a, ta);
	load_into(&b, tb);
	names[0] = '\0';
	for (size_t i = cfg_key_next_diff(&a, &b, 0); i < n; i = cfg_key_next_diff(&a, &b, i + 1))
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? "," : "", cfg_key_name(i));
	ck_assert_uint_eq(cfg_key_next_diff(&a, &b, n), n);
	cfg_free(&a);
	cfg_free(&b);
	return names;
}

START_TEST(test_diff)
{
	ck_assert_str_eq(diff(good, good), "");
	ck_assert_str_eq(diff(BASE, BASE), "");
	/* Writing a default out is no change. */
	ck_assert_str_eq(diff(BASE, BASE "workers = \"auto\"; user = \"tunneld\";\n"
					 "log = { level = \"info\"; };\n"),
			 "");
	ck_assert_str_eq(
	    diff(BASE, good),
	    "listen,workers,user,group,tls.certificate,tls.key,tls.priorities,"
	    "auth.password-file,network.tun,network.mtu,network.ipv4-pool,"
	    "network.ipv6-pool,network.dns,network.routes,session.reconnect-timeout,"
	    "session.dpd,session.keepalive,limits.max-clients,"
	    "limits.handshake-timeout,limits.auth-timeout,limits.queue-bytes,log.level");
	ck_assert_str_eq(diff(BASE, "listen = [\"0.0.0.0:444\"];\n" L_TLS L_AUTH L_NET), "listen");
	ck_assert_str_eq(
	    diff(BASE, "listen = [\"0.0.0.0:443\", \"[::]:443\"];\n" L_TLS L_AUTH L_NET), "listen");
	/* Same address spelled differently is the same listener. */
	ck_assert_str_eq(diff("listen = [\"[fd00::1]:443\"];\n" NO_LISTEN,
			      "listen = [\"[fd00:0::1]:0443\"];\n" NO_LISTEN),
			 "");
	ck_assert_str_eq(
	    diff(BASE3 NET("  mtu = 1300;\n"), BASE3 NET("  dns = [\"198.18.100.1\"];\n")),
	    "network.mtu,network.dns");
	ck_assert_str_eq(diff(BASE3 NET("  dns = [\"198.18.100.1\"];\n"),
			      BASE3 NET("  dns = [\"198.18.100.2\"];\n")),
			 "network.dns");
	ck_assert_str_eq(diff(BASE3 NET("  routes = [\"fd00:1::/64\"];\n"),
			      BASE3 NET("  routes = [\"fd00:1::/65\"];\n")),
			 "network.routes");
	ck_assert_str_eq(diff(BASE3 NET("  ipv6-pool = \"fd00:100::/64\";\n"), BASE),
			 "network.ipv6-pool");
	ck_assert_str_eq(diff(BASE, BASE3 "network = { ipv4-pool = \"198.18.100.0/25\"; };\n"),
			 "network.ipv4-pool");
	ck_assert_str_eq(diff(BASE, BASE3 NET("  tun = \"vpn0\";\n")), "network.tun");
	ck_assert_str_eq(diff(BASE, BASE "log = { level = \"debug\"; };\n"), "log.level");

	ck_assert(!cfg_key_reloadable(key_index("network.mtu")));
	ck_assert(cfg_key_reloadable(key_index("network.dns")));
}
END_TEST

START_TEST(test_format)
{
	struct cfg_addr a = {.family = AF_INET};
	struct cfg_prefix p = {.len = 8};
	char buf[CFG_PREFIX_STRLEN];

	a.u.v4.s_addr = htonl(0xc6120001);
	ck_assert_str_eq(cfg_addr_str(&a, buf, sizeof(buf)), "198.18.0.1");
	ck_assert_ptr_null(cfg_addr_str(&a, buf, 10)); /* needs 11 */
	ck_assert_str_eq(cfg_addr_str(&a, buf, 11), "198.18.0.1");
	a.family = 0;
	ck_assert_ptr_null(cfg_addr_str(&a, buf, sizeof(buf)));

	p.addr.family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00::", &p.addr.u.v6), 1);
	ck_assert_str_eq(cfg_prefix_str(&p, buf, sizeof(buf)), "fd00::/8");
	ck_assert_str_eq(cfg_prefix_str(&p, buf, 9), "fd00::/8");
	ck_assert_ptr_null(cfg_prefix_str(&p, buf, 8));
	ck_assert_ptr_null(cfg_prefix_str(&p, buf, 5));
	ck_assert_int_eq(
	    inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &p.addr.u.v6), 1);
	p.len = 128;
	ck_assert_ptr_nonnull(cfg_prefix_str(&p, buf, sizeof(buf)));
	p.addr.family = AF_UNIX;
	ck_assert_ptr_null(cfg_prefix_str(&p, buf, sizeof(buf)));
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_worker_count);
	tcase_add_test(tc, test_accepted_edges);
	tcase_add_test(tc, test_scan_ignores_comments_and_strings);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_shipped_conf_documents_every_key);
	tcase_add_test(tc, test_key_default_text);
	tcase_add_test(tc, test_key_table);
	tcase_add_loop_test(tc, test_every_key_checks_type, 0, (int)cfg_key_count());
	tcase_add_loop_test(tc, test_bad, 0, (int)ARRAY_SIZE(bad));
	tcase_add_test(tc, test_routes_limit);
	tcase_add_test(tc, test_err_buffer);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_file_errors);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_diff);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
