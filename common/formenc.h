/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The legacy login (openconnect --no-xmlpost, old clients): a form posted
 * as application/x-www-form-urlencoded.  Buffers in, the same struct
 * authxml out as the XML parser, so the rest of the login does not care
 * which the client spoke. */
#ifndef TUNNELD_FORMENC_H
#define TUNNELD_FORMENC_H

#include <stddef.h>

#include "common/authxml.h"

/* Parse "name=value&..." (%XX and '+' decoded).  username, password and
 * group_list go to their fields, other names (of [A-Za-z0-9_-]) to the
 * answers; a name given twice, a value over AUTHXML_MAX_FIELD - 1 bytes,
 * a NUL, a bad escape or a body that is not a form at all (XML, say) is
 * -1 (*out wiped).  type is AUTHXML_REPLY when any field came, else
 * AUTHXML_INIT.  AUTHXML_BAD_USER as authxml_parse().  No allocation. */
int formenc_parse(const char *body, size_t len, struct authxml *out);

#endif
