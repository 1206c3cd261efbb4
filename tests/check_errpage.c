/*
 * check_errpage.c: the error responses ferry writes itself (errpage.c).
 *
 * Every page must be one complete HTTP/1.1 response: a status line with
 * the right reason, a Date (RFC 9110 §6.6.1) for the time it is given,
 * Content-Type text/html, a Content-Length that is
 * exactly the body's size (also for a HEAD answer, which has no body),
 * Connection: close, and a body that says what happened. The page must
 * stay inside the caller's buffer whatever its size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errpage.h"
#include "suites.h"

/* The time every page is made at: RFC 9110 §5.6.7's example date. */
#define NOW		((time_t)784111777)
#define NOW_TEXT	"Sun, 06 Nov 1994 08:49:37 GMT"

/* Every status ferry answers with itself. */
static const struct {
	int		 code;
	const char	*reason;
} statuses[] = {
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 414, "URI Too Long" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

/*
 * Copy the value of field name from page's head into val; NULL if the
 * field is absent. Fails the test if it appears more than once.
 */
static const char *
field(const char *page, const char *name, char *val, size_t cap)
{
	const char *end = strstr(page, "\r\n\r\n");
	const char *p = page, *found = NULL;
	size_t nlen = strlen(name);

	ck_assert_ptr_nonnull(end);
	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			ck_assert_msg(found == NULL, "two %s fields", name);
			found = p + nlen + 1;
		}
	}
	if (found == NULL)
		return NULL;
	while (*found == ' ')
		found++;
	snprintf(val, cap, "%.*s", (int)(strstr(found, "\r\n") - found),
	    found);
	return val;
}

/* Content-Length of page: plain digits, else the test fails. */
static size_t
content_length(const char *page)
{
	char val[32];
	size_t i;

	ck_assert_ptr_nonnull(field(page, "Content-Length", val,
	    sizeof(val)));
	ck_assert_uint_gt(strlen(val), 0);
	for (i = 0; val[i] != '\0'; i++)
		ck_assert_msg(val[i] >= '0' && val[i] <= '9',
		    "Content-Length '%s'", val);
	return (size_t)strtoul(val, NULL, 10);
}

/* Check the head of page is a well-formed close-delimited error page. */
static void
check_head(const char *page, int code, const char *reason)
{
	char line[128], val[64];
	const char *end = strstr(page, "\r\n\r\n"), *p;

	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", code, reason);
	ck_assert_msg(strncmp(page, line, strlen(line)) == 0, "%s", page);
	ck_assert_ptr_nonnull(end);
	/* Every header line is "Name: value"; no bare CR or LF inside. */
	for (p = strstr(page, "\r\n") + 2; p < end + 2;
	    p = strstr(p, "\r\n") + 2) {
		const char *eol = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(memchr(p, ':', (size_t)(eol - p)));
		ck_assert_ptr_null(memchr(p, '\n', (size_t)(eol - p)));
		ck_assert_ptr_null(memchr(p, '\r', (size_t)(eol - p)));
	}
	ck_assert_ptr_nonnull(field(page, "Connection", val, sizeof(val)));
	ck_assert_str_eq(val, "close");
	ck_assert_ptr_nonnull(field(page, "Date", val, sizeof(val)));
	ck_assert_str_eq(val, NOW_TEXT);
	ck_assert_ptr_nonnull(field(page, "Content-Type", val, sizeof(val)));
	ck_assert_msg(strncasecmp(val, "text/html", 9) == 0, "%s", val);
	ck_assert_ptr_null(field(page, "Transfer-Encoding", val,
	    sizeof(val)));
}

START_TEST(test_page)
{
	char page[2048];
	const char *body;
	size_t len;

	ck_assert_str_eq(errpage_reason(statuses[_i].code),
	    statuses[_i].reason);
	len = errpage_format(statuses[_i].code, "Something went wrong.",
	    false, NOW, page, sizeof(page));
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(len, strlen(page));
	check_head(page, statuses[_i].code, statuses[_i].reason);
	body = strstr(page, "\r\n\r\n") + 4;
	ck_assert_uint_eq(content_length(page), strlen(body));
	ck_assert_uint_eq(content_length(page), len - (size_t)(body - page));
	/* The body says what happened, in words and as a number. */
	ck_assert_ptr_nonnull(strstr(body, "Something went wrong."));
	ck_assert_ptr_nonnull(strstr(body, statuses[_i].reason));
	ck_assert_ptr_nonnull(strstr(body, "<html"));
	ck_assert_ptr_nonnull(strstr(body, "</html>"));
}
END_TEST

