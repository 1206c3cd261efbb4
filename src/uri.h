/*
 * uri.h: request-target parsing for a forward proxy (RFC 9112 §3.2).
 *
 * Path: parse: the request-target and the Host field; the host and port it
 * finds are where connect goes.
 *
 * A forward proxy sees absolute-form ("http://host:port/path?q") for
 * ordinary requests and authority-form ("host:port") for CONNECT. The
 * results borrow the caller's buffer.
 */
#ifndef FERRY_URI_H
#define FERRY_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URI_HOST_MAX 255

/* A parsed target; every pointer borrows the buffer that was parsed. */
struct uri {
	const char	*authority;	/* host[:port] as written */
	size_t		 authority_len;
	const char	*host;		/* without IPv6 brackets */
	size_t		 host_len;
	uint16_t	 port;
	const char	*path;		/* path and query; may be empty */
	size_t		 path_len;
};

/*
 * Parse an absolute-form http:// target t[0..len) into *u (port 80 when
 * none is given). Returns 0, or 400 with *why set to a fixed string (other
 * scheme, origin-form, userinfo, bad host or port, fragment). Pure, like
 * the other two: any thread.
 */
int uri_parse_absolute(const char *t, size_t len, struct uri *u,
    const char **why);

/*
 * Parse CONNECT's authority-form "host:port" (port required) into *u.
 * Returns 0, or 400 with *why set.
 */
int uri_parse_authority(const char *t, size_t len, struct uri *u,
    const char **why);

/*
 * Check a Host header value: host with an optional port, or empty.
 * Returns 0, or 400.
 */
int uri_check_host_field(const char *v, size_t len);

#endif
