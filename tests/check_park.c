/*
 * check_park.c: the head gatherer and idle watcher (park.c), over
 * admission (admit.c) and a real pool (pool.c).
 *
 * Each parked client is ferry's end of a loopback TCP connection; the
 * test keeps the client's end and talks or hangs up through it. What the
 * watcher did shows at that end (EOF when it closed the socket, a 408
 * page) and in the pool's handler, which records every job it is handed
 * (the marker letter of the request head the watcher gathered, the peer,
 * the verdict) and drops it with admit_job_drop().
 * The pool has one worker and a queue of one, so two "plug" jobs, held by
 * the handler until the test opens its gate, make it full: that is how a
 * test keeps every worker busy while clients wake.
 *
 * Admission takes the live config, so each test makes one from a
 * temporary INI ([client] idle_timeout = 1, header_timeout = 1) and parks
 * clients under those limits, as a worker does. park.c keeps file-static state: the
 * fixture starts the watcher and stops it in every test, and leaves no
 * handler running, so the suite also runs in one process (CK_FORK=no).
 * Every wait is bounded; the handler gives up holding after HOLD_MS.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "config.h"
#include "io.h"
#include "loopback.h"
#include "park.h"
#include "pool.h"
#include "suites.h"

#define MAX_SEEN	32
#define HOLD_MS		20000	/* the handler gives up holding after this */
#define WAIT_MS		10000	/* the test waits for a count this long */
#define QUIET_MS	200	/* a wait that must not end: this long */
#define IDLE_S		1	/* the INI's [client] idle_timeout */
#define HEADER_S	1	/* and header_timeout */
/* A request head carries its marker letter here: "GET http://X". */
#define MARK_AT		11
#define SWEEP_MS	1000	/* how late a close at idle_timeout may be */

/* What the handler saw of one job. */
struct seen {
	char			 byte;	/* first byte read, or 0 */
	bool			 had_fd;
	bool			 allowed;
	bool			 had_cfg;
	struct sockaddr_storage	 peer;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	bool		 gate_open;	/* jobs may end */
	unsigned	 repark;	/* jobs to park again, not close */
	unsigned	 entered;	/* handler calls begun */
	unsigned	 done;		/* jobs dropped */
	unsigned	 stuck;		/* gave up waiting for the gate */
	struct seen	 seen[MAX_SEEN];
} desk = { .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER, .gate_open = true };

static struct pool *pool;
static const struct ferry_config *cfg;	/* a reference, for idle_timeout */

/*
 * The pool's handler: record the job and the byte waiting on it, wait
 * for the gate, and drop the job (closing the client).
 */
static void
handler(void *arg)
{
	struct admit_job *job = arg;
	struct timespec until = io_abstime_in(HOLD_MS);
	struct seen s;
	bool repark;

	memset(&s, 0, sizeof(s));
	s.had_fd = job->fd >= 0;
	if (job->head_len > MARK_AT)
		s.byte = job->head[MARK_AT];
	s.allowed = job->allowed;
	s.had_cfg = job->cfg != NULL;
	s.peer = job->peer;
	pthread_mutex_lock(&desk.lock);
	if (desk.entered < MAX_SEEN)
		desk.seen[desk.entered] = s;
	desk.entered++;
	pthread_cond_broadcast(&desk.changed);
	while (!desk.gate_open)
		if (pthread_cond_timedwait(&desk.changed, &desk.lock,
		    &until) == ETIMEDOUT) {
			desk.stuck++;
			break;
		}
	repark = desk.repark > 0;
	if (repark)
		desk.repark--;
	pthread_mutex_unlock(&desk.lock);
	if (repark) {
		/* As a worker does after an answer: the socket goes back. */
		park_client(job->fd, &job->peer, job->cfg, NULL, &job->trace,
		    NULL, 0);
		job->fd = -1;
	}
	admit_job_drop(job);
	pthread_mutex_lock(&desk.lock);
	desk.done++;
	pthread_cond_broadcast(&desk.changed);
	pthread_mutex_unlock(&desk.lock);
}

/* Wait until *count (a desk field) reaches want, for at most ms. */
static bool
desk_await(const unsigned *count, unsigned want, int ms)
{
	struct timespec until = io_abstime_in(ms);
	bool reached;

	pthread_mutex_lock(&desk.lock);
	while (*count < want)
		if (pthread_cond_timedwait(&desk.changed, &desk.lock,
		    &until) == ETIMEDOUT)
			break;
	reached = *count >= want;
	pthread_mutex_unlock(&desk.lock);
	return reached;
}

