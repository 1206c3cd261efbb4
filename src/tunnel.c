/*
 * tunnel.c: CONNECT tunnels (see tunnel.h).
 *
 * The pump moves both directions at once: each has half of the work
 * buffer, and a poll() over the two sockets waits for whichever can move
 * next. A direction whose bytes are not yet taken stops reading until
 * they are (back-pressure: a slow reader slows its sender down instead of
 * filling memory), but never stops the other direction. Pumping one
 * direction at a time would be simpler and wrong: a peer that reads only
 * after it has finished writing (plenty do) would wait forever on ferry,
 * which would be waiting for that peer to read, though the same two peers
 * talk fine over a direct connection.
 *
 * Tunnels copy rather than splice (splice.c): measured on loopback, a
 * 256 MiB https download ran at 0.80-0.88x direct speed copied and
 * 0.64-0.67x spliced. TLS arrives in records of at most 16 KiB, and the
 * spliced path hands the receiver many small page fragments. When a side
 * reaches EOF and what it sent is delivered, the other side's write half
 * is shut down so the end of data travels through; the tunnel ends once
 * both directions are done.
 */
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "conn.h"
#include "httpdate.h"
#include "metrics.h"
#include "trace.h"
#include "tunnel.h"

/*
 * One direction of the tunnel: bytes read from 'from' wait in buf[off,
 * len) until 'to' has taken them. buf is the direction's own half of the
 * work buffer (home), except at the start, when it may hold what came
 * before the pump: the client's bytes behind its CONNECT head, or what a
 * parent sent behind its 2xx.
 */
struct tunnel_side {
	int			 from;
	int			 to;
	char			*home;		/* this direction's buffer */
	size_t			 cap;		/* its size */
	const char		*buf;		/* home, or the bytes before */
	size_t			 off;		/* first byte not yet written */
	size_t			 len;		/* bytes in buf */
	bool			 open;		/* 'from' may send more */
	bool			 shut;		/* 'to' has been half-closed */
	uint64_t		*count;		/* bytes delivered this way */
	enum metrics_counter	 metric;	/* the same, for /metrics */
	const char		*from_name;	/* for c->x.why */
	const char		*to_name;
};

/* Is a direction finished: its source closed and all it sent delivered? */
static bool
tunnel_side_done(const struct tunnel_side *s)
{
	return !s->open && s->off == s->len;
}

/* Empty s's buffer: what it held is delivered, or can no longer be. */
static void
tunnel_side_empty(struct tunnel_side *s)
{
	s->buf = s->home;
	s->off = s->len = 0;
}

/* Say why the tunnel broke: a read from or write to peer failed. */
static void
tunnel_fail(struct conn *c, const char *what, const char *peer)
{
	c->x.err = errno;
	if (c->x.why[0] == '\0')	/* the first cause, not its echoes */
		snprintf(c->x.why, sizeof(c->x.why), "tunnel %s %s: %s",
		    what, peer, strerror(c->x.err));
}

/*
 * Write what s holds to 'to' without blocking: all, part or none of it.
 * If 'to' is gone, this direction is over, but the tunnel goes on: what
 * that peer had already sent the other way is still delivered, as a
 * direct connection would (the read that meets its reset ends it).
 */
