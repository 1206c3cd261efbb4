/*
 * check_pool.c: the bounded job runner (pool.c).
 *
 * The pool runs the test's handler on its own threads, so every test
 * watches it through one bench: a mutex, a condition variable and the
 * counts the handler keeps under them (calls begun, under way, at most at
 * once, ended, and how often each job ran). A job is JOB_BYTES bytes, an
 * odd size, carrying its number, whether it must hold, and a pattern
 * derived from its number: a handler that finds the pattern broken saw a
 * torn or shared copy. A held job waits on the bench until the test hands
 * out a token or opens the bench for all; that is how a test fills every
 * worker and the queue and then frees one worker at a time. Every wait is
 * bounded: a held job gives up after HOLD_MS (and counts as stuck, which
 * fails the test), and the test waits for a count for at most WAIT_MS.
 *
 * A pool that pool_stop() cut is not freed (pool.h): its address is kept
 * in a static so that LeakSanitizer sees it reachable, and its jobs are
 * released before the test ends so that no thread is left blocked. Each
 * test resets the bench and leaves no handler running, so the suite also
 * runs in one process (CK_FORK=no).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "pool.h"
#include "suites.h"

#define JOB_BYTES	37	/* odd: no alignment hides a short copy */
#define MAX_JOBS	512
#define HOLD_MS		20000	/* a held job gives up after this */
#define WAIT_MS		10000	/* the test waits for a count this long */
#define QUIET_MS	150	/* a wait that must not end: this long */
#define STACK		(256 * 1024)

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	unsigned	 tokens;	/* held jobs that may end now */
	bool		 open;		/* every held job may end */
	unsigned	 entered;	/* handler calls begun */
	unsigned	 inside;	/* handler calls under way */
	unsigned	 peak;		/* most under way at once */
	unsigned	 done;		/* handler calls ended */
	unsigned	 torn;		/* jobs not as they were submitted */
	unsigned	 stuck;		/* held jobs that gave up waiting */
	unsigned	 runs[MAX_JOBS];
} bench = { .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER };

/* Pools cut by pool_stop(): never freed, kept reachable. */
static struct pool *cut_pools[16];
static size_t ncut;

/* Byte k of job id's pattern. */
static unsigned char
job_byte(unsigned id, size_t k)
{
	return (unsigned char)(id * 31u + k * 7u + 1u);
}

/* Write job id into buf (JOB_BYTES); hold: it waits for a token. */
static void
job_make(unsigned char *buf, unsigned id, bool hold)
{
	size_t k;

	memcpy(buf, &id, sizeof(id));
	buf[sizeof(id)] = hold;
	for (k = sizeof(id) + 1; k < JOB_BYTES; k++)
		buf[k] = job_byte(id, k);
}

/* Whether buf is a whole job; its number in *id. */
static bool
job_read(const unsigned char *buf, unsigned *id, bool *hold)
{
	size_t k;

	memcpy(id, buf, sizeof(*id));
	*hold = buf[sizeof(*id)] != 0;
	if (*id >= MAX_JOBS || buf[sizeof(*id)] > 1)
		return false;
	for (k = sizeof(*id) + 1; k < JOB_BYTES; k++)
		if (buf[k] != job_byte(*id, k))
			return false;
	return true;
}

/* A held job waits for a token or the open bench. Bench lock held. */
static void
handler_hold(void)
{
	struct timespec until = io_abstime_in(HOLD_MS);

	while (!bench.open && bench.tokens == 0)
		if (pthread_cond_timedwait(&bench.changed, &bench.lock,
		    &until) == ETIMEDOUT) {
			bench.stuck++;
			return;
		}
	if (!bench.open)
		bench.tokens--;
}

/* The pool's handler: count the call, hold if told, count the end. */
static void
handler(void *arg)
{
	unsigned id;
	bool hold, whole;

	whole = job_read(arg, &id, &hold);
	pthread_mutex_lock(&bench.lock);
	bench.entered++;
	bench.inside++;
	if (bench.inside > bench.peak)
		bench.peak = bench.inside;
	pthread_cond_broadcast(&bench.changed);
	if (!whole)
		bench.torn++;
	else
		bench.runs[id]++;
	if (whole && hold)
		handler_hold();
	bench.inside--;
	bench.done++;
	pthread_cond_broadcast(&bench.changed);
	pthread_mutex_unlock(&bench.lock);
}

