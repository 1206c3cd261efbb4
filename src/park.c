/*
 * park.c: the head gatherer and idle watcher (see park.h).
 *
 * Sockets sit in one of two lists, each in arrival order:
 *   reading  no request head is ready yet: fresh connections, keep-alive
 *            clients between requests, and heads half arrived; each is
 *            registered with one epoll instance whose event carries the
 *            entry;
 *   waiting  the head is ready (gather.h), but no worker was free when
 *            it was offered; offered again every PARK_RETRY_MS, oldest
 *            first, so nobody is overtaken.
 * Workers and the acceptor add under the lock; only the watcher removes,
 * so an entry an event points at is still alive when the watcher reads
 * it. Registrations are one-shot: an event disarms its socket, and the
 * watcher re-arms it after reading, if the head is still incomplete. A
 * socket handed to a worker stays registered (disarmed), so parking it
 * again is one EPOLL_CTL_MOD, and closing it (by whoever) removes it from
 * the set. A waiting socket is not armed.
 *
 * Deadlines. A fresh connection has [client] header_timeout from accept
 * for its whole head; a keep-alive client has idle_timeout for the first
 * byte of its next request, then header_timeout from that byte. Every
 * PARK_SWEEP_MS the watcher walks both lists and ends the expired
 * entries: a half-arrived head gets a 408, written without waiting (a
 * client that reads nothing loses it), the others are closed. A waiting
 * entry is closed after idle_timeout without a free worker. Neither needs
 * a worker, so a pool busy with slow clients cannot delay them.
 *
 * Memory. A reading socket holds a head buffer only once its first byte
 * arrived, up to [limits] max_header_bytes; the connections that hold one
 * (half-arrived or waiting) are counted, at most [pool] max_clients (the
 * value ferry started with: it takes a restart), so the worst case is
 * max_clients * max_header_bytes. At the bound a new head makes room by
 * ending the head that began longest ago and is still not whole
 * (park_room()), or, when every counted head is whole and waits for a
 * worker, waits unread in the kernel's buffer (park_stall()). A silent
 * connection or an idle keep-alive client costs a socket and this small
 * record; the open files limit bounds them, and near it the oldest of
 * them are closed to make room (park_trim()).
 *
 * The same sweep also asks reuse.c to drop idle origin connections that
 * expired or that the origin closed: the watcher is the one thread that
 * wakes up regularly, and it keeps both kinds of idle socket tidy.
 */
#include <sys/queue.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "addr.h"
#include "admit.h"
#include "config.h"
#include "errpage.h"
#include "gather.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "park.h"
#include "proxyproto.h"
#include "reuse.h"

#define PARK_SWEEP_MS	250
#define PARK_RETRY_MS	20
/*
 * At stop, how long a fresh connection that has sent nothing yet is
 * waited for: one a balancer just opened sends its request within
 * milliseconds; one silent longer is not about to.
 */
#define PARK_DRAIN_SILENT_MS	1000
#define PARK_EVENTS	64
/* When descriptors run short, connections closed at once, at least. */
#define PARK_TRIM_MIN	16
/* The most header fields any config allows ([limits] max_headers). */
#define PARK_FIELDS_MAX	10000

struct park_entry {
	TAILQ_ENTRY(park_entry)	 link;
	int			 fd;
	struct sockaddr_storage	 peer;
	const struct ferry_config *cfg;		/* a reference: its limits */
	struct park_limits	 lim;		/* cfg's, or the parker's */
	uint64_t		 expires_ms;
	uint64_t		 since_ms;	/* accept, or first byte */
	time_t			 since;		/* the same, wall clock */
	bool			 fresh;		/* no request served yet */
	bool			 proxied;	/* a PROXY header comes first */
	bool			 split;		/* it came in pieces: low water */
	bool			 counted;	/* in park.held (max_clients) */
	bool			 told;		/* traced: waits for a worker */
	bool			 stalled;	/* no room: unread, unarmed */
	bool			 waited;	/* stalled at least once */
	bool			 gone;		/* made room: ended after the batch */
	struct gather		 head;
	struct trace		 trace;
};

TAILQ_HEAD(park_list, park_entry);

static struct {
	pthread_mutex_t		 lock;
	/* park_client() may add; changed under lock, read alone by
	 * park_accepting() on every request. */
	atomic_bool		 running;
	int			 epfd;
	struct pool		*pool;
	atomic_bool		 stop;
	atomic_bool		 draining;	/* park_stop() waits on heads */
	atomic_bool		 drained;	/* the watcher says: none left */
	size_t			 drain_closed;	/* idle ones it closed then */
	pthread_t		 thread;
	struct park_list	 reading;	/* oldest first */
	struct park_list	 waiting;	/* oldest first */
	struct park_list	 evicted;	/* made room; the watcher's */
	size_t			 count;		/* in both lists */
	size_t			 held;		/* counted against max_clients */
	size_t			 stalled;	/* reading entries with no room */
	size_t			 max_clients;	/* the boot config's */
	unsigned long		 fd_line;	/* park_fd_pressure() */
	atomic_bool		 trim;		/* descriptors ran short */
	struct http_field	*fields;	/* the watcher's, for parsing */
} park = { PTHREAD_MUTEX_INITIALIZER, false, -1, NULL, false, false, false,
    0, 0,
    TAILQ_HEAD_INITIALIZER(park.reading), TAILQ_HEAD_INITIALIZER(park.waiting),
    TAILQ_HEAD_INITIALIZER(park.evicted), 0, 0, 0, 0, 0, false, NULL };

