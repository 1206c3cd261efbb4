/*
 * acceptor.c: listen and accept (see acceptor.h).
 *
 * The loop runs on its own thread and waits in poll() on every listening
 * socket with a short timeout so that a stop is seen promptly. When the process runs out of
 * descriptors (EMFILE), accept() would fail at once forever; the loop then
 * pauses briefly instead of spinning, and the pending client waits in the
 * kernel's queue.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "io.h"
#include "log.h"
#include "park.h"

#define ACCEPTOR_POLL_MS	250
#define ACCEPTOR_EMFILE_PAUSE_MS 100
/* Connections taken from a listen queue at stop, at most. */
#define ACCEPTOR_DRAIN_MAX	65536

/* One listening socket for l; -1 with err naming the address. */
static int
acceptor_open(const struct config_listen *l, char *err, size_t errlen)
{
	int fd, one = 1, zero = 0;

	/* Non-blocking: the stop drains each queue until EAGAIN. */
	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "cannot listen on %s: socket: %s",
		    l->text, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "*:port" listens on [::] and should take IPv4 clients too. */
	if (l->addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->len) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", l->text,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
acceptor_listen(struct acceptor *a, const struct ferry_config *cfg,
    char *err, size_t errlen)
{
	int fd;

	a->nlfd = 0;
	for (size_t i = 0; i < cfg->nlistens; i++) {
		if ((fd = acceptor_open(&cfg->listens[i], err, errlen)) == -1) {
			acceptor_close(a);
			return -1;
		}
		a->proxy[a->nlfd] = cfg->listens[i].proxy;
		a->lfd[a->nlfd++] = fd;
	}
	return 0;
}

void
acceptor_close(struct acceptor *a)
{
	while (a->nlfd > 0)
		io_close(&a->lfd[--a->nlfd]);
}

/*
 * Accept one client from lfd, if one is there, and hand it on. Returns
 * false when there was none to take (or no fd for it).
 */
static bool
acceptor_take(int lfd, bool proxy)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd, err;

	/* Non-blocking: every wait is a poll() (io.c, splice.c). */
	fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC |
	    SOCK_NONBLOCK);
	if (fd == -1) {
		err = errno;	/* logging may change errno */
		/* A client that left, or a signal: just go on. */
		if (err == EINTR || err == ECONNABORTED)
			return true;
		if (err == EAGAIN)
			return false;
		/* Out of fds or memory, or worse: never spin. */
		log_msg(LOGL_WARN, "accept: %s", strerror(err));
		if (err == EMFILE || err == ENFILE)
			park_fd_pressure(-1);
		io_pause_ms(ACCEPTOR_EMFILE_PAUSE_MS);
		return false;
	}
	park_fd_pressure(fd);
	io_nodelay(fd);	/* whole heads, never tiny pieces */
	(void)park_accept(fd, &peer, proxy);
	return true;
}

/*
 * At stop: take every connection the kernel completed already, then
 * close the listener at once. Closing with connections in the listen
 * queue resets them, and a balancer (or any client) that saw its
 * handshake complete has sent its request on them: those would be lost.
 * A connection that arrives after the close is refused instead, which a
 * balancer retries elsewhere. Bounded, so a flood cannot hold the stop.
 */
static size_t
acceptor_drain(int lfd, bool proxy)
{
	size_t n = 0;

	while (n < ACCEPTOR_DRAIN_MAX && acceptor_take(lfd, proxy))
		n++;
	close(lfd);
	return n;
}

static void *
acceptor_loop(void *arg)
{
	struct acceptor *a = arg;
	struct pollfd p[CONFIG_MAX_LISTEN];
	size_t i;
	int n;

	for (i = 0; i < a->nlfd; i++)
		p[i] = (struct pollfd){ .fd = a->lfd[i], .events = POLLIN };
	while (!atomic_load(&a->stop)) {
		n = poll(p, a->nlfd, ACCEPTOR_POLL_MS);
		for (i = 0; n > 0 && i < a->nlfd; i++)
			if (p[i].revents != 0)
				(void)acceptor_take(a->lfd[i], a->proxy[i]);
	}
	return NULL;
}

int
acceptor_start(struct acceptor *a, char *err, size_t errlen)
{
	int rc;

	atomic_init(&a->stop, false);
	rc = pthread_create(&a->thread, NULL, acceptor_loop, a);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the acceptor: %s",
		    strerror(rc));
		return -1;
	}
	return 0;
}

void
acceptor_stop(struct acceptor *a)
{
	size_t taken = 0;

	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
	while (a->nlfd > 0) {
		a->nlfd--;
		taken += acceptor_drain(a->lfd[a->nlfd], a->proxy[a->nlfd]);
		a->lfd[a->nlfd] = -1;
	}
	if (taken > 0)
		log_msg(LOGL_INFO, "stopping: %zu connection(s) completed in "
		    "the listen queue taken, to be served", taken);
}
