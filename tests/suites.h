/*
 * suites.h: the unit-test suites, one per module; check_main.c runs them
 * all in one Check runner.
 */
#ifndef FERRY_TEST_SUITES_H
#define FERRY_TEST_SUITES_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Entries in a static table, as the int Check's loop tests take. */
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Assert that span [p, p+n) equals the NUL-terminated want. */
static inline void
assert_span(const char *what, const char *in, const char *p, size_t n,
    const char *want)
{
	ck_assert_msg(n == strlen(want) && (n == 0 || memcmp(p, want, n) == 0),
	    "%s: %s is \"%.*s\", want \"%s\"", in, what, (int)n,
	    p != NULL ? p : "", want);
}

Suite *access_suite(void);
Suite *acl_suite(void);
Suite *addr_suite(void);
Suite *authcache_suite(void);
Suite *chunked_suite(void);
Suite *config_suite(void);
Suite *cred_suite(void);
Suite *conn_suite(void);
Suite *dest_suite(void);
Suite *errpage_suite(void);
Suite *policy_suite(void);
Suite *http_suite(void);
Suite *httpdate_suite(void);
Suite *loopguard_suite(void);
Suite *maxfwd_suite(void);
Suite *metrics_suite(void);
Suite *park_suite(void);
Suite *pool_suite(void);
Suite *proxyproto_suite(void);
Suite *splice_suite(void);
Suite *rewrite_suite(void);
Suite *route_suite(void);
Suite *socks5_suite(void);
Suite *reuse_suite(void);
Suite *uri_suite(void);
Suite *users_suite(void);

/* ss from an address text and a port. */
static inline void
sockaddr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1,
	    "bad test address %s", ip);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
}

#endif
