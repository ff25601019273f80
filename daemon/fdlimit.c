/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the fd budget (see fdlimit.h).  Without it the SysV
 * script's or a shell's 1024 met a worker table of limits.max-clients plus
 * a share of limits.max-handshakes (11024 by default with one worker), and
 * a worker hit EMFILE long before its limits. */
#include "config.h"
#include "daemon/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

#include "common/log.h"
#include "worker/worker.h"

/* Per slot: the TUN queue, the listeners (counted apart), both ends of the
 * inbox, the master's ends of the control and log sockets and, while a
 * worker is forked, the child's ends; room for a socket more. */
#define MASTER_FDS_PER_SLOT 8
/* fds 0-2, epoll, signalfd, timerfd, the control socket and its clients,
 * the PID file, the log file or syslog, the steering map and program,
 * netlink and the files read at start and on reload. */
#define MASTER_OWN_FDS 64

static unsigned long limit_text(rlim_t v)
{
	return v == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)v;
}

int fdlimit_apply(const struct cfg *cfg, unsigned n, bool at_start)
{
	unsigned long worker = worker_fd_need(cfg, n);
	unsigned long master =
	    (unsigned long)n * (cfg->n_listen + cfg->n_listen_proxy + MASTER_FDS_PER_SLOT) +
	    MASTER_OWN_FDS;
	unsigned long need = worker > master ? worker : master;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return log_errno(-errno, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		if (worker >= master)
			log_msg(
			    at_start ? LOG_ERR : LOG_WARNING,
			    "%s: each worker may hold %lu open files (limits.max-clients = %u "
			    "plus its share of limits.max-handshakes = %u, listeners, inboxes), "
			    "but RLIMIT_NOFILE is %lu (hard limit %lu): lower "
			    "limits.max-clients or limits.max-handshakes, or raise the limit "
			    "(ulimit -n, LimitNOFILE=)",
			    cfg->path, worker, cfg->max_clients, cfg->max_handshakes,
			    limit_text(rl.rlim_cur), limit_text(rl.rlim_max));
		else
			log_msg(at_start ? LOG_ERR : LOG_WARNING,
				"%s: the master holds up to %lu open files for %u workers, but "
				"RLIMIT_NOFILE is %lu (hard limit %lu): lower workers, or raise "
				"the limit (ulimit -n, LimitNOFILE=)",
				cfg->path, master, n, limit_text(rl.rlim_cur),
				limit_text(rl.rlim_max));
		return at_start ? -EMFILE : 0;
	}
	log_info("RLIMIT_NOFILE raised from %lu to %lu (hard limit %lu): what %u workers' tables "
		 "need",
		 limit_text(rl.rlim_cur), need, limit_text(rl.rlim_max), n);
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return log_errno(-errno, "setrlimit(RLIMIT_NOFILE, %lu)", need);
	return 0;
}
