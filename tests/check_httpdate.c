/*
 * check_httpdate.c: the Date of ferry's own answers (httpdate.c).
 *
 * Known instants against their IMF-fixdate (RFC 9110 §5.6.7): the epoch,
 * the RFC's own example, leap days, 2038, the last second of year 9999;
 * a year of five digits gives no date; the output never runs past the
 * caller's buffer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "httpdate.h"
#include "suites.h"

static const struct {
	long long	 t;
	const char	*text;	/* NULL: no date */
} date_cases[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
	{ 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
	{ 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
	{ 1709164800, "Thu, 29 Feb 2024 00:00:00 GMT" },
	{ 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT" },
	{ 4102444799LL, "Thu, 31 Dec 2099 23:59:59 GMT" },
	{ -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
	{ 253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
	{ 253402300800LL, NULL },
};

START_TEST(test_format)
{
	char out[64];
	size_t n;

	memset(out, 'Z', sizeof(out));
	n = httpdate_format((time_t)date_cases[_i].t, out, sizeof(out));
	if (date_cases[_i].text == NULL) {
		ck_assert_uint_eq(n, 0);
		return;
	}
	ck_assert_uint_eq(n, HTTPDATE_LEN);
	ck_assert_str_eq(out, date_cases[_i].text);
}
END_TEST

/* HTTPDATE_LEN + 1 bytes is enough; any less gives 0 and no write. */
START_TEST(test_small_buffer)
{
	char out[64];
	size_t cap;

	for (cap = 0; cap <= HTTPDATE_LEN + 1; cap++) {
		memset(out, 'Z', sizeof(out));
		ck_assert_uint_eq(httpdate_format(0, out, cap),
		    cap > HTTPDATE_LEN ? HTTPDATE_LEN : 0);
		ck_assert_msg(out[cap] == 'Z', "wrote past %zu", cap);
		if (cap <= HTTPDATE_LEN && cap > 0)
			ck_assert_msg(out[0] == 'Z', "wrote into %zu", cap);
	}
}
END_TEST

/* The field line: the date with its name and CRLF, or nothing at all. */
START_TEST(test_field)
{
	char out[HTTPDATE_FIELD_SIZE], want[64];
	size_t n;

	memset(out, 'Z', sizeof(out));
	n = httpdate_field((time_t)date_cases[_i].t, out);
	if (date_cases[_i].text == NULL) {
		ck_assert_uint_eq(n, 0);
		ck_assert_str_eq(out, "");
		return;
	}
	snprintf(want, sizeof(want), "Date: %s\r\n", date_cases[_i].text);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_uint_eq(n + 1, HTTPDATE_FIELD_SIZE);
}
END_TEST

Suite *
httpdate_suite(void)
{
	Suite *s = suite_create("httpdate");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_format, 0, NELEM(date_cases));
	tcase_add_test(tc, test_small_buffer);
	tcase_add_loop_test(tc, test_field, 0, NELEM(date_cases));
	suite_add_tcase(s, tc);
	return s;
}
