/*
 * check_splice.c: socket-to-socket moves (splice.c).
 *
 * Real loopback TCP connections, non-blocking on ferry's side as in the
 * daemon. A megabyte of a pattern that never repeats in step with a
 * buffer or a pipe must arrive whole, in order and with nothing after it,
 * through splice, through the buffer, and through each fallback from one
 * to the other; no move may be larger than asked. A writer thread feeds
 * the sending side and a reader thread drains the receiving side, so no
 * socket buffer can fill up and stall the test. Then the ends of a move:
 * EOF, a sender that stays silent, a receiver that has gone.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "loopback.h"
#include "splice.h"
#include "suites.h"

#define MOVE_TOTAL	(1024 * 1024)
/* A stall fails the test, never hangs it. */
#define WAIT_MS		5000

/* splice_move() along a path made of these, as the tables below list. */
static enum splice_result
move_via(struct splice_pipe *p, int from, int to, size_t max, char *buf,
    size_t cap, int read_ms, int write_ms, size_t *moved)
{
	struct splice_path sp = { from, to, read_ms, write_ms, buf, cap, p };

	return splice_move(&sp, max, moved);
}

/* Byte i of the stream: a hash of i, so a lost or moved block shows. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

/* What the writer thread sends into the 'from' connection. */
struct feed {
	int		 fd;
	const char	*buf;
	size_t		 len;
	int		 err;	/* errno of a failed send, else 0 */
};

/* What the reader thread collects from the 'to' connection, to EOF. */
struct drain {
	int		 fd;
	char		*buf;
	size_t		 cap;
	size_t		 len;
	int		 err;	/* errno of a failed recv, else 0 */
	bool		 overflow;	/* more came than was sent */
};

static void *
feed_run(void *arg)
{
	struct feed *f = arg;
	size_t off = 0;
	ssize_t n;

	while (off < f->len) {
		n = send(f->fd, f->buf + off, f->len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err = n == 0 ? EIO : errno;
			break;
		}
		off += (size_t)n;
	}
	/* The end of the stream is part of what splice_move must see. */
	(void)shutdown(f->fd, SHUT_WR);
	return NULL;
}

static void *
drain_run(void *arg)
{
	struct drain *d = arg;
	char spill;
	ssize_t n;

	for (;;) {
		if (d->len < d->cap)
			n = recv(d->fd, d->buf + d->len, d->cap - d->len, 0);
		else
			n = recv(d->fd, &spill, 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0) {
			d->err = errno;
			break;
		}
		if (d->len == d->cap) {
			d->overflow = true;
			break;
		}
		d->len += (size_t)n;
	}
	return NULL;
}

/* How splice_move gets its pipe in a move_cases row. */
enum pipe_kind {
	PIPE_NONE,	/* p == NULL: the buffer only */
	PIPE_FRESH,	/* splice_pipe_init(): made on first use */
	PIPE_NOT_PIPE,	/* fds splice refuses (EINVAL) */
	PIPE_NO_FDS	/* no fd left to make one */
};

static const struct {
	const char	*name;
	enum pipe_kind	 kind;
	size_t		 max;
	size_t		 cap;
	int		 sndbuf;	/* of 'to'; 0: the kernel's */
	bool		 spliced;	/* the pipe is made and kept */
} move_cases[] = {
	{ "splice, 64 KiB moves", PIPE_FRESH, 65536, 16384, 0, true },
	{ "splice, no limit (tunnel)", PIPE_FRESH, SIZE_MAX, 16384, 0,
	    true },
	{ "splice, at the minimum", PIPE_FRESH, SPLICE_MIN, 4096, 0,
	    true },
	/* A full 'to' takes part of a move: the rest must follow it. */
	{ "splice, slow receiver", PIPE_FRESH, 256 * 1024, 16384, 4096,
	    true },
	{ "copy, no pipe", PIPE_NONE, 65536, 16384, 0, false },
	{ "copy, below the minimum", PIPE_FRESH, SPLICE_MIN - 1, 65536,
	    0, false },
	{ "copy, small buffer", PIPE_NONE, SIZE_MAX, 1000, 0, false },
	{ "copy, max below buffer", PIPE_NONE, 700, 16384, 0, false },
	{ "copy, slow receiver", PIPE_NONE, 65536, 65536, 4096, false },
	{ "fallback, splice refuses", PIPE_NOT_PIPE, 65536, 16384, 0,
	    false },
	{ "fallback, no fd for a pipe", PIPE_NO_FDS, 65536, 16384, 0,
	    false },
};

/*
 * Use up every fd under a low limit, so that splice_move cannot make its
 * pipe. Returns how many were taken into held[]; the test gives them
 * back with fds_release(). Check runs each test in its own process, but
 * the limit is restored all the same, for CK_FORK=no.
 */
