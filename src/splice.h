/*
 * splice.h: moving bytes from one socket to another, with as few copies as
 * the kernel allows.
 *
 * Path: forward body and relay response, for bodies framed by length or
 * by close, and the CONNECT tunnel (which copies).
 *
 * A plain relay reads into a buffer and writes it out: every byte crosses
 * into user space and back. On Linux, splice(2) moves pages from a socket
 * into a pipe and from the pipe into the other socket without ferry ever
 * touching them. splice_move() does that through a pipe of the connection's
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
#ifndef FERRY_SPLICE_H
#define FERRY_SPLICE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The pipe splice moves through; {-1, -1} until first used. Its fds are
 * owned by whoever holds the struct (a conn): splice_pipe_close() closes
 * them. One thread at a time.
 */
struct splice_pipe {
	int	rd;
	int	wr;
	bool	unusable;	/* splice failed here: copy from now on */
};

enum splice_result {
	SPLICE_OK,		/* *moved > 0 bytes went from 'from' to 'to' */
	SPLICE_EOF,		/* 'from' at end of stream, nothing moved */
	SPLICE_READ_ERR,	/* errno set; ETIMEDOUT: 'from' stayed silent */
	SPLICE_WRITE_ERR		/* errno set; bytes read were lost */
};

/* Smallest move worth a pipe: below it the buffer is as cheap. */
#define SPLICE_MIN	((size_t)16 * 1024)

/* A pipe not made yet. */
void splice_pipe_init(struct splice_pipe *p);

/* Close the pipe if one was made; its fds become -1. */
void splice_pipe_close(struct splice_pipe *p);

/*
 * The two ends of a move and what it may borrow: the sockets, the waits,
 * the copy buffer and the pipe, all the caller's (a connection's). A
 * struct so that a move is one argument, and so that body.c and tunnel.c
 * describe a direction once and move along it many times.
 */
struct splice_path {
	int			 from;		/* read side */
	int			 to;		/* write side */
	int			 read_ms;	/* first byte; 0: do not wait */
	int			 write_ms;	/* for 'to' to take each piece */
	char			*buf;		/* copy buffer */
	size_t			 cap;
	struct splice_pipe	*pipe;		/* NULL: always copy */
};

/*
 * Move up to max bytes from sp->from to sp->to, waiting at most sp->read_ms for
 * the first one and at most sp->write_ms in all for 'to' to take what was read
 * (at most a pipe or a buffer: a least rate). Whatever is read is written whole
 * before this returns. Copying through sp->buf is used when sp->pipe is NULL or
 * max is below SPLICE_MIN. *moved is 0 unless SPLICE_OK. After a failed splice
 * write the pipe is closed and marked unusable: later moves copy. One thread at
 * a time per path.
 */
enum splice_result splice_move(const struct splice_path *sp, size_t max,
    size_t *moved);

#endif
