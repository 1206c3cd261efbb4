/*
 * tunnel.h: CONNECT tunnels: after the 200, ferry only moves bytes.
 *
 * Path: tunnel, the CONNECT branch after parse: connect, answer 200, then
 * relay both ways; the connection then closes, never parked.
 *
 * After "200 Connection established" ferry stops reading HTTP and copies
 * bytes both ways between client and origin until both sides have closed,
 * an error occurs, or nothing moves for idle_timeout.
 */
#ifndef FERRY_TUNNEL_H
#define FERRY_TUNNEL_H

#include "conn.h"

/*
 * Serve c->x.req, a parsed CONNECT request from a whitelisted client: 403
 * for a port not in [connect] ports, else connect (always a new
 * connection, never a pooled one), answer 200, pass on any bytes that
 * came behind the head, and relay until both sides closed, an error, or
 * [client] idle_timeout of silence. c->x.status, c->x.why and the byte
 * counts are set for the log; both sockets stay c's, closed by
 * conn_finish(). Runs on the connection's worker thread.
 */
void tunnel_serve(struct conn *c);

#endif
