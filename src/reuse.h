/*
 * reuse.h: idle upstream connections kept for the next request.
 *
 * Path: connect (an idle connection is taken for the request) and the end
 * of relay response (a clean one is put back); the idle watcher sweeps
 * it.
 *
 * Opening a TCP connection to the origin costs a round trip (and a socket
 * in TIME_WAIT after); a client that asks the same host again, or another
 * client that does, can use the connection the last response came on.
 * After a complete response on a connection the origin lets persist,
 * forward.c puts it here, keyed by the (host, port) of the request; the
 * next request to that key takes it back.
 *
 * Bounds ([upstream] keys, read from the config of the connection that
 * puts): keepalive_per_host per key, keepalive_max in all, each kept at
 * most keepalive_timeout seconds. The pool is shared by every worker and
 * guarded by one mutex; it holds only fds and keys, never a buffer.
 */
#ifndef FERRY_REUSE_H
#define FERRY_REUSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/*
 * Room for an upstream's name as text: "[ip6]:port" for an origin,
 * "parent@[ip6]:port" for a parent proxy.
 */
#define REUSE_NAME_MAX	96

/*
 * Take an idle connection to host[0..host_len):port (any case) that is
 * still open and has sent nothing unasked. Returns the fd, now the
 * caller's, or -1 if there is none; name (if not NULL, cap bytes) receives
 * the address text given to reuse_put(), and addr (if not NULL) its
 * address (AF_UNSPEC if reuse_put() had none). Closed or expired ones
 * met on the way are closed. Like every function here, any thread may
 * call it: it takes the pool's mutex, and closes sockets only after
 * letting go.
 */
int reuse_take(const char *host, size_t host_len, uint16_t port, char *name,
    size_t cap, struct sockaddr_storage *addr);

/*
 * Keep fd, idle after a complete exchange, for host:port; name (or NULL)
 * is its address text and addr (or NULL) its address, kept so the next
 * user need not ask the kernel. host, name and addr are copied. The
 * pool owns fd from here: it closes it at once when reuse is off (or out
 * of memory, or host is longer than 255 bytes); when a bound is reached,
 * an older entry goes instead; later, fd is closed when it expires.
 */
void reuse_put(int fd, const char *host, size_t host_len, uint16_t port,
    const char *name, const struct sockaddr_storage *addr,
    const struct ferry_config *cfg);

/*
 * Close the kept connections that expired, or that the origin closed (or
 * wrote to) while they sat idle, so that no dead socket is held until its
 * timeout. The idle watcher (park.c) calls this a few times a second.
 */
void reuse_sweep(void);

/* How many idle connections are kept now (for the tests and the log). */
size_t reuse_count(void);

/* Close every kept connection (at exit, after the workers stopped). */
void reuse_clear(void);

#endif