static void
bench_reset(void)
{
	pthread_mutex_lock(&bench.lock);
	bench.tokens = 0;
	bench.open = false;
	bench.entered = bench.inside = bench.peak = bench.done = 0;
	bench.torn = bench.stuck = 0;
	memset(bench.runs, 0, sizeof(bench.runs));
	pthread_mutex_unlock(&bench.lock);
}

/*
 * Wait until *count (a bench field, or one kept under the bench lock)
 * reaches want, for at most ms. Returns whether it did.
 */
static bool
bench_await(const unsigned *count, unsigned want, int ms)
{
	struct timespec until = io_abstime_in(ms);
	bool reached;

	pthread_mutex_lock(&bench.lock);
	while (*count < want)
		if (pthread_cond_timedwait(&bench.changed, &bench.lock,
		    &until) == ETIMEDOUT)
			break;
	reached = *count >= want;
	pthread_mutex_unlock(&bench.lock);
	return reached;
}

/* Let n held jobs end (n == 0: all of them, from now on). */
static void
bench_release(unsigned n)
{
	pthread_mutex_lock(&bench.lock);
	if (n == 0)
		bench.open = true;
	else
		bench.tokens += n;
	pthread_cond_broadcast(&bench.changed);
	pthread_mutex_unlock(&bench.lock);
}

static unsigned
bench_get(const unsigned *field)
{
	unsigned v;

	pthread_mutex_lock(&bench.lock);
	v = *field;
	pthread_mutex_unlock(&bench.lock);
	return v;
}

/* Jobs first..first+n-1 each ran exactly once; no other job ran. */
static void
assert_ran_once(unsigned first, unsigned n, const char *what)
{
	unsigned i;

	pthread_mutex_lock(&bench.lock);
	for (i = 0; i < MAX_JOBS; i++) {
		unsigned want = i >= first && i < first + n;

		if (bench.runs[i] != want) {
			pthread_mutex_unlock(&bench.lock);
			ck_abort_msg("%s: job %u ran %u times, want %u", what,
			    i, bench.runs[i], want);
		}
	}
	pthread_mutex_unlock(&bench.lock);
	ck_assert_msg(bench_get(&bench.torn) == 0, "%s: torn jobs", what);
	ck_assert_msg(bench_get(&bench.stuck) == 0, "%s: stuck jobs", what);
}

/*
 * Wait until pool_load() says running and queued: the pool's own counts
 * move after the handler's (a job ends, then its thread is counted out),
 * and the pool has no event to wait on, so look every millisecond.
 */
static bool
load_is(struct pool *p, unsigned running, size_t queued)
{
	uint64_t until = io_now_ms() + WAIT_MS;
	unsigned r;
	size_t q;

	for (;;) {
		pool_load(p, &r, &q);
		if (r == running && q == queued)
			return true;
		if (io_now_ms() >= until)
			return false;
		io_pause_ms(1);
	}
}

static struct pool *
start(const struct pool_shape *shape)
{
	struct pool *p;
	char err[256];

	bench_reset();
	err[0] = '\0';
	p = pool_start(shape, handler, JOB_BYTES, err, sizeof(err));
	ck_assert_msg(p != NULL, "pool_start: %s", err);
	return p;
}

/* Offer job id now; the result. */
static enum pool_result
offer(struct pool *p, unsigned id, bool hold)
{
	unsigned char job[JOB_BYTES];
	enum pool_result r;

	job_make(job, id, hold);
	r = pool_offer(p, job);
	/* The pool must have copied it: scribble over the original. */
	memset(job, 0xee, sizeof(job));
	return r;
}

/* A thread submitting jobs first..first+count-1 with pool_submit(). */
struct submitter {
	pthread_t		 tid;
	struct pool		*pool;
	unsigned		 first;
	unsigned		 count;
	bool			 hold;
	const atomic_bool	*stop;
	/* Under the bench lock: */
	unsigned		 returned;	/* submits that returned */
	unsigned		 taken;		/* of them, POOL_TAKEN */
	enum pool_result	 last;
};

static void *
submitter_run(void *arg)
{
	struct submitter *s = arg;
	unsigned char job[JOB_BYTES];
	enum pool_result r;
	unsigned i;

	for (i = 0; i < s->count; i++) {
		job_make(job, s->first + i, s->hold);
		r = pool_submit(s->pool, job, s->stop);
		memset(job, 0xee, sizeof(job));
		pthread_mutex_lock(&bench.lock);
		s->returned++;
		s->taken += r == POOL_TAKEN;
		s->last = r;
		pthread_cond_broadcast(&bench.changed);
		pthread_mutex_unlock(&bench.lock);
	}
	return NULL;
}

