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
	char			*head;		/* malloc'd: the bytes gathered */
	size_t			 head_len;	/* (gather.h), a ready head */
	struct pool		*pool;		/* the pool that runs it */
};

/* How admit_offer() ended. */
enum admit_result {
	ADMIT_QUEUED,		/* the pool has it */
	ADMIT_BUSY,		/* no room now: fd is still the caller's */
	ADMIT_CLOSED		/* refused for good: fd was closed */
};

/*
 * Admit the connection fd from peer, whose request head head[0..len)
 * (malloc'd, cfg->max_header_bytes long) is ready (gather.h), with its
 * trace t (copied), under cfg, the config reference it was gathered by:
 * ask cfg's whitelist and offer the job to pool, never waiting.
 * ADMIT_QUEUED: the pool has fd, head and the reference. ADMIT_BUSY: no
 * worker is free; all three stay the caller's (to offer again later).
 * ADMIT_CLOSED: fd was closed, head freed, the reference dropped (ferry
 * is stopping, or no thread could be started). The idle watcher's thread.
 */
enum admit_result admit_offer(struct pool *pool, int fd,
    const struct sockaddr_storage *peer, const struct trace *t, char *head,
    size_t len, const struct ferry_config *cfg);

/*
 * Release what a job still holds: its config reference, its head bytes (and its
 * fd if still open, >= 0). For the pool's handler once it is done with the job,
 * and for a job that could not be handed over. Any thread.
 */
void admit_job_drop(struct admit_job *job);

#endif
