/*
 * splice.c: socket-to-socket moves (see splice.h).
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
#include "splice.h"

/* Pipe size asked for: fewer, larger moves. The kernel may refuse it. */
#define SPLICE_PIPE_SIZE	((size_t)256 * 1024)

void
splice_pipe_init(struct splice_pipe *p)
{
	p->rd = -1;
	p->wr = -1;
	p->unusable = false;
}

void
splice_pipe_close(struct splice_pipe *p)
{
	io_close(&p->rd);
	io_close(&p->wr);
}

/* Make the pipe on first use; false if there can be none. */
static bool
splice_pipe_ready(struct splice_pipe *p)
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
	(void)fcntl(p->wr, F_SETPIPE_SZ, (int)SPLICE_PIPE_SIZE);
	return true;
}

/* Copy through the path's buffer: one read, then write it all. */
static enum splice_result
splice_copy(const struct splice_path *sp, size_t max, size_t *moved)
{
	ssize_t n;

	n = io_recv(sp->from, sp->buf, max < sp->cap ? max : sp->cap,
	    sp->read_ms);
	if (n == 0)
		return SPLICE_EOF;
	if (n < 0)
		return SPLICE_READ_ERR;
	if (io_send_all(sp->to, sp->buf, (size_t)n, sp->write_ms) == -1)
		return SPLICE_WRITE_ERR;
	*moved = (size_t)n;
	return SPLICE_OK;
}

/*
 * Step 1: socket → pipe. Returns bytes taken, 0 at EOF, -1 (errno).
 * EAGAIN after poll() said the socket is readable means splice cannot
 * take what is there: a TCP urgent byte (sent with MSG_OOB) at the head
 * of the queue stops splice for good, while recv() steps over it. That
 * -1 with errno EAGAIN tells splice_move() to copy this time; waiting
 * again would spin, poll() saying "readable" at once every time.
 */
static ssize_t
splice_fill(struct splice_pipe *p, int from, size_t max, int read_ms)
{
	bool waited = false;
	ssize_t n;

	/* The pipe takes no more anyway; splice refuses > SSIZE_MAX. */
	if (max > SPLICE_PIPE_SIZE)
		max = SPLICE_PIPE_SIZE;
	for (;;) {
		n = splice(from, NULL, p->wr, NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || waited ||
		    io_wait(from, POLLIN, read_ms) == -1)
			return -1;
		waited = true;
	}
}

/*
 * Step 2: pipe → socket, all len bytes within write_ms in all. 0, or -1
 * (errno).
 */
static int
splice_drain(struct splice_pipe *p, int to, size_t len, int write_ms)
{
	uint64_t deadline = io_now_ms() + (uint64_t)write_ms;
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
		if (errno != EAGAIN || io_wait(to, POLLOUT,
		    io_ms_left(deadline)) == -1)
			return -1;
	}
	return 0;
}

enum splice_result
splice_move(const struct splice_path *sp, size_t max, size_t *moved)
{
	struct splice_pipe *p = sp->pipe;
	ssize_t n;

	*moved = 0;
	if (p == NULL || max < SPLICE_MIN || !splice_pipe_ready(p))
		return splice_copy(sp, max, moved);
	n = splice_fill(p, sp->from, max, sp->read_ms);
	if (n < 0 && errno == EINVAL) {
		p->unusable = true;
		return splice_copy(sp, max, moved);
	}
	if (n < 0 && errno == EAGAIN)	/* urgent data: recv() passes it */
		return splice_copy(sp, max, moved);
	if (n == 0)
		return SPLICE_EOF;
	if (n < 0)
		return SPLICE_READ_ERR;
	if (splice_drain(p, sp->to, (size_t)n, sp->write_ms) == -1) {
		/* What is left in the pipe is lost; so is the pipe. */
		splice_pipe_close(p);
		p->unusable = true;
		return SPLICE_WRITE_ERR;
	}
	*moved = (size_t)n;
	return SPLICE_OK;
}
