/*
 * check_metrics.c: the counters and their exposition (metrics.c).
 *
 * Each test starts from metrics_reset(). The exposition is checked line
 * by line: exact lines for a few counters and labels, histogram buckets
 * (le is "less than or equal", counts are cumulative, _count equals the
 * +Inf bucket, _sum is in seconds), the gauges callback, every family with
 * its # HELP and # TYPE, a buffer too small at every length giving 0, and
 * counts from several threads at once adding up exactly.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "suites.h"

#define BIG	(256 * 1024)

static char text[BIG];

static void
scrape(void)
{
	size_t n = metrics_format(text, sizeof(text));

	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(strlen(text), n);
}

/* Assert that the exposition holds line (whole, without its newline). */
static void
has_line(const char *line)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s\n", line);
	p = strstr(text, want);
	ck_assert_msg(p != NULL || (strncmp(text, line, strlen(line)) == 0 &&
	    text[strlen(line)] == '\n'), "no line \"%s\" in:\n%s", line,
	    text);
}

START_TEST(test_method_of)
{
	static const struct {
		const char		*name;
		enum metrics_method	 want;
	} cases[] = {
		{ "GET", METRICS_GET }, { "HEAD", METRICS_HEAD },
		{ "POST", METRICS_POST }, { "PUT", METRICS_PUT },
		{ "DELETE", METRICS_DELETE }, { "OPTIONS", METRICS_OPTIONS },
		{ "CONNECT", METRICS_CONNECT }, { "get", METRICS_OTHER },
		{ "GETS", METRICS_OTHER }, { "GE", METRICS_OTHER },
		{ "", METRICS_OTHER }, { "PATCH", METRICS_OTHER },
		{ "TRACE", METRICS_OTHER },
	};
	int i;

	for (i = 0; i < NELEM(cases); i++)
		ck_assert_msg(metrics_method_of(cases[i].name,
		    strlen(cases[i].name)) == cases[i].want, "%s",
		    cases[i].name);
	/* The length bounds the name: "GETX" cut at 3 is GET. */
	ck_assert(metrics_method_of("GETX", 3) == METRICS_GET);
}
END_TEST

START_TEST(test_requests_labels)
{
	metrics_reset();
	metrics_request(METRICS_GET, 200, 1000);
	metrics_request(METRICS_GET, 204, 1000);
	metrics_request(METRICS_CONNECT, 502, 1000);
	metrics_request(METRICS_POST, 0, 1000);
	metrics_request(METRICS_PUT, 600, 1000);
	metrics_request(METRICS_DELETE, 99, 1000);
	metrics_request(METRICS_OPTIONS, 101, 1000);
	metrics_request(METRICS_HEAD, 599, 1000);
	metrics_request(METRICS_OTHER, 404, 1000);
	metrics_request((enum metrics_method)99, 302, 1000);
	scrape();
	has_line("# TYPE ferry_requests_total counter");
	has_line("ferry_requests_total{method=\"get\",status=\"2xx\"} 2");
	has_line("ferry_requests_total{method=\"get\",status=\"1xx\"} 0");
	has_line("ferry_requests_total{method=\"connect\",status=\"5xx\"} 1");
	has_line("ferry_requests_total{method=\"post\",status=\"none\"} 1");
	has_line("ferry_requests_total{method=\"put\",status=\"none\"} 1");
	has_line("ferry_requests_total{method=\"delete\",status=\"none\"} 1");
	has_line("ferry_requests_total{method=\"options\",status=\"1xx\"} 1");
	has_line("ferry_requests_total{method=\"head\",status=\"5xx\"} 1");
	has_line("ferry_requests_total{method=\"other\",status=\"4xx\"} 1");
	has_line("ferry_requests_total{method=\"other\",status=\"3xx\"} 1");
}
END_TEST

