/*
 * conn.h: a client connection's state, and the services every step of an
 * exchange uses on it: answer with an error status, send to the client,
 * connect to the origin, and the timeouts.
 *
 * Path: the state every step from the worker on works in, and the services
 * the steps share (fail, send to the client, connect, timeouts). It sits
 * below the steps and calls none of them.
 *
 * The state is split in two by lifetime:
 *   struct conn      lives as long as the worker holds the client
 *                    connection: the sockets, the buffers sized from the
 *                    config, the peer, the config snapshot, the trace;
 *   struct exchange  one request and its response, the conn's member x,
 *                    reset in one statement (conn_new_exchange()) before
 *                    each request, so nothing of one request can leak
 *                    into the next.
 * Nothing in a conn is shared with another thread.
 */
#ifndef FERRY_CONN_H
#define FERRY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "addr.h"
#include "admit.h"
#include "config.h"
#include "dest.h"
#include "http.h"
#include "reuse.h"
#include "route.h"
#include "splice.h"
#include "trace.h"
#include "users.h"

/*
 * One request and what became of it. req and its fields point into the
 * conn's req_buf; everything else is plain values. Zeroed before every
 * request; the next issues' per-request verdicts (route) go here.
 */
struct exchange {
	struct http_request	 req;
	bool			 req_parsed;

	/* The access decisions (gate.c). */
	char			 user[USERS_NAME_MAX + 1]; /* "" if none */
	struct dest_match	 dest_name;	/* the name rules' verdict */

	size_t			 body_used;	/* body bytes in req_buf */
	size_t			 resp_len;	/* bytes in c->resp_buf */

	/* Where it goes (route.h), and through which parent address. */
	struct route		 route;
	struct parent_addr	*parent_addr;	/* NULL: direct */

	/*
	 * The upstream connection used for it: to the origin, or to the
	 * parent ("NAME@ip:port").
	 */
	char			 upstream_name[REUSE_NAME_MAX];
	/* An origin's address (AF_UNSPEC for a parent's): the rules ask. */
	struct sockaddr_storage	 upstream_addr;
	bool			 upstream_reused; /* taken from reuse.c */
	bool			 upstream_clean;  /* whole request sent on it */

	/* What the client was told, and the log line's numbers. */
	uint64_t		 start_ms;
	time_t			 start_time;	/* wall clock, for the line */
	int			 status;	/* sent to the client; 0 none */
	bool			 head_sent;	/* a response head went out */
	bool			 keep;		/* another request may follow */
	bool			 linger;	/* drain input before closing */
	bool			 stalled;	/* client took no data: reset */
	uint64_t		 bytes_in;	/* from the client */
	uint64_t		 bytes_out;	/* to the client */
	int			 err;		/* errno where a step failed */
	char			 why[384];	/* cause of a failure: logs */
};

/*
 * A client connection, on a worker's stack. cfg is the job's reference,
 * borrowed (the job's owner releases it). The conn owns both sockets (-1
 * when closed, or when handed on: the client to park.c, the origin to
 * reuse.c), every buffer and field array (conn_init() allocates them,
 * conn_finish() frees them) and the pipe.
 */
struct conn {
	const struct ferry_config *cfg;
	/*
	 * The snapshot whose access rules (whitelist, [auth],
	 * [destinations], [connect] ports) this request is checked against:
	 * the live one as of the request, so that a reload reaches a
	 * connection that never goes idle (conn_refresh_rules()). A
	 * reference of the conn's own, or NULL while cfg is still live.
	 * Buffers and limits stay cfg's: they were sized from it.
	 */
	const struct ferry_config *newer;
	int			 client_fd;
	int			 upstream_fd;
	bool			 allowed;	/* client is whitelisted */
	struct sockaddr_storage	 peer;
	char			 client_ip[ADDR_TEXT_MAX];
	struct trace		 trace;		/* its stages, in trace mode */

	/* The request head as received, and what followed it. */
	char			*req_buf;
	size_t			 req_cap;
	size_t			 req_len;
	struct http_field	*req_fields;

	/*
	 * Read past a chunked request body: the next request's first bytes.
	 * malloc'd on first use (req_cap bytes).
	 */
	char			*carry;
	size_t			 carry_len;

	/* Response heads from the origin (x.resp_len bytes of them). */
	char			*resp_buf;
	size_t			 resp_cap;
	struct http_field	*resp_fields;

