/*
 * access.c: formatting the access log line (see access.h).
 *
 * Request bytes reach this line, so they are escaped: a client must not be
 * able to forge a second log line or a terminal escape. The parser already
 * refuses control bytes, but the escaping does not rely on that.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "access.h"

/* Longest request target kept whole; longer ones end in "...". */
#define ACCESS_TARGET_MAX 1024
/* Room kept after the target for the version, numbers and upstream. */
#define ACCESS_TAIL_ROOM 128

/*
 * Advance *n by what snprintf() reported writing at buf + *n, but never
 * past cap - 1: a truncated piece must not make the length lie.
 */
static void
access_advance(size_t cap, size_t *n, int r)
{
	if (r > 0)
		*n += (size_t)r;
	if (*n > cap - 1)
		*n = cap - 1;
}

/*
 * Append s[0..len), escaped, to buf at *n without passing position limit.
 * Returns whether all of s fit.
 */
static bool
access_put_escaped(char *buf, size_t limit, size_t *n, const char *s,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len && *n + 4 <= limit; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			buf[(*n)++] = (char)ch;
			continue;
		}
		buf[(*n)++] = '\\';
		buf[(*n)++] = 'x';
		buf[(*n)++] = hex[ch >> 4];
		buf[(*n)++] = hex[ch & 15];
	}
	return i == len;
}

void
access_escape(const char *s, size_t len, char out[ACCESS_USER_MAX])
{
	size_t n = 0;

	if (!access_put_escaped(out, ACCESS_USER_MAX - 4, &n, s, len)) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* The quoted request line, or "-" if there is no parsed request. */
static void
access_put_request(char *buf, size_t cap, size_t *n,
    const struct access_entry *e)
{
	size_t tlen = e->target_len;
	bool whole;

	if (e->method == NULL) {
		buf[(*n)++] = '-';
		return;
	}
	buf[(*n)++] = '"';
	(void)access_put_escaped(buf, *n + 128, n, e->method, e->method_len);
	buf[(*n)++] = ' ';
	if (tlen > ACCESS_TARGET_MAX)
		tlen = ACCESS_TARGET_MAX;
	whole = access_put_escaped(buf, cap - ACCESS_TAIL_ROOM, n, e->target,
	    tlen);
	if (!whole || tlen < e->target_len) {
		/* No NUL here: the line goes on below and is ended there. */
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(buf + *n, "...", 3);
		*n += 3;
	}
	access_advance(cap, n, snprintf(buf + *n, cap - *n, " HTTP/1.%d\"",
	    e->minor));
}

size_t
access_format(char *buf, size_t cap, const struct access_entry *e)
{
	char when[40], user[ACCESS_USER_MAX] = "-";
	struct tm tm;
	size_t n = 0;

	gmtime_r(&e->when, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	if (e->user != NULL && e->user[0] != '\0')
		access_escape(e->user, strlen(e->user), user);
	access_advance(cap, &n, snprintf(buf, cap, "%s - %s [%s] ", e->client,
	    user, when));
	access_put_request(buf, cap, &n, e);
	access_advance(cap, &n, snprintf(buf + n, cap - n, " %d %llu %llu %s\n",
	    e->status, (unsigned long long)e->bytes_out,
	    (unsigned long long)e->ms, e->upstream != NULL &&
	    e->upstream[0] != '\0' ? e->upstream : "-"));
	/* Even cut short, the line ends with its newline. */
	buf[n - 1] = '\n';
	return n;
}
