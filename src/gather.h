/*
 * gather.h: a request head read without blocking, and the test that says
 * a worker can take it.
 *
 * Path: between accept (or a keep-alive client's next request) and the
 * worker. The idle watcher (park.c) reads a client's head as its bytes
 * arrive, and a worker between two requests reads what is already there;
 * neither ever waits for a client. A connection reaches a worker only
 * when its head is "ready": whole, or already known to be bad, or as big
 * as the buffer may grow. So a client that trickles its head one byte a
 * second holds a small buffer, never a thread.
 *
 * Ready is what the strict parser says (http_parse_request() DONE or
 * BAD), asked only when http_head_worth_parsing() says a verdict may have
 * come, so gathering stays linear in the head's size however the client
 * slices it. The worker parses the head again: a few microseconds, and
 * one parser stays the only judge of a head.
 */
#ifndef FERRY_GATHER_H
#define FERRY_GATHER_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* A head being gathered. buf is malloc'd on the first read, cap bytes. */
struct gather {
	char		*buf;
	size_t		 len;
	size_t		 cap;		/* [limits] max_header_bytes */
	bool		 line_seen;	/* see http_head_worth_parsing() */
};

enum gather_state {
	GATHER_MORE,		/* valid so far: wait for more bytes */
	GATHER_READY,		/* a worker can answer it: whole, bad, or full */
	GATHER_CLOSED		/* the client closed or failed, or no memory */
};

/*
 * Whether buf[0..len), the start of a request head in a buffer of cap
 * bytes, is ready for a worker. fields has room for lim->max_fields.
 * Pure: any thread.
 */
bool gather_ready(const char *buf, size_t len, size_t cap,
    const struct http_limits *lim, struct http_field *fields);

/*
 * Read what fd (a non-blocking socket) has into g, never waiting, until
 * the head is ready, fd has nothing more, or it closed. Bytes past the
 * head (a body, a pipelined request) stay in g->buf for the worker. Any
 * thread; g and fields are the caller's.
 */
enum gather_state gather_read(struct gather *g, int fd,
    const struct http_limits *lim, struct http_field *fields);

/* Free g's buffer; g is empty after. */
void gather_free(struct gather *g);

#endif
