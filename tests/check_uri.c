/*
 * check_uri.c: request-target parsing (uri.c). Absolute-form http:// URLs,
 * CONNECT's authority-form and the Host field check, each as a table of
 * inputs and verdicts. Every input is parsed from an exact-size heap copy
 * with no terminating NUL, so a read past the given length shows up under
 * ASan instead of passing by luck.
 */
#include <stdlib.h>
#include <string.h>

#include "uri.h"
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

/* Assert that every span the parser returned lies inside buf[0..len]. */
static void
assert_borrowed(const char *in, const char *buf, size_t len,
    const struct uri *u)
{
	ck_assert_msg(u->host >= buf && u->host + u->host_len <= buf + len,
	    "%s: host outside the input", in);
	ck_assert_msg(u->authority >= buf &&
	    u->authority + u->authority_len <= buf + len,
	    "%s: authority outside the input", in);
	ck_assert_msg(u->path_len == 0 ||
	    (u->path >= buf && u->path + u->path_len <= buf + len),
	    "%s: path outside the input", in);
}

/* Absolute-form targets that must be accepted, and what they hold. */
static const struct {
	const char	*in;
	const char	*authority;
	const char	*host;
	unsigned	 port;
	const char	*path;
} abs_ok[] = {
	{ "http://example.com/", "example.com", "example.com", 80, "/" },
	/* No path: kept empty here; rewrite.c sends "/" upstream. */
	{ "http://example.com", "example.com", "example.com", 80, "" },
	{ "http://h:80", "h:80", "h", 80, "" },
	{ "http://example.com:8080/a/b?x=1&y=2", "example.com:8080",
	    "example.com", 8080, "/a/b?x=1&y=2" },
	{ "http://127.0.0.1:3128/x", "127.0.0.1:3128", "127.0.0.1", 3128,
	    "/x" },
	{ "http://[::1]/", "[::1]", "::1", 80, "/" },
	{ "http://[::1]:8080/p", "[::1]:8080", "::1", 8080, "/p" },
	{ "http://[2001:db8::1]:65535/", "[2001:db8::1]:65535", "2001:db8::1",
	    65535, "/" },
	{ "http://[::ffff:192.0.2.1]/", "[::ffff:192.0.2.1]",
	    "::ffff:192.0.2.1", 80, "/" },
	{ "http://h:1/", "h:1", "h", 1, "/" },
	/* RFC 3986 §3.1: the scheme is case-insensitive. */
	{ "HTTP://h/", "h", "h", 80, "/" },
	{ "hTtP://h/", "h", "h", 80, "/" },
	/* The authority ends at '?' as well as at '/'. */
	{ "http://h?q=1", "h", "h", 80, "?q=1" },
	/* '@' after the authority is path, not userinfo. */
	{ "http://h/a@b", "h", "h", 80, "/a@b" },
	/* RFC 3986 §3.2.3: port = *DIGIT, so leading zeros are fine. */
	{ "http://h:080/", "h:080", "h", 80, "/" },
	{ "http://a-b.c_d~e.example/", "a-b.c_d~e.example",
	    "a-b.c_d~e.example", 80, "/" },
	{ "http://h/%20x;p=1", "h", "h", 80, "/%20x;p=1" },
	{ "http://h/a://b", "h", "h", 80, "/a://b" },
	{ "http://EXAMPLE.COM/", "EXAMPLE.COM", "EXAMPLE.COM", 80, "/" },
};

START_TEST(test_absolute_ok)
{
	const char *in = abs_ok[_i].in, *why = NULL;
	size_t len = strlen(in);
	char *buf = dup_exact(in, len);
	struct uri u;
	int st;

	st = uri_parse_absolute(buf, len, &u, &why);
	ck_assert_msg(st == 0, "%s: status %d (%s)", in, st,
	    why != NULL ? why : "");
	assert_span("authority", in, u.authority, u.authority_len,
	    abs_ok[_i].authority);
	assert_span("host", in, u.host, u.host_len, abs_ok[_i].host);
	assert_span("path", in, u.path, u.path_len, abs_ok[_i].path);
	ck_assert_msg(u.port == abs_ok[_i].port, "%s: port %u, want %u", in,
	    (unsigned)u.port, abs_ok[_i].port);
	assert_borrowed(in, buf, len, &u);
	free(buf);
}
END_TEST

