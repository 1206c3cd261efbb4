/*
 * serve.c: one client connection, request after request (see serve.h).
 *
 * serve_job() reads like a table of contents: set up, then for each
 * request: read and parse its head, refuse or dispatch it, log one line;
 * then close, or go on with the next request while the connection
 * persists (RFC 9112 §9.3). A request's bytes may arrive together with the
 * next one's (pipelining): those stay in req_buf, or in carry when they
 * were read with a chunked body, and are served in order. A worker only
 * ever gets a connection whose request head is ready (gather.h); when no
 * whole next head has arrived, it does not wait either: it parks the
 * socket, with what arrived of that head, with the head gatherer
 * (park.c) and takes other work.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "admit.h"
#include "conn.h"
#include "forward.h"
#include "gather.h"
#include "gate.h"
#include "http.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "loopguard.h"
#include "park.h"
#include "pool.h"
#include "serve.h"
#include "trace.h"
#include "tunnel.h"

/*
 * How long a worker that has just answered waits for the client's next
 * request before it parks the socket, and only while the pool has an
 * idle worker and no queued job: so nobody waits for it, and a busy
 * keep-alive client keeps its worker instead of crossing to the watcher
 * and back (epoll, a wake-up, the queue) for every request. Short, so
 * that an idle client still costs no worker.
 */
#define SERVE_LINGER_MS 2

/* Where reading a request head stands after a parse. */
enum serve_head {
	SERVE_HEAD_DONE,	/* c->x.req holds a whole parsed head */
	SERVE_HEAD_MORE,	/* valid so far: read on */
	SERVE_HEAD_FAILED	/* answered (or the client went away) */
};

/* One line in the access log (if there is one) for this request. */
static void
serve_access_log(const struct conn *c)
{
	char line[ACCESS_LINE_MAX];
	struct access_entry e;

	if (!log_access_enabled() || (c->x.bytes_in == 0 && c->x.status == 0))
		return;
	memset(&e, 0, sizeof(e));
	e.client = c->client_ip;
	e.user = c->x.user;
	e.when = c->x.start_time;
	if (c->x.req_parsed) {
		e.method = c->x.req.method;
		e.method_len = c->x.req.method_len;
		e.target = c->x.req.target;
		e.target_len = c->x.req.target_len;
		e.minor = c->x.req.minor;
	}
	e.status = c->x.status;
	e.bytes_out = c->x.bytes_out;
	e.ms = io_now_ms() - c->x.start_ms;
	e.upstream = c->x.upstream_name;
	log_access(line, access_format(line, sizeof(line), &e));
}

/* The log lines for the request just served. */
static void
serve_log(const struct conn *c)
{
	const struct exchange *x = &c->x;
	const struct uri *u = &x->req.uri;
	/* A refusal by the policy is the policy working: not a warning. */
	bool refused = x->status == 403 || x->status == 407;
	enum log_level level = x->status >= 500 || (x->why[0] && !refused) ?
	    LOGL_WARN : LOGL_INFO;
	char user[ACCESS_USER_MAX + 8] = " user=";
	char via[REUSE_NAME_MAX + 8] = "";

	/* A connection that never said anything is not a request. */
	if (x->bytes_in == 0 && x->status == 0)
		level = LOGL_DEBUG;
	if (x->user[0] != '\0')
		access_escape(x->user, strlen(x->user), user + 6);
	else
		user[0] = '\0';
	if (x->route.parent != NULL)	/* the route, and the address */
		snprintf(via, sizeof(via), " via=%s", x->upstream_name[0] ?
		    x->upstream_name : x->route.parent->name);
	/* The request's numbers for the metrics: never a lock (metrics.h). */
	if (level != LOGL_DEBUG) {
		metrics_request(x->req_parsed ? metrics_method_of(
		    x->req.method, x->req.method_len) : METRICS_OTHER,
		    x->status, (io_now_ms() - x->start_ms) * 1000);
		metrics_add(METRICS_CLIENT_IN, x->bytes_in);
		metrics_add(METRICS_CLIENT_OUT, x->bytes_out);
	}
	log_msg(level,
	    "%s %.*s %.*s %d in=%llu out=%llu %llums%s%s%s%s%s", c->client_ip,
	    x->req_parsed ? (int)x->req.method_len : 1,
	    x->req_parsed ? x->req.method : "-",
	    x->req_parsed ? (int)u->authority_len : 1,
	    x->req_parsed ? u->authority : "-", x->status,
	    (unsigned long long)x->bytes_in, (unsigned long long)x->bytes_out,
	    (unsigned long long)(io_now_ms() - x->start_ms), user, via,
	    x->why[0] ? " (" : "", x->why, x->why[0] ? ")" : "");
	serve_access_log(c);
}

/* A client not in [whitelist]: 403, counted, whatever it sent. */
static void
serve_refuse_unlisted(struct conn *c)
{
	metrics_refused(METRICS_REFUSED_CLIENT);
	conn_fail(c, 403, "Your address may not use this proxy.");
}

