/*
 * check_http.c: the request and response head parsers (http.c) and the
 * framing rules they apply (framing.c).
 *
 * Most cases are tables: one raw head and what the parser must say about
 * it. Every valid head is also fed in every truncation, which must answer
 * HTTP_PARTIAL, never a wrong verdict on a prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "suites.h"

#define MAX_FIELDS 16

static struct http_field fields[MAX_FIELDS];
static const struct http_limits limits = { MAX_FIELDS, 64 };

static enum http_result
parse_req(const char *head, struct http_request *req)
{
	return http_parse_request(head, strlen(head), &limits, fields, req);
}

static enum http_result
parse_resp(const char *head, bool head_request, struct http_response *resp)
{
	return http_parse_response(head, strlen(head), &limits, fields,
	    head_request, resp);
}

/* Requests that must parse, with the framing they must get. */
static const struct {
	const char	*head;
	enum body_kind	 kind;
	uint64_t	 length;
	int		 minor;
} good_requests[] = {
	{ "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
	    BODY_NONE, 0, 1 },
	{ "GET http://example.com/a?b=c HTTP/1.0\r\n\r\n", BODY_NONE, 0, 0 },
	/* A higher 1.x minor version is answered as 1.1 (RFC 9110 §2.5). */
	{ "GET http://h/ HTTP/1.9\r\nHost: h\r\n\r\n", BODY_NONE, 0, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
	    BODY_LENGTH, 5, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	    BODY_LENGTH, 0, 1 },
	/* Identical duplicates, as fields or as a list, are one length. */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n"
	    "Content-Length: 7\r\n\r\n", BODY_LENGTH, 7, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 7, 7\r\n\r\n",
	    BODY_LENGTH, 7, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", BODY_CHUNKED, 0, 1 },
	/* Coding names are case-insensitive (RFC 9112 §7). */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: CHUNKED\r\n\r\n", BODY_CHUNKED, 0, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n", BODY_CHUNKED, 0, 1 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	    BODY_CHUNKED, 0, 1 },
	{ "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	    BODY_NONE, 0, 1 },
	{ "OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", BODY_NONE, 0, 1 },
	/* Tokens may use every tchar; OWS around values is not the value. */
	{ "M-E.T_H~O!D http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "X-a!#$%&'*+-.^_`|~1:  \t v \t\r\nEmpty:\r\n\r\n",
	    BODY_NONE, 0, 1 },
	/* Leading empty lines before the request line are ignored (§2.2). */
	{ "\r\n\r\nGET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    BODY_NONE, 0, 1 },
	/* obs-text (bytes >= 0x80) is allowed in field values. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n",
	    BODY_NONE, 0, 1 },
};

START_TEST(test_good_request)
{
	struct http_request req;
	const char *head = good_requests[_i].head;

	ck_assert_msg(parse_req(head, &req) == HTTP_DONE, "%s: %s", head,
	    req.error ? req.error : "partial");
	ck_assert_int_eq(req.framing.kind, good_requests[_i].kind);
	ck_assert_uint_eq(req.framing.length, good_requests[_i].length);
	ck_assert_int_eq(req.minor, good_requests[_i].minor);
	ck_assert_uint_eq(req.head_len, strlen(head));
}
END_TEST

/* Every proper prefix of a valid head is incomplete, never bad. */
START_TEST(test_good_request_truncated)
{
	const char *head = good_requests[_i].head;
	size_t len = strlen(head), n;
	struct http_request req;

	for (n = 0; n < len; n++)
		ck_assert_msg(http_parse_request(head, n, &limits, fields,
		    &req) == HTTP_PARTIAL, "%s cut at %zu", head, n);
}
END_TEST

/* Bytes after the head (a body) are not part of it. */
START_TEST(test_head_len_excludes_body)
{
	const char *msg = "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 4\r\n\r\nbody";
	struct http_request req;

	ck_assert(parse_req(msg, &req) == HTTP_DONE);
	ck_assert_uint_eq(req.head_len, strlen(msg) - 4);
}
END_TEST

START_TEST(test_request_fields)
{
	struct http_request req;

	ck_assert(parse_req("GET http://ex.org:8080/p?q HTTP/1.1\r\n"
	    "Host: ex.org:8080\r\nUser-Agent:  curl/8 \r\n\r\n", &req) ==
	    HTTP_DONE);
	ck_assert_uint_eq(req.method_len, 3);
	ck_assert(memcmp(req.method, "GET", 3) == 0);
	ck_assert_uint_eq(req.nfields, 2);
	ck_assert(http_name_is(&req.fields[1], "user-agent"));
	ck_assert_uint_eq(req.fields[1].value_len, 6);
	ck_assert(memcmp(req.fields[1].value, "curl/8", 6) == 0);
	ck_assert_uint_eq(req.uri.port, 8080);
	ck_assert_uint_eq(req.uri.host_len, 6);
	ck_assert(memcmp(req.uri.host, "ex.org", 6) == 0);
	ck_assert_uint_eq(req.uri.path_len, 4);
	ck_assert(memcmp(req.uri.path, "/p?q", 4) == 0);
	ck_assert(!req.is_connect && !req.is_head);
}
END_TEST

START_TEST(test_request_flags)
{
	struct http_request req;

	ck_assert(parse_req("HEAD http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    &req) == HTTP_DONE);
	ck_assert(req.is_head);
	ck_assert(parse_req("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
	    &req) == HTTP_DONE);
	ck_assert(req.is_connect);
	ck_assert_uint_eq(req.uri.port, 443);
	/* Method names are case-sensitive: "connect" is not CONNECT. */
	ck_assert(parse_req("connect h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
	    &req) == HTTP_BAD);
	ck_assert(parse_req("POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\n", &req) ==
	    HTTP_DONE);
	ck_assert(req.expect_continue);
	/* An HTTP/1.0 client cannot take a 100 (RFC 9110 §10.1.1). */
	ck_assert(parse_req("POST http://h/ HTTP/1.0\r\n"
	    "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n", &req) ==
	    HTTP_DONE);
	ck_assert(!req.expect_continue);
}
END_TEST

/* Requests that must be refused, with the status to answer. */
static const struct {
	const char	*head;
	int		 status;
} bad_requests[] = {
	/* Framing: anything two parties could read differently. */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5a\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: xchunked\r\n\r\n", 501 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: identity\r\n\r\n", 501 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked, chunked\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: \"chunked\"\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n",
	    400 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\x0b\r\n\r\n", 400 },
	{ "POST http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    411 },
	{ "CONNECT h:443 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
	    400 },
	/* Line syntax (RFC 9112 §2.2, §5). */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\n\tX: a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX\t: a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nBad[]: a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nBad Name: a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400 },
	{ "G@T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "G(T http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ " GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET  http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/  HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/\tHTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/a\xff HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1 \r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/\r\nHost: h\r\n\r\n", 400 },
	/* Versions. */
	{ "GET http://h/ HTTP/1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/11\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.10\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ http/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.x\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTS/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
	{ "GET http://h/ HTTP/0.9\r\nHost: h\r\n\r\n", 505 },
	/* Host (RFC 9112 §3.2). */
	{ "GET http://h/ HTTP/1.1\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nhost: g\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: u@h\r\n\r\n", 400 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h:x\r\n\r\n", 400 },
	/* Targets: a forward proxy takes absolute http:// URLs only. */
	{ "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h/#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h:0/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h:65536/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h:4294967739/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "GET http://h:80x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "CONNECT h:0 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "CONNECT http://h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	/* Limits: 16 fields, 64-byte target in this test's limits. */
	{ "GET http://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " HTTP/1.1\r\nHost: h\r\n\r\n", 414 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "A: 1\r\nA: 2\r\nA: 3\r\nA: 4\r\nA: 5\r\nA: 6\r\nA: 7\r\nA: 8\r\n"
	    "A: 9\r\nA: 10\r\nA: 11\r\nA: 12\r\nA: 13\r\nA: 14\r\nA: 15\r\n"
	    "A: 16\r\n\r\n", 431 },
};

START_TEST(test_bad_request)
{
	struct http_request req;
	const char *head = bad_requests[_i].head;

	ck_assert_msg(parse_req(head, &req) == HTTP_BAD, "row %d accepted",
	    _i);
	ck_assert_msg(req.status == bad_requests[_i].status,
	    "row %d: got %d (%s), want %d", _i, req.status,
	    req.error ? req.error : "-", bad_requests[_i].status);
	ck_assert_msg(req.error != NULL && req.error[0] != '\0',
	    "row %d: no reason given", _i);
}
END_TEST

/* A NUL byte in a value (the table cannot hold it: strlen). */
START_TEST(test_nul_in_value)
{
	static const char head[] = "GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "X: a\0b\r\n\r\n";
	struct http_request req;

	ck_assert(http_parse_request(head, sizeof(head) - 1, &limits, fields,
	    &req) == HTTP_BAD);
	ck_assert_int_eq(req.status, 400);
}
END_TEST

/* A bad byte is refused at once, before the head is complete. */
START_TEST(test_bad_prefix_rejected_early)
{
	struct http_request req;

	ck_assert(parse_req("G@T", &req) == HTTP_BAD);
	ck_assert(parse_req("GET http://h/ HTTP/1.1\r\nX : ", &req) ==
	    HTTP_BAD);
	ck_assert(parse_req("GET http://h/ HTTP/1.1\r\n ", &req) == HTTP_BAD);
	ck_assert(parse_req("GET http://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &req) == HTTP_BAD);
	ck_assert_int_eq(req.status, 414);
}
END_TEST

START_TEST(test_list_has)
{
	ck_assert(http_list_has("close", 5, "close", 5));
	ck_assert(http_list_has("keep-alive, Close", 17, "close", 5));
	ck_assert(http_list_has("a;q=1,  b", 9, "b", 1));
	ck_assert(!http_list_has("closed", 6, "close", 5));
	ck_assert(!http_list_has("x-close", 7, "close", 5));
	ck_assert(!http_list_has("", 0, "close", 5));
}
END_TEST

START_TEST(test_tchar)
{
	const char *ok = "!#$%&'*+-.^_`|~09azAZ";
	const char *no = " \"(),/:;<=>?@[\\]{}\x7f\x80";

	for (; *ok != '\0'; ok++)
		ck_assert_msg(http_is_tchar((unsigned char)*ok), "%c", *ok);
	for (; *no != '\0'; no++)
		ck_assert_msg(!http_is_tchar((unsigned char)*no), "%c", *no);
	ck_assert(!http_is_tchar(0));
}
END_TEST

/* Responses that must parse, with their framing. */
static const struct {
	const char	*head;
	bool		 head_request;
	int		 code;
	enum body_kind	 kind;
	uint64_t	 length;
} good_responses[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false, 200,
	    BODY_LENGTH, 12 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 200,
	    BODY_CHUNKED, 0 },
	/* No length: the body runs until the origin closes (§6.3 rule 8). */
	{ "HTTP/1.1 200 OK\r\n\r\n", false, 200, BODY_CLOSE, 0 },
	{ "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", false, 200, BODY_CLOSE, 0 },
	/* A coding that is not chunked: also until close (§6.3 rule 4). */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 200,
	    BODY_CLOSE, 0 },
	/* Never a body: HEAD, 1xx, 204, 304 (§6.3 rule 1). */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true, 200,
	    BODY_NONE, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, 200,
	    BODY_NONE, 0 },
	{ "HTTP/1.1 100 Continue\r\n\r\n", false, 100, BODY_NONE, 0 },
	{ "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false, 103,
	    BODY_NONE, 0 },
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false, 204,
	    BODY_NONE, 0 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false,
	    304, BODY_NONE, 0 },
	/* The reason phrase may be empty or absent, and hold spaces. */
	{ "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", false, 404,
	    BODY_LENGTH, 0 },
	{ "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, 404,
	    BODY_LENGTH, 0 },
	{ "HTTP/1.1 500 Very  Bad\tThing\r\nContent-Length: 1\r\n\r\n", false,
	    500, BODY_LENGTH, 1 },
};

START_TEST(test_good_response)
{
	struct http_response resp;
	const char *head = good_responses[_i].head;
	size_t n;

	ck_assert_msg(parse_resp(head, good_responses[_i].head_request,
	    &resp) == HTTP_DONE, "%s: %s", head,
	    resp.error ? resp.error : "partial");
	ck_assert_int_eq(resp.code, good_responses[_i].code);
	ck_assert_int_eq(resp.framing.kind, good_responses[_i].kind);
	ck_assert_uint_eq(resp.framing.length, good_responses[_i].length);
	ck_assert_uint_eq(resp.head_len, strlen(head));
	for (n = 0; n < strlen(head); n++)
		ck_assert(http_parse_response(head, n, &limits, fields,
		    good_responses[_i].head_request, &resp) == HTTP_PARTIAL);
}
END_TEST

/* Responses ferry must not relay (the client gets a 502). */
static const char *const bad_responses[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 600 Odd\r\n\r\n",
	"HTTP/1.1 abc OK\r\n\r\n",
	"HTTP/2 200 OK\r\n\r\n",
	"ICY 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
	"\r\nHTTP/1.1 200 OK\r\n\r\n",
};

START_TEST(test_bad_response)
{
	struct http_response resp;

	ck_assert_msg(parse_resp(bad_responses[_i], false, &resp) ==
	    HTTP_BAD, "accepted: %s", bad_responses[_i]);
	ck_assert(resp.error != NULL);
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("request");
	TCase *tr = tcase_create("response");

	tcase_add_loop_test(tc, test_good_request, 0,
	    (int)(sizeof(good_requests) / sizeof(good_requests[0])));
	tcase_add_loop_test(tc, test_good_request_truncated, 0,
	    (int)(sizeof(good_requests) / sizeof(good_requests[0])));
	tcase_add_test(tc, test_head_len_excludes_body);
	tcase_add_test(tc, test_request_fields);
	tcase_add_test(tc, test_request_flags);
	tcase_add_loop_test(tc, test_bad_request, 0,
	    (int)(sizeof(bad_requests) / sizeof(bad_requests[0])));
	tcase_add_test(tc, test_nul_in_value);
	tcase_add_test(tc, test_bad_prefix_rejected_early);
	tcase_add_test(tc, test_list_has);
	tcase_add_test(tc, test_tchar);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tr, test_good_response, 0,
	    (int)(sizeof(good_responses) / sizeof(good_responses[0])));
	tcase_add_loop_test(tr, test_bad_response, 0,
	    (int)(sizeof(bad_responses) / sizeof(bad_responses[0])));
	suite_add_tcase(s, tr);
	return s;
}
