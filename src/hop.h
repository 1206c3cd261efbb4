/*
 * hop.h: the first hop of a request routed to a parent proxy (route.h):
 * pick an address of the parent that is up, connect, and speak the
 * parent's protocol up to the point where the destination is reached.
 *
 * Path: connect, for a request whose route names a parent (conn.c).
 *
 *   HTTP parent, plain request   connect only: forward.c sends the
 *                                request in absolute form with ferry's
 *                                credentials (rewrite.c)
 *   HTTP parent, CONNECT         "CONNECT host:port", then the parent's
 *                                response head, read by the strict
 *                                parser (http.h); 2xx opens the tunnel
 *   SOCKS5 parent, either        the SOCKS5 handshake (socks5.h) to the
 *                                destination by name
 *
 * Failover: each attempt takes the parent's first address that is not
 * down (parent.h); a failed connect, or a handshake that breaks off
 * (malformed reply, close, reset), counts against that address and the
 * next one is tried; the [upstream] retries rounds walk the list again,
 * with the pauses upstream.c makes between rounds. Everything else ends
 * the request at that address without counting against it, since it
 * says nothing about the parent: an answer of "no" (a status other than
 * 2xx, a SOCKS5 refusal, ferry's credentials refused), no answer about
 * the destination within io_timeout (a slow or dead destination that the
 * parent is still trying: moving on would only wait as long again), a
 * CONNECT head too large to send (the client's own Via), or a parent
 * address that is ferry's own. Nothing of the client's request has gone
 * anywhere when this runs, so moving on never sends a request twice.
 */
#ifndef FERRY_HOP_H
#define FERRY_HOP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "http.h"
#include "parent.h"
#include "trace.h"
#include "upstream.h"
#include "uri.h"

enum hop_result {
	HOP_OK,
	HOP_NONE_UP,		/* every address of the parent is down */
	HOP_FAILED,		/* every address tried failed */
	HOP_REFUSED,		/* the parent answered no: see status, why */
	HOP_CREDENTIALS,	/* the parent refused ferry's credentials */
	HOP_TIMEDOUT,		/* no answer about the destination within
				   io_timeout: the destination, most likely */
	HOP_TOO_LARGE,		/* the CONNECT head (the client's Via) does
				   not fit in max_header_bytes */
	HOP_LOOP		/* the parent's address is ferry's own */
};

/*
 * One hop to open. The caller fills the inputs; hop_open() the outputs.
 * buf (cap bytes) and fields (cfg->max_headers) are the caller's, for an
 * HTTP parent's reply to CONNECT; bytes that followed that reply (the
 * tunnel's first bytes from the far side) are left at buf[0..extra).
 */
struct hop {
	/* in */
	struct parent			*parent;
	const struct uri		*dest;
	bool				 tunnel;	/* CONNECT, else a
							   plain request */
	/*
	 * The client's request fields: their Via values go on in the
	 * CONNECT ferry sends, so that a loop of parents is seen.
	 */
	const struct http_field		*fields_in;
	size_t				 nfields_in;
	const struct ferry_config	*cfg;	/* timeouts, retries, Via */
	const struct route_table	*table;	/* down_after, retry_after */
	struct trace			*trace;
	char				*buf;
	size_t				 cap;
	struct http_field		*fields;

	/* out */
	int				 fd;	/* -1 unless HOP_OK */
	struct parent_addr		*addr;	/* the address used */
	int				 status; /* the parent's answer: an
						    HTTP status, a SOCKS5
						    reply code; 0 if none */
	/* the last connect's outcome, counted once per hop_open() */
	bool				 dialed;
	enum upstream_result		 dial;
	size_t				 extra;
};

/*
 * The parent's reply to CONNECT in buf[0..len), as hop_open() reads it:
 * interim (1xx) heads are skipped, the final head is parsed as the answer
 * to a HEAD would be (a 2xx to CONNECT has no body, RFC 9110 §9.3.6).
 * Returns HTTP_DONE with *resp the final head and *end the offset where
 * it ends (what follows is the tunnel's), HTTP_PARTIAL, or HTTP_BAD with
 * resp->error. Pure, like http_parse_response(): any thread.
 */
enum http_result hop_parse_reply(const char *buf, size_t len,
    const struct http_limits *lim, struct http_field *fields,
    struct http_response *resp, size_t *end);

/*
 * Open h (see above). Returns HOP_OK with h->fd connected (the caller
 * closes it) and h->addr the address used, or the failure with why
 * (whylen bytes) saying, for the log, which addresses failed and how.
 * Blocks the worker for each connect (connect_timeout), each handshake
 * (io_timeout) and the pauses between rounds. Any thread.
 */
enum hop_result hop_open(struct hop *h, char *why, size_t whylen);

#endif
