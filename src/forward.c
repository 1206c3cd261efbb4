/*
 * forward.c: a plain-HTTP exchange (see forward.h).
 *
 *   [TRACE or OPTIONS at Max-Forwards 0: ferry answers itself (maxfwd.c)]
 *   take an idle origin connection (reuse.c), or connect (upstream.c)
 *   send the rewritten head (rewrite.c)
 *   [Expect: 100-continue: wait for the origin's go-ahead or the client]
 *   stream the request body (body.c)
 *   read response heads: relay 1xx, then the final head and its body
 *   give the origin connection back to reuse.c if it is clean
 *
 * Every failure before a response head reached the client becomes an
 * error page through conn_fail(); after that, the connection is closed,
 * which is the only way left to tell the client something went wrong.
 *
 * A reused origin connection may have been closed by the origin while it
 * sat idle, and the close may cross the request on the wire; the request
 * then fails before any response byte (or, from a broken origin, meets
 * leftover bytes that are no response). The steps below report that as
 * FORWARD_STALE instead of answering, and forward_serve() sends the
 * request once more on a new connection. That is safe only for a request
 * that cannot do harm twice: an idempotent method (RFC 9110 §9.2.2) whose
 * body, if any, is still all in req_buf (RFC 9112 §9.3.1). Any other
 * request (a POST, say) is never sent on a reused connection at all, so
 * that it never meets that race: it gets a new connection, and if that
 * fails, a 502.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "chunked.h"
#include "conn.h"
#include "forward.h"
#include "http.h"
#include "io.h"
#include "log.h"
#include "maxfwd.h"
#include "metrics.h"
#include "num.h"
#include "reuse.h"
#include "rewrite.h"
#include "trace.h"

/* How a step of the exchange ended. */
enum forward_result {
	FORWARD_OK,		/* this step went through: on to the next */
	FORWARD_DONE,		/* the exchange is over (answered or failed) */
	FORWARD_STALE		/* reused connection dead before any answer */
};

/* Rewrite the request head and send it upstream. */
static enum forward_result
forward_send_head(struct conn *c)
{
	size_t len;

	if (rewrite_request(&c->x.req, c->cfg, c->client_ip,
	    conn_to_http_parent(c) ? c->x.parent_addr->basic : NULL, c->work,
	    c->work_cap, &len) == -1) {
		conn_fail(c, 431, "The request head is too large to forward.");
		return FORWARD_DONE;
	}
	if (io_send_all(c->upstream_fd, c->work, len,
	    conn_upstream_timeout_ms(c)) == -1) {
		c->x.err = errno;
		if (c->x.upstream_reused && c->x.err != ETIMEDOUT)
			return FORWARD_STALE;
		snprintf(c->x.why, sizeof(c->x.why), "sending head upstream: "
		    "%s", strerror(c->x.err));
		conn_fail(c, 502, "The connection to the origin server "
		    "failed.");
		return FORWARD_DONE;
	}
	metrics_add(METRICS_UPSTREAM_OUT, len);
	/* A parent's credentials leave no copy in the buffer. */
	if (conn_to_http_parent(c) && c->x.parent_addr->basic[0] != '\0')
		explicit_bzero(c->work, len);
	trace_stage(&c->trace, "request head rewritten and sent to the "
	    "%s: %zu bytes", c->x.parent_addr != NULL ? "parent" : "origin",
	    len);
	return FORWARD_OK;
}

/*
 * Read more of a response head by deadline: io_recv()'s result, with the
 * error of a -1 in c->x.err (ETIMEDOUT once the deadline passed).
 */
static ssize_t
forward_recv_head(struct conn *c, uint64_t deadline)
{
	int left = io_ms_left(deadline);
	ssize_t n;

	if (left == 0) {
		c->x.err = ETIMEDOUT;
		return -1;
	}
	if (c->x.resp_len == 0)	/* it cannot be there yet: wait */
		n = io_recv_reply(c->upstream_fd, c->resp_buf, c->resp_cap,
		    left);
	else
		n = io_recv(c->upstream_fd, c->resp_buf + c->x.resp_len,
		    c->resp_cap - c->x.resp_len, left);
	if (n < 0)
		c->x.err = errno;
	return n;
}

