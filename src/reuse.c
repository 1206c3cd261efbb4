/*
 * reuse.c: idle upstream connections (see reuse.h).
 *
 * One list, newest first, under one mutex. Lists are short (keepalive_max
 * defaults to 256), so every operation simply walks it: expired entries
 * are dropped on the way, a take returns the newest match (the warmest
 * connection), and a put over a bound evicts the oldest entry of its host,
 * or the oldest of all. Sockets are closed outside the lock.
 *
 * A pooled socket is idle: the origin may close it at any moment, or (a
 * broken origin) send bytes nobody asked for. reuse_take() peeks at it
 * before handing it out; a close that races with the request is caught by
 * forward.c, which retries idempotent requests once (RFC 9110 §9.2.2).
 */
#include <sys/queue.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "reuse.h"

/* Longest host kept as a key; a longer name is simply not pooled. */
#define REUSE_HOST_MAX	255

/*
 * One kept connection, malloc'd by reuse_put(). The entry owns fd and
 * copies of the key and name; whoever unlinks it closes fd and frees it,
 * or (reuse_take()) hands fd on and frees only the entry.
 */
struct reuse_entry {
	TAILQ_ENTRY(reuse_entry) link;		/* in reuse_all */
	SLIST_ENTRY(reuse_entry) dead_link;	/* unlinked, to close */
	int			 fd;
	uint16_t		 port;
	size_t			 host_len;
	char			 host[REUSE_HOST_MAX];
	char			 name[REUSE_NAME_MAX];
	struct sockaddr_storage	 addr;		/* AF_UNSPEC: not given */
	uint64_t		 expires_ms;
};

TAILQ_HEAD(reuse_list, reuse_entry);
/* Entries taken out under the lock, closed and freed after it. */
SLIST_HEAD(reuse_dead, reuse_entry);

static pthread_mutex_t reuse_lock = PTHREAD_MUTEX_INITIALIZER;
/* Newest first. */
static struct reuse_list reuse_all = TAILQ_HEAD_INITIALIZER(reuse_all);
static size_t reuse_n;

/* Take e out of the kept list, onto dead unless that is NULL. Lock held. */
static void
reuse_unlink(struct reuse_entry *e, struct reuse_dead *dead)
{
	TAILQ_REMOVE(&reuse_all, e, link);
	reuse_n--;
	if (dead != NULL)
		SLIST_INSERT_HEAD(dead, e, dead_link);
}

static bool
reuse_matches(const struct reuse_entry *e, const char *host, size_t len,
    uint16_t port)
{
	return e->port == port && e->host_len == len &&
	    strncasecmp(e->host, host, len) == 0;
}

/* Close and free every entry of a list made with reuse_unlink(). */
static void
reuse_free_list(struct reuse_dead *l)
{
	struct reuse_entry *e;

	while ((e = SLIST_FIRST(l)) != NULL) {
		SLIST_REMOVE_HEAD(l, dead_link);
		close(e->fd);
		free(e);
	}
}

/*
 * Remove and return the newest match for host:port, or NULL. Expired
 * entries met on the way are moved to dead. Lock held.
 */
static struct reuse_entry *
reuse_find(const char *host, size_t len, uint16_t port, uint64_t now,
    struct reuse_dead *dead)
{
	struct reuse_entry *e, *next;

	/* glibc's queue.h has no TAILQ_FOREACH_SAFE. */
	for (e = TAILQ_FIRST(&reuse_all); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		if (e->expires_ms <= now)
			reuse_unlink(e, dead);
		else if (host != NULL && reuse_matches(e, host, len, port)) {
			reuse_unlink(e, NULL);
			return e;
		}
	}
	return NULL;
}

