/* tunnelctl: run by an administrator (root: the socket is mode 0600) to
 * query and steer a running tunneld over its control socket.  Owns one
 * connection: sends one request line, reads one JSON reply, exits. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "common/hex.h"

#define PROG "tunnelctl"

/* The same default as control.socket in conf/config.c. */
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define DEFAULT_SOCKET RUNSTATEDIR "/tunneld/control.sock"

#define EXIT_REPLY_ERROR 1
#define EXIT_USAGE	 2
#define EXIT_NO_SERVER	 3
#define LINE_MAX_BYTES	 512	      /* the server's limit, newline included */
#define REPLY_MAX	 (256u << 20) /* a sanity bound, far above 1e6 sessions */
#define REPLY_TIMEOUT_S	 30
#define JSON_MAX_DEPTH	 8

/* ---- a small JSON reader ------------------------------------------------
 * Enough for the server's replies: objects, arrays, strings, numbers,
 * true/false/null.  Escaped control and non-ASCII characters become '?', so
 * a hostile user name cannot drive the terminal.
 * Numbers and literals are kept as their text, which is all we print. */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	char *text;	    /* J_BOOL, J_NUM, J_STR */
	char **keys;	    /* J_OBJ: n keys */
	struct jval *items; /* J_ARR, J_OBJ: n values */
	size_t n;
};

struct jparse {
	const char *p;
	unsigned depth;
};

