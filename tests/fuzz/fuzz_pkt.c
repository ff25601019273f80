/* libFuzzer harness for the IP packet checks in common/cstp.c:
 * pkt_check_client() on what a client sends into the tunnel and pkt_dst()
 * on what the TUN device hands the worker.  Input: one flag byte (bit 0:
 * the client holds an IPv4 lease, bit 1: an IPv6 lease), the 4-byte and
 * 16-byte leases, then the packet.  Checks: the verdict is consistent with
 * the leases and the source address, an accepted packet's length lies
 * within the input, and the destination points inside the packet. */
#include "config.h"
#include "common/cstp.h"

#include <string.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"

#define PREFIX (1 + 4 + 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in_addr v4;
	struct in6_addr v6;
	const struct in_addr *l4;
	const struct in6_addr *l6;
	const uint8_t *p, *dst = NULL;
	size_t len, ip_len = 0;
	enum pkt_verdict v;
	int fam, ver;

	if (size < PREFIX)
		return 0;
	memcpy(&v4, data + 1, 4);
	memcpy(&v6, data + 5, 16);
	l4 = data[0] & 1 ? &v4 : NULL;
	l6 = data[0] & 2 ? &v6 : NULL;
	p = data + PREFIX;
	len = size - PREFIX;
	ver = len > 0 ? p[0] >> 4 : -1;

	v = pkt_check_client(p, len, l4, l6, &ip_len);
	fam = pkt_dst(p, len, &dst);
	switch (v) {
	case PKT_OK:
		FUZZ_ASSERT(ip_len <= len);
		if (ver == 4) {
			FUZZ_ASSERT(l4 != NULL && memcmp(p + 12, &v4, 4) == 0);
			FUZZ_ASSERT(ip_len >= (size_t)(p[0] & 0x0f) * 4 && ip_len >= 20);
			FUZZ_ASSERT(ip_len == ((size_t)p[2] << 8 | p[3]));
		} else {
			FUZZ_ASSERT(ver == 6 && l6 != NULL && memcmp(p + 8, &v6, 16) == 0);
			FUZZ_ASSERT(ip_len == 40 + ((size_t)p[4] << 8 | p[5]));
		}
		FUZZ_ASSERT(fam == (ver == 4 ? AF_INET : AF_INET6));
		break;
	case PKT_SPOOFED:
		FUZZ_ASSERT(ver == 4 ? l4 && memcmp(p + 12, &v4, 4) != 0
				     : ver == 6 && l6 && memcmp(p + 8, &v6, 16) != 0);
		break;
	case PKT_NOADDR:
		FUZZ_ASSERT(ver == 4 ? l4 == NULL : ver == 6 && l6 == NULL);
		break;
	case PKT_MALFORMED:
		if (len >= 20 && ver == 4) {
			size_t ihl = (size_t)(p[0] & 0x0f) * 4, total = (size_t)p[2] << 8 | p[3];

			FUZZ_ASSERT(ihl < 20 || ihl > len || total < ihl || total > len);
		} else if (len >= 20 && ver == 6) {
			FUZZ_ASSERT(40 + ((size_t)p[4] << 8 | p[5]) > len);
		}
		break;
	default:
		FUZZ_ASSERT(!"unknown verdict");
	}
	if (fam != 0)
		FUZZ_ASSERT(FUZZ_INSIDE(dst, fam == AF_INET ? 4u : 16u, p, len) &&
			    dst == p + (fam == AF_INET ? 16 : 24));
	else
		FUZZ_ASSERT(len < 20 || (ver != 4 && ver != 6) || (ver == 6 && len < 40));
	/* The verdict does not depend on the other family's lease. */
	if (ver == 4)
		FUZZ_ASSERT(pkt_check_client(p, len, l4, l6 ? NULL : &v6, &ip_len) == v);
	if (ver == 6)
		FUZZ_ASSERT(pkt_check_client(p, len, l4 ? NULL : &v4, l6, &ip_len) == v);
	return 0;
}
