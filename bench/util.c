/* tunneld-load: clock, histograms, packets, the server's CPU and memory
 * from /proc, and the two plain UDP programs: the echo server (run in the
 * LAN namespace) and the tunnel-less RTT probe. */
#include "config.h"
#include "bench/load.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("tunneld-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- histograms ---- */

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->b = calloc(HIST_US_BUCKETS + HIST_MS_BUCKETS + 1, sizeof(*h->b));
	if (!h->b)
		die("out of memory");
}

void hist_add(struct hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000, ms = ns / 1000000;

	if (us < HIST_US_BUCKETS)
		h->b[us]++;
	else if (ms < HIST_US_BUCKETS / 1000 + HIST_MS_BUCKETS)
		h->b[HIST_US_BUCKETS + ms - HIST_US_BUCKETS / 1000]++;
	else
		h->b[HIST_US_BUCKETS + HIST_MS_BUCKETS]++;
	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

double hist_quantile_us(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i <= HIST_US_BUCKETS + HIST_MS_BUCKETS; i++) {
		seen += h->b[i];
		if (seen <= want)
			continue;
		if (i < HIST_US_BUCKETS)
			return i + 0.5;
		if (i < HIST_US_BUCKETS + HIST_MS_BUCKETS)
			return (i - HIST_US_BUCKETS + HIST_US_BUCKETS / 1000) * 1000.0 + 500;
		break;
	}
	return (double)h->max_ns / 1000;
}

void hist_merge(struct hist *h, const uint32_t *b, const struct hist *from)
{
	for (unsigned i = 0; i <= HIST_US_BUCKETS + HIST_MS_BUCKETS; i++)
		h->b[i] += b[i];
	if (!from)
		return;
	h->n += from->n;
	h->sum_ns += from->sum_ns;
	if (from->max_ns > h->max_ns)
		h->max_ns = from->max_ns;
}

void hist_free(struct hist *h)
{
	free(h->b);
	h->b = NULL;
}

/* ---- the server's processes ---- */

struct pinfo {
	pid_t pid, ppid;
	uint64_t ticks; /* utime + stime + cutime + cstime */
	bool hasher;	/* tunneld's password hashing process (comm tunneld-hash) */
};

static int read_pinfo(pid_t pid, struct pinfo *pi)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	int ppid;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			 &ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	pi->pid = pid;
	pi->ppid = ppid;
	pi->ticks = ut + st + cut + cst;
	*p = '\0';
	pi->hasher = (p = strchr(buf, '(')) != NULL && strcmp(p + 1, "tunneld-hash") == 0;
	return 0;
}

static void read_mem(pid_t pid, uint64_t *rss_kb, uint64_t *pss_kb)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "Rss: %llu kB", &v) == 1)
			*rss_kb += v;
		else if (sscanf(line, "Pss: %llu kB", &v) == 1)
			*pss_kb += v;
	}
	fclose(f);
}

int srv_stat_read(const pid_t *roots, unsigned n, struct srv_stat *st)
{
	struct pinfo *all = NULL;
	size_t cnt = 0, cap = 0;
	bool *in;
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t ticks = 0, hash_ticks = 0;
	bool grew = true;

	memset(st, 0, sizeof(*st));
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 1024;
			all = realloc(all, cap * sizeof(*all));
			if (!all)
				die("out of memory");
		}
		if (read_pinfo((pid_t)atoi(de->d_name), &all[cnt]) == 0)
			cnt++;
	}
	closedir(d);
	in = calloc(cnt + 1, sizeof(*in));
	if (!in)
		die("out of memory");
	for (size_t i = 0; i < cnt; i++)
		for (unsigned k = 0; k < n; k++)
			if (all[i].pid == roots[k])
				in[i] = true;
	/* Descendants: a few passes settle any depth seen in practice. */
	for (unsigned pass = 0; grew && pass < 16; pass++) {
		grew = false;
		for (size_t i = 0; i < cnt; i++) {
			if (in[i])
				continue;
			for (size_t j = 0; j < cnt; j++)
				if (in[j] && all[j].pid == all[i].ppid) {
					in[i] = grew = true;
					break;
				}
		}
	}
	for (size_t i = 0; i < cnt; i++) {
		if (!in[i])
			continue;
		ticks += all[i].ticks;
		if (all[i].hasher)
			hash_ticks += all[i].ticks;
		st->nproc++;
		read_mem(all[i].pid, &st->rss_kb, &st->pss_kb);
	}
	st->cpu_s = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	st->hash_cpu_s = (double)hash_ticks / (double)sysconf(_SC_CLK_TCK);
	free(in);
	free(all);
	return st->nproc ? 0 : -ESRCH;
}

