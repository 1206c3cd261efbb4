/*
 * suites.h: the unit-test suites, one per module; check_main.c runs them
 * all in one Check runner.
 */
#ifndef FERRY_TEST_SUITES_H
#define FERRY_TEST_SUITES_H

#include <check.h>

Suite *access_suite(void);
Suite *acl_suite(void);
Suite *chunked_suite(void);
Suite *config_suite(void);
Suite *errpage_suite(void);
Suite *http_suite(void);
Suite *rewrite_suite(void);
Suite *uri_suite(void);

#endif
