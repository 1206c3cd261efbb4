/*
 * check_loopguard.c: unit tests for forwarding-loop detection (loopguard.c): which
 * Via fields name ferry as a hop, and which origin addresses are ferry's
 * own listening socket for specific and wildcard listeners.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loopguard.h"
#include "suites.h"

static const struct {
	const char	*value;
	bool		 seen;
} via_cases[] = {
	{ "1.1 ferry", true },
	{ "1.0 ferry", true },
	{ "HTTP/1.1 FERRY", true },
	{ "1.1 squid, 1.1 ferry", true },
	{ "1.1 ferry (comment)", true },
	{ "  1.1\tferry  ", true },
	{ "1.1 a (x, 1.1 y), 1.1 ferry", true },
	{ "1.1 squid", false },
	{ "1.1 ferryboat", false },
	{ "1.1 proxy (ferry)", false },
	{ "1.1 a (1.1 ferry, x)", false },
	{ "ferry", false },
	{ "1.1 ferry.example.com", false },
	{ "", false },
};

START_TEST(test_via)
{
	struct http_field f[2] = {
		{ "Host", 4, "h", 1 },
		{ "Via", 3, via_cases[_i].value, strlen(via_cases[_i].value) },
	};

	ck_assert_msg(loopguard_via_seen(f, 2, "ferry") == via_cases[_i].seen,
	    "Via: %s", via_cases[_i].value);
	ck_assert(!loopguard_via_seen(f, 1, "ferry"));
}
END_TEST

/*
 * Each instance of a chain looks for its own name only (via_name): the
 * hop of another ferry is forwarded, its own is a loop.
 */
START_TEST(test_via_own_name_only)
{
	static const char v[] = "1.1 edge.example, 1.1 parent-2";
	struct http_field f = { "Via", 3, v, sizeof(v) - 1 };

	ck_assert(!loopguard_via_seen(&f, 1, "ferry"));
	ck_assert(!loopguard_via_seen(&f, 1, "edge"));
	ck_assert(!loopguard_via_seen(&f, 1, "parent"));
	ck_assert(loopguard_via_seen(&f, 1, "EDGE.example"));
	ck_assert(loopguard_via_seen(&f, 1, "parent-2"));
}
END_TEST

/* A field named otherwise is not Via, whatever it says. */
START_TEST(test_via_other_field)
{
	struct http_field f = { "X-Via", 5, "1.1 ferry", 9 };

	ck_assert(!loopguard_via_seen(&f, 1, "ferry"));
}
END_TEST

/* Fill ss with text:port (IPv4 or IPv6 text). */
static void
addr(struct sockaddr_storage *ss, const char *text, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
}

static const struct {
	const char	*listen;
	const char	*to;
	unsigned	 port;
	bool		 self;
} self_cases[] = {
	/* A specific listener: only its own address and port. */
	{ "127.0.0.1", "127.0.0.1", 3128, true },
	{ "127.0.0.1", "127.0.0.1", 3129, false },
	{ "127.0.0.1", "127.0.0.2", 3128, false },
	{ "127.0.0.1", "0.0.0.0", 3128, true },
	{ "127.0.0.1", "::ffff:127.0.0.1", 3128, true },
	{ "127.0.0.1", "::1", 3128, false },
	{ "127.0.0.5", "0.0.0.0", 3128, false },
	{ "192.0.2.1", "192.0.2.1", 3128, true },
	{ "::1", "::1", 3128, true },
	{ "::1", "::", 3128, true },
	{ "::1", "127.0.0.1", 3128, false },
	/* Wildcards: any address of this host on that port. */
	{ "0.0.0.0", "127.0.0.1", 3128, true },
	{ "0.0.0.0", "127.9.9.9", 3128, true },
	{ "0.0.0.0", "0.0.0.0", 3128, true },
	{ "0.0.0.0", "::1", 3128, false },
	{ "0.0.0.0", "192.0.2.77", 3128, false },
	{ "0.0.0.0", "127.0.0.1", 80, false },
	{ "::", "::1", 3128, true },
	{ "::", "127.0.0.1", 3128, true },
	{ "::", "2001:db8::77", 3128, false },
};

START_TEST(test_self)
{
	struct ferry_config cfg;
	struct sockaddr_storage to;

	memset(&cfg, 0, sizeof(cfg));
	addr(&cfg.listens[0].addr, self_cases[_i].listen, 3128);
	cfg.nlistens = 1;
	addr(&to, self_cases[_i].to, self_cases[_i].port);
	ck_assert_msg(loopguard_is_self((struct sockaddr *)&to, &cfg) ==
	    self_cases[_i].self, "listen %s:3128, to %s:%u",
	    self_cases[_i].listen, self_cases[_i].to, self_cases[_i].port);
}
END_TEST

Suite *
loopguard_suite(void)
{
	Suite *s = suite_create("loopguard");
	TCase *tc = tcase_create("loop");

	tcase_add_loop_test(tc, test_via, 0, NELEM(via_cases));
	tcase_add_test(tc, test_via_other_field);
	tcase_add_test(tc, test_via_own_name_only);
	tcase_add_loop_test(tc, test_self, 0, NELEM(self_cases));
	suite_add_tcase(s, tc);
	return s;
}
