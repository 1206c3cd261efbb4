/*
 * check_rewrite.c: the heads ferry forwards (rewrite.c).
 *
 * Each case parses a real head with http.c, rewrites it and checks the
 * bytes that would go on the wire: the request line in origin-form, Host
 * from the URL, hop-by-hop fields gone, Via and X-Forwarded-For as
 * configured, every other field kept as it came, in order.
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

/* The defaults: Via on, X-Forwarded-For off, nothing stripped. */
static void
cfg_defaults(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.via = true;
}

/* Parse head as a request and rewrite it; returns the output text. */
static const char *
req(const char *head)
{
	struct http_request r;
	size_t len = 0;

	ck_assert_msg(http_parse_request(head, strlen(head), &limits, fields,
	    &r) == HTTP_DONE, "%s: %s", head, r.error);
	ck_assert_int_eq(rewrite_request(&r, &cfg, "192.0.2.7", out,
	    sizeof(out) - 1, &len), 0);
	out[len] = '\0';
	return out;
}

/* Parse head as a response and rewrite it. */
static const char *
resp(const char *head, bool dechunk)
{
	struct http_response r;
	size_t len = 0;

	ck_assert_msg(http_parse_response(head, strlen(head), &limits, fields,
	    false, &r) == HTTP_DONE, "%s: %s", head, r.error);
	ck_assert_int_eq(rewrite_response(&r, &cfg, dechunk, out,
	    sizeof(out) - 1, &len), 0);
	out[len] = '\0';
	return out;
}