static void jfree(struct jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		jfree(&v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static void skip_ws(struct jparse *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

/* At the opening quote; returns a malloc'ed string or NULL. */
static char *parse_string(struct jparse *j)
{
	const char *start = ++j->p;
	char *out, *o;

	/* The unescaped text is never longer than the escaped one. */
	while (*j->p && *j->p != '"')
		j->p += (*j->p == '\\' && j->p[1]) ? 2 : 1;
	if (*j->p != '"')
		return NULL;
	out = o = malloc((size_t)(j->p - start) + 1);
	if (!out)
		return NULL;
	for (const char *s = start; s < j->p; s++) {
		if (*s != '\\') {
			*o++ = (unsigned char)*s < 0x20 ? '?' : *s;
			continue;
		}
		switch (*++s) {
		case 'n':
		case 't':
		case 'r':
		case 'b':
		case 'f':
			*o++ = '?'; /* control characters never reach the terminal */
			break;
		case 'u': {
			int c = 0;

			for (int k = 1; k <= 4; k++) {
				int h = s + k < j->p ? hex_digit(s[k]) : -1;

				if (h < 0) {
					free(out);
					return NULL;
				}
				c = c * 16 + h;
			}
			s += 4;
			*o++ = c >= 0x20 && c < 0x7f ? (char)c : '?';
			break;
		}
		default: /* \" \\ \/ and, tolerantly, anything else */
			*o++ = *s;
			break;
		}
	}
	*o = '\0';
	j->p++;
	return out;
}

static int parse_value(struct jparse *j, struct jval *v);

/* Arrays and objects: elements separated by commas up to the closer. */
static int parse_container(struct jparse *j, struct jval *v, bool obj)
{
	char close = obj ? '}' : ']';

	v->type = obj ? J_OBJ : J_ARR;
	if (++j->depth > JSON_MAX_DEPTH)
		return -1;
	j->p++;
	skip_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		struct jval *items = realloc(v->items, (v->n + 1) * sizeof(*items));
		char *key = NULL;

		if (!items)
			return -1;
		v->items = items;
		memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
		if (obj) {
			char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

			if (!keys)
				return -1;
			v->keys = keys;
			skip_ws(j);
			if (*j->p != '"' || !(key = parse_string(j)))
				return -1;
			skip_ws(j);
			if (*j->p++ != ':') {
				free(key);
				return -1;
			}
			v->keys[v->n] = key;
		}
		v->n++;
		if (parse_value(j, &v->items[v->n - 1]) < 0)
			return -1;
		skip_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return -1;
		j->depth--;
		return 0;
	}
}

static int parse_value(struct jparse *j, struct jval *v)
{
	const char *start;

	skip_ws(j);
	switch (*j->p) {
	case '{':
	case '[':
		return parse_container(j, v, *j->p == '{');
	case '"':
		v->type = J_STR;
		v->text = parse_string(j);
		return v->text ? 0 : -1;
	}
	start = j->p;
	while ((*j->p >= 'a' && *j->p <= 'z') || (*j->p >= '0' && *j->p <= '9') || *j->p == '-' ||
	       *j->p == '+' || *j->p == '.' || *j->p == 'E')
		j->p++;
	if (j->p == start)
		return -1;
	if (!strncmp(start, "null", 4) && j->p - start == 4)
		return 0; /* J_NULL, no text: printed as "-" */
	if ((!strncmp(start, "true", 4) && j->p - start == 4) ||
	    (!strncmp(start, "false", 5) && j->p - start == 5))
		v->type = J_BOOL;
	else if ((*start >= '0' && *start <= '9') || *start == '-')
		v->type = J_NUM;
	else
		return -1;
	v->text = strndup(start, (size_t)(j->p - start));
	return v->text ? 0 : -1;
}

static int json_parse(const char *text, struct jval *v)
{
	struct jparse j = {.p = text};

	memset(v, 0, sizeof(*v));
	if (parse_value(&j, v) < 0) {
		jfree(v);
		return -1;
	}
	return 0;
}

static const struct jval *jget(const struct jval *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

/* Text of a scalar member; "-" when absent or null. */
static const char *jtext(const struct jval *obj, const char *key)
{
	const struct jval *v = jget(obj, key);

	return v && v->text ? v->text : "-";
}

/* ---- human output ------------------------------------------------------- */

/* Unix time as local "YYYY-MM-DD HH:MM:SS"; "-" for 0 or junk. */
static const char *fmt_time(const char *unix_text, char *buf, size_t len)
{
	time_t t = (time_t)strtoll(unix_text, NULL, 10);
	struct tm tm;

	if (t <= 0 || !localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		return "-";
	return buf;
}

/* "name:" and an object's members indented below it. */
static void print_members(const char *name, const struct jval *o)
{
	if (!o || o->type != J_OBJ)
		return;
	printf("%s:\n", name);
	for (size_t i = 0; i < o->n; i++)
		printf("  %s: %s\n", o->keys[i], o->items[i].text ? o->items[i].text : "-");
}

/* "on", or "off (why)"; "-" when the server did not say. */
static void print_item(const char *label, const struct jval *p, const char *key)
{
	char why[64];
	const char *on = jtext(p, key);

	snprintf(why, sizeof(why), "%s_why", key);
	if (!strcmp(on, "true"))
		printf("  %s: on\n", label);
	else if (!strcmp(on, "false"))
		printf("  %s: off (%s)\n", label, jtext(p, why));
	else
		printf("  %s: -\n", label);
}

static void print_packet_path(const struct jval *r)
{
	const struct jval *p = jget(r, "packet_path");

	if (!p || p->type != J_OBJ)
		return;
	printf("packet path:\n");
	printf("  TUN queues: %s\n", jtext(p, "tun_queues"));
	print_item("TUN steering (eBPF, each packet to its client's worker)", p, "tun_steering");
	print_item("TUN offloads (vnet header, checksums, TSO4/TSO6)", p, "tun_tso");
	print_item("TUN UDP offload (USO4/USO6)", p, "tun_uso");
	print_item("DTLS", p, "dtls");
	print_item("DTLS steering (eBPF, each datagram to its session's worker)", p,
		   "dtls_steering");
	print_item("UDP GSO (segmented sends)", p, "udp_gso");
	print_item("UDP GRO (merged receives)", p, "udp_gro");
}

static void print_status(const struct jval *r)
{
	const struct jval *ws = jget(r, "workers");

	printf("version: %s\n", jtext(r, "version"));
	printf("pid: %s\n", jtext(r, "pid"));
	printf("uptime: %s s\n", jtext(r, "uptime_s"));
	printf("workers: %zu\n", ws && ws->type == J_ARR ? ws->n : 0);
	for (size_t i = 0; ws && ws->type == J_ARR && i < ws->n; i++)
		printf("  worker %s: pid %s, TUN queue %s, %s UDP socket(s), %s tunnel(s), "
		       "certificate generation %s\n",
		       jtext(&ws->items[i], "id"), jtext(&ws->items[i], "pid"),
		       jtext(&ws->items[i], "tun_queue"), jtext(&ws->items[i], "udp_sockets"),
		       jtext(&ws->items[i], "tunnels"), jtext(&ws->items[i], "tls_generation"));
	printf("certificate generation: %s (the last start or reload)\n",
	       jtext(r, "tls_generation"));
	print_packet_path(r);
	printf("sessions: %s\n", jtext(r, "sessions"));
	printf("tunnels: %s\n", jtext(r, "tunnels"));
	printf("leases: %s (%s free)\n", jtext(r, "leases"), jtext(r, "leases_free"));
	printf("handshakes: %s\n", jtext(r, "handshakes"));
	printf("password checks: %s (since the start)\n", jtext(r, "password_checks"));
	print_members("totals", jget(r, "totals"));
	print_members("logins", jget(r, "logins"));
	printf("services: %s\n", jtext(r, "services"));
}

static void print_services(const struct jval *r)
{
	static const char *const keys[] = {
	    "open",	"accepted", "refused", "handshake_failures", "connect_failures",
	    "bytes_in", "bytes_out"};
	const struct jval *ss = jget(r, "services");

	for (size_t i = 0; ss && ss->type == J_ARR && i < ss->n; i++) {
		const struct jval *s = &ss->items[i];

		printf("%s %s -> %s%s%s\n", jtext(s, "name"), jtext(s, "listen"),
		       jtext(s, "connect"),
		       !strcmp(jtext(s, "client_cert"), "true") ? " client-cert" : "",
		       !strcmp(jtext(s, "proxy_protocol"), "true") ? " proxy-v2" : "");
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			printf("  %s=%s", keys[k], jtext(s, keys[k]));
		printf("\n");
	}
}

/* The SINCE column: when the tunnel came up, or when a waiting session lost
 * it. */
static const char *since_of(const struct jval *s, char *buf, size_t len)
{
	bool waiting = !strcmp(jtext(s, "state"), "waiting");

	return fmt_time(jtext(s, waiting ? "idle_since" : "connected_since"), buf, len);
}

static const struct {
	const char *head, *key; /* key NULL: SINCE */
} list_cols[] = {
    {"ID", "id"},
    {"USER", "user"},
    {"GROUP", "group"},
    {"IPV4", "ipv4"},
    {"IPV6", "ipv6"},
    {"WORKER", "worker"},
    {"STATE", "state"},
    {"CHANNEL", "channel"},
    {"SINCE", NULL},
    {"RX_PKTS", "rx_pkts"},
    {"RX_BYTES", "rx_bytes"},
    {"TX_PKTS", "tx_pkts"},
    {"TX_BYTES", "tx_bytes"},
    {"PEER", "peer"},
};
#define N_COLS (sizeof(list_cols) / sizeof(list_cols[0]))

static const char *cell(const struct jval *s, size_t c, char *buf, size_t len)
{
	return list_cols[c].key ? jtext(s, list_cols[c].key) : since_of(s, buf, len);
}

static void print_list(const struct jval *r)
{
	const struct jval *ss = jget(r, "sessions");
	size_t width[N_COLS];
	char buf[32];

	if (!ss || ss->type != J_ARR)
		return;
	for (size_t c = 0; c < N_COLS; c++)
		width[c] = strlen(list_cols[c].head);
	for (size_t i = 0; i < ss->n; i++)
		for (size_t c = 0; c < N_COLS; c++) {
			size_t w = strlen(cell(&ss->items[i], c, buf, sizeof(buf)));

			width[c] = w > width[c] ? w : width[c];
		}
	for (size_t c = 0; c < N_COLS; c++)
		printf("%-*s%s", c + 1 < N_COLS ? (int)width[c] : 0, list_cols[c].head,
		       c + 1 < N_COLS ? "  " : "\n");
	for (size_t i = 0; i < ss->n; i++)
		for (size_t c = 0; c < N_COLS; c++)
			printf("%-*s%s", c + 1 < N_COLS ? (int)width[c] : 0,
			       cell(&ss->items[i], c, buf, sizeof(buf)),
			       c + 1 < N_COLS ? "  " : "\n");
}

static void print_show(const struct jval *r)
{
	const struct jval *s = jget(r, "session");
	char buf[32];

	for (size_t i = 0; s && s->type == J_OBJ && i < s->n; i++) {
		const char *k = s->keys[i], *v = s->items[i].text ? s->items[i].text : "-";
		size_t kl = strlen(k);

		if ((kl > 6 && !strcmp(k + kl - 6, "_since")) || !strcmp(k, "last_active"))
			v = fmt_time(v, buf, sizeof(buf));
		printf("%s: %s\n", k, v);
	}
}

static void print_bans(const struct jval *r)
{
	const struct jval *bs = jget(r, "bans");

	for (size_t i = 0; bs && bs->type == J_ARR && i < bs->n; i++)
		printf("%s failures=%s expires_in=%ss\n", jtext(&bs->items[i], "address"),
		       jtext(&bs->items[i], "failures"), jtext(&bs->items[i], "expires_in"));
}

static void print_reply(const char *cmd, const struct jval *r)
{
	if (!strcmp(cmd, "status"))
		print_status(r);
	else if (!strcmp(cmd, "list"))
		print_list(r);
	else if (!strcmp(cmd, "show"))
		print_show(r);
	else if (!strcmp(cmd, "disconnect"))
		printf("disconnected %s session(s)\n", jtext(r, "disconnected"));
	else if (!strcmp(cmd, "reload"))
		printf("reload requested\n");
	else if (!strcmp(cmd, "stop"))
		printf("stop requested\n");
	else if (!strcmp(cmd, "drain"))
		printf("drain requested\n");
	else if (!strcmp(cmd, "bans"))
		print_bans(r);
	else if (!strcmp(cmd, "unban"))
		printf("unbanned %s\n", jtext(r, "unbanned"));
	else if (!strcmp(cmd, "services"))
		print_services(r);
}

/* ---- command line and socket -------------------------------------------- */

static const struct {
	const char *name;
	bool takes_arg;
} commands[] = {
    {"status", false}, {"list", false}, {"show", true},	 {"disconnect", true}, {"reload", false},
    {"stop", false},   {"bans", false}, {"unban", true}, {"drain", false},     {"services", false},
};

static void usage_error(const char *msg) __attribute__((noreturn));
static void usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", msg);
	exit(EXIT_USAGE);
}

static void help(void) __attribute__((noreturn));
static void help(void)
{
	printf("Usage: " PROG " [-s SOCKET] [--json] COMMAND [ARG]\n"
	       "Query and control a running tunneld.\n\n"
	       "Commands:\n"
	       "  status              version, uptime, workers, the packet path, session counts\n"
	       "  list                every session with its addresses and counters\n"
	       "  show ID             one session\n"
	       "  disconnect USER|ID  end a session, or all sessions of a user\n"
	       "  reload              re-read the configuration (like SIGHUP)\n"
	       "  stop                stop the server, telling clients to quit (like SIGINT)\n"
	       "  drain               stop taking clients, move them away, stop (SIGQUIT)\n"
	       "  bans                client addresses banned after failed logins\n"
	       "  unban ADDRESS       lift a ban\n"
	       "  services            TLS stream services: open streams and counters\n\n"
	       "Options:\n"
	       "  -s, --socket=PATH   control socket (default " DEFAULT_SOCKET ")\n"
	       "  -j, --json          print the server's JSON reply as is\n"
	       "  -h, --help          show this help and exit\n"
	       "  -V, --version       show the version and exit\n\n"
	       "Exit status: 0 success, 1 the server refused the request, 2 usage\n"
	       "error, 3 the server cannot be reached.\n");
	exit(EXIT_SUCCESS);
}

/* Connected socket or -errno. */
static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A wedged server must not hang scripts forever. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Sends line and reads the reply up to EOF into *out (NUL-terminated).
 * 0 or -errno. */
static int exchange(int fd, const char *line, char **out)
{
	size_t len = strlen(line), cap = 0, got = 0;
	char *buf = NULL;

	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			return -errno;
		off += n > 0 ? (size_t)n : 0;
	}
	for (;;) {
		ssize_t n;

		if (cap - got < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > REPLY_MAX || !(nb = realloc(buf, cap))) {
				free(buf);
				return cap > REPLY_MAX ? -EFBIG : -ENOMEM;
			}
			buf = nb;
		}
		n = recv(fd, buf + got, cap - got - 1, 0);
		if (n == 0)
			break;
		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			free(buf);
			return r == -EAGAIN ? -ETIMEDOUT : r;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

/* Reads the command line into *sock and *json and the request line (the
 * command and its argument) into line; returns the command.  Exits on
 * --help, --version and usage errors. */
static const char *parse_args(int argc, char **argv, const char **sock, bool *json, char *line,
			      size_t cap)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd, *arg = NULL;
	bool known = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*sock = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			help();
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			exit(EXIT_SUCCESS);
		default:
			usage_error("invalid option");
		}
	}
	if (optind >= argc)
		usage_error("missing command");
	cmd = argv[optind++];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		known = true;
		if (commands[i].takes_arg && optind >= argc)
			usage_error("this command needs an argument");
		if (commands[i].takes_arg)
			arg = argv[optind++];
	}
	if (!known)
		usage_error("unknown command");
	if (optind < argc)
		usage_error("too many arguments");
	if (arg && (!*arg || strpbrk(arg, " \r\n")))
		usage_error("the argument must be one word");
	if ((size_t)snprintf(line, cap, "%s%s%s\n", cmd, arg ? " " : "", arg ? arg : "") >= cap)
		usage_error("argument too long");
	return cmd;
}

