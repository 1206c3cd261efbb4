/*
 * upstream.h: resolving the origin and connecting to it, with retry.
 *
 * Path: connect, when no idle kept connection is taken.
 *
 * A connect is tried on each resolved address in turn (one round); after a
 * round where every address failed, up to [upstream] retries more rounds
 * follow with a short growing pause. Nothing has been sent when this runs,
 * so retrying can never replay a request.
 *
 * Before any connect, each resolved address is put to the destination
 * rules and the internal-address guard (policy_addr_verdict()): the check
 * is on the very address passed to connect(), so a name that resolves to
 * a safe address at one moment and an internal one the next (DNS
 * rebinding) cannot slip through. Refused addresses are skipped.
 */
#ifndef FERRY_UPSTREAM_H
#define FERRY_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dest.h"
#include "trace.h"
#include "uri.h"

/* How a connect ended; the caller maps each failure to a status. */
enum upstream_result {
	UPSTREAM_OK = 0,
	UPSTREAM_UNRESOLVED,	/* the name did not resolve (or was too long) */
	UPSTREAM_FAILED,	/* refused or unreachable on every attempt */
	UPSTREAM_TIMEDOUT,	/* the last attempt timed out */
	UPSTREAM_LOOP,		/* an address is ferry's own (loopguard.h) */
	UPSTREAM_DENIED,	/* the rules refused every address */
	UPSTREAM_INTERNAL	/* ... the last by the internal-address guard */
};

/*
 * Connect to u's host and port, whose name rules matched *match
 * (dest_match_name()), by the rules of policy p (those of the live snapshot:
 * see conn_rules()) and the limits of cfg; a name that resolves to ferry's own
 * listening address is refused before any connect, and so is one whose every
 * address the policy refuses. Each address tried is a stage of the trace t
 * (NULL: none). Returns UPSTREAM_OK with the connected socket in *fd
 * (non-blocking, close-on-exec, with TCP_NODELAY; the caller closes it), or the
 * failure with *fd = -1. why receives the cause for the log, naming the address
 * that failed and the number of rounds tried. Blocks the calling worker for the
 * lookup, each connect (up to [upstream] connect_timeout) and the pauses
 * between rounds. Any thread: u and t are the caller's, nothing is shared.
 */
enum upstream_result upstream_connect(const struct uri *u,
    const struct policy *p, const struct dest_match *match,
    const struct ferry_config *cfg, struct trace *t, int *fd, char *why,
    size_t whylen);

/*
 * Count a connect's outcome in the metrics (metrics.h: ok, refused,
 * timeout, dns, loop, denied), once per request's connect. Any thread.
 */
void upstream_count(enum upstream_result r);

/*
 * The pause before retry round round (0: none): short and growing, so a
 * refused connect is tried again soon but a dead host is not hammered.
 */
void upstream_pause(unsigned round);

/*
 * Connect to a parent proxy at host:port (route.h): no destination rules
 * and no guard, since parents may sit on internal addresses by design,
 * but never to ferry's own listening address (UPSTREAM_LOOP: with [headers]
 * via = no, Via could not tell). One round: each resolved address once
 * (at most 8), each within connect_timeout, each a trace stage. Returns
 * the socket (as upstream_connect() gives it) with *res UPSTREAM_OK, or
 * -1 with the failure in *res and the cause in why. Blocks.
 */
int upstream_dial(const char *host, uint16_t port,
    const struct ferry_config *cfg, struct trace *t,
    enum upstream_result *res, char *why, size_t whylen);

#endif
