/*
 * check_access.c: the access log line (access.c).
 *
 * Exact lines for the usual requests, then hostile bytes: nothing a client
 * sends may break the line (a newline, a quote, a terminal escape), and no
 * target, however long, may overflow the buffer or lose the line's end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "suites.h"

/* 2026-11-25T06:36:22Z */
#define WHEN 1795588582

static size_t
fmt(const struct access_entry *e, char *buf)
{
	size_t n = access_format(buf, ACCESS_LINE_MAX, e);

	ck_assert_uint_lt(n, ACCESS_LINE_MAX);
	buf[n] = '\0';
	return n;
}

static struct access_entry
entry(const char *method, const char *target)
{
	struct access_entry e;

	memset(&e, 0, sizeof(e));
	e.client = "127.0.0.1";
	e.when = WHEN;
	e.method = method;
	e.method_len = method != NULL ? strlen(method) : 0;
	e.target = target;
	e.target_len = target != NULL ? strlen(target) : 0;
	e.minor = 1;
	e.status = 200;
	e.bytes_out = 107;
	e.ms = 3;
	e.upstream = "192.0.2.7:80";
	return e;
}

START_TEST(test_get)
{
	struct access_entry e = entry("GET", "http://example.com/a?b=c");
	char buf[ACCESS_LINE_MAX];

	fmt(&e, buf);
	ck_assert_str_eq(buf, "127.0.0.1 - - [25/Nov/2026:06:36:22 +0000] "
	    "\"GET http://example.com/a?b=c HTTP/1.1\" 200 107 3 "
	    "192.0.2.7:80\n");
}
END_TEST

/* The user who logged in is the third field, escaped as one field. */
START_TEST(test_user)
{
	struct access_entry e = entry("GET", "http://example.com/");
	char buf[ACCESS_LINE_MAX], user[ACCESS_USER_MAX], name[400];

	e.user = "alice";
	fmt(&e, buf);
	ck_assert_str_eq(buf, "127.0.0.1 - alice [25/Nov/2026:06:36:22 "
	    "+0000] \"GET http://example.com/ HTTP/1.1\" 200 107 3 "
	    "192.0.2.7:80\n");
	e.user = "";
	fmt(&e, buf);
	ck_assert_ptr_nonnull(strstr(buf, " - - ["));
	/* A name cannot forge fields: spaces and quotes are escaped. */
	e.user = "eve \"x\" client 10.0.0.1\\\xc3\xa9";
	fmt(&e, buf);
	ck_assert_msg(strstr(buf, "127.0.0.1 - eve\\x20\\x22x\\x22\\x20"
	    "client\\x2010.0.0.1\\x5c\\xc3\\xa9 [") == buf, "%s", buf);
	/* A name too long for its room is cut with "...". */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	access_escape(name, strlen(name), user);
	ck_assert_uint_lt(strlen(user), ACCESS_USER_MAX);
	ck_assert_uint_gt(strlen(user), ACCESS_USER_MAX - 8);
	ck_assert_str_eq(user + strlen(user) - 3, "...");
	ck_assert_uint_eq(strspn(user, "n"), strlen(user) - 3);
	e.user = name;
	ck_assert_uint_lt(fmt(&e, buf), ACCESS_LINE_MAX);
}
END_TEST

START_TEST(test_connect_v6_http10)
{
	struct access_entry e = entry("CONNECT", "[2001:db8::1]:443");
	char buf[ACCESS_LINE_MAX];

	e.client = "::1";
	e.minor = 0;
	e.bytes_out = 18446744073709551615ULL;
	e.ms = 0;
	e.upstream = "[2001:db8::1]:443";
	fmt(&e, buf);
	ck_assert_str_eq(buf, "::1 - - [25/Nov/2026:06:36:22 +0000] "
	    "\"CONNECT [2001:db8::1]:443 HTTP/1.0\" 200 18446744073709551615 "
	    "0 [2001:db8::1]:443\n");
}
END_TEST

