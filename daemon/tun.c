/* Master (root): creates the multi-queue TUN device and configures it over
 * rtnetlink with libmnl.  Owns nothing after set-up: the queue fds are kept
 * in the worker slots (daemon/slots.c). */
#include "config.h"
#include "daemon/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "common/log.h"
#include "common/offload.h"
#include "daemon/pktpath.h"

/* UDP segmentation offload came with Linux 6.2; Debian 12's headers do not
 * have it.  The kernel takes USO4 and USO6 only together. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#define TUN_USO (TUN_F_USO4 | TUN_F_USO6)

/* common/offload.c spells the virtio_net_hdr constants itself. */
_Static_assert(OFFLOAD_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4 &&
		   OFFLOAD_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6 &&
		   OFFLOAD_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN &&
		   OFFLOAD_F_NEEDS_CSUM == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
		   OFFLOAD_VNET_LEN == sizeof(struct virtio_net_hdr),
	       "virtio_net_hdr constants");
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
_Static_assert(OFFLOAD_GSO_UDP_L4 == VIRTIO_NET_HDR_GSO_UDP_L4, "VIRTIO_NET_HDR_GSO_UDP_L4");
#endif

static bool offload_on, uso_on;

bool tun_offload(void)
{
	return offload_on;
}

bool tun_uso(void)
{
	return uso_on;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

/* Open one more queue of the device; the first (excl) creates it and
 * fails with -EBUSY if a device of that name exists.  With offloads, *feat
 * is what to ask TUNSETOFFLOAD for; when the kernel refuses USO (before
 * 6.2) it is asked again without, and *feat says so for the next queues. */
static int queue_open(const char *name, bool offload, bool excl, unsigned *feat, int *fd)
{
	int hdr = OFFLOAD_VNET_LEN, le = 1;
	struct ifreq ifr;

	*fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (offload ? IFF_VNET_HDR : 0) |
			(excl ? IFF_TUN_EXCL : 0);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	/* Each TUNSETIFF with the same name on a fresh fd attaches one
	 * more queue (FACTS.md).  So would the first one to a device that
	 * exists already (another instance, or one made beforehand with
	 * TUNSETOWNER for some user), which would then share our clients'
	 * traffic: IFF_TUN_EXCL refuses it. */
	if (ioctl(*fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	/* The header size and byte order are the device's, the features
	 * too: setting them on every queue is harmless and keeps a queue
	 * reopened alone right. */
	if (!offload)
		return 0;
	if (ioctl(*fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(*fd, TUNSETVNETLE, &le) < 0)
		return -errno;
	if (ioctl(*fd, TUNSETOFFLOAD, *feat) == 0)
		return 0;
	if (errno != EINVAL || !(*feat & TUN_USO))
		return -errno;
	*feat &= ~(unsigned)TUN_USO;
	return ioctl(*fd, TUNSETOFFLOAD, *feat) < 0 ? -errno : 0;
}

static void close_all(unsigned n, int *fds)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

static int open_all(const char *name, unsigned n, bool offload, unsigned *feat, int *fds)
{
	unsigned i;
	int r;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		r = queue_open(name, offload, i == 0, feat, &fds[i]);
		if (r < 0) {
			close_all(n, fds);
			return r;
		}
	}
	return 0;
}

/* For tunnelctl status: what the queues carry, and why not more. */
static void record(bool no_uso)
{
	struct pktpath *pp = pktpath();

	if (offload_on)
		pktpath_on(&pp->tun_offload);
	else
		pktpath_off(&pp->tun_offload, "TUNNELD_NO_OFFLOAD is set");
	if (uso_on)
		pktpath_on(&pp->tun_uso);
	else
		pktpath_off(&pp->tun_uso, "%s",
			    !offload_on ? "TUN offloads are off"
			    : no_uso	? "TUNNELD_NO_USO is set"
					: "refused by the kernel (before Linux 6.2)");
}

int tun_create(const char *name, unsigned n, int *fds)
{
	struct pktpath *pp = pktpath();
	bool off_by_env = env_set("TUNNELD_NO_OFFLOAD"), no_uso = env_set("TUNNELD_NO_USO");
	unsigned feat =
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | (no_uso ? 0 : TUN_USO);
	int r;

	r = open_all(name, n, !off_by_env, &feat, fds);
	if (r == -EBUSY) {
		log_err("TUN device %s exists already (another tunneld, or made beforehand): "
			"refusing to share its queues; delete it (ip link del %s) or set "
			"network.tun to another name",
			name, name);
		return r;
	}
	if (!off_by_env && (r == -EINVAL || r == -ENOTTY || r == -EOPNOTSUPP)) {
		/* A kernel without these ioctls or features: go on without. */
		log_warn("TUN %s: offloads refused (%s); one packet per read and write", name,
			 strerror(-r));
		pktpath_off(&pp->tun_offload, "refused by the kernel: %s", strerror(-r));
		pktpath_off(&pp->tun_uso, "TUN offloads are off");
		r = open_all(name, n, false, &feat, fds);
		if (r < 0)
			return r;
		offload_on = uso_on = false;
		return 0;
	}
	if (r < 0)
		return r;
	offload_on = !off_by_env;
	uso_on = offload_on && (feat & TUN_USO);
	record(no_uso);
	if (!offload_on)
		log_info("TUN %s: offloads off (TUNNELD_NO_OFFLOAD is set)", name);
	else if (uso_on)
		log_info("TUN %s: offloads on (checksums, TSO4, TSO6, USO4, USO6: TCP and UDP "
			 "super-packets up to 64 KiB per read and write)",
			 name);
	else
		log_info("TUN %s: offloads on (checksums, TSO4, TSO6: TCP super-packets up to 64 "
			 "KiB per read and write; USO %s: UDP one datagram per read and write)",
			 name, no_uso ? "off, TUNNELD_NO_USO is set" : "refused by the kernel");
	return 0;
}

/* Send one request and wait for its ACK; 0 or -errno from the kernel. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid = mnl_socket_get_portid(nl);
	unsigned seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	return r < 0 ? -errno : 0;
}

static int nl_set_link(struct mnl_socket *nl, int ifindex, unsigned mtu, unsigned seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nl, nlh);
}

static int nl_add_addr(struct mnl_socket *nl, int ifindex, int family, const void *addr,
		       unsigned plen, unsigned seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	size_t alen = family == AF_INET ? 4 : 16;
	int r;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* No duplicate address detection: nobody else is on this link and
	 * DAD would hold the address back for a second. */
	ifa->ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	r = nl_talk(nl, nlh);
	return r == -EEXIST ? 0 : r;
}

int tun_configure(const char *name, unsigned mtu, const struct pool_geom *g)
{
	struct mnl_socket *nl;
	unsigned seq = (unsigned)time(NULL);
	int ifindex, r;

	ifindex = (int)if_nametoindex(name);
	if (ifindex == 0)
		return -errno;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	/* Addresses after the link is up: the kernel drops IPv6 addresses
	 * of a link that is down. */
	r = nl_set_link(nl, ifindex, mtu, seq++);
	if (r < 0)
		goto out;
	if (g->have4) {
		struct in_addr a;
		pool_addr4(g, POOL_SERVER_INDEX, &a);
		r = nl_add_addr(nl, ifindex, AF_INET, &a, g->len4, seq++);
		if (r < 0)
			goto out;
	}
	if (g->have6) {
		struct in6_addr a6;
		pool_addr6(g, POOL_SERVER_INDEX, &a6);
		r = nl_add_addr(nl, ifindex, AF_INET6, &a6, g->len6, seq++);
	}
out:
	mnl_socket_close(nl);
	return r;
}
