/*
 * check_cred.c: Proxy-Authorization as Basic credentials (cred.c). A table
 * of values and verdicts, hostile ones first-class; every value is parsed
 * from an exact-size heap copy without a NUL, so a read past its end shows
 * up under ASan; every truncation and every single-byte change of a valid
 * value is parsed too; and the length caps are probed at the edge.
 */
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "suites.h"

/* Heap copy of s[0..len) without a NUL; the caller frees it. */
static char *
dup_exact(const char *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	return p;
}

/* Parse s[0..len) from an exact-size copy. */
static enum cred_result
parse_exact(const char *s, size_t len, struct cred *c)
{
	char *p = dup_exact(s, len);
	enum cred_result r = cred_parse(p, len, c);

	free(p);
	return r;
}

/*
 * "Basic " and the base64 of in[0..n) into out (cap bytes, NUL-ended);
 * returns its length.
 */
static size_t
basic_of(const char *in, size_t n, char *out, size_t cap)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)in;
	size_t i, o = 6;

	ck_assert_uint_ge(cap, 6 + (n + 2) / 3 * 4 + 1);
	memcpy(out, "Basic ", 6);
	for (i = 0; i < n; i += 3) {
		unsigned long b = (unsigned long)u[i] << 16 |
		    (i + 1 < n ? (unsigned long)u[i + 1] << 8 : 0) |
		    (i + 2 < n ? u[i + 2] : 0);

		out[o++] = a[b >> 18 & 63];
		out[o++] = a[b >> 12 & 63];
		out[o++] = i + 1 < n ? a[b >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[b & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static const struct {
	const char		*in;
	size_t			 len;	/* 0: strlen(in) */
	enum cred_result	 want;
	const char		*user;
	const char		*password;
} cases[] = {
	{ "Basic YWxpY2U6c2VjcmV0", 0, CRED_OK, "alice", "secret" },
	/* The scheme in any case (RFC 9110 §11.1), and 1*SP. */
	{ "basic YWxpY2U6c2VjcmV0", 0, CRED_OK, "alice", "secret" },
	{ "BASIC YWxpY2U6c2VjcmV0", 0, CRED_OK, "alice", "secret" },
	{ "Basic   YWxpY2U6c2VjcmV0", 0, CRED_OK, "alice", "secret" },
	{ "Basic YTpi", 0, CRED_OK, "a", "b" },
	/* Padding of one and of two; an empty password; ':' in it. */
	{ "Basic YTpiYw==", 0, CRED_OK, "a", "bc" },
	{ "Basic YWI6Yw==", 0, CRED_OK, "ab", "c" },
	{ "Basic YTo=", 0, CRED_OK, "a", "" },
	{ "Basic YWxpY2U6cGE6c3M6d29yZA==", 0, CRED_OK, "alice",
	    "pa:ss:word" },
	/* UTF-8 is not a control byte (RFC 7617 §2.1 charset). */
	{ "Basic w6k6w6k=", 0, CRED_OK, "\xc3\xa9", "\xc3\xa9" },
	{ "Basic Pz46fn4/", 0, CRED_OK, "?>", "~~?" },

	/* Not Basic: someone else's scheme, whatever follows. */
	{ "Bearer abc.def", 0, CRED_OTHER_SCHEME, NULL, NULL },
	{ "Negotiate", 0, CRED_OTHER_SCHEME, NULL, NULL },
	{ "Basicx YWxpY2U6c2VjcmV0", 0, CRED_OTHER_SCHEME, NULL, NULL },
	{ "Digest username=\"a\"", 0, CRED_OTHER_SCHEME, NULL, NULL },

	/* Present but not credentials. */
	{ "", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic ", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic    ", 0, CRED_MALFORMED, NULL, NULL },
	{ " Basic YTpi", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic\tYWxpY2U6c2VjcmV0", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWxp Y2U6c2VjcmV0", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWxpY2U6\tc2VjcmV0", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWxpY2U6c2VjcmV0 ", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWxpY2U6c2VjcmV0\r\n", 0, CRED_MALFORMED, NULL, NULL },
	/* Length not a multiple of 4, padding left out or misplaced. */
	{ "Basic YTpiYw", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTpiYw=", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTpiY", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTo=YTpi", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YT=pi", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTpiYw===", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTo==", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic Y===", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic ====", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic =", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTo=x", 0, CRED_MALFORMED, NULL, NULL },
	/* Padding bits not zero: a second spelling of "a:" (RFC 4648 §3.5). */
	{ "Basic YTp=", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTpiYx==", 0, CRED_MALFORMED, NULL, NULL },
	/* Outside the alphabet: URL-safe (RFC 4648 §5), '.', '~', NUL, 8-bit. */
	{ "Basic Pz46fn4_", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic Pz46fn4-", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTpi.", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YTp~", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YT\0i", 10, CRED_MALFORMED, NULL, NULL },
	{ "Basic YT\xc3\xa9", 0, CRED_MALFORMED, NULL, NULL },
	{ "Bas\0c YTpi", 10, CRED_MALFORMED, NULL, NULL },
	/* Decoded: no ':', empty user, control bytes in either half. */
	{ "Basic YWxpY2VzZWNyZXQ=", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic OnB3", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWwAaWNlOnB3", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWwBOnB3", 0, CRED_MALFORMED, NULL, NULL },
	/* A NUL would end the password early inside crypt(). */
	{ "Basic YWxpY2U6cAB3", 0, CRED_MALFORMED, NULL, NULL },
	{ "Basic YWxpY2U6cH93", 0, CRED_MALFORMED, NULL, NULL },
};

START_TEST(test_parse)
{
	struct cred c;
	size_t len = cases[_i].len != 0 ? cases[_i].len : strlen(cases[_i].in);
	enum cred_result r = parse_exact(cases[_i].in, len, &c);

	ck_assert_msg(r == cases[_i].want, "\"%s\": got %d, want %d",
	    cases[_i].in, (int)r, (int)cases[_i].want);
	if (r != CRED_OK)
		return;
	assert_span("user", cases[_i].in, c.user, c.user_len, cases[_i].user);
	assert_span("password", cases[_i].in, c.password, c.password_len,
	    cases[_i].password);
	ck_assert_ptr_eq(c.user, c.buf);
	ck_assert(c.password + c.password_len <= c.buf + sizeof(c.buf));
}
END_TEST

/*
 * Every prefix of every valid value parses without reading past its end
 * (the copy is exact-size) and is never taken for other credentials: a
 * shorter token is either malformed or, cut at a quartet, a prefix of the
 * same decoded bytes.
 */
START_TEST(test_truncations)
{
	struct cred c;
	const char *in = cases[_i].in;
	size_t n, len = strlen(in);
	enum cred_result r;

	if (cases[_i].want != CRED_OK)
		return;
	for (n = 0; n < len; n++) {
		r = parse_exact(in, n, &c);
		ck_assert_msg(r == CRED_MALFORMED || r == CRED_OK ||
		    (r == CRED_OTHER_SCHEME && n < 5),
		    "\"%.*s\": got %d", (int)n, in, (int)r);
		if (r == CRED_OK)
			ck_assert_msg(c.user_len + 1 + c.password_len <
			    strlen(cases[_i].user) + 1 +
			    strlen(cases[_i].password),
			    "\"%.*s\": not shorter", (int)n, in);
	}
}
END_TEST

/*
 * Each byte of a valid token replaced by each byte value: the parser
 * never accepts a value with a byte outside the alphabet, and never
 * reads past the end.
 */
START_TEST(test_every_byte)
{
	static const char valid[] = "Basic YWxpY2U6cGE6c3M6d29yZA==";
	char v[sizeof(valid)];
	struct cred c;
	size_t pos;
	int b;

	for (pos = 6; pos < sizeof(valid) - 1; pos++) {
		for (b = 0; b < 256; b++) {
			memcpy(v, valid, sizeof(valid));
			v[pos] = (char)b;
			if (parse_exact(v, sizeof(valid) - 1, &c) != CRED_OK)
				continue;
			ck_assert_msg((b >= 'A' && b <= 'Z') ||
			    (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
			    b == '+' || b == '/' || b == '=',
			    "byte %d at %zu accepted", b, pos);
		}
	}
}
END_TEST

/* The decoded cap: CRED_DECODED_MAX bytes pass, one more is refused. */
START_TEST(test_length_cap)
{
	static char raw[CRED_DECODED_MAX + 8];
	static char val[6 + CRED_TOKEN_MAX + 16];
	struct cred c;
	size_t n, len;

	memset(raw, 'x', sizeof(raw));
	raw[0] = 'u';
	raw[1] = ':';
	for (n = CRED_DECODED_MAX - 3; n <= CRED_DECODED_MAX + 4; n++) {
		len = basic_of(raw, n, val, sizeof(val));
		ck_assert_msg(parse_exact(val, len, &c) ==
		    (n <= CRED_DECODED_MAX ? CRED_OK : CRED_MALFORMED),
		    "%zu decoded bytes", n);
		if (n <= CRED_DECODED_MAX)
			ck_assert_uint_eq(c.password_len, n - 2);
	}
}
END_TEST

/* Credentials round-trip through the encoder, bytes 0x20..0xff. */
START_TEST(test_round_trip)
{
	char raw[300], val[6 + 400 + 1];
	struct cred c;
	size_t n = 0, len;
	int b;

	raw[n++] = 'u';
	raw[n++] = ':';
	for (b = 0x20; b <= 0xff; b++)
		if (b != 0x7f)
			raw[n++] = (char)b;
	len = basic_of(raw, n, val, sizeof(val));
	ck_assert_int_eq(parse_exact(val, len, &c), CRED_OK);
	ck_assert_uint_eq(c.password_len, n - 2);
	ck_assert(memcmp(c.password, raw + 2, n - 2) == 0);
}
END_TEST

static struct http_field
fld(const char *name, const char *value)
{
	struct http_field f;

	f.name = name;
	f.name_len = strlen(name);
	f.value = value;
	f.value_len = strlen(value);
	return f;
}

START_TEST(test_find)
{
	struct http_field f[4];
	const struct http_field *found = NULL;

	f[0] = fld("Host", "example.com");
	f[1] = fld("proxy-authorization", "Basic YTpi");
	f[2] = fld("Authorization", "Basic YTpj");
	f[3] = fld("PROXY-AUTHORIZATION", "Basic YTpk");
	ck_assert_int_eq(cred_find(f, 0, &found), CRED_ABSENT);
	ck_assert_ptr_null(found);
	ck_assert_int_eq(cred_find(f, 1, &found), CRED_ABSENT);
	/* Authorization is for the origin, never ours. */
	ck_assert_int_eq(cred_find(f + 2, 1, &found), CRED_ABSENT);
	ck_assert_int_eq(cred_find(f, 3, &found), CRED_OK);
	ck_assert_ptr_eq(found, &f[1]);
	ck_assert_int_eq(cred_find(f, 4, &found), CRED_DUPLICATE);
	ck_assert_ptr_null(found);
	/* Even two identical fields are refused: the rule is the count. */
	f[3] = f[1];
	ck_assert_int_eq(cred_find(f, 4, &found), CRED_DUPLICATE);
}
END_TEST

Suite *
cred_suite(void)
{
	Suite *s = suite_create("cred");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, NELEM(cases));
	tcase_add_loop_test(tc, test_truncations, 0, NELEM(cases));
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_length_cap);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_find);
	suite_add_tcase(s, tc);
	return s;
}
