/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the TLS stream services (see services.h).  Owns the live
 * table (one struct svc per service), each one's listeners per slot, its
 * PEM bytes, the key generations, the IPC_SVC message built from them and
 * the counters.  The private keys are the key process's (keyproc.c): the
 * master opens each key file and passes it on, as for the VPN's key.
 *
 * Listeners belong to addresses, not names: a service that keeps its
 * listen address across a reload keeps its sockets (and their queue of
 * connections); one that moves gets new ones, and the old ones close once
 * committed.  Counters belong to names: they survive a reload that keeps
 * the name. */
#include "config.h"
#include "daemon/services.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/fsutil.h"
#include "daemon/keyproc.h"
#include "daemon/listen.h"
#include "daemon/wchan.h"

struct svc {
	struct svc_def def;
	char *cert, *ca; /* PEM bytes; ca NULL: none */
	char *key_path;
	int *fds;	 /* per slot: its listener, -1 none */
	bool fds_shared; /* a set being loaded borrowed them from the live one */
	struct svc_counters ctr;
	uint32_t *open; /* per slot: streams open now */
};

struct services_set {
	struct svc *e[CFG_MAX_SERVICES];
	unsigned n;
	char *prio;
};

static struct {
	struct services_set live;
	unsigned n_slots;
	bool enabled;			  /* services at start: the workers have the seccomp rows */
	uint32_t next_id;		  /* ids and listener generations handed out */
	uint16_t ports[CFG_MAX_SERVICES]; /* destination ports at start (Landlock) */
	unsigned n_ports;
	void *msg; /* IPC_SVC of the live set */
	size_t msg_len;
} S;

static void svc_free(struct svc *s, bool close_fds)
{
	if (!s)
		return;
	for (unsigned i = 0; s->fds && close_fds && !s->fds_shared && i < S.n_slots; i++)
		close_fd(&s->fds[i]);
	free(s->fds);
	free(s->open);
	free(s->cert);
	free(s->ca);
	free(s->key_path);
	free(s);
}

static void set_free(struct services_set *set, bool close_fds)
{
	for (unsigned i = 0; i < set->n; i++)
		svc_free(set->e[i], close_fds);
	free(set->prio);
	memset(set, 0, sizeof(*set));
}

static int read_pem(const char *path, size_t max, char **out, uint32_t *len)
{
	char *b = malloc(max);
	size_t got = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0 || !b) {
		r = fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	while (got < max && (n = read(fd, b + got, max - got)) > 0)
		got += (size_t)n;
	if (n < 0 || got == max || got == 0) {
		r = n < 0 ? -errno : got ? -EFBIG : -ENODATA;
		goto fail;
	}
	close(fd);
	*out = b;
	*len = (uint32_t)got;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(b);
	return r;
}

static struct svc *live_by_name(const char *name)
{
	for (unsigned i = 0; i < S.live.n; i++)
		if (!strcmp(S.live.e[i]->def.name, name))
			return S.live.e[i];
	return NULL;
}

static bool same_addr(const struct cfg_listen *a, const struct cfg_listen *b)
{
	return a->sslen == b->sslen && !memcmp(&a->ss, &b->ss, a->sslen);
}

static struct svc *live_by_listen(const struct cfg_listen *l)
{
	for (unsigned i = 0; i < S.live.n; i++)
		if (same_addr(&S.live.e[i]->def.listen, l))
			return S.live.e[i];
	return NULL;
}

static uint16_t port_of(const struct cfg_listen *l)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&l->ss;

	return ntohs(a->sin_port); /* sin6_port sits at the same place */
}

/* Its listeners: the live ones of its address, or new ones. */
static int listeners(struct svc *s, const struct cfg_service *c)
{
	struct svc *old = live_by_listen(&c->listen);
	int r;

	s->fds = calloc(S.n_slots, sizeof(int));
	if (!s->fds)
		return -ENOMEM;
	if (old) {
		memcpy(s->fds, old->fds, S.n_slots * sizeof(int));
		s->fds_shared = true;
		s->def.lgen = old->def.lgen;
		return 0;
	}
	for (unsigned i = 0; i < S.n_slots; i++)
		s->fds[i] = -1;
	s->def.lgen = ++S.next_id;
	for (unsigned i = 0; i < S.n_slots; i++)
		if ((r = listen_open(&c->listen, &s->fds[i])) < 0)
			return r;
	return 0;
}

