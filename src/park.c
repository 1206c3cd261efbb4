/*
 * park.c: the idle watcher (see park.h).
 *
 * Parked sockets sit in one of two lists, each in arrival order:
 *   idle     silent since they were parked; registered with one epoll
 *            instance whose event carries the entry;
 *   waiting  their next request has arrived, but no worker was free when
 *            they were offered; offered again every PARK_RETRY_MS, oldest
 *            first, so nobody is overtaken.
 * Workers add to idle under the lock; only the watcher removes, so an
 * entry an event points at is still alive when the watcher reads it.
 * Registrations are one-shot: an event disarms its socket, which stays
 * registered while it waits or a worker serves it, so parking it again is
 * one EPOLL_CTL_MOD, and closing it (by whoever) removes it from the set.
 * A waiting socket is not armed (it is readable: level-triggered epoll
 * would report it again at once); a hang-up while it waits is seen by the
 * worker that takes it.
 *
 * Every PARK_SWEEP_MS the watcher walks both lists and closes the expired
 * entries: idle ones after their idle_timeout, waiting ones after as long
 * again without a free worker. idle_timeout is whole seconds, so that is
 * precise enough and costs a few microseconds even with ten thousand
 * clients. Registration happens under the lock, so a socket is never in
 * the epoll set without being in a list, or the other way round.
 *
 * The same sweep also asks reuse.c to drop idle origin connections that
 * expired or that the origin closed: the watcher is the one thread that
 * wakes up regularly, and it keeps both kinds of idle socket tidy.
 */
#include <sys/queue.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "admit.h"
#include "io.h"
#include "log.h"
#include "park.h"
#include "reuse.h"

#define PARK_SWEEP_MS	250
#define PARK_RETRY_MS	20
#define PARK_EVENTS	64

struct park_entry {
	TAILQ_ENTRY(park_entry)	 link;
	int			 fd;
	struct sockaddr_storage	 peer;
	unsigned		 idle_s;
	uint64_t		 expires_ms;
	bool			 told;		/* traced: waits for a worker */
	struct trace		 trace;
};

TAILQ_HEAD(park_list, park_entry);

static struct {
	pthread_mutex_t		 lock;
	/* park_client() may add; changed under lock, read alone by
	 * park_accepting() on every request. */
	atomic_bool		 running;
	int			 epfd;
	struct pool		*pool;
	atomic_bool		 stop;
	pthread_t		 thread;
	struct park_list	 idle;		/* oldest first */
	struct park_list	 waiting;	/* oldest first */
	size_t			 count;		/* in both lists */
} park = { PTHREAD_MUTEX_INITIALIZER, false, -1, NULL, false, 0,
    TAILQ_HEAD_INITIALIZER(park.idle), TAILQ_HEAD_INITIALIZER(park.waiting),
    0 };

/* Watch fd: re-arm its registration, or make one. Lock held. */
static int
park_arm(int fd, struct epoll_event *ev)
{
	if (epoll_ctl(park.epfd, EPOLL_CTL_MOD, fd, ev) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return epoll_ctl(park.epfd, EPOLL_CTL_ADD, fd, ev);
}

void
park_client(int fd, const struct sockaddr_storage *peer, unsigned idle_s,
    const struct trace *t)
{
	struct park_entry *e;
	struct epoll_event ev;
	bool parked = false;

	if ((e = malloc(sizeof(*e))) != NULL) {
		e->fd = fd;
		e->peer = *peer;
		e->trace = *t;
		e->idle_s = idle_s;
		e->told = false;
		e->expires_ms = io_now_ms() + idle_s * 1000ULL;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
		ev.data.ptr = e;
		pthread_mutex_lock(&park.lock);
		if (atomic_load(&park.running) && park_arm(fd, &ev) == 0) {
			TAILQ_INSERT_TAIL(&park.idle, e, link);
			park.count++;
			parked = true;
		}
		pthread_mutex_unlock(&park.lock);
	}
	if (!parked) {
		free(e);
		close(fd);
	}
}

/* Take e out of list l and free it, its socket closed or handed on. */
static void
park_forget(struct park_list *l, struct park_entry *e)
{
	pthread_mutex_lock(&park.lock);
	TAILQ_REMOVE(l, e, link);
	park.count--;
	pthread_mutex_unlock(&park.lock);
	free(e);
}

/*
 * Offer the waiting clients to the pool, oldest first, until one finds no
 * free worker: that one and those behind it wait for the next try.
 */
static void
park_offer_waiting(void)
{
	struct park_entry *e;

	while ((e = TAILQ_FIRST(&park.waiting)) != NULL) {
		if (admit_again(park.pool, e->fd, &e->peer, &e->trace) ==
		    ADMIT_BUSY) {
			if (!e->told)
				trace_stage(&e->trace, "no worker is free: "
				    "it waits with the idle watcher");
			e->told = true;
			return;
		}
		park_forget(&park.waiting, e);
	}
}

/* Move e from idle to the end of waiting, with as long again to wait. */
static void
park_wait_for_worker(struct park_entry *e)
{
	e->expires_ms = io_now_ms() + e->idle_s * 1000ULL;
	pthread_mutex_lock(&park.lock);
	TAILQ_REMOVE(&park.idle, e, link);
	TAILQ_INSERT_TAIL(&park.waiting, e, link);
	pthread_mutex_unlock(&park.lock);
}

/*
 * A parked socket became readable: the next request, or the client hung
 * up. Offer the first to the pool (behind any that wait already); close
 * the second here, which saves a worker the trip. Only a hang-up event
 * needs a look at the data (the client may have sent a last request and
 * then shut down its side).
 */
static void
park_wake(struct park_entry *e, uint32_t events)
{
	/*
	 * The worker filled e before it armed the socket under the lock.
	 * An epoll event is no memory barrier (POSIX, and ThreadSanitizer,
	 * for which only EPOLL_CTL_ADD hands over, not the MOD of a second
	 * park): take the lock once, after that worker let go of it, before
	 * reading e.
	 */
	pthread_mutex_lock(&park.lock);
	pthread_mutex_unlock(&park.lock);
	if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    io_peek(e->fd) == IO_PEEK_CLOSED) {
		trace_stage(&e->trace, "closed: the client hung up while "
		    "parked");
		close(e->fd);
		park_forget(&park.idle, e);
		return;
	}
	trace_stage(&e->trace, "parked connection is readable: the next "
	    "request");
	park_wait_for_worker(e);
	park_offer_waiting();
}

