/*
 * conn.c: the life of a client connection (see conn.h).
 *
 * Path: the worker step on: read head, parse, then forward.c (rewrite,
 * connect, forward body, relay response) or tunnel.c (CONNECT), the log
 * line, and park or close.
 *
 * conn_handle() reads like a table of contents: set up, then for each
 * request: read and parse its head, refuse or dispatch it, log one line;
 * then close, or go on with the next request while the connection
 * persists (RFC 9112 §9.3). A request's bytes may arrive together with the
 * next one's (pipelining): those stay in req_buf, or in carry when they
 * were read with a chunked body, and are served in order. When nothing
 * more has arrived, the worker does not wait: it parks the socket with
 * the idle watcher (park.c) and takes other work.
 *
 * Closing after an error page is "lingering": ferry stops writing, then
 * drains what the client still sends for a moment, because closing a
 * socket with unread input makes the kernel send RST, which can destroy
 * the error page before the client reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "conn.h"
#include "errpage.h"
#include "forward.h"
#include "io.h"
#include "log.h"
#include "loop.h"
#include "park.h"
#include "tunnel.h"
#include "upool.h"
#include "upstream.h"

/* The relay buffer: big enough for throughput, and for a rewritten head. */
#define CONN_RELAY_MIN		((size_t)64 * 1024)
/* Room the rewritten head may need beyond the received one. */
#define CONN_REWRITE_SLACK	1024
/* Lingering close: how long and how much to drain. */
#define CONN_LINGER_MS		1000
#define CONN_LINGER_BYTES	((size_t)256 * 1024)

int
conn_client_timeout_ms(const struct conn *c)
{
	return (int)c->cfg->idle_timeout * 1000;
}

int
conn_upstream_timeout_ms(const struct conn *c)
{
	return (int)c->cfg->io_timeout * 1000;
}

int
conn_send_client(struct conn *c, const char *buf, size_t len)
{
	if (io_send_all(c->client_fd, buf, len,
	    conn_client_timeout_ms(c)) == -1)
		return -1;
	c->bytes_out += len;
	return 0;
}

void
conn_fail(struct conn *c, int status, const char *detail)
{
	char page[2048];
	size_t len;

	if (c->status == 0)
		c->status = status;
	c->keep = false;
	trace_stage(&c->trace, "failed with %d%s%s%s", status,
	    c->head_sent ? " after the response head went out" : "",
	    c->why[0] ? ": " : "", c->why);
	if (c->head_sent)
		return;
	c->head_sent = true;
	c->linger = true;
	len = errpage_format(status, detail, c->req_parsed && c->req.is_head,
	    time(NULL), page, sizeof(page));
	if (len > 0)
		(void)conn_send_client(c, page, len);
}