/* Watch fd for e: re-arm its registration, or make one. Lock held. */
static int
park_arm(struct park_entry *e)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = e;
	if (epoll_ctl(park.epfd, EPOLL_CTL_MOD, e->fd, &ev) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return epoll_ctl(park.epfd, EPOLL_CTL_ADD, e->fd, &ev);
}

/* Count e against max_clients, or stop counting it. Lock held. */
static void
park_hold(struct park_entry *e, bool held)
{
	if (e->counted == held)
		return;
	e->counted = held;
	if (held)
		park.held++;
	else
		park.held--;
}

/* e is leaving the stalled set (going, or armed again). Lock held. */
static void
park_unstall_mark(struct park_entry *e)
{
	if (e->stalled) {
		e->stalled = false;
		park.stalled--;
	}
}

/*
 * A new entry for fd under cfg (a reference the entry takes over; it is
 * released with the entry, or handed to the job), with the limits lim
 * (NULL: cfg's). NULL when out of memory (cfg is released then).
 */
static struct park_entry *
park_entry_new(int fd, const struct sockaddr_storage *peer,
    const struct ferry_config *cfg, const struct park_limits *lim,
    const struct trace *t)
{
	struct park_entry *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		config_release(cfg);
		return NULL;
	}
	e->fd = fd;
	e->peer = *peer;
	e->cfg = cfg;
	if (lim != NULL)
		e->lim = *lim;
	else
		park_limits_of(cfg, &e->lim);
	e->trace = *t;
	e->head.cap = e->lim.max_head;
	return e;
}

/*
 * Free e: its head buffer, its config reference and the entry; e->fd is
 * closed or handed on.
 */
static void
park_entry_free(struct park_entry *e)
{
	gather_free(&e->head);
	config_release(e->cfg);
	free(e);
}

/*
 * Add e to the reading list and arm it, counted if held. Returns false
 * (e untouched, not added) if the watcher is not running or epoll
 * refuses. Lock held.
 */
static bool
park_add_reading(struct park_entry *e, bool held)
{
	if (!atomic_load(&park.running) || park_arm(e) == -1)
		return false;
	TAILQ_INSERT_TAIL(&park.reading, e, link);
	park.count++;
	park_hold(e, held);
	return true;
}

/*
 * A keep-alive client's next request begins: if a reload made new rules
 * live while it was parked, the request gets them (else a client that
 * stays connected would keep the old rules for good), with their limits.
 * A head buffer already made keeps its size.
 */
static void
park_take_new_rules(struct park_entry *e)
{
	const struct ferry_config *live;

	if (e->cfg->generation == config_live_generation() ||
	    (live = config_acquire()) == NULL)
		return;
	config_release(e->cfg);
	e->cfg = live;
	park_limits_of(live, &e->lim);
	if (e->head.buf == NULL)
		e->head.cap = e->lim.max_head;
	trace_stage(&e->trace, "a reload made new rules live while it was "
	    "parked: this request uses them");
}

/* Start e's header_timeout from now (accept, or its first byte). */
static void
park_start_head(struct park_entry *e)
{
	e->since_ms = io_now_ms();
	e->since = time(NULL);
	e->expires_ms = e->since_ms + e->lim.header_s * 1000ULL;
}

void
park_client(int fd, const struct sockaddr_storage *peer,
    const struct ferry_config *cfg, const struct park_limits *lim,
    const struct trace *t, const char *bytes, size_t len)
{
	struct park_entry *e = park_entry_new(fd, peer, config_retain(cfg),
	    lim, t);
	bool parked = false;

	if (e != NULL && len > 0) {
		/* The start of the next request came with the last one. */
		e->head.buf = malloc(e->head.cap);
		if (e->head.buf != NULL && len < e->head.cap) {
			memcpy(e->head.buf, bytes, len);
			e->head.len = len;
		} else {
			park_entry_free(e);
			e = NULL;
		}
	}
	if (e != NULL) {
		if (len > 0)
			park_start_head(e);
		else
			e->expires_ms = io_now_ms() + e->lim.idle_s * 1000ULL;
		pthread_mutex_lock(&park.lock);
		/*
		 * A head begun counts against max_clients like any other.
		 * At the bound only the watcher may make room (park_room()):
		 * this one is closed, and its client may come again.
		 */
		if (len == 0 || park.held < park.max_clients)
			parked = park_add_reading(e, len > 0);
		pthread_mutex_unlock(&park.lock);
	}
	if (!parked) {
		if (e != NULL)
			park_entry_free(e);
		close(fd);
	}
}