static void
submitter_start(struct submitter *s, struct pool *p, unsigned first,
    unsigned count, bool hold, const atomic_bool *stop)
{
	memset(s, 0, sizeof(*s));
	s->pool = p;
	s->first = first;
	s->count = count;
	s->hold = hold;
	s->stop = stop;
	ck_assert_int_eq(pthread_create(&s->tid, NULL, submitter_run, s), 0);
}

/* Join s, which must have ended within WAIT_MS. */
static void
submitter_join(struct submitter *s)
{
	ck_assert_msg(bench_await(&s->returned, s->count, WAIT_MS),
	    "a submitter still waits after %d ms", WAIT_MS);
	ck_assert_int_eq(pthread_join(s->tid, NULL), 0);
}

/* Stop p, which must drain at once (nothing is held). */
static void
stop_empty(struct pool *p)
{
	ck_assert_uint_eq(pool_stop(p, WAIT_MS), 0);
}

/* Start one submitter of job id into full p, which must make it wait. */
static void
submitter_blocked(struct submitter *s, struct pool *p, unsigned id,
    const char *what)
{
	submitter_start(s, p, id, 1, true, NULL);
	ck_assert_msg(!bench_await(&s->returned, 1, QUIET_MS),
	    "%s: pool_submit() returned from a full pool", what);
}

/* Join s, whose one submit must have been taken. */
static void
submitter_took(struct submitter *s, const char *what)
{
	submitter_join(s);
	ck_assert_msg(s->last == POOL_TAKEN, "%s: result %d", what, s->last);
}

/* Let every job end, check jobs 0..n-1 each ran once, stop p. */
static void
finish(struct pool *p, unsigned n, const char *what)
{
	bench_release(0);
	ck_assert_msg(bench_await(&bench.done, n, WAIT_MS), "%s: %u of %u "
	    "ran", what, bench_get(&bench.done), n);
	assert_ran_once(0, n, what);
	stop_empty(p);
}

/* Shapes, named; cap is how many jobs may run at once. */
struct shape_case {
	const char		*name;
	struct pool_shape	 shape;
	unsigned		 cap;
	unsigned		 submitters;
};

#define QUEUE(w, q)	{ false, (w), (q), 0, STACK }
#define THREADS(m)	{ true, 0, 0, (m), STACK }

static const struct shape_case every_job[] = {
	{ "queue 1x1, one submitter", QUEUE(1, 1), 1, 1 },
	{ "queue 3x4, three submitters", QUEUE(3, 4), 3, 3 },
	{ "queue 4x64, two submitters", QUEUE(4, 64), 4, 2 },
	{ "queue 2x0 (one slot)", QUEUE(2, 0), 2, 2 },
	{ "thread max 1", THREADS(1), 1, 1 },
	{ "thread max 4, three submitters", THREADS(4), 4, 3 },
};

/*
 * Every submitted job runs exactly once, as it was submitted (each
 * submitter reuses one buffer and scribbles on it after each call), and
 * never more at once than the shape allows.
 */
START_TEST(test_every_job_once)
{
	const struct shape_case *c = &every_job[_i];
	struct submitter s[3];
	unsigned i, n = 300, per = n / c->submitters;
	struct pool *p = start(&c->shape);

	for (i = 0; i < c->submitters; i++)
		submitter_start(&s[i], p, i * per, per, false, NULL);
	for (i = 0; i < c->submitters; i++) {
		submitter_join(&s[i]);
		ck_assert_msg(s[i].taken == per, "%s: %u of %u taken",
		    c->name, s[i].taken, per);
	}
	ck_assert_msg(bench_await(&bench.done, per * c->submitters, WAIT_MS),
	    "%s: %u of %u jobs ran", c->name, bench_get(&bench.done),
	    per * c->submitters);
	assert_ran_once(0, per * c->submitters, c->name);
	ck_assert_msg(bench_get(&bench.peak) <= c->cap, "%s: %u at once",
	    c->name, bench_get(&bench.peak));
	stop_empty(p);
}
END_TEST

/* Shapes for the tests that fill a pool: cap runs, queue waits. */
static const struct {
	const char		*name;
	struct pool_shape	 shape;
	unsigned		 cap;
	unsigned		 queue;	/* jobs that wait (0 in thread mode) */
} full_shapes[] = {
	{ "queue 2x3", QUEUE(2, 3), 2, 3 },
	{ "queue 1x1", QUEUE(1, 1), 1, 1 },
	{ "thread max 3", THREADS(3), 3, 0 },
	{ "thread max 1", THREADS(1), 1, 0 },
};

