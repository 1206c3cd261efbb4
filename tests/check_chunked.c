/*
 * check_chunked.c: the streaming chunked decoder (chunked.c).
 *
 * The decoder sees bodies in whatever pieces recv() returns, so every
 * valid body is also fed one byte at a time and split at every point: the
 * verdict, the end position and the decoded data must not depend on how
 * the bytes were sliced.
 */
#include <stdio.h>
#include <string.h>

#include "chunked.h"
#include "suites.h"

struct decoded {
	enum chunked_result	result;
	size_t			used;		/* bytes consumed in total */
	char			data[4096];
	size_t			data_len;
};

/* Feed buf[0..len) in pieces of at most step bytes (0: all at once). */
static void
decode(const char *buf, size_t len, size_t step, struct decoded *d)
{
	struct chunked ch;
	size_t off = 0;

	chunked_init(&ch);
	memset(d, 0, sizeof(*d));
	d->result = CHUNKED_MORE;
	while (off < len && d->result == CHUNKED_MORE) {
		size_t piece = step == 0 || len - off < step ? len - off : step;
		size_t pos = 0;

		/* The decoder may stop early after data: call again. */
		while (pos < piece && d->result == CHUNKED_MORE) {
			const char *data;
			size_t used, dlen;

			d->result = chunked_feed(&ch, buf + off + pos,
			    piece - pos, &used, &data, &dlen);
			ck_assert_uint_le(used, piece - pos);
			ck_assert_uint_le(dlen, used);
			if (dlen > 0) {
				/* Data always lies inside what was used. */
				ck_assert(data >= buf + off + pos);
				ck_assert(data + dlen <= buf + off + pos + used);
				ck_assert_uint_le(d->data_len + dlen,
				    sizeof(d->data));
				memcpy(d->data + d->data_len, data, dlen);
				d->data_len += dlen;
			}
			pos += used;
			if (used == 0 && d->result == CHUNKED_MORE)
				break;
		}
		off += pos;
	}
	d->used = off;
}

static const struct {
	const char	*body;
	const char	*data;
} good_bodies[] = {
	{ "0\r\n\r\n", "" },
	{ "5\r\nhello\r\n0\r\n\r\n", "hello" },
	{ "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n", "hello world!" },
	{ "A\r\n0123456789\r\n0\r\n\r\n", "0123456789" },
	{ "a\r\n0123456789\r\n0\r\n\r\n", "0123456789" },
	{ "00005\r\nhello\r\n000\r\n\r\n", "hello" },
	/* Extensions, with and without values, and BWS before ';'. */
	{ "5;name=val\r\nhello\r\n0;last\r\n\r\n", "hello" },
	{ "5 ;a=\"q;x\"\r\nhello\r\n0\r\n\r\n", "hello" },
	/* Trailer fields end with the blank line. */
	{ "3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", "abc" },
	/* Chunk data may hold CR, LF and NUL bytes. */
	{ "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n" },
};

START_TEST(test_good_body)
{
	const char *body = good_bodies[_i].body;
	const char *want = good_bodies[_i].data;
	size_t len = strlen(body), step;
	struct decoded d;

	for (step = 0; step <= len; step++) {
		decode(body, len, step, &d);
		ck_assert_msg(d.result == CHUNKED_DONE, "%s step %zu", body,
		    step);
		ck_assert_uint_eq(d.used, len);
		ck_assert_uint_eq(d.data_len, strlen(want));
		ck_assert(memcmp(d.data, want, d.data_len) == 0);
	}
}
END_TEST

/* Every proper prefix of a valid body wants more, never "bad". */
START_TEST(test_good_body_truncated)
{
	const char *body = good_bodies[_i].body;
	size_t n;
	struct decoded d;

	for (n = 0; n < strlen(body); n++) {
		decode(body, n, 0, &d);
		ck_assert_msg(d.result == CHUNKED_MORE, "%s cut at %zu", body,
		    n);
	}
}
END_TEST

/* The body ends exactly at its last byte; what follows is not used. */
START_TEST(test_stops_at_end)
{
	const char *msg = "3\r\nabc\r\n0\r\n\r\nGET next";
	struct decoded d;

	decode(msg, strlen(msg), 0, &d);
	ck_assert(d.result == CHUNKED_DONE);
	ck_assert_uint_eq(d.used, strlen(msg) - strlen("GET next"));
}
END_TEST

