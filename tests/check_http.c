/*
 * check_http.c: the message-head parser (http.c) and the body framing it
 * decides (framing.c), against RFC 9110 / RFC 9112 and the strict rules of
 * issue 4 section 5.
 *
 * Tables of valid request heads (with what they must parse to), rejected
 * request heads (with the status ferry must answer), and response heads
 * (with their framing). Each head is parsed from an exact-size heap copy,
 * so a read past its length shows under ASan, and each is also cut at
 * every length: a valid head is PARTIAL until its blank line, and a bad
 * one never turns valid when cut short.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "suites.h"

#define FIELDS_MAX	16
#define URI_MAX		128

static const struct http_limits lim_default = { FIELDS_MAX, URI_MAX };

/* A request parsed from its own exact-size buffer. */
struct preq {
	char			*buf;
	size_t			 len;
	struct http_field	 fields[FIELDS_MAX + 1];
	struct http_request	 req;
	enum http_result	 r;
};

/* Parse in[0..len) under lim into p; p->buf must be freed with preq_free. */
static void
preq_parse(struct preq *p, const char *in, size_t len,
    const struct http_limits *lim)
{
	ck_assert(lim->max_fields <= FIELDS_MAX + 1);
	p->buf = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(p->buf);
	memcpy(p->buf, in, len);
	p->len = len;
	p->r = http_parse_request(p->buf, len, lim, p->fields, &p->req);
}

static void
preq_free(struct preq *p)
{
	free(p->buf);
	p->buf = NULL;
}

/*
 * Valid request heads. body is the number of bytes after the head (a body
 * the test appends), so head_len must be the length minus body.
 */
