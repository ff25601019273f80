/* Unit tests for the configuration loader (conf/config.c): round trip of every
 * field, defaults, the shipped conf/tunneld.conf, the key table, the reload
 * diff and many broken files, each checked for its exact "FILE:LINE:". */
#include "config.h"
#include "tests/unit/check_config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cfg c;
char err[CFG_ERR_LEN];

int load(const char *text)
{
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return cfg_load_string(text, "t.conf", &c, err, sizeof(err));
}

bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

size_t key_index(const char *name)
{
	for (size_t i = 0; i < cfg_key_count(); i++)
		if (!strcmp(cfg_key_name(i), name))
			return i;
	ck_abort_msg("no key %s", name);
	return 0;
}

void check_v4(const struct cfg_addr *a, const char *want)
{
	char buf[CFG_ADDR_STRLEN];

	ck_assert_int_eq(a->family, AF_INET);
	ck_assert_str_eq(cfg_addr_str(a, buf, sizeof(buf)), want);
}

void check_prefix(const struct cfg_prefix *p, const char *want)
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

/* The default TLS priorities as GnuTLS reads them: X25519 first (the
 * cheaper handshake), P-256 next; TLS 1.3 and 1.2 only; no static RSA. */
static void default_priorities(const char *prio)
{
	gnutls_priority_t p;
	const unsigned *l;
	int n;

	ck_assert_int_eq(gnutls_priority_init2(&p, prio, NULL, 0), 0);
	n = gnutls_priority_group_list(p, &l);
	ck_assert_int_ge(n, 4);
	ck_assert_uint_eq(l[0], GNUTLS_GROUP_X25519);
	ck_assert_uint_eq(l[1], GNUTLS_GROUP_SECP256R1);
	n = gnutls_priority_protocol_list(p, &l);
	ck_assert_int_ge(n, 2);
	for (int i = 0; i < n; i++)
		ck_assert_msg(l[i] == GNUTLS_TLS1_3 || l[i] == GNUTLS_TLS1_2 ||
				  l[i] == GNUTLS_DTLS1_2 || l[i] == GNUTLS_DTLS1_0,
			      "protocol %s", gnutls_protocol_get_name(l[i]));
	n = gnutls_priority_kx_list(p, &l);
	for (int i = 0; i < n; i++)
		ck_assert_int_ne(l[i], GNUTLS_KX_RSA);
	ck_assert_ptr_nonnull(strstr(prio, "%SERVER_PRECEDENCE"));
	gnutls_priority_deinit(p);
}

START_TEST(test_defaults)
{
	ck_assert_msg(load(BASE) == 0, "%s", err);
	ck_assert_uint_eq(c.n_listen, 1);
	ck_assert_uint_eq(c.workers, 0);
	ck_assert_str_eq(c.user, "tunneld");
	ck_assert_str_eq(c.group, "tunneld");
	default_priorities(c.tls_priorities);
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
	default_priorities(c.tls_priorities);
	ck_assert(c.have_ipv4_pool || c.have_ipv6_pool);
	ck_assert_uint_eq(c.n_routes, 0); /* default: everything through the tunnel */
	cfg_free(&c);
}
END_TEST

/* Loads text into *out, failing the test on error. */
void load_into(struct cfg *out, const char *text)
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
	config_doc_tests(tc);
	config_bad_tests(tc);
	config_file_tests(tc);
	config_svc_tests(tc);
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
