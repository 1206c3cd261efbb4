/*
 * forward.h: one plain-HTTP exchange through the proxy.
 *
 * Path: after conn.c has parsed a request that is not CONNECT: rewrite,
 * connect (an idle connection from upool.c, or upstream.c), forward body,
 * relay response; conn.c then logs and parks or closes.
 *
 * Connect to the origin, send the rewritten head and the body, then relay
 * the response (interim 1xx responses included) back to the client.
 */
#ifndef FERRY_FORWARD_H
#define FERRY_FORWARD_H

#include "conn.h"

/*
 * Serve c->req, a parsed non-CONNECT request from a whitelisted client;
 * TRACE or OPTIONS at Max-Forwards 0 is answered here, with no origin
 * (maxfwd.c). A failure is answered with an error page through
 * conn_fail() if no response head went out yet; after that the
 * connection can only close.
 * On return c->keep says whether the client connection may serve another
 * request (c->body_used and c->carry tell conn.c where the next one
 * starts), c->status, c->why and the byte counts are set for the log, and
 * c->upstream_fd is -1 (given to upool.c or closed) or left open for
 * conn.c to close. Runs on the connection's worker thread.
 */
void forward_serve(struct conn *c);

#endif
