/*
 * fuzz.h: what ferry's libFuzzer harnesses share.
 *
 * Each harness in tests/fuzz/ feeds one parser hostile bytes and checks
 * invariants that must hold for every input, not only "no crash". A broken
 * invariant aborts with a message, which libFuzzer reports as a crash and
 * saves as a reproducer. The harnesses link src/libferry's sources built
 * with clang's -fsanitize=fuzzer,address,undefined (tests/fuzz/run.sh).
 */
#ifndef FERRY_FUZZ_H
#define FERRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort, naming the broken invariant, if cond is false. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The entry point libFuzzer calls once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A heap copy of data[0..size) of exactly size bytes (one byte more if nul
 * is set, for a terminating NUL), so ASan catches any read past the end.
 * The caller frees it.
 */
static inline char *
fuzz_copy(const uint8_t *data, size_t size, int nul)
{
	char *p;

	p = malloc(size + (nul ? 1 : 0) + (size == 0 && !nul ? 1 : 0));
	if (p == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	if (nul)
		p[size] = '\0';
	return p;
}

/* True if p[0..n) lies inside base[0..len). */
static inline int
fuzz_inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

#endif
