/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_authxml: the server's documents, and escaping. */
#include "config.h"
#include "tests/unit/check_authxml.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writers -------------------------------------------------------------- */

static void expect_in(const char *doc, const char *part)
{
	ck_assert_msg(strstr(doc, part) != NULL, "\"%s\" not in:\n%s", part, doc);
}

START_TEST(test_write_form)
{
	char buf[2048];
	int n = authxml_write_form(buf, sizeof(buf), NULL);

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
	expect_in(buf, "<config-auth client=\"vpn\" type=\"auth-request\">");
	expect_in(buf, "<auth id=\"main\">");
	expect_in(buf, "<form method=\"post\" action=\"/auth\">");
	expect_in(buf, "<input type=\"text\" name=\"username\" label=\"Username:\" />");
	expect_in(buf, "<input type=\"password\" name=\"password\" label=\"Password:\" />");
	expect_in(buf, "</form></auth>");
	ck_assert_ptr_null(strstr(buf, "<message>"));
	ck_assert_ptr_nonnull(strstr(buf, "</config-auth>"));
	/* Well-formed by our own parser's standards. */
	ck_assert_int_eq(parse(buf), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);

	ck_assert_int_eq(authxml_write_form(buf, sizeof(buf), ""), n);
	ck_assert_ptr_null(strstr(buf, "<message>"));
}
END_TEST

START_TEST(test_write_form_message)
{
	char buf[2048];
	int n = authxml_write_form(buf, sizeof(buf), "Login failed: <bad> & \"quoted\" 'x'");

	ck_assert_int_gt(n, 0);
	expect_in(buf, "<message>Login failed: &lt;bad&gt; &amp; &quot;quoted&quot; &apos;x&apos;"
		       "</message>");
	ck_assert(strstr(buf, "<message>") < strstr(buf, "<form "));
	ck_assert(strstr(buf, "<auth id=\"main\">") < strstr(buf, "<message>"));
	ck_assert_int_eq(parse(buf), 0);

	ck_assert_int_eq(authxml_write_form(buf, sizeof(buf), "bell\a"), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_write_success)
{
	char buf[1024];
	int n = authxml_write_success(buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
	expect_in(buf, "<config-auth client=\"vpn\" type=\"complete\">");
	expect_in(buf, "<auth id=\"success\">");
	ck_assert_ptr_null(strstr(buf, "<form"));
	ck_assert_int_eq(parse(buf), 0);
}
END_TEST

/* Every capacity short of length + 1 fails and leaves an empty string;
 * exactly length + 1 succeeds. */
START_TEST(test_small_caps)
{
	char full[2048], buf[2048];
	int n, cap;

	n = authxml_write_form(full, sizeof(full), "hi & bye");
	for (cap = 0; cap <= n; cap++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(authxml_write_form(buf, (size_t)cap, "hi & bye"), -1);
		if (cap > 0)
			ck_assert_int_eq(buf[0], '\0');
		ck_assert_int_eq(buf[cap], 'Z');
	}
	ck_assert_int_eq(authxml_write_form(buf, (size_t)n + 1, "hi & bye"), n);
	ck_assert_str_eq(buf, full);

	n = authxml_write_success(full, sizeof(full));
	for (cap = 0; cap <= n; cap++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(authxml_write_success(buf, (size_t)cap), -1);
		ck_assert_int_eq(buf[cap], 'Z');
	}
	ck_assert_int_eq(authxml_write_success(buf, (size_t)n + 1), n);
	ck_assert_str_eq(buf, full);

	for (cap = 0; cap <= 6; cap++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(authxml_escape("a<b", buf, (size_t)cap), -1);
		ck_assert_int_eq(buf[cap], 'Z');
	}
	ck_assert_int_eq(authxml_escape("a<b", buf, 7), 6);
	ck_assert_str_eq(buf, "a&lt;b");
}
END_TEST

START_TEST(test_escape)
{
	char buf[256];

	ck_assert_int_eq(authxml_escape("a&b<c>d\"e'f", buf, sizeof(buf)), 31);
	ck_assert_str_eq(buf, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	ck_assert_int_eq(authxml_escape("", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(authxml_escape("plain \xc3\xa9 text\t\n", buf, sizeof(buf)), 15);
	ck_assert_str_eq(buf, "plain \xc3\xa9 text\t\n");
	ck_assert_int_eq(authxml_escape("&amp;", buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "&amp;amp;");
	ck_assert_int_eq(authxml_escape("a\x01", buf, sizeof(buf)), -1);
	ck_assert_int_eq(authxml_escape("\x1f", buf, sizeof(buf)), -1);
}
END_TEST

/* What we escape, we decode back to the same bytes. */
START_TEST(test_escape_round_trip)
{
	const char *pw = "p<a>s&s\"w'o\xc3\xb6rd &amp;";
	char esc[256];

	ck_assert_int_gt(authxml_escape(pw, esc, sizeof(esc)), 0);
	ck_assert_str_eq(password_of(esc), pw);
}
END_TEST

void authxml_writer_tests(TCase *writers)
{
	tcase_add_test(writers, test_write_form);
	tcase_add_test(writers, test_write_form_message);
	tcase_add_test(writers, test_write_success);
	tcase_add_test(writers, test_small_caps);
	tcase_add_test(writers, test_escape);
	tcase_add_test(writers, test_escape_round_trip);
}
