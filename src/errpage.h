/*
 * errpage.h: the small HTML error responses ferry writes itself.
 *
 * Path: fail or refuse, the exit of any step that fails (or refuses the
 * request) before a response head went out: the page is formatted here
 * and sent; after a failure the connection closes, after a refusal it
 * may stay open (conn_refuse()).
 *
 * Every page has a Date (httpdate.c) and a correct Content-Length, and
 * says in plain words what went wrong. Most end the connection
 * ("Connection: close"); a refusal the client can answer (407, a denied
 * destination) may keep it. Pages echo no request bytes but a
 * destination that the URI parser accepted; the detail text is
 * HTML-escaped all the same.
 */
#ifndef FERRY_ERRPAGE_H
#define FERRY_ERRPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * The reason phrase for status ("Bad Gateway"), or "Error": a static
 * string, never to be freed. Any thread.
 */
const char *errpage_reason(int status);

/* What the page says about the connection. */
enum errpage_conn {
	ERRPAGE_CLOSE,		/* "Connection: close" */
	ERRPAGE_KEEP,		/* nothing: HTTP/1.1 persists by default */
	ERRPAGE_KEEP_ALIVE	/* "Connection: keep-alive", for HTTP/1.0 */
};

/* The parts of a page's head that vary beyond its status. */
struct errpage_opts {
	enum errpage_conn	 conn;
	const char		*fields;	/* more lines, each ending in
						   CRLF, ferry's own; or NULL */
};

/*
 * Format the whole response for status with detail (NUL-terminated text)
 * into out[0..cap), dated now (the caller reads the clock, so that a test
 * can pass a fixed time; no Date if now is out of httpdate_format()'s
 * range). head_only leaves the body out (the answer to a HEAD request)
 * but keeps its Content-Length. Returns the length, or 0 if it did not
 * fit (the body alone may take at most 1 KiB). Pure: any thread.
 */
size_t errpage_format(int status, const char *detail, bool head_only,
    time_t now, char *out, size_t cap);

/*
 * errpage_format() with the connection and the extra fields of *o (the
 * Proxy-Authenticate of a 407, say). Same result and rules.
 */
size_t errpage_format_opts(int status, const char *detail, bool head_only,
    const struct errpage_opts *o, time_t now, char *out, size_t cap);

#endif