static void
tunnel_write(struct conn *c, struct tunnel_side *s)
{
	ssize_t n;

	while (s->off < s->len) {
		n = send(s->to, s->buf + s->off, s->len - s->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* poll() says when there is room */
		if (n == -1) {
			tunnel_fail(c, "write to", s->to_name);
			s->open = false;
			s->shut = true;	/* nothing to half-close */
			tunnel_side_empty(s);
			return;
		}
		s->off += (size_t)n;
		*s->count += (uint64_t)n;
		metrics_add(s->metric, (uint64_t)n);
	}
	tunnel_side_empty(s);
}

/*
 * Read what 'from' has into s's empty buffer without blocking, and pass
 * it on at once (mostly it all goes: one poll() per piece). On EOF, mark
 * the side closed. Returns 0, or -1 on a read error, which ends the
 * tunnel: that peer is gone both ways.
 */
static int
tunnel_read(struct conn *c, struct tunnel_side *s)
{
	ssize_t n;

	do
		n = recv(s->from, s->home, s->cap, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == -1) {
		tunnel_fail(c, "read from", s->from_name);
		return -1;
	}
	if (n == 0) {
		s->open = false;
		return 0;
	}
	s->buf = s->home;
	s->off = 0;
	s->len = (size_t)n;
	tunnel_write(c, s);
	return 0;
}

/*
 * Once a direction is finished, let its end of data travel through;
 * not after a failure (c->x.why says one), when the end is a reset
 * (tunnel_abort()) and a clean end of stream first would mislead.
 */
static void
tunnel_pass_eof(const struct conn *c, struct tunnel_side *s)
{
	if (tunnel_side_done(s) && !s->shut && c->x.why[0] == '\0') {
		(void)shutdown(s->to, SHUT_WR);
		s->shut = true;
	}
}

/*
 * The events a socket waits for: readable if the side reading it has
 * room, writable if the side writing to it holds bytes. A socket with
 * nothing to wait for is left out (fd -1), or a hang-up on it would wake
 * poll() at once, again and again.
 */
static void
tunnel_poll_set(struct pollfd *p, int fd, const struct tunnel_side *in,
    const struct tunnel_side *out)
{
	p->events = 0;
	if (in->open && in->len == 0)
		p->events |= POLLIN;
	if (out->off < out->len)
		p->events |= POLLOUT;
	p->fd = p->events != 0 ? fd : -1;
	p->revents = 0;
}

/*
 * Step one direction after poll(): write if its destination woke with
 * bytes waiting, read if its source woke with room to read into. An error
 * or hang-up counts as a wake-up for both: the write or read then says
 * what happened.
 */
static int
tunnel_step(struct conn *c, struct tunnel_side *s, short from_ev,
    short to_ev)
{
	const short gone = POLLERR | POLLHUP;

	if (s->off < s->len && (to_ev & (POLLOUT | gone)) != 0)
		tunnel_write(c, s);
	if (s->open && s->len == 0 && (from_ev & (POLLIN | gone)) != 0 &&
	    tunnel_read(c, s) == -1)
		return -1;
	tunnel_pass_eof(c, s);
	return 0;
}

/*
 * A tunnel that ended with bytes lost (an error, or idle with bytes not
 * taken) is cut with a reset on both sides. A plain close would end the
 * survivor's stream as if all had arrived, and a protocol that ends its
 * data by closing would take the truncated stream for a whole one.
 */
static void
tunnel_abort(struct conn *c)
{
	struct linger reset = { 1, 0 };

	(void)setsockopt(c->upstream_fd, SOL_SOCKET, SO_LINGER, &reset,
	    sizeof(reset));
	c->x.stalled = true;	/* conn_finish() resets the client too */
}

/*
 * Shuttle bytes until both directions are done, an error, or idle. The
 * bytes that came before the pump go first, through it, so that neither
 * waits on the other either.
 */
static void
tunnel_pump(struct conn *c, const char *early, size_t early_len)
{
	size_t half = c->work_cap / 2;
	struct tunnel_side side[2] = {
		{ c->client_fd, c->upstream_fd, c->work, half, c->work, 0,
		    0, true, false, &c->x.bytes_in, METRICS_UPSTREAM_OUT,
		    "client", "upstream" },
		{ c->upstream_fd, c->client_fd, c->work + half, half,
		    c->work + half, 0, 0, true, false, &c->x.bytes_out,
		    METRICS_UPSTREAM_IN, "upstream", "client" },
	};
	struct pollfd p[2];
	int n;

	/*
	 * From here c->x.why says why the tunnel broke, if it did: a connect
	 * that took a second address left its first address's failure here.
	 */
	c->x.why[0] = '\0';
	if (early_len > 0) {
		side[0].buf = early;
		side[0].len = early_len;
	}
	if (c->x.resp_len > 0) {
		side[1].buf = c->resp_buf;
		side[1].len = c->x.resp_len;
	}
	while (!tunnel_side_done(&side[0]) || !tunnel_side_done(&side[1])) {
		tunnel_poll_set(&p[0], c->client_fd, &side[0], &side[1]);
		tunnel_poll_set(&p[1], c->upstream_fd, &side[1], &side[0]);
		n = poll(p, 2, conn_client_timeout_ms(c));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->x.why, sizeof(c->x.why), n == 0 ?
			    "tunnel idle for %us" : "poll failed",
			    c->cfg->idle_timeout);
			if (n == -1 || side[0].len > 0 || side[1].len > 0)
				tunnel_abort(c);
			return;
		}
		if (tunnel_step(c, &side[0], p[0].revents, p[1].revents) ==
		    -1 || tunnel_step(c, &side[1], p[1].revents,
		    p[0].revents) == -1) {
			tunnel_abort(c);
			return;
		}
	}
	if (c->x.why[0] != '\0')	/* a write failed on the way */
		tunnel_abort(c);
}

/*
 * Tell the client the tunnel is open: 200 with a Date (RFC 9110 §6.6.1)
 * and nothing else; a 2xx to CONNECT carries neither Content-Length nor
 * Transfer-Encoding (RFC 9110 §9.3.6). Returns conn_send_client()'s
 * result.
 */
static int
tunnel_send_established(struct conn *c)
{
	char head[96], date[HTTPDATE_FIELD_SIZE];
	int n;

	(void)httpdate_field(time(NULL), date);
	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 200 Connection established\r\n%s\r\n", date);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;	/* cannot happen: it fits */
	return conn_send_client(c, head, (size_t)n);
}

void
tunnel_serve(struct conn *c)
{
	const struct uri *u = &c->x.req.uri;
	size_t head = c->x.req.head_len;

	/* serve_exchange() closed after a refusal if tunnel bytes came. */
	if (!config_connect_port_allowed(conn_rules(c), u->port)) {
		metrics_refused(METRICS_REFUSED_CONNECT_PORT);
		conn_fail(c, 403, "CONNECT is not allowed to this port.");
		return;
	}
	if (conn_connect_upstream(c, false) == -1)
		return;
	c->x.keep = false;	/* the tunnel is the rest of the connection */
	c->x.status = 200;
	c->x.head_sent = true;
	if (tunnel_send_established(c) == -1)
		return;
	/*
	 * The pump counts the client's bytes behind its head as it delivers
	 * them; what a parent sent behind its 2xx (hop.h) goes out by the
	 * pump too.
	 */
	c->x.bytes_in = head;
	metrics_add(METRICS_TUNNELS, 1);
	trace_stage(&c->trace, "tunnel open: 200 sent, shuttling bytes");
	tunnel_pump(c, c->req_buf + head, c->req_len - head);
	trace_stage(&c->trace, "tunnel closed%s%s: %llu bytes from the "
	    "client, %llu bytes to it", c->x.why[0] ? ", " : "", c->x.why,
	    (unsigned long long)c->x.bytes_in,
	    (unsigned long long)c->x.bytes_out);
}
