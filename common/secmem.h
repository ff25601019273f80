/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory for the master's secret tables (the session table, the cookie
 * index): pages of their own that a forked worker gets as zeros
 * (MADV_WIPEONFORK), that stay out of core dumps (MADV_DONTDUMP), and that
 * are wiped before they are given back.  Never realloc'ed: a table that
 * grows is copied and the old block wiped. */
#ifndef TUNNELD_SECMEM_H
#define TUNNELD_SECMEM_H

#include <stddef.h>

/* len zeroed bytes, or NULL with errno set. */
void *secmem_alloc(size_t len);
/* Wipe and unmap what secmem_alloc(len) returned; NULL is ignored. */
void secmem_free(void *p, size_t len);
/* In a new fork: wipe SECMEM_SCRUB_STACK bytes of stack below the caller,
 * where the parent's dead frames lie (a login's answer with its cookie,
 * vector registers saved by the dynamic linker). */
#define SECMEM_SCRUB_STACK (256u << 10)
void secmem_scrub_stack(void);

#endif