/* Absolute-form targets that must be refused with 400. */
static const char *const abs_bad[] = {
	/* Only http is proxied; https goes by CONNECT. */
	"https://h/", "ftp://h/", "httpx://h/", "htt://h/", "ws://h/",
	/* Origin-form and asterisk-form: ferry is a forward proxy. */
	"/", "/x", "/http://h/", "*",
	/* No scheme, or not a scheme. */
	"h/x", "h", "://h/", "1http://h/", "http:/h/", "http:h/", "",
	/* Userinfo (RFC 9110 §4.2.4). */
	"http://u@h/", "http://u:p@h/", "http://@h/", "http://h@/",
	"http://evil.example@good.example/",
	/* A fragment is never sent in a request-target. */
	"http://h/#f", "http://h#f", "http://h/x?y#",
	/* Ports. */
	"http://h:0/", "http://h:00/", "http://h:65536/", "http://h:65537",
	"http://h:4294967376/",	/* 2^32 + 80: a truncation trap */
	"http://h:4294967739/",
	"http://h:99999999999999999999999/", "http://h:80x/", "http://h:/",
	"http://h:", "http://h:-1/", "http://h:+80/", "http://h: 80/",
	"http://h:0x50/", "http://h:8 0/", "http://[::1]:/",
	"http://[::1]:0/", "http://[::1]:65536/", "http://h:80:80/",
	/* Empty or invalid hosts. */
	"http:///x", "http://", "http://:80/", "http://?q", "http://h h/",
	"http://h%41/", "http://h,i/", "http://h!/", "http://h\"/",
	"http://h\\/",
	/* IPv6 literals. */
	"http://::1/", "http://[::1/", "http://::1]/", "http://[::1]x/",
	"http://[]/", "http://[::g]/", "http://[127.0.0.1]/",
	"http://[::1]]/", "http://[[::1]]/", "http://[1:2:3:4:5:6:7:8:9]/",
	"http://[fe80::1%25eth0]/",
};

START_TEST(test_absolute_bad)
{
	const char *in = abs_bad[_i], *why = NULL;
	size_t len = strlen(in);
	char *buf = dup_exact(in, len);
	struct uri u;
	int st;

	st = uri_parse_absolute(buf, len, &u, &why);
	ck_assert_msg(st == 400, "\"%s\": status %d, want 400", in, st);
	ck_assert_msg(why != NULL && *why != '\0', "\"%s\": no reason", in);
	free(buf);
}
END_TEST

/* A host name of n bytes in "http://<name>/", parsed; returns the status. */
static int
parse_long_host(size_t n)
{
	char *buf = malloc(n + 8);
	const char *why = NULL;
	struct uri u;
	int st;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "http://", 7);
	memset(buf + 7, 'a', n);
	buf[7 + n] = '/';
	st = uri_parse_absolute(buf, n + 8, &u, &why);
	if (st == 0)
		ck_assert_uint_eq(u.host_len, n);
	free(buf);
	return st;
}

/* URI_HOST_MAX is the DNS name limit: one more byte is refused. */
START_TEST(test_host_length_cap)
{
	ck_assert_int_eq(parse_long_host(URI_HOST_MAX), 0);
	ck_assert_int_eq(parse_long_host(URI_HOST_MAX + 1), 400);
	ck_assert_int_eq(parse_long_host(4096), 400);
}
END_TEST

/*
 * The parser honours len, not a NUL: the same bytes cut shorter give the
 * shorter URI's answer.
 */
START_TEST(test_absolute_respects_len)
{
	static const char full[] = "http://h:8080/path";
	const char *why = NULL;
	struct uri u;
	char *buf;

	buf = dup_exact(full, 10);		/* "http://h:8" */
	ck_assert_int_eq(uri_parse_absolute(buf, 10, &u, &why), 0);
	ck_assert_uint_eq(u.port, 8);
	ck_assert_uint_eq(u.path_len, 0);
	free(buf);
	buf = dup_exact(full, 9);		/* "http://h:" */
	ck_assert_int_eq(uri_parse_absolute(buf, 9, &u, &why), 400);
	free(buf);
	buf = dup_exact(full, 7);		/* "http://" */
	ck_assert_int_eq(uri_parse_absolute(buf, 7, &u, &why), 400);
	free(buf);
}
END_TEST

/*
 * Every prefix of a valid URL either parses or is refused with 400; none
 * may crash or read past its end (ASan build).
 */
START_TEST(test_absolute_truncations)
{
	const char *in = abs_ok[_i].in, *why;
	size_t len = strlen(in), n;

	for (n = 0; n <= len; n++) {
		char *buf = dup_exact(in, n);
		struct uri u;
		int st;

		why = NULL;
		st = uri_parse_absolute(buf, n, &u, &why);
		ck_assert_msg(st == 0 || st == 400, "\"%.*s\": status %d",
		    (int)n, in, st);
		if (st == 0)
			assert_borrowed(in, buf, n, &u);
		else
			ck_assert_ptr_nonnull(why);
		free(buf);
	}
}
END_TEST

/*
 * An IPv6 literal with a NUL inside: inet_pton() alone would stop at the
 * NUL and take "[::\0junk]" for "::" (found by tests/fuzz/fuzz_uri.c).
 */
START_TEST(test_ip_literal_with_nul_is_refused)
{
	static const char auth[] = "[::\0http:/\0001]:43";
	static const char abs[] = "http://[::1\0]/";
	const char *why = NULL;
	struct uri u;
	char *buf;

	buf = dup_exact(auth, sizeof(auth) - 1);
	ck_assert_int_eq(uri_parse_authority(buf, sizeof(auth) - 1, &u, &why),
	    400);
	free(buf);
	buf = dup_exact(abs, sizeof(abs) - 1);
	ck_assert_int_eq(uri_parse_absolute(buf, sizeof(abs) - 1, &u, &why),
	    400);
	free(buf);
}
END_TEST

