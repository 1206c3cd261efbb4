/*
 * pool.c: the bounded worker pool and thread-per-connection mode (see
 * pool.h).
 *
 * Path: whitelist, queue and worker; conn.c takes it from there.
 *
 * All state shared between threads lives in struct pool, under its one
 * mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "io.h"
#include "log.h"
#include "pool.h"

/* How often a waiting thread wakes to look at the stop flag. */
#define POOL_WAIT_MS 200

struct pool {
	enum pool_mode		 mode;
	unsigned		 workers;
	size_t			 queue;		/* ring size */
	unsigned		 max_clients;
	pthread_mutex_t		 lock;
	pthread_cond_t		 not_empty;	/* a job was queued */
	pthread_cond_t		 not_full;	/* room for a job/thread */
	pthread_attr_t		 attr;		/* stack size */
	bool			 stopping;
	unsigned		 running;	/* live worker/conn threads */
	unsigned		 active;	/* connections being served */

	/* Pool mode: a ring of queued jobs and the worker threads. */
	struct pool_job		*ring;
	size_t			 head;
	size_t			 count;
	pthread_t		*threads;
	unsigned		 nthreads;
};

/* An absolute CLOCK_REALTIME time ms from now, for timed waits. */
static struct timespec
pool_deadline(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void
pool_wait(pthread_cond_t *cv, pthread_mutex_t *lock, int ms)
{
	struct timespec ts = pool_deadline(ms);

	(void)pthread_cond_timedwait(cv, lock, &ts);
}

/*
 * Take the next job; false once the pool is stopping and the queue is
 * empty (queued clients are served while draining: they were accepted).
 */
static bool
pool_take(struct pool *p, struct pool_job *job)
{
	bool got = false;

	pthread_mutex_lock(&p->lock);
	while (p->count == 0 && !p->stopping)
		pool_wait(&p->not_empty, &p->lock, POOL_WAIT_MS);
	if (p->count > 0) {
		*job = p->ring[p->head];
		p->head = (p->head + 1) % p->queue;
		p->count--;
		p->active++;
		got = true;
		pthread_cond_signal(&p->not_full);
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

/* Mark a thread as ended and wake pool_stop() and pool_submit(). */
static void
pool_thread_done(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->lock);
}

static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	struct pool_job job;

	while (pool_take(p, &job)) {
		conn_handle(&job);
		config_release(job.cfg);
		pthread_mutex_lock(&p->lock);
		p->active--;
		pthread_mutex_unlock(&p->lock);
	}
	pool_thread_done(p);
	return NULL;
}

/* What a thread-mode connection thread is started with. */
struct pool_thread_arg {
	struct pool	*pool;
	struct pool_job	 job;
};

/* Thread mode: one connection, then the thread ends. */
static void *
pool_conn_thread(void *arg)
{
	struct pool_thread_arg *a = arg;
	struct pool *p = a->pool;

	conn_handle(&a->job);
	config_release(a->job.cfg);
	free(a);
	pool_thread_done(p);
	return NULL;
}

/* Start the fixed workers of pool mode. */
static int
pool_start_workers(struct pool *p, char *err, size_t errlen)
{
	unsigned i;
	int rc;

	p->ring = calloc(p->queue, sizeof(*p->ring));
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
pool_start(const struct ferry_config *cfg, char *err, size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, errlen, "out of memory for the pool");
		return NULL;
	}
	p->mode = cfg->mode;
	p->workers = cfg->workers;
	p->queue = cfg->queue;
	p->max_clients = cfg->max_clients;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	pthread_attr_init(&p->attr);
	if (pthread_attr_setstacksize(&p->attr, cfg->stack_kb * 1024UL) != 0) {
		snprintf(err, errlen, "[pool] stack_kb = %u is not a usable "
		    "stack size", cfg->stack_kb);
		pool_stop(p, 0);
		return NULL;
	}
	if (cfg->mode == POOL_MODE_POOL &&
	    pool_start_workers(p, err, errlen) == -1) {
		pool_stop(p, 5000);
		return NULL;
	}
	return p;
}

/* Pool mode: queue the job. Called with the lock held. */
static int
pool_enqueue(struct pool *p, const struct pool_job *job)
{
	p->ring[(p->head + p->count) % p->queue] = *job;
	p->count++;
	pthread_cond_signal(&p->not_empty);
	return 0;
}

/* Thread mode: start a detached thread. Called with the lock held. */
static int
pool_spawn(struct pool *p, const struct pool_job *job)
{
	struct pool_thread_arg *arg;
	pthread_t tid;
	int rc;

	arg = malloc(sizeof(*arg));
	if (arg == NULL)
		return -1;
	arg->pool = p;
	arg->job = *job;
	rc = pthread_create(&tid, &p->attr, pool_conn_thread, arg);
	if (rc != 0) {
		log_msg(LOGL_ERROR, "cannot start a connection thread: %s",
		    strerror(rc));
		free(arg);
		return -1;
	}
	pthread_detach(tid);
	p->running++;
	return 0;
}

int
pool_submit(struct pool *p, const struct pool_job *job,
    const atomic_bool *stop)
{
	bool thread_mode = p->mode == POOL_MODE_THREAD;
	int rc = -1;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (*stop || p->stopping)
			break;
		if (thread_mode && p->running < p->max_clients) {
			rc = pool_spawn(p, job);
			break;
		}
		if (!thread_mode && p->count < p->queue) {
			rc = pool_enqueue(p, job);
			break;
		}
		pool_wait(&p->not_full, &p->lock, POOL_WAIT_MS);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int
pool_dispatch(struct pool *p, int fd, const struct sockaddr_storage *peer,
    const struct trace *t, const atomic_bool *stop)
{
	struct pool_job job;

	job.fd = fd;
	job.peer = *peer;
	if (t == NULL) {
		trace_begin(&job.trace);
		trace_stage(&job.trace, "accepted (fd %d)", fd);
	} else
		job.trace = *t;
	job.cfg = config_acquire();
	job.allowed = acl_allows(&job.cfg->whitelist,
	    (const struct sockaddr *)peer);
	trace_stage(&job.trace, "whitelist %s the client; queued for a "
	    "worker", job.allowed ? "allows" : "refuses");
	if (pool_submit(p, &job, stop) == -1) {
		trace_stage(&job.trace, "closed: ferry is stopping");
		close(fd);
		config_release(job.cfg);
		return -1;
	}
	return 0;
}

unsigned
pool_stop(struct pool *p, unsigned grace_ms)
{
	uint64_t deadline = io_now_ms() + grace_ms;
	unsigned i, left, running;

	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->not_empty);
	while (p->running > 0 && io_now_ms() < deadline)
		pool_wait(&p->not_full, &p->lock, POOL_WAIT_MS);
	/* Idle workers see the stop within a wait period: let them end. */
	deadline = io_now_ms() + 2 * (uint64_t)POOL_WAIT_MS;
	while (p->running > 0 && p->active == 0 && p->count == 0 &&
	    io_now_ms() < deadline)
		pool_wait(&p->not_full, &p->lock, POOL_WAIT_MS);
	/* Thread mode: every running thread serves one connection. */
	left = p->mode == POOL_MODE_POOL ? p->active + (unsigned)p->count :
	    p->running;
	running = p->running;
	pthread_mutex_unlock(&p->lock);
	if (running > 0) {
		/*
		 * Cut off: the process exits with the busy workers still
		 * running. Reap the ones that did end, so no finished thread
		 * is left unjoined (ThreadSanitizer calls that a leak).
		 */
		for (i = 0; i < p->nthreads; i++)
			(void)pthread_tryjoin_np(p->threads[i], NULL);
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
