/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lists of group names, comma-separated ("staff,eng"): the groups a
 * login form offers (auth.group-list), a user's groups (the backends').
 * A name is 1 to GROUPLIST_NAME_MAX - 1 bytes of [A-Za-z0-9_.-]. */
#ifndef TUNNELD_GROUPLIST_H
#define TUNNELD_GROUPLIST_H

#include <stdbool.h>
#include <stddef.h>

#define GROUPLIST_NAME_MAX 64  /* SESS_GROUP_MAX */
#define GROUPLIST_LIST_MAX 256 /* SESS_GROUPS_MAX, IPC_GROUPS_MAX */

/* Whether name is one group name. */
bool group_name_ok(const char *name);
/* Whether list is one or more names, each once, commas between them,
 * within size bytes (with the NUL). */
bool grouplist_ok(const char *list, size_t size);
/* Whether name is one of list's (exact match; never for ""). */
bool grouplist_has(const char *list, const char *name);
/* list with name first (moved there, or put there when list lacks it)
 * into out, size bytes; list as it is when name is "" or the result does
 * not fit.  A choice among the groups ("the first the config defines")
 * then falls on name. */
void grouplist_first(const char *list, const char *name, char *out, size_t size);

#endif
