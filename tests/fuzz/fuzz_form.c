/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the login form parsers: common/formenc.c (the
 * legacy form login's urlencoded bodies) and the answers authxml_parse()
 * keeps from an XML auth-reply.  Checks: a refused body leaves the result
 * wiped; every kept text is NUL-terminated inside its array; answer names
 * are [A-Za-z0-9_-], unique and not username/password; a user name with a
 * control character is refused with nothing secret kept; and what the
 * urlencoded parser accepted, encoded again, parses back to the same. */
#include "config.h"
#include "common/authxml.h"
#include "common/formenc.h"

#include <stdio.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void check_text(const char *f, size_t cap)
{
	FUZZ_ASSERT(memchr(f, '\0', cap) != NULL);
}

static void check_answers(const struct authxml *ax)
{
	FUZZ_ASSERT(ax->n_ans <= AUTHXML_MAX_ANSWERS);
	for (unsigned i = 0; i < ax->n_ans; i++) {
		const char *n = ax->ans[i].name;

		check_text(n, sizeof(ax->ans[i].name));
		check_text(ax->ans[i].value, sizeof(ax->ans[i].value));
		FUZZ_ASSERT(n[0] && strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789_-") == strlen(n));
		FUZZ_ASSERT(strcmp(n, "username") && strcmp(n, "password"));
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(n, ax->ans[j].name));
	}
}

static void check_result(const struct authxml *ax, int r)
{
	static const struct authxml zero = {.type = AUTHXML_OTHER};

	FUZZ_ASSERT(r == 0 || r == -1 || r == AUTHXML_BAD_USER);
	if (r == -1) {
		FUZZ_ASSERT(memcmp(ax, &zero, sizeof(*ax)) == 0);
		return;
	}
	check_text(ax->username, sizeof(ax->username));
	check_text(ax->password, sizeof(ax->password));
	check_text(ax->group, sizeof(ax->group));
	check_answers(ax);
	if (r == AUTHXML_BAD_USER) {
		FUZZ_ASSERT(has_control(ax->username) && !ax->have_password);
		FUZZ_ASSERT(!ax->password[0] && !ax->n_ans);
		return;
	}
	FUZZ_ASSERT(!ax->have_username || !has_control(ax->username));
}

/* name=value, every byte but alphanumerics escaped. */
static size_t put(char *out, size_t cap, size_t n, const char *name, const char *value)
{
	const char *s[2] = {name, value};

	for (int k = 0; k < 2; k++) {
		if (k == 0 && n)
			out[n++] = '&';
		else if (k == 1)
			out[n++] = '=';
		for (const unsigned char *p = (const unsigned char *)s[k]; *p; p++) {
			FUZZ_ASSERT(n + 4 < cap);
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9'))
				out[n++] = (char)*p;
			else
				n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
		}
	}
	return n;
}

static void round_trip(const struct authxml *ax)
{
	static char body[AUTHXML_MAX_FIELD * 3 * 8 + 512];
	struct authxml back;
	size_t n = 0;

	if (ax->have_username)
		n = put(body, sizeof(body), n, "username", ax->username);
	if (ax->have_password)
		n = put(body, sizeof(body), n, "password", ax->password);
	for (unsigned i = 0; i < ax->n_ans; i++)
		n = put(body, sizeof(body), n, ax->ans[i].name, ax->ans[i].value);
	FUZZ_ASSERT(formenc_parse(body, n, &back) == 0);
	FUZZ_ASSERT(back.have_username == ax->have_username &&
		    !strcmp(back.username, ax->username));
	FUZZ_ASSERT(back.have_password == ax->have_password &&
		    !strcmp(back.password, ax->password));
	FUZZ_ASSERT(back.n_ans == ax->n_ans);
	for (unsigned i = 0; i < ax->n_ans; i++)
		FUZZ_ASSERT(!strcmp(back.ans[i].name, ax->ans[i].name) &&
			    !strcmp(back.ans[i].value, ax->ans[i].value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authxml ax;
	int r;

	r = formenc_parse((const char *)data, size, &ax);
	check_result(&ax, r);
	if (r == 0) {
		FUZZ_ASSERT(ax.type == AUTHXML_REPLY || ax.type == AUTHXML_INIT);
		round_trip(&ax);
	}
	r = authxml_parse((const char *)data, size, &ax);
	check_result(&ax, r);
	if (r == 0 && ax.type != AUTHXML_REPLY)
		FUZZ_ASSERT(ax.n_ans == 0);
	return 0;
}
