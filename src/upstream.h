/*
 * upstream.h: resolving the origin and connecting to it, with retry.
 *
 * A connect is tried on each resolved address in turn (one round); after a
 * round where every address failed, up to [upstream] retries more rounds
 * follow with a short growing pause. Nothing has been sent when this runs,
 * so retrying can never replay a request.
 */
#ifndef FERRY_UPSTREAM_H
#define FERRY_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Connect to host[0..host_len):port. Returns 0 with the connected socket
 * in *fd (the caller closes it), or the HTTP status to answer: 502 (name
 * not resolved, refused, unreachable) or 504 (every attempt timed out).
 * why receives the cause for the log, naming the address that failed.
 */
int upstream_connect(const char *host, size_t host_len, uint16_t port,
    const struct ferry_config *cfg, int *fd, char *why, size_t whylen);

/* Turn on TCP_NODELAY: ferry writes whole heads, never tiny pieces. */
void upstream_nodelay(int fd);

#endif
