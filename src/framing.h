/*
 * framing.h: how a message body is delimited (RFC 9112 §6).
 *
 * Path: parse decides the framing of every head; it then drives forward
 * body and relay response.
 *
 * Decided from Content-Length and Transfer-Encoding alone, strictly: a
 * request with both, with differing lengths, or with a transfer coding that
 * does not end in chunked is rejected, because an origin could frame it
 * differently than ferry does.
 */
#ifndef FERRY_FRAMING_H
#define FERRY_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_field;

enum body_kind {
	BODY_NONE,	/* no body */
	BODY_LENGTH,	/* exactly framing.length bytes */
	BODY_CHUNKED,	/* chunked transfer coding, ends with the last chunk */
	BODY_CLOSE	/* response only: until the origin closes */
};

struct framing {
	enum body_kind	kind;
	uint64_t	length;		/* for BODY_LENGTH; a response's
					   Content-Length if length_given */
	bool		length_given;	/* response: a valid Content-Length
					   that stays (rewritten as one) */
	bool		te_over_cl;	/* response: TE won over a CL */
	bool		coded;		/* response body: a coding but chunked */
};

/*
 * Read every field called name among f[0..n) as one comma list of
 * decimal numbers, the way Content-Length is read (RFC 9110 §8.6): each
 * element plain digits (OWS around it allowed), at most max, and all of
 * them equal. Returns 0 with *present false if there is no such field,
 * or with *present true and the value in *value; -1 if an element is
 * empty, not digits, above max, or differs from another. Pure.
 */
int framing_number(const struct http_field *f, size_t n, const char *name,
    uint64_t max, bool *present, uint64_t *value);

/*
 * Frame a request with minor version minor from its fields f[0..n).
 * Returns 0 with *out set, or an HTTP status (400, 501) with *why set to
 * a fixed string. Pure: any thread.
 */
int framing_request(const struct http_field *f, size_t n, int minor,
    struct framing *out, const char **why);

/*
 * Frame a response with status code to a request that was HEAD or not.
 * A response to HEAD, a 1xx, 204 or 304 has no body whatever its fields
 * say. A response with both Transfer-Encoding and Content-Length is framed
 * by the former, as RFC 9112 §6.3 says, with te_over_cl set: the caller
 * drops the Content-Length and closes the origin connection after it.
 * coded says a body comes with a transfer coding other than chunked
 * (gzip, or one ferry does not know), which an HTTP/1.0 client cannot
 * receive (RFC 9112 §6.1).
 * Returns 0, or 502 (the status ferry answers) with *why set for a
 * response that cannot be relayed safely. Pure: any thread.
 */
int framing_response(const struct http_field *f, size_t n, int minor,
    int code, bool head_request, struct framing *out, const char **why);

#endif
