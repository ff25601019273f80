/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The start of a confined process's seccomp filter, shared by the
 * workers, the hashing processes and the key process: everything not
 * allowed afterwards kills the process, or in a --enable-seccomp-trap
 * build traps, names the syscall and exits with status 70. */
#ifndef TUNNELD_SCMPINIT_H
#define TUNNELD_SCMPINIT_H

#include <seccomp.h>

/* A filter denying everything; NULL when out of memory.  who names the
 * process in the trap build's line on stderr ("hasher", "keys"); NULL
 * sends it through log_err() (a worker's log socket) instead. */
scmp_filter_ctx scmp_start(const char *who);

#endif