void
park_limits_of(const struct ferry_config *cfg, struct park_limits *lim)
{
	lim->idle_s = cfg->idle_timeout;
	lim->header_s = cfg->header_timeout;
	lim->max_head = cfg->max_header_bytes;
	lim->max_fields = cfg->max_headers;
	lim->max_uri = cfg->max_uri_bytes;
}

/*
 * A connection to a [proxy_protocol] listener from an address not in
 * from: logged and closed at once. Returns true if so (cfg released).
 */
static bool
park_balancer_refused(int fd, const struct sockaddr_storage *peer,
    const struct ferry_config *cfg)
{
	char ip[ADDR_TEXT_MAX];

	if (acl_allows(&cfg->proxy_from, (const struct sockaddr *)peer))
		return false;
	addr_text((const struct sockaddr *)peer, ip, sizeof(ip));
	log_msg(LOGL_WARN, "%s is not in [proxy_protocol] from: closed", ip);
	metrics_refused(METRICS_REFUSED_BALANCER);
	close(fd);
	config_release(cfg);
	return true;
}

int
park_accept(int fd, const struct sockaddr_storage *peer, bool proxy)
{
	const struct ferry_config *cfg = config_acquire();
	struct park_entry *e = NULL;
	struct trace t;
	bool parked = false;

	trace_begin(&t);
	if (proxy && cfg != NULL && park_balancer_refused(fd, peer, cfg))
		return -1;
	if (cfg != NULL) {
		trace_stage(&t, "accepted (fd %d): the watcher gathers its "
		    "request head (header_timeout %us)", fd,
		    cfg->header_timeout);
		e = park_entry_new(fd, peer, cfg, NULL, &t);
	}
	if (e != NULL) {
		/* Counted from its first byte: a silent one holds no buffer. */
		e->fresh = true;
		e->proxied = proxy;
		park_start_head(e);
		pthread_mutex_lock(&park.lock);
		parked = park_add_reading(e, false);
		pthread_mutex_unlock(&park.lock);
	}
	if (!parked) {
		trace_stage(&t, "closed: ferry is stopping");
		if (e != NULL)
			park_entry_free(e);
		close(fd);
		return -1;
	}
	return 0;
}

/* Take e out of list l and free it, its socket closed or handed on. */
static void
park_forget(struct park_list *l, struct park_entry *e)
{
	pthread_mutex_lock(&park.lock);
	TAILQ_REMOVE(l, e, link);
	park.count--;
	park_hold(e, false);
	park_unstall_mark(e);
	pthread_mutex_unlock(&park.lock);
	park_entry_free(e);
}

/*
 * Offer the waiting clients to the pool, oldest first, until one finds no
 * free worker: that one and those behind it wait for the next try.
 */
static void
park_offer_waiting(void)
{
	struct park_entry *e;

	while ((e = TAILQ_FIRST(&park.waiting)) != NULL) {
		if (admit_offer(park.pool, e->fd, &e->peer, &e->trace,
		    e->head.buf, e->head.len, e->cfg) == ADMIT_BUSY) {
			if (!e->told)
				trace_stage(&e->trace, "the pool is full: it "
				    "waits with the idle watcher");
			e->told = true;
			return;
		}
		/* The job has the head and the config, or they were freed. */
		e->head.buf = NULL;
		e->cfg = NULL;
		park_forget(&park.waiting, e);
	}
}

/* Move e from reading to the end of waiting, with idle_timeout to wait. */
static void
park_wait_for_worker(struct park_entry *e)
{
	pthread_mutex_lock(&park.lock);
	e->expires_ms = io_now_ms() + e->lim.idle_s * 1000ULL;
	TAILQ_REMOVE(&park.reading, e, link);
	TAILQ_INSERT_TAIL(&park.waiting, e, link);
	park_hold(e, true);
	pthread_mutex_unlock(&park.lock);
}

/* A new connection closed without a request: a debug line, as a port scan. */
static void
park_log_unused(const struct park_entry *e)
{
	char ip[ADDR_TEXT_MAX];

	if (!log_enabled(LOGL_DEBUG))
		return;
	addr_text((const struct sockaddr *)&e->peer, ip, sizeof(ip));
	log_msg(LOGL_DEBUG, "%s closed the connection without a request%s",
	    ip, e->head.len > 0 ? " (a head cut short)" : "");
}

