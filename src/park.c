/*
 * park.c: the idle watcher (see park.h).
 *
 * Path: park or close, after a keep-alive exchange; woken clients go back
 * to pool_dispatch() (pool.c).
 *
 * Parked sockets sit in a list, oldest first, each registered with one
 * epoll instance whose event carries the entry. Only the watcher removes
 * entries, so an entry an event points at is still alive when the watcher
 * reads it. Registrations are one-shot: an event disarms its socket, which
 * stays registered while a worker serves it, so parking it again is one
 * EPOLL_CTL_MOD, and closing it (by whoever) removes it from the set.
 * Every PARK_SWEEP_MS the watcher walks the list and closes the expired
 * ones; idle_timeout is whole seconds, so that is precise enough and costs
 * a few microseconds even with ten thousand clients.
 *
 * Registration happens under the lock, so a socket is never in the epoll
 * set without being in the list, or the other way round.
 *
 * The same sweep also asks reuse.c to drop idle origin connections that
 * expired or that the origin closed: the watcher is the one thread that
 * wakes up regularly, and it keeps both kinds of idle socket tidy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "park.h"
#include "reuse.h"

#define PARK_SWEEP_MS	250
#define PARK_EVENTS	64

struct park_entry {
	struct park_entry	*next;
	struct park_entry	*prev;
	int			 fd;
	struct sockaddr_storage	 peer;
	uint64_t		 expires_ms;
	struct trace		 trace;
};

static struct {
	pthread_mutex_t		 lock;
	/* park_client() may add; changed under lock, read alone by
	 * park_open() on every request. */
	atomic_bool		 running;
	int			 epfd;
	struct pool		*pool;
	atomic_bool		 stop;
	pthread_t		 thread;
	struct park_entry	*head;		/* oldest */
	struct park_entry	*tail;		/* newest */
} park = { PTHREAD_MUTEX_INITIALIZER, false, -1, NULL, false, 0, NULL,
    NULL };

/*
 * Unlink e. Its socket stays registered but disarmed (one-shot) until it
 * is closed or parked again. Called with the lock held.
 */
static void
park_remove(struct park_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		park.head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		park.tail = e->prev;
}

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
		e->expires_ms = io_now_ms() + idle_s * 1000ULL;
		e->next = NULL;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
		ev.data.ptr = e;
		pthread_mutex_lock(&park.lock);
		if (atomic_load(&park.running) && park_arm(fd, &ev) == 0) {
			e->prev = park.tail;
			if (park.tail != NULL)
				park.tail->next = e;
			else
				park.head = e;
			park.tail = e;
			parked = true;
		}
		pthread_mutex_unlock(&park.lock);
	}
	if (!parked) {
		free(e);
		close(fd);
	}
}

/*
 * A parked socket became readable: the next request, or the client hung
 * up. Hand the first to the pool; close the second here, which saves a
 * worker the trip. Only a hang-up event needs a look at the data (the
 * client may have sent a last request and then shut down its side).
 */
static void
park_wake(struct park_entry *e, uint32_t events)
{
	char b;
	ssize_t n = 1;

	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		n = recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
		trace_stage(&e->trace, "parked connection is readable: the "
		    "next request");
		(void)pool_dispatch(park.pool, e->fd, &e->peer, &e->trace,
		    &park.stop);
	} else {
		trace_stage(&e->trace, "closed: the client hung up while "
		    "parked");
		close(e->fd);
	}
	free(e);
}

/* Close the parked sockets whose idle_timeout has passed. */
static void
park_sweep(void)
{
	struct park_entry *e, *next, *dead = NULL;
	uint64_t now = io_now_ms();

	pthread_mutex_lock(&park.lock);
	for (e = park.head; e != NULL; e = next) {
		next = e->next;
		if (e->expires_ms > now)
			continue;
		park_remove(e);
		e->next = dead;
		dead = e;
	}
	pthread_mutex_unlock(&park.lock);
	for (e = dead; e != NULL; e = next) {
		next = e->next;
		trace_stage(&e->trace, "closed: idle past idle_timeout while "
		    "parked");
		close(e->fd);
		free(e);
	}
}

static void *
park_loop(void *arg)
{
	struct epoll_event ev[PARK_EVENTS];
	uint64_t next_sweep = io_now_ms() + PARK_SWEEP_MS;
	int i, n;

	(void)arg;
	while (!atomic_load(&park.stop)) {
		n = epoll_wait(park.epfd, ev, PARK_EVENTS, PARK_SWEEP_MS);
		for (i = 0; i < n; i++) {
			pthread_mutex_lock(&park.lock);
			park_remove(ev[i].data.ptr);
			pthread_mutex_unlock(&park.lock);
			park_wake(ev[i].data.ptr, ev[i].events);
		}
		if (n == -1 && errno != EINTR) {
			/*
			 * Cannot happen with a valid epfd. Never leave the
			 * parked clients unwatched: keep sweeping, so each
			 * still closes at its idle_timeout, and never spin.
			 */
			log_msg(LOGL_ERROR, "epoll_wait: %s", strerror(errno));
			io_pause_ms(PARK_SWEEP_MS);
		}
		if (io_now_ms() >= next_sweep) {
			park_sweep();
			reuse_sweep();
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
park_open(void)
{
	return atomic_load(&park.running);
}

size_t
park_stop(void)
{
	struct park_entry *e, *next;
	size_t closed = 0;

	pthread_mutex_lock(&park.lock);
	if (!atomic_load(&park.running)) {
		pthread_mutex_unlock(&park.lock);
		return 0;
	}
	atomic_store(&park.running, false);
	pthread_mutex_unlock(&park.lock);
	atomic_store(&park.stop, true);
	pthread_join(park.thread, NULL);
	/* The watcher has ended: nobody else touches the list now. */
	for (e = park.head; e != NULL; e = next) {
		next = e->next;
		close(e->fd);
		free(e);
		closed++;
	}
	park.head = NULL;
	park.tail = NULL;
	io_close(&park.epfd);
	return closed;
}
