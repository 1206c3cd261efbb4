/*
 * forward.c: a plain-HTTP exchange (see forward.h).
 *
 *   connect upstream (upstream.c, with retry)
 *   send the rewritten head (rewrite.c)
 *   [Expect: 100-continue: wait for the origin's go-ahead or the client]
 *   stream the request body (body.c)
 *   read response heads: relay 1xx, then the final head and its body
 *
 * Every failure before a response head reached the client becomes an
 * error page through conn_fail(); after that, the connection is closed,
 * which is the only way left to tell the client something went wrong.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "chunked.h"
#include "forward.h"
#include "io.h"
#include "rewrite.h"

/* Rewrite the request head and send it upstream. */
static int
forward_send_head(struct conn *c)
{
	size_t len;

	if (rewrite_request(&c->req, c->cfg, c->client_ip, c->work,
	    c->work_cap, &len) == -1) {
		conn_fail(c, 431, "The request head is too large to forward.");
		return -1;
	}
	if (io_send_all(c->upstream_fd, c->work, len,
	    conn_upstream_timeout_ms(c)) == -1) {
		snprintf(c->why, sizeof(c->why), "sending head upstream: %s",
		    strerror(errno));
		conn_fail(c, 502, "The connection to the origin server failed.");
		return -1;
	}
	return 0;
}

/*
 * Read one response head into resp_buf (which may already hold bytes).
 * Returns 0 with *resp parsed, or -1 after answering 502/504.
 */
static int
forward_read_response_head(struct conn *c, struct http_response *resp)
{
	struct http_limits lim = { c->cfg->max_headers, 0 };
	enum http_result r;
	ssize_t n;

	for (;;) {
		r = http_parse_response(c->resp_buf, c->resp_len, &lim,
		    c->resp_fields, c->req.is_head, resp);
		if (r == HTTP_DONE)
			return 0;
		if (r == HTTP_BAD || c->resp_len == c->resp_cap) {
			snprintf(c->why, sizeof(c->why), "bad response: %s",
			    r == HTTP_BAD ? resp->error : "head too large");
			conn_fail(c, 502, "The origin server sent a malformed "
			    "response.");
			return -1;
		}
		n = io_recv(c->upstream_fd, c->resp_buf + c->resp_len,
		    c->resp_cap - c->resp_len, conn_upstream_timeout_ms(c));
		if (n > 0) {
			c->resp_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == ETIMEDOUT) {
			snprintf(c->why, sizeof(c->why), "origin sent no "
			    "response within io_timeout (%us)",
			    c->cfg->io_timeout);
			conn_fail(c, 504, "The origin server did not answer in "
			    "time.");
			return -1;
		}
		snprintf(c->why, sizeof(c->why), "origin closed without a "
		    "complete response%s%s", n < 0 ? ": " : "",
		    n < 0 ? strerror(errno) : "");
		conn_fail(c, 502, "The origin server closed the connection "
		    "without answering.");
		return -1;
	}
}

/* Send a 1xx response on (HTTP/1.1 clients only) and drop it. */
static int
forward_interim(struct conn *c, const struct http_response *resp)
{
	size_t len, head = resp->head_len;

	if (resp->code == 101) {
		/* ferry never forwards Upgrade, so 101 is a broken origin. */
		snprintf(c->why, sizeof(c->why), "unrequested 101 response");
		conn_fail(c, 502, "The origin server sent a malformed "
		    "response.");
		return -1;
	}
	/* HTTP/1.0 has no 1xx (RFC 9110 §15.2): such a client never sees it. */
	if (c->req.minor >= 1 && (rewrite_response(resp, c->cfg, false,
	    c->work, c->work_cap, &len) == -1 ||
	    conn_send_client(c, c->work, len) == -1))
		return -1;
	memmove(c->resp_buf, c->resp_buf + head, c->resp_len - head);
	c->resp_len -= head;
	return 0;
}

