/*
 * fuzz_chunked.c: libFuzzer harness for the chunked decoder (chunked.c).
 *
 * ferry runs the decoder in both directions: on request bodies going to
 * the origin and on response bodies coming back, either passing the
 * chunked bytes through (it only needs to find the end) or dechunking them
 * for an HTTP/1.0 client. The first input byte seeds how the rest is split
 * into reads. Invariants, for every input:
 * - feeding the body whole or split into arbitrary reads gives the same
 *   result, the same end position and the same decoded bytes;
 * - the decoder never emits more bytes than it was given, and every data
 *   pointer lies inside the read it came from;
 * - chunked_scan() agrees with the decoder on the verdict;
 * - the decoded bytes, chunked again in arbitrary sizes, decode back to
 *   themselves (so an encoder on the other side and this decoder agree).
 */
#include <stdbool.h>

#include "chunked.h"
#include "fuzz.h"

struct decoded {
	enum chunked_result	 r;
	size_t			 used;	/* input consumed in all */
	char			*out;	/* decoded bytes */
	size_t			 len;
};

/* A tiny deterministic generator for read sizes. */
static size_t
next_size(uint32_t *state, size_t max)
{
	*state = *state * 1103515245u + 12345u;
	return 1 + (*state >> 8) % max;
}

/*
 * Decode buf[0..len) in reads sized by seed (0: one read). The input
 * pieces are heap copies of exactly their size, so an overread is caught.
 */
static struct decoded
decode(const char *buf, size_t len, uint32_t seed)
{
	struct decoded d = { CHUNKED_MORE, 0, NULL, 0 };
	struct chunked c;
	size_t off = 0;

	d.out = malloc(len + 1);
	FUZZ_CHECK(d.out != NULL);
	chunked_init(&c);
	while (off < len && d.r == CHUNKED_MORE) {
		size_t piece = seed == 0 ? len - off :
		    next_size(&seed, len - off < 64 ? len - off : 64);
		char *p = fuzz_copy((const uint8_t *)buf + off, piece, 0);
		size_t at = 0;

		while (at < piece && d.r == CHUNKED_MORE) {
			const char *data = NULL;
			size_t used = 0, dlen = 0;

			d.r = chunked_feed(&c, p + at, piece - at, &used,
			    &data, &dlen);
			FUZZ_CHECK(used <= piece - at);
			FUZZ_CHECK(d.r != CHUNKED_MORE || used > 0);
			if (dlen > 0) {
				FUZZ_CHECK(fuzz_inside(data, dlen, p + at,
				    used));
				FUZZ_CHECK(d.len + dlen <= len);
				memcpy(d.out + d.len, data, dlen);
				d.len += dlen;
			}
			at += used;
		}
		d.used = off + at;
		off += piece;
		free(p);
	}
	return d;
}

/* Chunk data[0..len) in sizes from seed, with a last chunk. */
static size_t
encode(const char *data, size_t len, uint32_t seed, char *out)
{
	size_t n = 0, off = 0;

	while (off < len) {
		size_t piece = next_size(&seed, len - off);

		n += (size_t)sprintf(out + n, "%zx\r\n", piece);
		memcpy(out + n, data + off, piece);
		n += piece;
		memcpy(out + n, "\r\n", 2);
		n += 2;
		off += piece;
	}
	memcpy(out + n, "0\r\n\r\n", 5);
	return n + 5;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoded whole, split, again;
	uint32_t seed;
	const char *buf;
	char *enc;
	size_t n;

	if (size == 0)
		return 0;
	seed = data[0] | 1u;
	buf = (const char *)data + 1;
	size--;

	whole = decode(buf, size, 0);
	split = decode(buf, size, seed);
	FUZZ_CHECK(whole.r == split.r);
	FUZZ_CHECK(whole.len == split.len);
	FUZZ_CHECK(whole.len == 0 ||
	    memcmp(whole.out, split.out, whole.len) == 0);
	if (whole.r == CHUNKED_DONE)
		FUZZ_CHECK(whole.used == split.used);
	FUZZ_CHECK(whole.len <= size);
	FUZZ_CHECK(chunked_scan(buf, size) == whole.r);

	/* Each chunk costs at least 5 bytes of framing besides its data. */
	enc = malloc(whole.len * 6 + 16);
	FUZZ_CHECK(enc != NULL);
	n = encode(whole.out, whole.len, seed, enc);
	again = decode(enc, n, seed + 1);
	FUZZ_CHECK(again.r == CHUNKED_DONE && again.used == n);
	FUZZ_CHECK(again.len == whole.len);
	FUZZ_CHECK(whole.len == 0 ||
	    memcmp(again.out, whole.out, whole.len) == 0);
	free(enc);
	free(again.out);
	free(split.out);
	free(whole.out);
	return 0;
}
