/*
 * pool.h: who runs a connection: a bounded pool of workers, or a thread each.
 *
 * DESIGN. The acceptor thread submits each accepted socket. In pool mode
 * ([pool] mode = pool) a fixed set of `workers` threads takes sockets from a
 * queue of at most `queue` entries; when the queue is full the acceptor
 * waits on a condition variable, so overload backs up into the kernel's
 * listen queue instead of into memory. In thread mode every socket gets its
 * own detached thread, at most `max_clients` at once, with the same wait
 * when the cap is reached. Every wait is timed so that a stop request is
 * seen within a fraction of a second.
 */
#ifndef FERRY_POOL_H
#define FERRY_POOL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

struct pool;

struct pool_job {
	int			fd;
	struct sockaddr_storage	peer;
	bool			allowed;
};

/*
 * Start the workers (pool mode) or prepare thread mode. cfg must outlive
 * the pool. Returns NULL with a message in err on failure.
 */
struct pool *pool_start(const struct ferry_config *cfg, char *err,
    size_t errlen);

/*
 * Hand job over, waiting while the pool is full. The pool owns job->fd
 * once this returns 0. Returns -1 if *stop was raised first (the caller
 * still owns the fd) or a thread could not be started.
 */
int pool_submit(struct pool *p, const struct pool_job *job,
    const volatile sig_atomic_t *stop);

/*
 * Stop: queued sockets are closed, running connections get up to
 * grace_ms to finish. Frees the pool if every thread ended in time;
 * otherwise leaves them to die with the process.
 */
void pool_stop(struct pool *p, int grace_ms);

#endif