/*
 * Fill p with held jobs 0..cap+queue-1 through pool_offer(): one at a
 * time until every worker holds one (so none is still in the queue when
 * the queue is filled), then the queue. Returns how many.
 */
static unsigned
fill(struct pool *p, unsigned cap, unsigned queue, const char *what)
{
	unsigned i;

	for (i = 0; i < cap; i++) {
		ck_assert_msg(offer(p, i, true) == POOL_TAKEN, "%s: job %u "
		    "refused", what, i);
		ck_assert_msg(bench_await(&bench.entered, i + 1, WAIT_MS),
		    "%s: job %u never started", what, i);
	}
	for (; i < cap + queue; i++)
		ck_assert_msg(offer(p, i, true) == POOL_TAKEN, "%s: job %u "
		    "not queued", what, i);
	ck_assert_msg(load_is(p, cap, queue), "%s: load is not %u+%u", what,
	    cap, queue);
	return i;
}

/*
 * pool_offer() never waits: with every worker busy and the queue full it
 * says POOL_FULL (as often as asked, taking nothing), and once one job
 * ends it takes one again, and only one. pool_has_idle() says whether a
 * new job would start at once: not while every worker is busy or a job
 * is queued.
 */
START_TEST(test_offer_full)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	unsigned n, k;
	uint64_t t0;

	ck_assert_msg(pool_has_idle(p), "%s: idle when empty", name);
	n = fill(p, cap, queue, name);
	ck_assert_msg(!pool_has_idle(p), "%s: idle when full", name);
	t0 = io_now_ms();
	for (k = 0; k < 100; k++)
		ck_assert_msg(offer(p, n, true) == POOL_FULL, "%s: offer %u "
		    "into a full pool", name, k);
	/* A hundred refusals, no waiting (generous for a loaded box). */
	ck_assert_uint_lt(io_now_ms() - t0, 2000);
	ck_assert_msg(load_is(p, cap, queue), "%s: a refusal took a job",
	    name);

	/* One ends: the next queued job starts, one slot is free. */
	bench_release(1);
	ck_assert(bench_await(&bench.done, 1, WAIT_MS));
	ck_assert_msg(load_is(p, queue > 0 ? cap : cap - 1,
	    queue > 0 ? queue - 1 : 0), "%s: no room after a job ended",
	    name);
	/* A queued job took the worker; a thread-mode place stays free. */
	ck_assert_msg(pool_has_idle(p) == (queue == 0), "%s: idle after a "
	    "job ended", name);
	ck_assert_msg(offer(p, n, true) == POOL_TAKEN, "%s: room, but "
	    "refused", name);
	ck_assert_msg(offer(p, n + 1, true) == POOL_FULL, "%s: took two "
	    "for one free slot", name);

	finish(p, n + 1, name);
}
END_TEST

/*
 * pool_submit() on a full pool waits (does not return, takes nothing)
 * and returns POOL_TAKEN once a job ends and makes room.
 */
START_TEST(test_submit_waits)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	struct submitter s;
	unsigned n;

	n = fill(p, cap, queue, name);
	submitter_blocked(&s, p, n, name);
	ck_assert(load_is(p, cap, queue));

	bench_release(1);
	submitter_took(&s, name);
	finish(p, n + 1, name);
}
END_TEST

/*
 * Fairness: while pool_offer() keeps being refused (as the idle watcher's
 * retries are), the place a job frees goes to the offerer, not to a
 * pool_submit() that waited for it all along; the submitter gets the
 * next one once the offers stop.
 */
START_TEST(test_offer_reserves)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	uint64_t until;
	struct submitter s;
	enum pool_result r;
	unsigned n;

	n = fill(p, cap, queue, name);
	submitter_blocked(&s, p, n + 1, name);
	ck_assert_msg(offer(p, n, true) == POOL_FULL, "%s: room", name);
	bench_release(1);
	/* Retry as the watcher does, each refusal renewing the hold. */
	until = io_now_ms() + WAIT_MS;
	while ((r = offer(p, n, true)) == POOL_FULL && io_now_ms() < until)
		io_pause_ms(1);
	ck_assert_msg(r == POOL_TAKEN, "%s: the offer never got the place "
	    "(%d)", name, r);
	ck_assert_msg(bench_get(&s.returned) == 0, "%s: the submitter took "
	    "the place kept for the offer", name);
	/* The offers stopped: the next free place is the submitter's. */
	bench_release(1);
	submitter_took(&s, name);
	finish(p, n + 2, name);
}
END_TEST

