/*
 * check_maxfwd.c: Max-Forwards on TRACE and OPTIONS (maxfwd.c).
 *
 * Each case parses a real head with http.c. maxfwd_check() must read the
 * field only on TRACE and OPTIONS, count it like Content-Length (digits,
 * equal repeats) and refuse anything else; maxfwd_answer() must give the
 * exact bytes of ferry's own 200 for a fixed time, echo a TRACE head as
 * received but for its credentials, and stay inside the caller's buffer.
 * (The count-down in the forwarded head is in check_rewrite.c.)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "maxfwd.h"
#include "suites.h"

/* RFC 9110 §5.6.7's example date, the time every answer is made at. */
#define NOW		((time_t)784111777)
#define DATE		"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

static struct http_field fields[32];
static const struct http_limits limits = { 32, 1024 };

static void
parse_req(const char *head, struct http_request *r)
{
	ck_assert_msg(http_parse_request(head, strlen(head), &limits, fields,
	    r) == HTTP_DONE, "%s: %s", head, r->error);
}

#define TRACE	"TRACE http://h/ HTTP/1.1\r\nHost: h\r\n"
#define OPTIONS	"OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n"

/* Heads, the verdict on their Max-Forwards, and the count if any. */
static const struct {
	const char		*in;
	enum maxfwd_verdict	 v;
	uint64_t		 hops;
} check_cases[] = {
	{ TRACE "Max-Forwards: 0\r\n\r\n", MAXFWD_ANSWER, 0 },
	{ OPTIONS "Max-Forwards: 0\r\n\r\n", MAXFWD_ANSWER, 0 },
	{ OPTIONS "max-forwards:   000  \r\n\r\n", MAXFWD_ANSWER, 0 },
	{ TRACE "Max-Forwards: 5\r\n\r\n", MAXFWD_FORWARD, 5 },
	{ OPTIONS "Max-Forwards: 007\r\n\r\n", MAXFWD_FORWARD, 7 },
	{ TRACE "Max-Forwards: 18446744073709551615\r\n\r\n", MAXFWD_FORWARD,
	    UINT64_MAX },
	/* Repeats are one value if they are equal (as RFC 9110 §8.6). */
	{ TRACE "Max-Forwards: 3\r\nMax-Forwards: 3\r\n\r\n", MAXFWD_FORWARD,
	    3 },
	{ TRACE "Max-Forwards: 2, 2\r\n\r\n", MAXFWD_FORWARD, 2 },
	/* Absent, or on any other method: nothing to do. */
	{ TRACE "\r\n", MAXFWD_NONE, 0 },
	{ OPTIONS "X-Max-Forwards: 0\r\n\r\n", MAXFWD_NONE, 0 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n",
	    MAXFWD_NONE, 0 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: x\r\n\r\n",
	    MAXFWD_NONE, 0 },
	{ "trace http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n",
	    MAXFWD_NONE, 0 },
	{ "TRACEX http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n",
	    MAXFWD_NONE, 0 },
	/* Not 1*DIGIT, or values that differ: refused. */
	{ TRACE "Max-Forwards:\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: -1\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: +1\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: 1.0\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: 0x1\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: 1 1\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: one\r\n\r\n", MAXFWD_BAD, 0 },
	{ TRACE "Max-Forwards: 1,\r\n\r\n", MAXFWD_BAD, 0 },
	{ OPTIONS "Max-Forwards: 1, 2\r\n\r\n", MAXFWD_BAD, 0 },
	{ OPTIONS "Max-Forwards: 0\r\nMax-Forwards: 1\r\n\r\n", MAXFWD_BAD,
	    0 },
	{ TRACE "Max-Forwards: 18446744073709551616\r\n\r\n", MAXFWD_BAD, 0 },
};

START_TEST(test_check)
{
	struct http_request r;
	const char *why = NULL;
	uint64_t hops = 12345;
	enum maxfwd_verdict v;

	parse_req(check_cases[_i].in, &r);
	v = maxfwd_check(&r, &hops, &why);
	ck_assert_msg(v == check_cases[_i].v, "%s: verdict %d, want %d",
	    check_cases[_i].in, v, check_cases[_i].v);
	if (v == MAXFWD_FORWARD || v == MAXFWD_ANSWER)
		ck_assert_uint_eq(hops, check_cases[_i].hops);
	if (v == MAXFWD_BAD)
		ck_assert_msg(why != NULL && strstr(why, "Max-Forwards") !=
		    NULL, "%s: no reason", check_cases[_i].in);
}
END_TEST

