/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): start-up steps of master.c that need none of its state
 * but what they are given (mstart.h): the hashing and accounting
 * processes, the cookie keys, the ip_forward warning, the clock of
 * systemd's reload notice, the STATUS= line.  Owns only the last line
 * sent. */
#include "config.h"
#include "daemon/mstart.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/acct.h"
#include "daemon/auth.h"
#include "daemon/cookies.h"
#include "daemon/hashpool.h"
#include "daemon/logins.h"
#include "daemon/radius.h"
#include "daemon/slots.h"

uint64_t mstart_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void mstart_warn_forwarding(void)
{
	char c = '1';
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	if (c == '0')
		log_warn("net.ipv4.ip_forward is 0: clients reach only this server");
}

int mstart_cookie_keys(const struct cfg *cfg)
{
	struct cookie_ring *ring;
	char err[CFG_ERR_LEN];

	if (cookies_load(cfg, &ring, err, sizeof(err)) < 0) {
		log_err("session.cookie-key-file %s", err);
		return -1;
	}
	cookies_commit(&ring);
	cookies_free(ring); /* nothing was in use before */
	log_info("cookies: %s", cookies_describe(err, sizeof(err)));
	return 0;
}

/* RADIUS accounting: its process, forked with the hashing ones. */
static int start_acct(int ep, const struct cfg *cfg, const struct hasher_id *id,
		      void (*forget)(void))
{
	const struct acct_env ae = {
	    .id = *id,
	    .queue_max = cfg->radius_acct_queue,
	    .forget = forget,
	    .open = radius_client,
	};

	if (!radius_on() || !cfg->radius_accounting)
		return 0;
	return acct_setup(ep, &ae) < 0 ? -1 : 0;
}

int mstart_hashers(int ep, const struct cfg *cfg, unsigned n_workers, void (*forget)(void))
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct hashpool_env he = {
	    .n = ncpu > 0 ? (ncpu > 64 ? 64 : (unsigned)ncpu) : 1,
	    .n_workers = n_workers,
	    .forget = forget,
	    .done = auth_login_done,
	    .node_id = cfg->node_id,
	};
	int r;

	slots_identity(&he.id.uid, &he.id.gid, &he.id.chroot_dir);
	if (radius_on()) { /* logins through RADIUS, from its own prison */
		he.n = cfg->radius_processes;
		he.radius_open = radius_client;
		he.id.chroot_dir = radius_prison();
	}
	if (hashpool_setup(ep, &he) < 0)
		return -1;
	hashpool_set_backend(cfg->pam_service, logins_totp());
	r = hashpool_start(auth_users());
	if (r < 0)
		return log_errno(r, "no hashing process could be started");
	log_info("%u hashing processes for %s%s%s", he.n,
		 radius_on() ? "RADIUS logins" : "password checks",
		 cfg->pam_service ? ", PAM service " : "",
		 cfg->pam_service ? cfg->pam_service : "");
	return start_acct(ep, cfg, &he.id, forget);
}

void mstart_status(bool draining, unsigned tunnels, unsigned sessions, unsigned workers)
{
	static char last[128];
	char st[sizeof(last)];

	snprintf(st, sizeof(st), "%s%u clients connected, %u sessions, %u workers",
		 draining ? "Draining: " : "", tunnels, sessions, workers);
	if (strcmp(st, last) != 0) {
		memcpy(last, st, sizeof(st));
		sd_notifyf(0, "STATUS=%s", st);
	}
}
