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

/*
 * The listening sockets (one per address of [server] listen, in order)
 * and the thread that accepts on all of them. The sockets are the
 * acceptor's from acceptor_listen() on; acceptor_stop() or
 * acceptor_close() closes them.
 */
struct acceptor {
	int		 lfd[CONFIG_MAX_LISTEN];
	bool		 proxy[CONFIG_MAX_LISTEN];	/* PROXY header first */
	size_t		 nlfd;
	atomic_bool	 stop;
	pthread_t	 thread;
};

/*
 * Open, bind and listen on every address of cfg->listens (a "*" address
 * listens on both IPv4 and IPv6) into a. Returns 0, or -1 with a message
 * naming the address that failed in err (a then holds no socket). Called
 * once by main.c at start-up, before privileges are dropped: a port below
 * 1024 needs root.
 */
int acceptor_listen(struct acceptor *a, const struct ferry_config *cfg,
    char *err, size_t errlen);

/*
 * Start the accept thread on a's sockets: every accepted socket is made
 * non-blocking, gets TCP_NODELAY and goes to park_accept(); the idle
 * watcher must be running (park_start()). a must stay in place until
 * acceptor_stop(). Returns 0, or -1 with a message in err.
 */
int acceptor_start(struct acceptor *a, char *err, size_t errlen);

/* Close a's sockets when the thread never started (a failed start-up). */
void acceptor_close(struct acceptor *a);

/*
 * Stop accepting: raise a->stop, join the thread (it looks at the flag at
 * least every 250 ms), take the connections the kernel has completed in
 * each listen queue (they go to the watcher, to be served while ferry
 * drains) and close the listening sockets, so that new clients are
 * refused from then on. Call once, from another thread (main.c's), after
 * acceptor_start() succeeded, while the watcher still runs.
 */
void acceptor_stop(struct acceptor *a);

#endif
