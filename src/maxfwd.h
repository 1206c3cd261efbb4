/*
 * maxfwd.h: Max-Forwards on TRACE and OPTIONS (RFC 9110 §7.6.2).
 *
 * Path: after parse and the whitelist and loop checks, before connect:
 * maxfwd_check() says what to do. At zero ferry is the request's final
 * recipient and sends maxfwd_answer() itself; above zero the rewrite step
 * forwards the value less one. On every other method Max-Forwards passes
 * untouched.
 *
 * Pure functions of a parsed request: no I/O, no allocation, no clock
 * (the caller passes the time in), so they are unit tested byte for byte.
 */
#ifndef FERRY_MAXFWD_H
#define FERRY_MAXFWD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"

/*
 * The methods an OPTIONS answer lists in Allow: the standard ones ferry
 * forwards (RFC 9110 §9, RFC 5789) and CONNECT, which it serves itself.
 * ferry forwards any other method token too; Allow cannot say "any".
 */
#define MAXFWD_ALLOW	"GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, " \
	"TRACE, PATCH"

enum maxfwd_verdict {
	MAXFWD_NONE,	/* not TRACE or OPTIONS, or no Max-Forwards: forward */
	MAXFWD_FORWARD,	/* forward, with *hops - 1 */
	MAXFWD_ANSWER,	/* zero: ferry answers itself */
	MAXFWD_BAD	/* malformed: answer 400 with *why */
};

/*
 * What to do with req's Max-Forwards. Only TRACE and OPTIONS (methods
 * are case-sensitive) look at it. Every Max-Forwards field is read as
 * one list, like Content-Length (framing_number()): plain digits up to
 * UINT64_MAX, several values only if all equal; anything else is
 * MAXFWD_BAD with *why, a fixed string fit for the client. *hops is set
 * for MAXFWD_FORWARD and MAXFWD_ANSWER. Pure: any thread.
 */
enum maxfwd_verdict maxfwd_check(const struct http_request *req,
    uint64_t *hops, const char **why);

/*
 * Write ferry's own 200 answer to req (TRACE or OPTIONS at Max-Forwards
 * 0) into out[0..cap), dated now (no Date if now is out of
 * httpdate_format()'s range). OPTIONS: Allow (MAXFWD_ALLOW) and
 * Content-Length: 0. TRACE: Content-Type: message/http and, as the body,
 * the request head byte for byte as received (RFC 9110 §9.3.8): its
 * request line and field lines, but for the fields likely to hold
 * credentials or session secrets (Authorization,
 * Proxy-Authorization, Cookie, Set-Cookie, and any name containing
 * "auth", "cookie", "token", "secret", "passw", "session", "key",
 * "credential", "csrf" or "xsrf"), then an empty line. connection, if
 * not NULL, is the value of a Connection field to add. The answer is
 * never more than about 200 bytes longer than req's head. Returns the
 * length (no NUL), or 0 if it does not fit; never writes past cap. req
 * must be a request http_parse_request() accepted. Pure: any thread.
 */
size_t maxfwd_answer(const struct http_request *req, time_t now,
    const char *connection, char *out, size_t cap);

#endif
