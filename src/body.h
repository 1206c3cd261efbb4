/*
 * body.h: streaming a message body from one socket to another.
 *
 * Path: forward body (the request body, client to origin) and relay
 * response (the response body, origin to client).
 *
 * The body is never held whole: it moves through one buffer of the
 * connection's (or, framed by length or close, through a pipe with
 * splice: splice.c), a buffer at a time, exactly as framed (RFC 9112 §6):
 * Content-Length bytes, the chunked coding up to its end, or everything up
 * to EOF. A length-framed body is read exactly; the chunked loop reads a
 * buffer at a time and may take bytes past the end (a pipelined request,
 * say), which it hands back in rest.
 */
#ifndef FERRY_BODY_H
#define FERRY_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"
#include "splice.h"

/*
 * One relay. The sockets, buf and pipe are borrowed from the connection;
 * nread and nwritten are added to, so start them at 0.
 */
struct body_relay {
	struct splice_path	 path;		/* from, to, waits, buf, pipe */
	bool			 dechunk;	/* send chunk data only (1.0) */
	uint64_t		 nread;		/* body bytes used, pre's too */
	uint64_t		 nwritten;	/* bytes written to 'to' */
	int			 err;		/* errno of a READ/WRITE_ERR */
	/*
	 * A least rate for 'from' when it is a client sending a body
	 * ([client] min_rate): 0, or bytes a second it must keep up over
	 * the time ferry spends waiting for it, after grace_ms of such
	 * waiting (time the other side takes does not count; a spliced
	 * move counts whole). A slower sender fails with BODY_READ_ERR,
	 * ETIMEDOUT, when it falls behind. waited_ms: start it at 0.
	 */
	unsigned		 min_rate;
	unsigned		 grace_ms;
	uint64_t		 waited_ms;
	const char		*rest;		/* read past the body's end */
	size_t			 rest_len;	/* at most path.cap */
};

enum body_result {
	BODY_OK,
	BODY_EOF,	/* 'from' closed before the body ended */
	BODY_READ_ERR,	/* r->err set; ETIMEDOUT if 'from' went quiet */
	BODY_WRITE_ERR,	/* r->err set */
	BODY_BAD_CHUNK	/* invalid chunked coding; bad bytes never sent */
};

/*
 * Relay one body framed by fr. pre[0..prelen) holds bytes already read
 * from 'from' (what followed the head); *pre_used tells how many of them
 * belonged to the body. Bytes read from 'from' past the end are left in
 * r->rest[0..rest_len) (a part of r->buf) until the buffer is used again;
 * when there are any, all of pre was used. Returns BODY_OK once the whole
 * body went through (for BODY_CLOSE: once 'from' closed), else the first
 * failure; every wait is bounded by r's timeouts. BODY_NONE moves nothing.
 * Runs on the connection's worker thread; nothing here is shared.
 */
enum body_result body_relay(struct body_relay *r, const struct framing *fr,
    const char *pre, size_t prelen, size_t *pre_used);

#endif
