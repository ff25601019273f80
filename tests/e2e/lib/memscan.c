/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memscan PID HEX...: how often each byte string (given in hex) occurs in
 * the readable memory of process PID, read through /proc/PID/mem (root).
 * Prints one line per string, "INDEX COUNT", in the order given; exits 1
 * when the process's memory cannot be read at all.  Mappings over 1 GiB
 * are skipped (and named on stderr).  Used by
 * tests/e2e/keyproc.sh to look for the private key in each process. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1 << 20)
#define MAX_PAT 16
/* Larger mappings are reservations, not data: a sanitizer's shadow memory
 * maps terabytes readable.  No heap or stack of tunneld comes near. */
#define REGION_MAX (1ull << 30)

static uint8_t pat[MAX_PAT][512];
static size_t pat_len[MAX_PAT], longest;
static unsigned long count[MAX_PAT];
static unsigned n_pat;

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void add_pattern(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n % 2 || n / 2 > sizeof(pat[0]) || n_pat == MAX_PAT) {
		fprintf(stderr, "memscan: bad pattern '%s'\n", h);
		exit(2);
	}
	for (size_t i = 0; i < n / 2; i++) {
		int a = hex(h[2 * i]), b = hex(h[2 * i + 1]);
		if (a < 0 || b < 0) {
			fprintf(stderr, "memscan: bad pattern '%s'\n", h);
			exit(2);
		}
		pat[n_pat][i] = (uint8_t)(a << 4 | b);
	}
	pat_len[n_pat] = n / 2;
	if (n / 2 > longest)
		longest = n / 2;
	n_pat++;
}

/* Matches starting in buf[0..starts). */
static void scan(const uint8_t *buf, size_t len, size_t starts)
{
	for (unsigned p = 0; p < n_pat; p++) {
		const uint8_t *at = buf, *end = buf + len;

		while ((size_t)(end - at) >= pat_len[p]) {
			const uint8_t *hit = memmem(at, (size_t)(end - at), pat[p], pat_len[p]);
			if (!hit || (size_t)(hit - buf) >= starts)
				break;
			count[p]++;
			at = hit + 1;
		}
	}
}

/* One mapping [start, end): read in chunks, each overlapping the one
 * before by longest - 1 bytes so that no match is cut in two. */
static unsigned long region(int mem, uint64_t start, uint64_t end, uint8_t *buf)
{
	uint64_t off = start;
	size_t keep = 0;
	unsigned long got = 0;

	while (off < end) {
		size_t want = CHUNK - keep, n;
		ssize_t r;

		if (want > end - off)
			want = (size_t)(end - off);
		r = pread(mem, buf + keep, want, (off_t)off);
		if (r <= 0)
			break; /* [vvar] and the like cannot be read */
		n = keep + (size_t)r;
		got += (unsigned long)r;
		off += (uint64_t)r;
		/* Matches that start in the overlap were counted last time. */
		scan(buf, n, off < end ? n - (longest - 1 < n ? longest - 1 : n) : n);
		keep = longest - 1 < n ? longest - 1 : n;
		memmove(buf, buf + n - keep, keep);
	}
	return got;
}

int main(int argc, char **argv)
{
	char path[64], line[512];
	unsigned long total = 0;
	uint64_t start, end;
	uint8_t *buf = malloc(CHUNK);
	FILE *maps;
	int mem;

	if (argc < 3 || !buf) {
		fprintf(stderr, "usage: memscan PID HEX...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		add_pattern(argv[i]);
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	mem = open(path, O_RDONLY);
	if (!maps || mem < 0) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		free(buf);
		return 1;
	}
	while (fgets(line, sizeof(line), maps)) {
		char perms[8];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &start, &end, perms) != 3 ||
		    perms[0] != 'r')
			continue;
		if (end - start > REGION_MAX)
			fprintf(stderr, "memscan: skipped %" PRIu64 " MiB at %" PRIx64 "\n",
				(end - start) >> 20, start);
		else
			total += region(mem, start, end, buf);
	}
	fclose(maps);
	close(mem);
	free(buf);
	if (total == 0) {
		fprintf(stderr, "memscan: nothing of process %s could be read\n", argv[1]);
		return 1;
	}
	for (unsigned p = 0; p < n_pat; p++)
		printf("%u %lu\n", p, count[p]);
	fprintf(stderr, "memscan: %lu bytes of process %s read\n", total, argv[1]);
	return 0;
}
