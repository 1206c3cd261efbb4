/*
 * explain.h: "ferry -t -c FILE HOST[:PORT]...": what the configuration
 * would do with a destination, without sending any traffic.
 *
 * Path: start-up only (main.c, with -t and destinations after the
 * options); never on the request path.
 *
 * For each destination it prints one line: the [destinations] verdict
 * the name rules give (for an IP literal, its address too, with the
 * internal-address guard), and the route the request would take (direct,
 * or the parent and its addresses in failover order). It asks exactly
 * the functions a request asks (dest_match_name(), policy_*(),
 * route_lookup()), so the line cannot disagree with what ferry does;
 * only a name's resolved addresses are left to connect time, and the
 * line says so.
 */
#ifndef FERRY_EXPLAIN_H
#define FERRY_EXPLAIN_H

#include <stdio.h>

#include "config.h"

/*
 * Explain destination text ("host", "host:port", "[v6]:port"; port 80 by
 * default, as an http:// URL) under cfg, one line to out. Returns 0 when
 * the destination would be allowed, 1 when refused, -1 (and a line
 * saying why) when text is no destination.
 */
int explain_destination(const struct ferry_config *cfg, const char *text,
    FILE *out);

#endif
