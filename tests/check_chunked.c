/*
 * check_chunked.c: the streaming chunked decoder (chunked.c, RFC 9112
 * §7.1). A table of bodies with their verdict, where the body ends and the
 * data it carries; each body is also fed one byte at a time, in every pair
 * of pieces and cut short, and must give the same answer every way. The
 * feeder checks the decoder's contract on every call: it makes progress,
 * never claims more than it was given, and its data span is the tail of
 * what it used.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "suites.h"

#define OUT_MAX 8192

/* What feeding a whole body produced. */
struct run {
	enum chunked_result	r;
	size_t			used;		/* input consumed */
	char			out[OUT_MAX];	/* chunk data */
	size_t			out_len;
};

/* Append the data span d[0..n), which must end at end, to rn->out. */
static void
run_append(struct run *rn, const char *end, const char *d, size_t n)
{
	ck_assert_msg(d + n == end, "data span is not the tail of the input");
	ck_assert(rn->out_len + n <= OUT_MAX);
	memcpy(rn->out + rn->out_len, d, n);
	rn->out_len += n;
}

/*
 * Feed one piece buf[0..len) to c the way body.c does: call again on the
 * rest while the answer is MORE. Adds the bytes used to rn->used.
 */
static void
feed_piece(struct chunked *c, const char *buf, size_t len, struct run *rn)
{
	size_t off = 0;

	while (off < len && rn->r == CHUNKED_MORE) {
		const char *data = NULL;
		size_t used = (size_t)-1, dlen = (size_t)-1;

		rn->r = chunked_feed(c, buf + off, len - off, &used, &data,
		    &dlen);
		ck_assert_msg(used > 0 && used <= len - off, "used %zu of %zu",
		    used, len - off);
		if (dlen > 0)
			run_append(rn, buf + off + used, data, dlen);
		off += used;
	}
	rn->used += off;
}

/* Start rn for a fresh body. */
static void
run_init(struct run *rn)
{
	memset(rn, 0, sizeof(*rn));
	rn->r = CHUNKED_MORE;
}

/* Feed an exact-size heap copy of p[0..len), so ASan sees over-reads. */
static void
feed_copy(struct chunked *c, const char *p, size_t len, struct run *rn)
{
	char *buf = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, p, len);
	feed_piece(c, buf, len, rn);
	free(buf);
}

/*
 * Feed in[0..len) to a fresh decoder in pieces of at most step bytes.
 * Stops at the first DONE or BAD.
 */
static void
feed_steps(const char *in, size_t len, size_t step, struct run *rn)
{
	struct chunked c;

	chunked_init(&c);
	run_init(rn);
	while (rn->used < len && rn->r == CHUNKED_MORE) {
		size_t pos = rn->used;

		feed_copy(&c, in + pos, len - pos < step ? len - pos : step,
		    rn);
	}
}

/* Whole-body cases: verdict, where it ends, the data it carries. */
struct body_case {
	const char		*in;
	size_t			 len;	/* 0: strlen(in) */
	enum chunked_result	 r;
	size_t			 used;	/* DONE/BAD: bytes used; 0: all */
	const char		*data;	/* for DONE */
	size_t			 data_len;	/* 0: strlen(data) */
};

#define ZERO_END	"0\r\n\r\n"

