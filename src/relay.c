/*
 * relay.c: socket-to-socket moves (see relay.h).
 *
 * Path: forward body, relay response (body.c) and the CONNECT tunnel
 * (tunnel.c).
 *
 * A splice move is two steps: socket → pipe (as much as 'from' has, up to
 * the pipe's size) and pipe → socket until the pipe is empty again, so the
 * pipe holds nothing between calls and one pipe serves both directions of
 * a tunnel. If the first step fails with EINVAL (splice not supported for
 * this pair), nothing was taken from the socket yet: the move is done by
 * copying instead, and so are all later ones on this pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "relay.h"

/* Pipe size asked for: fewer, larger moves. The kernel may refuse it. */
#define RELAY_PIPE_SIZE	((size_t)256 * 1024)

void
relay_pipe_init(struct relay_pipe *p)
{
	p->rd = -1;
	p->wr = -1;
	p->unusable = false;
}

void
relay_pipe_close(struct relay_pipe *p)
{
	io_close(&p->rd);
	io_close(&p->wr);
}

/* Make the pipe on first use; false if there can be none. */
static bool
relay_pipe_ready(struct relay_pipe *p)
{
	int fd[2];

	if (p->unusable)
		return false;
	if (p->rd >= 0)
		return true;
	if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) == -1) {
		p->unusable = true;
		return false;
	}
	p->rd = fd[0];
	p->wr = fd[1];
	(void)fcntl(p->wr, F_SETPIPE_SZ, (int)RELAY_PIPE_SIZE);
	return true;
}

/* Copy through buf: one read, then write it all. */
static enum relay_result
relay_copy(int from, int to, size_t max, char *buf, size_t cap, int read_ms,
    int write_ms, size_t *moved)
{
	ssize_t n;

	n = io_recv(from, buf, max < cap ? max : cap, read_ms);
	if (n == 0)
		return RELAY_EOF;
	if (n < 0)
		return RELAY_READ_ERR;
	if (io_send_all(to, buf, (size_t)n, write_ms) == -1)
		return RELAY_WRITE_ERR;
	*moved = (size_t)n;
	return RELAY_OK;
}

/* Step 1: socket → pipe. Returns bytes taken, 0 at EOF, -1 (errno). */
static ssize_t
relay_fill(struct relay_pipe *p, int from, size_t max, int read_ms)
{
	ssize_t n;

	/* The pipe takes no more anyway; splice refuses > SSIZE_MAX. */
	if (max > RELAY_PIPE_SIZE)
		max = RELAY_PIPE_SIZE;
	for (;;) {
		n = splice(from, NULL, p->wr, NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || io_wait(from, POLLIN, read_ms) == -1)
			return -1;
	}
}

/* Step 2: pipe → socket, all len bytes. 0, or -1 (errno). */
static int
relay_drain(struct relay_pipe *p, int to, size_t len, int write_ms)
{
	ssize_t n;

	while (len > 0) {
		n = splice(p->rd, NULL, to, NULL, len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = EPIPE;	/* an empty pipe: cannot happen */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || io_wait(to, POLLOUT, write_ms) == -1)
			return -1;
	}
	return 0;
}

enum relay_result
relay_move(struct relay_pipe *p, int from, int to, size_t max, char *buf,
    size_t cap, int read_ms, int write_ms, size_t *moved)
{
	ssize_t n;

	*moved = 0;
	if (p == NULL || max < RELAY_SPLICE_MIN || !relay_pipe_ready(p))
		return relay_copy(from, to, max, buf, cap, read_ms, write_ms,
		    moved);
	n = relay_fill(p, from, max, read_ms);
	if (n < 0 && errno == EINVAL) {
		p->unusable = true;
		return relay_copy(from, to, max, buf, cap, read_ms, write_ms,
		    moved);
	}
	if (n == 0)
		return RELAY_EOF;
	if (n < 0)
		return RELAY_READ_ERR;
	if (relay_drain(p, to, (size_t)n, write_ms) == -1) {
		/* What is left in the pipe is lost; so is the pipe. */
		relay_pipe_close(p);
		p->unusable = true;
		return RELAY_WRITE_ERR;
	}
	*moved = (size_t)n;
	return RELAY_OK;
}
