/*
 * park.h: the idle watcher, where keep-alive clients wait between requests.
 *
 * Path: park or close, the last step of a keep-alive exchange; a parked
 * client that sends again re-enters at the whitelist and queue steps
 * through pool_dispatch() (pool.c).
 *
 * DESIGN. A worker that has answered a request on a persistent connection
 * and finds nothing more to read does not block on that client: it parks
 * the socket here and goes back to the pool. One watcher thread waits on
 * every parked socket at once with epoll. When one becomes readable (the
 * next request is coming) the watcher hands it back to the pool like a
 * newly accepted client; when it stays silent for [client] idle_timeout,
 * or its client hangs up, the watcher closes it. A parked client costs a
 * socket and a small record, never a thread or a buffer, so thousands of
 * idle clients leave every worker free for the ones that talk.
 *
 * The parked set is shared between the workers (which add) and the
 * watcher (which removes), under one mutex. The watcher also sweeps the
 * idle origin connections of reuse.c.
 */
#ifndef FERRY_PARK_H
#define FERRY_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "pool.h"

/*
 * Start the watcher, which feeds woken clients to pool (which must outlive
 * it, until park_stop()). Call once, from the main thread. Returns 0, or
 * -1 with a message in err.
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
 * False once ferry is stopping (or before park_start()): connections then
 * end after the request they are serving (the response says Connection:
 * close). Lock-free: any thread.
 */
bool park_open(void);

/*
 * Stop the watcher and close every parked socket. Returns how many were
 * closed (0 if the watcher was not running). Clients parked after this
 * are closed at once. Call from the main thread, after acceptor_stop().
 */
size_t park_stop(void);

#endif
