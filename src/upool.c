/*
 * upool.c: idle upstream connections (see upool.h).
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
 * broken origin) send bytes nobody asked for. upool_take() peeks at it
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
#include "upool.h"

/* Longest host kept as a key; a longer name is simply not pooled. */
#define UPOOL_HOST_MAX	255

/*
 * One kept connection, malloc'd by upool_put(). The entry owns fd and
 * copies of the key and name; whoever unlinks it closes fd and frees it,
 * or (upool_take()) hands fd on and frees only the entry.
 */
struct upool_entry {
	struct upool_entry	*next;
	struct upool_entry	*prev;
	int			 fd;
	uint16_t		 port;
	size_t			 host_len;
	char			 host[UPOOL_HOST_MAX];
	char			 name[UPOOL_NAME_MAX];
	uint64_t		 expires_ms;
};

static pthread_mutex_t upool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct upool_entry *upool_head;	/* newest */
static struct upool_entry *upool_tail;	/* oldest */
static size_t upool_n;

/* Unlink e from the list. Called with the lock held. */
static void
upool_unlink(struct upool_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		upool_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		upool_tail = e->prev;
	e->next = e->prev = NULL;
	upool_n--;
}

/* Put e first. Called with the lock held. */
static void
upool_push(struct upool_entry *e)
{
	e->prev = NULL;
	e->next = upool_head;
	if (upool_head != NULL)
		upool_head->prev = e;
	else
		upool_tail = e;
	upool_head = e;
	upool_n++;
}

static bool
upool_matches(const struct upool_entry *e, const char *host, size_t len,
    uint16_t port)
{
	return e->port == port && e->host_len == len &&
	    strncasecmp(e->host, host, len) == 0;
}

static void
upool_free(struct upool_entry *e)
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
upool_still_open(int fd)
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
static struct upool_entry *
upool_find(const char *host, size_t len, uint16_t port, uint64_t now,
    struct upool_entry **dead)
{
	struct upool_entry *e = upool_head, *next;

	for (; e != NULL; e = next) {
		next = e->next;
		if (e->expires_ms <= now) {
			upool_unlink(e);
			e->next = *dead;
			*dead = e;
		} else if (host != NULL && upool_matches(e, host, len, port)) {
			upool_unlink(e);
			return e;
		}
	}
	return NULL;
}

/* Close and free a chain made by upool_find(). */
static void
upool_free_chain(struct upool_entry *e)
{
	struct upool_entry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		upool_free(e);
	}
}

int
upool_take(const char *host, size_t host_len, uint16_t port, char *name,
    size_t cap)
{
	struct upool_entry *e, *dead = NULL;
	int fd = -1;

	if (host_len > UPOOL_HOST_MAX)
		return -1;
	while (fd == -1) {
		pthread_mutex_lock(&upool_lock);
		e = upool_find(host, host_len, port, io_now_ms(), &dead);
		pthread_mutex_unlock(&upool_lock);
		if (e == NULL)
			break;
		if (upool_still_open(e->fd)) {
			fd = e->fd;
			if (name != NULL && cap > 0)
				snprintf(name, cap, "%s", e->name);
			free(e);
		} else
			upool_free(e);
	}
	upool_free_chain(dead);
	return fd;
}

/*
 * Make room for one more entry of host:port: the oldest of its host goes
 * if the host is at its bound, the oldest of all if the pool is. Returns
 * the evicted entry (to close outside the lock), or NULL when there is
 * room. Lock held.
 */
static struct upool_entry *
upool_evict(const struct upool_entry *e, const struct ferry_config *cfg)
{
	struct upool_entry *p, *oldest = NULL;
	size_t same = 0;

	for (p = upool_head; p != NULL; p = p->next)
		if (upool_matches(p, e->host, e->host_len, e->port)) {
			same++;
			oldest = p;
		}
	if (same < cfg->keepalive_per_host)
		oldest = upool_n < cfg->keepalive_max ? NULL : upool_tail;
	if (oldest != NULL)
		upool_unlink(oldest);
	return oldest;
}

void
upool_put(int fd, const char *host, size_t host_len, uint16_t port,
    const char *name, const struct ferry_config *cfg)
{
	struct upool_entry *e, *gone, *dead = NULL;
	uint64_t now = io_now_ms();

	if (cfg->keepalive_per_host == 0 || cfg->keepalive_max == 0 ||
	    host_len > UPOOL_HOST_MAX || (e = malloc(sizeof(*e))) == NULL) {
		close(fd);
		return;
	}
	e->fd = fd;
	e->port = port;
	e->host_len = host_len;
	memcpy(e->host, host, host_len);
	snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "");
	e->expires_ms = now + cfg->keepalive_timeout * 1000ULL;
	pthread_mutex_lock(&upool_lock);
	(void)upool_find(NULL, 0, 0, now, &dead);
	/* A loop, since a reload may have lowered the bounds. */
	while ((gone = upool_evict(e, cfg)) != NULL) {
		gone->next = dead;
		dead = gone;
	}
	upool_push(e);
	pthread_mutex_unlock(&upool_lock);
	upool_free_chain(dead);
}

void
upool_sweep(void)
{
	struct upool_entry *e, *next, *dead = NULL;
	uint64_t now = io_now_ms();

	pthread_mutex_lock(&upool_lock);
	for (e = upool_head; e != NULL; e = next) {
		next = e->next;
		if (e->expires_ms > now && upool_still_open(e->fd))
			continue;
		upool_unlink(e);
		e->next = dead;
		dead = e;
	}
	pthread_mutex_unlock(&upool_lock);
	upool_free_chain(dead);
}

size_t
upool_count(void)
{
	size_t n;

	pthread_mutex_lock(&upool_lock);
	n = upool_n;
	pthread_mutex_unlock(&upool_lock);
	return n;
}

void
upool_clear(void)
{
	struct upool_entry *e, *all = NULL;

	pthread_mutex_lock(&upool_lock);
	while ((e = upool_head) != NULL) {
		upool_unlink(e);
		e->next = all;
		all = e;
	}
	pthread_mutex_unlock(&upool_lock);
	upool_free_chain(all);
}
