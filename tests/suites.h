/*
 * suites.h: the unit-test suites, one per module; check_main.c runs them
 * all in one Check runner.
 */
#ifndef FERRY_TEST_SUITES_H
#define FERRY_TEST_SUITES_H

#include <check.h>
#include <string.h>

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
Suite *chunked_suite(void);
Suite *config_suite(void);
Suite *cred_suite(void);
Suite *conn_suite(void);
Suite *dest_suite(void);
Suite *errpage_suite(void);
Suite *http_suite(void);
Suite *httpdate_suite(void);
Suite *loopguard_suite(void);
Suite *maxfwd_suite(void);
Suite *park_suite(void);
Suite *pool_suite(void);
Suite *splice_suite(void);
Suite *rewrite_suite(void);
Suite *reuse_suite(void);
Suite *uri_suite(void);
Suite *users_suite(void);

#endif