/* ---- packets ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t pkt_build(uint8_t *out, size_t size, struct in_addr src, const struct sockaddr_in *dst,
		 uint16_t sport, const struct echo_hdr *eh, bool tcp)
{
	uint8_t *ip = out, *l4 = out + 20;
	size_t l4len = size - 20, hlen = tcp ? 20 : 8;
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t sum;
	uint16_t c;

	memset(out, 0, size);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(size >> 8);
	ip[3] = (uint8_t)size;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst->sin_addr, 4);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	memcpy(l4 + 2, &dst->sin_port, 2);
	if (tcp) {
		/* One in-order stream per sender: segment n starts at byte
		 * n * payload of it; acknowledges the peer's first byte. */
		uint32_t seq = eh->seq * (uint32_t)(l4len - hlen), ack = 1;
		for (int i = 0; i < 4; i++) {
			l4[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
			l4[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
		}
		l4[12] = 5 << 4;      /* data offset: 20 bytes */
		l4[13] = 0x10 | 0x08; /* ACK | PSH */
		l4[14] = 0xff;	      /* window */
		l4[15] = 0xff;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	}
	memcpy(l4 + hlen, eh, sizeof(*eh));
	/* Pseudo-header: addresses, protocol, length of the L4 part. */
	sum = csum_add(0, ip + 12, 8);
	sum += proto + (uint32_t)l4len;
	c = csum_fold(csum_add(sum, l4, l4len));
	if (c == 0 && !tcp)
		c = 0xffff;
	l4[tcp ? 16 : 6] = (uint8_t)(c >> 8);
	l4[tcp ? 17 : 7] = (uint8_t)c;
	return size;
}

const struct echo_hdr *pkt_parse(const uint8_t *p, size_t len, struct in_addr me)
{
	static struct echo_hdr eh; /* aligned copy */
	size_t ihl, hlen;

	if (len < 20 || (p[0] >> 4) != 4)
		return NULL;
	ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || len < ihl + 20 || memcmp(p + 16, &me, 4) != 0)
		return NULL;
	if (p[9] == IPPROTO_UDP)
		hlen = 8;
	else if (p[9] == IPPROTO_TCP)
		hlen = (size_t)(p[ihl + 12] >> 4) * 4;
	else
		return NULL;
	if (hlen < 8 || len < ihl + hlen + sizeof(eh))
		return NULL;
	memcpy(&eh, p + ihl + hlen, sizeof(eh));
	return eh.magic == LOAD_MAGIC ? &eh : NULL;
}

/* ---- the tun reflector (LAN namespace) ---- */

int reflector(const char *dev, double duration)
{
	struct ifreq ifr = {.ifr_flags = IFF_TUN | IFF_NO_PI};
	uint64_t end = now_ns() + (uint64_t)(duration * NS_PER_SEC), reflected = 0, other = 0;
	static uint8_t buf[65536];
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), s;

	if (strlen(dev) >= IFNAMSIZ)
		die("reflect: device name '%s' too long", dev);
	if (fd < 0)
		die("reflect: /dev/net/tun: %s", strerror(errno));
	memcpy(ifr.ifr_name, dev, strlen(dev) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("reflect: TUNSETIFF %s: %s", dev, strerror(errno));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("reflect: %s flags: %s", dev, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("reflect: %s up: %s", dev, strerror(errno));
	close(s);
	printf("reflect: %s up for at most %.0f s\n", dev, duration);
	fflush(stdout);
	while (now_ns() < end && !stop_flag) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			uint8_t t[4];
			size_t ihl = (size_t)(buf[0] & 15) * 4;
			if (n < 20 || (buf[0] >> 4) != 4 || ihl < 20 || (size_t)n < ihl + 4 ||
			    (buf[9] != IPPROTO_UDP && buf[9] != IPPROTO_TCP)) {
				other++; /* IPv6 router solicitations and the like */
				continue;
			}
			/* Swapping the addresses and the ports keeps both the
			 * IP and the pseudo-header checksums as they are. */
			memcpy(t, buf + 12, 4);
			memcpy(buf + 12, buf + 16, 4);
			memcpy(buf + 16, t, 4);
			memcpy(t, buf + ihl, 2);
			memcpy(buf + ihl, buf + ihl + 2, 2);
			memcpy(buf + ihl + 2, t, 2);
			if (write(fd, buf, (size_t)n) == n)
				reflected++;
		}
	}
	printf("reflect: %llu packets reflected, %llu others ignored\n",
	       (unsigned long long)reflected, (unsigned long long)other);
	close(fd);
	return 0;
}

