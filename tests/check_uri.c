/*
 * check_uri.c: request-target parsing (uri.c): absolute http:// URLs for
 * ordinary requests, host:port for CONNECT, and the Host field check.
 */
#include <string.h>

#include "suites.h"
#include "uri.h"

/* Targets that parse, with what they must split into. */
static const struct {
	const char	*target;
	const char	*host;
	unsigned	 port;
	const char	*path;
	const char	*authority;
} good_absolute[] = {
	{ "http://example.com/", "example.com", 80, "/", "example.com" },
	{ "http://example.com", "example.com", 80, "", "example.com" },
	{ "http://example.com?q=1", "example.com", 80, "?q=1",
	    "example.com" },
	{ "http://ex.com:8080/a/b?c=d&e", "ex.com", 8080, "/a/b?c=d&e",
	    "ex.com:8080" },
	{ "http://127.0.0.1:1/", "127.0.0.1", 1, "/", "127.0.0.1:1" },
	{ "http://[::1]:3128/x", "::1", 3128, "/x", "[::1]:3128" },
	{ "http://[2001:db8::1]/", "2001:db8::1", 80, "/", "[2001:db8::1]" },
	{ "http://h:65535/", "h", 65535, "/", "h:65535" },
	/* Schemes are case-insensitive (RFC 3986 §3.1). */
	{ "HTTP://Example.COM/P", "Example.COM", 80, "/P", "Example.COM" },
	{ "http://a-b.c_d~e/", "a-b.c_d~e", 80, "/", "a-b.c_d~e" },
};

START_TEST(test_good_absolute)
{
	const char *t = good_absolute[_i].target;
	const char *why = NULL;
	struct uri u;

	ck_assert_msg(uri_parse_absolute(t, strlen(t), &u, &why) == 0,
	    "%s: %s", t, why);
	ck_assert_uint_eq(u.host_len, strlen(good_absolute[_i].host));
	ck_assert(memcmp(u.host, good_absolute[_i].host, u.host_len) == 0);
	ck_assert_uint_eq(u.port, good_absolute[_i].port);
	ck_assert_uint_eq(u.path_len, strlen(good_absolute[_i].path));
	ck_assert(memcmp(u.path, good_absolute[_i].path, u.path_len) == 0);
	ck_assert_uint_eq(u.authority_len,
	    strlen(good_absolute[_i].authority));
	ck_assert(memcmp(u.authority, good_absolute[_i].authority,
	    u.authority_len) == 0);
}
END_TEST

static const char *const bad_absolute[] = {
	"/", "/index.html", "*", "", "example.com/", "//h/",
	"https://h/", "ftp://h/", "ws://h/", "httpx://h/", "1http://h/",
	"http:/h/", "http:h", "://h/",
	"http://u@h/", "http://u:p@h/", "http://@h/",
	"http://h/#f", "http://h#f",
	"http://h:0/", "http://h:65536/", "http://h:4294967739/",
	"http://h:80x/", "http://h:/", "http://h:-1/", "http://h:+80/",
	"http://h: 80/", "http://h:99999999999999999999/",
	"http:///", "http://", "http://:80/",
	"http://[::1/", "http://[::1]x/", "http://[zz::1]/", "http://[]/",
	"http://::1/", "http://h%2f/", "http://a b/", "http://h\"/",
};

START_TEST(test_bad_absolute)
{
	const char *t = bad_absolute[_i];
	const char *why = NULL;
	struct uri u;

	ck_assert_msg(uri_parse_absolute(t, strlen(t), &u, &why) == 400,
	    "accepted: %s", t);
	ck_assert(why != NULL);
}
END_TEST

/* A host name longer than DNS allows is refused before any lookup. */
START_TEST(test_long_host)
{
	char t[400];
	const char *why = NULL;
	struct uri u;

	strcpy(t, "http://");
	memset(t + 7, 'a', 300);
	strcpy(t + 307, "/");
	ck_assert_int_eq(uri_parse_absolute(t, strlen(t), &u, &why), 400);
}
END_TEST

/* The parser reads only len bytes: a valid prefix is judged alone. */
START_TEST(test_length_bound)
{
	const char *t = "http://h:81/x";
	const char *why = NULL;
	struct uri u;

	ck_assert_int_eq(uri_parse_absolute(t, 11, &u, &why), 0);
	ck_assert_uint_eq(u.port, 81);
	ck_assert_uint_eq(u.path_len, 0);
}
END_TEST

static const struct {
	const char	*target;
	const char	*host;
	unsigned	 port;
} good_authority[] = {
	{ "example.com:443", "example.com", 443 },
	{ "127.0.0.1:8443", "127.0.0.1", 8443 },
	{ "[::1]:443", "::1", 443 },
	{ "h:1", "h", 1 },
};

START_TEST(test_good_authority)
{
	const char *t = good_authority[_i].target;
	const char *why = NULL;
	struct uri u;

	ck_assert_msg(uri_parse_authority(t, strlen(t), &u, &why) == 0,
	    "%s: %s", t, why);
	ck_assert_uint_eq(u.host_len, strlen(good_authority[_i].host));
	ck_assert(memcmp(u.host, good_authority[_i].host, u.host_len) == 0);
	ck_assert_uint_eq(u.port, good_authority[_i].port);
	ck_assert_uint_eq(u.authority_len, strlen(t));
}
END_TEST

static const char *const bad_authority[] = {
	"example.com", "example.com:", ":443", "h:0", "h:65536",
	"h:4294967739", "h:443x", "h:-443", "u@h:443", "http://h:443",
	"[::1]", "::1:443", "[::1:443", "h:443/", "",
};

START_TEST(test_bad_authority)
{
	const char *t = bad_authority[_i];
	const char *why = NULL;
	struct uri u;

	ck_assert_msg(uri_parse_authority(t, strlen(t), &u, &why) == 400,
	    "accepted: %s", t);
	ck_assert(why != NULL);
}
END_TEST

START_TEST(test_host_field)
{
	static const char *const good[] = { "", "h", "h:80", "[::1]",
	    "[::1]:8080", "10.0.0.1:1" };
	static const char *const bad[] = { "a b", "u@h", "h:x", "h:0",
	    "h:70000", "[::1", ":80", "h/p" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(uri_check_host_field(good[i], strlen(good[i])) ==
		    0, "refused: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(uri_check_host_field(bad[i], strlen(bad[i])) ==
		    -1, "accepted: %s", bad[i]);
}
END_TEST

Suite *
uri_suite(void)
{
	Suite *s = suite_create("uri");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_good_absolute, 0,
	    (int)(sizeof(good_absolute) / sizeof(good_absolute[0])));
	tcase_add_loop_test(tc, test_bad_absolute, 0,
	    (int)(sizeof(bad_absolute) / sizeof(bad_absolute[0])));
	tcase_add_test(tc, test_long_host);
	tcase_add_test(tc, test_length_bound);
	tcase_add_loop_test(tc, test_good_authority, 0,
	    (int)(sizeof(good_authority) / sizeof(good_authority[0])));
	tcase_add_loop_test(tc, test_bad_authority, 0,
	    (int)(sizeof(bad_authority) / sizeof(bad_authority[0])));
	tcase_add_test(tc, test_host_field);
	suite_add_tcase(s, tc);
	return s;
}
