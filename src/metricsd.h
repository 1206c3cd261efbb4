/*
 * metricsd.h: the Prometheus endpoint ([metrics] listen), on its own thread.
 *
 * Path: none of a proxied request's; a scraper's GET /metrics is answered
 * here with metrics_format()'s text (metrics.h).
 *
 * One thread accepts, reads one bounded request head, answers and closes:
 * it never uses the worker pool, so a scrape is answered while every
 * worker is busy or the queue is full. Clients not in [metrics] allow are
 * closed at once. Every wait is bounded (a slow scraper holds the thread
 * for at most METRICSD_DEADLINE_MS for its head and as long to take the
 * answer).
 */
#ifndef FERRY_METRICSD_H
#define FERRY_METRICSD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "acl.h"

/* A request head's bound, in bytes, and each exchange's, in ms. */
#define METRICSD_HEAD_MAX	4096
#define METRICSD_DEADLINE_MS	2000

/*
 * The endpoint's state, in place (main.c's) from metricsd_start() until
 * metricsd_stop(). lfd is owned from metricsd_start() on; allow is
 * borrowed and must outlive the thread.
 */
struct metricsd {
	int			 lfd;
	const struct acl	*allow;
	atomic_bool		 stop;
	pthread_t		 thread;
};

/*
 * Open, bind and listen on addr (len bytes; IPv4 or IPv6); name is the
 * address as written, for the error. Returns the fd (close-on-exec, now
 * the caller's), or -1 with "cannot listen on NAME for [metrics]: why" in
 * err. Called by main.c at start-up, before privileges are dropped.
 */
int metricsd_listen(const struct sockaddr *addr, socklen_t len,
    const char *name, char *err, size_t errlen);

/*
 * Start the endpoint's thread on lfd, taking clients that allow admits.
 * Returns 0 (m now owns lfd), or -1 with a message in err (lfd is still
 * the caller's).
 */
int metricsd_start(struct metricsd *m, int lfd, const struct acl *allow,
    char *err, size_t errlen);

/*
 * Raise m->stop, join the thread (it looks at the flag at least every
 * 250 ms, and any exchange it is in ends within its deadlines) and close
 * the listening socket. Call once, after metricsd_start() succeeded.
 */
void metricsd_stop(struct metricsd *m);

#endif
