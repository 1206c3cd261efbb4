/*
 * acceptor.h: the listening socket and the accept loop.
 *
 * Path: accept, the first step; each accepted socket goes on to the head
 * gatherer (park.c), and from there to admission and a worker.
 *
 * One thread accepts connections and hands each to park_accept(), which
 * never waits: the watcher reads the head without blocking, and bounds
 * the heads being gathered ([pool] max_clients), not the connections.
 */
#ifndef FERRY_ACCEPTOR_H
#define FERRY_ACCEPTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "config.h"

/* lfd is owned from acceptor_start() on and closed by acceptor_stop(). */
struct acceptor {
	int		 lfd;
	atomic_bool	 stop;
	pthread_t	 thread;
};

/*
 * Open, bind and listen on cfg->listen (parsed into cfg->listen_addr; a
 * "*" address listens on both IPv4 and IPv6). Returns the listening fd,
 * close-on-exec and now the caller's, or -1 with a message in err. Called
 * once by main.c at start-up, before privileges are dropped: a port below
 * 1024 needs root.
 */
int acceptor_listen(const struct ferry_config *cfg, char *err,
    size_t errlen);

/*
 * Start the accept thread on lfd: every accepted socket is made
 * non-blocking, gets TCP_NODELAY and goes to park_accept(); the idle
 * watcher must be running (park_start()). a must stay in place until
 * acceptor_stop(). Returns 0 (the acceptor now owns lfd), or -1 with a
 * message in err (lfd is still the caller's).
 */
int acceptor_start(struct acceptor *a, int lfd, char *err, size_t errlen);

/*
 * Stop accepting: raise a->stop, join the thread (it looks at the flag at
 * least every 250 ms, also while it waits for room at max_clients) and
 * close the listening socket, so that new clients are refused from then
 * on. Call once, from another thread (main.c's), after acceptor_start()
 * succeeded.
 */
void acceptor_stop(struct acceptor *a);

#endif
