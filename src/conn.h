/*
 * conn.h: one client connection, from the first byte to the close.
 *
 * Path: the worker step and what follows it: read head, parse (http.c), the
 * whitelist verdict (403) and the loop check, then forward.c or tunnel.c,
 * one access log line, and finally park (park.c) or close.
 *
 * A worker thread calls conn_handle() for each accepted socket, and again
 * each time a parked keep-alive connection has a new request (park.c). The
 * conn owns the client socket, the upstream socket and three buffers sized
 * from the config; forward.c (plain HTTP) and tunnel.c (CONNECT) borrow it
 * for one exchange. Nothing in a conn is shared with another thread.
 */
#ifndef FERRY_CONN_H
#define FERRY_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "pool.h"
#include "splice.h"
#include "trace.h"

/*
 * Ownership: cfg is borrowed (the job's reference; pool.c releases it
 * after conn_handle()). The conn owns both sockets (-1 when closed, or
 * when handed on: the client to park.c, the origin to reuse.c), every
 * buffer and field array below (malloc'd by conn_init(), freed by
 * conn_finish() in conn.c) and the pipe. req and the parsed fields point
 * into req_buf; a response's into resp_buf.
 */
struct conn {
	const struct ferry_config *cfg;
	int			 client_fd;
	int			 upstream_fd;
	char			 upstream_name[INET6_ADDRSTRLEN + 8];
	bool			 allowed;	/* client is whitelisted */
	struct sockaddr_storage	 peer;
	char			 client_ip[INET6_ADDRSTRLEN];
	bool			 keep;		/* serve another request after */
	bool			 upstream_reused; /* upstream_fd from reuse.c */
	bool			 upstream_clean;  /* whole request sent on it */

	/* The request head as received, and what followed it. */
	char			*req_buf;
	size_t			 req_cap;
	size_t			 req_len;
	struct http_field	*req_fields;
	struct http_request	 req;
	bool			 req_parsed;
	size_t			 body_used;	/* body bytes that were in req_buf */

	/*
	 * Read past a chunked request body: the next request's first bytes.
	 * malloc'd on first use (req_cap bytes).
	 */
	char			*carry;
	size_t			 carry_len;

	/* Response heads from the origin, and what followed them. */
	char			*resp_buf;
	size_t			 resp_cap;
	size_t			 resp_len;
	struct http_field	*resp_fields;

	/* Rewritten heads, then the relay buffer for bodies and tunnels. */
	char			*work;
	size_t			 work_cap;
	struct splice_pipe	 pipe;		/* for splice, made on first use */

	/* For the access log line. */
	uint64_t		 start_ms;
	time_t			 start_time;	/* wall clock, for the line */
	int			 status;	/* sent to the client, 0: none */
	bool			 head_sent;	/* a response head went out */
	bool			 linger;	/* drain input before closing */
	uint64_t		 bytes_in;	/* from the client */
	uint64_t		 bytes_out;	/* to the client */
	char			 why[256];	/* cause of a failure */
	struct trace		 trace;		/* its stages, in trace mode */
};

/*
 * Serve requests on the job's client socket (from job->peer; allowed: on
 * the whitelist) while the client keeps the connection, then close it, or
 * park it (park.c) when it goes quiet between requests. Either way the
 * socket is no longer the caller's. The socket must be non-blocking:
 * every wait is a poll() with a timeout. Runs on a worker thread; job->cfg
 * must outlive the call (the caller releases it after).
 */
void conn_handle(const struct pool_job *job);

/*
 * Answer the client with an error page for status unless a response head
 * already went out, and remember status for the log unless one is set.
 * detail is shown to the client, so it must be one of ferry's own fixed
 * strings; c->why (if set) goes only to the log. The connection then
 * closes (c->keep is cleared), lingering: after an error, unread bytes
 * may be left behind. A failed send is not reported.
 */
void conn_fail(struct conn *c, int status, const char *detail);

/*
 * Connect to the origin named by c->req: an idle pooled connection if
 * reuse is true and there is one (c->upstream_reused says so), else a new
 * one (with retry). Returns 0 with c->upstream_fd open and
 * c->upstream_name set, or -1 after answering 502, 504 or 508 (the origin
 * is ferry itself) with the cause in c->why.
 */
int conn_connect_upstream(struct conn *c, bool reuse);

/*
 * Send buf[0..len) whole to the client, waiting at most the client
 * timeout each time it has no room, and add len to c->bytes_out. Returns
 * 0, or -1 with errno set (nothing is counted then).
 */
int conn_send_client(struct conn *c, const char *buf, size_t len);

/*
 * The bound on each wait for the client ([client] idle_timeout) and for
 * the origin ([upstream] io_timeout) of c's config, in milliseconds.
 */
int conn_client_timeout_ms(const struct conn *c);
int conn_upstream_timeout_ms(const struct conn *c);

#endif
