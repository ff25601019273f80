/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_config: the services = ( ... ) list: every field read, defaults,
 * broken entries refused with FILE:LINE, the reload diff and paths made
 * absolute. */
#include "config.h"
#include "tests/unit/check_config.h"

#include <check.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The required fields of one service, then one service on one line. */
#define F_WEB                                                                                      \
	"name = \"web\"; listen = \"0.0.0.0:8443\"; connect = \"127.0.0.1:8080\"; "                \
	"certificate = \"w.pem\"; key = \"w.key\";"
#define SVC(...) "services = ( { " __VA_ARGS__ " } );\n"

START_TEST(test_svc_fields)
{
	static const char text[] =
	    BASE "services = (\n"
		 "  { " F_WEB " },\n"
		 "  { name = \"db.2\"; listen = \"[fd00::1]:5433\";\n"
		 "    connect = \"[fd00::2]:5432\"; certificate = \"/etc/d.pem\";\n"
		 "    key = \"d.key\"; ca = \"ca.pem\"; proxy-protocol = true;\n"
		 "    max-connections = 7; connect-timeout = 600;\n"
		 "    idle-timeout = 86400; }\n"
		 ");\n";
	const struct cfg_service *w, *d;

	ck_assert_msg(load(text) == 0, "%s", err);
	ck_assert_uint_eq(c.n_services, 2);
	w = &c.services[0];
	d = &c.services[1];
	ck_assert_str_eq(w->name, "web");
	ck_assert_str_eq(w->listen.text, "0.0.0.0:8443");
	ck_assert_str_eq(w->connect.text, "127.0.0.1:8080");
	ck_assert_str_eq(w->certificate, "w.pem");
	ck_assert_str_eq(w->key, "w.key");
	ck_assert_ptr_null(w->ca);
	ck_assert(!w->proxy_protocol);
	ck_assert_uint_eq(w->max_connections, 1024); /* the defaults */
	ck_assert_uint_eq(w->connect_timeout, 5);
	ck_assert_uint_eq(w->idle_timeout, 300);
	ck_assert_uint_eq(w->line, 6);
	ck_assert_str_eq(d->name, "db.2");
	ck_assert_str_eq(d->listen.text, "[fd00::1]:5433");
	ck_assert_str_eq(d->connect.text, "[fd00::2]:5432");
	ck_assert_str_eq(d->certificate, "/etc/d.pem");
	ck_assert_str_eq(d->ca, "ca.pem");
	ck_assert(d->proxy_protocol);
	ck_assert_uint_eq(d->max_connections, 7);
	ck_assert_uint_eq(d->connect_timeout, 600);
	ck_assert_uint_eq(d->idle_timeout, 86400);
	cfg_free(&c);
	/* No services: none. */
	ck_assert_int_eq(load(BASE), 0);
	ck_assert_uint_eq(c.n_services, 0);
	cfg_free(&c);
}
END_TEST

struct svc_bad {
	const char *text;
	const char *want; /* the whole message */
};

static const struct svc_bad svc_bad[] = {
    {BASE "services = { name = \"web\"; };\n",
     "t.conf:5: services: expected a list of groups like ( { name = \"web\"; ... } ), got a "
     "group"},
    {BASE "services = ( 5 );\n",
     "t.conf:5: services: expected groups like { name = \"web\"; ... }, got an integer"},
    {BASE SVC(F_WEB " port = 1;"), "t.conf:5: services: unknown setting port (one of name, "
				   "listen, connect, certificate, key, ca, proxy-protocol, "
				   "max-connections, connect-timeout, idle-timeout)"},
    {BASE SVC("name = \"web\"; listen = \"0.0.0.0:8443\"; connect = \"127.0.0.1:80\";"
	      " certificate = \"w.pem\";"),
     "t.conf:5: services: \"web\": missing key"},
    {BASE SVC("listen = \"0.0.0.0:8443\";"), "t.conf:5: services: a service: missing name"},
    {BASE SVC("name = \"a b\";"), "t.conf:5: services: name \"a b\": 1..31 characters from A-Z "
				  "a-z 0-9 - _ ."},
    {BASE SVC("name = \"abcdefghijklmnopqrstuvwxyz012345\";"),
     "t.conf:5: services: name \"abcdefghijklmnopqrstuvwxyz012345\": 1..31 characters from "
     "A-Z a-z 0-9 - _ ."},
    {BASE SVC("name = \"\";"), "t.conf:5: services: name: must not be empty"},
    {BASE SVC("name = 5;"), "t.conf:5: services: name: expected a string, got an integer"},
    {BASE SVC("certificate = \"\";"), "t.conf:5: services: certificate: must not be empty"},
    {BASE SVC("key = [\"k\"];"), "t.conf:5: services: key: expected a string, got a list"},
    {BASE SVC("proxy-protocol = 1;"),
     "t.conf:5: services: proxy-protocol: expected true or false, got an integer"},
    {BASE SVC("max-connections = 0;"),
     "t.conf:5: services: max-connections: 0 is out of range 1..1000000"},
    {BASE SVC("max-connections = 1000001;"),
     "t.conf:5: services: max-connections: 1000001 is out of range 1..1000000"},
    {BASE SVC("connect-timeout = 601;"),
     "t.conf:5: services: connect-timeout: 601 is out of range 1..600"},
    {BASE SVC("idle-timeout = \"5\";"),
     "t.conf:5: services: idle-timeout: expected an integer, got a string"},
    {BASE SVC("idle-timeout = 5.0;"),
     "t.conf:5: services: idle-timeout: expected an integer, got a floating-point number"},
    /* Two services: the second one's line. */
    {BASE "services = (\n  { " F_WEB " },\n"
	  "  { name = \"web\"; listen = \"0.0.0.0:9443\"; connect = \"127.0.0.1:80\";\n"
	  "    certificate = \"w.pem\"; key = \"w.key\"; }\n);\n",
     "t.conf:7: services: name \"web\" is used twice"},
    {BASE "services = (\n  { " F_WEB " },\n"
	  "  { name = \"b\"; listen = \"0.0.0.0:8443\"; connect = \"127.0.0.1:80\";\n"
	  "    certificate = \"w.pem\"; key = \"w.key\"; }\n);\n",
     "t.conf:7: services: \"b\" listens on 0.0.0.0:8443 like \"web\""},
    /* BASE's VPN listener is 0.0.0.0:443. */
    {BASE "\nservices = ( { name = \"web\"; listen = \"0.0.0.0:443\"; connect = \"127.0.0.1:80\";"
	  " certificate = \"w.pem\"; key = \"w.key\"; } );\n",
     "t.conf:6: services: \"web\" listens on 0.0.0.0:443, a listen address of the VPN"},
};

