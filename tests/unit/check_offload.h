/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the parts of tests/unit/check_offload share: an independent
 * checksum, packet builders, the buffers the tests cut into and merge in
 * (check_offload_pkt.c), and each part's list of tests. */
#ifndef TUNNELD_CHECK_OFFLOAD_H
#define TUNNELD_CHECK_OFFLOAD_H

#include "common/offload.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIN 0x01
#define SYN 0x02
#define PSH 0x08
#define ACK 0x10
#define CWR 0x80

struct tcpspec {
	bool v6;
	size_t payload;
	uint8_t flags;
	size_t opts; /* TCP option bytes, a multiple of 4 */
	uint32_t seq;
	uint16_t id;
	uint8_t pattern; /* payload byte i = pattern + i */
};

struct udpspec {
	bool v6;
	size_t payload;
	bool no_df;	 /* IPv4: DF clear */
	uint16_t id;	 /* IPv4 id */
	uint16_t sport;	 /* 0: 40000 */
	uint8_t pattern; /* payload byte i = pattern + i */
};

uint32_t sum16(uint32_t s, const uint8_t *p, size_t n);
uint16_t fold16(uint32_t s);
uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len);
size_t l4_off(const uint8_t *ip);
bool l4_csum_ok(const uint8_t *ip, size_t len, uint8_t proto);
bool ip4_csum_ok(const uint8_t *ip);
uint16_t be16(const uint8_t *p);
uint32_t be32(const uint8_t *p);
void set16(uint8_t *p, uint32_t v);
void set32(uint8_t *p, uint32_t v);

size_t make_tcp(uint8_t *p, const struct tcpspec *t);
size_t make_super(uint8_t *buf, const struct tcpspec *t, uint16_t gso_size);
size_t make_udp(uint8_t *p, const struct udpspec *u);
size_t make_udp_super(uint8_t *buf, const struct udpspec *u, uint16_t gso_size);
void fix_tcp_csum(uint8_t *p, size_t len);
void fix_udp_csum(uint8_t *p, size_t len);
void four(bool v6);
void four_udp(bool v6);

/* Exact-size heap copies, freed by the fixture's teardown(). */
extern uint8_t *heap;
void teardown(void);
uint8_t *exact_copy(const uint8_t *buf, size_t len);
int seg_init_exact(struct offload_seg *s, const uint8_t *buf, size_t len, size_t mtu);

extern uint8_t big[OFFLOAD_BUF_LEN];
extern uint8_t segs[64][2048];
extern size_t seg_len[64];
int segment_and_check(const struct tcpspec *t, uint16_t gso, size_t mtu);
int udp_segment_and_check(const struct udpspec *u, uint16_t gso, size_t mtu);

extern uint8_t gbuf[OFFLOAD_BUF_LEN];
extern uint8_t pk[8][2048];
extern size_t pklen[8];
void kernel_finish(uint8_t *p, size_t len, const struct offload_vnet *h);
int add_all(struct offload_gro *g, uint8_t pkts[][2048], const size_t *len, int n,
	    unsigned *counts);

/* The tests of each part, added to a test case in the suite's order. */
void offload_udp_seg_tests(TCase *tc); /* check_offload_udp.c */
void offload_tcp_gro_tests(TCase *tc); /* check_offload_gro.c */
void offload_udp_gro_tests(TCase *tc); /* check_offload_gro_udp.c */
void offload_ack_tests(TCase *tc);     /* check_offload_ack.c */

#endif
