/*
 * admit.c: admission of client connections (see admit.h).
 *
 * The config reference comes from the head gatherer (park.c), which took
 * it when the connection arrived or parked: a reload between gathering
 * and serving does not change the limits a head is served under (a head
 * gathered to one max_header_bytes is never cut to another), and the
 * whitelist verdict is asked of the same snapshot.
 */
#include <stdlib.h>
#include <unistd.h>

#include "acl.h"
#include "admit.h"
#include "io.h"

/*
 * Build the job for fd, to be run by pool: config reference, verdict,
 * trace t, head.
 */
static void
admit_job_make(struct admit_job *job, struct pool *pool, int fd,
    const struct sockaddr_storage *peer, const struct trace *t, char *head,
    size_t len, const struct ferry_config *cfg)
{
	job->pool = pool;
	job->fd = fd;
	job->peer = *peer;
	job->trace = *t;
	job->head = head;
	job->head_len = len;
	job->cfg = cfg;
	job->allowed = acl_allows(&cfg->whitelist,
	    (const struct sockaddr *)peer);
}

void
admit_job_drop(struct admit_job *job)
{
	io_close(&job->fd);
	free(job->head);
	job->head = NULL;
	config_release(job->cfg);
	job->cfg = NULL;
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

enum admit_result
admit_offer(struct pool *pool, int fd, const struct sockaddr_storage *peer,
    const struct trace *t, char *head, size_t len,
    const struct ferry_config *cfg)
{
	struct admit_job job;
	enum pool_result r;

	/*
	 * The trace line before the offer: once the pool has the job, a
	 * worker may write the next line at once. The watcher may offer the
	 * same client many times before a worker is free; it says so once.
	 */
	admit_job_make(&job, pool, fd, peer, t, head, len, cfg);
	r = pool_offer(pool, &job);
	if (r == POOL_TAKEN)
		return ADMIT_QUEUED;
	if (r == POOL_FULL)
		return ADMIT_BUSY;	/* fd, head, cfg: still the caller's */
	admit_refused(&job, r);
	return ADMIT_CLOSED;
}
