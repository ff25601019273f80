/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hexadecimal digits, for the parsers of untrusted text: XML character
 * references (common/authxml.c) and JSON \u escapes (tools/tunnelctl.c).
 * Header only, so that tunnelctl links no library for it. */
#ifndef TUNNELD_HEX_H
#define TUNNELD_HEX_H

/* The value of one hexadecimal digit, or -1. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
