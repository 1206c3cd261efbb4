/*
 * trace.c: trace mode (see trace.h).
 *
 * Numbers come from one atomic counter; each line is formatted here and
 * written by log_msg() in one write().
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "trace.h"

static _Atomic uint64_t trace_counter;

/* A monotonic clock in microseconds. */
static uint64_t
trace_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
trace_begin(struct trace *t)
{
	t->id = 0;
	if (!log_enabled(LOGL_TRACE))
		return;
	t->id = atomic_fetch_add(&trace_counter, 1) + 1;
	t->start_us = trace_now_us();
	t->last_us = t->start_us;
}

bool
trace_on(const struct trace *t)
{
	return t != NULL && t->id != 0;
}

void
trace_stage(struct trace *t, const char *fmt, ...)
{
	char text[512];
	uint64_t now, since, step;
	va_list ap;

	if (!trace_on(t))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);	/* a long stage is cut */
	va_end(ap);
	now = trace_now_us();
	since = now - t->start_us;
	step = now - t->last_us;
	t->last_us = now;
	log_msg(LOGL_TRACE, "conn %llu +%llu.%03llu ms (+%llu.%03llu ms): %s",
	    (unsigned long long)t->id, (unsigned long long)(since / 1000),
	    (unsigned long long)(since % 1000),
	    (unsigned long long)(step / 1000),
	    (unsigned long long)(step % 1000), text);
}