/*
 * Make room for one more head at max_clients: move the slowest gathering
 * entry (its head began first and is still not whole) from the reading
 * list to the evicted one. Returns false if every counted entry waits for
 * a worker with a whole head. The victim is ended only after the batch
 * of events in hand (park_end_evicted()): one of them may point at it.
 * The reading list is in order of arrival, not of a head's start (a
 * keep-alive client's head starts at its first byte), hence the search;
 * it runs only at the bound. Lock held.
 */
static bool
park_room(void)
{
	struct park_entry *v, *slowest = NULL;
	uint64_t first = UINT64_MAX;

	for (v = TAILQ_FIRST(&park.reading); v != NULL;
	    v = TAILQ_NEXT(v, link))
		if (v->counted && v->since_ms < first) {
			slowest = v;
			first = v->since_ms;
		}
	if (slowest == NULL)
		return false;
	TAILQ_REMOVE(&park.reading, slowest, link);
	park.count--;
	park_hold(slowest, false);
	slowest->gone = true;
	TAILQ_INSERT_TAIL(&park.evicted, slowest, link);
	return true;
}

/*
 * End e, out of every list: answer status with detail without waiting
 * (a client whose socket has no room loses the page), log the request as
 * a worker would have, say why in its trace, close and free it.
 */
static void
park_end(struct park_entry *e, int status, const char *detail,
    const char *why)
{
	char page[1024], line[ACCESS_LINE_MAX], ip[ADDR_TEXT_MAX];
	uint64_t now = io_now_ms();
	struct access_entry a;
	ssize_t sent = 0;
	size_t len;

	len = errpage_format(status, detail, false, time(NULL), page,
	    sizeof(page));
	if (len > 0)
		sent = send(e->fd, page, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	addr_text((const struct sockaddr *)&e->peer, ip, sizeof(ip));
	log_msg(LOGL_INFO, "%s - - %d in=%zu out=%zd %llums (%s)", ip, status,
	    e->head.len, sent > 0 ? sent : 0,
	    (unsigned long long)(now - e->since_ms), why);
	if (log_access_enabled()) {
		memset(&a, 0, sizeof(a));
		a.client = ip;
		a.when = e->since;
		a.status = status;
		a.bytes_out = sent > 0 ? (uint64_t)sent : 0;
		a.ms = now - e->since_ms;
		log_access(line, access_format(line, sizeof(line), &a));
	}
	metrics_request(METRICS_OTHER, status, (now - e->since_ms) * 1000);
	metrics_add(METRICS_CLIENT_IN, e->head.len);
	metrics_add(METRICS_CLIENT_OUT, sent > 0 ? (uint64_t)sent : 0);
	if (status == 503)
		metrics_refused(METRICS_REFUSED_OVERLOAD);
	trace_stage(&e->trace, "closed: %d, %s", status, why);
	close(e->fd);
	park_entry_free(e);
}

/* End the heads evicted for new ones at max_clients (park_room()). */
static void
park_end_evicted(void)
{
	struct park_entry *v;

	while ((v = TAILQ_FIRST(&park.evicted)) != NULL) {
		TAILQ_REMOVE(&park.evicted, v, link);
		park_end(v, 408, "The request head did not arrive in time.",
		    "max_clients heads were being gathered: the slowest gave "
		    "way");
	}
}

/*
 * Count e against max_clients before it takes a buffer, making room if
 * need be (park_room()). Returns false when there is no room: every
 * counted entry has a whole head and waits for a worker.
 */
static bool
park_take_room(struct park_entry *e)
{
	bool room;

	pthread_mutex_lock(&park.lock);
	room = park.held < park.max_clients || park_room();
	if (room)
		park_hold(e, true);
	pthread_mutex_unlock(&park.lock);
	return room;
}

/*
 * No room for e's head: every counted entry has a whole head and waits
 * for a worker. e is left unread and unarmed, its bytes in the kernel's
 * buffer, and waits (as those do, for at most idle_timeout from its
 * first stall: armed again and beaten to the room, it keeps that
 * deadline) until park_unstall() arms it again.
 */
static void
park_stall(struct park_entry *e)
{
	pthread_mutex_lock(&park.lock);
	e->stalled = true;
	park.stalled++;
	if (!e->waited)
		e->expires_ms = io_now_ms() + e->lim.idle_s * 1000ULL;
	e->waited = true;
	pthread_mutex_unlock(&park.lock);
	trace_stage(&e->trace, "max_clients heads wait for a worker: this "
	    "one waits unread, in the kernel's buffer");
}

/*
 * Arm the stalled entries again, oldest first, one for each free place
 * under max_clients; their bytes wake them at once. Arming more would
 * only wake them to stall again. The watcher, each turn.
 */
static void
park_unstall(void)
{
	struct park_entry *e;
	size_t free_places;

	pthread_mutex_lock(&park.lock);
	free_places = park.held < park.max_clients ?
	    park.max_clients - park.held : 0;
	for (e = TAILQ_FIRST(&park.reading); e != NULL && park.stalled > 0 &&
	    free_places > 0; e = TAILQ_NEXT(e, link)) {
		if (!e->stalled)
			continue;
		park_unstall_mark(e);
		(void)park_arm(e);	/* a refusal: the sweep ends it */
		free_places--;
	}
	pthread_mutex_unlock(&park.lock);
}

/* Close e (in the reading list), saying why in its trace. */
static void
park_close_reading(struct park_entry *e, const char *why)
{
	trace_stage(&e->trace, "closed: %s", why);
	close(e->fd);
	park_forget(&park.reading, e);
}

/*
 * Wake e only once more than have bytes wait (or on a hang-up): epoll is
 * level-triggered and the bytes of a partial PROXY header stay on the
 * socket, so without this a re-armed entry would fire again at once and
 * the watcher would spin until header_timeout. 1 is the kernel default.
 * A failure is ignored: it costs a spin, never a wrong answer.
 */
static void
park_low_water(int fd, int have)
{
	int want = have + 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want));
}

