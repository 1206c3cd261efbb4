/*
 * tunnel.h: CONNECT, the "docked" connection.
 *
 * After "200 Connection established" ferry stops reading HTTP and copies
 * bytes both ways between client and origin until both sides have closed,
 * an error occurs, or nothing moves for idle_timeout.
 */
#ifndef FERRY_TUNNEL_H
#define FERRY_TUNNEL_H

#include "conn.h"

/* Serve c->req, a parsed CONNECT request from a whitelisted client. */
void tunnel_serve(struct conn *c);

#endif