/*
 * Read one response head into resp_buf (which may already hold bytes).
 * The whole head must arrive within io_timeout, not each piece of it: an
 * origin dribbling a byte at a time cannot hold the worker for longer;
 * and it is parsed only when a line or the head may have ended, so such
 * an origin cannot make the parsing quadratic either.
 * Returns FORWARD_OK with *resp parsed, FORWARD_STALE, or FORWARD_DONE
 * after answering 502/504.
 */
static enum forward_result
forward_read_response_head(struct conn *c, struct http_response *resp)
{
	struct http_limits lim = { c->cfg->max_headers, 0 };
	uint64_t deadline = io_now_ms() + (uint64_t)conn_upstream_timeout_ms(c);
	bool line_seen = memchr(c->resp_buf, '\n', c->x.resp_len) != NULL;
	bool parse = true;
	enum http_result r;
	ssize_t n;

	for (;;) {
		r = parse ? http_parse_response(c->resp_buf, c->x.resp_len,
		    &lim, c->resp_fields, c->x.req.is_head, resp) :
		    HTTP_PARTIAL;
		if (r == HTTP_DONE)
			return FORWARD_OK;
		/*
		 * Bytes that are no response on a reused connection are
		 * most likely a broken origin's leftovers from the last
		 * exchange (a body sent after a HEAD answer, say) that
		 * arrived after reuse_take() peeked: the connection was
		 * never fit to reuse, so it counts as stale too.
		 */
		if (r == HTTP_BAD && c->x.upstream_reused)
			return FORWARD_STALE;
		if (r == HTTP_BAD || c->x.resp_len == c->resp_cap) {
			snprintf(c->x.why, sizeof(c->x.why), "bad response: %s",
			    r == HTTP_BAD ? resp->error : "head too large");
			conn_fail(c, 502, "The origin server sent a malformed "
			    "response.");
			return FORWARD_DONE;
		}
		n = forward_recv_head(c, deadline);
		if (n > 0) {
			metrics_add(METRICS_UPSTREAM_IN, (uint64_t)n);
			c->x.resp_len += (size_t)n;
			parse = http_head_worth_parsing(c->resp_buf,
			    c->x.resp_len, (size_t)n, c->resp_cap, &line_seen);
			continue;
		}
		if (n < 0 && c->x.err == ETIMEDOUT) {
			snprintf(c->x.why, sizeof(c->x.why), "origin sent no "
			    "whole response head within io_timeout (%us)",
			    c->cfg->io_timeout);
			conn_fail(c, 504, "The origin server did not answer in "
			    "time.");
			return FORWARD_DONE;
		}
		if (c->x.upstream_reused && c->x.resp_len == 0)
			return FORWARD_STALE;
		snprintf(c->x.why, sizeof(c->x.why), "origin closed without a "
		    "complete response%s%s", n < 0 ? ": " : "",
		    n < 0 ? strerror(c->x.err) : "");
		conn_fail(c, 502, "The origin server closed the connection "
		    "without answering.");
		return FORWARD_DONE;
	}
}

/* Send a 1xx response on (HTTP/1.1 clients only) and drop it. */
static enum forward_result
forward_interim(struct conn *c, const struct http_response *resp)
{
	size_t len, head = resp->head_len;

	if (resp->code == 101) {
		/* ferry never forwards Upgrade, so 101 is a broken origin. */
		snprintf(c->x.why, sizeof(c->x.why), "unrequested 101 "
		    "response");
		conn_fail(c, 502, "The origin server sent a malformed "
		    "response.");
		return FORWARD_DONE;
	}
	/* HTTP/1.0 has no 1xx (RFC 9110 §15.2): a 1.0 client never sees it. */
	if (c->x.req.minor >= 1 && (rewrite_response(resp, c->cfg, false, NULL,
	    c->work, c->work_cap, &len) == -1 ||
	    conn_send_client(c, c->work, len) == -1)) {
		c->x.keep = false;
		return FORWARD_DONE;
	}
	memmove(c->resp_buf, c->resp_buf + head, c->x.resp_len - head);
	c->x.resp_len -= head;
	return FORWARD_OK;
}

