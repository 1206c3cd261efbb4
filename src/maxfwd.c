/*
 * maxfwd.c: Max-Forwards, and the answers ferry gives at zero (see
 * maxfwd.h).
 *
 * Owns nothing. The TRACE echo is measured and written by the same
 * function, maxfwd_echo(), so its Content-Length cannot disagree with the
 * body, and the whole answer is checked against the caller's buffer
 * before a byte of the body is written.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "framing.h"
#include "httpdate.h"
#include "maxfwd.h"
#include "num.h"

/* Is req's method exactly name? Methods are case-sensitive (RFC 9110 §9.1). */
static bool
maxfwd_method_is(const struct http_request *req, const char *name)
{
	return req->method_len == strlen(name) &&
	    memcmp(req->method, name, req->method_len) == 0;
}

enum maxfwd_verdict
maxfwd_check(const struct http_request *req, uint64_t *hops,
    const char **why)
{
	bool present;

	if (!maxfwd_method_is(req, "TRACE") &&
	    !maxfwd_method_is(req, "OPTIONS"))
		return MAXFWD_NONE;
	if (framing_number(req->fields, req->nfields, "Max-Forwards",
	    UINT64_MAX, &present, hops) == -1) {
		*why = "Max-Forwards must be one whole number (RFC 9110, "
		    "section 7.6.2); this request carries a malformed value, "
		    "or several that differ.";
		return MAXFWD_BAD;
	}
	if (!present)
		return MAXFWD_NONE;
	return *hops == 0 ? MAXFWD_ANSWER : MAXFWD_FORWARD;
}

/*
 * A field a TRACE echo leaves out: RFC 9110 §9.3.8 asks the final
 * recipient to exclude fields "likely to contain sensitive data", and a
 * reflected Cookie or Authorization is what cross-site tracing steals.
 * Matching parts of names also catches Proxy-Authorization, Set-Cookie
 * and the usual X-Auth-Token, X-Api-Key, X-CSRF-Token.
 */
static bool
maxfwd_sensitive(const struct http_field *f)
{
	static const char *const part[] = {
		"auth", "cookie", "token", "secret", "passw", "session", "key",
		"credential", "csrf", "xsrf"
	};
	size_t i, j, plen;

	for (i = 0; i < nitems(part); i++) {
		plen = strlen(part[i]);
		for (j = 0; j + plen <= f->name_len; j++)
			if (strncasecmp(f->name + j, part[i], plen) == 0)
				return true;
	}
	return false;
}

/* Copy s[0..n) to *p and move *p past it, unless *p is NULL; returns n. */
static size_t
maxfwd_put(char **p, const char *s, size_t n)
{
	if (*p != NULL) {
		memcpy(*p, s, n);
		*p += n;
	}
	return n;
}

/*
 * The TRACE echo of req, byte for byte as received: its request line,
 * every field line that is not maxfwd_sensitive(), an empty line; so it
 * is never longer than the head. Written to out unless out is NULL;
 * returns its length either way. req must come from http.c, whose
 * checks the comments below rely on.
 */
static size_t
maxfwd_echo(const struct http_request *req, char *out)
{
	/*
	 * The request line lies whole in the parsed buffer: method SP
	 * target SP version, single spaces, an 8-byte version ("HTTP/1.1").
	 */
	size_t line = req->method_len + 1 + req->target_len + 1 + 8;
	size_t len, i;
	char *p = out;

	len = maxfwd_put(&p, req->method, line);
	len += maxfwd_put(&p, "\r\n", 2);
	for (i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];
		const char *end = f->value + f->value_len;

		if (maxfwd_sensitive(f))
			continue;
		/* Only SP and HTAB lie between a value and its CRLF. */
		while (*end == ' ' || *end == '\t')
			end++;
		len += maxfwd_put(&p, f->name, (size_t)(end - f->name));
		len += maxfwd_put(&p, "\r\n", 2);
	}
	return len + maxfwd_put(&p, "\r\n", 2);
}

size_t
maxfwd_answer(const struct http_request *req, time_t now,
    const char *connection, char *out, size_t cap)
{
	bool trace = maxfwd_method_is(req, "TRACE");
	size_t body = trace ? maxfwd_echo(req, NULL) : 0;
	char date[HTTPDATE_FIELD_SIZE];
	int n;

	/* RFC 9110 §6.6.1: ferry is the origin of this answer. */
	(void)httpdate_field(now, date);
	n = snprintf(out, cap, "HTTP/1.1 200 OK\r\n%s%s"
	    "Content-Length: %zu\r\n%s%s%s\r\n", date,
	    trace ? "Content-Type: message/http\r\n" :
	    "Allow: " MAXFWD_ALLOW "\r\n", body,
	    connection != NULL ? "Connection: " : "",
	    connection != NULL ? connection : "",
	    connection != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap || body > cap - (size_t)n)
		return 0;
	if (trace)
		(void)maxfwd_echo(req, out + n);
	return (size_t)n + body;
}