static int
fds_exhaust(int *held, int nheld, int model, struct rlimit *old)
{
	struct rlimit low;
	int n = 0, fd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
	ck_assert_uint_ge(old->rlim_cur, 64);
	low = *old;
	low.rlim_cur = 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < nheld && (fd = dup(model)) != -1)
		held[n++] = fd;
	ck_assert_int_lt(n, nheld);
	ck_assert_int_eq(errno, EMFILE);
	return n;
}

static void
fds_release(int *held, int n, const struct rlimit *old)
{
	while (n > 0)
		close(held[--n]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, old), 0);
}

START_TEST(test_move)
{
	struct splice_pipe pipe_, *p = &pipe_;
	struct feed f = { -1, NULL, MOVE_TOTAL, 0 };
	struct drain d = { -1, NULL, MOVE_TOTAL, 0, 0, false };
	struct rlimit old;
	pthread_t ft, dt;
	char *src, *buf;
	int from, to, sv[2], held[64], nheld = 0;
	size_t i, total = 0, moved, bound;
	enum splice_result r;

	src = malloc(MOVE_TOTAL);
	d.buf = malloc(MOVE_TOTAL);
	buf = malloc(move_cases[_i].cap);
	ck_assert(src != NULL && d.buf != NULL && buf != NULL);
	for (i = 0; i < MOVE_TOTAL; i++)
		src[i] = (char)pattern(i);
	f.buf = src;
	loopback_pair(&from, &f.fd);
	loopback_pair(&to, &d.fd);
	if (move_cases[_i].sndbuf != 0)
		ck_assert_int_eq(setsockopt(to, SOL_SOCKET, SO_SNDBUF,
		    &move_cases[_i].sndbuf, sizeof(int)), 0);

	splice_pipe_init(p);
	switch (move_cases[_i].kind) {
	case PIPE_NONE:
		p = NULL;
		break;
	case PIPE_FRESH:
		break;
	case PIPE_NOT_PIPE:
		/*
		 * Current Linux splices every socket tried into a pipe
		 * (TCP, UDP, AF_UNIX stream, datagram, seqpacket), so no
		 * socket makes splice fail; a "pipe" that is none does.
		 */
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
		p->rd = sv[0];
		p->wr = sv[1];
		break;
	case PIPE_NO_FDS:
		nheld = fds_exhaust(held, NELEM(held), from, &old);
		break;
	}
	bound = move_cases[_i].max;
	if (!move_cases[_i].spliced && move_cases[_i].cap < bound)
		bound = move_cases[_i].cap;

	ck_assert_int_eq(pthread_create(&ft, NULL, feed_run, &f), 0);
	ck_assert_int_eq(pthread_create(&dt, NULL, drain_run, &d), 0);
	while (total < MOVE_TOTAL) {
		moved = 12345;
		r = move_via(p, from, to, move_cases[_i].max, buf,
		    move_cases[_i].cap, WAIT_MS, WAIT_MS, &moved);
		ck_assert_msg(r == SPLICE_OK, "%s: result %d (%s) after %zu",
		    move_cases[_i].name, r, strerror(errno), total);
		ck_assert_msg(moved > 0 && moved <= bound,
		    "%s: moved %zu, bound %zu", move_cases[_i].name, moved,
		    bound);
		total += moved;
	}
	ck_assert_uint_eq(total, MOVE_TOTAL);
	/* The writer's shutdown follows the last byte: nothing more. */
	moved = 12345;
	r = move_via(p, from, to, move_cases[_i].max, buf,
	    move_cases[_i].cap, WAIT_MS, WAIT_MS, &moved);
	ck_assert_msg(r == SPLICE_EOF && moved == 0, "%s: at the end %d, %zu",
	    move_cases[_i].name, r, moved);
	if (move_cases[_i].kind == PIPE_NO_FDS)
		fds_release(held, nheld, &old);
	ck_assert_int_eq(shutdown(to, SHUT_WR), 0);
	ck_assert_int_eq(pthread_join(ft, NULL), 0);
	ck_assert_int_eq(pthread_join(dt, NULL), 0);

	ck_assert_int_eq(f.err, 0);
	ck_assert_int_eq(d.err, 0);
	ck_assert_msg(!d.overflow, "%s: bytes after the end",
	    move_cases[_i].name);
	ck_assert_uint_eq(d.len, MOVE_TOTAL);
	/* One check, not a million: each one Check records costs a write. */
	for (i = 0; i < MOVE_TOTAL && d.buf[i] == src[i]; i++)
		continue;
	ck_assert_msg(i == MOVE_TOTAL, "%s: byte %zu is %02x, want %02x",
	    move_cases[_i].name, i, (unsigned char)d.buf[i], pattern(i));
	if (p != NULL) {
		/* Which path ran: the pipe was made and kept, or never. */
		ck_assert_msg((p->rd >= 0 && !p->unusable) ==
		    move_cases[_i].spliced, "%s: %s (pipe %d, unusable %d)",
		    move_cases[_i].name, move_cases[_i].spliced ?
		    "copied, not spliced" : "spliced", p->rd, p->unusable);
		if (move_cases[_i].kind == PIPE_NOT_PIPE)
			ck_assert(p->unusable);
		splice_pipe_close(p);
	}
	close(from);
	close(to);
	close(f.fd);
	close(d.fd);
	free(buf);
	free(d.buf);
	free(src);
}
END_TEST

