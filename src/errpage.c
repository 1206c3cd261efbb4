/*
 * errpage.c: error responses (see errpage.h).
 *
 * Formatting is separate from sending so the page can be unit tested and
 * so the caller decides how to send and close. PACKAGE_VERSION comes from
 * configure, on the compiler command line.
 */
#include <stdio.h>
#include <string.h>

#include "errpage.h"
#include "num.h"
#include "httpdate.h"

struct errpage_status {
	int		 code;
	const char	*reason;
};

static const struct errpage_status errpage_table[] = {
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
	{ 508, "Loop Detected" },
};

const char *
errpage_reason(int status)
{
	size_t i;

	for (i = 0; i < nitems(errpage_table); i++)
		if (errpage_table[i].code == status)
			return errpage_table[i].reason;
	return "Error";
}

/*
 * Copy text into out[0..cap) with HTML's special characters escaped, so a
 * page can never carry markup whatever text it is given. Returns 0, or -1
 * if it does not fit.
 */
static int
errpage_escape(const char *text, char *out, size_t cap)
{
	size_t len = 0;

	for (; *text != '\0'; text++) {
		const char *rep = NULL;
		char one[2] = { *text, '\0' };
		size_t n;

		switch (*text) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: rep = one; break;
		}
		n = strlen(rep);
		if (n >= cap - len)
			return -1;
		memcpy(out + len, rep, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}

size_t
errpage_format(int status, const char *detail, bool head_only, time_t now,
    char *out, size_t cap)
{
	static const struct errpage_opts closing = { ERRPAGE_CLOSE, NULL };

	return errpage_format_opts(status, detail, head_only, &closing, now,
	    out, cap);
}

size_t
errpage_format_opts(int status, const char *detail, bool head_only,
    const struct errpage_opts *o, time_t now, char *out, size_t cap)
{
	static const char *const conn[] = {
		[ERRPAGE_CLOSE] = "Connection: close\r\n",
		[ERRPAGE_KEEP] = "",
		[ERRPAGE_KEEP_ALIVE] = "Connection: keep-alive\r\n"
	};
	const char *reason = errpage_reason(status);
	char body[1024], text[1024], date[HTTPDATE_FIELD_SIZE];
	int blen, hlen;

	if (errpage_escape(detail, text, sizeof(text)) == -1)
		return 0;
	blen = snprintf(body, sizeof(body),
	    "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
	    "<body><h1>%d %s</h1>\n<p>%s</p>\n"
	    "<hr><address>ferry/%s</address></body></html>\n",
	    status, reason, status, reason, text, PACKAGE_VERSION);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		return 0;
	/* RFC 9110 §6.6.1: ferry is the origin of this page; it has a clock. */
	(void)httpdate_field(now, date);
	hlen = snprintf(out, cap,
	    "HTTP/1.1 %d %s\r\n%sContent-Type: text/html; charset=utf-8"
	    "\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
	    "%s%s\r\n%s",
	    status, reason, date, blen, o->fields != NULL ? o->fields : "",
	    conn[o->conn], head_only ? "" : body);
	if (hlen < 0 || (size_t)hlen >= cap)
		return 0;
	return (size_t)hlen;
}
