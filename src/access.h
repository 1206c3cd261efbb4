/*
 * access.h: the access log line, one per request.
 *
 * Path: log, at the end of each request, after the response or the error
 * page and before the connection is parked or closed.
 *
 * The format is combined-like, so that log tools read it, with ferry's
 * own fields at the end:
 *
 *   CLIENT - - [DD/Mon/YYYY:HH:MM:SS +0000] "REQUEST LINE" STATUS BYTES MS UPSTREAM
 *
 * BYTES is what went to the client (head and body), MS the time from
 * accept to close, UPSTREAM the origin's address as ip:port ("-" if ferry
 * never connected). A request that could not be parsed logs "-" as its
 * request line. This module only formats; log.c writes.
 */
#ifndef FERRY_ACCESS_H
#define FERRY_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for any line access_format() writes. */
#define ACCESS_LINE_MAX 1536

/* One request for the line. Every pointer is borrowed from the caller. */
struct access_entry {
	const char	*client;	/* numeric address */
	time_t		 when;		/* when the request arrived */
	const char	*method;	/* NULL: no parsed request */
	size_t		 method_len;
	const char	*target;	/* as received */
	size_t		 target_len;
	int		 minor;		/* HTTP/1.<minor> */
	int		 status;	/* 0: no answer was sent */
	uint64_t	 bytes_out;
	uint64_t	 ms;
	const char	*upstream;	/* "" or NULL: none */
};

/*
 * Format e as one line ending in '\n' into buf (cap >= ACCESS_LINE_MAX).
 * In the method and the target, bytes other than visible ASCII (space
 * included), '"' and '\' are written as \xHH, and a target too long for
 * the line is cut with "...". Returns the line's length. Pure: reads e,
 * writes only buf, so any thread may call it.
 */
size_t access_format(char *buf, size_t cap, const struct access_entry *e);

#endif
