/*
 * relay.h: moving bytes from one socket to another, with as few copies as
 * the kernel allows.
 *
 * Path: forward body and relay response, for bodies framed by length or by
 * close (through body.c), and the CONNECT tunnel (tunnel.c, which copies).
 *
 * A plain relay reads into a buffer and writes it out: every byte crosses
 * into user space and back. On Linux, splice(2) moves pages from a socket
 * into a pipe and from the pipe into the other socket without ferry ever
 * touching them. relay_move() does that through a pipe of the connection's
 * own, made on first use; where splice cannot be used (no pipe left, a
 * socket type that refuses it) it falls back to the buffer, quietly. Used
 * for bodies framed by length or by close (body.c); chunked bodies go
 * through the decoder, so through the buffer, and CONNECT tunnels copy
 * because that measured faster for TLS traffic (see tunnel.c).
 *
 * Sockets are non-blocking (io.c); every wait is a poll() with a timeout.
 * splice() has no MSG_NOSIGNAL: writing into a socket whose peer is gone
 * raises SIGPIPE, so the process must ignore that signal (main.c does);
 * the move then fails with EPIPE like a send.
 */
#ifndef FERRY_RELAY_H
#define FERRY_RELAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The pipe splice moves through; {-1, -1} until first used. Its fds are
 * owned by whoever holds the struct (a conn): relay_pipe_close() closes
 * them. One thread at a time.
 */
struct relay_pipe {
	int	rd;
	int	wr;
	bool	unusable;	/* splice failed here: copy from now on */
};

enum relay_result {
	RELAY_OK,		/* *moved > 0 bytes went from 'from' to 'to' */
	RELAY_EOF,		/* 'from' reached end of stream, nothing moved */
	RELAY_READ_ERR,		/* errno set; ETIMEDOUT if 'from' stayed silent */
	RELAY_WRITE_ERR		/* errno set; bytes read were lost */
};

/* Smallest move worth a pipe: below it the buffer is as cheap. */
#define RELAY_SPLICE_MIN	((size_t)16 * 1024)

/* A pipe not made yet. */
void relay_pipe_init(struct relay_pipe *p);

/* Close the pipe if one was made; its fds become -1. */
void relay_pipe_close(struct relay_pipe *p);

/*
 * Move up to max bytes from 'from' to 'to', waiting at most read_ms for
 * the first one (0: do not wait) and at most write_ms each time 'to' has
 * no room. Whatever is read is written whole before this returns. p may
 * be NULL (copy through buf[0..cap) only); copying is used also when max
 * is below RELAY_SPLICE_MIN. *moved is 0 unless RELAY_OK. After a failed
 * splice write p is closed and marked unusable: later moves copy.
 */
enum relay_result relay_move(struct relay_pipe *p, int from, int to,
    size_t max, char *buf, size_t cap, int read_ms, int write_ms,
    size_t *moved);

#endif