/* One service of cfg, loaded aside.  0 or -1 logged. */
static int load_one(struct svc *s, const struct cfg_service *c, const char *lead)
{
	const struct svc *old = live_by_name(c->name);
	gnutls_datum_t pem;
	char err[256];
	int r, fd;

	memcpy(s->def.name, c->name, sizeof(s->def.name));
	s->def.listen = c->listen;
	s->def.connect = c->connect;
	s->def.proxy_protocol = c->proxy_protocol;
	s->def.max_connections = c->max_connections;
	s->def.connect_timeout = c->connect_timeout;
	s->def.idle_timeout = c->idle_timeout;
	s->def.id = old ? old->def.id : ++S.next_id;
	s->open = calloc(S.n_slots, sizeof(uint32_t));
	s->key_path = strdup(c->key);
	if (!s->open || !s->key_path)
		return log_err("%s: services: \"%s\": out of memory", lead, c->name), -1;
	if ((r = read_pem(c->certificate, SVC_CERT_MAX, &s->cert, &s->def.cert_len)) < 0)
		return log_err("%s: services: \"%s\": certificate %s: %s", lead, c->name,
			       c->certificate, strerror(-r)),
		       -1;
	if (c->ca && (r = read_pem(c->ca, SVC_CA_MAX, &s->ca, &s->def.ca_len)) < 0)
		return log_err("%s: services: \"%s\": ca %s: %s", lead, c->name, c->ca,
			       strerror(-r)),
		       -1;
	if ((r = listeners(s, c)) < 0)
		return log_err("%s: services: \"%s\": cannot listen on %s: %s", lead, c->name,
			       c->listen.text, strerror(-r)),
		       -1;
	fd = open(c->key, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_err("%s: services: \"%s\": key %s: %s", lead, c->name, c->key,
			       strerror(errno)),
		       -1;
	pem = (gnutls_datum_t){(unsigned char *)s->cert, s->def.cert_len};
	s->def.key_gen = keyproc_next_gen();
	r = keyproc_svc_load(fd, &pem, s->def.key_gen, err, sizeof(err));
	close(fd);
	if (r < 0)
		return log_err("%s: services: \"%s\": certificate %s / key %s: %s", lead, c->name,
			       c->certificate, c->key, err),
		       -1;
	return 0;
}

/* Landlock lets workers connect only to the ports they were started
 * with: say so for a new one. */
static void warn_new_ports(const struct cfg *cfg)
{
	for (unsigned i = 0; i < cfg->n_services; i++) {
		uint16_t p = port_of(&cfg->services[i].connect);
		unsigned k;

		for (k = 0; k < S.n_ports && S.ports[k] != p; k++)
			;
		if (k == S.n_ports)
			log_warn(
			    "services: \"%s\": destination port %u was not configured at start; "
			    "where the kernel has Landlock, workers cannot connect to it until "
			    "tunneld is restarted",
			    cfg->services[i].name, p);
	}
}

struct services_set *services_load(const struct cfg *cfg, const char *lead)
{
	struct services_set *set = calloc(1, sizeof(*set));

	if (!set || !(set->prio = strdup(cfg->tls_priorities))) {
		log_err("%s: services: out of memory", lead);
		free(set);
		return NULL;
	}
	if (!S.enabled && cfg->n_services) {
		log_warn("services: tunneld started without services; restart it to serve them");
		return set;
	}
	warn_new_ports(cfg);
	for (unsigned i = 0; i < cfg->n_services; i++) {
		set->e[i] = calloc(1, sizeof(struct svc));
		set->n = i + 1;
		if (!set->e[i] || load_one(set->e[i], &cfg->services[i], lead) < 0) {
			services_discard(set);
			return NULL;
		}
	}
	return set;
}

void services_discard(struct services_set *set)
{
	if (!set)
		return;
	keyproc_svc_drop();
	set_free(set, true);
	free(set);
}

/* The IPC_SVC of the live set. */
static int build_msg(void)
{
	struct ipc_svc h = {.type = IPC_SVC, .n = S.live.n};
	size_t len = sizeof(h) + S.live.n * sizeof(struct svc_def);
	char *m, *p;

	h.prio_len = (uint32_t)strlen(S.live.prio);
	len += h.prio_len;
	for (unsigned i = 0; i < S.live.n; i++)
		len += S.live.e[i]->def.cert_len + S.live.e[i]->def.ca_len;
	if (len > IPC_SVC_MAX)
		return log_errno(-EMSGSIZE,
				 "services: %zu bytes of certificates and CAs (at most %u)", len,
				 IPC_SVC_MAX);
	p = m = malloc(len);
	if (!m)
		return log_errno(-ENOMEM, "services");
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	for (unsigned i = 0; i < S.live.n; i++, p += sizeof(struct svc_def))
		memcpy(p, &S.live.e[i]->def, sizeof(struct svc_def));
	memcpy(p, S.live.prio, h.prio_len);
	p += h.prio_len;
	for (unsigned i = 0; i < S.live.n; i++) {
		memcpy(p, S.live.e[i]->cert, S.live.e[i]->def.cert_len);
		p += S.live.e[i]->def.cert_len;
		if (S.live.e[i]->def.ca_len)
			memcpy(p, S.live.e[i]->ca, S.live.e[i]->def.ca_len);
		p += S.live.e[i]->def.ca_len;
	}
	free(S.msg);
	S.msg = m;
	S.msg_len = len;
	return 0;
}

static void push(void)
{
	int fds[CFG_MAX_SERVICES];
	int r;

	if (!S.msg)
		return;
	for (unsigned w = 0; w < S.n_slots; w++) {
		for (unsigned i = 0; i < S.live.n; i++)
			fds[i] = S.live.e[i]->fds[w];
		r = wchan_send_fds(w, S.msg, S.msg_len, fds, S.live.n);
		if (r < 0 && r != -ENOTCONN)
			log_warn("worker %u: services not delivered: %s", w, strerror(-r));
	}
}

/* Whether a listener of old is taken over by an entry of set. */
static bool kept(const struct svc *old, const struct services_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->e[i]->fds_shared && set->e[i]->def.lgen == old->def.lgen)
			return true;
	return false;
}

