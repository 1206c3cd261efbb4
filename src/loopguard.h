/*
 * loopguard.h: forwarding-loop detection.
 *
 * Path: refuse, after parse (a Via that names ferry), and connect (an
 * address that is ferry's own, checked before connecting).
 *
 * A proxy asked to fetch a URL that points back at itself would take a
 * worker per hop until it has none left. ferry refuses such a request with
 * 508 (Loop Detected) in two ways: before connecting, when the origin's
 * address is ferry's own listening socket; and on arrival, when the
 * request's Via field shows it has already passed through this instance
 * (ferry adds "Via: 1.1 NAME" to what it forwards, RFC 9110 §7.6.3, NAME
 * being [headers] via_name, the host name by default). Only this
 * instance's own name counts: a request that came through another ferry
 * (a chain of parents, route.h) is forwarded, and a real loop A -> B -> A
 * is refused by A at once, since A's name is in the Via B forwarded.
 */
#ifndef FERRY_LOOPGUARD_H
#define FERRY_LOOPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "field.h"

/*
 * True if a Via field among f[0..n) names name (NUL-terminated: [headers]
 * via_name) as the received-by part of a hop, in any case. Pure: any
 * thread.
 */
bool loopguard_via_seen(const struct http_field *f, size_t n,
    const char *name);

/*
 * True if connecting to sa would reach one of ferry's own listening
 * sockets as cfg describes them (cfg->listens): the same port, and the
 * listening address itself, or, for a wildcard listener, any address of
 * this host (then it reads the interface list with getifaddrs()).
 * Thread-safe.
 */
bool loopguard_is_self(const struct sockaddr *sa,
    const struct ferry_config *cfg);

#endif
