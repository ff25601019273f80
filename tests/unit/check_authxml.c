/* Unit tests for common/authxml.c, run by `make check`: the client's
 * documents (PROTOCOL.md 2.2, 2.5), entity decoding, hostile and broken
 * input, and the server's documents.  Inputs live in exact-size heap
 * copies with no NUL after them, so an over-read shows up. */
#include "config.h"
#include "tests/unit/check_authxml.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* PROTOCOL.md 2.2. */
#define INIT_DOC                                                                                   \
	XML_DECL                                                                                   \
	"<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\"><version "         \
	"who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id><capabilities><auth-"         \
	"method>single-sign-on-v2</auth-method><auth-method>single-sign-on-external-browser</"     \
	"auth-method></capabilities><group-access>https://127.0.0.1:4443/</group-access></"        \
	"config-auth>\n"

/* PROTOCOL.md 2.5, with the optional parts present. */
#define REPLY_HEAD                                                                                 \
	XML_DECL                                                                                   \
	"<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\"><version "   \
	"who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id><capabilities><auth-"         \
	"method>single-sign-on-v2</auth-method></capabilities><opaque is-for=\"sg\"><tunnel-"      \
	"group>g</tunnel-group><username>not-this</username><config-hash>1</config-hash></"        \
	"opaque>"
#define REPLY_DOC                                                                                  \
	REPLY_HEAD "<auth><username>testuser</username><password>test123</password></auth><group-" \
		   "select>G</group-select></config-auth>"

struct authxml ax;
char *heap_copy;

void teardown(void)
{
	free(heap_copy);
	heap_copy = NULL;
}

int parse_n(const char *doc, size_t n)
{
	free(heap_copy);
	heap_copy = malloc(n > 0 ? n : 1);
	ck_assert_ptr_nonnull(heap_copy);
	memcpy(heap_copy, doc, n);
	return authxml_parse(heap_copy, n, &ax);
}

int parse(const char *doc)
{
	return parse_n(doc, strlen(doc));
}

/* An auth-reply whose <auth> holds the given XML. */
int parse_auth(const char *inner)
{
	char doc[8192];

	snprintf(doc, sizeof(doc),
		 XML_DECL "<config-auth client=\"vpn\" type=\"auth-reply\"><auth>%s</auth>"
			  "</config-auth>",
		 inner);
	return parse(doc);
}

/* The password decoded from <password>text</password>, or NULL on -1. */
const char *password_of(const char *text)
{
	char inner[4096];

	snprintf(inner, sizeof(inner), "<username>u</username><password>%s</password>", text);
	if (parse_auth(inner) < 0)
		return NULL;
	ck_assert(ax.have_password);
	return ax.password;
}

bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

START_TEST(test_init_document)
{
	ck_assert_int_eq(parse(INIT_DOC), 0);
	ck_assert_int_eq(ax.type, AUTHXML_INIT);
	ck_assert(!ax.have_username);
	ck_assert(!ax.have_password);
	ck_assert_str_eq(ax.username, "");
	ck_assert_str_eq(ax.password, "");
	ck_assert_str_eq(ax.group, "");
}
END_TEST

START_TEST(test_reply_document)
{
	ck_assert_int_eq(parse(REPLY_DOC), 0);
	ck_assert_int_eq(ax.type, AUTHXML_REPLY);
	ck_assert(ax.have_username);
	ck_assert(ax.have_password);
	ck_assert_str_eq(ax.username, "testuser");
	ck_assert_str_eq(ax.password, "test123");
	ck_assert_str_eq(ax.group, "G");
}
END_TEST

/* The same document as the client's libxml2 might lay it out. */
START_TEST(test_reply_pretty)
{
	const char *doc = "\xef\xbb\xbf<?xml version='1.0'?>\n"
			  "<!-- sent by a test -->\n"
			  "<config-auth\n\tclient = 'vpn'\n\ttype = 'auth-reply' >\n"
			  "  <version who=\"vpn\">v9.12</version>\n"
			  "  <auth>\n"
			  "    <username >alice</username >\n"
			  "    <password>s3cret</password>\n"
			  "  </auth>\n"
			  "  <client-cert-fail/>\n"
			  "</config-auth >\n"
			  "<!-- trailing comment -->\n\n";

	ck_assert_int_eq(parse(doc), 0);
	ck_assert_int_eq(ax.type, AUTHXML_REPLY);
	ck_assert_str_eq(ax.username, "alice");
	ck_assert_str_eq(ax.password, "s3cret");
}
END_TEST

