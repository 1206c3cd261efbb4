/*
 * httpdate.c: IMF-fixdate formatting (see httpdate.h).
 *
 * Owns nothing. gmtime_r() keeps it thread-safe. The day and month names
 * come from tables, not strftime()'s %a and %b, which follow the locale:
 * the wire format is English whatever the locale says.
 */
#include <stdio.h>

#include "httpdate.h"

size_t
httpdate_format(time_t t, char *out, size_t cap)
{
	static const char *const day[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const month[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;
	int n;

	if (cap <= HTTPDATE_LEN || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900 ||
	    tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return 0;
	n = snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    day[tm.tm_wday], tm.tm_mday, month[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n != HTTPDATE_LEN) {
		out[0] = '\0';
		return 0;
	}
	return HTTPDATE_LEN;
}

size_t
httpdate_field(time_t t, char out[HTTPDATE_FIELD_SIZE])
{
	char date[HTTPDATE_LEN + 1];

	out[0] = '\0';
	if (httpdate_format(t, date, sizeof(date)) == 0)
		return 0;
	return (size_t)snprintf(out, HTTPDATE_FIELD_SIZE, "Date: %s\r\n",
	    date);
}
