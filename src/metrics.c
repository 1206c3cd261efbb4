/*
 * metrics.c: the counter registry and its exposition (see metrics.h).
 *
 * Owns one static registry of atomic counters; it never allocates and
 * never locks. Counting is a relaxed fetch_add: a scrape needs no order
 * between counters, only that each one's additions all land.
 *
 * The histogram keeps one count per bucket (not cumulative), so a request
 * touches a single bucket; the scrape sums them up into the cumulative
 * _bucket lines and takes _count from the same sums, so _count always
 * equals the +Inf bucket. The sum is kept in microseconds (an integer that
 * can be atomic) and printed in seconds.
 *
 * Must not use park, pool, reuse or any module above: their gauges come
 * through the callback main.c registers.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "num.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Status classes: 1xx..5xx, then "none" (no answer). */
#define METRICS_NSTATUS	6
/* Buckets: their upper bounds in microseconds, then +Inf. */
#define METRICS_NBUCKETS 14

static const char *const metrics_method_names[METRICS_NMETHODS] = {
	"get", "head", "post", "put", "delete", "options", "connect", "other"
};
static const char *const metrics_status_names[METRICS_NSTATUS] = {
	"1xx", "2xx", "3xx", "4xx", "5xx", "none"
};
static const char *const metrics_refusal_names[METRICS_NREFUSALS] = {
	"client", "credentials", "destination", "connect_port", "internal",
	"overload", "balancer", "proxy_header", "scraper"
};
static const char *const metrics_connect_names[METRICS_NCONNECTS] = {
	"ok", "refused", "timeout", "dns", "loop", "denied"
};
static const uint64_t metrics_bucket_us[METRICS_NBUCKETS - 1] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000, 30000000, 60000000
};
static const char *const metrics_bucket_le[METRICS_NBUCKETS] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
	"5", "10", "30", "60", "+Inf"
};

/* The plain counters' names and help, in enum metrics_counter order. */
static const struct {
	const char	*name;
	const char	*help;
} metrics_counter_info[METRICS_NCOUNTERS] = {
	{ "ferry_connect_tunnels_total", "CONNECT tunnels opened." },
	{ "ferry_client_received_bytes_total",
	    "Bytes received from clients." },
	{ "ferry_client_sent_bytes_total", "Bytes sent to clients." },
	{ "ferry_upstream_sent_bytes_total",
	    "Bytes sent to origins and parent proxies." },
	{ "ferry_upstream_received_bytes_total",
	    "Bytes received from origins and parent proxies." },
	{ "ferry_upstream_reuses_total",
	    "Requests sent on a kept upstream connection." },
};

/* The registry: everything counted, for the life of the process. */
static struct {
	_Atomic uint64_t	requests[METRICS_NMETHODS][METRICS_NSTATUS];
	_Atomic uint64_t	counters[METRICS_NCOUNTERS];
	_Atomic uint64_t	refusals[METRICS_NREFUSALS];
	_Atomic uint64_t	connects[METRICS_NCONNECTS];
	_Atomic uint64_t	reloads[2];		/* ok, failed */
	_Atomic uint64_t	buckets[METRICS_NBUCKETS];
	_Atomic uint64_t	duration_sum_us;
} metrics;

/* Set before any thread starts, then only read. */
static struct timespec metrics_started;
static metrics_gauges_fn metrics_gauges_cb;
static void *metrics_gauges_arg;

static void
metrics_bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
metrics_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_init(void)
{
	(void)clock_gettime(CLOCK_REALTIME, &metrics_started);
}

void
metrics_set_gauges(metrics_gauges_fn fn, void *arg)
{
	metrics_gauges_cb = fn;
	metrics_gauges_arg = arg;
}

enum metrics_method
metrics_method_of(const char *method, size_t len)
{
	static const char *const names[METRICS_OTHER] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT"
	};
	size_t i;

	for (i = 0; i < METRICS_OTHER; i++)
		if (strlen(names[i]) == len && memcmp(names[i], method,
		    len) == 0)
			return (enum metrics_method)i;
	return METRICS_OTHER;
}

