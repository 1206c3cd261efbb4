/*
 * admit.c: admission of client connections (see admit.h).
 *
 * The config reference is taken here, at admission, not when a worker
 * starts: a job waiting in the queue during a reload keeps the config it
 * was judged by, so its verdict and the limits it is served under agree.
 */
#include <unistd.h>

#include "acl.h"
#include "admit.h"
#include "io.h"

/* Build the job for fd: config reference, verdict, trace (t or a new one). */
static void
admit_job_make(struct admit_job *job, int fd,
    const struct sockaddr_storage *peer, const struct trace *t)
{
	job->fd = fd;
	job->peer = *peer;
	if (t == NULL) {
		trace_begin(&job->trace);
		trace_stage(&job->trace, "accepted (fd %d)", fd);
	} else
		job->trace = *t;
	job->cfg = config_acquire();
	job->allowed = job->cfg != NULL && acl_allows(&job->cfg->whitelist,
	    (const struct sockaddr *)peer);
}

void
admit_job_drop(struct admit_job *job)
{
	io_close(&job->fd);
	config_release(job->cfg);
	job->cfg = NULL;
}

/*
 * The trace line of a job about to be handed over; written before, since
 * once the pool has it a worker may write the next line at once.
 */
static void
admit_trace_verdict(struct admit_job *job)
{
	trace_stage(&job->trace, "whitelist %s the client; queued for a "
	    "worker", job->allowed ? "allows" : "refuses");
}

/*
 * Close a job the pool refused for good, saying why in its trace (the
 * pool logs a thread that could not start).
 */
static void
admit_refused(struct admit_job *job, enum pool_result r)
{
	trace_stage(&job->trace, "closed: %s", r == POOL_FAILED ?
	    "no thread could be started" : "ferry is stopping");
	admit_job_drop(job);
}

int
admit_new(struct pool *pool, int fd, const struct sockaddr_storage *peer,
    const atomic_bool *stop)
{
	struct admit_job job;
	enum pool_result r;

	admit_job_make(&job, fd, peer, NULL);
	admit_trace_verdict(&job);
	r = pool_submit(pool, &job, stop);
	if (r == POOL_TAKEN)
		return 0;
	admit_refused(&job, r);
	return -1;
}

enum admit_result
admit_again(struct pool *pool, int fd, const struct sockaddr_storage *peer,
    const struct trace *t)
{
	struct admit_job job;
	enum pool_result r;

	/*
	 * No verdict line here: the watcher may offer the same client many
	 * times before a worker is free, and once the pool has the job a
	 * worker may trace it at once. The worker's first line follows
	 * the watcher's "readable".
	 */
	admit_job_make(&job, fd, peer, t);
	r = pool_offer(pool, &job);
	if (r == POOL_TAKEN)
		return ADMIT_QUEUED;
	if (r == POOL_FULL) {
		/* The fd stays the caller's; only the reference goes back. */
		config_release(job.cfg);
		return ADMIT_BUSY;
	}
	admit_refused(&job, r);
	return ADMIT_CLOSED;
}