/*
 * HEAD: the same head, Content-Length included, and no body
 * (RFC 9110 §9.3.2), for every status.
 */
START_TEST(test_head_only)
{
	char full[2048], head[2048];
	size_t flen, hlen;

	flen = errpage_format(statuses[_i].code, "No.", false, NOW, full,
	    sizeof(full));
	hlen = errpage_format(statuses[_i].code, "No.", true, NOW, head,
	    sizeof(head));
	ck_assert_uint_gt(hlen, 0);
	ck_assert_uint_eq(hlen, strlen(head));
	ck_assert_uint_lt(hlen, flen);
	ck_assert(strcmp(head + hlen - 4, "\r\n\r\n") == 0);
	ck_assert_ptr_eq(strstr(head, "\r\n\r\n"), head + hlen - 4);
	check_head(head, statuses[_i].code, statuses[_i].reason);
	ck_assert_uint_eq(content_length(head), content_length(full));
	ck_assert_uint_eq(hlen + content_length(head), flen);
	ck_assert(memcmp(head, full, hlen) == 0);
}
END_TEST

/* Details of many sizes: the length always matches, or nothing is made. */
START_TEST(test_detail_sizes)
{
	static char detail[4096], page[8192];
	size_t n, len, made = 0;
	const char *body;

	for (n = 0; n < sizeof(detail) - 1; n += 7) {
		memset(detail, 'd', n);
		detail[n] = '\0';
		len = errpage_format(502, detail, false, NOW, page, sizeof(page));
		if (len == 0)
			continue;
		made++;
		ck_assert_uint_eq(len, strlen(page));
		body = strstr(page, "\r\n\r\n") + 4;
		ck_assert_uint_eq(content_length(page), strlen(body));
		ck_assert_ptr_nonnull(strstr(body, detail));
	}
	/* Ordinary details (all of ferry's are short) must all fit. */
	ck_assert_uint_gt(made, 100);
}
END_TEST

/* A detail too large for a page gives no page, not a truncated one. */
START_TEST(test_huge_detail)
{
	static char detail[20000], page[65536];

	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	memset(page, 'Z', sizeof(page));
	ck_assert_uint_eq(errpage_format(400, detail, false, NOW, page,
	    sizeof(page)), 0);
}
END_TEST

/*
 * The detail is text, not markup: <, >, & and " must reach the browser
 * escaped, so that no detail can ever inject HTML into the page.
 */
START_TEST(test_detail_escaped)
{
	char page[2048];
	const char *body;
	size_t len;

	len = errpage_format(400, "a <b>\"c\" & d</b>", false, NOW, page,
	    sizeof(page));
	ck_assert_uint_gt(len, 0);
	body = strstr(page, "\r\n\r\n") + 4;
	ck_assert_uint_eq(content_length(page), strlen(body));
	ck_assert_msg(strstr(body, "<b>") == NULL, "raw markup: %s", body);
	ck_assert_msg(strstr(body, "\"c\"") == NULL, "raw quote: %s", body);
	ck_assert_msg(strstr(body, "a &lt;b&gt;&quot;c&quot; &amp; "
	    "d&lt;/b&gt;") != NULL, "not escaped: %s", body);
}
END_TEST

/*
 * The whole head, byte for byte: the Date is the time passed in. (The
 * body's length depends on PACKAGE_VERSION, so it is read off the page.)
 */
START_TEST(test_exact_head)
{
	char page[2048], head[2048], want[512];
	const char *body;
	size_t len, hlen;

	len = errpage_format(400, "Bad.", false, NOW, page, sizeof(page));
	ck_assert_uint_gt(len, 0);
	body = strstr(page, "\r\n\r\n") + 4;
	snprintf(want, sizeof(want), "HTTP/1.1 400 Bad Request\r\n"
	    "Date: " NOW_TEXT "\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", strlen(body));
	hlen = errpage_format(400, "Bad.", true, NOW, head, sizeof(head));
	ck_assert_str_eq(head, want);
	ck_assert_uint_eq(hlen, strlen(want));
	ck_assert_uint_eq(len, hlen + strlen(body));
	ck_assert(strncmp(page, want, hlen) == 0);
}
END_TEST

