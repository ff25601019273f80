/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/ipc.c: what check_ipc.c shares with the other
 * files of the test (check_ipc_tls.c). */
#ifndef TUNNELD_CHECK_IPC_H
#define TUNNELD_CHECK_IPC_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"

/* ipc_check's last error text. */
extern char err[256];
/* ipc_check over an exact-size heap copy of buf[0..len). */
int check_buf(const void *buf, size_t len, enum ipc_dir dir, uint32_t pool);
/* A valid message of type, as the sending side builds it. */
struct ipc_msg valid(uint32_t type);
/* check_ipc_tls.c: the variable-size IPC_TLS, and MSG_TRUNC. */
void ipc_tls_tests(TCase *t);

#endif
