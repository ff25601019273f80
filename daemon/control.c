/* Master (root): the control socket.  Serves tunnelctl requests from the
 * master's epoll loop; owns only the short-lived client connections, each
 * opened and closed within one control_on_listen() call, and reaches the
 * rest of the master through the ops it was opened with (control.h).
 *
 * Why clients are served synchronously, without their own epoll entries:
 * packets never pass through the master, the socket is root-only, and
 * tunnelctl writes its line right after connect, so the line is normally
 * there when the master accepts.  A client that dawdles costs the loop at
 * most CONTROL_READ_MS (and CONTROL_WRITE_MS to take its reply), which delays
 * logins a little but never drops anything.  In exchange there is no
 * per-client state, no timers and nothing to leak when a client vanishes. */
#include <config.h>
#include "daemon/bans.h"
#include "daemon/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/log.h"
#include "daemon/fsutil.h"
#include "daemon/jsonw.h"
#include "daemon/metrics.h"
#include "daemon/pktpath.h"
#include "daemon/services.h"
#include "daemon/sessions.h"
#include "daemon/slots.h"

#define CONTROL_ACCEPT_BATCH 16	  /* clients per call: keeps the loop turning */
#define CONTROL_READ_MS	     200  /* for the whole request line */
#define CONTROL_WRITE_MS     1000 /* for the whole reply */

static struct control_ops ops; /* the master's, from control_open() */

/* ---- commands ----------------------------------------------------------- */

static void put_counter(void *w, const char *key, uint64_t v)
{
	jw_u64(w, key, v);
}

/* Server-wide figures, the numbers /metrics serves: every session's
 * counters (ended ones included) and the login results. */
static void put_totals(struct jw *w, const struct sess_table *t)
{
	const struct metrics_totals *m = metrics_totals();

	jw_num(w, "leases_free", t->pool.usable - t->pool.used);
	jw_num(w, "handshakes", metrics_handshakes());
	jw_key(w, "totals");
	jw_open(w, '{');
	sess_counters_each(&m->traffic, put_counter, w);
	jw_u64(w, "drop_no_client", m->drop_no_client);
	jw_u64(w, "bans", m->bans);
	jw_u64(w, "reconnects", m->reconnects);
	jw_u64(w, "sessions_ended", m->sessions_ended);
	jw_close(w, '}');
	jw_key(w, "logins");
	jw_open(w, '{');
	for (int r = 0; r < LOGIN_N; r++)
		jw_u64(w, login_result_names[r], m->logins[r]);
	jw_close(w, '}');
}

/* A command writes its members after "ok":true and returns NULL, or returns
 * the error text having written nothing. */
typedef const char *(*cmd_fn)(struct jw *w, const char *arg);

/* "NAME": on, "NAME_why": null, or why it is off. */
static void jw_item(struct jw *w, const char *name, const struct pktpath_item *it)
{
	char key[40];

	jw_bool(w, name, it->on);
	snprintf(key, sizeof(key), "%s_why", name);
	jw_str(w, key, it->on ? NULL : it->why);
}

/* What carries the packets, as set up at start (pktpath.h). */
static void put_packet_path(struct jw *w)
{
	const struct pktpath *p = pktpath();

	jw_key(w, "packet_path");
	jw_open(w, '{');
	jw_num(w, "tun_queues", p->tun_queues);
	jw_item(w, "tun_steering", &p->tun_steering);
	/* IFF_VNET_HDR comes with the offloads, and checksums and TSO with it. */
	jw_bool(w, "tun_vnet_hdr", p->tun_offload.on);
	jw_bool(w, "tun_csum", p->tun_offload.on);
	jw_item(w, "tun_tso", &p->tun_offload);
	jw_item(w, "tun_uso", &p->tun_uso);
	jw_item(w, "dtls", &p->dtls);
	jw_item(w, "dtls_steering", &p->dtls_steering);
	jw_item(w, "udp_gso", &p->udp_gso);
	jw_item(w, "udp_gro", &p->udp_gro);
	jw_close(w, '}');
}

