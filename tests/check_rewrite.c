/*
 * check_rewrite.c: the heads ferry forwards (rewrite.c).
 *
 * Each case parses a real head with http.c, rewrites it and compares the
 * exact bytes that would go on the wire: the request line in origin-form,
 * Host from the URL, hop-by-hop fields gone (RFC 9110 §7.6.1), Via and
 * X-Forwarded-For as configured, every other field kept byte for byte and
 * in order. The output must stay inside the caller's buffer at any size.
 */
#include <string.h>

#include "config.h"
#include "http.h"
#include "rewrite.h"
#include "suites.h"

static struct http_field fields[32];
static const struct http_limits limits = { 32, 1024 };
static struct ferry_config cfg;
static char out[2048];

/* The [headers] options a case runs with. */
struct opts {
	bool		 via;
	bool		 xff;
	const char	*strip[3];
};

/* The defaults: Via on, X-Forwarded-For off, nothing stripped. */
static const struct opts defaults = { true, false, { NULL } };

static void
cfg_set(const struct opts *o)
{
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.via = o->via;
	strcpy(cfg.via_name, "ferry");
	cfg.forwarded_for = o->xff;
	for (i = 0; i < 3 && o->strip[i] != NULL; i++)
		strcpy(cfg.strip[cfg.nstrip++], o->strip[i]);
}

static void
parse_req(const char *head, struct http_request *r)
{
	ck_assert_msg(http_parse_request(head, strlen(head), &limits, fields,
	    r) == HTTP_DONE, "%s: %s", head, r->error);
}

static void
parse_resp(const char *head, struct http_response *r)
{
	ck_assert_msg(http_parse_response(head, strlen(head), &limits, fields,
	    false, r) == HTTP_DONE, "%s: %s", head, r->error);
}

/* Parse head as a request and rewrite it; returns the output text. */
static const char *
req(const char *head, const char *client_ip)
{
	struct http_request r;
	size_t len = 0;

	parse_req(head, &r);
	ck_assert_int_eq(rewrite_request(&r, &cfg, client_ip, NULL, out,
	    sizeof(out) - 1, &len), 0);
	ck_assert_uint_lt(len, sizeof(out));
	out[len] = '\0';
	return out;
}

/* Parse head as a response and rewrite it. */
static const char *
resp(const char *head, bool dechunk)
{
	struct http_response r;
	size_t len = 0;

	parse_resp(head, &r);
	/* conn.c ends the client connection with these: say so, unless 1xx. */
	ck_assert_int_eq(rewrite_response(&r, &cfg, dechunk,
	    r.code >= 200 ? "close" : NULL, out,
	    sizeof(out) - 1, &len), 0);
	ck_assert_uint_lt(len, sizeof(out));
	out[len] = '\0';
	return out;
}

/* Requests: upstream connections persist, no Connection field goes. */
#define REQ_TAIL11 "Via: 1.1 ferry\r\n\r\n"
/* Responses: these cases end the client connection. */
#define TAIL11 "Via: 1.1 ferry\r\nConnection: close\r\n\r\n"