static unsigned
desk_get(const unsigned *field)
{
	unsigned v;

	pthread_mutex_lock(&desk.lock);
	v = *field;
	pthread_mutex_unlock(&desk.lock);
	return v;
}

static struct seen
desk_seen(unsigned i)
{
	struct seen s;

	ck_assert_uint_lt(i, MAX_SEEN);
	pthread_mutex_lock(&desk.lock);
	s = desk.seen[i];
	pthread_mutex_unlock(&desk.lock);
	return s;
}

static void
desk_gate(bool open)
{
	pthread_mutex_lock(&desk.lock);
	desk.gate_open = open;
	pthread_cond_broadcast(&desk.changed);
	pthread_mutex_unlock(&desk.lock);
}

/* Wait until park_count() is n; the watcher has no event to wait on. */
static bool
count_is(size_t n, int ms)
{
	uint64_t until = io_now_ms() + (uint64_t)ms;

	for (;;) {
		if (park_count() == n)
			return true;
		if (io_now_ms() >= until)
			return false;
		io_pause_ms(1);
	}
}

/* Make a config from the INI text ini the live one. */
static void
set_live(const char *ini)
{
	char path[] = "/tmp/ferry-park-XXXXXX", err[512];
	struct ferry_config *c;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, ini, strlen(ini)), (ssize_t)strlen(ini));
	ck_assert_int_eq(close(fd), 0);
	c = config_new(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(c != NULL, "config: %s", err);
	config_set_live(c);
}

/*
 * The fixture: a live config from a temporary INI, a pool of one worker
 * and one queue slot, the watcher.
 */
static void
setup(void)
{
	struct pool_shape shape = { false, 1, 1, 0, 256 * 1024 };
	static const char ini[] = "[client]\nidle_timeout = 1\n"
	    "header_timeout = 1\n";
	char err[512];

	pthread_mutex_lock(&desk.lock);
	desk.gate_open = true;
	desk.repark = 0;
	desk.entered = desk.done = desk.stuck = 0;
	memset(desk.seen, 0, sizeof(desk.seen));
	pthread_mutex_unlock(&desk.lock);

	set_live(ini);
	cfg = config_acquire();
	ck_assert_uint_eq(cfg->idle_timeout, IDLE_S);

	pool = pool_start(&shape, handler, sizeof(struct admit_job), err,
	    sizeof(err));
	ck_assert_msg(pool != NULL, "pool: %s", err);
	ck_assert_msg(park_start(pool, cfg->max_clients, ULONG_MAX, err,
	    sizeof(err)) == 0, "park: %s", err);
	ck_assert(park_accepting());
}

/*
 * Make ini the live config and start the watcher again with max_clients
 * (which ini should say too), since a running ferry takes that only at
 * start.
 */
static void
set_live_and_restart(const char *ini, size_t max_clients)
{
	char err[512];

	set_live(ini);
	(void)park_stop(0);
	ck_assert_msg(park_start(pool, max_clients, ULONG_MAX, err,
	    sizeof(err)) == 0, "park: %s", err);
}

static void
teardown(void)
{
	desk_gate(true);
	(void)park_stop(0);
	ck_assert(!park_accepting());
	ck_assert_uint_eq(park_count(), 0);
	ck_assert_uint_eq(pool_stop(pool, WAIT_MS), 0);
	pool = NULL;
	ck_assert_uint_eq(desk_get(&desk.stuck), 0);
	config_release(cfg);
	cfg = NULL;
	config_set_live(NULL);
}

/* A client: ferry's end (parked) and the client's end (the test's). */
struct client {
	int			 near;
	int			 far;
	struct sockaddr_storage	 peer;
};

static void
client_open(struct client *c)
{
	socklen_t len = sizeof(c->peer);

	loopback_pair(&c->near, &c->far);
	memset(&c->peer, 0, sizeof(c->peer));
	ck_assert_int_eq(getpeername(c->near, (struct sockaddr *)&c->peer,
	    &len), 0);
}

/*
 * Park c's ferry end as a worker would, idle for idle_s seconds, with
 * bytes[0..len) of its next request already read.
 */
static void
client_park_with(struct client *c, unsigned idle_s, const char *bytes,
    size_t len)
{
	struct park_limits lim;
	struct trace t;

	park_limits_of(cfg, &lim);
	lim.idle_s = idle_s;
	memset(&t, 0, sizeof(t));
	park_client(c->near, &c->peer, cfg, &lim, &t, bytes, len);
	c->near = -1;	/* the watcher's now */
}

static void
client_park(struct client *c, unsigned idle_s)
{
	client_park_with(c, idle_s, NULL, 0);
}