/* The two paths every end-of-move case is tried on. */
static const struct {
	const char	*name;
	bool		 pipe;
} paths[] = {
	{ "splice", true },
	{ "copy", false },
};

/* Bytes, then the sender's EOF: the bytes come first, then SPLICE_EOF. */
START_TEST(test_eof)
{
	struct splice_pipe pipe_, *p = paths[_i].pipe ? &pipe_ : NULL;
	char buf[SPLICE_MIN], got[16];
	int from, src, to, dst, k;
	size_t moved;
	enum splice_result r;

	splice_pipe_init(&pipe_);
	loopback_pair(&from, &src);
	loopback_pair(&to, &dst);
	ck_assert_int_eq(send(src, "hello", 5, 0), 5);
	ck_assert_int_eq(shutdown(src, SHUT_WR), 0);
	moved = 12345;
	r = move_via(p, from, to, 65536, buf, sizeof(buf), WAIT_MS,
	    WAIT_MS, &moved);
	ck_assert_int_eq(r, SPLICE_OK);
	ck_assert_uint_eq(moved, 5);
	ck_assert_int_eq(recv(dst, got, sizeof(got), 0), 5);
	ck_assert(memcmp(got, "hello", 5) == 0);
	/* EOF stays EOF, however often it is asked. */
	for (k = 0; k < 2; k++) {
		moved = 12345;
		r = move_via(p, from, to, 65536, buf, sizeof(buf), WAIT_MS,
		    WAIT_MS, &moved);
		ck_assert_msg(r == SPLICE_EOF, "%s: result %d", paths[_i].name,
		    r);
		ck_assert_uint_eq(moved, 0);
	}
	splice_pipe_close(&pipe_);
	close(from);
	close(src);
	close(to);
	close(dst);
}
END_TEST

/* A sender that stays silent: ETIMEDOUT after read_ms, 0 = no wait. */
static const int silent_ms[] = { 50, 0 };

START_TEST(test_silent)
{
	struct splice_pipe pipe_, *p;
	char buf[SPLICE_MIN];
	int from, src, to, dst, j;
	uint64_t t0, ms;
	size_t moved;
	enum splice_result r;

	loopback_pair(&from, &src);
	loopback_pair(&to, &dst);
	for (j = 0; j < NELEM(silent_ms); j++) {
		splice_pipe_init(&pipe_);
		p = paths[_i].pipe ? &pipe_ : NULL;
		moved = 12345;
		errno = 0;
		t0 = io_now_ms();
		r = move_via(p, from, to, 65536, buf, sizeof(buf),
		    silent_ms[j], WAIT_MS, &moved);
		ms = io_now_ms() - t0;
		ck_assert_msg(r == SPLICE_READ_ERR && errno == ETIMEDOUT,
		    "%s, %d ms: result %d, %s", paths[_i].name, silent_ms[j],
		    r, strerror(errno));
		ck_assert_uint_eq(moved, 0);
		/* Bounded, and far from WAIT_MS: read_ms was the wait. */
		ck_assert_uint_lt(ms, 2000);
		splice_pipe_close(&pipe_);
	}
	/* Nothing was sent on, nor lost: the stream still works. */
	ck_assert_int_eq(send(src, "x", 1, 0), 1);
	splice_pipe_init(&pipe_);
	p = paths[_i].pipe ? &pipe_ : NULL;
	ck_assert_int_eq(move_via(p, from, to, 65536, buf, sizeof(buf),
	    WAIT_MS, WAIT_MS, &moved), SPLICE_OK);
	ck_assert_uint_eq(moved, 1);
	splice_pipe_close(&pipe_);
	close(from);
	close(src);
	close(to);
	close(dst);
}
END_TEST

/*
 * Relay into a connection whose other end has closed, feeding 'from' as
 * needed: the first send may still be taken (the reset comes back
 * after it), a later one must fail. Returns the last result, with its
 * errno in *err; *sigpipe says whether SIGPIPE was raised meanwhile. The
 * signal is blocked so that a raise is seen here instead of ending the
 * test process, then taken back so it cannot fire later.
 */