/* Send the final response head and relay its body. */
static void
forward_final(struct conn *c, const struct http_response *resp)
{
	struct body_relay r;
	bool dechunk = resp->framing.kind == BODY_CHUNKED && c->req.minor == 0;
	enum body_result res;
	size_t len, used;

	if (rewrite_response(resp, c->cfg, dechunk, c->work, c->work_cap,
	    &len) == -1) {
		snprintf(c->why, sizeof(c->why), "response head too large");
		conn_fail(c, 502, "The origin server sent a malformed "
		    "response.");
		return;
	}
	c->status = resp->code;
	c->head_sent = true;
	if (conn_send_client(c, c->work, len) == -1)
		return;
	r = (struct body_relay){ c->upstream_fd, c->client_fd,
	    conn_upstream_timeout_ms(c), conn_client_timeout_ms(c), c->work,
	    c->work_cap, dechunk, 0, 0 };
	res = body_relay(&r, &resp->framing, c->resp_buf + resp->head_len,
	    c->resp_len - resp->head_len, &used);
	c->bytes_out += r.nwritten;
	if (res != BODY_OK)
		snprintf(c->why, sizeof(c->why), "response body cut short: %s",
		    res == BODY_BAD_CHUNK ? "bad chunked coding from origin" :
		    res == BODY_EOF ? "origin closed early" : strerror(errno));
}

/* Relay interim responses, then the final one. */
static void
forward_response(struct conn *c)
{
	struct http_response resp;

	for (;;) {
		if (forward_read_response_head(c, &resp) == -1)
			return;
		if (resp.code >= 200)
			break;
		if (forward_interim(c, &resp) == -1)
			return;
	}
	forward_final(c, &resp);
}

/*
 * Stream the request body upstream. Returns 0, or -1 when the exchange is
 * over (the client failed, or was answered with an error).
 */
static int
forward_body(struct conn *c)
{
	struct body_relay r;
	enum body_result res;
	size_t head = c->req.head_len, used;

	r = (struct body_relay){ c->client_fd, c->upstream_fd,
	    conn_client_timeout_ms(c), conn_upstream_timeout_ms(c), c->work,
	    c->work_cap, false, 0, 0 };
	res = body_relay(&r, &c->req.framing, c->req_buf + head,
	    c->req_len - head, &used);
	c->bytes_in += r.nread - used;
	switch (res) {
	case BODY_OK:
		return 0;
	case BODY_BAD_CHUNK:
		conn_fail(c, 400, "The request body has invalid chunked "
		    "coding.");
		return -1;
	case BODY_WRITE_ERR:
		/* The origin may have answered early (413, 401...): relay it. */
		snprintf(c->why, sizeof(c->why), "sending body upstream: %s",
		    strerror(errno));
		forward_response(c);
		return -1;
	default:
		snprintf(c->why, sizeof(c->why), "client body %s",
		    res == BODY_EOF ? "cut short" : strerror(errno));
		if (res == BODY_READ_ERR && errno == ETIMEDOUT)
			conn_fail(c, 408, "The request body did not arrive in "
			    "time.");
		return -1;
	}
}

/*
 * Expect: 100-continue (RFC 9110 §10.1.1). The head went upstream; the
 * client waits for "100 Continue" before sending the body. Wait for
 * whichever speaks first: the origin (100, or a final answer such as 417
 * that makes the body moot) or the client (it got tired of waiting).
 * Returns 1 to send the body, 0 if the exchange is already complete.
 */
static int
forward_await_continue(struct conn *c)
{
	struct pollfd p[2] = { { c->client_fd, POLLIN, 0 },
	    { c->upstream_fd, POLLIN, 0 } };
	struct http_response resp;
	int n;

	do {
		n = poll(p, 2, conn_upstream_timeout_ms(c));
	} while (n == -1 && errno == EINTR);
	if (n <= 0 || p[0].revents != 0)
		return 1;
	if (forward_read_response_head(c, &resp) == -1)
		return 0;
	if (resp.code >= 200) {
		forward_final(c, &resp);
		return 0;
	}
	return forward_interim(c, &resp) == 0 ? 1 : 0;
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
	size_t head = c->req.head_len;

	if (c->req.framing.kind != BODY_CHUNKED ||
	    chunked_scan(c->req_buf + head, c->req_len - head) != CHUNKED_BAD)
		return 0;
	conn_fail(c, 400, "The request body has invalid chunked coding.");
	return -1;
}

void
forward_serve(struct conn *c)
{
	bool has_body = c->req.framing.kind != BODY_NONE;

	if (forward_check_early_body(c) == -1)
		return;
	if (conn_connect_upstream(c) == -1 || forward_send_head(c) == -1)
		return;
	if (has_body && c->req.expect_continue &&
	    c->req_len == c->req.head_len && forward_await_continue(c) == 0)
		return;
	if (has_body && forward_body(c) == -1)
		return;
	forward_response(c);
}