/* Answers at zero: the head, the Connection value, the exact answer. */
static const struct {
	const char	*in;
	const char	*connection;
	const char	*out;
} answer_cases[] = {
	{ OPTIONS "Max-Forwards: 0\r\n\r\n", NULL,
	    "HTTP/1.1 200 OK\r\n" DATE "Allow: " MAXFWD_ALLOW "\r\n"
	    "Content-Length: 0\r\n\r\n" },
	{ "OPTIONS http://h:81 HTTP/1.0\r\nMax-Forwards: 0\r\n\r\n",
	    "keep-alive",
	    "HTTP/1.1 200 OK\r\n" DATE "Allow: " MAXFWD_ALLOW "\r\n"
	    "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n" },
	{ TRACE "Max-Forwards: 0\r\n\r\n", NULL,
	    "HTTP/1.1 200 OK\r\n" DATE "Content-Type: message/http\r\n"
	    "Content-Length: 54\r\n\r\n"
	    TRACE "Max-Forwards: 0\r\n\r\n" },
	/*
	 * The echo is the head as received, whitespace and case and all,
	 * without the fields that carry credentials or sessions.
	 */
	{ "TRACE http://h:8080/a?b=c HTTP/1.1\r\nHost:h:8080\r\n"
	    "Authorization: Basic dTpw\r\nAccept:  */* \t\r\n"
	    "Cookie: sid=1\r\nProxy-Authorization: Basic eDp5\r\n"
	    "X-Api-Key: k\r\nX-Auth-Token: t\r\nSet-Cookie: s=2\r\n"
	    "X-CSRF-Token: c\r\nX-Session-Id: 9\r\nX-Secret: s\r\n"
	    "X-Password: p\r\nmax-forwards: 0\r\nVia: 1.1 other\r\n"
	    "X-Empty:\r\nUser-Agent: curl/8\r\n\r\n", "close",
	    "HTTP/1.1 200 OK\r\n" DATE "Content-Type: message/http\r\n"
	    "Content-Length: 130\r\nConnection: close\r\n\r\n"
	    "TRACE http://h:8080/a?b=c HTTP/1.1\r\nHost:h:8080\r\n"
	    "Accept:  */* \t\r\nmax-forwards: 0\r\nVia: 1.1 other\r\n"
	    "X-Empty:\r\nUser-Agent: curl/8\r\n\r\n" },
	/* A higher 1.x version is echoed as it came. */
	{ "TRACE http://h/ HTTP/1.2\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n",
	    NULL,
	    "HTTP/1.1 200 OK\r\n" DATE "Content-Type: message/http\r\n"
	    "Content-Length: 54\r\n\r\n"
	    "TRACE http://h/ HTTP/1.2\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n" },
	/* Empty lines before the request line are not part of the head. */
	{ "\r\n" TRACE "Max-Forwards: 0\r\n\r\n", NULL,
	    "HTTP/1.1 200 OK\r\n" DATE "Content-Type: message/http\r\n"
	    "Content-Length: 54\r\n\r\n"
	    TRACE "Max-Forwards: 0\r\n\r\n" },
};

START_TEST(test_answer)
{
	struct http_request r;
	char out[2048];
	size_t len;

	parse_req(answer_cases[_i].in, &r);
	ck_assert_int_eq(maxfwd_check(&r, &(uint64_t){ 0 },
	    &(const char *){ NULL }), MAXFWD_ANSWER);
	len = maxfwd_answer(&r, NOW, answer_cases[_i].connection, out,
	    sizeof(out) - 1);
	ck_assert_uint_gt(len, 0);
	out[len] = '\0';
	ck_assert_str_eq(out, answer_cases[_i].out);
	/* The Content-Length is the length of what follows the head. */
	if (strstr(out, "message/http") != NULL) {
		const char *body = strstr(out, "\r\n\r\n") + 4;
		char want[64];

		snprintf(want, sizeof(want), "Content-Length: %zu\r\n",
		    strlen(body));
		ck_assert_ptr_nonnull(strstr(out, want));
	}
}
END_TEST

/* A clock with no IMF-fixdate (year 10000): no Date, the rest whole. */
START_TEST(test_answer_without_clock)
{
	struct http_request r;
	char out[512];
	size_t len;

	parse_req(OPTIONS "Max-Forwards: 0\r\n\r\n", &r);
	len = maxfwd_answer(&r, (time_t)253402300800LL, NULL, out,
	    sizeof(out) - 1);
	out[len] = '\0';
	ck_assert_str_eq(out, "HTTP/1.1 200 OK\r\nAllow: " MAXFWD_ALLOW
	    "\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

/*
 * Below the size an answer needs the call gives 0 and writes nothing
 * past cap; at the size it needs, the bytes a large buffer gets.
 */
START_TEST(test_answer_small_buffer)
{
	static const char *const heads[] = {
		OPTIONS "Max-Forwards: 0\r\n\r\n",
		TRACE "Cookie: a\r\nX: y\r\nMax-Forwards: 0\r\n\r\n",
	};
	struct http_request r;
	char want[1024], small[1024];
	size_t need, cap, got;

	parse_req(heads[_i], &r);
	need = maxfwd_answer(&r, NOW, "close", want, sizeof(want));
	ck_assert_uint_gt(need, 0);
	for (cap = 0; cap <= need + 1; cap++) {
		memset(small, 'Z', sizeof(small));
		got = maxfwd_answer(&r, NOW, "close", small, cap);
		ck_assert_msg(small[cap] == 'Z', "wrote past %zu", cap);
		if (got != 0) {
			ck_assert_uint_eq(got, need);
			ck_assert(memcmp(small, want, need) == 0);
		}
		if (cap > need)
			ck_assert_uint_eq(got, need);
		if (cap < need)
			ck_assert_uint_eq(got, 0);
	}
}
END_TEST

Suite *
maxfwd_suite(void)
{
	Suite *s = suite_create("maxfwd");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_check, 0, NELEM(check_cases));
	tcase_add_loop_test(tc, test_answer, 0, NELEM(answer_cases));
	tcase_add_test(tc, test_answer_without_clock);
	tcase_add_loop_test(tc, test_answer_small_buffer, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
