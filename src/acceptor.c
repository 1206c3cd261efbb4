/*
 * acceptor.c: listen and accept (see acceptor.h).
 *
 * The loop waits in poll() with a short timeout so a stop signal is seen
 * promptly. When the process runs out of descriptors (EMFILE), accept()
 * would fail at once forever; the loop then pauses briefly instead of
 * spinning, and the pending client waits in the kernel's queue.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "io.h"
#include "log.h"

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

/* Pause the accept loop for ms milliseconds. */
static void
acceptor_pause(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

void
acceptor_run(int lfd, const struct ferry_config *cfg, struct pool *pool,
    const volatile sig_atomic_t *stop)
{
	struct pool_job job;
	socklen_t len;

	while (!*stop) {
		if (io_wait_readable(lfd, ACCEPTOR_POLL_MS) != 1)
			continue;
		len = sizeof(job.peer);
		job.fd = accept4(lfd, (struct sockaddr *)&job.peer, &len,
		    SOCK_CLOEXEC);
		if (job.fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_msg(LOGL_WARN, "accept: %s",
				    strerror(errno));
				acceptor_pause(ACCEPTOR_EMFILE_PAUSE_MS);
			}
			continue;
		}
		job.allowed = acl_allows(&cfg->whitelist,
		    (const struct sockaddr *)&job.peer);
		if (pool_submit(pool, &job, stop) == -1)
			close(job.fd);
	}
}
