/*
 * check_main.c: the unit-test runner. Runs every module's suite and exits
 * non-zero if any check failed. Check prints its summary line last.
 */
#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_add_suite(sr, uri_suite());
	srunner_add_suite(sr, chunked_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, dest_suite());
	srunner_add_suite(sr, addr_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, rewrite_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, errpage_suite());
	srunner_add_suite(sr, httpdate_suite());
	srunner_add_suite(sr, access_suite());
	srunner_add_suite(sr, splice_suite());
	srunner_add_suite(sr, reuse_suite());
	srunner_add_suite(sr, loopguard_suite());
	srunner_add_suite(sr, conn_suite());
	srunner_add_suite(sr, maxfwd_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, pool_suite());
	srunner_add_suite(sr, park_suite());
	srunner_add_suite(sr, cred_suite());
	srunner_add_suite(sr, users_suite());
	srunner_add_suite(sr, authcache_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, socks5_suite());
	srunner_add_suite(sr, proxyproto_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
