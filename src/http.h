/*
 * http.h: the strict HTTP/1.1 message-head parser (RFC 9110, RFC 9112).
 *
 * Path: read head and parse (the client's request head), and relay
 * response (each response head from the origin).
 *
 * The parser is a pure function of (buf, len): it does no I/O and allocates
 * nothing. The caller owns the buffer and the field array; everything the
 * parser returns points into the buffer ("borrows" it), so the buffer must
 * outlive the parsed message. Call it again with more bytes while it answers
 * HTTP_PARTIAL.
 *
 * Anything ambiguous is rejected, never repaired: a proxy that guesses
 * differently from the origin is how request smuggling happens.
 */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "field.h"
#include "framing.h"
#include "uri.h"

enum http_result {
	HTTP_DONE,	/* a whole head was parsed; see head_len */
	HTTP_PARTIAL,	/* valid so far, need more bytes */
	HTTP_BAD	/* rejected; see status and error */
};

/*
 * Most Connection options (RFC 9110 §7.6.1) a head may carry, over all its
 * Connection fields: a real one names one to three. A request with more
 * is refused (400), a response is not relayed (502).
 */
#define HTTP_CONNECTION_MAX	32

/*
 * The options named by a head's Connection fields, gathered once so that
 * checking every field against them stays linear (rewrite.c). The names
 * borrow the fields' values.
 */
struct http_options {
	const char	*name[HTTP_CONNECTION_MAX];
	size_t		 len[HTTP_CONNECTION_MAX];
	size_t		 n;		/* stored: HTTP_CONNECTION_MAX at most */
};

struct http_limits {
	size_t	max_fields;	/* header fields (431 beyond) */
	size_t	max_uri;	/* request-target bytes (414 beyond) */
};

/*
 * A parsed request head. Every pointer borrows the parsed buffer (or, for
 * fields, the caller's array); error is a fixed string, safe to show.
 */
struct http_request {
	const char		*method;
	size_t			 method_len;
	const char		*target;	/* as received */
	size_t			 target_len;
	int			 minor;		/* HTTP/1.<minor>, 0 or 1 */
	bool			 is_connect;
	bool			 is_head;
	bool			 expect_continue;
	bool			 keep_alive;	/* RFC 9112 §9.3 */
	struct uri		 uri;		/* authority and path */
	struct http_field	*fields;	/* caller's array */
	size_t			 nfields;
	struct framing		 framing;	/* how the body is delimited */
	size_t			 head_len;	/* bytes up to the blank line */
	int			 status;	/* on HTTP_BAD: the answer */
	const char		*error;		/* on HTTP_BAD: why, for people */
};

/* A parsed response head; reason and fields borrow as in a request. */
struct http_response {
	int			 minor;
	int			 code;		/* 100..599 */
	const char		*reason;
	size_t			 reason_len;
	struct http_field	*fields;
	size_t			 nfields;
	struct framing		 framing;
	bool			 keep_alive;	/* the origin may reuse it */
	size_t			 head_len;
	const char		*error;		/* on HTTP_BAD */
};

/*
 * Parse a request head in buf[0..len). fields must have room for
 * lim->max_fields entries. Accepts absolute-form http:// targets and, for
 * CONNECT, authority-form; this is a forward proxy, so origin-form is 400.
 * HTTP_DONE fills req (its pointers borrow buf and fields); HTTP_BAD sets
 * req->status (400, 414, 431, 501 or 505) and req->error. Any thread:
 * the parser keeps no state and allocates nothing.
 */
enum http_result http_parse_request(const char *buf, size_t len,
    const struct http_limits *lim, struct http_field *fields,
    struct http_request *req);

/*
 * Parse a response head in buf[0..len), like http_parse_request() (only
 * lim->max_fields is used). head_request says the request was HEAD (no
 * body follows whatever the fields say). HTTP_BAD sets resp->error: a bad
 * response is the origin's fault, and the caller answers 502.
 */
enum http_result http_parse_response(const char *buf, size_t len,
    const struct http_limits *lim, struct http_field *fields,
    bool head_request, struct http_response *resp);

/*
 * The first bytes of a head that are parsed whatever they hold (see
 * http_head_worth_parsing()): enough for the start of any start line.
 */
#define HTTP_HEAD_PEEK	64

/*
 * Whether the n bytes just appended to a head being read, buf[0..len) of
 * a buffer of cap bytes, make a parse worthwhile: the first line ended
 * (*line_seen tracks that, so a bad start line is refused at once), the
 * head ended (an empty line), or the buffer is full; or the answer may be
 * known already: the new bytes start within the first HTTP_HEAD_PEEK (a
 * TLS hello or garbage is refused at its first byte), or hold a byte no
 * head may contain anywhere (a control other than HTAB, CR and LF, or
 * DEL). Each of those parses happens at most HTTP_HEAD_PEEK times or
 * ends the head, so reading a head stays linear in its size, however the
 * peer slices it. Pure: any thread.
 */
bool http_head_worth_parsing(const char *buf, size_t len, size_t n,
    size_t cap, bool *line_seen);

/*
 * Walk the options of every Connection field among f[0..n), storing the
 * first HTTP_CONNECTION_MAX of them in *out unless out is NULL. Returns
 * how many there are in all (the parsers refuse more than the cap).
 */
size_t http_connection_options(const struct http_field *f, size_t n,
    struct http_options *out);

#endif
