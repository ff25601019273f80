/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tunneld-passwd: the TOTP secrets file (see totp-file.c). */
#ifndef TUNNELD_TOTP_FILE_H
#define TUNNELD_TOTP_FILE_H

#include <stddef.h>

/* Give user secret in the secrets file of passwd_path (NULL: remove the
 * user's line).  0, or -1 with err. */
int totp_file_set(const char *passwd_path, const char *user, const char *secret, char *err,
		  size_t errlen);
/* The otpauth:// URI for an authenticator app.  0, or -1 (too long). */
int totp_uri(const char *user, const char *secret, char *out, size_t cap);
/* The URI as a QR code on the terminal, when qrencode is installed. */
void totp_print_qr(const char *uri);

#endif
