/* libFuzzer harness for conf/config.c: cfg_load_string() on any text, as
 * the master parses tunneld.conf at start and on SIGHUP.  Checks: a
 * refused config leaves an error naming the file and a zeroed struct; an
 * accepted one respects every bound of the key table, its addresses and
 * prefixes format back to text, and loading it again gives the same
 * values (cfg_key_next_diff finds no difference). */
#include "config.h"
#include "conf/config.h"

#include <string.h>

#include "tests/fuzz/fuzz.h"

static void check_loaded(const struct cfg *c)
{
	char buf[CFG_PREFIX_STRLEN];
	unsigned i;

	FUZZ_ASSERT(c->path != NULL && strcmp(c->path, "fuzz.conf") == 0);
	FUZZ_ASSERT(c->n_listen >= 1 && c->n_listen <= CFG_MAX_LISTEN);
	for (i = 0; i < c->n_listen; i++) {
		FUZZ_ASSERT(memchr(c->listen[i].text, '\0', sizeof(c->listen[i].text)) != NULL);
		FUZZ_ASSERT(c->listen[i].ss.ss_family == AF_INET ||
			    c->listen[i].ss.ss_family == AF_INET6);
	}
	FUZZ_ASSERT(c->user && c->user[0] && c->group && c->group[0]);
	/* Both or neither (a self-signed certificate is made then). */
	FUZZ_ASSERT(!c->tls_certificate == !c->tls_key);
	FUZZ_ASSERT(!c->tls_certificate || (c->tls_certificate[0] && c->tls_key[0]));
	/* Logins go through the password file or RADIUS, one of them. */
	FUZZ_ASSERT(!c->password_file != !c->n_radius_auth);
	FUZZ_ASSERT(c->tls_priorities && c->log_destination && c->control_socket);
	FUZZ_ASSERT(c->tun_name && strlen(c->tun_name) >= 1 && strlen(c->tun_name) <= 15);
	FUZZ_ASSERT(c->workers <= 256);
	FUZZ_ASSERT(c->mtu >= 576 && c->mtu <= 9000);
	FUZZ_ASSERT(c->have_ipv4_pool || c->have_ipv6_pool);
	if (c->have_ipv4_pool)
		FUZZ_ASSERT(c->ipv4_pool.addr.family == AF_INET && c->ipv4_pool.len >= 8 &&
			    c->ipv4_pool.len <= 30 &&
			    cfg_prefix_str(&c->ipv4_pool, buf, sizeof(buf)) != NULL);
	if (c->have_ipv6_pool)
		FUZZ_ASSERT(c->ipv6_pool.addr.family == AF_INET6 && c->ipv6_pool.len >= 64 &&
			    c->ipv6_pool.len <= 126 &&
			    cfg_prefix_str(&c->ipv6_pool, buf, sizeof(buf)) != NULL);
	FUZZ_ASSERT(c->n_dns <= CFG_MAX_DNS && c->n_routes <= CFG_MAX_ROUTES);
	for (i = 0; i < c->n_dns; i++)
		FUZZ_ASSERT(cfg_addr_str(&c->dns[i], buf, sizeof(buf)) != NULL);
	for (i = 0; i < c->n_routes; i++)
		FUZZ_ASSERT(cfg_prefix_str(&c->routes[i], buf, sizeof(buf)) != NULL &&
			    c->routes[i].len <= (c->routes[i].addr.family == AF_INET ? 32u : 128u));
	FUZZ_ASSERT(c->reconnect_timeout >= 10 && c->reconnect_timeout <= 86400);
	FUZZ_ASSERT(c->dpd <= 3600 && c->keepalive <= 3600 && c->drain_timeout <= 86400);
	FUZZ_ASSERT(c->max_clients >= 1 && c->max_clients <= 1000000);
	FUZZ_ASSERT(c->handshake_timeout >= 1 && c->handshake_timeout <= 600);
	FUZZ_ASSERT(c->auth_timeout >= 1 && c->auth_timeout <= 3600);
	FUZZ_ASSERT(c->queue_bytes >= 16384 && c->queue_bytes <= 67108864);
	FUZZ_ASSERT(c->log_level == LOG_LVL_ERR || c->log_level == LOG_LVL_WARNING ||
		    c->log_level == LOG_LVL_INFO || c->log_level == LOG_LVL_DEBUG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cfg zero;
	struct cfg a, b;
	char err[CFG_ERR_LEN], err2[CFG_ERR_LEN];
	char *text;

	/* Files hold no NUL (cfg_load refuses them); the text ends at one. */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	if (cfg_load_string(text, "fuzz.conf", &a, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(memcmp(&a, &zero, sizeof(a)) == 0);
		FUZZ_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0 && err[10] != '\0');
		/* Refusals are deterministic too. */
		FUZZ_ASSERT(cfg_load_string(text, "fuzz.conf", &b, err2, sizeof(err2)) < 0);
		FUZZ_ASSERT(strcmp(err, err2) == 0);
	} else {
		check_loaded(&a);
		FUZZ_ASSERT(cfg_load_string(text, "fuzz.conf", &b, err2, sizeof(err2)) == 0);
		FUZZ_ASSERT(cfg_key_next_diff(&a, &b, 0) == cfg_key_count());
		cfg_free(&b);
		cfg_free(&a);
		FUZZ_ASSERT(memcmp(&a, &zero, sizeof(a)) == 0);
	}
	free(text);
	return 0;
}
