/*
 * route.h: where each destination goes ([routes]): direct, or through
 * one of the parent proxies of [parents] (parent.h).
 *
 * Path: start-up and reload build a table per config snapshot
 * (config.c); connect asks it once per request, after every access
 * decision (whitelist, [auth], [destinations], [connect]) was made.
 *
 * The patterns are those of [destinations] (destpat.h), held in a rule
 * set whose rules carry the route as a tag (dest_add_tagged()), so the
 * most specific pattern wins, as there: an exact host over a longer
 * suffix over a shorter one over "*", a port over none. A pattern may be
 * routed one way only. Name patterns match the destination's name; CIDR
 * patterns match IP-literal destinations only: ferry does not resolve a
 * name just to route it, since the parent resolves it. No pattern: the
 * default route.
 *
 * A table is built by one thread, then only read, except the parents'
 * health counts (atomics, parent.h).
 */
#ifndef FERRY_ROUTE_H
#define FERRY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "parent.h"

/* Parents in one table; a route tag is 0 for direct, i + 1 for parent i. */
#define ROUTE_PARENTS_MAX	64
/* [routes] lines kept until the table is finished. */
#define ROUTE_LINES_MAX		256

/* A [routes] line, kept until route_finish() knows every parent. */
struct route_line {
	char			 name[PARENT_NAME_MAX + 1];
	char			*patterns;	/* owned */
};

struct route_table {
	struct parent		*parents;	/* owned, nparents of them */
	size_t			 nparents;
	struct dest_set		*rules;		/* owned; tags as above */
	unsigned		 dflt;		/* the default's tag */
	unsigned		 down_after;	/* parent.h's health */
	unsigned		 retry_after;	/* seconds */

	/* While building: the [routes] lines and the default's name. */
	struct route_line	*lines;
	size_t			 nlines;
	char			 dflt_name[PARENT_NAME_MAX + 1];
};

/* One destination's route, as route_lookup() finds it. */
struct route {
	struct parent		*parent;	/* NULL: direct */
	const char		*rule;		/* the pattern that decided,
						   NULL for the default */
};

/*
 * Add parent name = list (proxy URLs) to t, which starts zeroed. Returns
 * 0, or -1 with "name = ...: reason" in err. Not thread-safe: building.
 */
int route_add_parent(struct route_table *t, const char *name,
    const char *list, char *err, size_t errlen);

/*
 * Keep the [routes] line name = value for route_finish(): name
 * "default" gives the default route's name ("direct" or a parent), any
 * other name ("direct" or a parent) the patterns routed there. Returns 0,
 * or -1 with the reason in err.
 */
int route_add_line(struct route_table *t, const char *name,
    const char *value, char *err, size_t errlen);

/*
 * Finish t once every line is in: resolve the route names, build the
 * rule set. A route naming no parent, a bad pattern, or one pattern
 * routed two ways fails: -1 with "[routes] name = value: reason" in err
 * (the caller then frees t). Each parent no route uses is a warning for
 * warn(arg, msg). Returns 0.
 */
int route_finish(struct route_table *t,
    void (*warn)(void *arg, const char *msg), void *arg, char *err,
    size_t errlen);

/*
 * Where host[0..len):port goes (host as uri.c splits it: an IPv6
 * literal without brackets). Fills *r. Only reads t: any thread.
 */
void route_lookup(const struct route_table *t, const char *host, size_t len,
    uint16_t port, struct route *r);

/*
 * Write the route r as text for logs and "ferry -t": "direct" or
 * "parent NAME". Returns buf.
 */
const char *route_name(const struct route *r, char *buf, size_t cap);

/* Free what t holds; t is zeroed after. Safe on a zeroed table. */
void route_free(struct route_table *t);

#endif