void services_commit(struct services_set *set)
{
	struct keyproc_svckey keys[CFG_MAX_SERVICES];
	gnutls_datum_t pems[CFG_MAX_SERVICES];

	for (unsigned i = 0; i < set->n; i++) {
		struct svc *s = set->e[i], *old = live_by_name(s->def.name);

		pems[i] = (gnutls_datum_t){(unsigned char *)s->cert, s->def.cert_len};
		keys[i] = (struct keyproc_svckey){s->key_path, s->def.key_gen, &pems[i]};
		if (old) { /* the counters go on under the name */
			s->ctr = old->ctr;
			memcpy(s->open, old->open, S.n_slots * sizeof(uint32_t));
		}
	}
	keyproc_svc_commit(keys, set->n);
	for (unsigned i = 0; i < S.live.n; i++)
		if (kept(S.live.e[i], set))
			S.live.e[i]->fds_shared = true; /* not closed below */
	set_free(&S.live, true);
	S.live = *set;
	for (unsigned i = 0; i < S.live.n; i++)
		S.live.e[i]->fds_shared = false; /* ours now */
	free(set);
	if (build_msg() == 0)
		push();
	log_info("services: %u serving", S.live.n);
}

int services_start(const struct cfg *cfg, unsigned n_slots)
{
	struct services_set *set;

	S.n_slots = n_slots;
	S.enabled = cfg->n_services > 0;
	for (unsigned i = 0; i < cfg->n_services; i++)
		S.ports[S.n_ports++] = port_of(&cfg->services[i].connect);
	if (!S.enabled)
		return 0;
	set = services_load(cfg, cfg->path);
	if (!set)
		return -1;
	services_commit(set);
	return S.msg ? 0 : -1;
}

bool services_enabled(void)
{
	return S.enabled;
}

void services_worker_env(unsigned i, const void **msg, size_t *len, const int **fds, unsigned *n)
{
	static int own[CFG_MAX_SERVICES];

	for (unsigned k = 0; k < S.live.n; k++)
		own[k] = S.live.e[k]->fds[i];
	*msg = S.enabled ? S.msg : NULL;
	*len = S.msg_len;
	*fds = own;
	*n = S.live.n;
}

void services_close_others(unsigned i)
{
	for (unsigned k = 0; k < S.live.n; k++)
		for (unsigned w = 0; w < S.n_slots; w++)
			if (w != i)
				close_fd(&S.live.e[k]->fds[w]);
}

static struct svc *live_by_id(uint32_t id)
{
	for (unsigned i = 0; i < S.live.n; i++)
		if (S.live.e[i]->def.id == id)
			return S.live.e[i];
	return NULL;
}

void services_on_stats(unsigned w, struct ipc_msg *m)
{
	for (uint32_t k = 0; k < m->u.svc_stats.n && w < S.n_slots; k++) {
		const struct svc_stats_entry *e = &m->u.svc_stats.e[k];
		struct svc *s = live_by_id(e->id);

		if (!s)
			continue; /* removed by a reload: its streams run out unseen */
		s->open[w] = e->open;
		s->ctr.accepted += e->ctr.accepted;
		s->ctr.refused += e->ctr.refused;
		s->ctr.handshake_failures += e->ctr.handshake_failures;
		s->ctr.connect_failures += e->ctr.connect_failures;
		s->ctr.bytes_in += e->ctr.bytes_in;
		s->ctr.bytes_out += e->ctr.bytes_out;
	}
}

void services_worker_gone(unsigned w)
{
	for (unsigned i = 0; i < S.live.n && w < S.n_slots; i++)
		S.live.e[i]->open[w] = 0;
}

void services_free(void)
{
	set_free(&S.live, true);
	free(S.msg);
	S.msg = NULL;
}

unsigned services_count(void)
{
	return S.live.n;
}

bool services_nth(unsigned i, struct services_view *v)
{
	const struct svc *s;

	if (i >= S.live.n)
		return false;
	s = S.live.e[i];
	v->name = s->def.name;
	v->listen = s->def.listen.text;
	v->connect = s->def.connect.text;
	v->client_cert = s->def.ca_len > 0;
	v->proxy_protocol = s->def.proxy_protocol;
	v->max_connections = s->def.max_connections;
	v->ctr = s->ctr;
	v->open = 0;
	for (unsigned w = 0; w < S.n_slots; w++)
		v->open += s->open[w];
	return true;
}
