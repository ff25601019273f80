/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A session's traffic counters (see counters.h): the names of the drop
 * reasons and protocols, and sums.  Pure: no state, no logging. */
#include "config.h"
#include "common/counters.h"

#include <stdio.h>
#include <string.h>

/* Every field is a uint64_t, so the struct is an array of them: a field
 * added later is summed and tested like the others. */
_Static_assert(sizeof(struct sess_counters) % sizeof(uint64_t) == 0,
	       "struct sess_counters holds uint64_t fields only");
#define N_FIELDS (sizeof(struct sess_counters) / sizeof(uint64_t))

const struct drop_reason_info drop_reasons[DROP_N] = {
#define DROP_ROW(id, name, help) [DROP_##id] = {name, help},
    DROP_REASONS(DROP_ROW)
#undef DROP_ROW
};

const char *const ctr_proto_names[CTR_PROTOS] = {
    [CTR_TCP] = "tcp",
    [CTR_UDP] = "udp",
    [CTR_OTHER] = "other",
};

void sess_counters_add(struct sess_counters *dst, const struct sess_counters *src)
{
	uint64_t d[N_FIELDS], s[N_FIELDS];

	/* Copies: no aliasing of the struct as an array. */
	memcpy(d, dst, sizeof(d));
	memcpy(s, src, sizeof(s));
	for (size_t i = 0; i < N_FIELDS; i++)
		d[i] += s[i];
	memcpy(dst, d, sizeof(d));
}

bool sess_counters_any(const struct sess_counters *c)
{
	uint64_t v[N_FIELDS];

	memcpy(v, c, sizeof(v));
	for (size_t i = 0; i < N_FIELDS; i++)
		if (v[i])
			return true;
	return false;
}

uint64_t sess_counters_drops(const struct sess_counters *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < DROP_N; i++)
		n += c->drop[i];
	return n;
}

void sess_counters_each(const struct sess_counters *c,
			void (*fn)(void *arg, const char *key, uint64_t v), void *arg)
{
	static const char *const dir[2] = {"rx", "tx"};
	char key[40];

	fn(arg, "rx_pkts", c->rx_pkts);
	fn(arg, "rx_bytes", c->rx_bytes);
	fn(arg, "tx_pkts", c->tx_pkts);
	fn(arg, "tx_bytes", c->tx_bytes);
	for (int d = 0; d < 2; d++)
		for (int p = 0; p < CTR_PROTOS; p++) {
			const struct ctr_flow *f = d ? &c->tx_proto[p] : &c->rx_proto[p];

			snprintf(key, sizeof(key), "%s_%s_pkts", dir[d], ctr_proto_names[p]);
			fn(arg, key, f->pkts);
			snprintf(key, sizeof(key), "%s_%s_bytes", dir[d], ctr_proto_names[p]);
			fn(arg, key, f->bytes);
		}
	for (int r = 0; r < DROP_N; r++) {
		snprintf(key, sizeof(key), "drop_%s", drop_reasons[r].name);
		fn(arg, key, c->drop[r]);
	}
	fn(arg, "dtls_rx_pkts", c->dtls_rx_pkts);
	fn(arg, "dtls_rx_bytes", c->dtls_rx_bytes);
	fn(arg, "dtls_tx_pkts", c->dtls_tx_pkts);
	fn(arg, "dtls_tx_bytes", c->dtls_tx_bytes);
	fn(arg, "dns_intercepted", c->dns_intercepted);
}
