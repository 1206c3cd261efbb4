/*
 * acceptor.c: listen and accept (see acceptor.h).
 *
 * The loop runs on its own thread and waits in poll() with a short timeout
 * so that a stop is seen promptly. When the process runs out of
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

int
acceptor_listen(const struct ferry_config *cfg, char *err, size_t errlen)
{
	int fd, one = 1, zero = 0;

	fd = socket(cfg->listen_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "*:port" listens on [::] and should take IPv4 clients too. */
	if (cfg->listen_addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(fd, (const struct sockaddr *)&cfg->listen_addr,
	    cfg->listen_len) == -1 || listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void *
acceptor_loop(void *arg)
{
	struct acceptor *a = arg;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;

	while (!atomic_load(&a->stop)) {
		if (io_wait(a->lfd, POLLIN, ACCEPTOR_POLL_MS) == -1)
			continue;
		len = sizeof(peer);
		/* Non-blocking: every wait is a poll() (io.c, splice.c). */
		fd = accept4(a->lfd, (struct sockaddr *)&peer, &len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			/* A client that left, or a signal: just go on. */
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			/* Out of fds or memory, or worse: never spin. */
			log_msg(LOGL_WARN, "accept: %s", strerror(errno));
			io_pause_ms(ACCEPTOR_EMFILE_PAUSE_MS);
			continue;
		}
		io_nodelay(fd);	/* whole heads, never tiny pieces */
		(void)park_accept(fd, &peer);
	}
	return NULL;
}

int
acceptor_start(struct acceptor *a, int lfd, char *err, size_t errlen)
{
	int rc;

	a->lfd = lfd;
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
	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
	close(a->lfd);
	a->lfd = -1;
}