START_TEST(test_counters)
{
	metrics_reset();
	metrics_add(METRICS_TUNNELS, 1);
	metrics_add(METRICS_CLIENT_IN, 100);
	metrics_add(METRICS_CLIENT_IN, 23);
	metrics_add(METRICS_CLIENT_OUT, 7);
	metrics_add(METRICS_UPSTREAM_OUT, 8);
	metrics_add(METRICS_UPSTREAM_IN, 9);
	metrics_add(METRICS_UPSTREAM_REUSES, 2);
	metrics_add((enum metrics_counter)99, 5);	/* ignored */
	metrics_refused(METRICS_REFUSED_CLIENT);
	metrics_refused(METRICS_REFUSED_OVERLOAD);
	metrics_refused(METRICS_REFUSED_OVERLOAD);
	metrics_upstream(METRICS_CONNECT_OK);
	metrics_upstream(METRICS_CONNECT_DNS);
	metrics_reload(true);
	metrics_reload(false);
	metrics_reload(true);
	scrape();
	has_line("# HELP ferry_connect_tunnels_total CONNECT tunnels opened.");
	has_line("# TYPE ferry_connect_tunnels_total counter");
	has_line("ferry_connect_tunnels_total 1");
	has_line("ferry_client_received_bytes_total 123");
	has_line("ferry_client_sent_bytes_total 7");
	has_line("ferry_upstream_sent_bytes_total 8");
	has_line("ferry_upstream_received_bytes_total 9");
	has_line("ferry_upstream_reuses_total 2");
	has_line("ferry_refusals_total{reason=\"client\"} 1");
	has_line("ferry_refusals_total{reason=\"credentials\"} 0");
	has_line("ferry_refusals_total{reason=\"connect_port\"} 0");
	has_line("ferry_refusals_total{reason=\"overload\"} 2");
	has_line("ferry_upstream_connects_total{result=\"ok\"} 1");
	has_line("ferry_upstream_connects_total{result=\"dns\"} 1");
	has_line("ferry_upstream_connects_total{result=\"loop\"} 0");
	has_line("ferry_reloads_total{result=\"ok\"} 2");
	has_line("ferry_reloads_total{result=\"failed\"} 1");
	has_line("ferry_build_info{version=\"" PACKAGE_VERSION "\"} 1");
}
END_TEST

START_TEST(test_histogram)
{
	metrics_reset();
	metrics_request(METRICS_GET, 200, 0);		/* 0.005 */
	metrics_request(METRICS_GET, 200, 5000);	/* 0.005: le */
	metrics_request(METRICS_GET, 200, 5001);	/* 0.01 */
	metrics_request(METRICS_GET, 200, 1000000);	/* 1 */
	metrics_request(METRICS_GET, 200, 60000000);	/* 60 */
	metrics_request(METRICS_GET, 200, 60000001);	/* +Inf */
	scrape();
	has_line("# TYPE ferry_request_duration_seconds histogram");
	has_line("ferry_request_duration_seconds_bucket{le=\"0.005\"} 2");
	has_line("ferry_request_duration_seconds_bucket{le=\"0.01\"} 3");
	has_line("ferry_request_duration_seconds_bucket{le=\"0.5\"} 3");
	has_line("ferry_request_duration_seconds_bucket{le=\"1\"} 4");
	has_line("ferry_request_duration_seconds_bucket{le=\"30\"} 4");
	has_line("ferry_request_duration_seconds_bucket{le=\"60\"} 5");
	has_line("ferry_request_duration_seconds_bucket{le=\"+Inf\"} 6");
	has_line("ferry_request_duration_seconds_count 6");
	/* 0 + 5000 + 5001 + 1000000 + 60000000 + 60000001 us */
	has_line("ferry_request_duration_seconds_sum 121.010002");
}
END_TEST

static void
fake_gauges(void *arg, struct metrics_gauges *g)
{
	ck_assert_ptr_eq(arg, text);
	g->clients = 5;
	g->parked = 2;
	g->queued = 1;
	g->busy = 2;
	g->pooled = 3;
	g->parents_up = 4;
	g->parents_down = 1;
}

START_TEST(test_gauges)
{
	metrics_set_gauges(NULL, NULL);
	scrape();
	has_line("ferry_busy_workers 0");
	metrics_set_gauges(fake_gauges, text);
	scrape();
	metrics_set_gauges(NULL, NULL);
	has_line("# TYPE ferry_client_connections gauge");
	has_line("ferry_client_connections 5");
	has_line("ferry_parked_connections 2");
	has_line("ferry_queued_jobs 1");
	has_line("ferry_busy_workers 2");
	has_line("ferry_upstream_idle_connections 3");
	has_line("ferry_parent_addresses{state=\"up\"} 4");
	has_line("ferry_parent_addresses{state=\"down\"} 1");
}
END_TEST