/*
 * The PROXY header a balancer sends before any HTTP byte (proxyproto.h):
 * peeked at until whole, so that nothing past it is read here, then
 * taken off the socket; its source address becomes e's peer. While it is
 * partial, e sleeps until more of it comes (park_low_water()); a hang-up
 * then ends it. Returns 1 when it is done (HTTP may follow), 0 to wait
 * for more (e re-armed), -1 after closing e (bad, or the balancer left),
 * logged. events: epoll's, for the hang-up.
 */
static int
park_proxy_header(struct park_entry *e, uint32_t events)
{
	uint8_t buf[PROXYPROTO_MAX];
	char ip[ADDR_TEXT_MAX];
	struct proxyproto pp;
	const char *why = "closed before a whole header";
	enum proxyproto_result r = PROXYPROTO_BAD;
	ssize_t n;
	bool armed, left;

	memset(&pp, 0, sizeof(pp));
	n = recv(e->fd, buf, sizeof(buf), MSG_PEEK);
	/* A balancer that left before its first byte refused nothing. */
	left = n == 0 || (n < 0 && errno == ECONNRESET);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		r = PROXYPROTO_PARTIAL;
	else if (n > 0)
		r = proxyproto_parse(buf, (size_t)n, &pp, &why);
	if (r == PROXYPROTO_PARTIAL &&
	    (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
		r = PROXYPROTO_BAD;	/* and no more is coming */
		why = "closed before a whole header";
	}
	if (r == PROXYPROTO_PARTIAL) {
		if (n > 0) {
			park_low_water(e->fd, (int)n);
			e->split = true;
		}
		pthread_mutex_lock(&park.lock);
		armed = park_arm(e) == 0;
		pthread_mutex_unlock(&park.lock);
		if (armed)
			return 0;
		why = "epoll refused it";
	}
	if (r == PROXYPROTO_DONE && recv(e->fd, buf, pp.len, 0) ==
	    (ssize_t)pp.len) {
		if (e->split)	/* HTTP: any byte wakes it again */
			park_low_water(e->fd, 0);
		if (!pp.local)
			e->peer = pp.src;
		e->proxied = false;
		addr_text((const struct sockaddr *)&e->peer, ip, sizeof(ip));
		trace_stage(&e->trace, "PROXY v%u header: client %s%s",
		    pp.version, ip, pp.local ? " (LOCAL: the balancer)" : "");
		return 1;
	}
	if (!left)
		metrics_refused(METRICS_REFUSED_PROXY_HEADER);
	addr_text((const struct sockaddr *)&e->peer, ip, sizeof(ip));
	log_msg(left ? LOGL_DEBUG : LOGL_WARN, "PROXY header from %s: %s: "
	    "closed", ip, why);
	park_close_reading(e, "no valid PROXY header");
	return -1;
}

/*
 * A reading socket became readable (epoll's events): bytes of a request
 * head, or the client hung up. A connection that holds no buffer yet
 * first gets room under max_clients, unless it hung up without a byte
 * (looked at only when epoll reports a hang-up: plain EPOLLIN means bytes
 * wait). Then read what is there: a ready head goes to the pool (behind
 * any that wait already), a hang-up is closed here, and a head still
 * incomplete waits for more.
 */
static void
park_wake(struct park_entry *e, uint32_t events)
{
	struct http_limits lim;
	enum gather_state st;
	bool first, counted, gone, armed;

	/*
	 * The first touch of an entry an event points at: taking the lock
	 * orders it after the thread that parked it (epoll orders them
	 * too, but ThreadSanitizer cannot see that).
	 */
	pthread_mutex_lock(&park.lock);
	first = e->head.len == 0;
	counted = e->counted;
	gone = e->gone;
	pthread_mutex_unlock(&park.lock);
	if (gone)
		return;		/* it made room earlier in this batch */
	if (e->proxied && park_proxy_header(e, events) != 1)
		return;
	if (!counted) {
		if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 &&
		    io_peek(e->fd) == IO_PEEK_CLOSED) {
			if (e->fresh)
				park_log_unused(e);
			park_close_reading(e, e->fresh ? "the client hung up "
			    "before its request" : "the client hung up while "
			    "parked");
			return;
		}
		if (!park_take_room(e)) {
			park_stall(e);
			return;
		}
		if (!e->fresh) {
			park_take_new_rules(e);
			park_start_head(e);	/* from its first byte */
		}
		else if (e->waited)	/* the buffer's bound, from now */
			e->expires_ms = io_now_ms() +
			    e->lim.header_s * 1000ULL;
	}
	lim.max_fields = e->lim.max_fields;
	lim.max_uri = e->lim.max_uri;
	st = gather_read(&e->head, e->fd, &lim, park.fields);
	if (st == GATHER_CLOSED) {
		if (e->fresh)
			park_log_unused(e);
		park_close_reading(e, e->fresh ? "the client hung up before "
		    "its request" : "the client hung up while parked");
		return;
	}
	if (st == GATHER_READY) {
		trace_stage(&e->trace, "request head ready (%zu bytes): "
		    "offered to a worker", e->head.len);
		park_wait_for_worker(e);
		park_offer_waiting();
		return;
	}
	if (first && e->head.len > 0)
		trace_stage(&e->trace, "the request head is arriving: "
		    "gathering it (header_timeout %us)", e->lim.header_s);
	pthread_mutex_lock(&park.lock);
	armed = park_arm(e) == 0;
	pthread_mutex_unlock(&park.lock);
	if (!armed)
		park_close_reading(e, "epoll refused it");
}