START_TEST(test_types)
{
	ck_assert_int_eq(parse("<config-auth type=\"logout\"/>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_LOGOUT);
	ck_assert_int_eq(parse("<config-auth type='init'></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_INIT);
	ck_assert_int_eq(parse("<config-auth type=\"auth-request\"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	ck_assert_int_eq(parse("<config-auth type=\"INIT\"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	ck_assert_int_eq(parse("<config-auth type=\"init \"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	ck_assert_int_eq(parse("<config-auth client=\"vpn\"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	/* Only the root's attribute counts. */
	ck_assert_int_eq(parse("<config-auth><auth type=\"init\"/></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	/* An attribute merely ending in "type". */
	ck_assert_int_eq(parse("<config-auth xtype=\"init\"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_OTHER);
}
END_TEST

START_TEST(test_named_entities)
{
	ck_assert_str_eq(password_of("a&amp;b&lt;c&gt;d&quot;e&apos;f"), "a&b<c>d\"e'f");
	ck_assert_str_eq(password_of("&amp;amp;"), "&amp;");
	ck_assert_str_eq(password_of("&lt;/password&gt;"), "</password>");
	ck_assert_str_eq(password_of("&lt;"), "<");
	/* Raw '>', quotes and apostrophes need no escaping in text. */
	ck_assert_str_eq(password_of("a>b\"c'd"), "a>b\"c'd");
}
END_TEST

START_TEST(test_numeric_entities)
{
	ck_assert_str_eq(password_of("&#65;&#x42;&#x63;"), "ABc");
	ck_assert_str_eq(password_of("&#xe9;&#233;"), "\xc3\xa9\xc3\xa9");
	ck_assert_str_eq(password_of("&#x7FF;&#x800;"), "\xdf\xbf\xe0\xa0\x80");
	ck_assert_str_eq(password_of("&#x20AC;"), "\xe2\x82\xac");
	ck_assert_str_eq(password_of("&#xFFFD;"), "\xef\xbf\xbd");
	ck_assert_str_eq(password_of("&#x1F600;"), "\xf0\x9f\x98\x80");
	ck_assert_str_eq(password_of("&#x10FFFF;&#1114111;"), "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf");
	ck_assert_str_eq(password_of("&#9;&#10;&#13;&#32;"), "\t\n\r ");
	ck_assert_str_eq(password_of("&#0000065;&#x000041;"), "AA");
}
END_TEST

START_TEST(test_bad_entities)
{
	static const char *const bad[] = {
	    "&#0;",	   "&#x0;",	  "&#1;",	    "&#x1F;",	     "&#xD800;", "&#xDFFF;",
	    "&#xFFFE;",	   "&#xFFFF;",	  "&#x110000;",	    "&#1114112;",    "&#;",	 "&#x;",
	    "&#X41;",	   "&#x4G;",	  "&#6a;",	    "&#-65;",	     "&#+65;",	 "&# 65;",
	    "&#00000065;", "&#x0000041;", "&#99999999999;", "&#xFFFFFFFFF;", "&foo;",	 "&AMP;",
	    "&amp",	   "&;",	  "& amp;",	    "a&b",	     "&",	 "&#65",
	    "&nbsp;",	   "&#x41",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(password_of(bad[i]) == NULL, "accepted %s", bad[i]);
	/* A bad entity also fails the document when elsewhere in <auth>. */
	ck_assert_int_eq(parse_auth("<username>&#0;</username>"), -1);
	ck_assert_int_eq(parse("<config-auth><group-select>&bogus;</group-select></config-auth>"),
			 -1);
}
END_TEST

START_TEST(test_raw_bytes)
{
	/* UTF-8 passes through untouched, spaces are kept. */
	ck_assert_str_eq(password_of("p\xc3\xa4sswo\xcc\x88rd"), "p\xc3\xa4sswo\xcc\x88rd");
	ck_assert_str_eq(password_of("  a b\t "), "  a b\t ");
	ck_assert_str_eq(password_of(""), "");
	/* Control characters cannot appear in XML. */
	ck_assert_ptr_null(password_of("a\x01z"));
	ck_assert_ptr_null(password_of("a\x1fz"));
	ck_assert_ptr_null(password_of("\x1b[0m"));
}
END_TEST

/* SECURITY-REVIEW #2: a user name with a control character, raw or as an
 * entity, is refused once decoded; the name is kept for the log line
 * (which escapes it), the password is not. */
START_TEST(test_control_in_user)
{
	static const char *const bad[] = {
	    "x&#10;&lt;0&gt;EMERG",
	    "a&#13;b",
	    "a&#9;b",
	    "a\tb",
	    "a\nb",
	    "a\rb",
	    "a\x7f",
	    "&#x7F;",
	    "\n",
	};
	char inner[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(inner, sizeof(inner), "<username>%s</username><password>secret</password>",
			 bad[i]);
		ck_assert_msg(parse_auth(inner) == AUTHXML_BAD_USER, "accepted %s", bad[i]);
		ck_assert(ax.have_username);
		ck_assert(!ax.have_password);
		ck_assert(all_zero(ax.password, sizeof(ax.password)));
	}
	ck_assert_int_eq(parse_auth("<username>x&#10;&lt;0&gt;y</username>"), AUTHXML_BAD_USER);
	ck_assert_str_eq(ax.username, "x\n<0>y");
	/* In the password they are the user's business. */
	ck_assert_str_eq(password_of("a&#10;b\tc"), "a\nb\tc");
	/* Printable names, UTF-8 included, pass. */
	ck_assert_int_eq(parse_auth("<username>J\xc3\xbcrgen M&amp;M</username>"), 0);
	ck_assert_str_eq(ax.username, "J\xc3\xbcrgen M&M");
}
END_TEST

START_TEST(test_nul_in_field)
{
	static const char doc[] = "<config-auth type=\"auth-reply\"><auth><username>a</username>"
				  "<password>sec\0ret</password></auth></config-auth>";

	ck_assert_int_eq(parse_n(doc, sizeof(doc) - 1), -1);
	ck_assert(!ax.have_password);
	ck_assert(!ax.have_username);
}
END_TEST

START_TEST(test_missing_fields)
{
	ck_assert_int_eq(parse_auth("<username>bob</username>"), 0);
	ck_assert(ax.have_username);
	ck_assert(!ax.have_password);
	ck_assert_str_eq(ax.username, "bob");

	ck_assert_int_eq(parse_auth("<password>pw</password>"), 0);
	ck_assert(!ax.have_username);
	ck_assert(ax.have_password);
	ck_assert_str_eq(ax.password, "pw");

	ck_assert_int_eq(parse_auth(""), 0);
	ck_assert(!ax.have_username);
	ck_assert(!ax.have_password);

	/* Present but empty is not missing. */
	ck_assert_int_eq(parse_auth("<username/><password></password>"), 0);
	ck_assert(ax.have_username);
	ck_assert(ax.have_password);
	ck_assert_str_eq(ax.username, "");
	ck_assert_str_eq(ax.password, "");
}
END_TEST

/* Fields count only in their place: username/password as children of
 * <auth> under the root, group-select as a child of the root. */
START_TEST(test_field_placement)
{
	ck_assert_int_eq(parse("<config-auth><username>u</username><password>p</password>"
			       "</config-auth>"),
			 0);
	ck_assert(!ax.have_username);
	ck_assert(!ax.have_password);

	ck_assert_int_eq(parse_auth("<opaque><username>u</username></opaque>"), 0);
	ck_assert(!ax.have_username);

	ck_assert_int_eq(parse("<config-auth><opaque><auth><password>p</password></auth></opaque>"
			       "</config-auth>"),
			 0);
	ck_assert(!ax.have_password);

	ck_assert_int_eq(parse_auth("<group-select>g</group-select>"), 0);
	ck_assert_str_eq(ax.group, "");

	ck_assert_int_eq(parse("<config-auth><Auth><username>u</username></Auth></config-auth>"),
			 0);
	ck_assert(!ax.have_username);

	ck_assert_int_eq(parse_auth("<new_password>x</new_password><passwordx>y</passwordx>"), 0);
	ck_assert(!ax.have_password);
}
END_TEST

START_TEST(test_tags_inside_values)
{
	ck_assert_int_eq(parse_auth("<username>a<password>b</password></username>"), -1);
	ck_assert(!ax.have_password);
	ck_assert_int_eq(parse_auth("<password>a<b/>c</password>"), -1);
	ck_assert_int_eq(parse("<config-auth><group-select><auth/></group-select></config-auth>"),
			 -1);
	/* Escaped markup is just text. */
	ck_assert_int_eq(parse_auth("<username>&lt;password&gt;x&lt;/password&gt;</username>"), 0);
	ck_assert_str_eq(ax.username, "<password>x</password>");
	ck_assert(!ax.have_password);
}
END_TEST

START_TEST(test_duplicate_fields)
{
	ck_assert_int_eq(parse_auth("<username>a</username><username>b</username>"), -1);
	ck_assert_int_eq(parse_auth("<password>a</password><password/>"), -1);
	ck_assert_int_eq(parse("<config-auth><group-select>a</group-select><group-select>b"
			       "</group-select></config-auth>"),
			 -1);
}
END_TEST

START_TEST(test_comments_and_cdata)
{
	ck_assert_str_eq(password_of("ab<!-- c -->cd"), "abcd");
	ck_assert_str_eq(password_of("<!-- <password>x</password> -->p"), "p");
	ck_assert_str_eq(password_of("<![CDATA[a<b&c]]>"), "a<b&c");
	ck_assert_str_eq(password_of("x<![CDATA[]]>y<![CDATA[&amp;]]>"), "xy&amp;");
	ck_assert_str_eq(password_of("<?pi stuff?>q"), "q");
	ck_assert_ptr_null(password_of("<![CDATA[abc"));
	ck_assert_ptr_null(password_of("<![CDATA[a\x01]]>"));
	ck_assert_ptr_null(password_of("<!-- open"));
	ck_assert_int_eq(parse("<![CDATA[x]]><config-auth/>"), -1);
}
END_TEST

static void fill(char *out, char c, size_t n)
{
	memset(out, c, n);
	out[n] = '\0';
}

START_TEST(test_field_length)
{
	char val[AUTHXML_MAX_FIELD * 9];
	size_t i;

	fill(val, 'x', AUTHXML_MAX_FIELD - 1);
	ck_assert_str_eq(password_of(val), val);
	fill(val, 'x', AUTHXML_MAX_FIELD);
	ck_assert_ptr_null(password_of(val));
	fill(val, 'x', sizeof(val) - 1);
	ck_assert_ptr_null(password_of(val));

	/* The limit is on the decoded text: 85 euro signs are 255 bytes. */
	val[0] = '\0';
	for (i = 0; i < 85; i++)
		strcat(val, "&#x20AC;");
	ck_assert_uint_eq(strlen(password_of(val)), 255);
	strcat(val, "&#x20AC;");
	ck_assert_ptr_null(password_of(val));
	/* A multi-byte character may not straddle the limit either. */
	fill(val, 'x', AUTHXML_MAX_FIELD - 4);
	strcat(val, "&#x20AC;");
	ck_assert_uint_eq(strlen(password_of(val)), 255);
	fill(val, 'x', AUTHXML_MAX_FIELD - 3);
	strcat(val, "&#x20AC;");
	ck_assert_ptr_null(password_of(val));
}
END_TEST

START_TEST(test_other_field_lengths)
{
	char val[AUTHXML_MAX_FIELD + 1], doc[AUTHXML_MAX_FIELD + 128];

	fill(val, 'u', AUTHXML_MAX_FIELD - 1);
	snprintf(doc, sizeof(doc), "<username>%s</username>", val);
	ck_assert_int_eq(parse_auth(doc), 0);
	ck_assert_str_eq(ax.username, val);
	fill(val, 'u', AUTHXML_MAX_FIELD);
	snprintf(doc, sizeof(doc), "<username>%s</username>", val);
	ck_assert_int_eq(parse_auth(doc), -1);

	fill(val, 'g', AUTHXML_MAX_FIELD - 1);
	snprintf(doc, sizeof(doc), "<config-auth><group-select>%s</group-select></config-auth>",
		 val);
	ck_assert_int_eq(parse(doc), 0);
	ck_assert_str_eq(ax.group, val);
	fill(val, 'g', AUTHXML_MAX_FIELD);
	snprintf(doc, sizeof(doc), "<config-auth><group-select>%s</group-select></config-auth>",
		 val);
	ck_assert_int_eq(parse(doc), -1);
}
END_TEST

/* No prefix of a document is a document: fields never come out of a
 * truncated body, and what was decoded before the cut is wiped.  Tried in
 * place too, where reading past len would find the rest. */
START_TEST(test_truncated)
{
	size_t n = strlen(REPLY_DOC), i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(parse_n(REPLY_DOC, i) == -1, "prefix of %zu bytes accepted", i);
		ck_assert_msg(authxml_parse(REPLY_DOC, i, &ax) == -1, "in place: %zu", i);
		ck_assert(!ax.have_username);
		ck_assert(!ax.have_password);
		ck_assert(all_zero(ax.password, sizeof(ax.password)));
		ck_assert(all_zero(ax.username, sizeof(ax.username)));
	}
	ck_assert_int_eq(parse_n(REPLY_DOC, n), 0);
}
END_TEST

START_TEST(test_not_xml)
{
	static const char *const docs[] = {
	    "",
	    "   \n",
	    "username=testuser&password=test123",
	    "{\"username\": \"a\"}",
	    "<?xml version=\"1.0\"?>",
	    "<?xml version=\"1.0\"?>\n<html><body>hi</body></html>",
	    "<auth><username>u</username></auth>",
	    "<config-authx type=\"init\"/>",
	    "<Config-Auth type=\"init\"/>",
	    "x<config-auth type=\"init\"/>",
	    "<config-auth type=\"init\"/>trailing",
	    "<config-auth type=\"init\"/><config-auth/>",
	    "<config-auth></config-auth></config-auth>",
	    "<config-auth><auth></config-auth></auth>",
	    "<config-auth><auth></auth>",
	    "<config-auth",
	    "<",
	    "</config-auth>",
	    "< config-auth/>",
	    "<config-auth type=init/>",
	    "<config-auth type/>",
	    "<config-auth type=\"init/>",
	    "<config-auth type=\"init\"client=\"vpn\"/>",
	    "<config-auth type=\"init\"/ >",
	    "<!DOCTYPE x [<!ENTITY e \"v\">]><config-auth/>",
	    "<config-auth><!DOCTYPE x></config-auth>",
	    "<?xml version=\"1.0\"<config-auth/>",
	    "<config-auth></config-auth",
	    "<config-auth><a></b></config-auth>",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		ck_assert_msg(parse(docs[i]) == -1, "accepted %s", docs[i]);
		ck_assert_int_eq(ax.type, AUTHXML_OTHER);
	}
	/* Binary junk. */
	{
		unsigned char junk[256];

		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(i * 37 + 11);
		ck_assert_int_eq(parse_n((const char *)junk, sizeof(junk)), -1);
	}
}
END_TEST

START_TEST(test_attributes)
{
	ck_assert_int_eq(parse("<config-auth a=\"x>y\" b='<z' type=\"init\"></config-auth>"), 0);
	ck_assert_int_eq(ax.type, AUTHXML_INIT);
	ck_assert_int_eq(parse("<config-auth type=\"init\" t2='a\"b'/>"), 0);
	ck_assert_int_eq(parse_auth("<username a=\"1\" b='2'>u</username>"), 0);
	ck_assert_str_eq(ax.username, "u");
}
END_TEST

START_TEST(test_depth)
{
	char doc[1024];
	int i;

	strcpy(doc, "<config-auth>");
	for (i = 0; i < 31; i++)
		strcat(doc, "<a>");
	for (i = 0; i < 31; i++)
		strcat(doc, "</a>");
	strcat(doc, "</config-auth>");
	ck_assert_int_eq(parse(doc), 0);

	strcpy(doc, "<config-auth>");
	for (i = 0; i < 32; i++)
		strcat(doc, "<a>");
	for (i = 0; i < 32; i++)
		strcat(doc, "</a>");
	strcat(doc, "</config-auth>");
	ck_assert_int_eq(parse(doc), -1);
}
END_TEST

static Suite *authxml_suite(void)
{
	Suite *s = suite_create("authxml");
	TCase *docs = tcase_create("client documents");
	TCase *hostile = tcase_create("hostile input");
	TCase *writers = tcase_create("writers");

	tcase_add_checked_fixture(docs, NULL, teardown);
	tcase_add_test(docs, test_init_document);
	tcase_add_test(docs, test_reply_document);
	tcase_add_test(docs, test_reply_pretty);
	tcase_add_test(docs, test_types);
	tcase_add_test(docs, test_named_entities);
	tcase_add_test(docs, test_numeric_entities);
	tcase_add_test(docs, test_raw_bytes);
	tcase_add_test(docs, test_missing_fields);
	tcase_add_test(docs, test_field_placement);
	tcase_add_test(docs, test_comments_and_cdata);
	tcase_add_test(docs, test_attributes);
	suite_add_tcase(s, docs);

	tcase_add_checked_fixture(hostile, NULL, teardown);
	tcase_add_test(hostile, test_bad_entities);
	tcase_add_test(hostile, test_control_in_user);
	tcase_add_test(hostile, test_nul_in_field);
	tcase_add_test(hostile, test_tags_inside_values);
	tcase_add_test(hostile, test_duplicate_fields);
	tcase_add_test(hostile, test_field_length);
	tcase_add_test(hostile, test_other_field_lengths);
	tcase_add_test(hostile, test_truncated);
	tcase_add_test(hostile, test_not_xml);
	tcase_add_test(hostile, test_depth);
	suite_add_tcase(s, hostile);

	tcase_add_checked_fixture(writers, NULL, teardown);
	authxml_writer_tests(writers);
	suite_add_tcase(s, writers);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(authxml_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