/* ---- UDP echo server and the tunnel-less RTT probe ---- */

int echo_server(uint16_t port, double duration)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	enum { BATCH = 64 };
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	uint64_t end = now_ns() + (uint64_t)(duration * NS_PER_SEC), echoed = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), sz = 8 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("echo: bind port %u: %s", port, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	printf("echo: listening on udp port %u for at most %.0f s\n", port, duration);
	fflush(stdout);
	while (now_ns() < end && !stop_flag) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int n;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
			m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
						       .msg_namelen = sizeof(from[i]),
						       .msg_iov = &iov[i],
						       .msg_iovlen = 1};
		}
		n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++)
			iov[i].iov_len = m[i].msg_len;
		/* The same headers send each datagram back where it came from. */
		for (int done = 0; done < n;) {
			int s = sendmmsg(fd, m + done, (unsigned)(n - done), 0);
			if (s <= 0)
				break;
			done += s;
			echoed += (uint64_t)s;
		}
	}
	printf("echo: %llu datagrams echoed\n", (unsigned long long)echoed);
	close(fd);
	return 0;
}

/* One datagram per interval straight to the echo server (no tunnel), so
 * the added latency of a tunnel can be told from the path's own RTT. */
int raw_rtt(const struct opts *o)
{
	struct hist h;
	uint8_t buf[2048];
	struct echo_hdr eh = {.magic = LOAD_MAGIC};
	size_t len = o->payload > 28 ? o->payload - 28 : sizeof(eh);
	uint64_t end = now_ns() + (uint64_t)(o->duration * NS_PER_SEC), lost = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (len < sizeof(eh))
		len = sizeof(eh);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->echo, sizeof(o->echo)) < 0)
		die("raw: connect: %s", strerror(errno));
	hist_init(&h);
	memset(buf, 0, sizeof(buf));
	while (now_ns() < end) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		uint64_t t0 = now_ns(), t1;

		eh.seq++;
		eh.sent_ns = t0;
		memcpy(buf, &eh, sizeof(eh));
		if (send(fd, buf, len, 0) < 0)
			die("raw: send: %s", strerror(errno));
		for (;;) {
			struct echo_hdr got;
			ssize_t r;
			if (poll(&pf, 1, 1000) <= 0) {
				lost++;
				break;
			}
			r = recv(fd, buf, sizeof(buf), 0);
			t1 = now_ns();
			if (r < (ssize_t)sizeof(got))
				continue;
			memcpy(&got, buf, sizeof(got));
			if (got.magic != LOAD_MAGIC || got.seq != eh.seq)
				continue; /* a late answer to an earlier probe */
			hist_add(&h, t1 - t0);
			break;
		}
		t1 = t0 + (uint64_t)(o->interval_us ? o->interval_us : 1000) * 1000;
		while (now_ns() < t1)
			usleep(50);
	}
	printf("raw-rtt: %llu probes, %llu lost; RTT us p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
	       (unsigned long long)h.n, (unsigned long long)lost, hist_quantile_us(&h, 0.5),
	       hist_quantile_us(&h, 0.9), hist_quantile_us(&h, 0.99), (double)h.max_ns / 1000);
	printf("RESULT mode=raw-rtt label=%s samples=%llu lost=%llu rtt_p50_us=%.1f "
	       "rtt_p90_us=%.1f rtt_p99_us=%.1f rtt_max_us=%.1f\n",
	       o->label, (unsigned long long)h.n, (unsigned long long)lost,
	       hist_quantile_us(&h, 0.5), hist_quantile_us(&h, 0.9), hist_quantile_us(&h, 0.99),
	       (double)h.max_ns / 1000);
	hist_free(&h);
	close(fd);
	return h.n ? 0 : 1;
}
