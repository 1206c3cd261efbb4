/*
 * acceptor.h: the listening socket and the accept loop.
 *
 * One thread accepts connections, takes a reference to the live config
 * for each, checks the client against that config's whitelist and hands
 * socket and config to the pool. Denied clients are handed on too, marked
 * as such: a worker reads their request and answers 403, since closing
 * unread would reset the connection and tell them nothing.
 */
#ifndef FERRY_ACCEPTOR_H
#define FERRY_ACCEPTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "pool.h"

struct acceptor {
	int		 lfd;
	struct pool	*pool;
	atomic_bool	 stop;
	pthread_t	 thread;
};

/* Open, bind and listen on cfg->listen. Returns the fd, or -1 with err. */
int acceptor_listen(const struct ferry_config *cfg, char *err,
    size_t errlen);

/*
 * Start the accept thread on lfd, feeding pool. Returns 0, or -1 with a
 * message in err.
 */
int acceptor_start(struct acceptor *a, int lfd, struct pool *pool,
    char *err, size_t errlen);

/*
 * Stop accepting: end the thread and close the listening socket, so that
 * new clients are refused from then on.
 */
void acceptor_stop(struct acceptor *a);

#endif
