/*
 * pool.h: a bounded job runner: a fixed set of worker threads fed from a
 * queue, or one thread per job up to a cap.
 *
 * Path: queue and worker: each admitted connection waits here as a job
 * until a worker runs the handler the pool was started with on it.
 *
 * DESIGN. The pool knows nothing of what it runs: it is started with one
 * handler and the size of a job, copies each submitted job into its queue
 * by value, and calls handler(job) on a worker thread. In queue mode a fixed
 * set of `workers` threads takes jobs from a ring of at most `queue`
 * entries; in thread mode every job gets its own detached thread, at most
 * `max_threads` at once. When the pool is full, pool_submit() waits on a
 * condition variable, while pool_offer() never waits and says so (the
 * idle watcher, which must go on sweeping). Since request heads are
 * gathered by the watcher (park.c), every job of ferry's comes through
 * pool_offer(); pool_submit() is kept for its tests and is due to go. Every wait is timed
 * so that a stop request is seen within a fraction of a second.
 *
 * Fairness: an offer that finds the pool full keeps the next free place
 * for the offerer for a moment (POOL_RESERVE_MS in pool.c), so a waiting
 * pool_submit() does not take it first. The offerer (the idle watcher)
 * holds clients that have sent their request already and retries within
 * that moment; without the reservation a steady stream of new connections
 * could keep them waiting until they time out.
 *
 * The pool's shape is fixed at start. All its state is under one mutex.
 */
#ifndef FERRY_POOL_H
#define FERRY_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct pool;

/* The pool's shape, read once by pool_start(). */
struct pool_shape {
	bool		 thread_per_job;	/* thread mode */
	unsigned	 workers;		/* queue mode: threads */
	size_t		 queue;			/* queue mode: jobs waiting */
	unsigned	 max_threads;		/* thread mode: jobs at once */
	size_t		 stack_bytes;		/* of every thread */
};

/* How a hand-over ended. */
enum pool_result {
	POOL_TAKEN,		/* the pool has the job now */
	POOL_FULL,		/* pool_offer(): no room; the caller keeps it */
	POOL_STOPPED,		/* stopping, or *stop: the caller keeps it */
	POOL_FAILED		/* a thread could not start; caller keeps it */
};

/*
 * Start a pool of the given shape that runs run(job) on each job of
 * job_size bytes: on a pool thread, with a copy of the job that is valid
 * during the call only. The handler owns whatever the job refers to and
 * must release it. Call once, from the main thread. Returns the pool (end
 * it with pool_stop()), or NULL with a message in err.
 */
struct pool *pool_start(const struct pool_shape *shape,
    void (*run)(void *job), size_t job_size, char *err, size_t errlen);

/*
 * Hand job (job_size bytes, copied) over, waiting while the pool is full
 * (or its free place is reserved for a refused offer) until there is room,
 * the pool stops, or *stop is raised. Returns POOL_TAKEN, POOL_STOPPED or
 * POOL_FAILED. Any thread.
 */
enum pool_result pool_submit(struct pool *p, const void *job,
    const atomic_bool *stop);

/*
 * Hand job over if there is room now; never waits. Returns POOL_TAKEN,
 * POOL_FULL (then the next free place is kept for an offer for a moment),
 * POOL_STOPPED or POOL_FAILED. Any thread.
 */
enum pool_result pool_offer(struct pool *p, const void *job);

/*
 * True if a new job would start at once: no job is queued and a worker
 * is idle (thread mode: a thread may start). A moment's view, for a
 * worker deciding whether it may wait a little for its client's next
 * request (serve.c) without keeping anyone else waiting. Any thread.
 */
bool pool_has_idle(struct pool *p);

/*
 * How many jobs are running and how many are queued, for tests and the
 * log. Any thread.
 */
void pool_load(struct pool *p, unsigned *running, size_t *queued);

/*
 * Drain and stop: no more jobs are taken in; queued and running jobs get
 * up to grace_ms to finish. Returns how many were still running or queued
 * then (cut: left to end with the process). The pool is freed only if
 * every thread ended; either way p must not be used again. Call once,
 * from the main thread, after everyone stopped submitting.
 */
unsigned pool_stop(struct pool *p, unsigned grace_ms);

#endif
