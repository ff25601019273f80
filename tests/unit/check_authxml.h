/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the parts of tests/unit/check_authxml share: the parsed document,
 * parsing from exact-size heap copies (check_authxml.c), and the writers'
 * list of tests. */
#ifndef TUNNELD_CHECK_AUTHXML_H
#define TUNNELD_CHECK_AUTHXML_H

#include "common/authxml.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

extern struct authxml ax;
extern char *heap_copy;

void teardown(void);
int parse_n(const char *doc, size_t n);
int parse(const char *doc);
int parse_auth(const char *inner);
const char *password_of(const char *text);
bool all_zero(const void *p, size_t n);

/* The writers' tests, added to their test case (check_authxml_write.c). */
void authxml_writer_tests(TCase *writers);

#endif
