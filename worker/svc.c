/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker: its TLS stream services.  Owns the service slots: each one's
 * table entry (struct svc_def from the master), its listener, its
 * certificate and priorities for new streams (a struct tls_ctx whose key
 * is the key process's), its share of max-connections and its counters
 * since the last report.
 *
 * A reload (IPC_SVC) may add, change or remove services while streams
 * run: a slot keeps its place while streams use it, a changed service
 * gets a new context (streams keep the one they began with, tls.c frees
 * it after the last), a removed one loses its listener at once and its
 * slot once its last stream ends.  Listeners arrive with the message
 * (SCM_RIGHTS); one of the same generation as the slot's is a duplicate
 * and is closed. */
#include "config.h"
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"

struct wsvc {
	bool used; /* in the table, or streams still hold it */
	bool live; /* in the master's current table */
	bool listening;
	struct svc_def def;
	int fd; /* listener, -1 none */
	struct tls_ctx *ctx;
	uint32_t open;		 /* streams now */
	struct svc_counters ctr; /* since the last report */
	bool dirty;		 /* something to report */
};

static struct wsvc S[CFG_MAX_SERVICES];
static bool enabled, paused, stopped;

bool svc_enabled(void)
{
	return enabled;
}

/* A worker's share of a server-wide limit, as conn.c counts them. */
static uint32_t share(uint32_t limit)
{
	unsigned n = W.env->n_workers ? W.env->n_workers : 1;

	return (limit + n - 1) / n;
}

uint32_t svc_table_room(const struct cfg *cfg, unsigned n_workers)
{
	uint64_t room = 0;

	n_workers = n_workers ? n_workers : 1;
	for (unsigned i = 0; i < cfg->n_services; i++)
		room += (cfg->services[i].max_connections + n_workers - 1) / n_workers;
	return room > 1000000 ? 1000000 : (uint32_t)room;
}

static void listen_set(struct wsvc *s, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
				 .data.u64 = ev_data(K_SVC, (uint32_t)(s - S), 0)};

	if (s->fd < 0 || s->listening == on)
		return;
	if (epoll_ctl(W.ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->fd, on ? &ev : NULL) == 0)
		s->listening = on;
	else
		log_errno(-errno, "service %s: epoll_ctl", s->def.name);
}