/* Every sample's family has # HELP and # TYPE before it; names are sane. */
START_TEST(test_every_family_declared)
{
	char *copy, *line, *save = NULL, family[128], seen[8192] = " ";
	size_t n;

	metrics_init();
	scrape();
	has_line("# TYPE process_start_time_seconds gauge");
	has_line("# TYPE process_resident_memory_bytes gauge");
	has_line("# TYPE process_open_fds gauge");
	ck_assert_ptr_null(strstr(text, "process_resident_memory_bytes 0\n"));
	ck_assert_ptr_null(strstr(text, "process_open_fds 0\n"));
	ck_assert_ptr_null(strstr(text, "process_start_time_seconds 0."));
	copy = strdup(text);
	ck_assert_ptr_nonnull(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strcspn(line + 7, " ");
			snprintf(family, sizeof(family), "%.*s ", (int)n,
			    line + 7);
			ck_assert_uint_lt(strlen(seen) + strlen(family),
			    sizeof(seen));
			strcat(seen, family);
			continue;
		}
		if (line[0] == '#')
			continue;
		n = strcspn(line, "{ ");
		/* A histogram's samples carry a suffix on the family. */
		snprintf(family, sizeof(family), " %.*s ", (int)n, line);
		if (strstr(seen, family) == NULL) {
			char *us = strrchr(family, '_');

			ck_assert_ptr_nonnull(us);
			strcpy(us, " ");
		}
		ck_assert_msg(strstr(seen, family) != NULL,
		    "undeclared: %s", line);
	}
	free(copy);
	ck_assert_uint_eq(text[strlen(text) - 1], '\n');
}
END_TEST

/*
 * Too small at any length: 0, never a cut text, never past cap. The
 * process gauges (memory, fds) may change between two scrapes, so the
 * exact fit is tried a few times and compared up to them.
 */
START_TEST(test_small_buffer)
{
	static char small[BIG];
	size_t need = 0, cap, got = 0, same;
	int tries;

	metrics_reset();
	scrape();
	need = strlen(text);
	ck_assert_uint_eq(metrics_format(small, 0), 0);
	for (cap = 1; cap + 100 <= need; cap += cap < 64 ? 1 : 97) {
		memset(small, 'x', sizeof(small));
		ck_assert_uint_eq(metrics_format(small, cap), 0);
		ck_assert_int_eq(small[cap], 'x');
	}
	for (tries = 0; tries < 5 && got == 0; tries++) {
		scrape();
		need = strlen(text);
		ck_assert_uint_eq(metrics_format(small, need), 0);
		got = metrics_format(small, need + 1);
	}
	ck_assert_uint_gt(got, 0);
	same = (size_t)(strstr(text, "# HELP process_resident") - text);
	ck_assert(memcmp(small, text, same) == 0);
}
END_TEST

#define THREADS	8
#define ROUNDS	20000

static void *
hammer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		metrics_request(METRICS_GET, 200, 7);
		metrics_add(METRICS_CLIENT_OUT, 3);
		metrics_refused(METRICS_REFUSED_DESTINATION);
		metrics_upstream(METRICS_CONNECT_TIMEOUT);
	}
	return NULL;
}

START_TEST(test_threads_add_up)
{
	pthread_t t[THREADS];
	char line[160];
	int i;

	metrics_reset();
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	/* Scrapes while counting go on: they must not disturb anything. */
	for (i = 0; i < 10; i++)
		ck_assert_uint_gt(metrics_format(text, sizeof(text)), 0);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	scrape();
	snprintf(line, sizeof(line), "ferry_requests_total{method=\"get\","
	    "status=\"2xx\"} %d", THREADS * ROUNDS);
	has_line(line);
	snprintf(line, sizeof(line), "ferry_client_sent_bytes_total %d",
	    3 * THREADS * ROUNDS);
	has_line(line);
	snprintf(line, sizeof(line), "ferry_refusals_total{reason="
	    "\"destination\"} %d", THREADS * ROUNDS);
	has_line(line);
	snprintf(line, sizeof(line), "ferry_upstream_connects_total{result="
	    "\"timeout\"} %d", THREADS * ROUNDS);
	has_line(line);
	snprintf(line, sizeof(line), "ferry_request_duration_seconds_count "
	    "%d", THREADS * ROUNDS);
	has_line(line);
	snprintf(line, sizeof(line), "ferry_request_duration_seconds_sum "
	    "%d.%06d", 7 * THREADS * ROUNDS / 1000000,
	    7 * THREADS * ROUNDS % 1000000);
	has_line(line);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_method_of);
	tcase_add_test(tc, test_requests_labels);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_gauges);
	tcase_add_test(tc, test_every_family_declared);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_threads_add_up);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
