/*
 * park.h: the idle watcher, where keep-alive clients wait between requests.
 *
 * Path: park or close, the last step of a keep-alive exchange; a parked
 * client whose next request arrives goes back through admit.
 *
 * DESIGN. A worker that has answered a request on a persistent connection
 * and finds nothing more to read does not block on that client: it parks
 * the socket here and goes back to the pool. One watcher thread waits on
 * every parked socket at once with epoll. When one becomes readable (the
 * next request is coming) the watcher offers it to the pool through
 * admission, without ever waiting: if no worker is free, the client stays
 * parked, in arrival order, and is offered again a moment later. When it
 * stays silent for [client] idle_timeout, or its client hangs up, the
 * watcher closes it. A parked client costs a socket and a small record,
 * never a thread or a buffer, so thousands of idle clients leave every
 * worker free for the ones that talk.
 *
 * Because the watcher never blocks, its sweeps run on time whatever the
 * load: idle clients are closed at their idle_timeout, and the idle origin
 * connections of reuse.c are swept, even while every worker is busy.
 *
 * The parked set is shared between the workers (which add) and the
 * watcher (which removes), under one mutex.
 */
#ifndef FERRY_PARK_H
#define FERRY_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "pool.h"
#include "trace.h"

/*
 * Start the watcher, which offers woken clients to pool (which must
 * outlive it, until park_stop()). Call once, from the main thread.
 * Returns 0, or -1 with a message in err.
 */
int park_start(struct pool *pool, char *err, size_t errlen);

/*
 * Park the idle client socket fd from peer for at most idle_s seconds,
 * with its trace t (copied). The watcher owns fd from here; if it is not
 * running (or stopping, or out of memory, or epoll refuses fd), fd is
 * closed at once, which an idle client takes as the end of a persistent
 * connection (RFC 9112 §9.6). Any thread: takes the park lock.
 */
void park_client(int fd, const struct sockaddr_storage *peer,
    unsigned idle_s, const struct trace *t);

/*
 * Whether the watcher takes parked clients: true from park_start() until
 * ferry begins to stop. While it is false a connection can only end after
 * the request it is serving (the response says Connection: close), which
 * is how a stop drains keep-alive clients. Lock-free: any thread.
 */
bool park_accepting(void);

/*
 * How many clients are parked now: idle, and woken but waiting for a
 * worker. For the tests and the log. Any thread: takes the park lock.
 */
size_t park_count(void);

/*
 * Stop the watcher. Clients whose next request arrived but found the pool
 * full are handed to the pool (to be served while it drains) for up to
 * grace_ms; every other parked socket is closed. Returns how many were
 * closed (0 if the watcher was not running). Clients parked after this
 * are closed at once. Call from the main thread, after acceptor_stop()
 * and before pool_stop().
 */
size_t park_stop(unsigned grace_ms);

#endif
