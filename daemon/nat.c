/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): NAT egress through libnftables (see nat.h).  The rules:
 *
 *   table inet tunneld {
 *     chain postrouting {
 *       type nat hook postrouting priority srcnat; policy accept;
 *       oifname "eth0" ip saddr 198.18.100.0/24 masquerade
 *       oifname "eth0" ip6 saddr fd00:100::/64 masquerade
 *     }
 *   }
 *
 * sent as "add table; delete table; table {...}" in one buffer, which
 * nftables runs as one transaction: an old table (ours, or one a crash
 * left) goes and the new one comes at once, or nothing changes.  A
 * context is made for each change and freed after it: nothing of
 * libnftables stays in the master for the workers to inherit. */
#include "config.h"
#include "daemon/nat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>

#include "common/log.h"

#define RULESET_MAX 1024

static struct {
	bool installed;
	char rules[RULESET_MAX]; /* what is installed */
} N;

__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t len, size_t *at,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? len : *at + (size_t)n;
}

int nat_ruleset(const struct cfg *cfg, char *buf, size_t len)
{
	const char *ifn = cfg->nat_interface;
	char p[CFG_PREFIX_STRLEN];
	size_t at = 0;

	if (!len)
		return -ENOBUFS;
	buf[0] = '\0';
	if (!ifn)
		return 0;
	/* The interface name is checked by the config loader (A-Z a-z 0-9
	 * _ . -), so it cannot break out of its quotes. */
	put(buf, len, &at,
	    "table inet " NAT_TABLE " {\n\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (cfg->have_ipv4_pool && cfg_prefix_str(&cfg->ipv4_pool, p, sizeof(p)))
		put(buf, len, &at, "\t\toifname \"%s\" ip saddr %s masquerade\n", ifn, p);
	if (cfg->have_ipv6_pool && cfg_prefix_str(&cfg->ipv6_pool, p, sizeof(p)))
		put(buf, len, &at, "\t\toifname \"%s\" ip6 saddr %s masquerade\n", ifn, p);
	put(buf, len, &at, "\t}\n}\n");
	return at < len ? 0 : -ENOBUFS;
}

/* Run cmds as one nftables transaction.  0, or -1 with nft's error
 * logged after what. */
static int run(const char *cmds, const char *what)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *err;
	int r;

	if (!ctx) {
		log_err("%s: cannot set up libnftables", what);
		return -1;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	r = nft_run_cmd_from_buffer(ctx, cmds);
	if (r != 0) {
		err = nft_ctx_get_error_buffer(ctx);
		log_err("%s: nftables refused it: %.*s", what, err ? (int)strcspn(err, "\n") : 0,
			err ? err : "");
	}
	nft_ctx_free(ctx);
	return r ? -1 : 0;
}

int nat_apply(const struct cfg *cfg)
{
	char rules[RULESET_MAX], cmds[RULESET_MAX + 128];

	if (nat_ruleset(cfg, rules, sizeof(rules)) < 0) {
		log_err("network.nat: the rules do not fit in %d bytes", RULESET_MAX);
		return -1;
	}
	if (!rules[0]) {
		nat_stop();
		return 0;
	}
	if (N.installed && !strcmp(rules, N.rules))
		return 0;
	/* "add" makes sure there is a table to delete. */
	snprintf(cmds, sizeof(cmds),
		 "add table inet " NAT_TABLE "\ndelete table inet " NAT_TABLE "\n%s", rules);
	if (run(cmds, "network.nat") < 0)
		return -1;
	log_info("network.nat: masquerading the pools out of %s (nftables table inet " NAT_TABLE
		 ")",
		 cfg->nat_interface);
	N.installed = true;
	memcpy(N.rules, rules, sizeof(rules));
	return 0;
}

void nat_stop(void)
{
	if (!N.installed)
		return;
	if (run("add table inet " NAT_TABLE "\ndelete table inet " NAT_TABLE "\n",
		"network.nat: removing the table") == 0)
		log_info("network.nat: table inet " NAT_TABLE " removed");
	N.installed = false;
	N.rules[0] = '\0';
}