/* Send text whole from c's client end. */
static void
client_write(const struct client *c, const char *text)
{
	ck_assert_int_eq(send(c->far, text, strlen(text), MSG_NOSIGNAL),
	    (ssize_t)strlen(text));
}

static size_t client_read(const struct client *c, char *buf, size_t cap,
    int ms);

/* The client sends its next request, marked with letter b. */
static void
client_send(const struct client *c, char b)
{
	char head[128];

	snprintf(head, sizeof(head), "GET http://%c.test/ HTTP/1.1\r\n"
	    "Host: %c.test\r\n\r\n", b, b);
	client_write(c, head);
}

static void
client_close(struct client *c)
{
	io_close(&c->near);
	io_close(&c->far);
}

/*
 * Fill the pool: two plug clients that sent 'p' and 'q', admitted as new
 * connections with the gate shut; the first holds the worker, the second
 * the queue slot.
 */
static void
plug(struct client plugs[2])
{
	unsigned i, running;
	size_t queued;

	desk_gate(false);
	for (i = 0; i < 2; i++) {
		client_open(&plugs[i]);
		client_send(&plugs[i], i == 0 ? 'p' : 'q');
		ck_assert_int_eq(park_accept(plugs[i].near, &plugs[i].peer, false), 0);
		plugs[i].near = -1;
		if (i == 0)
			ck_assert(desk_await(&desk.entered, 1, WAIT_MS));
	}
	/* The watcher reads the second head and queues it: wait for that. */
	for (i = 0; i < WAIT_MS / 10; i++) {
		pool_load(pool, &running, &queued);
		if (queued == 1)
			break;
		io_pause_ms(10);
	}
	ck_assert_msg(running == 1 && queued == 1, "load %u+%zu", running,
	    queued);
}

/* Release the plugs (and whatever queues behind them). */
static void
unplug(struct client plugs[2])
{
	desk_gate(true);
	ck_assert(desk_await(&desk.done, 2, WAIT_MS));
	ck_assert_int_eq(desk_seen(0).byte, 'p');
	ck_assert_int_eq(desk_seen(1).byte, 'q');
	client_close(&plugs[0]);
	client_close(&plugs[1]);
}

/* Peers a parked client may have: as it is, or another address. */
static const struct {
	const char	*addr;	/* NULL: the real loopback peer */
	bool		 allowed;	/* by the default whitelist */
} peers[] = {
	{ NULL, true },
	{ "192.0.2.7", false },
	{ "::1", true },
	{ "2001:db8::1", false },
};

static void
peer_set(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') == NULL) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40001);
		ck_assert_int_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40002);
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr),
		    1);
	}
}

/*
 * A parked client that sends its next request is handed to the pool: the
 * handler gets the socket (with the byte waiting on it), the peer as
 * parked and the whitelist's verdict on it; the watcher lets it go.
 */
START_TEST(test_wake_hands_over)
{
	struct client c;
	struct seen s;

	client_open(&c);
	if (peers[_i].addr != NULL)
		peer_set(&c.peer, peers[_i].addr);
	client_park(&c, cfg->idle_timeout);
	ck_assert_uint_eq(park_count(), 1);
	ck_assert_msg(!desk_await(&desk.entered, 1, QUIET_MS), "handed over "
	    "before it spoke");
	client_send(&c, 'x');
	ck_assert_msg(desk_await(&desk.done, 1, WAIT_MS), "never handed "
	    "over");
	s = desk_seen(0);
	ck_assert(s.had_fd);
	ck_assert(s.had_cfg);
	ck_assert_int_eq(s.byte, 'x');
	ck_assert_msg(memcmp(&s.peer, &c.peer, sizeof(s.peer)) == 0,
	    "another peer");
	ck_assert_int_eq(s.allowed, peers[_i].allowed);
	ck_assert(count_is(0, WAIT_MS));
	/* The handler's drop closed it. */
	ck_assert(loopback_closed(c.far, WAIT_MS));
	ck_assert_uint_eq(desk_get(&desk.entered), 1);
	client_close(&c);
}
END_TEST

/*
 * A client served and parked again, as a worker does after each answer,
 * is woken again by its next request: the second park re-arms the same
 * registration (EPOLL_CTL_MOD), and the watcher reads the new entry only
 * after the worker that filled it (ThreadSanitizer checks that).
 */
