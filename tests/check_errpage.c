/*
 * check_errpage.c: the error responses ferry writes itself (errpage.c).
 *
 * Every page must be a complete HTTP/1.1 response whose Content-Length is
 * exactly its body, that closes the connection and says what happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errpage.h"
#include "suites.h"

static const struct {
	int		 code;
	const char	*reason;
} statuses[] = {
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 414, "URI Too Long" },
	{ 431, "Request Header Fields Too Large" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

/* The value of field name in head (NUL-terminated copy), or NULL. */
static const char *
field(const char *page, const char *name, char *val, size_t cap)
{
	const char *end = strstr(page, "\r\n\r\n");
	const char *p = page;
	size_t nlen = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(val, cap, "%.*s", (int)(e - v), v);
			return val;
		}
	}
	return NULL;
}

START_TEST(test_page)
{
	char page[2048], line[128], val[64];
	const char *body;
	size_t len;

	len = errpage_format(statuses[_i].code, "Something went wrong.",
	    false, page, sizeof(page));
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(len, strlen(page));
	ck_assert_str_eq(errpage_reason(statuses[_i].code),
	    statuses[_i].reason);
	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", statuses[_i].code,
	    statuses[_i].reason);
	ck_assert_msg(strncmp(page, line, strlen(line)) == 0, "%s", page);
	body = strstr(page, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_ptr_nonnull(field(page, "Content-Length", val,
	    sizeof(val)));
	ck_assert_uint_eq(strtoul(val, NULL, 10), strlen(body));
	ck_assert_ptr_nonnull(field(page, "Connection", val, sizeof(val)));
	ck_assert_str_eq(val, "close");
	ck_assert_ptr_nonnull(field(page, "Content-Type", val, sizeof(val)));
	ck_assert(strncmp(val, "text/html", 9) == 0);
	ck_assert_ptr_nonnull(strstr(body, "Something went wrong."));
	ck_assert_ptr_nonnull(strstr(body, statuses[_i].reason));
}
END_TEST

/* HEAD: the same Content-Length, no body (RFC 9110 §9.3.2). */
START_TEST(test_head_only)
{
	char full[2048], head[2048], v1[32], v2[32];
	size_t flen, hlen;

	flen = errpage_format(502, "No.", false, full, sizeof(full));
	hlen = errpage_format(502, "No.", true, head, sizeof(head));
	ck_assert_uint_gt(hlen, 0);
	ck_assert_uint_lt(hlen, flen);
	ck_assert(strncmp(head + hlen - 4, "\r\n\r\n", 4) == 0);
	ck_assert_str_eq(field(full, "Content-Length", v1, sizeof(v1)),
	    field(head, "Content-Length", v2, sizeof(v2)));
	ck_assert_uint_eq(hlen + strtoul(v1, NULL, 10), flen);
}
END_TEST

START_TEST(test_unknown_status)
{
	ck_assert_str_eq(errpage_reason(299), "Error");
}
END_TEST

/* A buffer too small gives 0 and no partial page, never an overflow. */
START_TEST(test_small_buffer)
{
	char page[512];
	size_t cap, need;

	need = errpage_format(400, "Bad.", false, page, sizeof(page));
	ck_assert_uint_gt(need, 0);
	/* It needs room for the page and snprintf's NUL. */
	for (cap = 0; cap <= need; cap++) {
		memset(page, 'Z', sizeof(page));
		ck_assert_uint_eq(errpage_format(400, "Bad.", false, page,
		    cap), 0);
		ck_assert(page[cap] == 'Z');
	}
}
END_TEST

Suite *
errpage_suite(void)
{
	Suite *s = suite_create("errpage");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_page, 0,
	    (int)(sizeof(statuses) / sizeof(statuses[0])));
	tcase_add_test(tc, test_head_only);
	tcase_add_test(tc, test_unknown_status);
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}
