/*
 * forward.h: one plain-HTTP exchange through the proxy.
 *
 * Path: for a request that is not CONNECT, after parse: rewrite, connect
 * (an idle connection kept for reuse, or a new one), forward body, relay
 * response; then log, and park or close.
 *
 * Connect to the origin, send the rewritten head and the body, then relay
 * the response (interim 1xx responses included) back to the client.
 */
#ifndef FERRY_FORWARD_H
#define FERRY_FORWARD_H

#include "conn.h"

/*
 * Serve c->x.req, a parsed non-CONNECT request from a whitelisted client;
 * TRACE or OPTIONS at Max-Forwards 0 is answered here, with no origin
 * (maxfwd.c). A failure is answered with an error page through
 * conn_fail() if no response head went out yet; after that the
 * connection can only close.
 * On return c->x.keep says whether the client connection may serve
 * another request (c->x.body_used and c->carry tell where the next one
 * starts), c->x.status, c->x.why and the byte counts are set for the log,
 * and c->upstream_fd is -1 (given to reuse.c or closed) or left open for
 * conn_finish(). Runs on the connection's worker thread.
 */
void forward_serve(struct conn *c);

#endif
