/*
 * access.h: the access log line, one per request.
 *
 * Path: log, at the end of each request, after the response or the error
 * page and before the connection is parked or closed.
 *
 * The format is combined-like, so that log tools read it, with ferry's
 * own fields at the end:
 *
 *   CLIENT - USER [DD/Mon/YYYY:HH:MM:SS +0000] "REQUEST LINE" STATUS BYTES MS UPSTREAM
 *
 * USER is the name the client logged in with ([auth]), "-" if none.
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
#define ACCESS_LINE_MAX 1792
/* Room for a user name escaped by access_escape(), cut short if longer. */
#define ACCESS_USER_MAX 256

/* One request for the line. Every pointer is borrowed from the caller. */
struct access_entry {
	const char	*client;	/* numeric address */
	const char	*user;		/* NULL or "": no login */
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
 * Format e as one line ending in '\n' into buf (cap >= ACCESS_LINE_MAX). In the
 * user, the method and the target, bytes other than visible ASCII (space
 * included), '"' and '\' are written as \xHH; a user or a target too long for
 * the line is cut with "...". Returns the line's length. Pure: reads e, writes
 * only buf, so any thread may call it.
 */
size_t access_format(char *buf, size_t cap, const struct access_entry *e);

/*
 * s[0..len) escaped as in the line (\xHH), NUL-terminated, into
 * out[0..ACCESS_USER_MAX), cut with "..." if it does not fit: a user name
 * that other log lines can carry as one field. Pure: any thread.
 */
void access_escape(const char *s, size_t len, char out[ACCESS_USER_MAX]);

#endif
