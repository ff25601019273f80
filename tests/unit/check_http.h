/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the parts of tests/unit/check_http share: the parser's limits and
 * request, parsing from exact-size heap copies (check_http.c), and each
 * part's list of tests. */
#ifndef TUNNELD_CHECK_HTTP_H
#define TUNNELD_CHECK_HTTP_H

#include "common/http.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

extern struct http_limits lim;
extern struct http_req req;
extern char *heap_copy;

void setup(void);
void teardown(void);
long parse_n(const char *text, size_t n);
long parse(const char *text);
bool str_is(struct http_str s, const char *lit);
void expect_ok(const char *text);
void expect_error(const char *text, int status);
void build_header_of_size(char *out, size_t size); /* check_http_fields.c */

/* The tests of each part, added to their test cases in the suite's order. */
void http_syntax_tests(TCase *syntax); /* check_http_syntax.c */
void http_limits_tests(TCase *limits); /* check_http_fields.c */
void http_fields_tests(TCase *fields); /* check_http_fields.c */

#endif