/* A balancer's connection that sent no whole PROXY header in time. */
static void
park_log_proxy_missing(const struct park_entry *e)
{
	char ip[ADDR_TEXT_MAX];

	metrics_refused(METRICS_REFUSED_PROXY_HEADER);
	addr_text((const struct sockaddr *)&e->peer, ip, sizeof(ip));
	log_msg(LOGL_WARN, "PROXY header from %s: none within header_timeout "
	    "(%us): closed", ip, e->lim.header_s);
}

/*
 * End the entries of l whose time has passed, and free them: a half head
 * gets a 408, a whole one that found no worker a 503 (park_end()); the
 * others are closed, why saying what ran out in the trace.
 */
static void
park_expire(struct park_list *l, uint64_t now, const char *why)
{
	struct park_list dead = TAILQ_HEAD_INITIALIZER(dead);
	struct park_entry *e, *next;
	char text[128];

	pthread_mutex_lock(&park.lock);
	/* glibc's queue.h has no TAILQ_FOREACH_SAFE. */
	for (e = TAILQ_FIRST(l); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		if (e->expires_ms > now)
			continue;
		TAILQ_REMOVE(l, e, link);
		park.count--;
		park_hold(e, false);
		if (e->stalled)
			park.stalled--;	/* still marked: answered below */
		TAILQ_INSERT_TAIL(&dead, e, link);
	}
	pthread_mutex_unlock(&park.lock);
	while ((e = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, e, link);
		/* Stalled, or armed again but not yet read: bytes wait. */
		if (l == &park.waiting || e->stalled || (e->waited &&
		    !e->counted)) {
			snprintf(text, sizeof(text), "no worker was free for "
			    "idle_timeout, %us", e->lim.idle_s);
			park_end(e, 503, "No worker of the proxy was free in "
			    "time; try again.", text);
			continue;
		}
		if (e->head.len > 0) {
			snprintf(text, sizeof(text), "the request head did "
			    "not arrive within header_timeout, %us",
			    e->lim.header_s);
			park_end(e, 408, "The request head did not arrive in "
			    "time.", text);
			continue;
		}
		if (e->proxied)
			park_log_proxy_missing(e);
		trace_stage(&e->trace, "closed: %s", e->fresh ?
		    "no request within header_timeout" : why);
		close(e->fd);
		park_entry_free(e);
	}
}

/*
 * Whether a request may still come on e while ferry drains: a head has
 * begun, or e is a fresh connection accepted moments ago. Lock held.
 */
static bool
park_expected(const struct park_entry *e, uint64_t now)
{
	return e->head.len > 0 || e->stalled || (e->fresh &&
	    now - e->since_ms < PARK_DRAIN_SILENT_MS);
}

/*
 * One step of the drain, in the watcher (the one thread that reads the
 * entries' heads): close the keep-alive clients idle between requests (a
 * client retries on a connection closed while idle, RFC 9112 §9.3.1),
 * and say in park.drained whether any request may still come: a head
 * begun, a fresh connection accepted moments ago, a whole head waiting.
 */