static enum splice_result
move_to_closed(struct splice_pipe *p, int *err, bool *sigpipe)
{
	static const struct timespec now = { 0, 0 };
	char chunk[4096], buf[SPLICE_MIN];
	sigset_t block, old, pending;
	enum splice_result r = SPLICE_OK;
	int from, src, to, dst, k;
	size_t moved;

	memset(chunk, 'z', sizeof(chunk));
	loopback_pair(&from, &src);
	loopback_pair(&to, &dst);
	close(dst);
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
	for (k = 0; k < 50 && r == SPLICE_OK; k++) {
		ck_assert_int_eq(send(src, chunk, sizeof(chunk), 0),
		    (ssize_t)sizeof(chunk));
		r = move_via(p, from, to, 65536, buf, sizeof(buf), WAIT_MS,
		    WAIT_MS, &moved);
		*err = errno;
	}
	ck_assert_int_eq(sigpending(&pending), 0);
	*sigpipe = sigismember(&pending, SIGPIPE) == 1;
	if (*sigpipe)
		(void)sigtimedwait(&block, NULL, &now);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	close(from);
	close(src);
	close(to);
	return r;
}

START_TEST(test_write_closed)
{
	struct splice_pipe pipe_, *p = paths[_i].pipe ? &pipe_ : NULL;
	enum splice_result r;
	bool sigpipe;
	int err = 0;

	splice_pipe_init(&pipe_);
	r = move_to_closed(p, &err, &sigpipe);
	ck_assert_msg(r == SPLICE_WRITE_ERR, "%s: result %d", paths[_i].name,
	    r);
	ck_assert_msg(err == EPIPE || err == ECONNRESET, "%s: %s",
	    paths[_i].name, strerror(err));
	/* A pipe that may hold lost bytes is not used again. */
	if (p != NULL)
		ck_assert(p->unusable && p->rd == -1 && p->wr == -1);
	splice_pipe_close(&pipe_);
}
END_TEST

/*
 * The copy path sends with MSG_NOSIGNAL: a closed peer is EPIPE, never a
 * signal. (splice() has no such flag; splice.h says the process must
 * ignore SIGPIPE, as main.c does, and test_write_closed covers its
 * result.)
 */
START_TEST(test_copy_write_closed_no_sigpipe)
{
	bool sigpipe;
	int err = 0;

	(void)move_to_closed(NULL, &err, &sigpipe);
	ck_assert_msg(!sigpipe, "SIGPIPE raised writing to a closed "
	    "connection");
}
END_TEST

/*
 * Closing a pipe never made touches no fd, twice over; closing one made
 * closes both its ends and forgets them.
 */
START_TEST(test_pipe_close)
{
	struct splice_pipe p;
	char buf[SPLICE_MIN];
	int from, src, to, dst, rd, wr;
	bool fd0;
	size_t moved;

	/* fd 0 is what a pipe that init forgot to mark would close. */
	fd0 = fcntl(0, F_GETFD) != -1;
	memset(&p, 0, sizeof(p));
	splice_pipe_init(&p);
	splice_pipe_close(&p);
	splice_pipe_close(&p);
	ck_assert(p.rd == -1 && p.wr == -1 && !p.unusable);
	ck_assert((fcntl(0, F_GETFD) != -1) == fd0);

	loopback_pair(&from, &src);
	loopback_pair(&to, &dst);
	ck_assert_int_eq(send(src, "abc", 3, 0), 3);
	ck_assert_int_eq(move_via(&p, from, to, 65536, buf, sizeof(buf),
	    WAIT_MS, WAIT_MS, &moved), SPLICE_OK);
	rd = p.rd;
	wr = p.wr;
	ck_assert(rd >= 0 && wr >= 0);
	splice_pipe_close(&p);
	ck_assert(p.rd == -1 && p.wr == -1);
	/* Nothing has opened an fd since, so the numbers are not reused. */
	ck_assert(fcntl(rd, F_GETFD) == -1 && errno == EBADF);
	ck_assert(fcntl(wr, F_GETFD) == -1 && errno == EBADF);
	splice_pipe_close(&p);
	close(from);
	close(src);
	close(to);
	close(dst);
}
END_TEST

Suite *
splice_suite(void)
{
	Suite *s = suite_create("splice");
	TCase *tc = tcase_create("core");

	/* Real sockets and threads: room for a loaded or sanitised run. */
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_move, 0, NELEM(move_cases));
	tcase_add_loop_test(tc, test_eof, 0, NELEM(paths));
	tcase_add_loop_test(tc, test_silent, 0, NELEM(paths));
	tcase_add_loop_test(tc, test_write_closed, 0, NELEM(paths));
	tcase_add_test(tc, test_copy_write_closed_no_sigpipe);
	tcase_add_test(tc, test_pipe_close);
	suite_add_tcase(s, tc);
	return s;
}
