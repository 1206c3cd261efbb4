/*
 * pool.h: who runs a connection: a bounded pool of workers, or a thread each.
 *
 * Path: whitelist, queue and worker, the steps after accept (or after a
 * parked client wakes): pool_dispatch() takes the live config and the
 * whitelist verdict and queues the socket; a worker runs conn_handle()
 * (conn.c), then releases the config.
 *
 * DESIGN. The acceptor thread submits each accepted socket. In pool mode
 * ([pool] mode = pool) a fixed set of `workers` threads takes sockets from a
 * queue of at most `queue` entries; when the queue is full the acceptor
 * waits on a condition variable, so overload backs up into the kernel's
 * listen queue instead of into memory. In thread mode every socket gets its
 * own detached thread, at most `max_clients` at once, with the same wait
 * when the cap is reached. Every wait is timed so that a stop request is
 * seen within a fraction of a second.
 *
 * The pool's shape (mode, workers, queue, max_clients, stack_kb) is fixed
 * at start; each job carries the config snapshot its connection uses.
 */
#ifndef FERRY_POOL_H
#define FERRY_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "trace.h"

struct pool;

/*
 * A job owns its client socket and its config reference: whoever holds
 * it must pass both on or close fd and release cfg (conn_handle() takes
 * fd; the pool releases cfg after it).
 */
struct pool_job {
	int			 fd;
	struct sockaddr_storage	 peer;
	bool			 allowed;
	const struct ferry_config *cfg;	/* a reference, for this connection */
	struct trace		 trace;		/* its stages, in trace mode */
};

/*
 * Start the workers (pool mode) or prepare thread mode, shaped by cfg's
 * [pool] keys (read now, not kept). Call once, from the main thread.
 * Returns the pool (end it with pool_stop()), or NULL with a message in
 * err.
 */
struct pool *pool_start(const struct ferry_config *cfg, char *err,
    size_t errlen);

/*
 * Hand job over, waiting while the pool is full. The pool owns job->fd
 * and job->cfg once this returns 0. Returns -1 if *stop was raised or the
 * pool began to stop first, or a thread could not be started (the caller
 * still owns both). Any thread: takes the pool lock, and waits on a
 * condition variable in timed steps so that a raised *stop is seen.
 */
int pool_submit(struct pool *p, const struct pool_job *job,
    const atomic_bool *stop);

/*
 * Hand the client socket fd from peer over as a job: with a reference to
 * the live config and that config's whitelist verdict, so a reload applies
 * to a keep-alive client's next request too. Used by the acceptor (t is
 * NULL: a new connection, traced from here) and the idle watcher (t: the
 * parked connection's trace, copied), on their own threads. fd is no
 * longer the caller's either way: returns 0, or -1 after closing fd and
 * releasing the config (pool_submit() failed).
 */
int pool_dispatch(struct pool *p, int fd, const struct sockaddr_storage *peer,
    const struct trace *t, const atomic_bool *stop);

/*
 * Drain and stop: no more jobs are taken in; queued and running
 * connections get up to grace_ms to finish. Returns how many were still
 * being served or queued then (cut: left to end with the process). The
 * pool is freed only if every thread ended; either way p must not be used
 * again. Call once, from the main thread, after the acceptor and the idle
 * watcher stopped submitting.
 */
unsigned pool_stop(struct pool *p, unsigned grace_ms);

#endif
