/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lists of group names (see grouplist.h). */
#include "config.h"
#include "common/grouplist.h"

#include <stdio.h>
#include <string.h>

static const char NAME_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789_.-";

bool group_name_ok(const char *name)
{
	size_t n = strspn(name, NAME_CHARS);

	return n > 0 && n < GROUPLIST_NAME_MAX && name[n] == '\0';
}

/* The length of the name at p (up to a comma or the end), or 0 when it
 * is not a valid one. */
static size_t name_at(const char *p)
{
	size_t n = strspn(p, NAME_CHARS);

	return n > 0 && n < GROUPLIST_NAME_MAX && (p[n] == ',' || p[n] == '\0') ? n : 0;
}

bool grouplist_has(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!len)
		return false;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

void grouplist_first(const char *list, const char *name, char *out, size_t size)
{
	size_t len = strlen(name), o = len;
	const char *p = list;

	if (!len || len >= size)
		goto as_is;
	memcpy(out, name, len);
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n != len || strncmp(p, name, len)) {
			if (o + 1 + n >= size)
				goto as_is;
			out[o++] = ',';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	out[o] = '\0';
	return;
as_is:
	snprintf(out, size, "%s", list);
}

bool grouplist_ok(const char *list, size_t size)
{
	const char *p = list;

	if (strnlen(list, size) >= size || !*list)
		return false;
	for (;;) {
		size_t n = name_at(p);
		const char *q = list;

		if (!n)
			return false;
		/* Each name once: none before p equals it. */
		while (q < p) {
			size_t m = strcspn(q, ",");

			if (m == n && !strncmp(q, p, n))
				return false;
			q += m + 1;
		}
		p += n;
		if (!*p)
			return true;
		p++; /* the comma; a name must follow */
	}
}
