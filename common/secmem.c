/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Secret memory (see secmem.h): run by the master for its session table
 * and cookie index.  Workers are forked from the master, so anything a
 * malloc'ed block held could be found in a worker's heap; these pages
 * arrive there as zeros. */
#include "config.h"
#include "common/secmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

void *secmem_alloc(size_t len)
{
	void *p;

	if (len == 0) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Without the wipe on fork the promise is void: refuse the memory
	 * (Linux >= 4.14 has it).  A core dump is a nicety. */
	if (madvise(p, len, MADV_WIPEONFORK) < 0) {
		int e = errno;
		munmap(p, len);
		errno = e;
		return NULL;
	}
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

void secmem_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	munmap(p, len);
}

/* noinline: the array must lie below the caller's frame.  Not under ASan,
 * which would move a big local array off the real stack. */
__attribute__((noinline, no_sanitize_address)) void secmem_scrub_stack(void)
{
	unsigned char dead[SECMEM_SCRUB_STACK];

	explicit_bzero(dead, sizeof(dead));
}
