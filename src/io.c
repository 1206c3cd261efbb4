/*
 * io.c: bounded socket I/O (see io.h).
 *
 * Each call tries the read or write first with MSG_DONTWAIT and polls only
 * when the socket is not ready, so a call can only ever wait inside poll(),
 * where the timeout applies. (Client and origin sockets are non-blocking
 * anyway, for splice in splice.c.)
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

uint64_t
io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct timespec
io_abstime_in(int ms)
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

void
io_pause_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;	/* the rest of the pause, after a signal */
}

int
io_ms_left(uint64_t deadline)
{
	uint64_t now = io_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* Poll one fd for events; returns poll()'s result with EINTR retried. */
static int
io_poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n == -1 && errno == EINTR);
	return n;
}

int
io_wait(int fd, short events, int timeout_ms)
{
	int n = io_poll_one(fd, events, timeout_ms);

	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

ssize_t
io_recv(int fd, void *buf, size_t len, int timeout_ms)
{
	/* A wake-up with nothing to read waits on for the time left only. */
	uint64_t deadline = io_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (io_wait(fd, POLLIN, io_ms_left(deadline)) == -1)
			return -1;
	}
}

ssize_t
io_recv_reply(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = io_now_ms() + (uint64_t)timeout_ms;

	if (io_wait(fd, POLLIN, timeout_ms) == -1)
		return -1;
	return io_recv(fd, buf, len, io_ms_left(deadline));
}

int
io_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = io_now_ms() + (uint64_t)timeout_ms;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (io_wait(fd, POLLOUT, io_ms_left(deadline)) == -1)
			return -1;
	}
	return 0;
}

enum io_peek
io_peek(int fd)
{
	ssize_t n;
	char b;

	do {
		n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n > 0)
		return IO_PEEK_DATA;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IO_PEEK_QUIET;
	return IO_PEEK_CLOSED;
}

void
io_nodelay(int fd)
{
	int one = 1;

	/* Only a latency hint: failure changes nothing that matters. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void
io_close(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}
