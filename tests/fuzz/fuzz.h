/* Shared by the libFuzzer harnesses in tests/fuzz/: each defines
 * LLVMFuzzerTestOneInput over one parser and asserts what must hold for
 * every input.  A broken invariant aborts, which libFuzzer reports as a
 * crash and saves the input. */
#ifndef TUNNELD_FUZZ_H
#define TUNNELD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Whether [p, p + n) lies inside [base, base + len). */
#define FUZZ_INSIDE(p, n, base, len)                                                               \
	((const char *)(p) >= (const char *)(base) &&                                              \
	 (size_t)((const char *)(p) - (const char *)(base)) <= (len) &&                            \
	 (n) <= (len) - (size_t)((const char *)(p) - (const char *)(base)))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