static void
park_drain_step(void)
{
	struct park_list dead = TAILQ_HEAD_INITIALIZER(dead);
	struct park_entry *e, *next;
	uint64_t now = io_now_ms();
	bool busy;

	pthread_mutex_lock(&park.lock);
	busy = !TAILQ_EMPTY(&park.waiting);
	for (e = TAILQ_FIRST(&park.reading); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		if (park_expected(e, now)) {
			busy = true;
			continue;
		}
		if (e->fresh || e->counted)
			continue;	/* silent: closed at the end */
		TAILQ_REMOVE(&park.reading, e, link);
		park.count--;
		TAILQ_INSERT_TAIL(&dead, e, link);
	}
	pthread_mutex_unlock(&park.lock);
	atomic_store(&park.drained, !busy);
	while ((e = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, e, link);
		trace_stage(&e->trace, "closed: ferry is stopping (idle "
		    "keep-alive)");
		close(e->fd);
		park_entry_free(e);
		park.drain_closed++;	/* read by park_stop() after join */
	}
}

/* The periodic sweep of both lists and of the idle origin connections. */
static void
park_sweep(void)
{
	uint64_t now = io_now_ms();

	park_expire(&park.reading, now, "idle past idle_timeout while "
	    "parked");
	park_expire(&park.waiting, now, NULL);
	reuse_sweep();
}

/* How long epoll_wait() may wait: until the next sweep or retry. */
static int
park_timeout_ms(uint64_t next_sweep)
{
	int left = io_ms_left(next_sweep);

	if ((!TAILQ_EMPTY(&park.waiting) || atomic_load(&park.draining)) &&
	    left > PARK_RETRY_MS)
		return PARK_RETRY_MS;
	return left;
}

void
park_fd_pressure(int fd)
{
	if (fd == -1 || (unsigned long)fd >= park.fd_line)
		atomic_store(&park.trim, true);
}

/*
 * May e be closed to free its descriptor? A fresh connection silent for
 * PARK_DRAIN_SILENT_MS since accept (one accepted moments ago may have
 * its request on the way), or, in the second round, a keep-alive client
 * idle between requests; never one with bytes waiting (its event may be
 * the watcher's next), a head begun, a PROXY header to come or a stalled
 * one. Lock held.
 */
static bool
park_spare(const struct park_entry *e, bool idle, uint64_t now)
{
	if (e->fresh == idle || e->counted || e->stalled || e->waited ||
	    e->proxied || e->head.len > 0)
		return false;
	if (!idle && now - e->since_ms < PARK_DRAIN_SILENT_MS)
		return false;
	return io_peek(e->fd) == IO_PEEK_QUIET;
}

/*
 * Move up to want spare entries (park_spare()) of one kind, oldest
 * first, from the reading list to dead. Returns how many. Lock held.
 */
static size_t
park_take_spare(struct park_list *dead, bool idle, size_t want)
{
	struct park_entry *e, *next;
	uint64_t now = io_now_ms();
	size_t n = 0;

	for (e = TAILQ_FIRST(&park.reading); e != NULL && n < want; e = next) {
		next = TAILQ_NEXT(e, link);
		if (!park_spare(e, idle, now))
			continue;
		TAILQ_REMOVE(&park.reading, e, link);
		park.count--;
		TAILQ_INSERT_TAIL(dead, e, link);
		n++;
	}
	return n;
}

/*
 * Descriptors ran short (park_fd_pressure()): close the oldest silent
 * connections, then if need be the oldest idle keep-alive clients (a
 * client sends its request again on a connection closed while idle, RFC
 * 9112 §9.3.1), a hundredth of those parked and at least PARK_TRIM_MIN.
 * Else connections that send nothing would hold every descriptor until
 * header_timeout, and new clients, and the workers' connections to
 * origins, would find none.
 */
static void
park_trim(void)
{
	struct park_list dead = TAILQ_HEAD_INITIALIZER(dead);
	struct park_entry *e;
	size_t want, silent, idle;

	pthread_mutex_lock(&park.lock);
	want = park.count / 100 > PARK_TRIM_MIN ? park.count / 100 :
	    PARK_TRIM_MIN;
	silent = park_take_spare(&dead, false, want);
	idle = park_take_spare(&dead, true, want - silent);
	pthread_mutex_unlock(&park.lock);
	while ((e = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, e, link);
		trace_stage(&e->trace, "closed: descriptors ran short, and it "
		    "was among the oldest %s", e->fresh ? "silent ones" :
		    "idle keep-alive clients");
		close(e->fd);
		park_entry_free(e);
	}
	if (silent + idle > 0)
		log_msg(LOGL_WARN, "descriptors ran short: closed %zu silent "
		    "and %zu idle connections, oldest first", silent, idle);
}