static const char *cmd_status(struct jw *w, const char *arg)
{
	const struct sess_table *t = ops.sessions;
	unsigned tunnels = 0, *per = calloc(ops.n_workers + 1, sizeof(*per));

	(void)arg;
	if (!per)
		return "out of memory";
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->s[i].used && t->s[i].worker >= 0) {
			tunnels++;
			if ((unsigned)t->s[i].worker < ops.n_workers)
				per[t->s[i].worker]++;
		}
	jw_str(w, "version", ops.version);
	jw_num(w, "pid", getpid());
	jw_num(w, "uptime_s", (long long)(time(NULL) - ops.started));
	jw_key(w, "workers");
	jw_open(w, '[');
	for (unsigned i = 0; i < ops.n_workers; i++) {
		jw_open(w, '{');
		jw_num(w, "id", i);
		jw_num(w, "pid", ops.worker_pid(i));
		jw_num(w, "tun_queue", i); /* slots.c: slot i holds queue i */
		jw_num(w, "udp_sockets", pktpath()->udp_sockets);
		jw_num(w, "tunnels", per[i]);
		jw_num(w, "tls_generation", metrics_worker_tls_generation(i));
		jw_close(w, '}');
	}
	jw_close(w, ']');
	free(per);
	put_packet_path(w);
	jw_num(w, "tls_generation", slots_tls_generation());
	jw_num(w, "sessions", t->count);
	jw_num(w, "tunnels", tunnels);
	jw_num(w, "leases", t->pool.used);
	put_totals(w, t);
	jw_num(w, "password_checks", ops.password_checks ? (long long)ops.password_checks() : 0);
	jw_num(w, "services", services_count());
	return NULL;
}

/* The TLS stream services: each one's streams and counters. */
static const char *cmd_services(struct jw *w, const char *arg)
{
	struct services_view v;

	(void)arg;
	jw_key(w, "services");
	jw_open(w, '[');
	for (unsigned i = 0; services_nth(i, &v); i++) {
		jw_open(w, '{');
		jw_str(w, "name", v.name);
		jw_str(w, "listen", v.listen);
		jw_str(w, "connect", v.connect);
		jw_bool(w, "client_cert", v.client_cert);
		jw_bool(w, "proxy_protocol", v.proxy_protocol);
		jw_num(w, "max_connections", v.max_connections);
		jw_u64(w, "open", v.open);
		jw_u64(w, "accepted", v.ctr.accepted);
		jw_u64(w, "refused", v.ctr.refused);
		jw_u64(w, "handshake_failures", v.ctr.handshake_failures);
		jw_u64(w, "connect_failures", v.ctr.connect_failures);
		jw_u64(w, "bytes_in", v.ctr.bytes_in);
		jw_u64(w, "bytes_out", v.ctr.bytes_out);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	return NULL;
}

static void put_session(struct jw *w, const struct sess_table *t, const struct session *s)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	const char *ip4 = NULL, *ip6 = NULL;
	bool connected = s->worker >= 0;

	if (s->lease >= 0 && t->pool.g.have4) {
		struct in_addr a;

		pool_addr4(&t->pool.g, (uint32_t)s->lease, &a);
		ip4 = inet_ntop(AF_INET, &a, a4, sizeof(a4));
	}
	if (s->lease >= 0 && t->pool.g.have6) {
		struct in6_addr a;

		pool_addr6(&t->pool.g, (uint32_t)s->lease, &a);
		ip6 = inet_ntop(AF_INET6, &a, a6, sizeof(a6));
	}
	jw_open(w, '{');
	jw_u64(w, "id", s->serial);
	jw_str(w, "user", s->user);
	jw_str(w, "peer", s->peer);
	jw_str(w, "ipv4", ip4);
	jw_str(w, "ipv6", ip6);
	jw_num(w, "worker", s->worker);
	jw_str(w, "state", connected ? "connected" : "waiting");
	/* 0 when never connected; idle_since only means something while waiting. */
	jw_num(w, "connected_since", s->lease >= 0 ? (long long)s->connected_since : 0);
	jw_num(w, "idle_since", connected ? 0 : (long long)s->idle_since);
	jw_str(w, "channel", !connected ? NULL : s->dtls_up ? "dtls" : "tls");
	jw_str(w, "dtls_cipher", connected && s->dtls_up ? s->dtls_cipher : NULL);
	jw_num(w, "reconnects", s->reconnects);
	jw_str(w, "group", s->group);
	jw_str(w, "groups", s->groups);
	/* rx_pkts ... drop_NAME ... dtls_tx_bytes, dns_intercepted: the
	 * session-end line's names. */
	sess_counters_each(&s->ctr, put_counter, w);
	jw_num(w, "last_active", (long long)s->last_active);
	jw_close(w, '}');
}