/*
 * Close the entries of l whose time has passed (why says what ran out),
 * and free them.
 */
static void
park_expire(struct park_list *l, uint64_t now, const char *why)
{
	struct park_list dead = TAILQ_HEAD_INITIALIZER(dead);
	struct park_entry *e, *next;

	pthread_mutex_lock(&park.lock);
	/* glibc's queue.h has no TAILQ_FOREACH_SAFE. */
	for (e = TAILQ_FIRST(l); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		if (e->expires_ms > now)
			continue;
		TAILQ_REMOVE(l, e, link);
		park.count--;
		TAILQ_INSERT_TAIL(&dead, e, link);
	}
	pthread_mutex_unlock(&park.lock);
	while ((e = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, e, link);
		trace_stage(&e->trace, "closed: %s", why);
		close(e->fd);
		free(e);
	}
}

/* The periodic sweep of both lists and of the idle origin connections. */
static void
park_sweep(void)
{
	uint64_t now = io_now_ms();

	park_expire(&park.idle, now, "idle past idle_timeout while parked");
	park_expire(&park.waiting, now, "no worker was free for "
	    "idle_timeout");
	reuse_sweep();
}

/* How long epoll_wait() may wait: until the next sweep or retry. */
static int
park_timeout_ms(uint64_t next_sweep)
{
	int left = io_ms_left(next_sweep);

	if (!TAILQ_EMPTY(&park.waiting) && left > PARK_RETRY_MS)
		return PARK_RETRY_MS;
	return left;
}

static void *
park_loop(void *arg)
{
	struct epoll_event ev[PARK_EVENTS];
	uint64_t next_sweep = io_now_ms() + PARK_SWEEP_MS;
	int i, n;

	(void)arg;
	while (!atomic_load(&park.stop)) {
		n = epoll_wait(park.epfd, ev, PARK_EVENTS,
		    park_timeout_ms(next_sweep));
		for (i = 0; i < n; i++)
			park_wake(ev[i].data.ptr, ev[i].events);
		if (n == -1 && errno != EINTR) {
			/*
			 * Cannot happen with a valid epfd. Never leave the
			 * parked clients unwatched: keep sweeping, so each
			 * still closes at its idle_timeout, and never spin.
			 */
			log_msg(LOGL_ERROR, "epoll_wait: %s", strerror(errno));
			io_pause_ms(PARK_RETRY_MS);
		}
		park_offer_waiting();
		if (io_now_ms() >= next_sweep) {
			park_sweep();
			next_sweep = io_now_ms() + PARK_SWEEP_MS;
		}
	}
	return NULL;
}

int
park_start(struct pool *pool, char *err, size_t errlen)
{
	int rc;

	park.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (park.epfd == -1) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	park.pool = pool;
	atomic_store(&park.stop, false);
	rc = pthread_create(&park.thread, NULL, park_loop, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the idle watcher: %s",
		    strerror(rc));
		io_close(&park.epfd);
		return -1;
	}
	pthread_mutex_lock(&park.lock);
	atomic_store(&park.running, true);
	pthread_mutex_unlock(&park.lock);
	return 0;
}

bool
park_accepting(void)
{
	return atomic_load(&park.running);
}

size_t
park_count(void)
{
	size_t n;

	pthread_mutex_lock(&park.lock);
	n = park.count;
	pthread_mutex_unlock(&park.lock);
	return n;
}

/* Close and free every entry of l (the watcher has ended). */
static size_t
park_close_all(struct park_list *l)
{
	struct park_entry *e;
	size_t closed = 0;

	while ((e = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, e, link);
		close(e->fd);
		free(e);
		closed++;
	}
	return closed;
}

size_t
park_stop(void)
{
	size_t closed;

	pthread_mutex_lock(&park.lock);
	if (!atomic_load(&park.running)) {
		pthread_mutex_unlock(&park.lock);
		return 0;
	}
	atomic_store(&park.running, false);
	pthread_mutex_unlock(&park.lock);
	atomic_store(&park.stop, true);
	pthread_join(park.thread, NULL);
	/* The watcher has ended: nobody else touches the lists now. */
	pthread_mutex_lock(&park.lock);
	closed = park_close_all(&park.idle);
	closed += park_close_all(&park.waiting);
	park.count = 0;
	pthread_mutex_unlock(&park.lock);
	io_close(&park.epfd);
	return closed;
}
