/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master (root): the owner[lease] map (see ownermap.h).  A memfd of len
 * bytes, mapped writable for the master alone (MADV_DONTFORK: a forked
 * worker has no such mapping), then sealed (F_SEAL_FUTURE_WRITE: no new
 * writable mapping, no write(); F_SEAL_SHRINK and F_SEAL_GROW: the size
 * stays), then mapped read-only for the workers to inherit.  A mapping
 * made after the seal cannot be made writable: mprotect(PROT_WRITE) fails
 * with EACCES and a store faults.  The fd is closed at once: nobody can
 * map the memory again. */
#include "config.h"
#include "daemon/ownermap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int owner_map_open(struct owner_map *m, size_t len)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	void *rw = MAP_FAILED, *ro = MAP_FAILED;
	int fd, r = 0;

	memset(m, 0, sizeof(*m));
	fd = memfd_create("tunneld-owner", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0)
		goto fail;
	rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (rw == MAP_FAILED || madvise(rw, len, MADV_DONTFORK) < 0 ||
	    fcntl(fd, F_ADD_SEALS, seals) < 0)
		goto fail;
	ro = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (ro == MAP_FAILED)
		goto fail;
	close(fd);
	m->rw = rw;
	m->ro = ro;
	m->len = len;
	return 0;
fail:
	r = -errno;
	if (rw != MAP_FAILED)
		munmap(rw, len);
	close(fd);
	return r;
}

void owner_map_close(struct owner_map *m)
{
	if (m->rw)
		munmap(m->rw, m->len);
	if (m->ro)
		munmap((void *)m->ro, m->len);
	memset(m, 0, sizeof(*m));
}