static const char *cmd_list(struct jw *w, const char *arg)
{
	const struct sess_table *t = ops.sessions;

	(void)arg;
	jw_key(w, "sessions");
	jw_open(w, '[');
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->s[i].used)
			put_session(w, t, &t->s[i]);
	jw_close(w, ']');
	return NULL;
}

/* A session id as tunnelctl shows it: the serial in decimal.  -EINVAL when
 * arg is not such a number. */
static int parse_id(const char *arg, uint32_t *id)
{
	unsigned long long v = 0;

	if (!*arg || strlen(arg) > 10)
		return -EINVAL;
	for (const char *p = arg; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

static struct session *find_serial(struct sess_table *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->s[i].used && t->s[i].serial == id)
			return &t->s[i];
	return NULL;
}

static const char *cmd_show(struct jw *w, const char *arg)
{
	struct sess_table *t = ops.sessions;
	struct session *s;
	uint32_t id;

	if (parse_id(arg, &id) < 0)
		return "session id must be a decimal number";
	s = find_serial(t, id);
	if (!s)
		return "no such session";
	jw_key(w, "session");
	put_session(w, t, s);
	return NULL;
}

/* An all-digit argument names a session id; anything else a user, all of
 * whose sessions end. */
static const char *cmd_disconnect(struct jw *w, const char *arg)
{
	struct sess_table *t = ops.sessions;
	unsigned n = 0, failed = 0;
	uint32_t id;

	if (parse_id(arg, &id) == 0) {
		struct session *s = find_serial(t, id);

		if (!s || s->revoked)
			return "no such session";
		if (ops.disconnect(s) < 0)
			return "could not disconnect the session";
		n = 1;
	} else {
		/* ops.disconnect() may free the slot; the scan only reads
		 * slots still ahead of it, so that is harmless. */
		for (uint32_t i = 0; i < t->cap; i++) {
			if (!t->s[i].used || t->s[i].revoked || strcmp(t->s[i].user, arg))
				continue; /* a revoked one is ending already */
			if (ops.disconnect(&t->s[i]) < 0)
				failed++;
			else
				n++;
		}
		if (!n && !failed)
			return "no session for that user";
		if (!n)
			return "could not disconnect the sessions";
	}
	log_info("control: disconnect %s: %u session(s)", arg, n);
	jw_num(w, "disconnected", n);
	return NULL;
}

static const char *cmd_reload(struct jw *w, const char *arg)
{
	(void)w;
	(void)arg;
	log_info("control: reload requested");
	ops.reload();
	return NULL;
}

static const char *cmd_stop(struct jw *w, const char *arg)
{
	(void)w;
	(void)arg;
	log_info("control: stop requested");
	ops.stop();
	return NULL;
}

static const char *cmd_drain(struct jw *w, const char *arg)
{
	(void)w;
	(void)arg;
	log_info("control: drain requested");
	ops.drain();
	return NULL;
}

static const char *cmd_bans(struct jw *w, const char *arg)
{
	time_t now = time(NULL);
	const struct ban *b;

	(void)arg;
	jw_key(w, "bans");
	jw_open(w, '[');
	for (unsigned i = 0; (b = ban_nth(i, now)) != NULL; i++) {
		jw_open(w, '{');
		jw_str(w, "address", b->addr);
		jw_num(w, "failures", b->failures);
		jw_num(w, "expires_in", (long long)(b->until - now));
		jw_close(w, '}');
	}
	jw_close(w, ']');
	return NULL;
}

static const char *cmd_unban(struct jw *w, const char *arg)
{
	char addr[BAN_ADDR_LEN];

	/* Accept the address as tunnelctl bans shows it, or with a port; an
	 * IPv6 address lifts the ban on its network. */
	if (strlen(arg) >= sizeof(addr))
		return "no ban on that address";
	if (arg[0] == '[' || (strchr(arg, ':') && strchr(arg, ':') == strrchr(arg, ':')))
		ban_addr_of_peer(arg, 128, addr);
	else
		snprintf(addr, sizeof(addr), "%s", arg);
	if (!ban_lift(addr, time(NULL)))
		return "no ban on that address";
	log_info("ban on %s lifted (tunnelctl)", addr);
	jw_str(w, "unbanned", addr);
	return NULL;
}

static const struct {
	const char *name;
	bool takes_arg;
	cmd_fn fn;
} commands[] = {
    {"status", false, cmd_status}, {"list", false, cmd_list},
    {"show", true, cmd_show},	   {"disconnect", true, cmd_disconnect},
    {"reload", false, cmd_reload}, {"stop", false, cmd_stop},
    {"bans", false, cmd_bans},	   {"unban", true, cmd_unban},
    {"drain", false, cmd_drain},   {"services", false, cmd_services},
};

/* Runs one request line (no newline) and leaves the reply, newline
 * included, in w.  Returns 0, or -ENOMEM when the reply could not be built. */
static int control_handle(char *line, struct jw *w)
{
	const char *err = "unknown command";
	char *arg = strchr(line, ' ');
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r') /* tolerate "nc -C" and the like */
		line[n - 1] = '\0';
	if (arg)
		*arg++ = '\0';
	jw_open(w, '{');
	jw_bool(w, "ok", true);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(line, commands[i].name))
			continue;
		if (commands[i].takes_arg && (!arg || !*arg || strchr(arg, ' ')))
			err = "expected one argument";
		else if (!commands[i].takes_arg && arg)
			err = "expected no argument";
		else
			err = commands[i].fn(w, arg);
		break;
	}
	if (err) {
		/* Start over: the command wrote nothing beyond "ok". */
		w->len = 0;
		w->depth = 0;
		w->first[0] = true;
		jw_open(w, '{');
		jw_bool(w, "ok", false);
		jw_str(w, "error", err);
	}
	jw_close(w, '}');
	jw_raw(w, "\n", 1);
	return w->oom ? -ENOMEM : 0;
}

