/*
 * body.h: streaming a message body from one socket to another.
 *
 * The body is never held whole: it moves through one buffer of the
 * connection's, at most a buffer at a time, exactly as framed (RFC 9112 §6):
 * Content-Length bytes, the chunked coding up to its end, or everything up
 * to EOF. Bytes after the body stay unread.
 */
#ifndef FERRY_BODY_H
#define FERRY_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"

struct body_relay {
	int		 from;		/* read side */
	int		 to;		/* write side */
	int		 read_timeout_ms;
	int		 write_timeout_ms;
	char		*buf;		/* the connection's relay buffer */
	size_t		 cap;
	bool		 dechunk;	/* send chunk data only, for HTTP/1.0 */
	uint64_t	 nread;		/* body bytes taken from 'from' */
	uint64_t	 nwritten;	/* bytes written to 'to' */
};

enum body_result {
	BODY_OK,
	BODY_EOF,	/* 'from' closed before the body ended */
	BODY_READ_ERR,	/* errno set; ETIMEDOUT if 'from' went quiet */
	BODY_WRITE_ERR,	/* errno set */
	BODY_BAD_CHUNK	/* invalid chunked coding; nothing of it was sent */
};

/*
 * Relay one body framed by fr. pre[0..prelen) holds bytes already read
 * from 'from' (what followed the head); *pre_used tells how many of them
 * belonged to the body.
 */
enum body_result body_relay(struct body_relay *r, const struct framing *fr,
    const char *pre, size_t prelen, size_t *pre_used);

#endif