static const struct {
	const char	*in;
	const char	*method;
	int		 minor;
	const char	*host;
	unsigned	 port;
	const char	*path;
	enum body_kind	 kind;
	uint64_t	 length;
	size_t		 nfields;
	size_t		 body;
} req_ok[] = {
	{ "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
	    "GET", 1, "example.com", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
	    "GET", 1, "example.com", 80, "", BODY_NONE, 0, 1, 0 },
	/* HTTP/1.0 needs no Host. */
	{ "GET http://h/ HTTP/1.0\r\n\r\n",
	    "GET", 0, "h", 80, "/", BODY_NONE, 0, 0, 0 },
	{ "GET http://h/ HTTP/1.0\r\nHost: h\r\n\r\n",
	    "GET", 0, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "HEAD http://h:8080/x?y HTTP/1.1\r\nHost: h:8080\r\n\r\n",
	    "HEAD", 1, "h", 8080, "/x?y", BODY_NONE, 0, 1, 0 },
	{ "GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	    "GET", 1, "::1", 8080, "/", BODY_NONE, 0, 1, 0 },
	{ "DELETE http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
	    "DELETE", 1, "h", 80, "/x", BODY_NONE, 0, 1, 0 },
	/* CONNECT authority-form (RFC 9112 §3.2.3). */
	{ "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	    "CONNECT", 1, "example.com", 443, "", BODY_NONE, 0, 1, 0 },
	{ "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
	    "CONNECT", 1, "::1", 443, "", BODY_NONE, 0, 1, 0 },
	{ "CONNECT h:443 HTTP/1.0\r\n\r\n",
	    "CONNECT", 0, "h", 443, "", BODY_NONE, 0, 0, 0 },
	{ "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 0\r\n\r\n",
	    "CONNECT", 1, "h", 443, "", BODY_LENGTH, 0, 2, 0 },
	/* OPTIONS to a server as a whole: absolute-form, empty path. */
	{ "OPTIONS http://h:8001 HTTP/1.1\r\nHost: h:8001\r\n\r\n",
	    "OPTIONS", 1, "h", 8001, "", BODY_NONE, 0, 1, 0 },
	/* Bodies. */
	{ "POST http://h/f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
	    "hello",
	    "POST", 1, "h", 80, "/f", BODY_LENGTH, 5, 2, 5 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_CHUNKED, 0, 2, 15 },
	{ "PUT http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    "PUT", 1, "h", 80, "/", BODY_CHUNKED, 0, 2, 0 },
	{ "PUT http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n",
	    "PUT", 1, "h", 80, "/", BODY_CHUNKED, 0, 2, 0 },
	/* Identical Content-Length values are one length (RFC 9110 §8.6). */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_LENGTH, 5, 2, 0 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_LENGTH, 5, 3, 0 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_LENGTH, 7, 2, 0 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_LENGTH, INT64_MAX, 2, 0 },
	{ "POST http://h/ HTTP/1.1\r\nhost: h\r\ncontent-length: 3 \r\n\r\n",
	    "POST", 1, "h", 80, "/", BODY_LENGTH, 3, 2, 0 },
	{ "POST http://h/ HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
	    "POST", 0, "h", 80, "/", BODY_LENGTH, 2, 1, 2 },
	/* OWS around values, empty values (RFC 9112 §5). */
	{ "GET http://h/ HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t\r\nX-Empty:\r\n"
	    "X-Blank:   \r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 4, 0 },
	/* Every tchar in a method and in a field name (RFC 9110 §5.6.2). */
	{ "M-SEARCH http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "M-SEARCH", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "!#$%&'*+-.^_`|~09azAZ http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "!#$%&'*+-.^_`|~09azAZ", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-!#$%&'*+.^_`|~09: v\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 2, 0 },
	/* Methods are case-sensitive tokens; "get" is just another one. */
	{ "get http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "get", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	/* Empty lines before the request line (RFC 9112 §2.2). */
	{ "\r\n\r\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "\r\n\r\n\r\n\r\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	/* A higher 1.x minor is served as 1.1 (RFC 9110 §2.5). */
	{ "GET http://h/ HTTP/1.2\r\nHost: h\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	/* obs-text is allowed in field values. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-N: caf\xc3\xa9\xff\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 2, 0 },
	/* An empty Host is valid (RFC 9112 §3.2). */
	{ "GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 1, 0 },
	/* A Host unlike the URI is allowed: the URI wins (rewrite.c). */
	{ "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
	    "GET", 1, "a", 80, "/", BODY_NONE, 0, 1, 0 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nUser-Agent: a b  c\r\n\r\n",
	    "GET", 1, "h", 80, "/", BODY_NONE, 0, 2, 0 },
};

START_TEST(test_request_ok)
{
	const char *in = req_ok[_i].in;
	size_t len = strlen(in);
	struct preq p;

	preq_parse(&p, in, len, &lim_default);
	ck_assert_msg(p.r == HTTP_DONE, "%s: result %d status %d (%s)", in,
	    p.r, p.req.status, p.req.error != NULL ? p.req.error : "");
	assert_span("method", in, p.req.method, p.req.method_len,
	    req_ok[_i].method);
	ck_assert_int_eq(p.req.minor, req_ok[_i].minor);
	assert_span("host", in, p.req.uri.host, p.req.uri.host_len,
	    req_ok[_i].host);
	ck_assert_uint_eq(p.req.uri.port, req_ok[_i].port);
	assert_span("path", in, p.req.uri.path, p.req.uri.path_len,
	    req_ok[_i].path);
	ck_assert_msg(p.req.framing.kind == req_ok[_i].kind,
	    "%s: framing %d, want %d", in, p.req.framing.kind,
	    req_ok[_i].kind);
	ck_assert_uint_eq(p.req.framing.length, req_ok[_i].length);
	ck_assert_uint_eq(p.req.nfields, req_ok[_i].nfields);
	ck_assert_uint_eq(p.req.head_len, len - req_ok[_i].body);
	ck_assert(p.req.fields == p.fields);
	ck_assert(p.req.is_connect ==
	    (strcmp(req_ok[_i].method, "CONNECT") == 0));
	ck_assert(p.req.is_head == (strcmp(req_ok[_i].method, "HEAD") == 0));
	/* The target is borrowed from the buffer and ends before SP. */
	ck_assert(p.req.target > p.buf &&
	    p.req.target + p.req.target_len < p.buf + len);
	ck_assert(p.req.target[p.req.target_len] == ' ');
	preq_free(&p);
}
END_TEST

/* Every cut of a valid head before its blank line ends is PARTIAL. */
START_TEST(test_request_partial)
{
	const char *in = req_ok[_i].in;
	size_t head = strlen(in) - req_ok[_i].body, n;

	for (n = 0; n < head; n++) {
		struct preq p;

		preq_parse(&p, in, n, &lim_default);
		ck_assert_msg(p.r == HTTP_PARTIAL, "prefix %zu of %s: %d (%s)",
		    n, in, p.r, p.req.error != NULL ? p.req.error : "");
		preq_free(&p);
	}
}
END_TEST

/* Field names and values: exact spans, OWS trimmed, inner SP kept. */
START_TEST(test_request_fields)
{
	static const char in[] = "GET http://h/ HTTP/1.1\r\nHost:h\r\n"
	    "X-A: \t a b \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n";
	static const char *const want[][2] = { { "Host", "h" },
	    { "X-A", "a b" }, { "X-Empty", "" }, { "X-Blank", "" } };
	struct preq p;
	size_t i;

	preq_parse(&p, in, sizeof(in) - 1, &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_uint_eq(p.req.nfields, 4);
	for (i = 0; i < 4; i++) {
		assert_span("name", in, p.fields[i].name,
		    p.fields[i].name_len, want[i][0]);
		assert_span("value", in, p.fields[i].value,
		    p.fields[i].value_len, want[i][1]);
		ck_assert(p.fields[i].name >= p.buf && p.fields[i].value +
		    p.fields[i].value_len <= p.buf + p.len);
	}
	assert_span("target", in, p.req.target, p.req.target_len,
	    "http://h/");
	preq_free(&p);
}
END_TEST

#define RL	"GET http://h/ HTTP/1.1\r\n"
#define HOST	"Host: h\r\n"
#define POST	"POST http://h/ HTTP/1.1\r\nHost: h\r\n"
#define POST10	"POST http://h/ HTTP/1.0\r\n"
#define CONN	"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"

/* A case whose text holds a NUL byte: its length comes from sizeof. */
#define NUL_CASE(s, st)	{ s, sizeof(s) - 1, st }

/* Request heads that must be refused, and the status ferry answers. */
static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	int		 status;
} req_bad[] = {
	/* Content-Length with Transfer-Encoding (RFC 9112 §6.1). */
	{ POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    400 },
	{ POST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0,
	    400 },
	{ POST "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    400 },
	{ POST10 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    400 },
	/* Differing Content-Length values (RFC 9110 §8.6). */
	{ POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5, 6\r\n\r\n", 0, 400 },
	{ POST "content-length: 5\r\nCONTENT-LENGTH: 6\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5\r\nContent-Length: 5, 50\r\n\r\n", 0, 400 },
	/* Content-Length is 1*DIGIT and nothing else. */
	{ POST "Content-Length: +5\r\n\r\n", 0, 400 },
	{ POST "Content-Length: -1\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 0x5\r\n\r\n", 0, 400 },
	{ POST "Content-Length:\r\n\r\n", 0, 400 },
	{ POST "Content-Length:   \r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5 5\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5,\r\n\r\n", 0, 400 },
	{ POST "Content-Length: ,5\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5.0\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 1e3\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 5;x\r\n\r\n", 0, 400 },
	{ POST "Content-Length: \"5\"\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 99999999999999999999999\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 9223372036854775808\r\n\r\n", 0, 400 },
	{ POST "Content-Length: 18446744073709551616\r\n\r\n", 0, 400 },
	/* Transfer-Encoding that does not end in one chunked: 400. */
	{ POST "Transfer-Encoding: gzip\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: chunked, gzip\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	    0, 400 },
	{ POST "Transfer-Encoding: chunked, chunked\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding:\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: , ,\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: chunked x\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: \"chunked\"\r\n\r\n", 0, 400 },
	/*
	 * Stricter than the grammar, so that no next hop reads it another
	 * way: one field line only (a reader keeping the first or the last
	 * would see other codings), none empty, no parameters (a quoted one
	 * can hide a comma).
	 */
	{ POST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, 400 },
	{ POST "Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n", 0,
	    400 },
	{ POST "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    400 },
	{ POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: ,\r\n\r\n", 0,
	    400 },
	{ POST "Transfer-Encoding: gzip;p=\",chunked;\"\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: chunked;x=1\r\n\r\n", 0, 400 },
	{ POST "Transfer-Encoding: gzip;q=1, chunked\r\n\r\n", 0, 400 },
	/* Unknown codings: 501 (RFC 9112 §6.1). */
	{ POST "Transfer-Encoding: foo\r\n\r\n", 0, 501 },
	{ POST "Transfer-Encoding: foo, chunked\r\n\r\n", 0, 501 },
	{ POST "Transfer-Encoding: identity\r\n\r\n", 0, 501 },
	{ POST "Transfer-Encoding: chunkedx\r\n\r\n", 0, 501 },
	/*
	 * Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 §6.1):
	 * 400, whatever the codings, with or without a length.
	 */
	{ POST10 "Transfer-Encoding: chunked\r\n\r\n", 0, 400 },
	{ POST10 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 400 },
	{ POST10 "Transfer-Encoding: identity\r\n\r\n", 0, 400 },
	{ POST10 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	    0, 400 },
	{ "GET http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    400 },
	/* CONNECT carries no body. */
	{ CONN "Content-Length: 5\r\n\r\n", 0, 400 },
	{ CONN "Transfer-Encoding: chunked\r\n\r\n", 0, 400 },
	/* obs-fold (RFC 9112 §5.2). */
	{ RL HOST "X: a\r\n b\r\n\r\n", 0, 400 },
	{ RL HOST "X: a\r\n\tb\r\n\r\n", 0, 400 },
	{ RL " Host: h\r\n\r\n", 0, 400 },
	/* Bare CR anywhere. */
	{ "GET http://h/ HTTP/1.1\rHost: h\r\n\r\n", 0, 400 },
	{ RL "Host: h\rX: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X: a\rb\r\n\r\n", 0, 400 },
	{ RL HOST "\r\r\n", 0, 400 },
	{ "GET http://h/\r HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET\r http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "\rGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ RL "Host\r: h\r\n\r\n", 0, 400 },
	/* Bare LF: ferry wants CRLF (RFC 9112 §2.2 makes LF a MAY). */
	{ "GET http://h/ HTTP/1.1\nHost: h\n\n", 0, 400 },
	{ RL "Host: h\n\r\n", 0, 400 },
	{ RL HOST "\n", 0, 400 },
	{ "\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	/* NUL bytes. */
	NUL_CASE("G\0T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	NUL_CASE("GET http://h/\0 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	NUL_CASE("GET http://h/ HTTP/1.1\0\r\nHost: h\r\n\r\n", 400),
	NUL_CASE(RL "Ho\0st: h\r\n\r\n", 400),
	NUL_CASE(RL "Host: h\0\r\n\r\n", 400),
	NUL_CASE(RL HOST "X: a\0b\r\n\r\n", 400),
	NUL_CASE("\0GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	/* Other control bytes. */
	{ RL HOST "X: a\x01" "b\r\n\r\n", 0, 400 },
	{ RL HOST "X: a\x7f\r\n\r\n", 0, 400 },
	{ RL HOST "X: \x1b[31m\r\n\r\n", 0, 400 },
	{ RL HOST "X\x01: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X\x7f: 1\r\n\r\n", 0, 400 },
	{ "GET http://h/\x1b HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/\tx HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GE\x7fT http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.1\t\r\nHost: h\r\n\r\n", 0, 400 },
	/* Non-ASCII in the target: must be percent-encoded. */
	{ "GET http://h/\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	/* Whitespace between field name and colon (RFC 9112 §5.1). */
	{ RL "Host : h\r\n\r\n", 0, 400 },
	{ RL "Host\t: h\r\n\r\n", 0, 400 },
	{ RL HOST "Content-Length : 5\r\n\r\n", 0, 400 },
	{ RL HOST "Transfer-Encoding : chunked\r\n\r\n", 0, 400 },
	/* Field names that are not tokens. */
	{ RL HOST "X(y): 1\r\n\r\n", 0, 400 },
	{ RL HOST "X\"y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X/y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X@y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X[y]: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X,y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X;y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X=y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X{y}: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X\\y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "X y: 1\r\n\r\n", 0, 400 },
	{ RL HOST "\xc3\xa9t\xc3\xa9: 1\r\n\r\n", 0, 400 },
	{ RL HOST ": empty-name\r\n\r\n", 0, 400 },
	{ RL HOST "NoColon\r\n\r\n", 0, 400 },
	/* Methods that are not tokens. */
	{ "G(T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GE\"T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "G@T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "G:T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "G/T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "G\xc3\xa9T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "[GET] http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET, http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	/* Request-line shape: single SPs, three parts. */
	{ " http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ " GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET  http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/  HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET\thttp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/\tHTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.1 \r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.1 x\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ \r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET\r\nHost: h\r\n\r\n", 0, 400 },
	/* Versions (RFC 9112 §2.3). */
	{ "GET http://h/ HTTP/2.0\r\nHost: h\r\n\r\n", 0, 505 },
	{ "GET http://h/ HTTP/3.0\r\nHost: h\r\n\r\n", 0, 505 },
	{ "GET http://h/ HTTP/0.9\r\nHost: h\r\n\r\n", 0, 505 },
	{ "GET http://h/ HTTP/2\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ http/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ Http/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.10\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.x\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/11\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1,1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTPS/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.1/\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/+.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ ICY\r\nHost: h\r\n\r\n", 0, 400 },
	/* Host (RFC 9112 §3.2): exactly one, valid, on HTTP/1.1. */
	{ RL HOST HOST "\r\n", 0, 400 },
	{ RL "Host: h\r\nhost: h\r\n\r\n", 0, 400 },
	{ RL "Host: a\r\nHost: b\r\n\r\n", 0, 400 },
	{ RL "Host:\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.0\r\nHost: h\r\nHost: h\r\n\r\n", 0, 400 },
	{ RL "\r\n", 0, 400 },
	{ RL "X-Host: h\r\n\r\n", 0, 400 },
	{ "CONNECT h:443 HTTP/1.1\r\n\r\n", 0, 400 },
	{ RL "Host: u@h\r\n\r\n", 0, 400 },
	{ RL "Host: h:0\r\n\r\n", 0, 400 },
	{ RL "Host: h h\r\n\r\n", 0, 400 },
	{ RL "Host: h/x\r\n\r\n", 0, 400 },
	{ RL "Host: h:99999\r\n\r\n", 0, 400 },
	{ RL "Host: [::1\r\n\r\n", 0, 400 },
	{ RL "Host: h, h\r\n\r\n", 0, 400 },
	{ "GET http://h/ HTTP/1.0\r\nHost: u@h\r\n\r\n", 0, 400 },
	/* Targets: forward proxy, http only, no userinfo, good ports. */
	{ "GET /x HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h/#f HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h:0/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h:65536/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h:80x/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://h:/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT h:0 HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT h:65536 HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT http://h:443/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
	{ "CONNECT u@h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 0, 400 },
	/* Methods are case-sensitive: "connect" takes no authority-form. */
	{ "connect h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 0, 400 },
	/* At most four empty lines before the request line. */
	{ "\r\n\r\n\r\n\r\n\r\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0,
	    400 },
	{ "\r\n \r\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400 },
};

static size_t
bad_len(int i)
{
	return req_bad[i].len != 0 ? req_bad[i].len : strlen(req_bad[i].in);
}

START_TEST(test_request_bad)
{
	size_t len = bad_len(_i);
	struct preq p;

	preq_parse(&p, req_bad[_i].in, len, &lim_default);
	ck_assert_msg(p.r == HTTP_BAD && p.req.status == req_bad[_i].status,
	    "\"%.*s\": result %d status %d, want BAD %d", (int)len,
	    req_bad[_i].in, p.r, p.req.status, req_bad[_i].status);
	ck_assert_msg(p.req.error != NULL && *p.req.error != '\0',
	    "no reason given");
	preq_free(&p);
}
END_TEST

/*
 * A bad head cut at any length is never DONE; once a cut is refused,
 * every longer cut is refused with the same status, so a client cannot
 * make ferry accept bytes it has already refused by sending them slowly.
 */
START_TEST(test_request_bad_prefixes)
{
	size_t len = bad_len(_i), n;
	int first_status = 0;

	for (n = 0; n <= len; n++) {
		struct preq p;

		preq_parse(&p, req_bad[_i].in, n, &lim_default);
		ck_assert_msg(p.r != HTTP_DONE, "prefix %zu of \"%.*s\" DONE",
		    n, (int)len, req_bad[_i].in);
		if (first_status != 0)
			ck_assert_msg(p.r == HTTP_BAD &&
			    p.req.status == first_status,
			    "prefix %zu of \"%.*s\": %d/%d after %d", n,
			    (int)len, req_bad[_i].in, p.r, p.req.status,
			    first_status);
		else if (p.r == HTTP_BAD)
			first_status = p.req.status;
		preq_free(&p);
	}
	ck_assert_int_eq(first_status, req_bad[_i].status);
}
END_TEST

/* Build "GET http://h/<pad> HTTP/1.1" with a target of tlen bytes. */
static char *
long_target(size_t tlen, size_t *len)
{
	static const char pre[] = "GET http://h/", post[] =
	    " HTTP/1.1\r\nHost: h\r\n\r\n";
	char *b;

	*len = 4 + tlen + sizeof(post) - 1;
	b = malloc(*len);
	ck_assert_ptr_nonnull(b);
	memcpy(b, pre, sizeof(pre) - 1);
	memset(b + sizeof(pre) - 1, 'a', tlen - 9);
	memcpy(b + 4 + tlen, post, sizeof(post) - 1);
	return b;
}

/* A target of max_uri bytes passes; one more is 414, even mid-line. */
START_TEST(test_uri_limit)
{
	size_t len;
	char *b;
	struct preq p;

	b = long_target(URI_MAX, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_uint_eq(p.req.target_len, URI_MAX);
	preq_free(&p);
	free(b);

	b = long_target(URI_MAX + 1, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.r, HTTP_BAD);
	ck_assert_int_eq(p.req.status, 414);
	preq_free(&p);
	/* Refused as soon as the target outgrows the cap. */
	preq_parse(&p, b, 4 + URI_MAX + 1, &lim_default);
	ck_assert_int_eq(p.r, HTTP_BAD);
	ck_assert_int_eq(p.req.status, 414);
	preq_free(&p);
	preq_parse(&p, b, 4 + URI_MAX, &lim_default);
	ck_assert_int_eq(p.r, HTTP_PARTIAL);
	preq_free(&p);
	free(b);

	b = long_target(100000, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.req.status, 414);
	preq_free(&p);
	free(b);
}
END_TEST

/* An HTTP/1.1 head with Host and then extra fields "X-n: v". */
static char *
many_fields(size_t extra, size_t *len)
{
	static const char pre[] = RL HOST;
	char *b = malloc(sizeof(pre) + extra * 16 + 2);
	size_t i, n;

	ck_assert_ptr_nonnull(b);
	memcpy(b, pre, sizeof(pre) - 1);
	n = sizeof(pre) - 1;
	for (i = 0; i < extra; i++)
		n += (size_t)sprintf(b + n, "X-%zu: v\r\n", i % 1000);
	memcpy(b + n, "\r\n", 2);
	*len = n + 2;
	return b;
}

/* max_fields fields pass; one more is 431, before the head even ends. */
START_TEST(test_field_limit)
{
	size_t len;
	char *b;
	struct preq p;

	b = many_fields(FIELDS_MAX - 1, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_uint_eq(p.req.nfields, FIELDS_MAX);
	preq_free(&p);
	free(b);

	b = many_fields(FIELDS_MAX, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.r, HTTP_BAD);
	ck_assert_int_eq(p.req.status, 431);
	preq_free(&p);
	preq_parse(&p, b, len - 2, &lim_default);
	ck_assert_int_eq(p.r, HTTP_BAD);
	ck_assert_int_eq(p.req.status, 431);
	preq_free(&p);
	free(b);

	b = many_fields(5000, &len);
	preq_parse(&p, b, len, &lim_default);
	ck_assert_int_eq(p.req.status, 431);
	preq_free(&p);
	free(b);
}
END_TEST

/* With max_fields 0, any field at all is too many. */
START_TEST(test_field_limit_zero)
{
	static const struct http_limits lim0 = { 0, URI_MAX };
	static const char ok[] = "GET http://h/ HTTP/1.0\r\n\r\n";
	static const char one[] = "GET http://h/ HTTP/1.0\r\nX: 1\r\n\r\n";
	struct preq p;

	preq_parse(&p, ok, sizeof(ok) - 1, &lim0);
	ck_assert_int_eq(p.r, HTTP_DONE);
	preq_free(&p);
	preq_parse(&p, one, sizeof(one) - 1, &lim0);
	ck_assert_int_eq(p.r, HTTP_BAD);
	ck_assert_int_eq(p.req.status, 431);
	preq_free(&p);
}
END_TEST

/* Expect: 100-continue is honoured from HTTP/1.1 only (RFC 9110 §10.1.1). */
static const struct {
	const char	*in;
	bool		 expect;
} expect_cases[] = {
	{ RL HOST "Expect: 100-continue\r\n\r\n", true },
	{ RL HOST "expect: 100-Continue\r\n\r\n", true },
	{ RL HOST "Expect: foo, 100-continue\r\n\r\n", true },
	{ "GET http://h/ HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false },
	{ RL HOST "\r\n", false },
	{ RL HOST "Expect: 100-continued\r\n\r\n", false },
	{ RL HOST "X-Expect: 100-continue\r\n\r\n", false },
};

START_TEST(test_expect_continue)
{
	const char *in = expect_cases[_i].in;
	struct preq p;

	preq_parse(&p, in, strlen(in), &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_msg(p.req.expect_continue == expect_cases[_i].expect,
	    "%s: expect_continue %d", in, p.req.expect_continue);
	preq_free(&p);
}
END_TEST

/* Persistence (RFC 9112 §9.3): 1.1 unless "close", 1.0 only if asked. */
static const struct {
	const char	*in;
	bool		 keep;
} keep_cases[] = {
	{ RL HOST "\r\n", true },
	{ RL HOST "Connection: close\r\n\r\n", false },
	{ RL HOST "Connection: Keep-Alive, CLOSE\r\n\r\n", false },
	{ RL HOST "Connection: x\r\nConnection: close\r\n\r\n", false },
	{ RL HOST "Connection: closed\r\n\r\n", true },
	{ RL HOST "X-Connection: close\r\n\r\n", true },
	{ "GET http://h/ HTTP/1.0\r\n\r\n", false },
	{ "GET http://h/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	    true },
	{ "GET http://h/ HTTP/1.0\r\nConnection: foo, Keep-Alive\r\n\r\n",
	    true },
	{ "GET http://h/ HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	    false },
	{ "GET http://h/ HTTP/1.0\r\nKeep-Alive: 300\r\n\r\n", false },
};

START_TEST(test_request_keep_alive)
{
	const char *in = keep_cases[_i].in;
	struct preq p;

	preq_parse(&p, in, strlen(in), &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_msg(p.req.keep_alive == keep_cases[_i].keep,
	    "%s: keep_alive %d", in, p.req.keep_alive);
	preq_free(&p);
}
END_TEST

/* Bytes after the head (a body, a pipelined request) are not parsed. */
START_TEST(test_request_stops_at_head)
{
	static const char in[] = "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n"
	    "\0\r\x01 junk\nGET / HTTP/9.9\r\n";
	struct preq p;

	preq_parse(&p, in, sizeof(in) - 1, &lim_default);
	ck_assert_int_eq(p.r, HTTP_DONE);
	ck_assert_uint_eq(p.req.head_len, 35);
	preq_free(&p);
}
END_TEST

/* Parsing is a pure function: the same buffer twice, the same answer. */
START_TEST(test_request_repeatable)
{
	static const char in[] = POST "Content-Length: 12\r\n\r\n";
	struct preq a, b;

	preq_parse(&a, in, sizeof(in) - 1, &lim_default);
	preq_parse(&b, in, sizeof(in) - 1, &lim_default);
	ck_assert_int_eq(a.r, HTTP_DONE);
	ck_assert_int_eq(b.r, HTTP_DONE);
	ck_assert_uint_eq(a.req.head_len, b.req.head_len);
	ck_assert_uint_eq(a.req.framing.length, 12);
	ck_assert_uint_eq(b.req.framing.length, 12);
	preq_free(&a);
	preq_free(&b);
}
END_TEST

/* Response heads: verdict, code, reason and framing. */
static const struct {
	const char		*in;
	bool			 head;		/* answers a HEAD */
	enum http_result	 r;
	int			 code;
	int			 minor;
	const char		*reason;
	enum body_kind		 kind;
	uint64_t		 length;
	size_t			 body;		/* after the head */
} resp_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false,
	    HTTP_DONE, 200, 1, "OK", BODY_LENGTH, 5, 5 },
	{ "HTTP/1.1 200 OK\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.0 200 OK\r\n\r\n", false,
	    HTTP_DONE, 200, 0, "OK", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", false,
	    HTTP_DONE, 200, 0, "OK", BODY_LENGTH, 3, 0 },
	{ "HTTP/1.2 200 OK\r\nContent-Length: 3\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_LENGTH, 3, 0 },
	/* The reason phrase is optional (RFC 9112 §4). */
	{ "HTTP/1.1 200\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 \r\n\r\n", false,
	    HTTP_DONE, 200, 1, "", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false,
	    HTTP_DONE, 404, 1, "Not Found", BODY_LENGTH, 0, 0 },
	{ "HTTP/1.1 200 caf\xc3\xa9 \tx\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "caf\xc3\xa9 \tx", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 599 X\r\n\r\n", false,
	    HTTP_DONE, 599, 1, "X", BODY_CLOSE, 0, 0 },
	/* No body for 1xx, 204, 304 and HEAD (RFC 9112 §6.3 rule 1). */
	{ "HTTP/1.1 100 Continue\r\n\r\n", false,
	    HTTP_DONE, 100, 1, "Continue", BODY_NONE, 0, 0 },
	{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	    false, HTTP_DONE, 101, 1, "Switching Protocols", BODY_NONE, 0, 0 },
	{ "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", false,
	    HTTP_DONE, 103, 1, "Early Hints", BODY_NONE, 0, 0 },
	/* ... but a Content-Length there is read, to be sent on as one. */
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false,
	    HTTP_DONE, 204, 1, "No Content", BODY_NONE, 5, 0 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false,
	    HTTP_DONE, 304, 1, "Not Modified", BODY_NONE, 5, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true,
	    HTTP_DONE, 200, 1, "OK", BODY_NONE, 100, 0 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 5, 6\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true,
	    HTTP_DONE, 200, 1, "OK", BODY_NONE, 0, 0 },
	{ "HTTP/1.1 404 Not Found\r\n\r\n", true,
	    HTTP_DONE, 404, 1, "Not Found", BODY_NONE, 0, 0 },
	/* Chunked, close-delimited and length framing. */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CHUNKED, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CHUNKED, 0, 0 },
	/* TE without a final chunked: read until close (§6.3 rule 3). */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CLOSE, 0, 0 },
	/* chunked last frames it, whatever came before (§6.3 rule 4). */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: x-foo, chunked\r\n\r\n",
	    false, HTTP_DONE, 200, 1, "OK", BODY_CHUNKED, 0, 0 },
	{ "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", false,
	    HTTP_DONE, 205, 1, "Reset Content", BODY_LENGTH, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    false, HTTP_DONE, 200, 1, "OK", BODY_LENGTH, 5, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_LENGTH, 5, 0 },
	{ "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\nhi",
	    false, HTTP_DONE, 500, 1, "Internal Server Error", BODY_LENGTH, 2,
	    2 },
	/* Transfer-Encoding overrides Content-Length (RFC 9112 §6.3). */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CHUNKED, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Content-Length: 5\r\n\r\n", false,
	    HTTP_DONE, 200, 1, "OK", BODY_CLOSE, 0, 0 },
	/* Ambiguous or broken framing: refused, the caller answers 502. */
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    false, HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    false, HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    false, HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked x\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding:\r\n\r\n", false,
	    HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;p=\",chunked;\"\r\n\r\n",
	    false, HTTP_BAD, 0, 0, NULL, BODY_NONE, 0, 0 },
	/* Status line. */
	{ "HTTP/1.1 2000 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 20 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 099 X\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 600 X\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 999 X\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 20x OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 -20 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 200OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 \r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/2.0 200 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "http/1.1 200 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1  200 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "ICY 200 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 200 O\x01K\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0,
	    0 },
	/* Line endings, folding, field syntax. */
	{ "HTTP/1.1 200 OK\n\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\rX: 1\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0,
	    0 },
	{ "\r\nHTTP/1.1 200 OK\r\n\r\n", false, HTTP_BAD, 0, 0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, HTTP_BAD, 0, 0, NULL,
	    0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", false, HTTP_BAD, 0,
	    0, NULL, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", false, HTTP_BAD, 0, 0, NULL,
	    0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", false, HTTP_BAD, 0, 0, NULL,
	    0, 0, 0 },
};

/* A response parsed from its own exact-size copy. */
static enum http_result
parse_resp(const char *in, size_t len, bool head, struct http_field *f,
    struct http_response *resp, char **bufp)
{
	*bufp = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(*bufp);
	memcpy(*bufp, in, len);
	return http_parse_response(*bufp, len, &lim_default, f, head, resp);
}

/* The origin's side of persistence, which decides upstream reuse. */
static const struct {
	const char	*in;
	bool		 keep;
} resp_keep_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n", true },
	/* TE over CL: read as chunked, then the origin connection closes. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false },
	/* More Connection options than any real head has. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: a, b\r\n"
	    "\r\n", true },
};

START_TEST(test_response_keep_alive)
{
	const char *in = resp_keep_cases[_i].in;
	struct http_field f[FIELDS_MAX];
	struct http_response resp;
	char *buf;

	ck_assert_int_eq(parse_resp(in, strlen(in), false, f, &resp, &buf),
	    HTTP_DONE);
	ck_assert_msg(resp.keep_alive == resp_keep_cases[_i].keep,
	    "%s: keep_alive %d", in, resp.keep_alive);
	free(buf);
}
END_TEST

/*
 * n Connection options, as one field or one field each: HTTP_CONNECTION_MAX
 * pass, one more is refused, in requests (400) and responses.
 */
static enum http_result
connection_options(size_t n, bool split, bool response, int *status)
{
	static const struct http_limits lim = { 64, URI_MAX };
	static char in[8192];
	struct http_field f[64];
	struct http_request req;
	struct http_response resp;
	size_t len, i;
	enum http_result r;

	len = (size_t)snprintf(in, sizeof(in), "%s", response ?
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" :
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\n");
	if (!split)
		len += (size_t)snprintf(in + len, sizeof(in) - len,
		    "Connection: x0");
	for (i = split ? 0 : 1; i < n; i++)
		len += (size_t)snprintf(in + len, sizeof(in) - len,
		    split ? "Connection: x%zu\r\n" : ", x%zu", i);
	len += (size_t)snprintf(in + len, sizeof(in) - len, "%s",
	    split ? "\r\n" : "\r\n\r\n");
	ck_assert_uint_lt(len, sizeof(in));
	if (response) {
		r = http_parse_response(in, len, &lim, f, false, &resp);
		*status = 502;
	} else {
		r = http_parse_request(in, len, &lim, f, &req);
		*status = req.status;
	}
	return r;
}

/*
 * When a head being read is worth parsing: (bytes so far, how many just
 * arrived, buffer size, line seen before) -> (worth it, line seen after).
 * A parse on every packet would make a dribbled head quadratic. Most
 * cases start past the first HTTP_HEAD_PEEK bytes, which are always
 * worth a parse: LONG_TARGET is longer than that.
 */
#define LONG_TARGET	"GET http://example.com/" \
	"0123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789"
#define LONG_RL		LONG_TARGET " HTTP/1.1\r\n"
#define LONG_SL		"HTTP/1.1 200 " \
	"OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO\r\n"

static const struct {
	const char	*buf;
	size_t		 n;
	size_t		 cap;
	bool		 seen, worth, seen_after;
} worth_cases[] = {
	{ LONG_TARGET, 4, 256, false, false, false },
	{ LONG_RL, 2, 256, false, true, true },
	{ LONG_RL "A: b\r\n", 1, 256, true, false, true },
	{ LONG_RL "A: b\r\n\r\n", 2, 256, true, true, true },
	{ LONG_RL "A: b\r\n\r", 1, 256, true, false, true },
	/* The empty line straddles two packets: "\r\n" | "\r\n". */
	{ LONG_RL "A: b\r\n\r\n", 1, 256, true, true, true },
	{ LONG_RL "\n", 1, 256, true, true, true },
	{ LONG_SL "X: y", 4, sizeof(LONG_SL) + 3, true, true, true }, /* full */
	{ LONG_SL "X: y", 4, 256, true, false, true },
	/* The first bytes may already be refused (a TLS hello): parse. */
	{ "GET http://a/ HT", 16, 64, false, true, false },
	{ "G", 1, 64, false, true, false },
	{ "\x16\x03\x01", 3, 64, false, true, false },
	{ LONG_TARGET, sizeof(LONG_TARGET) - HTTP_HEAD_PEEK, 256, false, true,
	    false },
	/* A byte no head may hold, anywhere: parse, it ends the head. */
	{ LONG_TARGET "\x16", 1, 256, false, true, false },
	{ LONG_TARGET "\x7f", 1, 256, false, true, false },
	{ LONG_RL "A: \x01", 1, 256, true, true, true },
	{ LONG_RL "A: b\x1b[", 3, 256, true, true, true },
	/* HTAB and obs-text may stand in a head: no parse for them. */
	{ LONG_RL "A: \tb", 2, 256, true, false, true },
	{ LONG_RL "A: caf\xc3\xa9", 2, 256, true, false, true },
	{ LONG_SL "X: \x80\xff", 2, 256, true, false, true },
};

START_TEST(test_head_worth_parsing)
{
	const char *buf = worth_cases[_i].buf;
	size_t len = strlen(buf);
	bool seen = worth_cases[_i].seen;

	ck_assert_int_eq(http_head_worth_parsing(buf, len, worth_cases[_i].n,
	    worth_cases[_i].cap, &seen), worth_cases[_i].worth);
	ck_assert_int_eq(seen, worth_cases[_i].seen_after);
}
END_TEST

/*
 * Bytes that cannot be an HTTP request, read one at a time the way
 * serve_read_head() reads them: the parse http_head_worth_parsing() asks
 * for refuses them (400) as soon as the first impossible byte (at) is
 * in, not when a line ends or the header timeout passes, and the message
 * names the cause (why).
 */
static const struct {
	const char	*in;
	size_t		 len;
	size_t		 at;
	const char	*why;
} impossible_cases[] = {
	/* A TLS ClientHello's record header (RFC 8446 §5.1). */
	{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, 0, "TLS" },
	{ "\x16\x03\x03\x00\x2a", 5, 0, "plain HTTP proxy port" },
	{ "\r\n\x16\x03\x01", 5, 2, "TLS" },
	{ "\0\0\0\x01", 4, 0, "NUL" },
	{ "\x01\x02 garbage", 10, 0, "control" },
	{ "{\"json\": 1}\r\n", 13, 0, "method" },
	{ "<html>", 6, 0, "method" },
	{ "\x80GET", 4, 0, "method" },
	{ " GET http://h/ HTTP/1.1\r\n", 25, 0, "method" },
	{ "GET\x16 http://h/", 15, 3, "control" },
	{ "\x8f\xff\xfe\x00", 4, 0, "method" },
	/* Past the first HTTP_HEAD_PEEK bytes, a control byte still is. */
	{ LONG_TARGET "\x16\x03", sizeof(LONG_TARGET) + 1,
	    sizeof(LONG_TARGET) - 1, "control" },
	{ LONG_RL "X: a\0b", sizeof(LONG_RL) + 6, sizeof(LONG_RL) + 3, "NUL" },
};

START_TEST(test_head_refused_at_first_impossible_byte)
{
	const char *in = impossible_cases[_i].in;
	size_t len = impossible_cases[_i].len, k;
	struct http_field f[FIELDS_MAX];
	struct http_request req;
	enum http_result r = HTTP_PARTIAL;
	bool seen = false;

	for (k = 1; k <= len && r == HTTP_PARTIAL; k++)
		if (http_head_worth_parsing(in, k, 1, 32768, &seen))
			r = http_parse_request(in, k, &lim_default, f, &req);
	ck_assert_msg(r == HTTP_BAD, "case %d: never refused", _i);
	ck_assert_msg(k - 2 == impossible_cases[_i].at,
	    "case %d: refused at byte %zu, want %zu", _i, k - 2,
	    impossible_cases[_i].at);
	ck_assert_int_eq(req.status, 400);
	ck_assert_msg(strstr(req.error, impossible_cases[_i].why) != NULL,
	    "case %d: \"%s\" does not say %s", _i, req.error,
	    impossible_cases[_i].why);
}
END_TEST

/*
 * The parses http_head_worth_parsing() asks for while a long valid head
 * arrives byte by byte: the first HTTP_HEAD_PEEK bytes, the end of the
 * first line and the end of the head, nothing more (linear, not one
 * parse per byte).
 */
START_TEST(test_head_worth_parsing_is_rare)
{
	static char head[16384];
	size_t len, k, parses = 0;
	bool seen = false;

	len = (size_t)snprintf(head, sizeof(head), "%s", LONG_RL "Host: h\r\n");
	while (len + 32 < sizeof(head))
		len += (size_t)snprintf(head + len, sizeof(head) - len,
		    "X-%zu: v\tcaf\xc3\xa9\r\n", len);
	len += (size_t)snprintf(head + len, sizeof(head) - len, "\r\n");
	for (k = 1; k <= len; k++)
		parses += http_head_worth_parsing(head, k, 1, sizeof(head),
		    &seen);
	ck_assert_uint_eq(parses, HTTP_HEAD_PEEK + 2);
}
END_TEST

START_TEST(test_connection_options_cap)
{
	int side, split, status;

	for (side = 0; side < 2; side++)
		for (split = 0; split < 2; split++) {
			ck_assert_int_eq(connection_options(HTTP_CONNECTION_MAX,
			    split, side, &status), HTTP_DONE);
			ck_assert_int_eq(connection_options(
			    HTTP_CONNECTION_MAX + 1, split, side, &status),
			    HTTP_BAD);
			if (!side)
				ck_assert_int_eq(status, 400);
		}
}
END_TEST

START_TEST(test_response)
{
	const char *in = resp_cases[_i].in;
	size_t len = strlen(in);
	struct http_field f[FIELDS_MAX];
	struct http_response resp;
	enum http_result r;
	char *buf;

	r = parse_resp(in, len, resp_cases[_i].head, f, &resp, &buf);
	ck_assert_msg(r == resp_cases[_i].r, "%s: result %d (%s)", in, r,
	    resp.error != NULL ? resp.error : "");
	if (r == HTTP_BAD) {
		ck_assert_msg(resp.error != NULL && *resp.error != '\0',
		    "%s: no reason", in);
		free(buf);
		return;
	}
	ck_assert_int_eq(resp.code, resp_cases[_i].code);
	ck_assert_int_eq(resp.minor, resp_cases[_i].minor);
	assert_span("reason", in, resp.reason, resp.reason_len,
	    resp_cases[_i].reason);
	ck_assert_msg(resp.framing.kind == resp_cases[_i].kind,
	    "%s: framing %d, want %d", in, resp.framing.kind,
	    resp_cases[_i].kind);
	ck_assert_uint_eq(resp.framing.length, resp_cases[_i].length);
	ck_assert_uint_eq(resp.head_len, len - resp_cases[_i].body);
	free(buf);
}
END_TEST

/*
 * framing.coded: a response body in a transfer coding besides chunked,
 * which an HTTP/1.0 client cannot receive (forward.c answers 502). No
 * body, no coding to worry about.
 */
static const struct {
	const char	*in;
	bool		 head;
	bool		 coded;
} coded_cases[] = {
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
	    false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n", false,
	    false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, false },
	{ "HTTP/1.1 200 OK\r\n\r\n", false, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    false, true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	    false, true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\n", false, true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, chunked\r\n"
	    "Content-Length: 3\r\n\r\n", false, true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true,
	    false },
	{ "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n",
	    false, false },
};

START_TEST(test_response_coded)
{
	const char *in = coded_cases[_i].in;
	struct http_field f[FIELDS_MAX];
	struct http_response resp;
	char *buf;

	ck_assert_int_eq(parse_resp(in, strlen(in), coded_cases[_i].head, f,
	    &resp, &buf), HTTP_DONE);
	ck_assert_msg(resp.framing.coded == coded_cases[_i].coded,
	    "%s: coded %d", in, resp.framing.coded);
	free(buf);
}
END_TEST

/* A response head cut short is PARTIAL or (already) BAD, never DONE. */
START_TEST(test_response_partial)
{
	const char *in = resp_cases[_i].in;
	size_t head = strlen(in) - resp_cases[_i].body, n;

	for (n = 0; n < head; n++) {
		struct http_field f[FIELDS_MAX];
		struct http_response resp;
		enum http_result r;
		char *buf;

		r = parse_resp(in, n, resp_cases[_i].head, f, &resp, &buf);
		if (resp_cases[_i].r == HTTP_DONE)
			ck_assert_msg(r == HTTP_PARTIAL,
			    "prefix %zu of %s: %d", n, in, r);
		else
			ck_assert_msg(r != HTTP_DONE,
			    "prefix %zu of %s: DONE", n, in);
		free(buf);
	}
}
END_TEST

/* A response with more fields than the cap is refused. */
START_TEST(test_response_field_limit)
{
	static const struct http_limits lim2 = { 2, URI_MAX };
	static const char two[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
	static const char three[] =
	    "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	struct http_field f[3];
	struct http_response resp;

	ck_assert_int_eq(http_parse_response(two, sizeof(two) - 1, &lim2, f,
	    false, &resp), HTTP_DONE);
	ck_assert_uint_eq(resp.nfields, 2);
	ck_assert_int_eq(http_parse_response(three, sizeof(three) - 1, &lim2,
	    f, false, &resp), HTTP_BAD);
}
END_TEST

/* field_list_has: comma lists, any case, parameters and OWS skipped. */
static const struct {
	const char	*value;
	const char	*token;
	bool		 has;
} list_cases[] = {
	{ "close", "close", true },
	{ "Close", "close", true },
	{ "keep-alive, Close", "close", true },
	{ " ,\t, close ,", "close", true },
	{ "upgrade;x=1, close;y", "close", true },
	{ "closed", "close", false },
	{ "xclose", "close", false },
	{ "keep-alive", "close", false },
	{ "", "close", false },
	{ "a;close", "close", false },
	{ "clo se", "close", false },
	{ "100-continue", "100-continue", true },
	/*
	 * A quoted-string is one piece of its element (RFC 9110 §5.6.4): the
	 * comma inside it does not start a new element.
	 */
	{ "a;p=\"x,close\"", "close", false },
	{ "foo=\"1,100-continue\"", "100-continue", false },
};

START_TEST(test_list_has)
{
	const char *v = list_cases[_i].value, *t = list_cases[_i].token;

	ck_assert_msg(field_list_has(v, strlen(v), t, strlen(t)) ==
	    list_cases[_i].has, "\"%s\" has \"%s\": want %d", v, t,
	    list_cases[_i].has);
}
END_TEST

/* Every byte value against the RFC 9110 §5.6.2 tchar set. */
START_TEST(test_tchar)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	int c;

	for (c = 0; c < 256; c++) {
		bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c != 0 && memchr(extra, c, sizeof(extra) - 1) != NULL);

		ck_assert_msg(field_is_tchar((unsigned char)c) == want,
		    "byte 0x%02x: want %d", c, want);
	}
}
END_TEST

START_TEST(test_name_is)
{
	struct http_field f = { "Content-Length", 14, "5", 1 };
	struct http_field g = { "Content-LengthX", 14, "5", 1 };

	ck_assert(field_name_is(&f, "content-length"));
	ck_assert(field_name_is(&f, "CONTENT-LENGTH"));
	ck_assert(!field_name_is(&f, "Content-Lengt"));
	ck_assert(!field_name_is(&f, "Content-Length2"));
	/* Only name_len bytes count. */
	ck_assert(field_name_is(&g, "Content-Length"));
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tr = tcase_create("request");
	TCase *tb = tcase_create("request-bad");
	TCase *tp = tcase_create("response");
	TCase *tu = tcase_create("util");

	tcase_add_loop_test(tr, test_request_ok, 0, NELEM(req_ok));
	tcase_add_loop_test(tr, test_request_partial, 0, NELEM(req_ok));
	tcase_add_test(tr, test_request_fields);
	tcase_add_loop_test(tr, test_expect_continue, 0, NELEM(expect_cases));
	tcase_add_loop_test(tr, test_request_keep_alive, 0, NELEM(keep_cases));
	tcase_add_test(tr, test_request_stops_at_head);
	tcase_add_test(tr, test_request_repeatable);
	suite_add_tcase(s, tr);
	tcase_add_loop_test(tb, test_request_bad, 0, NELEM(req_bad));
	tcase_add_loop_test(tb, test_request_bad_prefixes, 0, NELEM(req_bad));
	tcase_add_test(tb, test_uri_limit);
	tcase_add_test(tb, test_field_limit);
	tcase_add_test(tb, test_field_limit_zero);
	suite_add_tcase(s, tb);
	tcase_add_loop_test(tp, test_response, 0, NELEM(resp_cases));
	tcase_add_loop_test(tp, test_response_keep_alive, 0,
	    NELEM(resp_keep_cases));
	tcase_add_loop_test(tp, test_response_partial, 0, NELEM(resp_cases));
	tcase_add_loop_test(tp, test_response_coded, 0, NELEM(coded_cases));
	tcase_add_test(tp, test_response_field_limit);
	tcase_add_test(tp, test_connection_options_cap);
	tcase_add_loop_test(tp, test_head_worth_parsing, 0, NELEM(worth_cases));
	tcase_add_loop_test(tp, test_head_refused_at_first_impossible_byte, 0,
	    NELEM(impossible_cases));
	tcase_add_test(tp, test_head_worth_parsing_is_rare);
	suite_add_tcase(s, tp);
	tcase_add_loop_test(tu, test_list_has, 0, NELEM(list_cases));
	tcase_add_test(tu, test_tchar);
	tcase_add_test(tu, test_name_is);
	suite_add_tcase(s, tu);
	return s;
}
