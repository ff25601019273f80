/* SPDX-License-Identifier: GPL-2.0-or-later */
/* All processes: client address keys (see addrkey.h).  No state. */
#include "config.h"
#include "common/addrkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool addrkey_is_ipv4(const uint8_t key[ADDRKEY_LEN])
{
	return memcmp(key, v4_mapped, sizeof(v4_mapped)) == 0;
}

/* An IPv6 address to its key; an IPv4-mapped one stays whole. */
static void from6(const uint8_t a[16], unsigned prefix6, uint8_t key[ADDRKEY_LEN])
{
	unsigned bits = prefix6 > 128 ? 128 : prefix6;

	memcpy(key, a, ADDRKEY_LEN);
	if (addrkey_is_ipv4(key))
		return;
	if (bits % 8)
		key[bits / 8] &= (uint8_t)(0xff00u >> (bits % 8));
	if (bits < 128)
		memset(key + (bits + 7) / 8, 0, ADDRKEY_LEN - (bits + 7) / 8);
}

static void from4(const void *a, uint8_t key[ADDRKEY_LEN])
{
	memcpy(key, v4_mapped, sizeof(v4_mapped));
	memcpy(key + sizeof(v4_mapped), a, 4);
}

void addrkey_of_sockaddr(const struct sockaddr *sa, unsigned prefix6, uint8_t key[ADDRKEY_LEN])
{
	memset(key, 0, ADDRKEY_LEN);
	if (sa->sa_family == AF_INET)
		from4(&((const struct sockaddr_in *)sa)->sin_addr, key);
	else if (sa->sa_family == AF_INET6)
		from6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, prefix6, key);
}

int addrkey_of_text(const char *text, unsigned prefix6, uint8_t key[ADDRKEY_LEN])
{
	struct in6_addr a6;
	struct in_addr a4;

	memset(key, 0, ADDRKEY_LEN);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		from4(&a4, key);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		from6(a6.s6_addr, prefix6, key);
		return 0;
	}
	return -EINVAL;
}

void addrkey_text(const uint8_t key[ADDRKEY_LEN], unsigned prefix6, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	out[0] = '\0';
	if (addrkey_is_ipv4(key)) {
		inet_ntop(AF_INET, key + sizeof(v4_mapped), out, (socklen_t)len);
		return;
	}
	inet_ntop(AF_INET6, key, a, sizeof(a));
	if (prefix6 < 128)
		snprintf(out, len, "%s/%u", a, prefix6);
	else
		snprintf(out, len, "%s", a);
}