/*
 * After a complete response: keep the origin connection for the next
 * request if the whole exchange went through it cleanly and the origin
 * lets it persist; close it otherwise.
 */
static void
forward_release_upstream(struct conn *c, const struct http_response *resp,
    bool clean)
{
	const struct uri *u = &c->x.req.uri;
	const struct parent_addr *a = c->x.parent_addr;

	if (!clean || !resp->keep_alive || resp->framing.kind == BODY_CLOSE ||
	    (a != NULL && a->kind != PARENT_HTTP))
		close(c->upstream_fd);	/* a SOCKS5 one is not kept */
	else if (a != NULL)	/* keyed by the parent's URL (conn.c) */
		reuse_put(c->upstream_fd, a->text, strlen(a->text), a->port,
		    c->x.upstream_name, NULL, c->cfg);
	else
		reuse_put(c->upstream_fd, u->host, u->host_len, u->port,
		    c->x.upstream_name, &c->x.upstream_addr, c->cfg);
	c->upstream_fd = -1;
}

/*
 * The Connection value of an answer to the client, from c->x.keep: close,
 * keep-alive for an HTTP/1.0 client (which closes otherwise), or none.
 */
static const char *
forward_connection(const struct conn *c)
{
	if (!c->x.keep)
		return "close";
	return c->x.req.minor == 0 ? "keep-alive" : NULL;
}

/*
 * What the client is told about its connection: it persists only if it
 * asked to and the body's end can be seen without closing.
 */
static const char *
forward_client_persistence(struct conn *c, const struct http_response *resp,
    bool dechunk)
{
	if (resp->framing.kind == BODY_CLOSE || dechunk)
		c->x.keep = false;
	return forward_connection(c);
}

/*
 * Send the rewritten head (work[0..len)) together with the part of a
 * length-framed body that arrived with it, in one send: a small response
 * then leaves in one packet, not two. Returns how many body bytes went
 * along in *inl, or -1 if the client is gone.
 */
static int
forward_send_final_head(struct conn *c, const struct http_response *resp,
    size_t len, size_t *inl)
{
	size_t pre = c->x.resp_len - resp->head_len;

	*inl = 0;
	if (resp->framing.kind == BODY_LENGTH) {
		if (resp->framing.length < pre)
			pre = (size_t)resp->framing.length;
		if (pre <= c->work_cap - len) {
			memcpy(c->work + len, c->resp_buf + resp->head_len,
			    pre);
			*inl = pre;
		}
	}
	return conn_send_client(c, c->work, len + *inl);
}

/*
 * An HTTP/1.0 client may be sent no transfer coding (RFC 9112 §6.1).
 * ferry decodes chunked for it, but no other (gzip...), and it does not
 * relabel one as a content coding: Content-Encoding would say the
 * representation itself is compressed (RFC 9110 §8.4), which changes its
 * meaning, validators and caching. So such a response is 502 rather than
 * passed on mislabelled. Returns true if it answered so.
 */
static bool
forward_coding_refused(struct conn *c, const struct http_response *resp)
{
	if (c->x.req.minor >= 1 || !resp->framing.coded)
		return false;
	snprintf(c->x.why, sizeof(c->x.why), "response has a transfer coding "
	    "other than chunked, for an HTTP/1.0 client");
	conn_fail(c, 502, "The origin server sent the response in a transfer "
	    "coding (such as gzip) that an HTTP/1.0 client cannot receive, "
	    "and the proxy does not decode it. Retry with HTTP/1.1.");
	return true;
}

/*
 * A parent's 407 asks for ferry's credentials, not the client's: passed
 * on, it would have the client type a password for a proxy it does not
 * know. Returns true if it answered 502 instead.
 */
static bool
forward_parent_refused(struct conn *c, const struct http_response *resp)
{
	if (resp->code != 407 || !conn_to_http_parent(c))
		return false;
	snprintf(c->x.why, sizeof(c->x.why), "parent %s (%s) refused ferry's "
	    "credentials: 407", c->x.route.parent->name,
	    c->x.parent_addr->text);
	conn_fail(c, 502, "The parent proxy refused this proxy's credentials.");
	return true;
}

