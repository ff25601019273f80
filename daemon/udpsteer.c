/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the reuseport program that sends each DTLS datagram to the
 * worker holding its session, written as eBPF instructions (as steer.c: no
 * compiler or loader library at build or run time).
 *
 *   ClientHello whose 32-byte session id is one of our App-IDs:
 *       worker = id[1] (common/dtls.h: DTLS_ID_WORKER), if < workers
 *   otherwise: peer map [address, port], then [address, port 0]
 *   no entry: an index past the group, so the kernel picks by hash
 *
 * The kernel runs it with the datagram's UDP payload at offset 0; the
 * client's address and port are read relative to the network header
 * (SKF_NET_OFF).  IPv6 with extension headers before UDP falls to the
 * hash.  A datagram that lands on the wrong worker (before the master has
 * filled the map, or with no program at all) is handed over by the workers
 * themselves, so this is an optimisation, never a condition of delivery. */
#include "config.h"
#include "daemon/udpsteer.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <netinet/in.h>

#include "common/dtls.h"
#include "common/log.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R6  BPF_REG_6
#define R7  BPF_REG_7
#define R10 BPF_REG_10
#define NET SKF_NET_OFF

/* The key lives at R10 - 24 (20 bytes, 4 spare). */
#define K_ADDR (-24)
#define K_PORT (-24 + (int)offsetof(struct udpsteer_key, port))
#define K_FAM  (-24 + (int)offsetof(struct udpsteer_key, family))

#define LDABS(sz, off) INSN(BPF_LD | BPF_ABS | (sz), 0, 0, 0, (off))
#define JNE(v, to)     INSN(BPF_JMP | BPF_JNE | BPF_K, R0, 0, (to), (v))
#define STW(off)       INSN(BPF_STX | BPF_MEM | BPF_W, R10, R0, (off), 0)
#define STH(off)       INSN(BPF_STX | BPF_MEM | BPF_H, R10, R0, (off), 0)
#define MOVK(r, v)     INSN(BPF_ALU64 | BPF_MOV | BPF_K, (r), 0, 0, (v))
#define EXIT	       INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDMAP(r, fd)                                                                               \
	INSN(BPF_LD | BPF_DW | BPF_IMM, (r), BPF_PSEUDO_MAP_FD, 0, (fd)), INSN(0, 0, 0, 0, 0)
#define KEYPTR                                                                                     \
	INSN(BPF_ALU64 | BPF_MOV | BPF_X, R2, R10, 0, 0),                                          \
	    INSN(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, K_ADDR)
#define LOOKUP INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem)

/* The program, with the worker count (insn AT_WORKERS) and the map fd (the
 * two map loads AT_MAP1, AT_MAP2) filled in by load_prog().  Jump offsets
 * count instructions after the jump itself. */
static const struct bpf_insn prog_tmpl[] = {
    /* 0 */ INSN(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0),
    /* 1 */ INSN(BPF_LDX | BPF_MEM | BPF_W, R0, R6, 0, offsetof(struct __sk_buff, len)),
    /* 2 */ INSN(BPF_JMP | BPF_JLT | BPF_K, R0, 0, 9, DTLS_HELLO_SID_OFF + 2), /* -> 12 */
    /* 3 */ LDABS(BPF_B, 0),
    /* 4 */ JNE(DTLS_CT_HANDSHAKE, 7), /* -> 12 */
    /* 5 */ LDABS(BPF_B, 13),
    /* 6 */ JNE(1, 5), /* ClientHello? else -> 12 */
    /* 7 */ LDABS(BPF_B, DTLS_HELLO_SID_LEN_OFF),
    /* 8 */ JNE(DTLS_ID_LEN, 3), /* -> 12 */
    /* 9 */ LDABS(BPF_B, DTLS_HELLO_SID_OFF + DTLS_ID_WORKER),
    /* 10 */ INSN(BPF_JMP | BPF_JGE | BPF_K, R0, 0, 1, 0 /* workers */), /* -> 12 */
    /* 11 */ EXIT,
    /* the peer map: zero the key first */
    /* 12 */ MOVK(R0, 0),
    /* 13 */ INSN(BPF_STX | BPF_MEM | BPF_DW, R10, R0, -24, 0),
    /* 14 */ INSN(BPF_STX | BPF_MEM | BPF_DW, R10, R0, -16, 0),
    /* 15 */ INSN(BPF_STX | BPF_MEM | BPF_DW, R10, R0, -8, 0),
    /* 16 */ LDABS(BPF_B, NET + 0),
    /* 17 */ INSN(BPF_ALU | BPF_RSH | BPF_K, R0, 0, 0, 4),
    /* 18 */ JNE(4, 10), /* -> 29 */
			 /* IPv4: the port sits after IHL * 4 bytes */
    /* 19 */ LDABS(BPF_B, NET + 0),
    /* 20 */ INSN(BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 0x0f),
    /* 21 */ INSN(BPF_ALU | BPF_LSH | BPF_K, R0, 0, 0, 2),
    /* 22 */ INSN(BPF_ALU64 | BPF_MOV | BPF_X, R7, R0, 0, 0),
    /* 23 */ LDABS(BPF_W, NET + 12),
    /* 24 */ STW(K_ADDR),
    /* 25 */ INSN(BPF_LD | BPF_IND | BPF_H, 0, R7, 0, NET),
    /* 26 */ STH(K_PORT),
    /* 27 */ MOVK(R0, 4),
    /* 28 */ INSN(BPF_JMP | BPF_JA, 0, 0, 15, 0), /* -> 44 */
						  /* IPv6, UDP right after the fixed header */
    /* 29 */ JNE(6, 33),			  /* -> 63 */
    /* 30 */ LDABS(BPF_B, NET + 6),
    /* 31 */ JNE(IPPROTO_UDP, 31), /* -> 63 */
    /* 32 */ LDABS(BPF_W, NET + 8),
    /* 33 */ STW(K_ADDR),
    /* 34 */ LDABS(BPF_W, NET + 12),
    /* 35 */ STW(K_ADDR + 4),
    /* 36 */ LDABS(BPF_W, NET + 16),
    /* 37 */ STW(K_ADDR + 8),
    /* 38 */ LDABS(BPF_W, NET + 20),
    /* 39 */ STW(K_ADDR + 12),
    /* 40 */ LDABS(BPF_H, NET + 40),
    /* 41 */ STH(K_PORT),
    /* 42 */ MOVK(R0, 6),
    /* 43 */ INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), /* -> 44, as IPv4 does */
    /* 44 */ STH(K_FAM),
    /* 45, 46 */ LDMAP(R1, 0),
    /* 47, 48 */ KEYPTR,
    /* 49 */ LOOKUP,
    /* 50 */ INSN(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 2, 0), /* NULL -> 53 */
    /* 51 */ INSN(BPF_LDX | BPF_MEM | BPF_W, R0, R0, 0, 0),
    /* 52 */ EXIT,
    /* the address alone */
    /* 53 */ MOVK(R0, 0),
    /* 54 */ STH(K_PORT),
    /* 55, 56 */ LDMAP(R1, 0),
    /* 57, 58 */ KEYPTR,
    /* 59 */ LOOKUP,
    /* 60 */ INSN(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 2, 0), /* NULL -> 63 */
    /* 61 */ INSN(BPF_LDX | BPF_MEM | BPF_W, R0, R0, 0, 0),
    /* 62 */ EXIT,
    /* 63: no idea: past the group, the kernel hashes */
    /* 63 */ MOVK(R0, -1),
    /* 64 */ EXIT,
};

