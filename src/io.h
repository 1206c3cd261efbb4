/*
 * io.h: socket reads and writes that never wait without a bound.
 *
 * Path: every step that waits on a socket: read head, forward body, relay
 * response, the CONNECT tunnel. The functions keep no state: any thread may
 * call them, each on its own sockets.
 *
 * Every wait in ferry goes through poll() with a timeout, so a silent peer
 * costs at most one timeout, never a stuck thread. Sends use MSG_NOSIGNAL so a
 * closed peer gives EPIPE instead of killing the process.
 */
#ifndef FERRY_IO_H
#define FERRY_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Milliseconds on the monotonic clock, for deadlines and access-log timing. */
uint64_t io_now_ms(void);

/* Milliseconds from now until deadline (io_now_ms() time), 0 once past. */
int io_ms_left(uint64_t deadline);

/*
 * The CLOCK_REALTIME time ms milliseconds from now, as the deadline of a
 * pthread_cond_timedwait() (which measures on that clock).
 */
struct timespec io_abstime_in(int ms);

/* Sleep ms milliseconds, signals or not (a pause, never a busy loop). */
void io_pause_ms(unsigned ms);

/*
 * Receive up to len bytes, waiting at most timeout_ms for the first one.
 * Returns the count (> 0), 0 on orderly EOF, or -1 with errno set
 * (ETIMEDOUT when nothing arrived in time). EINTR is retried.
 */
ssize_t io_recv(int fd, void *buf, size_t len, int timeout_ms);

/*
 * io_recv() for an answer that cannot be there yet (the origin's reply to
 * what was just sent): wait first, then read, saving a read that would
 * only say "not yet". Same results as io_recv().
 */
ssize_t io_recv_reply(int fd, void *buf, size_t len, int timeout_ms);

/*
 * Send all len bytes within timeout_ms in all (not per wait), so a peer
 * that stops reading, or reads a byte now and then, fails the call with
 * ETIMEDOUT: a caller sending a large body in pieces of at most 64 KiB
 * thereby asks its peer for a least rate. Returns 0, or -1
 * with errno set (EPIPE for a peer that closed); how much went out before
 * a failure is not reported. EINTR is retried.
 */
int io_send_all(int fd, const void *buf, size_t len, int timeout_ms);

/*
 * Wait until fd has one of events (POLLIN, POLLOUT; a hang-up or error
 * counts too), EINTR retried. Returns 0, or -1 with errno (ETIMEDOUT when
 * timeout_ms passed).
 */
int io_wait(int fd, short events, int timeout_ms);

/* What a socket holds, seen without reading it (io_peek()). */
enum io_peek {
	IO_PEEK_DATA,		/* bytes are waiting to be read */
	IO_PEEK_QUIET,		/* open, nothing to read yet */
	IO_PEEK_CLOSED		/* the peer closed (EOF), or an error */
};

/*
 * Look at fd without reading or waiting (MSG_PEEK): has the peer sent
 * something, is it quiet, or has it gone? EINTR is retried.
 */
enum io_peek io_peek(int fd);

/*
 * Turn on TCP_NODELAY on a TCP socket: ferry writes whole heads, never
 * tiny pieces, so Nagle's algorithm only adds delay. A failure is ignored
 * (it is a latency hint).
 */
void io_nodelay(int fd);

/* Close *fd if it is open and set it to -1. */
void io_close(int *fd);

#endif