static const struct body_case cases[] = {
	/* Valid bodies. */
	{ "5\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "hello", 0 },
	{ "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n" ZERO_END, 0, CHUNKED_DONE, 0,
	    "abcdefgh", 0 },
	{ ZERO_END, 0, CHUNKED_DONE, 0, "", 0 },
	{ "000\r\n\r\n", 0, CHUNKED_DONE, 0, "", 0 },
	{ "a\r\n0123456789\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "0123456789",
	    0 },
	{ "A\r\n0123456789\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "0123456789",
	    0 },
	{ "1f\r\nabcdefghijklmnopqrstuvwxyz01234\r\n" ZERO_END, 0,
	    CHUNKED_DONE, 0, "abcdefghijklmnopqrstuvwxyz01234", 0 },
	{ "1F\r\nabcdefghijklmnopqrstuvwxyz01234\r\n" ZERO_END, 0,
	    CHUNKED_DONE, 0, "abcdefghijklmnopqrstuvwxyz01234", 0 },
	{ "0005\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "hello", 0 },
	{ "00000000000000000005\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0,
	    "hello", 0 },
	/* Extensions (§7.1.1), with BWS before ';'. */
	{ "5;name=value\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "hello",
	    0 },
	{ "5;a;b=\"q s\"\r\nhello\r\n0;last\r\n\r\n", 0, CHUNKED_DONE, 0,
	    "hello", 0 },
	{ "5 ;x\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "hello", 0 },
	{ "5\t; x = y\r\nhello\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "hello",
	    0 },
	/* Trailer fields (§7.1.2). */
	{ "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n", 0,
	    CHUNKED_DONE, 0, "hello", 0 },
	{ "0\r\nX:\r\n\r\n", 0, CHUNKED_DONE, 0, "", 0 },
	/* Data is opaque: CRLF, NUL and "0\r\n\r\n" inside it are data. */
	{ "6\r\nhe\r\nlo\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "he\r\nlo", 0 },
	{ "5\r\n0\r\n\r\n\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "0\r\n\r\n", 0 },
	{ "3\r\na\0b\r\n" ZERO_END, 13, CHUNKED_DONE, 0, "a\0b", 3 },
	{ "2\r\n\xff\x80\r\n" ZERO_END, 0, CHUNKED_DONE, 0, "\xff\x80", 0 },
	/* The body ends where it ends; what follows is not consumed. */
	{ ZERO_END "GET http://h/ HTTP/1.1\r\n", 0, CHUNKED_DONE, 5, "", 0 },
	{ "1\r\nx\r\n" ZERO_END "0\r\n\r\n", 0, CHUNKED_DONE, 11, "x", 0 },

	/* Incomplete bodies: valid so far. */
	{ "5\r\nhello\r\n", 0, CHUNKED_MORE, 0, NULL, 0 },
	{ "5\r\nhel", 0, CHUNKED_MORE, 0, NULL, 0 },
	{ "0\r\nX-T: 1\r\n", 0, CHUNKED_MORE, 0, NULL, 0 },
	{ "", 0, CHUNKED_MORE, 0, NULL, 0 },
	/* 15 hex digits of value is the documented maximum. */
	{ "FFFFFFFFFFFFFFF\r\n", 0, CHUNKED_MORE, 0, NULL, 0 },
	{ "0000000000000000FFFFFFFFFFFFFFF\r\n", 0, CHUNKED_MORE, 0, NULL,
	    0 },

	/* Bad sizes: the byte that makes it bad is the last one used. */
	{ "\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "g\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "-1\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "+1\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "0x5\r\n", 0, CHUNKED_BAD, 2, NULL, 0 },
	{ " 5\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "5x\r\n", 0, CHUNKED_BAD, 2, NULL, 0 },
	{ "5 x\r\n", 0, CHUNKED_BAD, 3, NULL, 0 },
	{ ";x\r\n", 0, CHUNKED_BAD, 1, NULL, 0 },
	{ "\0", 1, CHUNKED_BAD, 1, NULL, 0 },
	/* A 16th significant hex digit is refused: sizes stay below 2^60. */
	{ "10000000000000000\r\n", 0, CHUNKED_BAD, 16, NULL, 0 },
	{ "FFFFFFFFFFFFFFFFF\r\n", 0, CHUNKED_BAD, 16, NULL, 0 },
	{ "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 0, CHUNKED_BAD, 16, NULL,
	    0 },
	/* An endless run of leading zeros is cut off at 32 digits. */
	{ "000000000000000000000000000000001\r\n", 0, CHUNKED_BAD, 33,
	    NULL, 0 },
	/* Line endings must be CRLF. */
	{ "5\nhello\r\n", 0, CHUNKED_BAD, 2, NULL, 0 },
	{ "5\rhello\r\n", 0, CHUNKED_BAD, 3, NULL, 0 },
	{ "5;x\nhello\r\n", 0, CHUNKED_BAD, 4, NULL, 0 },
	/* Missing or wrong CRLF after the data. */
	{ "5\r\nhelloX\r\n", 0, CHUNKED_BAD, 9, NULL, 0 },
	{ "5\r\nhello\n0\r\n\r\n", 0, CHUNKED_BAD, 9, NULL, 0 },
	{ "5\r\nhello\r0\r\n\r\n", 0, CHUNKED_BAD, 10, NULL, 0 },
	{ "5\r\nhello" ZERO_END, 0, CHUNKED_BAD, 9, NULL, 0 },
	{ "4\r\nhello\r\n" ZERO_END, 0, CHUNKED_BAD, 8, NULL, 0 },
	/* Control bytes in an extension. */
	{ "5;a\x01\r\nhello\r\n" ZERO_END, 0, CHUNKED_BAD, 4, NULL, 0 },
	{ "5;a\x7f\r\nhello\r\n" ZERO_END, 0, CHUNKED_BAD, 4, NULL, 0 },
	{ "5;a\0\r\nhello\r\n", 13, CHUNKED_BAD, 4, NULL, 0 },
	/* Bad trailer section. */
	{ "0\r\n\r\r", 0, CHUNKED_BAD, 5, NULL, 0 },
	{ "0\r\n\n", 0, CHUNKED_BAD, 4, NULL, 0 },
	{ "0\r\nX: 1\n\r\n", 0, CHUNKED_BAD, 8, NULL, 0 },
	{ "0\r\nX: 1\rY\r\n\r\n", 0, CHUNKED_BAD, 9, NULL, 0 },
	{ "0\r\n:bad\r\n\r\n", 0, CHUNKED_BAD, 4, NULL, 0 },
	{ "0\r\n Folded: 1\r\n\r\n", 0, CHUNKED_BAD, 4, NULL, 0 },
	{ "0\r\nX: a\x01\r\n\r\n", 0, CHUNKED_BAD, 8, NULL, 0 },
	{ "0\r\n\r\nX", 0, CHUNKED_DONE, 5, "", 0 },
};

static size_t
case_len(const struct body_case *bc)
{
	return bc->len != 0 ? bc->len : strlen(bc->in);
}

/* Check a run against the table's verdict for case bc. */
static void
assert_run(const struct body_case *bc, const struct run *rn, const char *how)
{
	size_t len = case_len(bc);
	size_t want_used = bc->used != 0 ? bc->used : len;
	size_t dlen;

	ck_assert_msg(rn->r == bc->r, "case \"%.*s\" (%s): result %d, want %d",
	    (int)len, bc->in, how, rn->r, bc->r);
	ck_assert_msg(rn->used == want_used,
	    "case \"%.*s\" (%s): used %zu, want %zu", (int)len, bc->in, how,
	    rn->used, want_used);
	if (bc->r != CHUNKED_DONE)
		return;
	dlen = bc->data_len != 0 ? bc->data_len : strlen(bc->data);
	ck_assert_msg(rn->out_len == dlen &&
	    memcmp(rn->out, bc->data, dlen) == 0,
	    "case \"%.*s\" (%s): data \"%.*s\"", (int)len, bc->in, how,
	    (int)rn->out_len, rn->out);
}

START_TEST(test_whole)
{
	struct run rn;

	feed_steps(cases[_i].in, case_len(&cases[_i]), (size_t)-1, &rn);
	assert_run(&cases[_i], &rn, "whole");
}
END_TEST

/* One byte per call must be indistinguishable from the whole body. */
START_TEST(test_byte_at_a_time)
{
	struct run rn;

	feed_steps(cases[_i].in, case_len(&cases[_i]), 1, &rn);
	assert_run(&cases[_i], &rn, "bytewise");
}
END_TEST

/* Every piece size from 2 up to the length. */
START_TEST(test_every_step)
{
	size_t len = case_len(&cases[_i]), step;
	char how[32];
	struct run rn;

	for (step = 2; step <= len; step++) {
		feed_steps(cases[_i].in, len, step, &rn);
		snprintf(how, sizeof(how), "step %zu", step);
		assert_run(&cases[_i], &rn, how);
	}
}
END_TEST

/*
 * Every strict prefix of a body, up to where it ends or up to and
 * including the byte before the bad one, is MORE with all of it used: the
 * decoder neither finishes early nor rejects a body that may go on validly.
 */
START_TEST(test_truncations)
{
	const struct body_case *bc = &cases[_i];
	size_t len = case_len(bc), end, n;
	struct run rn;

	/* For BAD, used ends just after the bad byte. */
	end = bc->used != 0 ? bc->used : len;
	for (n = 0; n < end; n++) {
		feed_steps(bc->in, n, (size_t)-1, &rn);
		ck_assert_msg(rn.r == CHUNKED_MORE && rn.used == n,
		    "prefix %zu of \"%.*s\": result %d used %zu", n, (int)len,
		    bc->in, rn.r, rn.used);
	}
}
END_TEST

/*
 * chunked_scan, the stateless check of a body's first bytes, gives the
 * table's verdict for the whole input and MORE for every strict prefix
 * that ends before the verdict's byte.
 */
START_TEST(test_scan)
{
	const struct body_case *bc = &cases[_i];
	size_t len = case_len(bc), end, n;

	ck_assert_msg(chunked_scan(bc->in, len) == bc->r,
	    "scan of \"%.*s\": %d", (int)len, bc->in,
	    chunked_scan(bc->in, len));
	end = bc->used != 0 ? bc->used : len;
	for (n = 0; n < end; n++)
		ck_assert_msg(chunked_scan(bc->in, n) == CHUNKED_MORE,
		    "scan of prefix %zu of \"%.*s\"", n, (int)len, bc->in);
}
END_TEST

/*
 * A sample body cut in two at every point, each half fed whole: the same
 * data and the same end, wherever the cut falls (inside a size, an
 * extension, the data, a CRLF or a trailer).
 */
START_TEST(test_every_split)
{
	static const char body[] = "4;ext=1\r\nWiki\r\n6\r\npedia \r\n"
	    "E\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: yes\r\n\r\n";
	static const char want[] = "Wikipedia in \r\n\r\nchunks.";
	size_t len = sizeof(body) - 1, cut;

	for (cut = 0; cut <= len; cut++) {
		struct chunked c;
		struct run rn;

		chunked_init(&c);
		run_init(&rn);
		feed_copy(&c, body, cut, &rn);
		ck_assert_msg(rn.r == CHUNKED_MORE || cut == len,
		    "cut %zu: first half gives %d", cut, rn.r);
		feed_copy(&c, body + cut, len - cut, &rn);
		ck_assert_msg(rn.r == CHUNKED_DONE && rn.used == len,
		    "cut %zu: result %d used %zu", cut, rn.r, rn.used);
		ck_assert_msg(rn.out_len == sizeof(want) - 1 &&
		    memcmp(rn.out, want, rn.out_len) == 0,
		    "cut %zu: data \"%.*s\"", cut, (int)rn.out_len, rn.out);
	}
}
END_TEST

/* Build "5<line>\r\nhello\r\n0\r\n\r\n" with an extension of n bytes. */
static enum chunked_result
run_ext(size_t n)
{
	size_t len = n + 15;
	char *b = malloc(len);
	struct run *rn = malloc(sizeof(*rn));
	enum chunked_result r;

	ck_assert(b != NULL && rn != NULL);
	b[0] = '5';
	b[1] = ';';
	memset(b + 2, 'e', n - 1);
	memcpy(b + 1 + n, "\r\nhello\r\n0\r\n\r\n", 14);
	feed_steps(b, len, 1000, rn);
	r = rn->r;
	ck_assert(r != CHUNKED_DONE || rn->used == len);
	free(rn);
	free(b);
	return r;
}

/* An extension line (';' and what follows) is capped at 4096 bytes. */
START_TEST(test_ext_cap)
{
	ck_assert_int_eq(run_ext(1), CHUNKED_DONE);
	ck_assert_int_eq(run_ext(4096), CHUNKED_DONE);
	ck_assert_int_eq(run_ext(4097), CHUNKED_BAD);
	ck_assert_int_eq(run_ext(100000), CHUNKED_BAD);
}
END_TEST

/* "0\r\n" then one trailer line of n bytes, then the blank line. */
static enum chunked_result
run_trailer_line(size_t n)
{
	size_t len = n + 7;
	char *b = malloc(len);
	struct run *rn = malloc(sizeof(*rn));
	enum chunked_result r;

	ck_assert(b != NULL && rn != NULL);
	memcpy(b, "0\r\nX", 4);
	memset(b + 4, 'v', n - 1);
	memcpy(b + 3 + n, "\r\n\r\n", 4);
	feed_steps(b, len, 977, rn);
	r = rn->r;
	free(rn);
	free(b);
	return r;
}

START_TEST(test_trailer_line_cap)
{
	ck_assert_int_eq(run_trailer_line(1), CHUNKED_DONE);
	ck_assert_int_eq(run_trailer_line(4096), CHUNKED_DONE);
	ck_assert_int_eq(run_trailer_line(4097), CHUNKED_BAD);
	ck_assert_int_eq(run_trailer_line(65536), CHUNKED_BAD);
}
END_TEST

/* "0\r\n" then n trailer lines "T: v", then the blank line. */
static enum chunked_result
run_trailers(size_t n)
{
	size_t len = 3 + n * 6 + 2, i;
	char *b = malloc(len);
	struct run *rn = malloc(sizeof(*rn));
	enum chunked_result r;

	ck_assert(b != NULL && rn != NULL);
	memcpy(b, "0\r\n", 3);
	for (i = 0; i < n; i++)
		memcpy(b + 3 + i * 6, "T: v\r\n", 6);
	memcpy(b + 3 + n * 6, "\r\n", 2);
	feed_steps(b, len, 64, rn);
	r = rn->r;
	free(rn);
	free(b);
	return r;
}

/* At most 100 trailer lines. */
START_TEST(test_trailer_count_cap)
{
	ck_assert_int_eq(run_trailers(0), CHUNKED_DONE);
	ck_assert_int_eq(run_trailers(100), CHUNKED_DONE);
	ck_assert_int_eq(run_trailers(101), CHUNKED_BAD);
	ck_assert_int_eq(run_trailers(1000), CHUNKED_BAD);
}
END_TEST

/*
 * A chunk size is at most 15 hex digits of value (chunked.c's own
 * contract), so that it stays far inside the int64 byte counts that
 * framing.c keeps to. A 16th significant digit must be refused.
 */
START_TEST(test_size_sixteen_digits)
{
	static const char *const sizes[] = { "1000000000000000\r\n",
	    "FFFFFFFFFFFFFFFF\r\n", "8000000000000000\r\n" };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct run rn;

		feed_steps(sizes[i], strlen(sizes[i]), (size_t)-1, &rn);
		ck_assert_msg(rn.r == CHUNKED_BAD, "size %.16s accepted",
		    sizes[i]);
	}
}
END_TEST

/* A big chunk arrives in many reads; the data is handed out in place. */
START_TEST(test_large_chunk_spans)
{
	static char body[6 + 4096 + 7];
	struct run rn;
	size_t i;

	memcpy(body, "1000\r\n", 6);
	for (i = 0; i < 4096; i++)
		body[6 + i] = (char)('a' + i % 26);
	memcpy(body + 6 + 4096, "\r\n" ZERO_END, 7);
	feed_steps(body, sizeof(body), 333, &rn);
	ck_assert_int_eq(rn.r, CHUNKED_DONE);
	ck_assert_uint_eq(rn.used, sizeof(body));
	ck_assert_uint_eq(rn.out_len, 4096);
	ck_assert(memcmp(rn.out, body + 6, 4096) == 0);
}
END_TEST

/* Once the body has ended, more input is not chunked coding. */
START_TEST(test_after_done)
{
	struct chunked c;
	const char *data;
	size_t used, dlen;

	chunked_init(&c);
	ck_assert_int_eq(chunked_feed(&c, ZERO_END, 5, &used, &data, &dlen),
	    CHUNKED_DONE);
	ck_assert_uint_eq(used, 5);
	ck_assert_uint_eq(dlen, 0);
	ck_assert_int_eq(chunked_feed(&c, "0", 1, &used, &data, &dlen),
	    CHUNKED_BAD);
}
END_TEST

/* chunked_init resets a decoder that was left mid-chunk. */
START_TEST(test_reinit)
{
	struct chunked c;
	const char *data;
	size_t used, dlen;

	chunked_init(&c);
	ck_assert_int_eq(chunked_feed(&c, "ff\r\nab", 6, &used, &data, &dlen),
	    CHUNKED_MORE);
	chunked_init(&c);
	ck_assert_int_eq(chunked_feed(&c, ZERO_END, 5, &used, &data, &dlen),
	    CHUNKED_DONE);
}
END_TEST

Suite *
chunked_suite(void)
{
	Suite *s = suite_create("chunked");
	TCase *tt = tcase_create("table");
	TCase *tl = tcase_create("limits");

	tcase_add_loop_test(tt, test_whole, 0, NELEM(cases));
	tcase_add_loop_test(tt, test_byte_at_a_time, 0, NELEM(cases));
	tcase_add_loop_test(tt, test_every_step, 0, NELEM(cases));
	tcase_add_loop_test(tt, test_truncations, 0, NELEM(cases));
	tcase_add_loop_test(tt, test_scan, 0, NELEM(cases));
	tcase_add_test(tt, test_every_split);
	tcase_add_test(tt, test_large_chunk_spans);
	tcase_add_test(tt, test_after_done);
	tcase_add_test(tt, test_reinit);
	suite_add_tcase(s, tt);
	tcase_add_test(tl, test_ext_cap);
	tcase_add_test(tl, test_trailer_line_cap);
	tcase_add_test(tl, test_trailer_count_cap);
	tcase_add_test(tl, test_size_sixteen_digits);
	suite_add_tcase(s, tl);
	return s;
}
