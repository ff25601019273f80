/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the PROXY protocol header (common/proxyproto.c), as
 * a worker's listen-proxy connection reads it: proxy_parse() over the
 * input as it grows.  Checks: a header ends inside the input and within
 * PROXY_MAX bytes, every shorter prefix of it asks for more, the bytes
 * after it do not change the answer, its fields are in range; an input that
 * asks for more does so for each of its prefixes too; a refusal says why. */
#include "config.h"
#include "common/proxyproto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, g;
	const char *why;
	long r = proxy_parse(data, size, &h, &why);

	FUZZ_ASSERT(r == -EBADMSG || r >= 0);
	if (r < 0) {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		return 0;
	}
	if (r == 0) {
		FUZZ_ASSERT(size < PROXY_MAX);
		for (size_t k = 0; k < size; k++)
			FUZZ_ASSERT(proxy_parse(data, k, &g, &why) == 0);
		return 0;
	}
	FUZZ_ASSERT((size_t)r <= size && r <= PROXY_MAX);
	FUZZ_ASSERT(h.version == 1 || h.version == 2);
	FUZZ_ASSERT(h.version == 2 || r <= PROXY_V1_MAX);
	FUZZ_ASSERT(h.family == AF_INET || h.family == AF_INET6 || h.family == AF_UNSPEC);
	for (size_t k = 0; k < (size_t)r; k++)
		FUZZ_ASSERT(proxy_parse(data, k, &g, &why) == 0);
	FUZZ_ASSERT(proxy_parse(data, (size_t)r, &g, &why) == r);
	FUZZ_ASSERT(memcmp(&g, &h, sizeof(g)) == 0);
	return 0;
}