START_TEST(test_parked_again)
{
	static const char bytes[] = "abcde";
	const size_t rounds = sizeof(bytes) - 1;
	struct client c;
	size_t i;

	pthread_mutex_lock(&desk.lock);
	desk.repark = (unsigned)rounds - 1;
	pthread_mutex_unlock(&desk.lock);
	client_open(&c);
	client_park(&c, cfg->idle_timeout);
	for (i = 0; i < rounds; i++) {
		client_send(&c, bytes[i]);
		ck_assert_msg(desk_await(&desk.done, (unsigned)i + 1,
		    WAIT_MS), "request %zu never handed over", i);
		ck_assert_int_eq(desk_seen((unsigned)i).byte, bytes[i]);
		/* Parked again, open, until the last, which is dropped. */
		ck_assert(count_is(i + 1 < rounds ? 1 : 0, WAIT_MS));
		ck_assert_msg(!loopback_closed(c.far, 0) || i + 1 == rounds,
		    "closed after request %zu", i);
	}
	ck_assert(loopback_closed(c.far, WAIT_MS));
	client_close(&c);
}
END_TEST

/* Whether a worker is free while a client idles. */
static const struct {
	const char	*name;
	bool		 busy;	/* plugs hold the pool, a talker waits */
} idles[] = {
	{ "a worker free", false },
	{ "every worker busy, another client waiting", true },
};

/*
 * A parked client that stays silent is closed at idle_timeout, not before
 * and at most a sweep or so after, and never reaches the handler. That
 * holds while every worker is busy and a woken client waits for one too:
 * the watcher never waits on the pool.
 */
START_TEST(test_silent_closed_at_idle_timeout)
{
	const char *name = idles[_i].name;
	bool busy = idles[_i].busy;
	struct client c, plugs[2], talker;
	uint64_t t0, took;

	if (busy) {
		plug(plugs);
		client_open(&talker);
		client_park(&talker, 10 * IDLE_S);
		client_send(&talker, 't');
	}
	client_open(&c);
	t0 = io_now_ms();
	client_park(&c, cfg->idle_timeout);
	ck_assert_msg(loopback_closed(c.far, IDLE_S * 1000 + SWEEP_MS +
	    WAIT_MS), "%s: never closed", name);
	took = io_now_ms() - t0;
	ck_assert_msg(took >= IDLE_S * 1000 && took <= IDLE_S * 1000 +
	    SWEEP_MS, "%s: closed after %llu ms, idle_timeout %d s", name,
	    (unsigned long long)took, IDLE_S);
	ck_assert_uint_eq(desk_get(&desk.entered), busy ? 1 : 0);
	if (busy) {
		/* The talker still waits, and is served once there is room. */
		ck_assert_uint_eq(park_count(), 1);
		unplug(plugs);
		ck_assert(desk_await(&desk.done, 3, WAIT_MS));
		ck_assert_int_eq(desk_seen(2).byte, 't');
		client_close(&talker);
	}
	ck_assert(count_is(0, WAIT_MS));
	client_close(&c);
}
END_TEST

/* Ways a parked client can go, and whether that is a request. */
enum hangup { HUP_CLOSE, HUP_RESET, HUP_SHUT, HUP_BYTE_SHUT };

static const struct {
	const char	*name;
	enum hangup	 how;
	bool		 early;		/* before it is parked */
	bool		 served;	/* a last request came before it */
} hangups[] = {
	{ "close", HUP_CLOSE, false, false },
	{ "reset", HUP_RESET, false, false },
	{ "shutdown(SHUT_WR)", HUP_SHUT, false, false },
	{ "a byte, then shutdown(SHUT_WR)", HUP_BYTE_SHUT, false, true },
	/* Already there when it is parked: one event says both. */
	{ "close, before parking", HUP_CLOSE, true, false },
	{ "reset, before parking", HUP_RESET, true, false },
	{ "a byte and shutdown(SHUT_WR), before parking", HUP_BYTE_SHUT,
	    true, true },
};

/* Hang up c's client end as hangups[i] says. */
static void
hang_up(struct client *c, int i)
{
	struct linger lg = { 1, 0 };

	switch (hangups[i].how) {
	case HUP_RESET:
		ck_assert_int_eq(setsockopt(c->far, SOL_SOCKET, SO_LINGER,
		    &lg, sizeof(lg)), 0);
		/* FALLTHROUGH */
	case HUP_CLOSE:
		io_close(&c->far);
		break;
	case HUP_BYTE_SHUT:
		client_send(c, 'z');
		/* FALLTHROUGH */
	case HUP_SHUT:
		ck_assert_int_eq(shutdown(c->far, SHUT_WR), 0);
		break;
	}
}

/* Wait until c's ferry end sees what its client end did. */
static void
wait_near(const struct client *c)
{
	struct pollfd pfd = { c->near, POLLIN | POLLRDHUP, 0 };

	ck_assert_int_eq(poll(&pfd, 1, WAIT_MS), 1);
}

