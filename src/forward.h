/*
 * forward.h: one plain-HTTP exchange through the proxy.
 *
 * Connect to the origin, send the rewritten head and the body, then relay
 * the response (interim 1xx responses included) back to the client.
 */
#ifndef FERRY_FORWARD_H
#define FERRY_FORWARD_H

#include "conn.h"

/* Serve c->req, a parsed non-CONNECT request from a whitelisted client. */
void forward_serve(struct conn *c);

#endif
