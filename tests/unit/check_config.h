/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the parts of tests/unit/check_config share: the required settings
 * as lines of text, the loaded configuration and its error message, small
 * helpers (check_config.c), and each part's list of tests. */
#ifndef TUNNELD_CHECK_CONFIG_H
#define TUNNELD_CHECK_CONFIG_H

#include "conf/config.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The required settings, one a line: a file made of BASE plus more lines
 * is valid unless the extra lines break it. */
#define L_LISTEN  "listen = [\"0.0.0.0:443\"];\n"
#define L_TLS	  "tls = { certificate = \"c.pem\"; key = \"k.pem\"; };\n"
#define L_AUTH	  "auth = { password-file = \"passwd\"; };\n"
#define L_NET	  "network = { ipv4-pool = \"198.18.100.0/24\"; };\n"
#define BASE	  L_LISTEN L_TLS L_AUTH L_NET /* lines 1-4 */
#define BASE3	  L_LISTEN L_TLS L_AUTH	      /* lines 1-3, no pool */
#define NO_LISTEN L_TLS L_AUTH L_NET	      /* lines 1-3 */
#define NET(...)                                                                                   \
	"network = {\n"                                                                            \
	"  ipv4-pool = \"198.18.100.0/24\";\n" __VA_ARGS__ "};\n"

extern struct cfg c;
extern char err[CFG_ERR_LEN];

int load(const char *text);
bool is_zero(const void *p, size_t n);
size_t key_index(const char *name);
void check_v4(const struct cfg_addr *a, const char *want);
void check_prefix(const struct cfg_prefix *p, const char *want);
void load_into(struct cfg *out, const char *text);

/* The tests of each part, added to the test case in the suite's order. */
void config_doc_tests(TCase *tc);  /* check_config_doc.c: the shipped file, the key table */
void config_bad_tests(TCase *tc);  /* check_config_bad.c: broken files */
void config_file_tests(TCase *tc); /* check_config_file.c: loading from files */
void config_svc_tests(TCase *tc);  /* check_config_svc.c: services = ( ... ) */

#endif
