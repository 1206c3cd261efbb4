/*
 * gate.h: the request's access decisions after the client address:
 * credentials ([auth]), then the destination's host as written (strict IP
 * literals, the name rules of [destinations]).
 *
 * Path: serve.c, after the whitelist and the loop check, before a request
 * is forwarded or tunnelled, for every request on a connection. What the
 * rules say of each address comes later, just before connect(): see
 * upstream.h.
 *
 * Order and answers (issue 16 §1): a missing or wrong login is 407 with
 * Proxy-Authenticate, two Proxy-Authorization fields 400; a numeric host
 * in a form other than four decimal octets 400; a name a deny rule
 * matches 403. A refusal keeps the connection when it can (conn_refuse()).
 */
#ifndef FERRY_GATE_H
#define FERRY_GATE_H

#include <stdbool.h>

#include "conn.h"

/*
 * Check c's parsed request. Returns true to go on, with c->x.user set to
 * the verified user ("" without [auth]) and c->x.dest_name to the name
 * rules' match; false when the request was answered (refused).
 */
bool gate_check(struct conn *c);

#endif