/* CONNECT authority-form: host and port are both required. */
static const struct {
	const char	*in;
	int		 status;
	const char	*host;
	unsigned	 port;
} auth_cases[] = {
	{ "example.com:443", 0, "example.com", 443 },
	{ "[::1]:443", 0, "::1", 443 },
	{ "[2001:db8::5]:8443", 0, "2001:db8::5", 8443 },
	{ "127.0.0.1:8443", 0, "127.0.0.1", 8443 },
	{ "h:1", 0, "h", 1 },
	{ "h:65535", 0, "h", 65535 },
	{ "h:0443", 0, "h", 443 },
	{ "example.com", 400, NULL, 0 },	/* port missing */
	{ "[::1]", 400, NULL, 0 },
	{ "h:", 400, NULL, 0 },
	{ "h:0", 400, NULL, 0 },
	{ "h:65536", 400, NULL, 0 },
	{ "h:4294967739", 400, NULL, 0 },
	{ "h:443x", 400, NULL, 0 },
	{ "h:-443", 400, NULL, 0 },
	{ "h:+443", 400, NULL, 0 },
	{ "h:443/", 400, NULL, 0 },
	{ "h:443/x", 400, NULL, 0 },
	{ ":443", 400, NULL, 0 },
	{ "[::1]443", 400, NULL, 0 },
	{ "[::1:443", 400, NULL, 0 },
	{ "::1:443", 400, NULL, 0 },
	{ "u@h:443", 400, NULL, 0 },
	{ "u:p@h:443", 400, NULL, 0 },
	{ "http://h:443", 400, NULL, 0 },
	{ "h h:443", 400, NULL, 0 },
	{ "h:443:443", 400, NULL, 0 },
	{ "", 400, NULL, 0 },
	{ "*", 400, NULL, 0 },
	{ "/", 400, NULL, 0 },
};

START_TEST(test_authority)
{
	const char *in = auth_cases[_i].in, *why = NULL;
	size_t len = strlen(in);
	char *buf = dup_exact(in, len);
	struct uri u;
	int st;

	st = uri_parse_authority(buf, len, &u, &why);
	ck_assert_msg(st == auth_cases[_i].status, "\"%s\": status %d, want %d",
	    in, st, auth_cases[_i].status);
	if (st == 0) {
		assert_span("host", in, u.host, u.host_len,
		    auth_cases[_i].host);
		assert_span("authority", in, u.authority, u.authority_len, in);
		ck_assert_uint_eq(u.port, auth_cases[_i].port);
		ck_assert_uint_eq(u.path_len, 0);
		assert_borrowed(in, buf, len, &u);
	} else
		ck_assert_msg(why != NULL && *why != '\0', "\"%s\": no reason",
		    in);
	free(buf);
}
END_TEST

/* Host field values (RFC 9112 §3.2): host [":" port], or empty. */
static const struct {
	const char	*in;
	int		 result;
} host_cases[] = {
	{ "", 0 },	/* allowed when the target has no authority */
	{ "h", 0 },
	{ "example.com", 0 },
	{ "example.com:8080", 0 },
	{ "127.0.0.1", 0 },
	{ "127.0.0.1:80", 0 },
	{ "[::1]", 0 },
	{ "[::1]:8080", 0 },
	{ "h:0", 400 },
	{ "h:", 400 },
	{ "h:65536", 400 },
	{ "h:80x", 400 },
	{ "u@h", 400 },
	{ "u:p@h:80", 400 },
	{ "h/x", 400 },
	{ "h h", 400 },
	{ "h,i", 400 },
	{ "[::1", 400 },
	{ "::1", 400 },
	{ "[::1]x", 400 },
	{ ":80", 400 },
	{ "http://h", 400 },
};

START_TEST(test_host_field)
{
	const char *in = host_cases[_i].in;
	size_t len = strlen(in);
	char *buf = dup_exact(in, len);

	ck_assert_msg(uri_check_host_field(buf, len) == host_cases[_i].result,
	    "Host \"%s\": want %d", in, host_cases[_i].result);
	free(buf);
}
END_TEST

Suite *
uri_suite(void)
{
	Suite *s = suite_create("uri");
	TCase *tc = tcase_create("absolute");
	TCase *ta = tcase_create("authority");

	tcase_add_loop_test(tc, test_absolute_ok, 0, NELEM(abs_ok));
	tcase_add_loop_test(tc, test_absolute_bad, 0, NELEM(abs_bad));
	tcase_add_loop_test(tc, test_absolute_truncations, 0, NELEM(abs_ok));
	tcase_add_test(tc, test_host_length_cap);
	tcase_add_test(tc, test_absolute_respects_len);
	tcase_add_test(tc, test_ip_literal_with_nul_is_refused);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(ta, test_authority, 0, NELEM(auth_cases));
	tcase_add_loop_test(ta, test_host_field, 0, NELEM(host_cases));
	suite_add_tcase(s, ta);
	return s;
}
