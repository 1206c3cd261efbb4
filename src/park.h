/*
 * park.h: the head gatherer and idle watcher, where connections wait
 * until they have a request for a worker.
 *
 * Path: accept, and park or close after a keep-alive exchange: every
 * connection comes here first, and goes to a worker through admit only
 * with a ready request head (gather.h).
 *
 * DESIGN. No worker ever waits for a client to send. The acceptor hands
 * each new connection here; a worker that has answered a request on a
 * persistent connection and finds no whole next request parks the socket
 * here, with whatever part of it arrived, and goes back to the pool. One
 * watcher thread waits on every such socket at once with epoll and reads
 * what each sends without blocking. When a head is ready the watcher
 * offers the connection to the pool through admission, without ever
 * waiting: if no worker is free, it waits here, in arrival order, and is
 * offered again a moment later. The watcher also enforces the deadlines
 * ([client] header_timeout for a head, from accept or from its first
 * byte; idle_timeout between requests), answering 408 itself, so that a
 * client that trickles its head one byte a second, or a thousand of them,
 * holds a small buffer, never a worker.
 *
 * Because the watcher never blocks, its sweeps run on time whatever the
 * load: deadlines hold, and the idle origin connections of reuse.c are
 * swept, even while every worker is busy.
 *
 * The lists are shared between the workers and the acceptor (which add)
 * and the watcher (which removes), under one mutex.
 */
#ifndef FERRY_PARK_H
#define FERRY_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "pool.h"
#include "trace.h"

/* The [client] and [limits] values a parked connection is read under. */
struct park_limits {
	unsigned	idle_s;		/* idle_timeout: for the first byte */
	unsigned	header_s;	/* header_timeout: for the whole head */
	size_t		max_head;	/* max_header_bytes: the buffer */
	size_t		max_fields;	/* max_headers */
	size_t		max_uri;	/* max_uri_bytes */
};

/* Fill *lim from cfg. Reads only. */
void park_limits_of(const struct ferry_config *cfg, struct park_limits *lim);

/*
 * Start the watcher, which offers woken clients to pool (which must
 * outlive it, until park_stop()), with at most max_clients heads being
 * gathered or waiting ([pool] max_clients as ferry started: a reload
 * does not change it). fd_line: see park_fd_pressure(). Call once, from
 * the main thread. Returns 0, or -1 with a message in err.
 */
int park_start(struct pool *pool, size_t max_clients, unsigned long fd_line,
    char *err, size_t errlen);

/*
 * The acceptor took descriptor fd, or (fd -1) could take none for want
 * of descriptors. From fd_line on, the watcher closes the oldest
 * connections that sent nothing, then the oldest idle keep-alive ones, a
 * few at a time, so that descriptors stay for new clients and for the
 * workers' connections to origins. Any thread.
 */
void park_fd_pressure(int fd);

/*
 * Take the newly accepted socket fd from peer (non-blocking) and gather
 * its request head under the live config; with proxy (fd came to a
 * [proxy_protocol] listener), peer must be in [proxy_protocol] from and
 * the connection begin with a PROXY header (proxyproto.h), whose source
 * address replaces peer for everything after (a v2 LOCAL keeps it);
 * anything else is logged and closed. The head is gathered which the connection keeps to
 * its worker (the head is judged and served by the same limits); its
 * trace starts here. Never waits. A connection counts against [pool]
 * max_clients from its first byte (a silent one holds no buffer); at
 * that bound, the oldest head still arriving gives way (408) to the new
 * one. Returns 0, or -1 after closing fd (ferry is stopping, or out of
 * memory). The acceptor's thread.
 */
int park_accept(int fd, const struct sockaddr_storage *peer, bool proxy);

/*
 * Park the keep-alive client socket fd from peer between requests, under
 * its connection's config cfg (a reference is taken) and the limits lim
 * (NULL: cfg's), with its trace t (copied) and bytes[0..len) of its next
 * request that arrived already (len may be 0; they are copied). The
 * watcher owns fd from here; if it is not running (or stopping, or out
 * of memory, or epoll refuses fd, or len > 0 and max_clients heads are
 * being gathered), fd is closed at once, which an idle client takes as
 * the end of a persistent connection (RFC 9112 §9.6). Any thread: takes
 * the park lock.
 */
void park_client(int fd, const struct sockaddr_storage *peer,
    const struct ferry_config *cfg, const struct park_limits *lim,
    const struct trace *t, const char *bytes, size_t len);

/*
 * Whether the watcher takes parked clients: true from park_start() until
 * ferry begins to stop. While it is false a connection can only end after
 * the request it is serving (the response says Connection: close), which
 * is how a stop drains keep-alive clients. Lock-free: any thread.
 */
bool park_accepting(void);

/*
 * How many connections are here now: reading (fresh, idle, or with part of a
 * head), and with a ready head waiting for a worker. For the tests and the log.
 * Any thread: takes the park lock.
 */
size_t park_count(void);

/*
 * Stop the watcher. Clients whose request head is ready but found the pool
 * full are handed to the pool (to be served while it drains) for up to
 * grace_ms; every other parked socket is closed. Returns how many were
 * closed (0 if the watcher was not running). Clients parked after this
 * are closed at once. Call from the main thread, after acceptor_stop()
 * and before pool_stop().
 */
size_t park_stop(unsigned grace_ms);

#endif
