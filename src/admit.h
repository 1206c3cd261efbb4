/*
 * admit.h: admission, the one place where a client connection becomes a
 * worker's job: it takes the live config, asks the whitelist, starts or
 * continues the trace, and hands the job to the pool.
 *
 * Path: admit, between accept (or a parked client's wake-up) and the
 * worker: each connection gets the live config, the whitelist verdict and
 * its trace here, then goes to the pool as a job.
 *
 * The verdict does not close the connection here: it travels with the job,
 * so that the worker can answer an unlisted client with a proper 403 once it
 * has read its request head.
 */
#ifndef FERRY_ADMIT_H
#define FERRY_ADMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "pool.h"
#include "trace.h"

/*
 * A client connection on its way to a worker. It owns fd and the config
 * reference: whoever holds it passes both on, or calls admit_job_drop().
 * The pool copies it by value (pool.h), so it holds no pointer into
 * itself.
 */
struct admit_job {
	int			 fd;
	struct sockaddr_storage	 peer;
	bool			 allowed;	/* the whitelist's verdict */
	const struct ferry_config *cfg;	/* a reference, for this connection */
	struct trace		 trace;		/* its stages, in trace mode */
};

/* How admit_again() ended. */
enum admit_result {
	ADMIT_QUEUED,		/* the pool has it */
	ADMIT_BUSY,		/* no room now: fd is still the caller's */
	ADMIT_CLOSED		/* refused for good: fd was closed */
};

/*
 * Admit the new connection fd from peer: trace it from "accepted", take
 * the live config and its whitelist verdict, and submit it to pool,
 * waiting while the pool is full (overload stays in the kernel's listen
 * queue). fd is no longer the caller's either way: returns 0, or -1 after
 * closing it (the pool or *stop is stopping, or in thread mode no thread
 * could be started). The acceptor's thread.
 */
int admit_new(struct pool *pool, int fd, const struct sockaddr_storage *peer,
    const atomic_bool *stop);

/*
 * Admit the parked connection fd from peer again, its next request
 * having arrived, with its trace t (copied): as admit_new(), but never
 * waiting. ADMIT_BUSY leaves fd with the caller (to offer again later);
 * ADMIT_CLOSED means fd was closed (ferry is stopping, or no thread could
 * be started). The idle watcher's thread.
 */
enum admit_result admit_again(struct pool *pool, int fd,
    const struct sockaddr_storage *peer, const struct trace *t);

/*
 * Release what a job still holds: its config reference (and its fd if
 * still open, >= 0). For the pool's handler once it is done with the job,
 * and for a job that could not be handed over. Any thread.
 */
void admit_job_drop(struct admit_job *job);

#endif
