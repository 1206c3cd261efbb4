/*
 * acceptor.h: the listening socket and the accept loop.
 *
 * One thread (main's) accepts connections, checks each client against the
 * whitelist and hands the socket to the pool. Denied clients are handed on
 * too, marked as such: a worker reads their request and answers 403, since
 * closing unread would reset the connection and tell them nothing.
 */
#ifndef FERRY_ACCEPTOR_H
#define FERRY_ACCEPTOR_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "pool.h"

/* Open, bind and listen on cfg->listen. Returns the fd, or -1 with err. */
int acceptor_listen(const struct ferry_config *cfg, char *err,
    size_t errlen);

/* Accept until *stop is raised. Does not close lfd. */
void acceptor_run(int lfd, const struct ferry_config *cfg, struct pool *pool,
    const volatile sig_atomic_t *stop);

#endif