static void drop_listener(struct wsvc *s)
{
	listen_set(s, false);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* The context for new streams of d: its chain, its key generation, its
 * CAs and the priorities. */
static struct tls_ctx *ctx_new(const struct svc_def *d, const char *cert, const char *ca,
			       const char *prio)
{
	gnutls_datum_t cd = {(unsigned char *)cert, d->cert_len};
	gnutls_datum_t ad = {(unsigned char *)ca, d->ca_len};
	struct tls_ctx *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return NULL;
	r = keysign_cred(&cd, d->key_gen, &t->cred);
	if (r == 0 && d->ca_len) {
		r = gnutls_certificate_set_x509_trust_mem(t->cred, &ad, GNUTLS_X509_FMT_PEM);
		r = r > 0 ? 0 : r == 0 ? GNUTLS_E_NO_CERTIFICATE_FOUND : r;
	}
	if (r == 0)
		r = gnutls_priority_init2(&t->prio, prio, NULL, 0);
	if (r < 0) {
		log_err("service %s: certificate, CA or priorities refused: %s", d->name,
			gnutls_strerror(r));
		if (t->cred)
			gnutls_certificate_free_credentials(t->cred);
		free(t);
		return NULL;
	}
	t->owned = true;
	t->svc_live = true;
	t->require_cert = d->ca_len > 0;
	return t;
}

static struct wsvc *slot_of_id(uint32_t id)
{
	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		if (S[i].used && S[i].def.id == id)
			return &S[i];
	return NULL;
}

static struct wsvc *free_slot(void)
{
	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		if (!S[i].used)
			return &S[i];
	return NULL;
}

/* A slot nobody uses any more goes. */
static void slot_gc(struct wsvc *s)
{
	if (!s->used || s->live || s->open)
		return;
	drop_listener(s);
	if (s->ctx)
		tls_ctx_release(s->ctx);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Entry i of msg, with its listener fd (taken), and the priorities. */
static void apply_one(const void *msg, uint32_t i, int fd, const char *prio, bool *seen)
{
	const char *cert, *ca;
	struct svc_def d;
	struct tls_ctx *t;
	struct wsvc *s;

	svcmsg_def(msg, i, &d);
	svcmsg_part(msg, i, &cert, &ca);
	s = slot_of_id(d.id);
	if (!s && !(s = free_slot())) {
		log_err("service %s: no free slot (streams of removed services)", d.name);
		close(fd);
		return;
	}
	t = ctx_new(&d, cert, ca, prio);
	if (!t) {
		close(fd);
		if (s->used) /* keeps what it had */
			seen[s - S] = true;
		return;
	}
	if (s->ctx)
		tls_ctx_release(s->ctx);
	s->ctx = t;
	if (s->used && s->fd >= 0 && s->def.lgen == d.lgen) {
		close(fd); /* the same socket again */
	} else {
		drop_listener(s);
		s->fd = fd;
	}
	s->def = d;
	s->used = s->live = true;
	seen[s - S] = true;
	if (!paused && !stopped)
		listen_set(s, true);
}

int svc_apply(const void *msg, size_t len, const int *fds, unsigned nfds)
{
	bool seen[CFG_MAX_SERVICES] = {false};
	char prio[1025];
	struct ipc_svc h;

	memcpy(&h, msg, sizeof(h));
	memcpy(prio, svcmsg_prio(msg), h.prio_len); /* svcmsg_check: 1..1024 bytes */
	prio[h.prio_len] = 0;
	if (!enabled && !h.n && !nfds)
		return 0; /* a reload without services, as the start was */
	if (!enabled || h.n != nfds) {
		log_err("services: %u services with %u listeners%s", h.n, nfds,
			enabled ? "" : ", but this worker was started without services");
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		return -EINVAL;
	}
	(void)len; /* ipc_check() has vetted it */
	for (uint32_t i = 0; i < h.n; i++)
		apply_one(msg, i, fds[i], prio, seen);
	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		if (S[i].used && !seen[i]) {
			/* Removed: no new streams; the open ones run out. */
			S[i].live = false;
			drop_listener(&S[i]);
			slot_gc(&S[i]);
		}
	log_info("services: %u in the table", h.n);
	return 0;
}

int svc_init(void)
{
	int fds[CFG_MAX_SERVICES];

	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		S[i].fd = -1;
	if (!W.env->svc_msg)
		return 0;
	enabled = true;
	/* Our own copies: the env's stay the master's view of the slot. */
	for (unsigned i = 0; i < W.env->n_svc && i < CFG_MAX_SERVICES; i++)
		fds[i] = W.env->svc_fds[i];
	return svc_apply(W.env->svc_msg, W.env->svc_len, fds, W.env->n_svc);
}

void svc_stop_listening(void)
{
	stopped = true;
	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		drop_listener(&S[i]);
}

void svc_listen_pause(bool on)
{
	paused = on;
	for (unsigned i = 0; i < CFG_MAX_SERVICES && !stopped; i++)
		if (S[i].live)
			listen_set(&S[i], !on);
}

int svc_listen_fd(unsigned i)
{
	return i < CFG_MAX_SERVICES && S[i].live ? S[i].fd : -1;
}

bool svc_admit(unsigned i)
{
	struct wsvc *s = &S[i];

	if (s->live && s->open < share(s->def.max_connections))
		return true;
	svc_refused(i);
	return false;
}

void svc_refused(unsigned i)
{
	S[i].ctr.refused++;
	S[i].dirty = true;
}

void svc_open(unsigned i)
{
	S[i].open++;
	S[i].ctr.accepted++;
	S[i].dirty = true;
}

void svc_close(unsigned i, enum conn_state was)
{
	struct wsvc *s = &S[i];

	if (was == CS_HANDSHAKE)
		s->ctr.handshake_failures++;
	if (s->open)
		s->open--;
	s->dirty = true;
	slot_gc(s);
}

struct tls_ctx *svc_ctx(unsigned i)
{
	return S[i].ctx;
}

const struct svc_def *svc_def_of(unsigned i)
{
	return &S[i].def;
}

void svc_count_connect_failure(unsigned i)
{
	S[i].ctr.connect_failures++;
	S[i].dirty = true;
}

void svc_count_bytes(unsigned i, uint64_t in, uint64_t out)
{
	S[i].ctr.bytes_in += in;
	S[i].ctr.bytes_out += out;
	S[i].dirty = true;
}

void svc_report(void)
{
	struct ipc_msg m = {.type = IPC_SVC_STATS};

	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++) {
		const struct wsvc *s = &S[i];

		if (s->used && s->dirty && s->live)
			m.u.svc_stats.e[m.u.svc_stats.n++] = (struct svc_stats_entry){
			    .id = s->def.id, .open = s->open, .ctr = s->ctr};
	}
	/* A full queue to the master: the counters wait for the next tick. */
	if (!m.u.svc_stats.n || chan_send(&m) < 0)
		return;
	for (unsigned i = 0; i < CFG_MAX_SERVICES; i++)
		if (S[i].used && S[i].dirty && S[i].live) {
			memset(&S[i].ctr, 0, sizeof(S[i].ctr));
			S[i].dirty = false;
		}
}
