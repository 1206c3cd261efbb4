/*
 * gather.c: reading a request head without blocking (see gather.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "gather.h"

bool
gather_ready(const char *buf, size_t len, size_t cap,
    const struct http_limits *lim, struct http_field *fields)
{
	struct http_request req;

	if (len == cap)
		return true;	/* the worker answers 431 */
	return http_parse_request(buf, len, lim, fields, &req) != HTTP_PARTIAL;
}

enum gather_state
gather_read(struct gather *g, int fd, const struct http_limits *lim,
    struct http_field *fields)
{
	ssize_t n;

	if (g->buf == NULL && (g->buf = malloc(g->cap)) == NULL)
		return GATHER_CLOSED;
	while (g->len < g->cap) {
		n = recv(fd, g->buf + g->len, g->cap - g->len, MSG_DONTWAIT);
		if (n == 0)
			return GATHER_CLOSED;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    GATHER_MORE : GATHER_CLOSED;
		}
		g->len += (size_t)n;
		if (http_head_worth_parsing(g->buf, g->len, (size_t)n, g->cap,
		    &g->line_seen) && gather_ready(g->buf, g->len, g->cap,
		    lim, fields))
			return GATHER_READY;
	}
	return GATHER_READY;
}

void
gather_free(struct gather *g)
{
	free(g->buf);
	g->buf = NULL;
	g->len = 0;
	g->line_seen = false;
}
