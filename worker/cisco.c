/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: what Cisco Secure Client / AnyConnect asks beyond openconnect's
 * login (FIELD.md section 2): answers to the URLs its downloader fetches
 * (never a hang or a 5xx: 200 with what it expects, or 404), the XML
 * profile (cisco.profile) with its manifest after login, and the CONNECT
 * answer's extras (IPv6 DNS in X-CSTP-DNS-IP6; 2000::/3 and fc00::/7 for a
 * full IPv6 tunnel, which iOS needs).  Owns the profile's SHA-1 and the server certificate's,
 * computed once. */
#include "config.h"
#include "worker/worker.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <gnutls/crypto.h>

#include "common/log.h"

#define SHA1_LEN 20

static char profile_sha1[2 * SHA1_LEN + 1]; /* hex, "" without a profile */
static char cert_sha1[2 * SHA1_LEN + 1];

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void cisco_init(void)
{
	uint8_t d[SHA1_LEN];
	gnutls_datum_t crt;

	if (W.env->profile &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, W.env->profile, W.env->profile_len, d) == 0)
		hex(d, sizeof(d), profile_sha1);
	if (gnutls_certificate_get_crt_raw(W.env->cred, 0, 0, &crt) == 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, crt.data, crt.size, d) == 0)
		hex(d, sizeof(d), cert_sha1);
}

/* The downloader's URLs and what each gets.  Bodies are what the client
 * parses: an empty manifest (nothing to install or update), a version that
 * is never newer than its own. */
static const struct {
	const char *path;
	const char *type;
	const char *body;
} urls[] = {
    {"/VPNManifest.xml", "text/xml",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vpn rev=\"1.0\">\n</vpn>\n"},
    {"/1/VPNManifest.xml", "text/xml",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vpn rev=\"1.0\">\n</vpn>\n"},
    {"/1/index.html", "text/html", "<html></html>\n"},
    {"/1/Linux", "text/plain", ""},
    {"/1/Linux_64", "text/plain", ""},
    {"/1/Windows", "text/plain", ""},
    {"/1/Windows_ARM64", "text/plain", ""},
    {"/1/Darwin_i386", "text/plain", ""},
    {"/1/binaries/update.txt", "text/plain", "0,00,000\n"},
    {"/+CSCOT+/translation-table", "text/xml", ""},
    {"/+CSCOT+/oem-customization", "text/xml", ""},
    {"/logout", "text/html", ""},
};

/* The path of target as the clients mean it: without its query string,
 * "%2F" read as "/" (the profile's cookie carries it encoded), and without
 * the ":PORT" that openconnect 9 appends to the profile's path when the
 * port is not 443.  Returns its length, 0 when it does not fit. */
static size_t clean_path(const struct http_str *target, char *out, size_t cap)
{
	size_t i = 0, n = 0, colon;

	while (i < target->n && target->p[i] != '?' && n + 1 < cap) {
		if (target->n - i >= 3 && target->p[i] == '%' && target->p[i + 1] == '2' &&
		    (target->p[i + 2] == 'F' || target->p[i + 2] == 'f')) {
			out[n++] = '/';
			i += 3;
		} else {
			out[n++] = target->p[i++];
		}
	}
	if (i < target->n && target->p[i] != '?')
		return 0;
	out[n] = '\0';
	for (colon = n; colon > 0 && out[colon - 1] >= '0' && out[colon - 1] <= '9'; colon--)
		;
	if (colon > 1 && colon < n && out[colon - 1] == ':') {
		n = colon - 1;
		out[n] = '\0';
	}
	return n;
}

bool cisco_url(const struct http_str *target, struct cisco_answer *a)
{
	char path[256];
	size_t n = clean_path(target, path, sizeof(path));

	if (n == 0)
		return false;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (!strcmp(urls[i].path, path)) {
			*a = (struct cisco_answer){200, urls[i].type, urls[i].body,
						   strlen(urls[i].body)};
			return true;
		}
	if (W.env->profile && !strncmp(path, "/profiles/", 10) &&
	    !strcmp(path + 10, W.env->profile_name)) {
		*a = (struct cisco_answer){200, "text/xml", W.env->profile, W.env->profile_len};
		return true;
	}
	return false;
}

int cisco_login_extras(char *xml, size_t xcap, char *hdr, size_t hcap)
{
	int n;

	if (!profile_sha1[0]) {
		xml[0] = hdr[0] = '\0';
		return 0;
	}
	n = snprintf(xml, xcap,
		     "<config client=\"vpn\" type=\"private\"><vpn-profile-manifest>"
		     "<vpn rev=\"1.0\"><file type=\"profile\" service-type=\"user\">"
		     "<uri>/profiles/%s</uri><hash type=\"sha1\">%s</hash></file></vpn>"
		     "</vpn-profile-manifest></config>",
		     W.env->profile_name, profile_sha1);
	if (n < 0 || (size_t)n >= xcap)
		return -1;
	n = snprintf(hdr, hcap,
		     "Set-Cookie: webvpnc=bu:/&p:t&iu:1/&sh:%s&fu:profiles%%2F%s&fh:%s; Secure\r\n",
		     cert_sha1, W.env->profile_name, profile_sha1);
	return n < 0 || (size_t)n >= hcap ? -1 : 0;
}

/* Whether the client's group routes its whole IPv6 traffic. */
static bool full_ipv6(const struct conn *c)
{
	bool any6 = false;

	for (unsigned i = 0; i < c->grp->n_routes; i++) {
		const struct cfg_prefix *r = &c->grp->routes[i];
		if (r->addr.family != AF_INET6)
			continue;
		if (r->len == 0)
			return true;
		any6 = true;
	}
	return !any6;
}

bool cisco_skip_route(const struct conn *c, const struct cfg_prefix *r)
{
	/* ::/0 is said as 2000::/3 (cisco_connect_headers). */
	return c->cisco && r->addr.family == AF_INET6 && r->len == 0;
}

int cisco_connect_headers(const struct conn *c, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = 0;
	int w;

	if (!c->cisco)
		return 0;
	for (unsigned i = 0; i < c->grp->n_dns; i++) {
		if (c->grp->dns[i].family != AF_INET6)
			continue;
		inet_ntop(AF_INET6, &c->grp->dns[i].u.v6, a, sizeof(a));
		w = snprintf(out + n, cap - n, "X-CSTP-DNS-IP6: %s\r\n", a);
		if (w < 0 || (size_t)w >= cap - n)
			return -1;
		n += (size_t)w;
	}
	/* iOS tunnels IPv6 only for explicit includes, not for none or ::/0:
	 * all of global unicast, and the unique local addresses (fc00::/7)
	 * that sites use inside. */
	if (c->have6 && full_ipv6(c)) {
		w = snprintf(out + n, cap - n,
			     "X-CSTP-Split-Include-IP6: 2000::/3\r\n"
			     "X-CSTP-Split-Include-IP6: fc00::/7\r\n");
		if (w < 0 || (size_t)w >= cap - n)
			return -1;
		n += (size_t)w;
	}
	return (int)n;
}
