/*
 * rewrite.h: the heads ferry sends on, built from the heads it received.
 *
 * Path: rewrite (the request head, sent just after connect), relay
 * response (each response head, 1xx included), and the hop to an HTTP
 * parent (the CONNECT ferry sends it for a tunnel, hop.c).
 *
 * Requests go upstream in origin-form with Host taken from the URL, without
 * hop-by-hop fields (RFC 9110 §7.6.1), with the configured Via,
 * X-Forwarded-For and stripped fields applied. Responses go back to the
 * client without hop-by-hop fields and with Via. Both connections persist
 * by default; the caller decides what the client is told about its own.
 */
#ifndef FERRY_REWRITE_H
#define FERRY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "http.h"

/*
 * True if field f must not be forwarded: a hop-by-hop field, or a field
 * named in a Connection field of fields[0..n). Host and the framing fields
 * are never dropped this way. Pure, like the other two: any thread.
 */
bool rewrite_is_hop_by_hop(const struct http_field *f,
    const struct http_field *fields, size_t n);

/*
 * Write the upstream request head for req into out[0..cap), client_ip being
 * the client's address text: the request line in origin-form as HTTP/1.1
 * (for an HTTP parent proxy, parent_auth not NULL: in absolute-form),
 * Host from the URL, the fields minus hop-by-hop ones, Host, Content-Length
 * and the [headers] strip list, one Content-Length from req's framing, for
 * TRACE and OPTIONS one Max-Forwards counted down (maxfwd_check() says
 * MAXFWD_FORWARD; otherwise the field passes as it came), then Via and
 * X-Forwarded-For as configured, and last, when parent_auth is not NULL
 * or "", "Proxy-Authorization: " parent_auth (the parent's credentials;
 * the client's own field is hop-by-hop and never passes). Returns 0 with
 * *len set, or -1 if it does not fit in cap.
 */
int rewrite_request(const struct http_request *req,
    const struct ferry_config *cfg, const char *client_ip,
    const char *parent_auth, char *out, size_t cap, size_t *len);

/*
 * Write the CONNECT head ferry sends an HTTP parent for a tunnel to dest
 * (RFC 9110 §9.3.6) into out[0..cap): "CONNECT host:port HTTP/1.1" with
 * Host, then, when [headers] via is on, the client's Via fields of
 * fields[0..nfields) (not hop-by-hop, not stripped) and this instance's
 * Via. Without that chain, two ferries that are each other's parent
 * would never see their own name, and a CONNECT would circle until every
 * worker of both waited on it. Last, unless parent_auth is "",
 * "Proxy-Authorization: " parent_auth. Returns 0 with *len set, or -1 if
 * it does not fit; *len is then what was written (to be wiped: it may
 * hold the credentials).
 */
int rewrite_connect(const struct uri *dest, const struct http_field *fields,
    size_t nfields, const struct ferry_config *cfg, const char *parent_auth,
    char *out, size_t cap, size_t *len);

/*
 * Write the client response head for resp into out[0..cap). drop_te drops
 * Transfer-Encoding, for an HTTP/1.0 client, which may not be sent one
 * (RFC 9112 §6.1): the caller then sends a chunked body decoded and
 * delimited by closing, and refuses any other coding (forward.c); a
 * response without a body simply loses the field. connection, if not
 * NULL, is the value of the Connection field ferry adds ("close", or
 * "keep-alive" for an HTTP/1.0 client whose connection persists). A
 * Content-Length that Transfer-Encoding overrode (framing.te_over_cl) is
 * dropped, as RFC 9112 §6.3 requires of an intermediary. Returns 0 with
 * *len set, or -1 if it does not fit.
 */
int rewrite_response(const struct http_response *resp,
    const struct ferry_config *cfg, bool drop_te, const char *connection,
    char *out, size_t cap, size_t *len);

#endif