void
metrics_request(enum metrics_method m, int status, uint64_t duration_us)
{
	size_t s = status >= 100 && status <= 599 ? (size_t)(status / 100 - 1) :
	    METRICS_NSTATUS - 1;
	size_t b;

	if ((unsigned)m >= METRICS_NMETHODS)
		m = METRICS_OTHER;
	metrics_bump(&metrics.requests[m][s], 1);
	/* Prometheus buckets are "less than or equal" (le). */
	for (b = 0; b < METRICS_NBUCKETS - 1; b++)
		if (duration_us <= metrics_bucket_us[b])
			break;
	metrics_bump(&metrics.buckets[b], 1);
	metrics_bump(&metrics.duration_sum_us, duration_us);
}

void
metrics_add(enum metrics_counter c, uint64_t n)
{
	if ((unsigned)c < METRICS_NCOUNTERS)
		metrics_bump(&metrics.counters[c], n);
}

void
metrics_refused(enum metrics_refusal r)
{
	if ((unsigned)r < METRICS_NREFUSALS)
		metrics_bump(&metrics.refusals[r], 1);
}

void
metrics_upstream(enum metrics_connect r)
{
	if ((unsigned)r < METRICS_NCONNECTS)
		metrics_bump(&metrics.connects[r], 1);
}

void
metrics_reload(bool ok)
{
	metrics_bump(&metrics.reloads[ok ? 0 : 1], 1);
}

/* Zero n counters from c. */
static void
metrics_zero(_Atomic uint64_t *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		atomic_store_explicit(&c[i], 0, memory_order_relaxed);
}

void
metrics_reset(void)
{
	size_t m;

	for (m = 0; m < METRICS_NMETHODS; m++)
		metrics_zero(metrics.requests[m], METRICS_NSTATUS);
	metrics_zero(metrics.counters, METRICS_NCOUNTERS);
	metrics_zero(metrics.refusals, METRICS_NREFUSALS);
	metrics_zero(metrics.connects, METRICS_NCONNECTS);
	metrics_zero(metrics.reloads, 2);
	metrics_zero(metrics.buckets, METRICS_NBUCKETS);
	metrics_zero(&metrics.duration_sum_us, 1);
}

/* --- the exposition --- */

/* An append-only writer over buf[0..cap) that remembers overflow. */
struct metrics_out {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 overflow;
};