#define AT_WORKERS 10
#define AT_MAP1	   45
#define AT_MAP2	   55

static int load_prog(int map_fd, unsigned n_workers)
{
	struct bpf_insn prog[sizeof(prog_tmpl) / sizeof(prog_tmpl[0])];

	memcpy(prog, prog_tmpl, sizeof(prog));
	prog[AT_WORKERS].imm = (int32_t)n_workers;
	prog[AT_MAP1].imm = map_fd;
	prog[AT_MAP2].imm = map_fd;
	char log[8192];
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	a.license = (uint64_t)(uintptr_t) "GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = '\0';
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		int r = -errno;
		log_debug("DTLS steering program rejected: %s", log);
		return r;
	}
	return fd;
}

int udpsteer_attach(const int *fds, unsigned n_groups, unsigned n_workers, unsigned max_entries)
{
	union bpf_attr a;
	int map_fd, prog_fd, r = 0;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = sizeof(struct udpsteer_key);
	a.value_size = sizeof(uint32_t);
	a.max_entries = max_entries;
	map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (map_fd < 0)
		return -errno;
	prog_fd = load_prog(map_fd, n_workers);
	if (prog_fd < 0) {
		close(map_fd);
		return prog_fd;
	}
	for (unsigned g = 0; g < n_groups && r == 0; g++)
		if (setsockopt(fds[g], SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd,
			       sizeof(prog_fd)) < 0)
			r = -errno;
	close(prog_fd); /* the groups hold their own references */
	if (r < 0) {
		close(map_fd);
		return r;
	}
	return map_fd;
}

int udpsteer_key(const struct sockaddr *peer, int with_port, struct udpsteer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)peer;
		k->addr[0] = ntohl(s->sin_addr.s_addr);
		k->port = with_port ? ntohs(s->sin_port) : 0;
		k->family = 4;
		return 0;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)peer;
		uint32_t w;

		for (int i = 0; i < 4; i++) {
			memcpy(&w, s->sin6_addr.s6_addr + 4 * i, 4);
			k->addr[i] = ntohl(w);
		}
		k->port = with_port ? ntohs(s->sin6_port) : 0;
		k->family = 6;
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int map_op(int map_fd, int cmd, const struct udpsteer_key *k, const uint32_t *v)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)k;
	a.value = (uint64_t)(uintptr_t)v;
	a.flags = BPF_ANY;
	return sys_bpf(cmd, &a) < 0 ? -errno : 0;
}

int udpsteer_set(int map_fd, const struct sockaddr *peer, uint32_t w)
{
	struct udpsteer_key k;
	int r;

	if ((r = udpsteer_key(peer, 1, &k)) < 0 ||
	    (r = map_op(map_fd, BPF_MAP_UPDATE_ELEM, &k, &w)) < 0)
		return r;
	k.port = 0;
	return map_op(map_fd, BPF_MAP_UPDATE_ELEM, &k, &w);
}

int udpsteer_unset(int map_fd, const struct sockaddr *peer, int all)
{
	struct udpsteer_key k;
	int r;

	if ((r = udpsteer_key(peer, 1, &k)) < 0)
		return r;
	r = map_op(map_fd, BPF_MAP_DELETE_ELEM, &k, NULL);
	if (all) {
		k.port = 0;
		map_op(map_fd, BPF_MAP_DELETE_ELEM, &k, NULL);
	}
	return r == -ENOENT ? 0 : r;
}
