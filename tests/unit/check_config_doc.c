/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_config: the shipped conf/tunneld.conf documents every key of the
 * loader's table, and the table itself. */
#include "config.h"
#include "tests/unit/check_config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The 1-based line that sets the key name (a dotted path) commented out
 * ("#leaf = " inside the groups of its path), 0 if none. */
static size_t commented_line(const struct lines *l, const char *name)
{
	const char *leaf = strrchr(name, '.');
	char want[80], path[128] = "";
	size_t found = 0, plen = 0;

	leaf = leaf ? leaf + 1 : name;
	snprintf(want, sizeof(want), "#%s = ", leaf);
	for (size_t i = 0; i < l->n; i++) {
		const char *p = skip_blanks(l->line[i]);
		size_t w = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");

		if (w && !strcmp(p + w, " = {")) { /* a group opens */
			plen +=
			    (size_t)snprintf(path + plen, sizeof(path) - plen, "%.*s.", (int)w, p);
			ck_assert_uint_lt(plen, sizeof(path));
		} else if (!strcmp(p, "};") && plen) { /* and closes */
			path[plen - 1] = '\0';
			plen = strrchr(path, '.') ? (size_t)(strrchr(path, '.') - path) + 1 : 0;
			path[plen] = '\0';
		} else if (!strncmp(p, want, strlen(want)) && strlen(name) == plen + strlen(leaf) &&
			   !strncmp(name, path, plen)) {
			ck_assert_msg(!found, "%s is shown twice", name);
			found = i + 1;
		}
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
		line = s ? (size_t)config_setting_source_line(s) : commented_line(&l, name);
		ck_assert_msg(line > 0, "%s: does not set %s", path, name);
		ck_assert_msg(!s || !commented_line(&l, name),
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
	    "radius.auth-servers",
	    "radius.acct-servers",
	    "radius.secret-file",
	    "radius.nas-identifier",
	    "radius.dictionary",
	    "radius.timeout",
	    "radius.retries",
	    "radius.processes",
	    "radius.accounting",
	    "radius.acct-queue",
	    "radius.coa-listen",
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
	const char *dot = strrchr(name, '.');
	char text[256], want[128], *p = text;
	int depth = 0;

	/* The groups of the path on line 2 (a.b.c: "a = { b = {"), the key on
	 * line 3. */
	p += sprintf(p, "\n");
	for (const char *g = name, *d; dot && (d = strchr(g, '.')) && d <= dot; g = d + 1, depth++)
		p += sprintf(p, "%.*s = { ", (int)(d - g), g);
	p += sprintf(p, "\n%s = { x = 1; };\n", dot ? dot + 1 : name);
	while (depth--)
		p += sprintf(p, "};\n");
	ck_assert_int_eq(load(text), -1);
	snprintf(want, sizeof(want), "t.conf:3: %s: expected ", name);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s: got \"%s\"", name, err);
	ck_assert_msg(strstr(err, "got a group") != NULL, "%s", err);
	ck_assert(is_zero(&c, sizeof(c)));
}
END_TEST

void config_doc_tests(TCase *tc)
{
	tcase_add_test(tc, test_shipped_conf_documents_every_key);
	tcase_add_test(tc, test_key_default_text);
	tcase_add_test(tc, test_key_table);
	tcase_add_loop_test(tc, test_every_key_checks_type, 0, (int)cfg_key_count());
}