/* The origin's address as "ip:port" or "[ip6]:port", "" if none. */
static void
conn_upstream_name(const struct conn *c, char *buf, size_t cap)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	const void *a;
	unsigned port;

	buf[0] = '\0';
	if (c->upstream_fd < 0 || getpeername(c->upstream_fd,
	    (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		/* getpeername() filled it; the analyser cannot know. */
		/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	if (inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
		return;
	snprintf(buf, cap, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    ip, port);
}

int
conn_connect_upstream(struct conn *c, bool reuse)
{
	const struct uri *u = &c->req.uri;

	c->upstream_reused = false;
	if (reuse && (c->upstream_fd = upool_take(u->host, u->host_len,
	    u->port, c->upstream_name, sizeof(c->upstream_name))) != -1) {
		c->upstream_reused = true;
		trace_stage(&c->trace, "origin: reusing an idle connection to "
		    "%s", c->upstream_name);
		return 0;
	}
	switch (upstream_connect(u, c->cfg, &c->trace, &c->upstream_fd,
	    c->why, sizeof(c->why))) {
	case UPSTREAM_OK:
		conn_upstream_name(c, c->upstream_name,
		    sizeof(c->upstream_name));
		trace_stage(&c->trace, "origin: connected to %s",
		    c->upstream_name);
		return 0;
	case UPSTREAM_UNRESOLVED:
		conn_fail(c, 502, "The origin server's name could not be "
		    "resolved.");
		break;
	case UPSTREAM_TIMEDOUT:
		conn_fail(c, 504, "The origin server did not accept the "
		    "connection in time.");
		break;
	case UPSTREAM_LOOP:
		conn_fail(c, 508, "The request is addressed to this proxy "
		    "itself; forwarding it would loop.");
		break;
	case UPSTREAM_FAILED:
		conn_fail(c, 502, "The proxy could not connect to the origin "
		    "server: the connection was refused or the host is "
		    "unreachable.");
		break;
	}
	return -1;
}

/* Text form of the client address; v4-mapped v6 is shown as v4. */
static void
conn_peer_text(const struct sockaddr_storage *peer, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)peer;
	const struct sockaddr_in *s4 = (const void *)peer;
	const void *addr = &s4->sin_addr;
	int family = AF_INET;

	if (peer->ss_family == AF_INET6) {
		addr = &s6->sin6_addr;
		family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			addr = &s6->sin6_addr.s6_addr[12];
			family = AF_INET;
		}
	}
	if (inet_ntop(family, addr, buf, (socklen_t)len) == NULL)
		strcpy(buf, "?");
}

/* Forget the last request: counters, status and the log's timing. */
static void
conn_start_request(struct conn *c)
{
	c->start_ms = io_now_ms();
	c->start_time = time(NULL);
	c->status = 0;
	c->head_sent = false;
	c->linger = false;
	c->keep = false;
	c->bytes_in = 0;
	c->bytes_out = 0;
	c->why[0] = '\0';
	c->req_parsed = false;
	c->body_used = 0;
	c->resp_len = 0;
	c->upstream_name[0] = '\0';
	c->upstream_reused = false;
}

/* Allocate the buffers sized from the config; -1 on failure. */
static int
conn_init(struct conn *c, const struct pool_job *job)
{
	const struct ferry_config *cfg = job->cfg;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->client_fd = job->fd;
	c->upstream_fd = -1;
	c->allowed = job->allowed;
	c->peer = job->peer;
	c->trace = job->trace;
	relay_pipe_init(&c->pipe);
	conn_start_request(c);
	conn_peer_text(&c->peer, c->client_ip, sizeof(c->client_ip));
	c->req_cap = cfg->max_header_bytes;
	c->resp_cap = cfg->max_header_bytes;
	c->work_cap = c->req_cap + CONN_REWRITE_SLACK;
	if (c->work_cap < CONN_RELAY_MIN)
		c->work_cap = CONN_RELAY_MIN;
	c->req_buf = malloc(c->req_cap);
	c->resp_buf = malloc(c->resp_cap);
	c->work = malloc(c->work_cap);
	c->req_fields = calloc(cfg->max_headers, sizeof(struct http_field));
	c->resp_fields = calloc(cfg->max_headers, sizeof(struct http_field));
	if (c->req_buf == NULL || c->resp_buf == NULL || c->work == NULL ||
	    c->req_fields == NULL || c->resp_fields == NULL)
		return -1;
	return 0;
}

/*
 * Close gently: stop writing, drain the client briefly, close. After an
 * error page the client may still be sending a body we never read, so
 * drain always; after a full exchange only if input is already waiting.
 */
static void
conn_linger_close(struct conn *c)
{
	uint64_t deadline = io_now_ms() + CONN_LINGER_MS;
	size_t drained = 0;
	char buf[4096];
	ssize_t n;

	if (!c->linger && recv(c->client_fd, buf, 1, MSG_PEEK |
	    MSG_DONTWAIT) <= 0) {
		io_close(&c->client_fd);
		return;
	}
	if (shutdown(c->client_fd, SHUT_WR) == 0) {
		while (drained < CONN_LINGER_BYTES) {
			uint64_t now = io_now_ms();

			if (now >= deadline)
				break;
			n = io_recv(c->client_fd, buf, sizeof(buf),
			    (int)(deadline - now));
			if (n <= 0)
				break;
			drained += (size_t)n;
		}
	}
	io_close(&c->client_fd);
}

/* One line in the access log (if there is one) for this request. */
static void
conn_access_log(const struct conn *c)
{
	char line[ACCESS_LINE_MAX];
	struct access_entry e;

	if (!log_access_enabled() || (c->bytes_in == 0 && c->status == 0))
		return;
	memset(&e, 0, sizeof(e));
	e.client = c->client_ip;
	e.when = c->start_time;
	if (c->req_parsed) {
		e.method = c->req.method;
		e.method_len = c->req.method_len;
		e.target = c->req.target;
		e.target_len = c->req.target_len;
		e.minor = c->req.minor;
	}
	e.status = c->status;
	e.bytes_out = c->bytes_out;
	e.ms = io_now_ms() - c->start_ms;
	e.upstream = c->upstream_name;
	log_access(line, access_format(line, sizeof(line), &e));
}

/* The log lines for the request just served. */
static void
conn_log(const struct conn *c)
{
	const struct uri *u = &c->req.uri;

	enum log_level level = c->status >= 500 || c->why[0] ? LOGL_WARN :
	    LOGL_INFO;

	/* A connection that never said anything is not a request. */
	if (c->bytes_in == 0 && c->status == 0)
		level = LOGL_DEBUG;
	log_msg(level,
	    "%s %.*s %.*s %d in=%llu out=%llu %llums%s%s%s", c->client_ip,
	    c->req_parsed ? (int)c->req.method_len : 1,
	    c->req_parsed ? c->req.method : "-",
	    c->req_parsed ? (int)u->authority_len : 1,
	    c->req_parsed ? u->authority : "-", c->status,
	    (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
	    (unsigned long long)(io_now_ms() - c->start_ms),
	    c->why[0] ? " (" : "", c->why, c->why[0] ? ")" : "");
	conn_access_log(c);
}

/* Close what is still open (gently) and release everything. */
static void
conn_finish(struct conn *c)
{
	io_close(&c->upstream_fd);
	if (c->client_fd >= 0)
		conn_linger_close(c);
	relay_pipe_close(&c->pipe);
	free(c->carry);
	free(c->req_buf);
	free(c->resp_buf);
	free(c->work);
	free(c->req_fields);
	free(c->resp_fields);
}

/*
 * Parse what has arrived. Returns 1 for a complete head, 0 to read more,
 * -1 after answering a bad request.
 */
static int
conn_parse_head(struct conn *c)
{
	struct http_limits lim = { c->cfg->max_headers, c->cfg->max_uri_bytes };
	enum http_result r;

	/*
	 * The analyser forgets c's buffers once &c->req escapes here and
	 * calls them leaked; conn_finish() frees them.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	r = http_parse_request(c->req_buf, c->req_len, &lim, c->req_fields,
	    &c->req);
	if (r == HTTP_DONE) {
		c->req_parsed = true;
		return 1;
	}
	if (r == HTTP_BAD) {
		/* An unlisted client learns nothing but that it is unlisted. */
		if (!c->allowed)
			conn_fail(c, 403, "Your address may not use this proxy.");
		else
			conn_fail(c, c->req.status, c->req.error);
		return -1;
	}
	if (c->req_len == c->req_cap) {
		conn_fail(c, 431, "The request head is too large.");
		return -1;
	}
	return 0;
}

/*
 * Read the request head within header_timeout. req_buf may already hold
 * its first bytes (pipelined behind the last request). Returns 0 with
 * c->req parsed, or -1 (answered, or the client went away).
 */
static int
conn_read_head(struct conn *c)
{
	uint64_t deadline = io_now_ms() + c->cfg->header_timeout * 1000ULL;
	bool line_seen = memchr(c->req_buf, '\n', c->req_len) != NULL;
	int r;

	if (c->req_len > 0 && (r = conn_parse_head(c)) != 0)
		return r == 1 ? 0 : -1;
	for (;;) {
		int left = io_ms_left(deadline);
		ssize_t n = -1;

		errno = ETIMEDOUT;
		if (left > 0)
			n = io_recv(c->client_fd, c->req_buf + c->req_len,
			    c->req_cap - c->req_len, left);
		if (n == 0)
			return -1;
		if (n < 0 && errno == ETIMEDOUT && c->req_len > 0)
			conn_fail(c, 408, "The request head did not arrive "
			    "in time.");
		if (n < 0)
			return -1;
		c->bytes_in += (size_t)n;
		c->req_len += (size_t)n;
		if (!http_head_worth_parsing(c->req_buf, c->req_len,
		    (size_t)n, c->req_cap, &line_seen))
			continue;
		r = conn_parse_head(c);
		if (r != 0)
			return r == 1 ? 0 : -1;
	}
}

/* Trace mode: the request head that was just read and parsed. */
static void
conn_trace_request(struct conn *c)
{
	static const char *const body[] = {
		[BODY_NONE] = "none", [BODY_LENGTH] = "Content-Length",
		[BODY_CHUNKED] = "chunked", [BODY_CLOSE] = "until close"
	};
	const struct http_request *r = &c->req;

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
conn_exchange(struct conn *c)
{
	if (conn_read_head(c) == -1)
		return false;
	conn_trace_request(c);
	/* While draining, every connection ends with its current request. */
	c->keep = c->req.keep_alive && park_open();
	if (!c->allowed) {
		conn_fail(c, 403, "Your address may not use this proxy.");
		return false;
	}
	if (loop_via_seen(c->req.fields, c->req.nfields)) {
		conn_fail(c, 508, "The request has already passed through "
		    "this proxy (its Via header says so): it is looping.");
		return false;
	}
	if (c->req.is_connect) {
		c->keep = false;	/* the tunnel is the rest of it */
		tunnel_serve(c);
	} else
		forward_serve(c);
	return c->keep;
}

/* How many bytes in req_buf follow the request just served. */
static size_t
conn_pipelined(const struct conn *c)
{
	size_t end = c->req.head_len + c->body_used;

	return end < c->req_len ? c->req_len - end : 0;
}

/*
 * Start the next request with what already arrived of it: n bytes at the
 * end of req_buf, or the carry from a chunked body (never both: a body
 * read from the socket used up all of req_buf first).
 */
static void
conn_next_request(struct conn *c, size_t n)
{
	memmove(c->req_buf, c->req_buf + c->req_len - n, n);
	c->req_len = n;
	if (n == 0 && c->carry_len > 0) {
		memcpy(c->req_buf, c->carry, c->carry_len);
		c->req_len = c->carry_len;
		c->carry_len = 0;
	}
	conn_start_request(c);
	c->bytes_in = c->req_len;
}

/*
 * Between requests with nothing buffered: go on if the next request has
 * started to arrive, close if the client has closed, or else park the
 * socket with the idle watcher. Returns true while this worker goes on.
 */
static bool
conn_wait_next(struct conn *c)
{
	ssize_t n;
	char b;

	n = recv(c->client_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return true;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		trace_stage(&c->trace, "parked: the idle watcher waits for "
		    "the next request (idle_timeout %us)",
		    c->cfg->idle_timeout);
		park_client(c->client_fd, &c->peer, c->cfg->idle_timeout,
		    &c->trace);
		c->client_fd = -1;
		return false;
	}
	io_close(&c->client_fd);	/* EOF or error: nothing to linger for */
	trace_stage(&c->trace, "closed: the client closed the connection");
	return false;
}

/* Trace mode: the request just served, and what happens next. */
static void
conn_trace_done(struct conn *c, bool keep, size_t next)
{
	if (!trace_on(&c->trace))
		return;
	if (c->status == 0 && c->bytes_in == 0)
		trace_stage(&c->trace, "no request: the client closed or "
		    "went quiet first");
	else
		trace_stage(&c->trace, "request done: status %d, %llu bytes "
		    "from the client, %llu bytes to it", c->status,
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out);
	if (!keep)
		trace_stage(&c->trace, "closing%s%s", c->why[0] ? ": " : "",
		    c->why[0] ? c->why : " (the connection does not persist)");
	else if (next > 0 || c->carry_len > 0)
		trace_stage(&c->trace, "the next request is already here "
		    "(pipelined)");
}

void
conn_handle(const struct pool_job *job)
{
	struct conn c;
	size_t next;
	bool keep;

	if (conn_init(&c, job) == -1) {
		snprintf(c.why, sizeof(c.why), "out of memory");
		conn_fail(&c, 503, "The proxy is out of memory.");
		conn_log(&c);
		conn_finish(&c);
		return;
	}
	trace_stage(&c.trace, "a worker took it (client %s)", c.client_ip);
	do {
		keep = conn_exchange(&c);
		next = keep ? conn_pipelined(&c) : 0;
		c.bytes_in -= next;
		conn_log(&c);
		conn_trace_done(&c, keep, next);
		if (keep)
			conn_next_request(&c, next);
	} while (keep && (c.req_len > 0 || conn_wait_next(&c)));
	conn_finish(&c);
}