/*
 * A client that hangs up while parked is closed by the watcher and never
 * reaches the handler; one that sent a last request before it shut down
 * its side is served all the same, also when both were there before it
 * was parked.
 */
START_TEST(test_hangup)
{
	const char *name = hangups[_i].name;
	struct client c;
	struct seen s;

	client_open(&c);
	if (hangups[_i].early) {
		hang_up(&c, _i);
		wait_near(&c);
	}
	client_park(&c, cfg->idle_timeout);
	if (!hangups[_i].early)
		hang_up(&c, _i);
	ck_assert_msg(count_is(0, WAIT_MS), "%s: still parked", name);
	/* Whoever has it closes it: the client's end sees that. */
	if (c.far != -1)
		ck_assert_msg(loopback_closed(c.far, WAIT_MS), "%s: never "
		    "closed", name);
	if (hangups[_i].served) {
		ck_assert_msg(desk_await(&desk.done, 1, WAIT_MS), "%s: its "
		    "last request was dropped", name);
		s = desk_seen(0);
		ck_assert_int_eq(s.byte, 'z');
	} else
		ck_assert_msg(!desk_await(&desk.entered, 1, QUIET_MS),
		    "%s: handed to a worker", name);
	client_close(&c);
}
END_TEST

#define NWAIT	6

/*
 * With every worker busy, woken clients wait with the watcher: still
 * counted as parked, not handed over, not closed. Once the worker is
 * free they are all handed over, in the order they woke.
 */
START_TEST(test_full_pool_waits_in_order)
{
	struct client plugs[2], c[NWAIT];
	struct seen s;
	unsigned i;

	plug(plugs);
	for (i = 0; i < NWAIT; i++) {
		client_open(&c[i]);
		client_park(&c[i], cfg->idle_timeout);
	}
	for (i = 0; i < NWAIT; i++)
		client_send(&c[i], (char)('a' + i));
	ck_assert_msg(!desk_await(&desk.entered, 2, QUIET_MS), "a woken "
	    "client went past a full pool");
	ck_assert_uint_eq(park_count(), NWAIT);
	for (i = 0; i < NWAIT; i++)
		ck_assert_msg(!loopback_closed(c[i].far, 0), "client %u "
		    "closed while it waited", i);

	desk_gate(true);
	ck_assert_msg(desk_await(&desk.done, 2 + NWAIT, WAIT_MS), "%u of %u "
	    "served", desk_get(&desk.done), 2 + NWAIT);
	ck_assert(count_is(0, WAIT_MS));
	ck_assert_int_eq(desk_seen(0).byte, 'p');
	ck_assert_int_eq(desk_seen(1).byte, 'q');
	for (i = 0; i < NWAIT; i++) {
		s = desk_seen(2 + i);
		ck_assert_msg(s.byte == 'a' + (int)i, "handed over as number "
		    "%u: '%c', want '%c'", i, s.byte, 'a' + i);
		ck_assert(loopback_closed(c[i].far, WAIT_MS));
		client_close(&c[i]);
	}
	client_close(&plugs[0]);
	client_close(&plugs[1]);
}
END_TEST

/*
 * A woken client that finds no free worker for idle_timeout gets a 503
 * and is closed then, and is not handed over later.
 */
START_TEST(test_waiting_closed_without_worker)
{
	struct client plugs[2], c;
	uint64_t t0, took;
	char got[1024];

	plug(plugs);
	client_open(&c);
	t0 = io_now_ms();
	client_park(&c, cfg->idle_timeout);
	client_send(&c, 'w');
	ck_assert(client_read(&c, got, sizeof(got), IDLE_S * 1000 + SWEEP_MS +
	    WAIT_MS) > 0);
	ck_assert_msg(strncmp(got, "HTTP/1.1 503 ", 13) == 0, "%s", got);
	ck_assert_msg(loopback_closed(c.far, WAIT_MS), "never closed");
	took = io_now_ms() - t0;
	/* Its clock restarted when it woke, after t0. */
	ck_assert_msg(took >= IDLE_S * 1000 && took <= IDLE_S * 1000 +
	    SWEEP_MS, "closed after %llu ms", (unsigned long long)took);
	ck_assert(count_is(0, WAIT_MS));
	unplug(plugs);
	ck_assert_msg(!desk_await(&desk.entered, 3, QUIET_MS), "handed over "
	    "after it was closed");
	client_close(&c);
}
END_TEST

/*
 * park_stop() with no grace closes every parked socket, idle or waiting
 * for a worker, and says how many; a socket parked after it is closed at
 * once.
 */