START_TEST(test_svc_bad)
{
	const struct svc_bad *b = &svc_bad[_i];

	ck_assert_msg(load(b->text) == -1, "case %d loaded:\n%s", _i, b->text);
	ck_assert_msg(!strcmp(err, b->want), "case %d:\nwant \"%s\"\n got \"%s\"", _i, b->want,
		      err);
	ck_assert_msg(is_zero(&c, sizeof(c)), "case %d: cfg not cleared", _i);
}
END_TEST

/* An address that does not parse: refused with the field and the text
 * (the reason is cfg_listen_parse's, tested with listen). */
START_TEST(test_svc_bad_addr)
{
	ck_assert_int_eq(load(BASE SVC("listen = \"nowhere\";")), -1);
	ck_assert_msg(!strncmp(err, "t.conf:5: services: listen: \"nowhere\": ", 39), "%s", err);
	ck_assert_int_eq(load(BASE SVC("connect = \"1.2.3.4\";")), -1);
	ck_assert_msg(!strncmp(err, "t.conf:5: services: connect: \"1.2.3.4\": ", 40), "%s", err);
}
END_TEST

START_TEST(test_svc_limit)
{
	char text[16384];
	int n = snprintf(text, sizeof(text), "%sservices = (\n", BASE);

	for (int i = 0; i <= CFG_MAX_SERVICES; i++)
		n += snprintf(
		    text + n, sizeof(text) - (size_t)n,
		    "%s{ name = \"s%d\"; listen = \"0.0.0.0:%d\"; connect = \"127.0.0.1:80\"; "
		    "certificate = \"c\"; key = \"k\"; }\n",
		    i ? "," : " ", i, 9000 + i);
	ck_assert_int_lt(n, (int)sizeof(text) - 4);
	snprintf(text + n, sizeof(text) - (size_t)n, ");\n");
	ck_assert_int_eq(load(text), -1);
	ck_assert_str_eq(err, "t.conf:5: services: too many entries (33, at most 32)");
	/* One fewer loads. */
	n = (int)(strrchr(text, ',') - text);
	snprintf(text + n, sizeof(text) - (size_t)n, ");\n");
	ck_assert_msg(load(text) == 0, "%s", err);
	ck_assert_uint_eq(c.n_services, CFG_MAX_SERVICES);
	cfg_free(&c);
}
END_TEST

/* Whether the reload diff finds the key "services" changed between the
 * two texts, and no other key. */
static bool svc_changed(const char *ta, const char *tb)
{
	struct cfg a, b;
	size_t n = cfg_key_count(), i;
	bool changed = false;

	load_into(&a, ta);
	load_into(&b, tb);
	for (i = cfg_key_next_diff(&a, &b, 0); i < n; i = cfg_key_next_diff(&a, &b, i + 1)) {
		ck_assert_str_eq(cfg_key_name(i), "services");
		changed = true;
	}
	cfg_free(&a);
	cfg_free(&b);
	return changed;
}

START_TEST(test_svc_diff)
{
	ck_assert(!svc_changed(BASE SVC(F_WEB), BASE SVC(F_WEB)));
	ck_assert(!svc_changed(BASE SVC(F_WEB), BASE SVC(F_WEB " idle-timeout = 300;")));
	ck_assert(svc_changed(BASE SVC(F_WEB), BASE SVC(F_WEB " idle-timeout = 301;")));
	ck_assert(svc_changed(BASE SVC(F_WEB), BASE SVC(F_WEB " ca = \"ca.pem\";")));
	ck_assert(svc_changed(BASE SVC(F_WEB), BASE SVC(F_WEB " proxy-protocol = true;")));
	ck_assert(svc_changed(BASE SVC(F_WEB), BASE));
}
END_TEST

/* Paths relative to the file's directory, like tls.certificate. */
START_TEST(test_svc_paths)
{
	char dir[] = "/tmp/check_config_svc.XXXXXX", path[128], want[192];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(BASE SVC(F_WEB " ca = \"/etc/ca.pem\";"), f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(cfg_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want), "%s/w.pem", dir);
	ck_assert_str_eq(c.services[0].certificate, want);
	snprintf(want, sizeof(want), "%s/w.key", dir);
	ck_assert_str_eq(c.services[0].key, want);
	ck_assert_str_eq(c.services[0].ca, "/etc/ca.pem");
	cfg_free(&c);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

void config_svc_tests(TCase *tc)
{
	tcase_add_test(tc, test_svc_fields);
	tcase_add_loop_test(tc, test_svc_bad, 0, (int)ARRAY_SIZE(svc_bad));
	tcase_add_test(tc, test_svc_bad_addr);
	tcase_add_test(tc, test_svc_limit);
	tcase_add_test(tc, test_svc_diff);
	tcase_add_test(tc, test_svc_paths);
}
