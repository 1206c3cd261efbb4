/*
 * reuse.c: idle upstream connections (see reuse.h).
 *
 * Path: connect and the end of relay response (forward.c, conn.c); swept by
 * park.c.
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
	struct reuse_entry	*next;
	struct reuse_entry	*prev;
	int			 fd;
	uint16_t		 port;
	size_t			 host_len;
	char			 host[REUSE_HOST_MAX];
	char			 name[REUSE_NAME_MAX];
	uint64_t		 expires_ms;
};

static pthread_mutex_t reuse_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reuse_entry *reuse_head;	/* newest */
static struct reuse_entry *reuse_tail;	/* oldest */
static size_t reuse_n;

/* Unlink e from the list. Called with the lock held. */
static void
reuse_unlink(struct reuse_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		reuse_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		reuse_tail = e->prev;
	e->next = e->prev = NULL;
	reuse_n--;
}

/* Put e first. Called with the lock held. */
static void
reuse_push(struct reuse_entry *e)
{
	e->prev = NULL;
	e->next = reuse_head;
	if (reuse_head != NULL)
		reuse_head->prev = e;
	else
		reuse_tail = e;
	reuse_head = e;
	reuse_n++;
}

static bool
reuse_matches(const struct reuse_entry *e, const char *host, size_t len,
    uint16_t port)
{
	return e->port == port && e->host_len == len &&
	    strncasecmp(e->host, host, len) == 0;
}

static void
reuse_free(struct reuse_entry *e)
{
	if (e == NULL)
		return;
	close(e->fd);
	free(e);
}

/*
 * An idle socket is usable if reading it would block: no EOF, no error,
 * and no bytes the origin sent without being asked.
 */
static bool
reuse_still_open(int fd)
{
	ssize_t n;
	char b;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * Remove and return one entry: the newest match for host:port if host is
 * not NULL, else (for eviction) nothing. Expired entries are moved to
 * *dead on the way. Called with the lock held.
 */
static struct reuse_entry *
reuse_find(const char *host, size_t len, uint16_t port, uint64_t now,
    struct reuse_entry **dead)
{
	struct reuse_entry *e = reuse_head, *next;

	for (; e != NULL; e = next) {
		next = e->next;
		if (e->expires_ms <= now) {
			reuse_unlink(e);
			e->next = *dead;
			*dead = e;
		} else if (host != NULL && reuse_matches(e, host, len, port)) {
			reuse_unlink(e);
			return e;
		}
	}
	return NULL;
}

/* Close and free a chain made by reuse_find(). */
static void
reuse_free_chain(struct reuse_entry *e)
{
	struct reuse_entry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		reuse_free(e);
	}
}

int
reuse_take(const char *host, size_t host_len, uint16_t port, char *name,
    size_t cap)
{
	struct reuse_entry *e, *dead = NULL;
	int fd = -1;

	if (host_len > REUSE_HOST_MAX)
		return -1;
	while (fd == -1) {
		pthread_mutex_lock(&reuse_lock);
		e = reuse_find(host, host_len, port, io_now_ms(), &dead);
		pthread_mutex_unlock(&reuse_lock);
		if (e == NULL)
			break;
		if (reuse_still_open(e->fd)) {
			fd = e->fd;
			if (name != NULL && cap > 0)
				snprintf(name, cap, "%s", e->name);
			free(e);
		} else
			reuse_free(e);
	}
	reuse_free_chain(dead);
	return fd;
}

/*
 * Make room for one more entry of host:port: the oldest of its host goes
 * if the host is at its bound, the oldest of all if the pool is. Returns
 * the evicted entry (to close outside the lock), or NULL when there is
 * room. Lock held.
 */
static struct reuse_entry *
reuse_evict(const struct reuse_entry *e, const struct ferry_config *cfg)
{
	struct reuse_entry *p, *oldest = NULL;
	size_t same = 0;

	for (p = reuse_head; p != NULL; p = p->next)
		if (reuse_matches(p, e->host, e->host_len, e->port)) {
			same++;
			oldest = p;
		}
	if (same < cfg->keepalive_per_host)
		oldest = reuse_n < cfg->keepalive_max ? NULL : reuse_tail;
	if (oldest != NULL)
		reuse_unlink(oldest);
	return oldest;
}

void
reuse_put(int fd, const char *host, size_t host_len, uint16_t port,
    const char *name, const struct ferry_config *cfg)
{
	struct reuse_entry *e, *gone, *dead = NULL;
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
	e->expires_ms = now + cfg->keepalive_timeout * 1000ULL;
	pthread_mutex_lock(&reuse_lock);
	(void)reuse_find(NULL, 0, 0, now, &dead);
	/* A loop, since a reload may have lowered the bounds. */
	while ((gone = reuse_evict(e, cfg)) != NULL) {
		gone->next = dead;
		dead = gone;
	}
	reuse_push(e);
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_chain(dead);
}

void
reuse_sweep(void)
{
	struct reuse_entry *e, *next, *dead = NULL;
	uint64_t now = io_now_ms();

	pthread_mutex_lock(&reuse_lock);
	for (e = reuse_head; e != NULL; e = next) {
		next = e->next;
		if (e->expires_ms > now && reuse_still_open(e->fd))
			continue;
		reuse_unlink(e);
		e->next = dead;
		dead = e;
	}
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_chain(dead);
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
	struct reuse_entry *e, *all = NULL;

	pthread_mutex_lock(&reuse_lock);
	while ((e = reuse_head) != NULL) {
		reuse_unlink(e);
		e->next = all;
		all = e;
	}
	pthread_mutex_unlock(&reuse_lock);
	reuse_free_chain(all);
}