static void *
park_loop(void *arg)
{
	struct epoll_event ev[PARK_EVENTS];
	uint64_t next_sweep = io_now_ms() + PARK_SWEEP_MS;
	int i, n;

	(void)arg;
	while (!atomic_load(&park.stop)) {
		n = epoll_wait(park.epfd, ev, PARK_EVENTS,
		    park_timeout_ms(next_sweep));
		for (i = 0; i < n; i++)
			park_wake(ev[i].data.ptr, ev[i].events);
		park_end_evicted();
		if (atomic_exchange(&park.trim, false))
			park_trim();
		if (n == -1 && errno != EINTR) {
			/*
			 * Cannot happen with a valid epfd. Never leave the
			 * parked clients unwatched: keep sweeping, so each
			 * still closes at its deadline, and never spin.
			 */
			log_msg(LOGL_ERROR, "epoll_wait: %s", strerror(errno));
			io_pause_ms(PARK_RETRY_MS);
		}
		park_offer_waiting();
		park_unstall();
		if (atomic_load(&park.draining))
			park_drain_step();
		if (io_now_ms() >= next_sweep) {
			park_sweep();
			next_sweep = io_now_ms() + PARK_SWEEP_MS;
		}
	}
	return NULL;
}

int
park_start(struct pool *pool, size_t max_clients, unsigned long fd_line,
    char *err, size_t errlen)
{
	int rc;

	park.fields = calloc(PARK_FIELDS_MAX, sizeof(*park.fields));
	if (park.fields == NULL) {
		snprintf(err, errlen, "out of memory for the idle watcher");
		return -1;
	}
	park.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (park.epfd == -1) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	park.pool = pool;
	park.max_clients = max_clients;
	park.fd_line = fd_line;
	atomic_store(&park.trim, false);
	atomic_store(&park.stop, false);
	rc = pthread_create(&park.thread, NULL, park_loop, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the idle watcher: %s",
		    strerror(rc));
		io_close(&park.epfd);
		return -1;
	}
	pthread_mutex_lock(&park.lock);
	atomic_store(&park.running, true);
	pthread_mutex_unlock(&park.lock);
	return 0;
}

bool
park_accepting(void)
{
	return atomic_load(&park.running);
}

size_t
park_count(void)
{
	size_t n;

	pthread_mutex_lock(&park.lock);
	n = park.count;
	pthread_mutex_unlock(&park.lock);
	return n;
}

/* Close and free every entry of l (the watcher has ended). */
static size_t
park_close_all(struct park_list *l)
{
	struct park_entry *e;
	size_t closed = 0;

	while ((e = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, e, link);
		close(e->fd);
		park_entry_free(e);
		closed++;
	}
	return closed;
}

/*
 * At stop, hand the clients whose head is ready to the pool, which is
 * draining: they sent a request already, and closing them unanswered would
 * reset the connection. Gives up at deadline; the watcher has ended.
 */
static void
park_hand_over_waiting(uint64_t deadline)
{
	struct park_entry *e;

	while ((e = TAILQ_FIRST(&park.waiting)) != NULL &&
	    io_now_ms() < deadline) {
		if (admit_offer(park.pool, e->fd, &e->peer, &e->trace,
		    e->head.buf, e->head.len, e->cfg) == ADMIT_BUSY)
			io_pause_ms(PARK_RETRY_MS);
		else {
			e->head.buf = NULL;
			e->cfg = NULL;
			park_forget(&park.waiting, e);
		}
	}
}

/*
 * Wait, until deadline, while the watcher (which goes on meanwhile,
 * handing heads to the pool, which drains too) says requests may still
 * come (park_drain_step()).
 */
static void
park_wait_drained(uint64_t deadline)
{
	while (!atomic_load(&park.drained) && io_now_ms() < deadline)
		io_pause_ms(PARK_RETRY_MS);
}

size_t
park_stop(unsigned grace_ms)
{
	uint64_t deadline = io_now_ms() + grace_ms;
	size_t closed;

	pthread_mutex_lock(&park.lock);
	if (!atomic_load(&park.running)) {
		pthread_mutex_unlock(&park.lock);
		return 0;
	}
	atomic_store(&park.running, false);
	pthread_mutex_unlock(&park.lock);
	/* Serve what was accepted: heads on their way, then the queue. */
	atomic_store(&park.drained, false);
	park.drain_closed = 0;	/* the watcher reads it after this store */
	atomic_store(&park.draining, true);
	park_wait_drained(deadline);
	atomic_store(&park.stop, true);
	pthread_join(park.thread, NULL);
	atomic_store(&park.draining, false);
	/* The watcher has ended: nobody else takes from the lists now. */
	park_hand_over_waiting(deadline);
	pthread_mutex_lock(&park.lock);
	closed = park.drain_closed;
	closed += park_close_all(&park.reading);
	closed += park_close_all(&park.waiting);
	closed += park_close_all(&park.evicted);	/* empty: ended each turn */
	park.count = 0;
	park.held = 0;
	park.stalled = 0;
	pthread_mutex_unlock(&park.lock);
	io_close(&park.epfd);
	free(park.fields);
	park.fields = NULL;
	return closed;
}
