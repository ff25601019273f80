/* Master: the TUN steering program, written as eBPF instructions here (no
 * compiler or loader library needed at build or run time).
 *
 *   version = pkt[0] >> 4
 *   v4: idx = ntohl(dst at 16) - pool base (32-bit wrap-around)
 *   v6: idx = ntohl(last word of dst at 36) - low word of the pool base
 *   idx < pool size ? queue[idx] : 0
 *
 * The kernel takes the result modulo the number of queues.  An IPv6 packet
 * whose upper 96 bits are outside the pool cannot reach the TUN device (the
 * route is the pool's), so the low word is enough; a wrong guess would only
 * cost a hand-off between workers. */
#include "config.h"
#include "daemon/steer.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>

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
#define R10 BPF_REG_10

int steer_attach(int tun_fd, const struct pool_geom *g)
{
	uint32_t base6 = 0;
	int map_fd, prog_fd, r;
	union bpf_attr a;
	char log[4096];

	memcpy(&base6, &g->base6.s6_addr[12], 4);
	base6 = __builtin_bswap32(base6);
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = g->size;
	map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (map_fd < 0)
		return -errno;

	/* Jump offsets count instructions after the jump itself. */
	const struct bpf_insn prog[] = {
	    /* 0 */ INSN(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0),
	    /* 1 */ INSN(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0),
	    /* 2 */ INSN(BPF_ALU | BPF_RSH | BPF_K, R0, 0, 0, 4),
	    /* 3 */ INSN(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 3, 4),   /* -> 7 */
	    /* 4 */ INSN(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 5, 6),   /* -> 10 */
	    /* 5 */ INSN(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0), /* unknown: queue 0 */
	    /* 6 */ INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	    /* 7 */ INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 16),
	    /* 8 */ INSN(BPF_ALU | BPF_SUB | BPF_K, R0, 0, 0, (int32_t)g->base4),
	    /* 9 */ INSN(BPF_JMP | BPF_JA, 0, 0, 2, 0), /* -> 12 */
	    /* 10 */ INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 36),
	    /* 11 */ INSN(BPF_ALU | BPF_SUB | BPF_K, R0, 0, 0, (int32_t)base6),
	    /* 12 */ INSN(BPF_JMP | BPF_JGE | BPF_K, R0, 0, -8, (int32_t)g->size), /* -> 5 */
	    /* 13 */ INSN(BPF_STX | BPF_MEM | BPF_W, R10, R0, -4, 0),
	    /* 14 */ INSN(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, map_fd),
	    /* 15 */ INSN(0, 0, 0, 0, 0),
	    /* 16 */ INSN(BPF_ALU64 | BPF_MOV | BPF_X, R2, R10, 0, 0),
	    /* 17 */ INSN(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, -4),
	    /* 18 */ INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
	    /* 19 */ INSN(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, -15, 0), /* NULL -> 5 */
	    /* 20 */ INSN(BPF_LDX | BPF_MEM | BPF_W, R0, R0, 0, 0),
	    /* 21 */ INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	a.license = (uint64_t)(uintptr_t) "GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = '\0';
	prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (prog_fd < 0) {
		r = -errno;
		log_debug("steering program rejected: %s", log);
		close(map_fd);
		return r;
	}
	r = ioctl(tun_fd, TUNSETSTEERINGEBPF, &prog_fd) < 0 ? -errno : 0;
	close(prog_fd); /* the device holds its own reference */
	if (r < 0) {
		close(map_fd);
		return r;
	}
	return map_fd;
}

int steer_set(int map_fd, uint32_t lease, uint32_t q)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&lease;
	a.value = (uint64_t)(uintptr_t)&q;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0 ? -errno : 0;
}