/* Send the final response head and relay its body. */
static void
forward_final(struct conn *c, const struct http_response *resp)
{
	struct body_relay r;
	bool dechunk = resp->framing.kind == BODY_CHUNKED &&
	    c->x.req.minor == 0;
	const char *connection = forward_client_persistence(c, resp, dechunk);
	struct framing rest = resp->framing;
	enum body_result res;
	size_t len, used, inl;

	if (forward_parent_refused(c, resp) || forward_coding_refused(c, resp))
		return;
	/* No Transfer-Encoding to HTTP/1.0, with a body or not (§6.1). */
	if (rewrite_response(resp, c->cfg, c->x.req.minor == 0, connection,
	    c->work, c->work_cap, &len) == -1) {
		snprintf(c->x.why, sizeof(c->x.why), "response head too large");
		conn_fail(c, 502, "The origin server sent a malformed "
		    "response.");
		return;
	}
	c->x.status = resp->code;
	c->x.head_sent = true;
	trace_stage(&c->trace, "response head %d from the origin (%zu bytes), "
	    "relayed as %zu bytes", resp->code, resp->head_len, len);
	if (forward_send_final_head(c, resp, len, &inl) == -1) {
		c->x.keep = false;
		return;
	}
	if (rest.kind == BODY_LENGTH)
		rest.length -= inl;
	r = (struct body_relay){ .path = { .from = c->upstream_fd,
	    .to = c->client_fd, .read_ms = conn_upstream_timeout_ms(c),
	    .write_ms = conn_client_timeout_ms(c), .buf = c->work,
	    .cap = c->work_cap, .pipe = &c->pipe }, .dechunk = dechunk };
	res = body_relay(&r, &rest, c->resp_buf + resp->head_len + inl,
	    c->x.resp_len - resp->head_len - inl, &used);
	used += inl;
	c->x.bytes_out += r.nwritten;
	/* The body bytes read past what came with the head. */
	if (r.nread > c->x.resp_len - resp->head_len - inl)
		metrics_add(METRICS_UPSTREAM_IN, r.nread - (c->x.resp_len -
		    resp->head_len - inl));
	trace_stage(&c->trace, "response body relayed: %llu bytes%s",
	    (unsigned long long)r.nwritten + inl,
	    res == BODY_OK ? "" : ", cut short");
	if (res != BODY_OK) {
		c->x.keep = false;
		c->x.stalled = res == BODY_WRITE_ERR && r.err == ETIMEDOUT;
		snprintf(c->x.why, sizeof(c->x.why), "response body cut "
		    "short: %s",
		    res == BODY_BAD_CHUNK ? "bad chunked coding from origin" :
		    res == BODY_EOF ? "origin closed early" : strerror(r.err));
		return;
	}
	/* Bytes past the body were never asked for: that origin is broken. */
	forward_release_upstream(c, resp, c->x.upstream_clean &&
	    used == c->x.resp_len - resp->head_len && r.rest_len == 0);
}

/* Relay interim responses, then the final one. */
static enum forward_result
forward_response(struct conn *c)
{
	struct http_response resp;
	enum forward_result fr;

	for (;;) {
		fr = forward_read_response_head(c, &resp);
		if (fr != FORWARD_OK)
			return fr;
		if (resp.code >= 200)
			break;
		if (forward_interim(c, &resp) != FORWARD_OK)
			return FORWARD_DONE;
	}
	forward_final(c, &resp);
	return FORWARD_DONE;
}

/*
 * Keep what the body relay read past the end of a chunked request body:
 * the start of the client's next request. It is at most the relay's cap,
 * which forward_body() keeps within req_cap.
 */
static void
forward_keep_rest(struct conn *c, const struct body_relay *r)
{
	if (r->rest_len == 0)
		return;
	if (c->carry == NULL && (c->carry = malloc(c->req_cap)) == NULL) {
		c->x.keep = false;	/* lose no byte silently: close */
		return;
	}
	memcpy(c->carry, r->rest, r->rest_len);
	c->carry_len = r->rest_len;
}

