/*
 * pool.c: the bounded job runner (see pool.h).
 *
 * All state shared between threads lives in struct pool, under its one
 * mutex: the ring of queued jobs (each job_size bytes, copied in and out),
 * the thread counts and the stop flag. Jobs are copied by value so that a
 * hand-over allocates nothing: a full pool is a refusal, never a failed
 * malloc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "log.h"
#include "pool.h"

/* How often a waiting thread wakes to look at the stop flag. */
#define POOL_WAIT_MS 200
/* How long a refused offer keeps the next free place for the offerer. */
#define POOL_RESERVE_MS 50

struct pool {
	bool			 thread_per_job;
	unsigned		 workers;
	size_t			 queue;		/* ring slots */
	unsigned		 max_threads;
	void			(*run)(void *job);
	size_t			 job_size;
	pthread_mutex_t		 lock;
	pthread_cond_t		 not_empty;	/* a job was queued */
	pthread_cond_t		 not_full;	/* room for a job/thread */
	pthread_attr_t		 attr;		/* stack size */
	bool			 stopping;
	uint64_t		 reserved_until; /* io_now_ms(): for offers */
	unsigned		 running;	/* live threads */
	unsigned		 active;	/* jobs being run */

	/* Queue mode: a ring of queued jobs and the worker threads. */
	unsigned char		*ring;		/* queue * job_size bytes */
	size_t			 head;
	size_t			 count;
	pthread_t		*threads;
	unsigned		 nthreads;
};

/* Wait on cv for at most ms (the lock held, as for any condvar wait). */
static void
pool_wait(pthread_cond_t *cv, pthread_mutex_t *lock, int ms)
{
	struct timespec ts = io_abstime_in(ms);

	(void)pthread_cond_timedwait(cv, lock, &ts);
}

/* Slot i of the ring. */
static unsigned char *
pool_slot(struct pool *p, size_t i)
{
	return p->ring + (i % p->queue) * p->job_size;
}

/*
 * Take the next job into job; false once the pool is stopping and the
 * queue is empty (queued jobs are run while draining: they were accepted).
 */
static bool
pool_take(struct pool *p, void *job)
{
	bool got = false;

	pthread_mutex_lock(&p->lock);
	while (p->count == 0 && !p->stopping)
		pool_wait(&p->not_empty, &p->lock, POOL_WAIT_MS);
	if (p->count > 0) {
		memcpy(job, pool_slot(p, p->head), p->job_size);
		p->head = (p->head + 1) % p->queue;
		p->count--;
		p->active++;
		got = true;
		pthread_cond_signal(&p->not_full);
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

/* A job has been run: one fewer active, one more free slot or thread. */
static void
pool_job_done(struct pool *p, bool thread_ends)
{
	pthread_mutex_lock(&p->lock);
	p->active--;
	if (thread_ends)
		p->running--;
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->lock);
}

/* Queue mode: run jobs until the pool stops. arg is the pool. */
static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	void *job = malloc(p->job_size);

	if (job == NULL)
		log_msg(LOGL_ERROR, "a worker has no memory for its job: it "
		    "ends, one worker fewer");
	while (job != NULL && pool_take(p, job)) {
		p->run(job);
		pool_job_done(p, false);
	}
	free(job);
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* What a thread-mode thread is started with; the job follows it. */
struct pool_thread_arg {
	struct pool	*pool;
	_Alignas(max_align_t) unsigned char job[];
};

/* Thread mode: one job, then the thread ends. */
static void *
pool_job_thread(void *arg)
{
	struct pool_thread_arg *a = arg;
	struct pool *p = a->pool;

	p->run(a->job);
	free(a);
	pool_job_done(p, true);
	return NULL;
}

/* Start the fixed workers of queue mode. */
static int
pool_start_workers(struct pool *p, char *err, size_t errlen)
{
	unsigned i;
	int rc;

	p->ring = calloc(p->queue, p->job_size);
	p->threads = calloc(p->workers, sizeof(*p->threads));
	if (p->ring == NULL || p->threads == NULL) {
		snprintf(err, errlen, "out of memory for the pool");
		return -1;
	}
	for (i = 0; i < p->workers; i++) {
		rc = pthread_create(&p->threads[i], &p->attr, pool_worker, p);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start worker %u: %s", i,
			    strerror(rc));
			return -1;
		}
		pthread_mutex_lock(&p->lock);
		p->running++;
		p->nthreads++;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

struct pool *
pool_start(const struct pool_shape *shape, void (*run)(void *job),
    size_t job_size, char *err, size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, errlen, "out of memory for the pool");
		return NULL;
	}
	p->thread_per_job = shape->thread_per_job;
	p->workers = shape->workers;
	p->queue = shape->queue > 0 ? shape->queue : 1;
	p->max_threads = shape->max_threads;
	p->run = run;
	p->job_size = job_size > 0 ? job_size : 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	pthread_attr_init(&p->attr);
	if (pthread_attr_setstacksize(&p->attr, shape->stack_bytes) != 0) {
		snprintf(err, errlen, "%zu bytes is not a usable stack size",
		    shape->stack_bytes);
		pool_stop(p, 0);
		return NULL;
	}
	if (!p->thread_per_job && pool_start_workers(p, err, errlen) == -1) {
		pool_stop(p, 5000);
		return NULL;
	}
	return p;
}

