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

/* Milliseconds on the monotonic clock, for deadlines and access-log timing. */
uint64_t io_now_ms(void);

/* Milliseconds from now until deadline (io_now_ms() time), 0 once past. */
int io_ms_left(uint64_t deadline);

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
 * Send all len bytes. Each wait for buffer space is bounded by timeout_ms, so
 * a peer that stops reading fails the call with ETIMEDOUT. Returns 0, or -1
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

/*
 * Wait until fd is readable, or timeout_ms passes. Returns 1 (readable,
 * hung up or in error), 0 (timeout) or -1 (poll() failed, errno set).
 */
int io_wait_readable(int fd, int timeout_ms);

/* Close *fd if it is open and set it to -1. */
void io_close(int *fd);

#endif
