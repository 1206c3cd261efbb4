/*
 * errpage.h: the small HTML error responses ferry writes itself.
 *
 * Path: fail, the exit of any step that fails before a response head went
 * out: the page is formatted here, sent, and the connection closes.
 *
 * Every page has a Date (httpdate.c), a correct Content-Length and
 * "Connection: close", and says in plain words what went wrong. Pages never echo request bytes:
 * the detail text is always one of ferry's own fixed strings, and it is
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

#endif