/*
 * Stream the request body upstream. Returns FORWARD_OK, FORWARD_STALE, or
 * FORWARD_DONE when the exchange is over (the client failed, or was
 * answered with an error).
 */
static enum forward_result
forward_body(struct conn *c)
{
	struct body_relay r;
	enum body_result res;
	size_t head = c->x.req.head_len, used;
	size_t cap = c->work_cap < c->req_cap ? c->work_cap : c->req_cap;

	r = (struct body_relay){ .path = { .from = c->client_fd,
	    .to = c->upstream_fd, .read_ms = conn_client_timeout_ms(c),
	    .write_ms = conn_upstream_timeout_ms(c), .buf = c->work,
	    .cap = cap, .pipe = &c->pipe }, .min_rate = c->cfg->min_rate,
	    .grace_ms = c->cfg->header_timeout * 1000 };
	res = body_relay(&r, &c->x.req.framing, c->req_buf + head,
	    c->req_len - head, &used);
	c->x.bytes_in += r.nread - used;
	c->x.body_used = used;
	metrics_add(METRICS_UPSTREAM_OUT, r.nwritten);
	trace_stage(&c->trace, "request body sent to the origin: %llu bytes",
	    (unsigned long long)r.nwritten);
	if (res == BODY_OK) {
		forward_keep_rest(c, &r);
		return FORWARD_OK;
	}
	/* Part of the body may be left unread: this connection must end. */
	c->x.keep = false;
	switch (res) {
	case BODY_BAD_CHUNK:
		conn_fail(c, 400, "The request body has invalid chunked "
		    "coding.");
		return FORWARD_DONE;
	case BODY_WRITE_ERR:
		/* The origin may have answered early (413, 401...). */
		snprintf(c->x.why, sizeof(c->x.why), "sending body upstream: "
		    "%s",
		    strerror(r.err));
		return forward_response(c);
	default:
		snprintf(c->x.why, sizeof(c->x.why), "client body %s",
		    res == BODY_EOF ? "cut short" : strerror(r.err));
		if (res == BODY_READ_ERR && r.err == ETIMEDOUT)
			conn_fail(c, 408, "The request body did not arrive in "
			    "time.");
		return FORWARD_DONE;
	}
}

/*
 * Expect: 100-continue (RFC 9110 §10.1.1). The head went upstream; the
 * client waits for "100 Continue" before sending the body. Wait for
 * whichever speaks first: the origin (100, or a final answer such as 417
 * that makes the body moot) or the client (it got tired of waiting).
 * Returns FORWARD_OK to send the body, FORWARD_STALE, or FORWARD_DONE if
 * the exchange is already complete.
 */
static enum forward_result
forward_await_continue(struct conn *c)
{
	struct pollfd p[2] = { { c->client_fd, POLLIN, 0 },
	    { c->upstream_fd, POLLIN, 0 } };
	struct http_response resp;
	enum forward_result fr;
	int n, code;

	for (;;) {
		/* Bytes after a 103 may already hold the next head. */
		if (c->x.resp_len == 0) {
			do {
				n = poll(p, 2, conn_upstream_timeout_ms(c));
			} while (n == -1 && errno == EINTR);
			if (n <= 0 || p[0].revents != 0)
				return FORWARD_OK;
		}
		fr = forward_read_response_head(c, &resp);
		if (fr != FORWARD_OK)
			return fr;
		if (resp.code >= 200) {
			/* The body the client holds back is never read. */
			c->x.keep = false;
			forward_final(c, &resp);
			return FORWARD_DONE;
		}
		code = resp.code;
		fr = forward_interim(c, &resp);
		/* Another 1xx (103 Early Hints): the 100 is still to come. */
		if (fr != FORWARD_OK || code == 100)
			return fr;
	}
}

/*
 * A chunked body whose first bytes came in with the head is checked before
 * anything goes upstream: a request smuggled in one packet behind bad chunk
 * sizes is refused without the origin ever seeing its head. (Later bytes
 * are checked as they stream; body.c never forwards an invalid chunk.)
 */