/* Whole-output expectations with the default config. */
static const struct {
	const char	*in;
	const char	*out;
} request_cases[] = {
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* "http://h" has no path: origin-form needs "/" (RFC 9112 §3.2.1). */
	{ "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	{ "GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET /?q=1 HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* Path and query go on untouched, escapes and all. */
	{ "GET http://h/a%20b//c/?x=%2F&y=1;z HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET /a%20b//c/?x=%2F&y=1;z HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* OPTIONS to the server itself becomes "*" (RFC 9112 §3.2.4). */
	{ "OPTIONS http://h:81 HTTP/1.1\r\nHost: h:81\r\n\r\n",
	    "OPTIONS * HTTP/1.1\r\nHost: h:81\r\n" REQ_TAIL11 },
	{ "OPTIONS http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
	    "OPTIONS /x HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	{ "OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "OPTIONS / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* Every method is forwarded as it came. */
	{ "DELETE http://h/r HTTP/1.1\r\nHost: h\r\n\r\n",
	    "DELETE /r HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	{ "X-CUSTOM.M~1 http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "X-CUSTOM.M~1 / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* The Host field always comes from the URL, once, first. */
	{ "GET http://real.example:8080/p?a=b HTTP/1.1\r\n"
	    "Host: other.example\r\nAccept: */*\r\n\r\n",
	    "GET /p?a=b HTTP/1.1\r\nHost: real.example:8080\r\n"
	    "Accept: */*\r\n" REQ_TAIL11 },
	{ "GET http://real.example/ HTTP/1.1\r\nAccept: */*\r\n"
	    "hOST: other.example\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: real.example\r\nAccept: */*\r\n"
	    REQ_TAIL11 },
	{ "GET http://h:80/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h:80\r\n" REQ_TAIL11 },
	/* HTTP/1.0 without Host; Via names the version received. */
	{ "GET http://[::1]:81/ HTTP/1.0\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: [::1]:81\r\nVia: 1.0 ferry\r\n"
	    "\r\n" },
	{ "GET http://h/ HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Keep-Alive: 300\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 ferry\r\n"
	    "\r\n" },
	/* Every hop-by-hop field goes, in any case; the rest stay in order. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nA: 1\r\n"
	    "connection: keep-alive, X-Hop\r\nKEEP-ALIVE: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: Basic eA==\r\n"
	    "TE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
	    "x-hop: gone\r\nB:  2 \r\nX-Hopper: stays\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nX-Hopper: stays\r\n"
	    REQ_TAIL11 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\npRoXy-AuThOrIzAtIoN: x\r\n"
	    "te: gzip\r\nUPGRADE: h2c\r\ntrailer: a\r\nC: 3\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nC: 3\r\n" REQ_TAIL11 },
	/* Connection may name several fields, over several lines. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: X-A\r\n"
	    "X-A: 1\r\nX-B: 2\r\nconnection: ,  x-b ,, X-C  \r\nX-C: 3\r\n"
	    "X-D: 4\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX-D: 4\r\n" REQ_TAIL11 },
	/* Connection may not remove the routing and framing fields. */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Connection: Host, Content-Length, Transfer-Encoding, "
	    "Connection\r\n"
	    "Content-Length: 3\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n" REQ_TAIL11 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: Connection\r\n"
	    "X: 1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n" REQ_TAIL11 },
	{ "POST http://h/ HTTP/1.1\r\nConnection: Content-Length\r\n"
	    "Host: h\r\nContent-Length: 10\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n" REQ_TAIL11 },
	{ "GET http://h/ HTTP/1.1\r\nConnection: host\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Connection: transfer-encoding\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    REQ_TAIL11 },
	/* A client's Connection: close is about its own hop: it stays here. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* Connection naming Via: the client's goes, ferry's own is added. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: via\r\n"
	    "Via: 1.1 p\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
	/* Duplicate identical lengths go on as one normalized field. */
	{ "PUT http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n"
	    "Content-Length: 5\r\n\r\n",
	    "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n" REQ_TAIL11 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n"
	    "\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n" REQ_TAIL11 },
	/* An existing Via is kept; ferry adds its own hop after it. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 other\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 other\r\n" REQ_TAIL11 },
	/* Values keep their bytes: obs-text, quotes, inner tabs, empty. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \"q\"\r\n"
	    "X-Tab: a\t b\r\nX-Empty:\r\nCookie: a=1; b=2\r\nCookie: c=3\r\n"
	    "\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \"q\"\r\n"
	    "X-Tab: a\t b\r\nX-Empty: \r\nCookie: a=1; b=2\r\nCookie: c=3\r\n"
	    REQ_TAIL11 },
	/* Field names keep their case. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nx-lower: 1\r\nX-UPPER: 2\r\n"
	    "\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nx-lower: 1\r\nX-UPPER: 2\r\n"
	    REQ_TAIL11 },
	/*
	 * TRACE and OPTIONS count Max-Forwards down, one normalised field
	 * after the others (RFC 9110 §7.6.2); other methods pass it as it
	 * came, and so does a malformed one (forward.c refused it first).
	 */
	{ "TRACE http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 5\r\n"
	    "X: 1\r\n\r\n",
	    "TRACE / HTTP/1.1\r\nHost: h\r\nX: 1\r\nMax-Forwards: 4\r\n"
	    REQ_TAIL11 },
	{ "OPTIONS http://h:81 HTTP/1.1\r\nHost: h:81\r\n"
	    "max-forwards: 1, 1\r\nMax-Forwards: 01\r\n\r\n",
	    "OPTIONS * HTTP/1.1\r\nHost: h:81\r\nMax-Forwards: 0\r\n"
	    REQ_TAIL11 },
	{ "TRACE http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Max-Forwards: 18446744073709551615\r\n\r\n",
	    "TRACE / HTTP/1.1\r\nHost: h\r\n"
	    "Max-Forwards: 18446744073709551614\r\n" REQ_TAIL11 },
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n" REQ_TAIL11 },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\n"
	    "Content-Length: 0\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\n"
	    "Content-Length: 0\r\n" REQ_TAIL11 },
	{ "TRACE http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: x\r\n\r\n",
	    "TRACE / HTTP/1.1\r\nHost: h\r\nMax-Forwards: x\r\n" REQ_TAIL11 },
	/* Expect is end-to-end: it goes on. */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n" REQ_TAIL11 },
};

START_TEST(test_request)
{
	cfg_set(&defaults);
	ck_assert_str_eq(req(request_cases[_i].in, "192.0.2.7"),
	    request_cases[_i].out);
}
END_TEST

/* Requests under other [headers] settings. */
static const struct {
	struct opts	 o;
	const char	*client_ip;
	const char	*in;
	const char	*out;
} option_cases[] = {
	/* X-Forwarded-For appended after the client's own. */
	{ { false, true, { "User-Agent", "referer", NULL } }, "192.0.2.7",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "user-agent: x\r\nReferer: y\r\nCookie: z\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nCookie: z\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 192.0.2.7\r\n"
	    "\r\n" },
	{ { true, true, { NULL } }, "::1",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 ferry\r\n"
	    "X-Forwarded-For: ::1\r\n\r\n" },
	/* Off: a client's X-Forwarded-For passes, none is added. */
	{ { true, false, { NULL } }, "192.0.2.7",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\n"
	    "\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\n"
	    REQ_TAIL11 },
	/* Via off keeps the client's Via and adds none. */
	{ { false, false, { NULL } }, "192.0.2.7",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.0 a\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 a\r\n"
	    "\r\n" },
	/* Stripping matches whole names, any case. */
	{ { true, false, { "COOKIE", NULL } }, "192.0.2.7",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\ncookie: a\r\nCookie2: b\r\n"
	    "Set-Cookie: c\r\nCookie: d\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nCookie2: b\r\nSet-Cookie: c\r\n"
	    REQ_TAIL11 },
	/* The strip list cannot remove what routes or frames the request. */
	{ { true, false, { "Host", "Content-Length", NULL } }, "192.0.2.7",
	    "POST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n" REQ_TAIL11 },
	/* Stripping Via removes the client's hops; ferry still adds its own. */
	{ { true, false, { "Via", NULL } }, "192.0.2.7",
	    "GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 a\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n" REQ_TAIL11 },
};

START_TEST(test_request_options)
{
	cfg_set(&option_cases[_i].o);
	ck_assert_str_eq(req(option_cases[_i].in, option_cases[_i].client_ip),
	    option_cases[_i].out);
}
END_TEST

/*
 * The output never runs past the buffer: at every size below what the
 * head needs the call fails and leaves the bytes after cap alone; at the
 * exact size it succeeds with the same bytes as a large buffer gives.
 */
static const char *const overflow_heads[] = {
	"GET http://h/ HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n",
	("POST http://example.com:8080/upload?x=1 HTTP/1.1\r\n"
	"Host: example.com:8080\r\nContent-Length: 12345\r\n"
	"Connection: X-Gone\r\nX-Gone: 1\r\nUser-Agent: test\r\n\r\n"),
	"OPTIONS http://h HTTP/1.0\r\n\r\n",
};

START_TEST(test_request_overflow)
{
	const struct opts o = { true, true, { NULL } };
	struct http_request r;
	char want[1024], small[1024];
	size_t need = 0, len, cap;

	cfg_set(&o);
	parse_req(overflow_heads[_i], &r);
	ck_assert_int_eq(rewrite_request(&r, &cfg, "2001:db8::1", NULL, want,
	    sizeof(want), &need), 0);
	ck_assert_uint_lt(need, sizeof(small));
	for (cap = 0; cap <= need; cap++) {
		memset(small, 'Z', sizeof(small));
		len = 0;
		if (cap < need) {
			ck_assert_msg(rewrite_request(&r, &cfg, "2001:db8::1", NULL,
			    small, cap, &len) == -1, "fit in %zu < %zu", cap,
			    need);
		} else {
			ck_assert_int_eq(rewrite_request(&r, &cfg,
			    "2001:db8::1", NULL, small, cap, &len), 0);
			ck_assert_uint_eq(len, need);
			ck_assert(memcmp(small, want, need) == 0);
		}
		ck_assert_msg(small[cap] == 'Z', "wrote past %zu", cap);
		ck_assert_uint_le(len, cap);
	}
}
END_TEST

static const char *const response_overflow_heads[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: o\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	("HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n"
	"Keep-Alive: timeout=1\r\nX-A: 1\r\n\r\n"),
};

START_TEST(test_response_overflow)
{
	struct http_response r;
	char want[1024], small[1024];
	size_t need = 0, len, cap;

	cfg_set(&defaults);
	parse_resp(response_overflow_heads[_i], &r);
	ck_assert_int_eq(rewrite_response(&r, &cfg, false, "close", want, sizeof(want),
	    &need), 0);
	for (cap = 0; cap <= need; cap++) {
		memset(small, 'Z', sizeof(small));
		len = 0;
		ck_assert_int_eq(rewrite_response(&r, &cfg, false, "close", small, cap,
		    &len), cap < need ? -1 : 0);
		ck_assert_msg(small[cap] == 'Z', "wrote past %zu", cap);
		ck_assert_uint_le(len, cap);
	}
	ck_assert(memcmp(small, want, need) == 0);
}
END_TEST

/*
 * rewrite_is_hop_by_hop() on the fields of one head: which field (by
 * index) and whether it must go.
 */
static const char hop_head[] =
    "GET http://h/ HTTP/1.1\r\n"
    "Host: h\r\n"				/* 0 */
    "Connection: close, Foo, host, Content-Length\r\n"	/* 1 */
    "Foo: 1\r\n"				/* 2 */
    "Foobar: 2\r\n"				/* 3 */
    "FOO: 3\r\n"				/* 4 */
    "Keep-Alive: 1\r\n"				/* 5 */
    "Proxy-Connection: x\r\n"			/* 6 */
    "Proxy-Authorization: x\r\n"		/* 7 */
    "TE: trailers\r\n"				/* 8 */
    "Trailer: x\r\n"				/* 9 */
    "Upgrade: x\r\n"				/* 10 */
    "Content-Length: 0\r\n"			/* 11 */
    "Fo: 4\r\n"					/* 12 */
    "Close: 5\r\n"				/* 13 */
    "Proxy-Authenticate-Not: 6\r\n"		/* 14 */
    "\r\n";

static const struct {
	size_t	index;
	bool	hop;
} hop_cases[] = {
	{ 0, false }, { 1, true }, { 2, true }, { 3, false }, { 4, true },
	{ 5, true }, { 6, true }, { 7, true }, { 8, true }, { 9, true },
	{ 10, true }, { 11, false }, { 12, false }, { 13, true },
	{ 14, false },
};

START_TEST(test_hop_by_hop)
{
	struct http_request r;

	parse_req(hop_head, &r);
	ck_assert_uint_eq(r.nfields, 15);
	ck_assert_msg(rewrite_is_hop_by_hop(&r.fields[hop_cases[_i].index],
	    r.fields, r.nfields) == hop_cases[_i].hop, "field %.*s",
	    (int)r.fields[hop_cases[_i].index].name_len,
	    r.fields[hop_cases[_i].index].name);
}
END_TEST

/* Responses: options, the dechunk flag, the input and the whole output. */
static const struct {
	struct opts	 o;
	bool		 dechunk;
	const char	*in;
	const char	*out;
} response_cases[] = {
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
	    "X-Internal: 1\r\nServer: o\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: o\r\n" TAIL11 },
	/*
	 * A Content-Length goes on once, where it first stood, as a plain
	 * number (RFC 9110 §8.6: "5, 5" may not be forwarded).
	 */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nServer: o\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: o\r\n" TAIL11 },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nServer: o\r\ncontent-length:  7\r\n"
	    "X: y\r\nContent-Length: 7\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nServer: o\r\nContent-Length: 7\r\nX: y\r\n"
	    TAIL11 },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9, 9\r\n\r\n",
	    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n" TAIL11 },
	/* ferry speaks HTTP/1.1 itself; Via records the origin's version. */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.0 404 Not Found\r\n\r\n",
	    "HTTP/1.1 404 Not Found\r\nVia: 1.0 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	{ { true, false, { NULL } }, false, "HTTP/1.1 204\r\n\r\n",
	    "HTTP/1.1 204 \r\n" TAIL11 },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
	    "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n" TAIL11 },
	/* The reason phrase is kept as sent. */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 599 Odd  Reason\t Here\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 599 Odd  Reason\t Here\r\nContent-Length: 0\r\n" TAIL11 },
	/* Hop-by-hop in any case; repeated end-to-end fields stay in order. */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nPROXY-CONNECTION: x\r\n"
	    "upgrade: h2c\r\nte: x\r\ntrailer: y\r\nSet-Cookie: b=2\r\n"
	    "Content-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
	    "Content-Length: 0\r\n" TAIL11 },
	/* An origin's Via is kept and ferry's follows it. */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nVia: 1.1 cdn\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nVia: 1.1 cdn\r\nContent-Length: 0\r\n"
	    TAIL11 },
	{ { false, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nVia: 1.1 cdn\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nVia: 1.1 cdn\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n" },
	/* Connection cannot remove the framing of a response either. */
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\n"
	    "Content-Length: 4\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n" TAIL11 },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" TAIL11 },
	/* The strip list and X-Forwarded-For are for requests only. */
	{ { true, true, { "Server", "Set-Cookie", NULL } }, false,
	    "HTTP/1.1 200 OK\r\nServer: o\r\nSet-Cookie: s\r\n"
	    "Content-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nServer: o\r\nSet-Cookie: s\r\n"
	    "Content-Length: 0\r\n" TAIL11 },
	/* Dechunking: no Transfer-Encoding, the close ends the body. */
	{ { true, false, { NULL } }, true,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: 1\r\n" TAIL11 },
	{ { true, false, { NULL } }, true,
	    "HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n"
	    "Connection: keep-alive\r\nX: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: 1\r\n" TAIL11 },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" TAIL11 },
	/*
	 * For an HTTP/1.0 client Transfer-Encoding goes from a head without
	 * a body too (RFC 9112 §6.1): there is nothing for it to describe.
	 */
	{ { true, false, { NULL } }, true,
	    "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n"
	    "ETag: \"x\"\r\n\r\n",
	    "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n" TAIL11 },
	/* Dechunk leaves a length-framed head alone. */
	{ { true, false, { NULL } }, true,
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" TAIL11 },
	/* An interim (1xx) response is not the end: no Connection field. */
	{ { true, false, { NULL } }, false, "HTTP/1.1 100 Continue\r\n\r\n",
	    "HTTP/1.1 100 Continue\r\nVia: 1.1 ferry\r\n\r\n" },
	{ { true, false, { NULL } }, false,
	    "HTTP/1.1 100 Continue\r\nConnection: keep-alive\r\n\r\n",
	    "HTTP/1.1 100 Continue\r\nVia: 1.1 ferry\r\n\r\n" },
	{ { false, false, { NULL } }, false,
	    "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n",
	    "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n" },
};

START_TEST(test_response)
{
	cfg_set(&response_cases[_i].o);
	ck_assert_str_eq(resp(response_cases[_i].in,
	    response_cases[_i].dechunk), response_cases[_i].out);
}
END_TEST

/* What the client is told about its connection, whatever the origin said. */
static const struct {
	const char	*connection;
	const char	*in;
	const char	*out;
} persist_cases[] = {
	/* HTTP/1.1 client kept: nothing to say, persistence is the default. */
	{ NULL, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 ferry\r\n\r\n" },
	/* The origin's close is about the upstream hop, not the client's. */
	{ NULL, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 ferry\r\n\r\n" },
	/* HTTP/1.0 client kept: it must be told (RFC 9112 §C.2.2). */
	{ "keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nVia: 1.0 ferry\r\n"
	    "Connection: keep-alive\r\n\r\n" },
	{ "close", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n" TAIL11 },
	/* TE overrides CL: the length is dropped (RFC 9112 §6.3 rule 3). */
	{ NULL, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\ncontent-length: 5\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Via: 1.1 ferry\r\n\r\n" },
};

START_TEST(test_response_persist)
{
	struct http_response r;
	size_t len = 0;

	cfg_set(&defaults);
	parse_resp(persist_cases[_i].in, &r);
	ck_assert_int_eq(rewrite_response(&r, &cfg, false,
	    persist_cases[_i].connection, out, sizeof(out) - 1, &len), 0);
	out[len] = '\0';
	ck_assert_str_eq(out, persist_cases[_i].out);
}
END_TEST

/*
 * The CONNECT ferry sends an HTTP parent: Host, the client's Via chain
 * and ferry's own (so that two ferries that are each other's parent see
 * the loop), the parent's credentials; no other field of the client's.
 */
static const struct {
	struct opts	 o;
	const char	*in;
	const char	*auth;
	const char	*out;
} connect_cases[] = {
	{ { true, false, { NULL } },
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nUser-Agent: c\r\n\r\n",
	    "",
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nVia: 1.1 ferry\r\n\r\n" },
	{ { true, false, { NULL } },
	    "CONNECT [::1]:8443 HTTP/1.0\r\nVia: 1.1 a, 1.0 b\r\n"
	    "Proxy-Authorization: Basic Y2xpZW50\r\nVia: 1.1 c\r\n\r\n",
	    "Basic cGFyZW50",
	    "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
	    "Via: 1.1 a, 1.0 b\r\nVia: 1.1 c\r\nVia: 1.1 ferry\r\n"
	    "Proxy-Authorization: Basic cGFyZW50\r\n\r\n" },
	/* A Via named by Connection or [headers] strip is left out. */
	{ { true, false, { NULL } },
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nConnection: via\r\n"
	    "Via: 1.1 a\r\n\r\n", "",
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nVia: 1.1 ferry\r\n\r\n" },
	{ { true, false, { "Via", NULL } },
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nVia: 1.1 a\r\n\r\n", "",
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nVia: 1.1 ferry\r\n\r\n" },
	/* via = no: no Via at all. */
	{ { false, false, { NULL } },
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nVia: 1.1 a\r\n\r\n",
	    "Basic cGFyZW50",
	    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"
	    "Proxy-Authorization: Basic cGFyZW50\r\n\r\n" },
};

START_TEST(test_connect)
{
	struct http_request r;
	char small[1024];
	size_t len = 0, need, cap;

	cfg_set(&connect_cases[_i].o);
	parse_req(connect_cases[_i].in, &r);
	ck_assert_int_eq(rewrite_connect(&r.uri, r.fields, r.nfields, &cfg,
	    connect_cases[_i].auth, out, sizeof(out) - 1, &len), 0);
	out[len] = '\0';
	ck_assert_str_eq(out, connect_cases[_i].out);
	/* Below the size it needs, it fails inside the buffer. */
	need = len;
	for (cap = 0; cap < need; cap++) {
		memset(small, 'Z', sizeof(small));
		ck_assert_int_eq(rewrite_connect(&r.uri, r.fields, r.nfields,
		    &cfg, connect_cases[_i].auth, small, cap, &len), -1);
		ck_assert_uint_le(len, cap);
		ck_assert_msg(small[cap] == 'Z', "wrote past %zu", cap);
	}
}
END_TEST

Suite *
rewrite_suite(void)
{
	Suite *s = suite_create("rewrite");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_request, 0, NELEM(request_cases));
	tcase_add_loop_test(tc, test_request_options, 0, NELEM(option_cases));
	tcase_add_loop_test(tc, test_request_overflow, 0,
	    NELEM(overflow_heads));
	tcase_add_loop_test(tc, test_response_overflow, 0,
	    NELEM(response_overflow_heads));
	tcase_add_loop_test(tc, test_hop_by_hop, 0, NELEM(hop_cases));
	tcase_add_loop_test(tc, test_connect, 0, NELEM(connect_cases));
	tcase_add_loop_test(tc, test_response, 0, NELEM(response_cases));
	tcase_add_loop_test(tc, test_response_persist, 0,
	    NELEM(persist_cases));
	suite_add_tcase(s, tc);
	return s;
}
