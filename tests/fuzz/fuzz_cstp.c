/* libFuzzer harness for CSTP framing in common/cstp.c: cstp_parse() over a
 * stream of frames, as the worker splits decrypted TLS data.  The first
 * byte picks the payload limit (the real one, or a small one).  Checks: a
 * frame lies inside the input, its header re-encodes to the same bytes and
 * its type is one we accept; every shorter prefix of a frame asks for more;
 * errors are known codes with a message; DATA payloads go through the
 * packet checks with a lease equal to their own source, which can never
 * count as spoofed. */
#include "config.h"
#include "common/cstp.h"

#include <string.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"

static void check_packet(const uint8_t *p, size_t len)
{
	struct in_addr v4;
	struct in6_addr v6;
	const uint8_t *dst = NULL;
	size_t ip_len = 0;
	enum pkt_verdict v;
	int fam = pkt_dst(p, len, &dst);

	if (len >= 20)
		memcpy(&v4, p + 12, 4);
	if (len >= 24)
		memcpy(&v6, p + 8, 16);
	v = pkt_check_client(p, len, len >= 20 ? &v4 : NULL, len >= 24 ? &v6 : NULL, &ip_len);
	FUZZ_ASSERT(v == PKT_OK || v == PKT_MALFORMED);
	if (v == PKT_OK) {
		FUZZ_ASSERT(ip_len <= len && ip_len >= 20);
		FUZZ_ASSERT(fam == (p[0] >> 4 == 4 ? AF_INET : AF_INET6));
	}
	FUZZ_ASSERT(fam == 0 || fam == AF_INET || fam == AF_INET6);
	if (fam != 0)
		FUZZ_ASSERT(FUZZ_INSIDE(dst, fam == AF_INET ? 4u : 16u, p, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, off = 0, k;
	uint8_t hdr[CSTP_HDR_LEN];
	struct cstp_frame f, g;
	int r = 0;

	if (size == 0)
		return 0;
	max = data[0] & 1 ? CSTP_MAX_PAYLOAD : data[0] >> 1;
	data++;
	size--;
	while (off < size) {
		const uint8_t *p = data + off;
		size_t len = size - off;

		memset(&f, 0, sizeof(f));
		r = cstp_parse(p, len, max, &f);
		FUZZ_ASSERT(cstp_strerror(r) != NULL);
		if (r <= 0)
			break;
		FUZZ_ASSERT((size_t)r <= len && (size_t)r == CSTP_HDR_LEN + f.len);
		FUZZ_ASSERT(f.len <= max && f.payload == p + CSTP_HDR_LEN);
		FUZZ_ASSERT(f.type != CSTP_COMPRESSED);
		cstp_put_header(hdr, f.type, f.len);
		FUZZ_ASSERT(memcmp(hdr, p, CSTP_HDR_LEN) == 0);
		for (k = 0; k < (size_t)r && k <= CSTP_HDR_LEN; k++)
			FUZZ_ASSERT(cstp_parse(p, k, max, &g) == CSTP_NEED_MORE);
		FUZZ_ASSERT(cstp_parse(p, (size_t)r - 1, max, &g) == CSTP_NEED_MORE);
		if (f.type == CSTP_DATA)
			check_packet(f.payload, f.len);
		off += (size_t)r;
	}
	FUZZ_ASSERT(r >= CSTP_ETYPE);
	return 0;
}
