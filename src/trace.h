/*
 * trace.h: trace mode, a log line for each stage of a connection's life.
 *
 * Path: alongside every step, from accept to park or close; it changes
 * nothing on the way, it only tells.
 *
 * With [log] level = trace (or ferry -v -v) every connection gets a
 * number when it is accepted, and each step of the request path logs one
 * line with that number and the milliseconds since the accept and since
 * the step before: accepted and queued, taken by a worker, head read and
 * parsed, origin addresses tried and connected, head forwarded, response
 * relayed or tunnel open and closed, then parked or closed and why. It is how
 * a reader watches one request walk through the code (doc/architecture.md).
 *
 * A struct trace travels with its connection: in the pool's job, in the
 * conn, and in the idle watcher while the connection is parked. Only the
 * thread holding the connection touches it. With tracing off, id is 0 and
 * trace_stage() returns at once.
 */
#ifndef FERRY_TRACE_H
#define FERRY_TRACE_H

#include <stdbool.h>
#include <stdint.h>

struct trace {
	uint64_t	id;		/* connection number; 0: not traced */
	uint64_t	start_us;	/* when it was accepted */
	uint64_t	last_us;	/* when the last stage was logged */
};

/*
 * Start tracing a newly accepted connection: a new number and the clock,
 * if the log level is trace (else t->id is 0). Thread-safe.
 */
void trace_begin(struct trace *t);

/* True if t's connection is being traced; false for a NULL t. */
bool trace_on(const struct trace *t);

/*
 * Log one stage of t's connection: "conn N +T ms (+D ms): text", T since
 * the accept and D since the stage before. t may be NULL (not traced).
 * Updates t, so only the thread holding the connection may call it; the
 * line (text cut at 511 bytes) goes out through log_msg() at LOGL_TRACE.
 */
void trace_stage(struct trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