/*
 * pool_submit() gives up with POOL_STOPPED when its stop flag is raised:
 * at once if it is up before the call (even with room), and within a
 * wait period if it is raised while the call waits. Either way the job
 * never runs.
 */
START_TEST(test_submit_stop_flag)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	unsigned char job[JOB_BYTES];
	atomic_bool stop = true;
	struct submitter s;
	uint64_t t0;
	unsigned n;

	job_make(job, MAX_JOBS - 1, false);
	ck_assert_int_eq(pool_submit(p, job, &stop), POOL_STOPPED);

	atomic_store(&stop, false);
	n = fill(p, cap, queue, name);
	submitter_start(&s, p, n, 1, false, &stop);
	ck_assert_msg(!bench_await(&s.returned, 1, QUIET_MS),
	    "%s: pool_submit() returned from a full pool", name);
	t0 = io_now_ms();
	atomic_store(&stop, true);
	submitter_join(&s);
	/* The pool looks at the flag every 200 ms; allow for a slow box. */
	ck_assert_msg(io_now_ms() - t0 < 3000, "%s: took %llu ms", name,
	    (unsigned long long)(io_now_ms() - t0));
	ck_assert_msg(s.last == POOL_STOPPED, "%s: result %d", name, s.last);
	ck_assert(load_is(p, cap, queue));

	bench_release(0);
	ck_assert(bench_await(&bench.done, n, WAIT_MS));
	assert_ran_once(0, n, name);
	stop_empty(p);
}
END_TEST

/*
 * Thread mode runs at most max_threads jobs at once: a submitter of
 * twelve held jobs gets three in and waits; released, all twelve run,
 * never more than three at a time.
 */
START_TEST(test_thread_cap)
{
	struct pool_shape shape = THREADS(3);
	struct pool *p = start(&shape);
	struct submitter s;
	unsigned k;

	submitter_start(&s, p, 0, 12, true, NULL);
	ck_assert(bench_await(&bench.entered, 3, WAIT_MS));
	ck_assert_msg(!bench_await(&bench.entered, 4, QUIET_MS),
	    "a fourth job started");
	ck_assert_uint_eq(bench_get(&s.returned), 3);
	ck_assert(load_is(p, 3, 0));
	/* One at a time: each end lets exactly one more in. */
	for (k = 1; k <= 3; k++) {
		bench_release(1);
		ck_assert(bench_await(&bench.entered, 3 + k, WAIT_MS));
		ck_assert(load_is(p, 3, 0));
	}
	bench_release(0);
	submitter_join(&s);
	ck_assert_uint_eq(s.taken, 12);
	ck_assert(bench_await(&bench.done, 12, WAIT_MS));
	assert_ran_once(0, 12, "thread max 3");
	ck_assert_uint_eq(bench_get(&bench.peak), 3);
	stop_empty(p);
}
END_TEST

/*
 * What frees the held jobs once pool_stop() has begun: it offers a job
 * (which a full pool refuses) until the pool says it is stopping.
 */
struct releaser {
	pthread_t	 tid;
	struct pool	*pool;
	unsigned	 id;
	bool		 saw_stop;
	bool		 took;		/* a full pool took its job: a bug */
};

static void *
releaser_run(void *arg)
{
	struct releaser *r = arg;
	uint64_t until = io_now_ms() + WAIT_MS;
	enum pool_result res;

	do {
		res = offer(r->pool, r->id, false);
		if (res == POOL_FULL)
			io_pause_ms(1);
	} while (res == POOL_FULL && io_now_ms() < until);
	r->saw_stop = res == POOL_STOPPED;
	r->took = res == POOL_TAKEN;
	/* Release even after a timeout, so that pool_stop() can end. */
	bench_release(0);
	return NULL;
}

/*
 * pool_stop() runs what it had accepted: with every worker busy and the
 * queue full when it is called, the jobs (released once it has begun)
 * all run, queued ones included, and it returns 0 within its grace.
 */