/* Prints the server's reply to cmd (as is with json); the exit status. */
static int show_reply(const char *cmd, const char *reply, bool json)
{
	struct jval r;
	bool ok;

	if (json_parse(reply, &r) < 0 || r.type != J_OBJ || !jget(&r, "ok")) {
		fprintf(stderr, PROG ": malformed reply from the server\n");
		return EXIT_REPLY_ERROR;
	}
	ok = !strcmp(jtext(&r, "ok"), "true");
	if (json)
		fputs(reply, stdout);
	else if (ok)
		print_reply(cmd, &r);
	if (!ok)
		fprintf(stderr, PROG ": %s\n", jtext(&r, "error"));
	jfree(&r);
	return ok ? EXIT_SUCCESS : EXIT_REPLY_ERROR;
}

int main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET, *cmd;
	char line[LINE_MAX_BYTES], *reply = NULL;
	bool json = false;
	int fd, rc;

	cmd = parse_args(argc, argv, &sock, &json, line, sizeof(line));
	fd = ctl_connect(sock);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot connect to %s: %s (is tunneld running?)\n", sock,
			strerror(-fd));
		return EXIT_NO_SERVER;
	}
	rc = exchange(fd, line, &reply);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, PROG ": no reply from %s: %s\n", sock, strerror(-rc));
		return EXIT_NO_SERVER;
	}
	rc = show_reply(cmd, reply, json);
	free(reply);
	return rc;
}