static int
forward_check_early_body(struct conn *c)
{
	size_t head = c->x.req.head_len;

	if (c->x.req.framing.kind != BODY_CHUNKED ||
	    chunked_scan(c->req_buf + head, c->req_len - head) != CHUNKED_BAD)
		return 0;
	conn_fail(c, 400, "The request body has invalid chunked coding.");
	return -1;
}

/*
 * Max-Forwards on TRACE and OPTIONS (RFC 9110 §7.6.2): a malformed one is
 * 400; at zero ferry is the final recipient and answers 200 itself, as
 * any response: logged with its status, and the connection persists if
 * the client wants it and the body (if any) is in hand. Returns true if
 * the exchange is over; false to forward (rewrite_request() then counts
 * the value down).
 */
static bool
forward_max_forwards(struct conn *c)
{
	const char *why = NULL, *connection;
	uint64_t hops;
	size_t len;

	switch (maxfwd_check(&c->x.req, &hops, &why)) {
	case MAXFWD_BAD:
		conn_fail(c, 400, why);
		return true;
	case MAXFWD_ANSWER:
		break;
	default:
		return false;
	}
	/*
	 * The connection goes on only if the body, never forwarded, is used
	 * up already (the next request starts after it).
	 */
	if (conn_body_in_hand(c)) {
		if (c->x.req.framing.kind == BODY_LENGTH)
			c->x.body_used = (size_t)c->x.req.framing.length;
	} else {
		c->x.keep = false;
		c->x.linger = true;	/* drain the body, never read */
	}
	connection = forward_connection(c);
	len = maxfwd_answer(&c->x.req, time(NULL), connection, c->work,
	    c->work_cap);
	if (len == 0) {
		/* Not expected: work_cap exceeds any head by 1 KiB. */
		conn_fail(c, 500, "The answer to this request does not fit in "
		    "the proxy's buffer.");
		return true;
	}
	c->x.status = 200;
	c->x.head_sent = true;
	trace_stage(&c->trace, "Max-Forwards 0: answered by ferry itself, "
	    "%zu bytes", len);
	if (conn_send_client(c, c->work, len) == -1)
		c->x.keep = false;
	return true;
}

/* One try at the whole exchange on one origin connection. */
static enum forward_result
forward_attempt(struct conn *c, bool reuse)
{
	bool has_body = c->x.req.framing.kind != BODY_NONE;
	enum forward_result fr;

	c->x.upstream_clean = false;
	c->x.resp_len = 0;
	if (conn_connect_upstream(c, reuse) == -1)
		return FORWARD_DONE;
	fr = forward_send_head(c);
	if (fr == FORWARD_OK && has_body && c->x.req.expect_continue &&
	    c->req_len == c->x.req.head_len)
		fr = forward_await_continue(c);
	if (fr == FORWARD_OK && has_body)
		fr = forward_body(c);
	if (fr != FORWARD_OK)
		return fr;
	c->x.upstream_clean = true;	/* the whole request went out */
	return forward_response(c);
}

/*
 * Whether the request may be sent again after a reused connection died
 * under it: nothing of it can have been acted on twice by a sane origin
 * (idempotent, RFC 9110 §9.2.2), and its body, if any, is still at hand.
 */
static bool
forward_replayable(const struct conn *c)
{
	static const char *const idempotent[] = {
		"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"
	};
	size_t i, len = c->x.req.method_len;

	if (!conn_body_in_hand(c))
		return false;
	for (i = 0; i < nitems(idempotent); i++)
		if (strlen(idempotent[i]) == len &&
		    memcmp(idempotent[i], c->x.req.method, len) == 0)
			return true;
	return false;
}

void
forward_serve(struct conn *c)
{
	enum forward_result fr;

	if (forward_max_forwards(c) || forward_check_early_body(c) == -1)
		return;
	fr = forward_attempt(c, forward_replayable(c));
	if (fr != FORWARD_STALE)
		return;
	/* Only a replayable request was sent on a reused connection. */
	io_close(&c->upstream_fd);
	log_msg(LOGL_DEBUG, "%s: idle origin connection to %s was closed "
	    "or unfit; sending again on a new one", c->client_ip,
	    c->x.upstream_name);
	(void)forward_attempt(c, false);
}