static const char *const bad_bodies[] = {
	"\r\n",				/* no size */
	"zz\r\n",			/* not hex */
	"-1\r\n",
	"+5\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n",
	"5\nhello\r\n0\r\n\r\n",	/* bare LF after the size */
	"5\r\nhelloX\r\n0\r\n\r\n",	/* data longer than the size */
	"5\r\nhello\n0\r\n\r\n",	/* bare LF after data */
	"5\r\nhello\r\n0\r\n\n",	/* bare LF at the end */
	"5 5\r\nhello\r\n0\r\n\r\n",	/* junk after BWS */
	"5;\x01\r\nhello\r\n0\r\n\r\n",	/* control byte in extension */
	"5;a\rb\r\nhello\r\n0\r\n\r\n",	/* bare CR in extension */
	"0\r\n X: folded\r\n\r\n",	/* obs-fold in trailers */
	"0\r\n:x\r\n\r\n",		/* trailer name not a token */
	"0\r\nX: a\x7f\r\n\r\n",
	/* 2^64 and more: the size would overflow. */
	"10000000000000000\r\n",
	"ffffffffffffffffff1\r\n",
	/* An endless run of zeros is cut off, not read forever. */
	"000000000000000000000000000000000000000000000001\r\n",
};

START_TEST(test_bad_body)
{
	const char *body = bad_bodies[_i];
	struct decoded d;

	decode(body, strlen(body), 0, &d);
	ck_assert_msg(d.result == CHUNKED_BAD, "accepted: %s", body);
	decode(body, strlen(body), 1, &d);
	ck_assert_msg(d.result == CHUNKED_BAD, "accepted bytewise: %s", body);
}
END_TEST

/* The largest size that fits in 64 bits is accepted (then streamed). */
START_TEST(test_max_size)
{
	const char *body = "ffffffffffffffff\r\nabc";
	struct decoded d;

	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_MORE);
	ck_assert_uint_eq(d.data_len, 3);
}
END_TEST

/* An extension or trailer line is capped at 4096 bytes. */
START_TEST(test_line_caps)
{
	static char body[9000];
	struct decoded d;

	strcpy(body, "1;");
	memset(body + 2, 'e', 4200);
	strcpy(body + 4202, "\r\nx\r\n0\r\n\r\n");
	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_BAD);

	strcpy(body, "1;");
	memset(body + 2, 'e', 4000);
	strcpy(body + 4002, "\r\nx\r\n0\r\n\r\n");
	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_DONE);

	strcpy(body, "0\r\nX: ");
	memset(body + 6, 'v', 4200);
	strcpy(body + 4206, "\r\n\r\n");
	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_BAD);
}
END_TEST

/* At most 100 trailer lines. */
START_TEST(test_trailer_count)
{
	static char body[2000];
	struct decoded d;
	size_t i;

	strcpy(body, "0\r\n");
	for (i = 0; i < 100; i++)
		strcat(body, "T: 1\r\n");
	strcat(body, "\r\n");
	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_DONE);

	strcpy(body, "0\r\n");
	for (i = 0; i < 101; i++)
		strcat(body, "T: 1\r\n");
	strcat(body, "\r\n");
	decode(body, strlen(body), 0, &d);
	ck_assert(d.result == CHUNKED_BAD);
}
END_TEST

/* A large body in many chunks decodes to exactly its data. */
START_TEST(test_many_chunks)
{
	static char body[20000];
	static char want[4096];
	size_t len = 0, wlen = 0, i;
	struct decoded d;

	for (i = 1; wlen + i < sizeof(want) && i < 90; i++) {
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "%zx\r\n", i);
		memset(body + len, 'a' + (int)(i % 26), i);
		memset(want + wlen, 'a' + (int)(i % 26), i);
		len += i;
		wlen += i;
		memcpy(body + len, "\r\n", 2);
		len += 2;
	}
	memcpy(body + len, "0\r\n\r\n", 5);
	len += 5;
	decode(body, len, 7, &d);
	ck_assert(d.result == CHUNKED_DONE);
	ck_assert_uint_eq(d.used, len);
	ck_assert_uint_eq(d.data_len, wlen);
	ck_assert(memcmp(d.data, want, wlen) == 0);
}
END_TEST

Suite *
chunked_suite(void)
{
	Suite *s = suite_create("chunked");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_good_body, 0,
	    (int)(sizeof(good_bodies) / sizeof(good_bodies[0])));
	tcase_add_loop_test(tc, test_good_body_truncated, 0,
	    (int)(sizeof(good_bodies) / sizeof(good_bodies[0])));
	tcase_add_test(tc, test_stops_at_end);
	tcase_add_loop_test(tc, test_bad_body, 0,
	    (int)(sizeof(bad_bodies) / sizeof(bad_bodies[0])));
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_line_caps);
	tcase_add_test(tc, test_trailer_count);
	tcase_add_test(tc, test_many_chunks);
	suite_add_tcase(s, tc);
	return s;
}
