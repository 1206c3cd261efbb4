/*
 * fuzz_head.h: what the request and response head harnesses share (both
 * write a parsed head out again and compare it with its re-parse).
 */
#ifndef FERRY_FUZZ_HEAD_H
#define FERRY_FUZZ_HEAD_H

#include <stdbool.h>

#include "fuzz.h"
#include "http.h"

/* True if a[0..alen) and b[0..blen) are the same bytes. */
static inline bool
fuzz_same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/*
 * Write the fields as "Name: value" lines, then the blank line ending the
 * head, at out + n (big enough); returns the new length.
 */
static inline size_t
fuzz_put_fields(char *out, size_t n, const struct http_field *f,
    size_t nfields)
{
	size_t i;

	for (i = 0; i < nfields; i++) {
		memcpy(out + n, f[i].name, f[i].name_len);
		n += f[i].name_len;
		out[n++] = ':';
		out[n++] = ' ';
		memcpy(out + n, f[i].value, f[i].value_len);
		n += f[i].value_len;
		out[n++] = '\r';
		out[n++] = '\n';
	}
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

/* The two field lists hold the same names and values, in order. */
static inline void
fuzz_check_same_fields(const struct http_field *a, size_t na,
    const struct http_field *b, size_t nb)
{
	size_t i;

	FUZZ_CHECK(na == nb);
	for (i = 0; i < na; i++) {
		FUZZ_CHECK(fuzz_same(a[i].name, a[i].name_len, b[i].name,
		    b[i].name_len));
		FUZZ_CHECK(fuzz_same(a[i].value, a[i].value_len, b[i].value,
		    b[i].value_len));
	}
}

#endif