/* ---- socket ------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for ev on fd until deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};
	long long left = deadline - now_ms();
	int r;

	if (left <= 0)
		return -ETIMEDOUT;
	do
		r = poll(&p, 1, (int)left);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r ? 0 : -ETIMEDOUT;
}

/* Reads up to the first newline (replaced by NUL) or EOF into buf.  0, or
 * -ETIMEDOUT, -EMSGSIZE (no newline in CONTROL_LINE_MAX bytes), -ENODATA
 * (EOF before anything), -errno. */
static int read_line(int fd, char buf[CONTROL_LINE_MAX + 1])
{
	long long deadline = now_ms() + CONTROL_READ_MS;
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, CONTROL_LINE_MAX - len, 0);
		char *nl;
		int r;

		if (n > 0) {
			nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
			if (nl) {
				*nl = '\0';
				return 0;
			}
			if (len == CONTROL_LINE_MAX)
				return -EMSGSIZE;
			continue;
		}
		if (n == 0) {
			buf[len] = '\0';
			return len ? 0 : -ENODATA;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

static int write_all(int fd, const char *p, size_t len)
{
	long long deadline = now_ms() + CONTROL_WRITE_MS;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static void serve_client(int fd)
{
	char line[CONTROL_LINE_MAX + 1];
	struct jw w = {.first = {true}};
	int r;

	r = read_line(fd, line);
	if (r < 0) {
		/* EOF without a request is a liveness probe (control_open does
		 * one); not worth a line in the log. */
		if (r != -ENODATA)
			log_warn("control: client dropped: %s", strerror(-r));
		return;
	}
	r = control_handle(line, &w);
	if (r == 0)
		r = write_all(fd, w.buf, w.len);
	if (r < 0)
		log_warn("control: reply not sent: %s", strerror(-r));
	free(w.buf);
}

void control_on_listen(int lfd)
{
	for (unsigned i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("control: accept: %s", strerror(errno));
			return;
		}
		serve_client(fd);
		close(fd);
	}
}

/* A socket file at path that nobody answers on is left over from a crash
 * and is removed; a live one is another server's and is kept.  0 when path
 * is now free. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	return unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

int control_open(const char *path, const struct control_ops *o, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old_umask;
	int s = -1, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/* The umask makes the file 0600 from birth: no window in which another
	 * user could connect before the chmod. */
	old_umask = umask(0177);
	r = bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r < 0)
		goto out;
	if (chmod(path, 0600) < 0 || listen(s, 16) < 0) {
		r = -errno;
		unlink(path);
		goto out;
	}
	ops = *o;
	*fd = s;
	s = -1;
out:
	if (s >= 0)
		close(s);
	return r;
}

void control_close(int fd, const char *path)
{
	if (fd < 0)
		return;
	close(fd);
	unlink(path);
}
