/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker (unprivileged), login phase: the legacy form login's request
 * bodies (see formenc.h).  Owns nothing; one pass over the body, no
 * allocation. */
#include "config.h"
#include "common/formenc.h"

#include <stdbool.h>
#include <string.h>

#include "common/hex.h"

struct pair {
	const char *p; /* the raw pair, "name=value" */
	size_t n;
};

/* Decode raw[0..n) (%XX, '+') into dst of cap bytes, NUL-terminated.
 * Length, or -1 (too long, a NUL, a broken escape). */
static long decode(const char *raw, size_t n, char *dst, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n) {
		int c = (unsigned char)raw[i++];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 2 || hex_digit(raw[i]) < 0 || hex_digit(raw[i + 1]) < 0)
				return -1;
			c = hex_digit(raw[i]) << 4 | hex_digit(raw[i + 1]);
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return (long)o;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Where the value of name goes: a field, or a new answer slot; NULL for
 * a name we do not keep.  *seen tells a second occurrence. */
static char *slot_for(struct authxml *out, const char *name, bool *seen, bool *dup)
{
	*dup = false;
	if (!strcmp(name, "username")) {
		*dup = out->have_username;
		out->have_username = true;
		return out->username;
	}
	if (!strcmp(name, "password")) {
		*dup = out->have_password;
		out->have_password = true;
		return out->password;
	}
	if (!strcmp(name, "group_list")) {
		*dup = seen[AUTHXML_MAX_ANSWERS];
		seen[AUTHXML_MAX_ANSWERS] = true;
		return out->group;
	}
	for (unsigned i = 0; i < out->n_ans; i++)
		if (!strcmp(out->ans[i].name, name)) {
			*dup = true;
			return out->ans[i].value;
		}
	if (out->n_ans == AUTHXML_MAX_ANSWERS)
		return NULL;
	for (const char *c = name; *c; c++)
		if (!name_char(*c))
			return NULL;
	strcpy(out->ans[out->n_ans].name, name);
	return out->ans[out->n_ans++].value;
}

static int one_pair(struct pair pr, struct authxml *out, bool *seen)
{
	const char *eq = memchr(pr.p, '=', pr.n);
	char name[AUTHXML_MAX_NAME], *dst;
	size_t nn = eq ? (size_t)(eq - pr.p) : pr.n;
	bool dup;

	if (pr.n == 0)
		return 0; /* "a=1&&b=2" */
	if (nn == 0)
		return -1; /* "=value" */
	if (decode(pr.p, nn, name, sizeof(name)) < 0)
		return 0; /* a name we could not keep anyway: skipped */
	dst = slot_for(out, name, seen, &dup);
	if (dup)
		return -1;
	if (!dst)
		return 0;
	return decode(eq ? eq + 1 : pr.p + pr.n, eq ? pr.n - nn - 1 : 0, dst, AUTHXML_MAX_FIELD) < 0
		   ? -1
		   : 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int formenc_parse(const char *body, size_t len, struct authxml *out)
{
	bool seen[AUTHXML_MAX_ANSWERS + 1] = {false};
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	out->type = AUTHXML_OTHER;
	/* A form body is printable ASCII: anything else (XML, binary) is
	 * not one. */
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)body[k] <= ' ' || (unsigned char)body[k] > '~' || body[k] == '<')
			goto fail;
	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		struct pair pr = {body + i, end - i};

		if (one_pair(pr, out, seen) < 0)
			goto fail;
		i = end + 1;
	}
	out->type =
	    out->have_username || out->have_password || out->n_ans || seen[AUTHXML_MAX_ANSWERS]
		? AUTHXML_REPLY
		: AUTHXML_INIT;
	if (out->have_username && has_control(out->username)) {
		explicit_bzero(out->password, sizeof(out->password));
		explicit_bzero(out->ans, sizeof(out->ans));
		out->have_password = false;
		out->n_ans = 0;
		return AUTHXML_BAD_USER;
	}
	return 0;
fail:
	explicit_bzero(out, sizeof(*out));
	out->type = AUTHXML_OTHER;
	return -1;
}