START_TEST(test_stop_drains)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	struct releaser r;
	uint64_t t0;
	unsigned n;

	n = fill(p, cap, queue, name);
	memset(&r, 0, sizeof(r));
	r.pool = p;
	r.id = n;
	ck_assert_int_eq(pthread_create(&r.tid, NULL, releaser_run, &r), 0);
	t0 = io_now_ms();
	ck_assert_msg(pool_stop(p, 2 * WAIT_MS) == 0, "%s: jobs cut", name);
	ck_assert_msg(io_now_ms() - t0 < WAIT_MS, "%s: stop took %llu ms",
	    name, (unsigned long long)(io_now_ms() - t0));
	ck_assert_int_eq(pthread_join(r.tid, NULL), 0);
	ck_assert_msg(r.saw_stop && !r.took, "%s: the offers during the "
	    "stop: stopped %d, taken %d", name, r.saw_stop, r.took);
	ck_assert_uint_eq(bench_get(&bench.done), n);
	assert_ran_once(0, n, name);
}
END_TEST

/*
 * Jobs that outlast the grace are cut: pool_stop() returns after the
 * grace with how many were running or queued. Released afterwards, they
 * end (queued ones still run: they were accepted) and no thread is left
 * waiting.
 */
START_TEST(test_stop_cuts)
{
	const char *name = full_shapes[_i].name;
	unsigned cap = full_shapes[_i].cap, queue = full_shapes[_i].queue;
	struct pool *p = start(&full_shapes[_i].shape);
	unsigned n, cut;
	uint64_t t0, took;

	n = fill(p, cap, queue, name);
	t0 = io_now_ms();
	cut = pool_stop(p, 300);
	took = io_now_ms() - t0;
	ck_assert_uint_lt(ncut, NELEM(cut_pools));
	cut_pools[ncut++] = p;
	bench_release(0);
	ck_assert_msg(cut == n, "%s: %u cut, want %u", name, cut, n);
	ck_assert_msg(took >= 300 && took < 300 + WAIT_MS, "%s: stop took "
	    "%llu ms for a grace of 300", name, (unsigned long long)took);
	ck_assert_msg(bench_await(&bench.done, n, WAIT_MS), "%s: %u of %u "
	    "ended after the release", name, bench_get(&bench.done), n);
	assert_ran_once(0, n, name);
}
END_TEST

/* A stack size pthreads refuses fails pool_start() with a message. */
static const struct {
	bool	 thread_per_job;
	size_t	 stack;
	size_t	 errlen;
	char	 want[40];	/* in the message, or its start if cut */
} stacks[] = {
	{ false, 0, 256, "0 bytes is not a usable stack size" },
	{ true, 0, 256, "0 bytes is not a usable stack size" },
	{ false, 1, 256, "1 bytes is not a usable stack size" },
	{ true, 1, 256, "1 bytes is not a usable stack size" },
	{ false, 4095, 256, "4095 bytes is not a usable stack" },
	{ true, 4095, 256, "4095 bytes is not a usable stack" },
	{ false, 1, 8, "1 bytes" },	/* a short buffer: cut, not overrun */
	{ true, 1, 1, "" },
};

START_TEST(test_bad_stack)
{
	struct pool_shape shape = QUEUE(2, 2);
	char err[300];
	size_t k, len = stacks[_i].errlen;

	shape.thread_per_job = stacks[_i].thread_per_job;
	shape.max_threads = 2;
	shape.stack_bytes = stacks[_i].stack;
	memset(err, '#', sizeof(err));
	ck_assert_ptr_null(pool_start(&shape, handler, JOB_BYTES, err, len));
	ck_assert_msg(strlen(err) < len, "message of %zu bytes in %zu",
	    strlen(err), len);
	ck_assert_msg(strncmp(err, stacks[_i].want, len - 1) == 0 ||
	    strstr(err, stacks[_i].want) != NULL, "message: %s", err);
	for (k = len; k < sizeof(err); k++)
		ck_assert_msg(err[k] == '#', "byte %zu written", k);
}
END_TEST

Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	/* Threads and bounded waits: room for a loaded, sanitized run. */
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_every_job_once, 0, NELEM(every_job));
	tcase_add_loop_test(tc, test_offer_full, 0, NELEM(full_shapes));
	tcase_add_loop_test(tc, test_offer_reserves, 0, NELEM(full_shapes));
	tcase_add_loop_test(tc, test_submit_waits, 0, NELEM(full_shapes));
	tcase_add_loop_test(tc, test_submit_stop_flag, 0,
	    NELEM(full_shapes));
	tcase_add_test(tc, test_thread_cap);
	tcase_add_loop_test(tc, test_stop_drains, 0, NELEM(full_shapes));
	tcase_add_loop_test(tc, test_stop_cuts, 0, NELEM(full_shapes));
	tcase_add_loop_test(tc, test_bad_stack, 0, NELEM(stacks));
	suite_add_tcase(s, tc);
	return s;
}