/* Whole-output expectations with the default config. */
static const struct {
	const char	*in;
	const char	*out;
} request_cases[] = {
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	/* "http://h" has no path: origin-form needs "/" (RFC 9112 §3.2.1). */
	{ "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	{ "GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET /?q=1 HTTP/1.1\r\nHost: h\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	/* OPTIONS to the server itself becomes "*" (RFC 9112 §3.2.4). */
	{ "OPTIONS http://h:81 HTTP/1.1\r\nHost: h:81\r\n\r\n",
	    "OPTIONS * HTTP/1.1\r\nHost: h:81\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	{ "OPTIONS http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
	    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	/* The Host field always comes from the URL. */
	{ "GET http://real.example:8080/p?a=b HTTP/1.1\r\n"
	    "Host: other.example\r\nAccept: */*\r\n\r\n",
	    "GET /p?a=b HTTP/1.1\r\nHost: real.example:8080\r\n"
	    "Accept: */*\r\nVia: 1.1 ferry\r\nConnection: close\r\n\r\n" },
	/* HTTP/1.0 without Host; Via names the version received. */
	{ "GET http://[::1]:81/ HTTP/1.0\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: [::1]:81\r\nVia: 1.0 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	/* Every hop-by-hop field goes, in any case; the rest stay in order. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nA: 1\r\n"
	    "connection: keep-alive, X-Hop\r\nKEEP-ALIVE: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\n"
	    "TE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
	    "x-hop: gone\r\nB:  2 \r\nX-Hopper: stays\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nX-Hopper: stays\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n" },
	/* Connection may not remove the routing and framing fields. */
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Connection: Host, Content-Length, Transfer-Encoding, Connection\r\n"
	    "Content-Length: 3\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n" },
	{ "POST http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Connection: transfer-encoding\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n" },
	/* Duplicate identical lengths go on as one normalized field. */
	{ "PUT http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n"
	    "Content-Length: 5\r\n\r\n",
	    "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n" },
	/* An existing Via is kept; ferry adds its own hop after it. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 other\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 other\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n" },
	/* Values keep their bytes, including obs-text. */
	{ "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \"q\"\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \"q\"\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n" },
};

START_TEST(test_request)
{
	cfg_defaults();
	ck_assert_str_eq(req(request_cases[_i].in), request_cases[_i].out);
}
END_TEST

START_TEST(test_request_options)
{
	cfg_defaults();
	cfg.via = false;
	cfg.forwarded_for = true;
	strcpy(cfg.strip[0], "User-Agent");
	strcpy(cfg.strip[1], "referer");
	cfg.nstrip = 2;
	ck_assert_str_eq(req("GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "user-agent: x\r\nReferer: y\r\nCookie: z\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n\r\n"),
	    "GET / HTTP/1.1\r\nHost: h\r\nCookie: z\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 192.0.2.7\r\n"
	    "Connection: close\r\n\r\n");
}
END_TEST

/* The output never runs past the buffer: too small is an error. */
START_TEST(test_request_overflow)
{
	const char *head = "GET http://h/ HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n";
	struct http_request r;
	char small[80];
	size_t len = 0, cap;

	cfg_defaults();
	ck_assert(http_parse_request(head, strlen(head), &limits, fields,
	    &r) == HTTP_DONE);
	for (cap = 0; cap < sizeof(small); cap++) {
		memset(small, 'Z', sizeof(small));
		if (rewrite_request(&r, &cfg, "1.2.3.4", small, cap, &len) ==
		    0) {
			ck_assert_uint_le(len, cap);
			break;
		}
		/* Nothing written past cap. */
		ck_assert_msg(cap == sizeof(small) - 1 || small[cap] == 'Z',
		    "wrote past %zu", cap);
	}
	ck_assert_uint_eq(len, strlen("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n"));
}
END_TEST

START_TEST(test_hop_by_hop)
{
	const char *head = "GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "Connection: close, Foo\r\nFoo: 1\r\nFoobar: 2\r\n\r\n";
	struct http_request r;

	ck_assert(http_parse_request(head, strlen(head), &limits, fields,
	    &r) == HTTP_DONE);
	ck_assert(rewrite_is_hop_by_hop(&r.fields[1], r.fields, r.nfields));
	ck_assert(rewrite_is_hop_by_hop(&r.fields[2], r.fields, r.nfields));
	ck_assert(!rewrite_is_hop_by_hop(&r.fields[3], r.fields, r.nfields));
	ck_assert(!rewrite_is_hop_by_hop(&r.fields[0], r.fields, r.nfields));
}
END_TEST

START_TEST(test_response)
{
	cfg_defaults();
	ck_assert_str_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
	    "X-Internal: 1\r\nServer: o\r\n\r\n", false),
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: o\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n");
	/* ferry speaks HTTP/1.1 itself; Via records the origin's version. */
	ck_assert_str_eq(resp("HTTP/1.0 404 Not Found\r\n\r\n", false),
	    "HTTP/1.1 404 Not Found\r\nVia: 1.0 ferry\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_str_eq(resp("HTTP/1.1 204\r\n\r\n", false),
	    "HTTP/1.1 204 \r\nVia: 1.1 ferry\r\nConnection: close\r\n\r\n");
}
END_TEST

/* An interim response is not the end: no Connection: close on it. */
START_TEST(test_response_interim)
{
	cfg_defaults();
	ck_assert_str_eq(resp("HTTP/1.1 100 Continue\r\n\r\n", false),
	    "HTTP/1.1 100 Continue\r\nVia: 1.1 ferry\r\n\r\n");
	cfg.via = false;
	ck_assert_str_eq(resp("HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n",
	    false), "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n");
}
END_TEST

/* For an HTTP/1.0 client the chunked body is sent decoded, until close. */
START_TEST(test_response_dechunk)
{
	cfg_defaults();
	ck_assert_str_eq(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\nX: 1\r\n\r\n", true),
	    "HTTP/1.1 200 OK\r\nX: 1\r\nVia: 1.1 ferry\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_str_eq(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false),
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Via: 1.1 ferry\r\nConnection: close\r\n\r\n");
}
END_TEST

Suite *
rewrite_suite(void)
{
	Suite *s = suite_create("rewrite");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_request, 0,
	    (int)(sizeof(request_cases) / sizeof(request_cases[0])));
	tcase_add_test(tc, test_request_options);
	tcase_add_test(tc, test_request_overflow);
	tcase_add_test(tc, test_hop_by_hop);
	tcase_add_test(tc, test_response);
	tcase_add_test(tc, test_response_interim);
	tcase_add_test(tc, test_response_dechunk);
	suite_add_tcase(s, tc);
	return s;
}