static void __attribute__((format(printf, 2, 3)))
metrics_printf(struct metrics_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	/* n == room would leave no byte for the NUL: also too small. */
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

static void
metrics_head(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	metrics_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
metrics_format_requests(struct metrics_out *o)
{
	size_t m, s;

	metrics_head(o, "ferry_requests_total", "counter",
	    "Requests by method class and status class (none: no answer).");
	for (m = 0; m < METRICS_NMETHODS; m++)
		for (s = 0; s < METRICS_NSTATUS; s++)
			metrics_printf(o, "ferry_requests_total{method=\"%s\","
			    "status=\"%s\"} %" PRIu64 "\n",
			    metrics_method_names[m], metrics_status_names[s],
			    metrics_get(&metrics.requests[m][s]));
}

/* One family with one label: name{label="names[i]"} values[i]. */
static void
metrics_format_labelled(struct metrics_out *o, const char *name,
    const char *help, const char *label, const char *const *names,
    _Atomic uint64_t *values, size_t n)
{
	size_t i;

	metrics_head(o, name, "counter", help);
	for (i = 0; i < n; i++)
		metrics_printf(o, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
		    names[i], metrics_get(&values[i]));
}

static void
metrics_format_counters(struct metrics_out *o)
{
	static const char *const reload_names[] = { "ok", "failed" };
	size_t i;

	for (i = 0; i < METRICS_NCOUNTERS; i++) {
		metrics_head(o, metrics_counter_info[i].name, "counter",
		    metrics_counter_info[i].help);
		metrics_printf(o, "%s %" PRIu64 "\n",
		    metrics_counter_info[i].name,
		    metrics_get(&metrics.counters[i]));
	}
	metrics_format_labelled(o, "ferry_refusals_total",
	    "Clients refused, by reason.", "reason", metrics_refusal_names,
	    metrics.refusals, METRICS_NREFUSALS);
	metrics_format_labelled(o, "ferry_upstream_connects_total",
	    "Upstream connects, by result.", "result", metrics_connect_names,
	    metrics.connects, METRICS_NCONNECTS);
	metrics_format_labelled(o, "ferry_reloads_total",
	    "Configuration reloads (SIGHUP), by result.", "result",
	    reload_names, metrics.reloads, 2);
}

static void
metrics_format_histogram(struct metrics_out *o)
{
	const char *name = "ferry_request_duration_seconds";
	uint64_t total = 0, sum;
	size_t b;

	metrics_head(o, name, "histogram",
	    "Time from a request's head to the end of its answer.");
	for (b = 0; b < METRICS_NBUCKETS; b++) {
		total += metrics_get(&metrics.buckets[b]);
		metrics_printf(o, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name,
		    metrics_bucket_le[b], total);
	}
	sum = metrics_get(&metrics.duration_sum_us);
	metrics_printf(o, "%s_sum %" PRIu64 ".%06" PRIu64 "\n", name,
	    sum / 1000000, sum % 1000000);
	metrics_printf(o, "%s_count %" PRIu64 "\n", name, total);
}

static void
metrics_gauge(struct metrics_out *o, const char *name, const char *help,
    uint64_t v)
{
	metrics_head(o, name, "gauge", help);
	metrics_printf(o, "%s %" PRIu64 "\n", name, v);
}

static void
metrics_format_gauges(struct metrics_out *o)
{
	struct metrics_gauges g;

	memset(&g, 0, sizeof(g));
	if (metrics_gauges_cb != NULL)
		metrics_gauges_cb(metrics_gauges_arg, &g);
	metrics_gauge(o, "ferry_client_connections",
	    "Open client connections.", g.clients);
	metrics_gauge(o, "ferry_parked_connections",
	    "Client connections waiting for a request head.", g.parked);
	metrics_gauge(o, "ferry_queued_jobs",
	    "Requests waiting for a worker.", g.queued);
	metrics_gauge(o, "ferry_busy_workers",
	    "Workers serving a connection.", g.busy);
	metrics_gauge(o, "ferry_upstream_idle_connections",
	    "Idle upstream connections kept for reuse.", g.pooled);
	metrics_head(o, "ferry_parent_addresses", "gauge",
	    "Parent proxy addresses, by health.");
	metrics_printf(o, "ferry_parent_addresses{state=\"up\"} %" PRIu64
	    "\n", g.parents_up);
	metrics_printf(o, "ferry_parent_addresses{state=\"down\"} %" PRIu64
	    "\n", g.parents_down);
}

/* Resident memory in bytes (/proc/self/statm's second field), 0 if unknown. */
static uint64_t
metrics_rss(void)
{
	char text[128];
	const char *p, *end;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pages;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0 || page <= 0)
		return 0;
	text[n] = '\0';
	/* "size resident shared ...", in pages. */
	p = strchr(text, ' ');
	if (p == NULL)
		return 0;
	p++;
	end = p + strcspn(p, " \n");
	if (num_parse_dec(p, (size_t)(end - p), UINT64_MAX / (uint64_t)page,
	    &pages) == -1)
		return 0;
	return pages * (uint64_t)page;
}

/* Open descriptors: the entries of /proc/self/fd, less the one reading it. */
static uint64_t
metrics_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

static void
metrics_format_process(struct metrics_out *o)
{
	metrics_head(o, "ferry_build_info", "gauge",
	    "The running ferry's version; always 1.");
	metrics_printf(o, "ferry_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	metrics_head(o, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch in seconds.");
	metrics_printf(o, "process_start_time_seconds %lld.%03ld\n",
	    (long long)metrics_started.tv_sec,
	    metrics_started.tv_nsec / 1000000);
	metrics_gauge(o, "process_resident_memory_bytes",
	    "Resident memory size in bytes.", metrics_rss());
	metrics_gauge(o, "process_open_fds",
	    "Number of open file descriptors.", metrics_open_fds());
}

size_t
metrics_format(char *buf, size_t cap)
{
	struct metrics_out o = { buf, 0, cap, false };

	if (cap == 0)
		return 0;
	metrics_format_requests(&o);
	metrics_format_counters(&o);
	metrics_format_histogram(&o);
	metrics_format_gauges(&o);
	metrics_format_process(&o);
	return o.overflow ? 0 : o.len;
}