/* Queue mode: queue the job. Lock held, room checked. */
static enum pool_result
pool_enqueue(struct pool *p, const void *job)
{
	memcpy(pool_slot(p, p->head + p->count), job, p->job_size);
	p->count++;
	pthread_cond_signal(&p->not_empty);
	return POOL_TAKEN;
}

/* Thread mode: start a detached thread for job. Lock held, room checked. */
static enum pool_result
pool_spawn(struct pool *p, const void *job)
{
	struct pool_thread_arg *arg;
	pthread_t tid;
	int rc;

	arg = malloc(sizeof(*arg) + p->job_size);
	if (arg == NULL)
		return POOL_FAILED;
	arg->pool = p;
	memcpy(arg->job, job, p->job_size);
	rc = pthread_create(&tid, &p->attr, pool_job_thread, arg);
	if (rc != 0) {
		log_msg(LOGL_ERROR, "cannot start a connection thread: %s",
		    strerror(rc));
		free(arg);
		return POOL_FAILED;
	}
	pthread_detach(tid);
	p->running++;
	p->active++;
	return POOL_TAKEN;
}

/* Hand job over if there is room; POOL_FULL if not. Lock held. */
static enum pool_result
pool_put(struct pool *p, const void *job)
{
	if (p->stopping)
		return POOL_STOPPED;
	if (p->thread_per_job)
		return p->running < p->max_threads ? pool_spawn(p, job) :
		    POOL_FULL;
	return p->count < p->queue ? pool_enqueue(p, job) : POOL_FULL;
}

/*
 * How long pool_submit() must leave a free place alone for a refused
 * offerer: ms from now, 0 if it need not. Lock held.
 */
static int
pool_reserved_ms(const struct pool *p)
{
	uint64_t now = io_now_ms();

	return p->reserved_until > now ? (int)(p->reserved_until - now) : 0;
}

enum pool_result
pool_submit(struct pool *p, const void *job, const atomic_bool *stop)
{
	enum pool_result r;
	int reserved;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (stop != NULL && atomic_load(stop)) {
			r = POOL_STOPPED;
			break;
		}
		reserved = pool_reserved_ms(p);
		if (reserved == 0 && (r = pool_put(p, job)) != POOL_FULL)
			break;
		if (p->stopping) {
			r = POOL_STOPPED;
			break;
		}
		pool_wait(&p->not_full, &p->lock, reserved > 0 &&
		    reserved < POOL_WAIT_MS ? reserved : POOL_WAIT_MS);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

enum pool_result
pool_offer(struct pool *p, const void *job)
{
	enum pool_result r;

	pthread_mutex_lock(&p->lock);
	r = pool_put(p, job);
	/* Refused: the next free place is the offerer's for a moment. */
	p->reserved_until = r == POOL_FULL ? io_now_ms() + POOL_RESERVE_MS :
	    0;
	pthread_mutex_unlock(&p->lock);
	return r;
}

bool
pool_has_idle(struct pool *p)
{
	bool idle;

	pthread_mutex_lock(&p->lock);
	idle = p->count == 0 && !p->stopping && (p->thread_per_job ?
	    p->running < p->max_threads : p->active < p->nthreads);
	pthread_mutex_unlock(&p->lock);
	return idle;
}

void
pool_load(struct pool *p, unsigned *running, size_t *queued)
{
	pthread_mutex_lock(&p->lock);
	*running = p->active;
	*queued = p->count;
	pthread_mutex_unlock(&p->lock);
}

unsigned
pool_stop(struct pool *p, unsigned grace_ms)
{
	uint64_t deadline = io_now_ms() + grace_ms;
	unsigned i, left, running;

	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->not_empty);
	while (p->active + p->count > 0 && io_now_ms() < deadline)
		pool_wait(&p->not_full, &p->lock, POOL_WAIT_MS);
	/* Idle workers see the stop within a wait period: let them end. */
	deadline = io_now_ms() + 2 * (uint64_t)POOL_WAIT_MS;
	while (p->running > 0 && p->active == 0 && p->count == 0 &&
	    io_now_ms() < deadline)
		pool_wait(&p->not_full, &p->lock, POOL_WAIT_MS);
	left = p->active + (unsigned)p->count;
	running = p->running;
	pthread_mutex_unlock(&p->lock);
	if (running > 0) {
		/*
		 * Cut off: the process exits with the busy workers still
		 * running. Reap the ones that did end and detach the rest,
		 * which may yet end before the exit: no finished thread is
		 * left unjoined (ThreadSanitizer calls that a leak).
		 */
		for (i = 0; i < p->nthreads; i++)
			if (pthread_tryjoin_np(p->threads[i], NULL) != 0)
				(void)pthread_detach(p->threads[i]);
		return left;
	}
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_attr_destroy(&p->attr);
	pthread_cond_destroy(&p->not_empty);
	pthread_cond_destroy(&p->not_full);
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p->threads);
	free(p);
	return 0;
}