START_TEST(test_stop_closes_all)
{
	struct client plugs[2], c[5], late;
	unsigned i;

	plug(plugs);
	for (i = 0; i < 5; i++) {
		client_open(&c[i]);
		client_park(&c[i], cfg->idle_timeout);
	}
	/* Two wake up and wait for the busy worker; three stay idle. */
	client_send(&c[0], 'a');
	client_send(&c[3], 'b');
	ck_assert_msg(!desk_await(&desk.entered, 2, QUIET_MS), "a woken "
	    "client went past a full pool");
	ck_assert_uint_eq(park_count(), 5);
	ck_assert_uint_eq(park_stop(0), 5);
	ck_assert(!park_accepting());
	ck_assert_uint_eq(park_count(), 0);
	for (i = 0; i < 5; i++)
		ck_assert_msg(loopback_closed(c[i].far, WAIT_MS), "client %u "
		    "still open", i);

	client_open(&late);
	client_park(&late, cfg->idle_timeout);
	ck_assert_uint_eq(park_count(), 0);
	/* At once, not at idle_timeout: park_client() closed it. */
	ck_assert_msg(loopback_closed(late.far, IDLE_S * 1000 / 2), "parked "
	    "after the stop and not closed");
	ck_assert_uint_eq(park_stop(0), 0);

	unplug(plugs);
	ck_assert_uint_eq(desk_get(&desk.entered), 2);
	for (i = 0; i < 5; i++)
		client_close(&c[i]);
	client_close(&late);
}
END_TEST

/* Open the gate after a moment, from a thread of its own. */
static void *
gate_later(void *arg)
{
	(void)arg;
	io_pause_ms(QUIET_MS);
	desk_gate(true);
	return NULL;
}

/*
 * park_stop() with a grace hands the clients that wait for a worker (they
 * sent a request) to the draining pool, oldest first, as soon as a worker
 * frees, and closes only the idle ones.
 */
START_TEST(test_stop_hands_over_waiting)
{
	struct client plugs[2], c[4];
	pthread_t t;
	unsigned i;

	plug(plugs);
	for (i = 0; i < 4; i++) {
		client_open(&c[i]);
		client_park(&c[i], cfg->idle_timeout);
	}
	client_send(&c[1], 'x');
	client_send(&c[2], 'y');
	ck_assert_msg(!desk_await(&desk.entered, 2, QUIET_MS), "a woken "
	    "client went past a full pool");
	ck_assert_int_eq(pthread_create(&t, NULL, gate_later, NULL), 0);
	/* Waits for the gate: the two idle ones are the ones closed. */
	ck_assert_uint_eq(park_stop(WAIT_MS), 2);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(desk_await(&desk.done, 4, WAIT_MS));
	ck_assert_int_eq(desk_seen(0).byte, 'p');
	ck_assert_int_eq(desk_seen(1).byte, 'q');
	ck_assert_int_eq(desk_seen(2).byte, 'x');
	ck_assert_int_eq(desk_seen(3).byte, 'y');
	for (i = 0; i < 4; i++)
		ck_assert_msg(loopback_closed(c[i].far, WAIT_MS), "client %u "
		    "still open", i);
	for (i = 0; i < 4; i++)
		client_close(&c[i]);
	client_close(&plugs[0]);
	client_close(&plugs[1]);
}
END_TEST

