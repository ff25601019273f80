/* libFuzzer harness for common/authxml.c: authxml_parse() on what a
 * client POSTs, and the writers.  Checks: a refused document leaves the
 * result wiped; accepted fields are NUL-terminated inside their arrays and
 * agree with the have_ flags; the fields survive authxml_escape() and a
 * second parse unchanged; and any string that escapes parses back to
 * itself inside a document (the input's start is used as one), except a
 * user name with a control character, which is refused (AUTHXML_BAD_USER)
 * with nothing kept but the name. */
#include "config.h"
#include "common/authxml.h"

#include <string.h>

#include "tests/fuzz/fuzz.h"

static const struct authxml zero_result = {.type = AUTHXML_OTHER};

/* A reply document carrying the given user, password and group. */
static int reply_doc(char *out, size_t cap, const char *user, const char *pass, const char *group)
{
	char eu[AUTHXML_MAX_FIELD * 6], ep[AUTHXML_MAX_FIELD * 6], eg[AUTHXML_MAX_FIELD * 6];
	int n;

	if (authxml_escape(user, eu, sizeof(eu)) < 0 || authxml_escape(pass, ep, sizeof(ep)) < 0 ||
	    authxml_escape(group, eg, sizeof(eg)) < 0)
		return -1;
	n = snprintf(out, cap,
		     "<?xml version=\"1.0\"?>\n<config-auth client=\"vpn\" type=\"auth-reply\">"
		     "<group-select>%s</group-select><auth><username>%s</username>"
		     "<password>%s</password></auth></config-auth>",
		     eg, eu, ep);
	FUZZ_ASSERT(n > 0 && (size_t)n < cap);
	return n;
}

static void check_field(const char *f, bool have)
{
	FUZZ_ASSERT(memchr(f, '\0', AUTHXML_MAX_FIELD) != NULL);
	if (!have)
		FUZZ_ASSERT(f[0] == '\0');
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* AUTHXML_BAD_USER keeps the user name and nothing secret. */
static void check_bad_user(const struct authxml *ax)
{
	FUZZ_ASSERT(ax->have_username && has_control(ax->username) && !ax->have_password);
	FUZZ_ASSERT(ax->password[0] == '\0' && ax->group[0] == '\0');
	check_field(ax->username, true);
}

static void round_trip(const struct authxml *ax)
{
	static char doc[AUTHXML_MAX_FIELD * 20];
	struct authxml back;
	int n = reply_doc(doc, sizeof(doc), ax->username, ax->password, ax->group), r;

	/* The parser accepts no control character the writer refuses. */
	FUZZ_ASSERT(n > 0);
	r = authxml_parse(doc, (size_t)n, &back);
	if (has_control(ax->username)) {
		/* The writer escapes TAB, LF and CR as themselves; a user name
		 * with one is refused on the way back. */
		FUZZ_ASSERT(r == AUTHXML_BAD_USER && strcmp(back.username, ax->username) == 0);
		check_bad_user(&back);
		return;
	}
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(back.type == AUTHXML_REPLY && back.have_username && back.have_password);
	FUZZ_ASSERT(strcmp(back.username, ax->username) == 0);
	FUZZ_ASSERT(strcmp(back.password, ax->password) == 0);
	FUZZ_ASSERT(strcmp(back.group, ax->group) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char form[8192];
	struct authxml ax;
	char text[AUTHXML_MAX_FIELD];
	size_t n;
	int r;

	r = authxml_parse((const char *)data, size, &ax);
	FUZZ_ASSERT(r == 0 || r == -1 || r == AUTHXML_BAD_USER);
	if (r == AUTHXML_BAD_USER) {
		check_bad_user(&ax);
	} else if (r < 0) {
		FUZZ_ASSERT(memcmp(&ax, &zero_result, sizeof(ax)) == 0);
	} else {
		FUZZ_ASSERT(!ax.have_username || !has_control(ax.username));
		FUZZ_ASSERT(ax.type >= AUTHXML_INIT && ax.type <= AUTHXML_OTHER);
		check_field(ax.username, ax.have_username);
		check_field(ax.password, ax.have_password);
		check_field(ax.group, true);
		round_trip(&ax);
	}

	/* The input's first bytes as a string: escaped, it must read back. */
	n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	r = authxml_write_form(form, sizeof(form), text);
	FUZZ_ASSERT(r == -1 || (r > 0 && (size_t)r == strlen(form)));
	if (r > 0) {
		struct authxml empty;

		/* A form is well-formed XML of another type. */
		FUZZ_ASSERT(authxml_parse(form, (size_t)r, &ax) == 0 && ax.type == AUTHXML_OTHER);
		memset(&empty, 0, sizeof(empty));
		empty.type = AUTHXML_OTHER;
		strcpy(empty.username, text);
		round_trip(&empty);
	}
	return 0;
}