/*
 * A 407 that keeps the connection: the challenge field before the blank
 * line, no Connection field for HTTP/1.1, "keep-alive" for HTTP/1.0.
 */
START_TEST(test_opts)
{
	static const char challenge[] =
	    "Proxy-Authenticate: Basic realm=\"ferry\", charset=\"UTF-8\"\r\n";
	struct errpage_opts o = { ERRPAGE_KEEP, challenge };
	char page[2048], want[512];
	const char *body;
	size_t len;

	len = errpage_format_opts(407, "Log in.", false, &o, NOW, page,
	    sizeof(page));
	ck_assert_uint_gt(len, 0);
	body = strstr(page, "\r\n\r\n") + 4;
	snprintf(want, sizeof(want), "HTTP/1.1 407 Proxy Authentication "
	    "Required\r\nDate: " NOW_TEXT "\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
	    strlen(body), challenge);
	ck_assert(strncmp(page, want, strlen(want)) == 0);
	ck_assert_uint_eq(len, strlen(want) + strlen(body));
	ck_assert_ptr_null(strstr(page, "Connection"));

	o.conn = ERRPAGE_KEEP_ALIVE;
	o.fields = NULL;
	len = errpage_format_opts(403, "No.", true, &o, NOW, page,
	    sizeof(page));
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_nonnull(strstr(page, "\r\nCache-Control: no-store\r\n"
	    "Connection: keep-alive\r\n\r\n"));
	ck_assert_ptr_null(strstr(page, "Proxy-Authenticate"));
}
END_TEST

/*
 * A clock out of IMF-fixdate's range (a year of five digits) is no
 * clock: no Date at all (RFC 9110 §6.6.1), and the page is still whole.
 */
START_TEST(test_no_clock_no_date)
{
	char page[2048], val[64];
	size_t len;

	len = errpage_format(502, "x", false, (time_t)253402300800LL, page,
	    sizeof(page));
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_null(field(page, "Date", val, sizeof(val)));
	ck_assert_uint_eq(content_length(page),
	    strlen(strstr(page, "\r\n\r\n") + 4));
}
END_TEST

/* Unknown codes get a generic reason and still a well-formed page. */
static const int unknown_codes[] = { 299, 418, 599, 0, -1, 1000 };

START_TEST(test_unknown_status)
{
	char page[2048];
	size_t len;

	ck_assert_str_eq(errpage_reason(unknown_codes[_i]), "Error");
	if (unknown_codes[_i] < 100 || unknown_codes[_i] > 999)
		return;
	len = errpage_format(unknown_codes[_i], "x", false, NOW, page,
	    sizeof(page));
	ck_assert_uint_gt(len, 0);
	check_head(page, unknown_codes[_i], "Error");
	ck_assert_uint_eq(content_length(page),
	    strlen(strstr(page, "\r\n\r\n") + 4));
}
END_TEST

/*
 * A buffer too small gives 0, never a partial page (which would have a
 * Content-Length that lies) and never a byte past cap.
 */
START_TEST(test_small_buffer)
{
	char page[1024];
	size_t cap, need;
	bool head_only = _i == 1;

	need = errpage_format(400, "Bad.", head_only, NOW, page, sizeof(page));
	ck_assert_uint_gt(need, 0);
	for (cap = 0; cap <= need + 1; cap++) {
		size_t got;

		memset(page, 'Z', sizeof(page));
		got = errpage_format(400, "Bad.", head_only, NOW, page, cap);
		ck_assert_msg(page[cap] == 'Z', "wrote past %zu", cap);
		/* Room for the page and a terminating NUL. */
		if (cap > need)
			ck_assert_uint_eq(got, need);
		else
			ck_assert_msg(got == 0, "cap %zu gave %zu", cap, got);
	}
}
END_TEST

Suite *
errpage_suite(void)
{
	Suite *s = suite_create("errpage");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_page, 0, NELEM(statuses));
	tcase_add_loop_test(tc, test_head_only, 0, NELEM(statuses));
	tcase_add_test(tc, test_detail_sizes);
	tcase_add_test(tc, test_huge_detail);
	tcase_add_test(tc, test_detail_escaped);
	tcase_add_test(tc, test_exact_head);
	tcase_add_test(tc, test_opts);
	tcase_add_test(tc, test_no_clock_no_date);
	tcase_add_loop_test(tc, test_unknown_status, 0, NELEM(unknown_codes));
	tcase_add_loop_test(tc, test_small_buffer, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