/* Refused before parsing, never connected, nothing sent. */
START_TEST(test_unparsed)
{
	struct access_entry e = entry(NULL, NULL);
	char buf[ACCESS_LINE_MAX];

	e.status = 400;
	e.bytes_out = 0;
	e.upstream = NULL;
	fmt(&e, buf);
	ck_assert_str_eq(buf, "127.0.0.1 - - [25/Nov/2026:06:36:22 +0000] - "
	    "400 0 3 -\n");
	e.upstream = "";
	e.status = 0;
	fmt(&e, buf);
	ck_assert_str_eq(buf, "127.0.0.1 - - [25/Nov/2026:06:36:22 +0000] - "
	    "0 0 3 -\n");
}
END_TEST

/* Bytes that would break the line, and what they must become. */
static const struct {
	const char	*target;
	size_t		 len;	/* 0: strlen */
	const char	*want;
} escapes[] = {
	{ "/a\"b", 0, "/a\\x22b" },
	{ "/a\\b", 0, "/a\\x5cb" },
	{ "/a\nb", 0, "/a\\x0ab" },
	{ "/a\rb", 0, "/a\\x0db" },
	{ "/a b", 0, "/a\\x20b" },
	{ "/\x1b[31m", 0, "/\\x1b[31m" },
	{ "/\x7f\x80\xff", 0, "/\\x7f\\x80\\xff" },
	{ "/a\0b", 4, "/a\\x00b" },
	{ "/~!$&'()*+,;=:@%20", 0, "/~!$&'()*+,;=:@%20" },
};

START_TEST(test_escapes)
{
	struct access_entry e = entry("GET", escapes[_i].target);
	char buf[ACCESS_LINE_MAX], want[256];

	if (escapes[_i].len != 0)
		e.target_len = escapes[_i].len;
	fmt(&e, buf);
	snprintf(want, sizeof(want), "\"GET %s HTTP/1.1\" 200 ",
	    escapes[_i].want);
	ck_assert_msg(strstr(buf, want) != NULL, "%s", buf);
	/* One line: the only newline is the last byte. */
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);
}
END_TEST

/*
 * Long targets, plain and all-escaped, at and around the cut: the line
 * stays in the buffer, says "..." when cut, and keeps its tail.
 */
START_TEST(test_long_targets)
{
	static const size_t lens[] = { 1000, 1023, 1024, 1025, 4000, 65536 };
	static const char tail[] = " HTTP/1.1\" 200 107 3 192.0.2.7:80\n";
	char buf[ACCESS_LINE_MAX];
	char *t = malloc(65537);
	size_t i, n;
	int fill;

	ck_assert_ptr_nonnull(t);
	for (fill = 0; fill < 2; fill++) {
		memset(t, fill == 0 ? 'a' : '\n', 65536);
		t[65536] = '\0';
		for (i = 0; i < (size_t)NELEM(lens); i++) {
			struct access_entry e = entry("GET", t);
			bool cut;

			e.target_len = lens[i];
			n = fmt(&e, buf);
			cut = lens[i] > 1024 || fill == 1;
			ck_assert_msg((strstr(buf, "... HTTP/1.1\"") != NULL) ==
			    cut, "len %zu fill %d: %s", lens[i], fill, buf);
			ck_assert_msg(n > strlen(tail) && strcmp(buf + n -
			    strlen(tail), tail) == 0, "len %zu: %s", lens[i],
			    buf);
		}
	}
	free(t);
}
END_TEST

/* A method as long as a head may hold is cut, and the line still ends. */
START_TEST(test_long_method)
{
	char buf[ACCESS_LINE_MAX], *m = malloc(5001);
	struct access_entry e;
	size_t n;

	ck_assert_ptr_nonnull(m);
	memset(m, 'M', 5000);
	m[5000] = '\0';
	e = entry(m, "http://h/");
	n = fmt(&e, buf);
	ck_assert_uint_lt(n, 400);
	ck_assert_msg(strstr(buf, " http://h/ HTTP/1.1\" 200 107 3 "
	    "192.0.2.7:80\n") != NULL, "%s", buf);
	free(m);
}
END_TEST

Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_connect_v6_http10);
	tcase_add_test(tc, test_unparsed);
	tcase_add_loop_test(tc, test_escapes, 0, NELEM(escapes));
	tcase_add_test(tc, test_long_targets);
	tcase_add_test(tc, test_long_method);
	suite_add_tcase(s, tc);
	return s;
}