/* Read what c's client end got within ms into buf; its length. */
static size_t
client_read(const struct client *c, char *buf, size_t cap, int ms)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && io_wait(c->far, POLLIN, ms) == 0 &&
	    (n = recv(c->far, buf + len, cap - 1 - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

/*
 * A head that arrives in pieces, with pauses, is handed over only once
 * it is whole; pieces that came with the last request (parked along with
 * the socket) count.
 */
START_TEST(test_head_in_pieces)
{
	static const char start[] = "GET http://m.te";
	struct client c;

	client_open(&c);
	client_park_with(&c, cfg->idle_timeout, start, sizeof(start) - 1);
	ck_assert_msg(!desk_await(&desk.entered, 1, QUIET_MS), "handed over "
	    "half a head");
	client_write(&c, "st/ HTTP/1.1\r\nHost: m.te");
	ck_assert_msg(!desk_await(&desk.entered, 1, QUIET_MS), "handed over "
	    "half a head");
	client_write(&c, "st\r\n\r\n");
	ck_assert_msg(desk_await(&desk.done, 1, WAIT_MS), "never handed "
	    "over");
	ck_assert_int_eq(desk_seen(0).byte, 'm');
	ck_assert(count_is(0, WAIT_MS));
	client_close(&c);
}
END_TEST

/*
 * A head that does not arrive whole within header_timeout of its first
 * byte gets a 408 from the watcher itself, and never reaches a worker;
 * a new connection that sends nothing is closed at header_timeout of its
 * accept, without a word. Neither needs a worker: the pool is full.
 */
START_TEST(test_header_timeout)
{
	struct client plugs[2], slow, silent;
	char got[2048];
	uint64_t t0, took;

	plug(plugs);
	client_open(&slow);
	client_open(&silent);
	t0 = io_now_ms();
	client_park(&slow, 10 * IDLE_S);
	ck_assert_int_eq(park_accept(silent.near, &silent.peer, false), 0);
	silent.near = -1;
	client_write(&slow, "GET http://s.test/ HTTP/1.1\r\n");
	ck_assert(client_read(&slow, got, sizeof(got), HEADER_S * 1000 +
	    SWEEP_MS + WAIT_MS) > 0);
	took = io_now_ms() - t0;
	ck_assert_msg(strncmp(got, "HTTP/1.1 408 ", 13) == 0, "%s", got);
	ck_assert_msg(took >= HEADER_S * 1000 && took <= HEADER_S * 1000 +
	    SWEEP_MS, "408 after %llu ms", (unsigned long long)took);
	ck_assert(loopback_closed(slow.far, WAIT_MS));
	ck_assert_msg(client_read(&silent, got, sizeof(got), WAIT_MS) == 0,
	    "the silent one got %s", got);
	ck_assert(loopback_closed(silent.far, WAIT_MS));
	ck_assert(count_is(0, WAIT_MS));
	unplug(plugs);
	ck_assert_uint_eq(desk_get(&desk.entered), 2);
	client_close(&slow);
	client_close(&silent);
}
END_TEST

/*
 * max_clients bounds the heads being gathered, not the connections: a
 * silent new connection holds no buffer and is not counted. At the
 * bound, a head that begins makes the oldest unfinished head give way
 * (408), so a crowd of slow heads cannot keep a quick client out.
 */
START_TEST(test_max_clients_bounds_heads)
{
	static const char ini[] = "[client]\nidle_timeout = 1\n"
	    "header_timeout = 1\n[pool]\nmax_clients = 1\n";
	struct client silent, slow, quick;
	char got[1024];

	set_live_and_restart(ini, 1);

	client_open(&silent);
	client_open(&slow);
	client_open(&quick);
	ck_assert_int_eq(park_accept(silent.near, &silent.peer, false), 0);
	ck_assert_int_eq(park_accept(slow.near, &slow.peer, false), 0);
	ck_assert_int_eq(park_accept(quick.near, &quick.peer, false), 0);
	silent.near = slow.near = quick.near = -1;
	client_write(&slow, "GET http://s.te");
	ck_assert_msg(!loopback_closed(slow.far, QUIET_MS), "the only head "
	    "being gathered was closed");
	/* A second head begins: the slow one gives way with a 408. */
	client_send(&quick, 'q');
	ck_assert(client_read(&slow, got, sizeof(got), WAIT_MS) > 0);
	ck_assert_msg(strncmp(got, "HTTP/1.1 408 ", 13) == 0, "%s", got);
	ck_assert(loopback_closed(slow.far, WAIT_MS));
	ck_assert_msg(desk_await(&desk.done, 1, WAIT_MS), "the quick head "
	    "was never served");
	ck_assert_int_eq(desk_seen(0).byte, 'q');
	ck_assert_msg(!loopback_closed(silent.far, 0), "the silent one was "
	    "closed before header_timeout");
	client_close(&silent);
	client_close(&slow);
	client_close(&quick);
}
END_TEST

/*
 * The head that gives way is the one that began first, not the entry
 * parked first: a keep-alive client parked long ago whose head has only
 * just begun is not the slowest.
 */
START_TEST(test_slowest_head_gives_way)
{
	static const char ini[] = "[client]\nidle_timeout = 30\n"
	    "header_timeout = 30\n[pool]\nmax_clients = 2\n";
	struct client kept, slow, quick;
	char got[1024];

	set_live_and_restart(ini, 2);
	client_open(&kept);
	client_open(&slow);
	client_open(&quick);
	client_park(&kept, 30);		/* parked first, silent */
	ck_assert_int_eq(park_accept(slow.near, &slow.peer, false), 0);
	ck_assert_int_eq(park_accept(quick.near, &quick.peer, false), 0);
	slow.near = quick.near = -1;
	client_write(&slow, "GET http://s.te");
	ck_assert(!loopback_closed(slow.far, QUIET_MS));
	client_write(&kept, "GET http://kk.te");	/* its head begins now */
	ck_assert(!loopback_closed(kept.far, QUIET_MS));
	client_write(&quick, "G");
	ck_assert(client_read(&slow, got, sizeof(got), WAIT_MS) > 0);
	ck_assert_msg(strncmp(got, "HTTP/1.1 408 ", 13) == 0, "%s", got);
	ck_assert_msg(client_read(&kept, got, sizeof(got), QUIET_MS) == 0,
	    "the keep-alive client's newer head gave way: %s", got);
	client_close(&kept);
	client_close(&slow);
	client_close(&quick);
}
END_TEST

/*
 * A head that gives way is ended only after the batch of events in hand:
 * one of them may be its own (its next byte), and it was once freed
 * first and read after (AddressSanitizer's heap-use-after-free). Each
 * round sends a new head's first byte and the old head's next byte back
 * to back, so that both often wake the watcher in one batch.
 */
START_TEST(test_evicted_within_one_batch)
{
	static const char ini[] = "[client]\nidle_timeout = 5\n"
	    "header_timeout = 5\n[pool]\nmax_clients = 1\n";
	struct client old, young;
	char got[1024];
	int i;

	set_live_and_restart(ini, 1);
	client_open(&old);
	ck_assert_int_eq(park_accept(old.near, &old.peer, false), 0);
	old.near = -1;
	client_write(&old, "GET http://o.te");
	ck_assert(!loopback_closed(old.far, QUIET_MS));
	for (i = 0; i < 200; i++) {
		client_open(&young);
		ck_assert_int_eq(park_accept(young.near, &young.peer, false),
		    0);
		young.near = -1;
		client_write(&young, "GET http://y.te");
		(void)send(old.far, "x", 1, MSG_NOSIGNAL);
		ck_assert_msg(client_read(&old, got, sizeof(got), WAIT_MS) >
		    0 && strncmp(got, "HTTP/1.1 408 ", 13) == 0, "round %d: "
		    "%s", i, got);
		client_close(&old);
		old = young;
	}
	ck_assert(count_is(1, WAIT_MS));
	client_close(&old);
}
END_TEST

/*
 * At max_clients whole heads waiting for a worker, a new head is left
 * unread in the kernel's buffer (not closed, not read into memory) and
 * is served, in order, once there is room.
 */
START_TEST(test_full_heads_wait_unread)
{
	static const char ini[] = "[client]\nidle_timeout = 5\n"
	    "header_timeout = 5\n[pool]\nmax_clients = 1\n";
	struct client plugs[2], a, b;

	plug(plugs);
	set_live_and_restart(ini, 1);
	client_open(&a);
	client_open(&b);
	ck_assert_int_eq(park_accept(a.near, &a.peer, false), 0);
	ck_assert_int_eq(park_accept(b.near, &b.peer, false), 0);
	a.near = b.near = -1;
	client_send(&a, 'a');
	ck_assert(!desk_await(&desk.entered, 2, QUIET_MS));
	client_send(&b, 'b');
	ck_assert_msg(!loopback_closed(b.far, QUIET_MS), "closed for lack "
	    "of room");
	ck_assert_uint_eq(park_count(), 2);
	unplug(plugs);
	ck_assert_msg(desk_await(&desk.done, 4, WAIT_MS), "%u of 4 served",
	    desk_get(&desk.done));
	ck_assert_int_eq(desk_seen(2).byte, 'a');
	ck_assert_int_eq(desk_seen(3).byte, 'b');
	client_close(&a);
	client_close(&b);
}
END_TEST

Suite *
park_suite(void)
{
	Suite *s = suite_create("park");
	TCase *tc = tcase_create("core");

	/* Real sockets, threads and idle timeouts of a second. */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_wake_hands_over, 0, NELEM(peers));
	tcase_add_test(tc, test_parked_again);
	tcase_add_loop_test(tc, test_silent_closed_at_idle_timeout, 0,
	    NELEM(idles));
	tcase_add_loop_test(tc, test_hangup, 0, NELEM(hangups));
	tcase_add_test(tc, test_full_pool_waits_in_order);
	tcase_add_test(tc, test_waiting_closed_without_worker);
	tcase_add_test(tc, test_stop_closes_all);
	tcase_add_test(tc, test_stop_hands_over_waiting);
	tcase_add_test(tc, test_head_in_pieces);
	tcase_add_test(tc, test_header_timeout);
	tcase_add_test(tc, test_max_clients_bounds_heads);
	tcase_add_test(tc, test_slowest_head_gives_way);
	tcase_add_test(tc, test_evicted_within_one_batch);
	tcase_add_test(tc, test_full_heads_wait_unread);
	suite_add_tcase(s, tc);
	return s;
}
