/*
 * metrics.h: ferry's counters and their Prometheus text exposition.
 *
 * Path: every step may count (a request answered, bytes moved, a refusal,
 * an upstream connect); the metrics endpoint (metricsd.h) formats them all
 * at each scrape.
 *
 * Counting never takes a lock: each counter is an _Atomic uint64_t in one
 * static registry, bumped with a relaxed fetch_add, so any thread may count
 * at any time at the cost of one atomic add. Counters live for the process:
 * a reload (SIGHUP) never resets them. Labels are few and fixed (method
 * class, status class, reason, result): never a host or a client.
 *
 * The gauges that describe other modules' state (parked connections, busy
 * workers, idle upstream connections...) are read at scrape time through
 * one callback that main.c registers, so this module uses nothing above
 * io and log.
 */
#ifndef FERRY_METRICS_H
#define FERRY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The request method's class: label method of ferry_requests_total. */
enum metrics_method {
	METRICS_GET,
	METRICS_HEAD,
	METRICS_POST,
	METRICS_PUT,
	METRICS_DELETE,
	METRICS_OPTIONS,
	METRICS_CONNECT,
	METRICS_OTHER,
	METRICS_NMETHODS
};

/* Plain counters, each one family without labels. */
enum metrics_counter {
	METRICS_TUNNELS,		/* CONNECT tunnels opened */
	METRICS_CLIENT_IN,		/* bytes received from clients */
	METRICS_CLIENT_OUT,		/* bytes sent to clients */
	METRICS_UPSTREAM_OUT,		/* bytes sent to upstreams */
	METRICS_UPSTREAM_IN,		/* bytes received from upstreams */
	METRICS_UPSTREAM_REUSES,	/* requests on a kept connection */
	METRICS_NCOUNTERS
};

/* Why a client was refused: label reason of ferry_refusals_total. */
enum metrics_refusal {
	METRICS_REFUSED_CLIENT,		/* not in [whitelist] */
	METRICS_REFUSED_CREDENTIALS,	/* [auth]: 407 */
	METRICS_REFUSED_DESTINATION,	/* [destinations] */
	METRICS_REFUSED_CONNECT_PORT,	/* [connect] ports */
	METRICS_REFUSED_INTERNAL,	/* an internal address */
	METRICS_REFUSED_OVERLOAD,	/* pool full, max_clients */
	METRICS_REFUSED_BALANCER,	/* not in [proxy_protocol] from */
	METRICS_REFUSED_PROXY_HEADER,	/* no valid PROXY header */
	METRICS_REFUSED_SCRAPER,	/* not in [metrics] allow */
	METRICS_NREFUSALS
};

/* How an upstream connect ended: label result of ferry_upstream_connects_total. */
enum metrics_connect {
	METRICS_CONNECT_OK,
	METRICS_CONNECT_REFUSED,
	METRICS_CONNECT_TIMEOUT,
	METRICS_CONNECT_DNS,
	METRICS_CONNECT_LOOP,
	METRICS_CONNECT_DENIED,
	METRICS_NCONNECTS
};

/* Gauges read at scrape time (metrics_set_gauges()). */
struct metrics_gauges {
	uint64_t	clients;	/* open client connections */
	uint64_t	parked;		/* connections in park.c */
	uint64_t	queued;		/* jobs waiting for a worker */
	uint64_t	busy;		/* workers serving a job */
	uint64_t	pooled;		/* idle upstream connections kept */
	uint64_t	parents_up;	/* parent addresses up */
	uint64_t	parents_down;	/* parent addresses down */
};

/*
 * Fills *g (zeroed before the call) with the gauges' values now. Runs on
 * the metrics thread at each scrape; may take other modules' locks.
 */
typedef void (*metrics_gauges_fn)(void *arg, struct metrics_gauges *g);

/*
 * Note the process start time (process_start_time_seconds). Call once at
 * start-up, before any thread starts.
 */
void metrics_init(void);

/*
 * Register fn(arg) as the source of the gauges (NULL: all 0). Call before
 * the metrics thread starts (metricsd_start()), never while it runs.
 */
void metrics_set_gauges(metrics_gauges_fn fn, void *arg);

/*
 * The method class of method[0..len) (case-sensitive, as RFC 9110 §9.1
 * says): METRICS_OTHER for anything not listed. Pure.
 */
enum metrics_method metrics_method_of(const char *method, size_t len);

/*
 * Count one request of class m, answered with status (100..599; any other
 * value, 0 say, counts as status class "none": no answer was sent), that
 * took duration_us microseconds (the duration histogram). Lock-free: any
 * thread.
 */
void metrics_request(enum metrics_method m, int status, uint64_t duration_us);

/* Add n to counter c. Lock-free: any thread. */
void metrics_add(enum metrics_counter c, uint64_t n);

/* Count one refusal for reason r. Lock-free: any thread. */
void metrics_refused(enum metrics_refusal r);

/* Count one upstream connect that ended with r. Lock-free: any thread. */
void metrics_upstream(enum metrics_connect r);

/* Count one reload, ok or failed. Lock-free: any thread. */
void metrics_reload(bool ok);

/*
 * Write the whole exposition (text format 0.0.4: # HELP and # TYPE lines,
 * families in a fixed order) into buf[0..cap). Returns its length (no NUL
 * is counted; one is written if there is room), or 0 if cap is too small:
 * the caller retries with a bigger buffer. Calls the gauges callback and
 * reads /proc/self. Any thread; one scrape at a time is the rule (the
 * callback's), not a requirement of this module.
 */
size_t metrics_format(char *buf, size_t cap);

/*
 * Set every counter back to 0. For the unit tests only: ferry never
 * calls it (counters live for the process). Not atomic as a whole.
 */
void metrics_reset(void);

#endif