/* Parse what has arrived of the request head. */
static enum serve_head
serve_parse_head(struct conn *c)
{
	struct http_limits lim = { c->cfg->max_headers, c->cfg->max_uri_bytes };
	enum http_result r;

	/*
	 * The analyser forgets c's buffers once &c->x.req escapes here and
	 * calls them leaked; conn_finish() frees them.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	r = http_parse_request(c->req_buf, c->req_len, &lim, c->req_fields,
	    &c->x.req);
	if (r == HTTP_DONE) {
		c->x.req_parsed = true;
		return SERVE_HEAD_DONE;
	}
	if (r != HTTP_BAD && c->req_len < c->req_cap)
		return SERVE_HEAD_MORE;
	/*
	 * An unlisted client learns nothing but that it is unlisted; by
	 * the rules in force (a reload may have changed the whitelist
	 * since this connection was admitted).
	 */
	conn_refresh_rules(c);
	if (!c->allowed)
		serve_refuse_unlisted(c);
	else if (r == HTTP_BAD)
		conn_fail(c, c->x.req.status, c->x.req.error);
	else
		conn_fail(c, 431, "The request head is too large.");
	return SERVE_HEAD_FAILED;
}

/*
 * Read the request head within header_timeout. req_buf may already hold
 * its first bytes (pipelined behind the last request). Returns 0 with
 * c->x.req parsed, or -1 (answered, or the client went away).
 */
static int
serve_read_head(struct conn *c)
{
	uint64_t deadline = io_now_ms() + c->cfg->header_timeout * 1000ULL;
	bool line_seen = memchr(c->req_buf, '\n', c->req_len) != NULL;
	enum serve_head h = SERVE_HEAD_MORE;
	ssize_t n;
	int left;

	if (c->req_len > 0)
		h = serve_parse_head(c);
	while (h == SERVE_HEAD_MORE) {
		if ((left = io_ms_left(deadline)) == 0) {
			n = -1;
			c->x.err = ETIMEDOUT;
		} else if ((n = io_recv(c->client_fd, c->req_buf + c->req_len,
		    c->req_cap - c->req_len, left)) < 0)
			c->x.err = errno;
		if (n == 0)
			return -1;
		if (n < 0) {
			if (c->x.err == ETIMEDOUT && c->req_len > 0)
				conn_fail(c, 408, "The request head did not "
				    "arrive in time.");
			return -1;
		}
		c->x.bytes_in += (size_t)n;
		c->req_len += (size_t)n;
		if (http_head_worth_parsing(c->req_buf, c->req_len,
		    (size_t)n, c->req_cap, &line_seen))
			h = serve_parse_head(c);
	}
	return h == SERVE_HEAD_DONE ? 0 : -1;
}

/* Trace mode: the request head that was just read and parsed. */
static void
serve_trace_request(struct conn *c)
{
	static const char *const body[] = {
		[BODY_NONE] = "none", [BODY_LENGTH] = "Content-Length",
		[BODY_CHUNKED] = "chunked", [BODY_CLOSE] = "until close"
	};
	const struct http_request *r = &c->x.req;

	if (!trace_on(&c->trace))
		return;
	trace_stage(&c->trace, "request head read: %zu bytes", r->head_len);
	trace_stage(&c->trace, "parsed: %.*s %.*s%s HTTP/1.%d, %zu fields, "
	    "body: %s", (int)r->method_len, r->method,
	    (int)(r->target_len > 200 ? 200 : r->target_len), r->target,
	    r->target_len > 200 ? "..." : "", r->minor, r->nfields,
	    body[r->framing.kind]);
}

/*
 * One request and its response. Returns true if the connection persists
 * for another request: the client wants it, and the exchange left both
 * directions at a message boundary (forward.c and conn_fail() decide).
 */
static bool
serve_exchange(struct conn *c)
{
	if (serve_read_head(c) == -1)
		return false;
	serve_trace_request(c);
	/* While draining, every connection ends with its current request. */
	c->x.keep = c->x.req.keep_alive && park_accepting();
	/*
	 * A refusal may leave the connection open for another request, but
	 * not when the client already sent tunnel bytes (a TLS hello) after
	 * its CONNECT: they are no request.
	 */
	if (c->x.req.is_connect && c->req_len > c->x.req.head_len)
		c->x.keep = false;
	conn_refresh_rules(c);
	if (!c->allowed) {
		serve_refuse_unlisted(c);
		return false;
	}
	if (loopguard_via_seen(c->x.req.fields, c->x.req.nfields,
	    c->cfg->via_name)) {
		conn_fail(c, 508, "The request has already passed through "
		    "this proxy (its Via header says so): it is looping.");
		return false;
	}
	if (!gate_check(c))
		return c->x.keep;
	if (c->x.req.is_connect)
		tunnel_serve(c);
	else
		forward_serve(c);
	return c->x.keep;
}

/* How many bytes in req_buf follow the request just served. */
static size_t
serve_pipelined(const struct conn *c)
{
	size_t end = c->x.req.head_len + c->x.body_used;

	return end < c->req_len ? c->req_len - end : 0;
}