int
reuse_take(const char *host, size_t host_len, uint16_t port, char *name,
    size_t cap, struct sockaddr_storage *addr)
{
	struct reuse_dead dead = SLIST_HEAD_INITIALIZER(dead);
	struct reuse_entry *e;
	int fd = -1;

	if (host_len > REUSE_HOST_MAX)
		return -1;
	while (fd == -1) {
		pthread_mutex_lock(&reuse_lock);
		e = reuse_find(host, host_len, port, io_now_ms(), &dead);
		pthread_mutex_unlock(&reuse_lock);
		if (e == NULL)
			break;
		if (io_peek(e->fd) == IO_PEEK_QUIET) {
			fd = e->fd;
			if (name != NULL && cap > 0)
				snprintf(name, cap, "%s", e->name);
			if (addr != NULL)
				*addr = e->addr;
			free(e);
		} else
			SLIST_INSERT_HEAD(&dead, e, dead_link);
	}
	reuse_free_list(&dead);
	return fd;
}

/*
 * Make room for one more entry like e: the oldest of its host goes if the
 * host is at its bound, the oldest of all if the pool is. Returns true if
 * one was moved to dead. Lock held.
 */
static bool
reuse_evict(const struct reuse_entry *e, const struct ferry_config *cfg,
    struct reuse_dead *dead)
{
	struct reuse_entry *p, *oldest = NULL;
	size_t same = 0;

	TAILQ_FOREACH(p, &reuse_all, link)
		if (reuse_matches(p, e->host, e->host_len, e->port)) {
			same++;
			oldest = p;
		}
	if (same < cfg->keepalive_per_host)
		oldest = reuse_n < cfg->keepalive_max ? NULL :
		    TAILQ_LAST(&reuse_all, reuse_list);
	if (oldest == NULL)
		return false;
	reuse_unlink(oldest, dead);
	return true;
}

void
reuse_put(int fd, const char *host, size_t host_len, uint16_t port,
    const char *name, const struct sockaddr_storage *addr,
    const struct ferry_config *cfg)
{
	struct reuse_dead dead = SLIST_HEAD_INITIALIZER(dead);
	struct reuse_entry *e;
	uint64_t now = io_now_ms();

	if (cfg->keepalive_per_host == 0 || cfg->keepalive_max == 0 ||
	    host_len > REUSE_HOST_MAX || (e = malloc(sizeof(*e))) == NULL) {
		close(fd);
		return;
	}
	e->fd = fd;
	e->port = port;
	e->host_len = host_len;
	memcpy(e->host, host, host_len);
	snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "");
	if (addr != NULL)
		e->addr = *addr;
	else
		e->addr.ss_family = AF_UNSPEC;
	e->expires_ms = now + cfg->keepalive_timeout * 1000ULL;
	pthread_mutex_lock(&reuse_lock);
	(void)reuse_find(NULL, 0, 0, now, &dead);
	/* A loop, since a reload may have lowered the bounds. */
	while (reuse_evict(e, cfg, &dead))
		;
	TAILQ_INSERT_HEAD(&reuse_all, e, link);
	reuse_n++;
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_list(&dead);
}

void
reuse_sweep(void)
{
	struct reuse_dead dead = SLIST_HEAD_INITIALIZER(dead);
	struct reuse_entry *e, *next;
	uint64_t now = io_now_ms();

	pthread_mutex_lock(&reuse_lock);
	for (e = TAILQ_FIRST(&reuse_all); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		if (e->expires_ms <= now || io_peek(e->fd) != IO_PEEK_QUIET)
			reuse_unlink(e, &dead);
	}
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_list(&dead);
}

size_t
reuse_count(void)
{
	size_t n;

	pthread_mutex_lock(&reuse_lock);
	n = reuse_n;
	pthread_mutex_unlock(&reuse_lock);
	return n;
}

void
reuse_clear(void)
{
	struct reuse_dead all = SLIST_HEAD_INITIALIZER(all);
	struct reuse_entry *e;

	pthread_mutex_lock(&reuse_lock);
	while ((e = TAILQ_FIRST(&reuse_all)) != NULL)
		reuse_unlink(e, &all);
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_list(&all);
}