	/* Rewritten heads, then the relay buffer for bodies and tunnels. */
	char			*work;
	size_t			 work_cap;
	struct splice_pipe	 pipe;		/* made on first use */

	struct exchange		 x;		/* the request being served */
};

/*
 * Set c up for the job's connection: take over its socket, peer, verdict,
 * trace and gathered head (job->head becomes req_buf, and NULL in the
 * job), borrow its config, and allocate the other buffers sized from
 * that config. Returns 0, or -1 when memory ran out (c is then still
 * safe to pass to conn_fail() and conn_finish()).
 */
int conn_init(struct conn *c, struct admit_job *job);

/*
 * The snapshot whose access rules apply to the current request: the
 * live one when conn_refresh_rules() last looked (see struct conn).
 */
const struct ferry_config *conn_rules(const struct conn *c);

/*
 * Before a request's access checks: if a reload made another snapshot
 * live since the connection's rules were taken, take the live one's and
 * ask its whitelist again (c->allowed). One atomic read when nothing
 * changed.
 */
void conn_refresh_rules(struct conn *c);

/*
 * Start a new exchange: forget everything of the last request (one
 * statement) and start its clock. The buffers and what they hold are
 * untouched: bytes of the next request may be there already.
 */
void conn_new_exchange(struct conn *c);

/*
 * Close what is still open (the client gently: see conn.c) and free the
 * buffers. c must not be used after.
 */
void conn_finish(struct conn *c);

/*
 * Answer the client with an error page for status unless a response head
 * already went out, and remember status for the log unless one is set.
 * detail is shown to the client, so it must be one of ferry's own fixed
 * strings; c->x.why (if set) goes only to the log. The connection then
 * closes (c->x.keep is cleared), lingering: after an error, unread bytes
 * may be left behind. A failed send is not reported.
 */
void conn_fail(struct conn *c, int status, const char *detail);

/*
 * Refuse the request with status (407, 403) and detail, as conn_fail()
 * does, but let the connection persist when the client wants it and the
 * request left no unread body (none, or a Content-Length body already
 * in req_buf, which is then skipped): the client may answer the refusal
 * on the same connection. fields (NULL for none) are more header lines
 * for the page, each ending in CRLF (a 407's Proxy-Authenticate).
 */
void conn_refuse(struct conn *c, int status, const char *detail,
    const char *fields);

/*
 * The 403 page's text for a destination the rules refuse, naming its host
 * and port (as the URI parser accepted them), written into buf[0..cap).
 * Returns buf.
 */
const char *conn_denied_detail(const struct conn *c, char *buf, size_t cap);

/*
 * True if the request's body, if any, is all in req_buf already: it can
 * be sent again, or answered without the body being read.
 */
bool conn_body_in_hand(const struct conn *c);

/*
 * Connect toward the origin named by c->x.req by its route (route.h, in
 * c->x.route after): an idle kept connection if reuse is true and there
 * is one (c->x.upstream_reused says so), else a new one (with retry).
 * Direct, every address is first checked against the destination rules
 * and the internal-address guard (policy.h), a kept connection's too.
 * Through a parent (hop.h), the name rules are asked again without the
 * addresses the parent will resolve (an IP literal's address is still
 * checked); then c->x.parent_addr is the address used, and bytes that
 * followed a parent's reply to CONNECT are in resp_buf[0..x.resp_len).
 * Returns 0 with c->upstream_fd open and c->x.upstream_name set, or -1
 * after answering 403 (no address left), 502 (no parent available, or
 * the parent refused), 504 or 508 (the origin is ferry itself) with the
 * cause in c->x.why.
 */
int conn_connect_upstream(struct conn *c, bool reuse);

/*
 * True if the request goes to an HTTP parent as a plain request: in
 * absolute form, with the parent's credentials (forward.c).
 */
bool conn_to_http_parent(const struct conn *c);

/*
 * Send buf[0..len) whole to the client, waiting at most the client
 * timeout each time it has no room, and add len to c->x.bytes_out.
 * Returns 0, or -1 with the error in c->x.err (nothing is counted then).
 */
int conn_send_client(struct conn *c, const char *buf, size_t len);

/*
 * The bound on each wait for the client ([client] idle_timeout) and for
 * the origin ([upstream] io_timeout) of c's config, in milliseconds.
 */
int conn_client_timeout_ms(const struct conn *c);
int conn_upstream_timeout_ms(const struct conn *c);

#endif