/*
 * Start the next request with what already arrived of it: n bytes at the
 * end of req_buf, or the carry from a chunked body (never both: a body
 * read from the socket used up all of req_buf first).
 */
static void
serve_next_request(struct conn *c, size_t n)
{
	memmove(c->req_buf, c->req_buf + c->req_len - n, n);
	c->req_len = n;
	if (n == 0 && c->carry_len > 0) {
		memcpy(c->req_buf, c->carry, c->carry_len);
		c->req_len = c->carry_len;
		c->carry_len = 0;
	}
	conn_new_exchange(c);
	c->x.bytes_in = c->req_len;
}

/*
 * Between requests: go on if the next request head is ready (pipelined;
 * or, while no one else needs a worker, already arrived or arriving
 * within SERVE_LINGER_MS), close if the client has closed, or else park
 * the socket, with what arrived of the next head, with the head
 * gatherer: a worker never waits long for a client's request, and never
 * serves the same client again while others wait for a worker. Returns
 * true while this worker goes on.
 */
static bool
serve_next_ready(struct conn *c, struct pool *pool)
{
	struct http_limits lim = { c->cfg->max_headers, c->cfg->max_uri_bytes };
	struct gather g = { c->req_buf, c->req_len, c->req_cap, false };
	enum gather_state st = GATHER_MORE;
	bool idle;

	if (c->req_len > 0 && gather_ready(c->req_buf, c->req_len,
	    c->req_cap, &lim, c->req_fields))
		return true;
	/*
	 * While jobs wait for a worker, make way for them at once, without
	 * even a read: the watcher sees what this client sends next.
	 */
	idle = pool_has_idle(pool);
	if (idle)
		st = gather_read(&g, c->client_fd, &lim, c->req_fields);
	if (st == GATHER_MORE && idle &&
	    io_wait(c->client_fd, POLLIN, SERVE_LINGER_MS) == 0) {
		st = gather_read(&g, c->client_fd, &lim, c->req_fields);
		if (st == GATHER_READY)
			trace_stage(&c->trace, "the next request came while "
			    "the worker waited for it (up to %d ms)",
			    SERVE_LINGER_MS);
	}
	c->req_len = g.len;
	c->x.bytes_in = g.len;
	if (st == GATHER_READY)
		return true;
	if (st == GATHER_CLOSED) {
		/* EOF or error: nothing to linger for. */
		io_close(&c->client_fd);
		trace_stage(&c->trace, "closed: the client closed the "
		    "connection");
		return false;
	}
	if (c->req_len == 0)
		trace_stage(&c->trace, "parked: the idle watcher waits for "
		    "the next request (idle_timeout %us)",
		    c->cfg->idle_timeout);
	else
		trace_stage(&c->trace, "parked with %zu bytes of the next "
		    "request: the watcher gathers the rest (header_timeout "
		    "%us)", c->req_len, c->cfg->header_timeout);
	park_client(c->client_fd, &c->peer, c->cfg, NULL, &c->trace,
	    c->req_buf, c->req_len);
	c->client_fd = -1;
	return false;
}

/* Trace mode: the request just served, and what happens next. */
static void
serve_trace_done(struct conn *c, bool keep, size_t next)
{
	const struct exchange *x = &c->x;

	if (!trace_on(&c->trace))
		return;
	if (x->status == 0 && x->bytes_in == 0)
		trace_stage(&c->trace, "no request: the client closed or "
		    "went quiet first");
	else
		trace_stage(&c->trace, "request done: status %d, %llu bytes "
		    "from the client, %llu bytes to it", x->status,
		    (unsigned long long)x->bytes_in,
		    (unsigned long long)x->bytes_out);
	if (!keep)
		trace_stage(&c->trace, "closing%s%s", x->why[0] ? ": " : "",
		    x->why[0] ? x->why : " (the connection does not persist)");
	else if (next > 0 || c->carry_len > 0)
		trace_stage(&c->trace, "the next request is already here "
		    "(pipelined)");
}

/* Serve the connection of job; see serve_job(). */
static void
serve_client(struct admit_job *job)
{
	struct pool *pool = job->pool;
	struct conn c;
	size_t next;
	bool keep;

	if (conn_init(&c, job) == -1) {
		snprintf(c.x.why, sizeof(c.x.why), "out of memory");
		conn_fail(&c, 503, "The proxy is out of memory.");
		serve_log(&c);
		conn_finish(&c);
		return;
	}
	trace_stage(&c.trace, "a worker took it (client %s; whitelist %s)",
	    c.client_ip, c.allowed ? "allows" : "refuses");
	do {
		keep = serve_exchange(&c);
		next = keep ? serve_pipelined(&c) : 0;
		c.x.bytes_in -= next;
		serve_log(&c);
		serve_trace_done(&c, keep, next);
		if (keep)
			serve_next_request(&c, next);
	} while (keep && serve_next_ready(&c, pool));
	conn_finish(&c);
}

void
serve_job(void *arg)
{
	struct admit_job *job = arg;

	serve_client(job);
	job->fd = -1;		/* the conn closed or parked it */
	admit_job_drop(job);
}
