/*
 * check_reuse.c: the pool of idle upstream connections (reuse.c).
 *
 * Each pooled socket is one end of a real loopback connection; the test
 * keeps the other end, the origin's. That end tells what the pool did
 * without trusting fd numbers, which the kernel reuses: a connection
 * handed back by reuse_take() is the one whose origin end the test holds
 * (loopback_joined), and one the pool closed shows as EOF at the origin.
 * The address text kept with each connection is checked once, on its own.
 * The pool is global: every test empties it before it ends.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"
#include "suites.h"
#include "reuse.h"

/* How long an origin end waits to see a close that should have come. */
#define CLOSED_MS	1000
/* How long it waits for one that must not come (a quiet socket). */
#define OPEN_MS		20

#define HOST(s)		(s), strlen(s)

/* One pooled connection: ferry's end and the origin's. */
struct conn {
	int	near;
	int	far;
};

static struct ferry_config *
config(unsigned per_host, unsigned max, unsigned timeout)
{
	static struct ferry_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.keepalive_per_host = per_host;
	cfg.keepalive_max = max;
	cfg.keepalive_timeout = timeout;
	return &cfg;
}

static struct ferry_config *
defaults(void)
{
	return config(8, 256, 30);
}

/* Open a connection and give ferry's end to the pool. */
static void
put(struct conn *c, const char *host, size_t len, uint16_t port,
    const struct ferry_config *cfg)
{
	loopback_pair(&c->near, &c->far);
	reuse_put(c->near, host, len, port, NULL, NULL, cfg);
}

/* Take for host:port and check the fd is c's connection; keeps it. */
static void
take_is(const struct conn *c, const char *host, size_t len, uint16_t port)
{
	int fd;

	fd = reuse_take(host, len, port, NULL, 0, NULL);
	ck_assert_msg(fd >= 0, "take %.*s:%u: none", (int)len, host,
	    (unsigned)port);
	ck_assert_msg(loopback_joined(fd, c->far), "take %.*s:%u: another "
	    "connection", (int)len, host, (unsigned)port);
	close(fd);
}

/* The pool closed c: its origin end sees the close. */
static void
assert_closed(const struct conn *c, const char *what)
{
	ck_assert_msg(loopback_closed(c->far, CLOSED_MS), "%s: still open",
	    what);
}

/* The pool still holds c open. */
static void
assert_open(const struct conn *c, const char *what)
{
	ck_assert_msg(!loopback_closed(c->far, OPEN_MS), "%s: closed", what);
}

/* Wait until c's end in the pool can see what its origin end did. */
static void
wait_near(const struct conn *c)
{
	struct pollfd pfd = { c->near, POLLIN, 0 };

	ck_assert_int_eq(poll(&pfd, 1, CLOSED_MS), 1);
}

static void
done(struct conn *c, size_t n)
{
	reuse_clear();
	ck_assert_uint_eq(reuse_count(), 0);
	while (n > 0)
		close(c[--n].far);
}

START_TEST(test_put_take)
{
	struct conn c;

	put(&c, HOST("example.com"), 80, defaults());
	ck_assert_uint_eq(reuse_count(), 1);
	take_is(&c, HOST("example.com"), 80);
	ck_assert_uint_eq(reuse_count(), 0);
	ck_assert_int_eq(reuse_take(HOST("example.com"), 80, NULL, 0, NULL), -1);
	done(&c, 1);
}
END_TEST

/* REUSE_NAME_MAX - 1 bytes, then 5 more. */
#define NAME95	"parent-name-padding-to-the-limit@" \
    "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535-padding-xxxxxxx"
#define NAME100	NAME95 "abcde"

/*
 * The address text kept with a connection comes back with it, cut to
 * what the pool keeps and to the caller's cap, and never written past
 * that cap.
 */
static const struct {
	const char	*name;
	size_t		 cap;
	const char	*want;	/* NULL: the buffer is left alone */
} names[] = {
	{ "192.0.2.7:80", 64, "192.0.2.7:80" },
	{ NAME95, 64,
	    "parent-name-padding-to-the-limit@[2001:db8:1234:5678:9abc:def0:" },
	{ "[2001:db8::1]:8080", 64, "[2001:db8::1]:8080" },
	{ NULL, 64, "" },
	{ "", 64, "" },
	{ "192.0.2.7:80", 5, "192." },
	{ "192.0.2.7:80", 1, "" },
	{ "192.0.2.7:80", 0, NULL },
	{ NAME95, 128, NAME95 },
	{ NAME100, 128, NAME95 },
	{ NAME100, REUSE_NAME_MAX, NAME95 },
};

START_TEST(test_name)
{
	char buf[128];
	struct conn c, other;
	struct sockaddr_storage addr, got;
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
	size_t i, cap = names[_i].cap;
	int fd;

	memset(&addr, 0, sizeof(addr));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(80);
	sin->sin_addr.s_addr = htonl(0xc0000207);	/* 192.0.2.7 */
	loopback_pair(&c.near, &c.far);
	reuse_put(c.near, HOST("a.test"), 80, names[_i].name, &addr,
	    defaults());
	/* Newer, same key, another name, no address: they must not mix. */
	loopback_pair(&other.near, &other.far);
	reuse_put(other.near, HOST("a.test"), 80, "198.51.100.1:80", NULL,
	    defaults());
	fd = reuse_take(HOST("a.test"), 80, NULL, 0, &got);
	ck_assert(fd >= 0 && loopback_joined(fd, other.far));
	ck_assert_int_eq(got.ss_family, AF_UNSPEC);
	close(fd);
	memset(buf, '#', sizeof(buf));
	fd = reuse_take(HOST("a.test"), 80, buf, cap, &got);
	ck_assert_msg(fd >= 0 && loopback_joined(fd, c.far), "row %d: not "
	    "found", _i);
	ck_assert(memcmp(&got, &addr, sizeof(addr)) == 0);
	close(fd);
	if (names[_i].want != NULL)
		ck_assert_str_eq(buf, names[_i].want);
	else
		cap = 0;
	for (i = cap; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == '#', "cap %zu: byte %zu written",
		    names[_i].cap, i);
	done(&c, 1);
	done(&other, 1);
}
END_TEST

/* Keys put as "Example.COM":8080, looked for as each of these. */
static const struct {
	const char	*host;
	size_t		 len;	/* 0: strlen */
	uint16_t	 port;
	bool		 hit;
} keys[] = {
	{ "Example.COM", 0, 8080, true },
	{ "example.com", 0, 8080, true },
	{ "EXAMPLE.COM", 0, 8080, true },
	{ "eXaMpLe.CoM", 0, 8080, true },
	{ "example.com:8080", 11, 8080, true },	/* the length, not NUL */
	{ "example.com", 0, 80, false },
	{ "example.com", 0, 8081, false },
	{ "example.com", 0, 0, false },
	{ "example.org", 0, 8080, false },
	{ "example.co", 0, 8080, false },
	{ "example.com.", 0, 8080, false },
	{ "xample.com", 0, 8080, false },
	{ "example.com", 10, 8080, false },
	{ "", 0, 8080, false },
	{ "example-com", 0, 8080, false },
	{ "example.c\xcfm", 0, 8080, false },
};

START_TEST(test_keys)
{
	size_t len = keys[_i].len;
	struct conn c;
	int fd;

	if (len == 0)
		len = strlen(keys[_i].host);
	put(&c, HOST("Example.COM"), 8080, defaults());
	fd = reuse_take(keys[_i].host, len, keys[_i].port, NULL, 0, NULL);
	if (keys[_i].hit) {
		ck_assert_msg(fd >= 0 && loopback_joined(fd, c.far),
		    "%s:%u: not found", keys[_i].host, keys[_i].port);
		ck_assert_uint_eq(reuse_count(), 0);
		close(fd);
	} else {
		ck_assert_msg(fd == -1, "%s:%u: found", keys[_i].host,
		    keys[_i].port);
		/* A miss leaves the entry where it was, open. */
		ck_assert_uint_eq(reuse_count(), 1);
		assert_open(&c, keys[_i].host);
	}
	done(&c, 1);
}
END_TEST

/* The newest connection to a host goes out first. */
START_TEST(test_lifo)
{
	struct conn c[3], other;
	int i;

	for (i = 0; i < 3; i++) {
		put(&c[i], HOST("a.test"), 80, defaults());
		if (i == 1)
			put(&other, HOST("b.test"), 80, defaults());
	}
	for (i = 2; i >= 0; i--)
		take_is(&c[i], HOST("a.test"), 80);
	ck_assert_int_eq(reuse_take(HOST("a.test"), 80, NULL, 0, NULL), -1);
	take_is(&other, HOST("b.test"), 80);
	done(c, 3);
	done(&other, 1);
}
END_TEST

/* One over keepalive_per_host: the host's oldest goes, no other. */
START_TEST(test_per_host)
{
	struct ferry_config *cfg = config(8, 256, 30);
	struct conn c[9], other[2];
	int i;

	put(&other[0], HOST("b.test"), 80, cfg);
	for (i = 0; i < 8; i++)
		put(&c[i], HOST("a.test"), 80, cfg);
	put(&other[1], HOST("a.test"), 81, cfg);
	ck_assert_uint_eq(reuse_count(), 10);
	put(&c[8], HOST("A.TEST"), 80, cfg);
	ck_assert_uint_eq(reuse_count(), 10);
	assert_closed(&c[0], "oldest of the host");
	for (i = 1; i < 9; i++)
		assert_open(&c[i], "newer of the host");
	assert_open(&other[0], "another host");
	assert_open(&other[1], "another port");
	for (i = 8; i >= 1; i--)
		take_is(&c[i], HOST("a.test"), 80);
	ck_assert_int_eq(reuse_take(HOST("a.test"), 80, NULL, 0, NULL), -1);
	done(c, 9);
	done(other, 2);
}
END_TEST

/* One over keepalive_max: the oldest of all goes, whatever its host. */
START_TEST(test_max)
{
	struct ferry_config *cfg = config(8, 4, 30);
	struct conn a[2], b[3];
	int i;

	put(&a[0], HOST("a.test"), 80, cfg);
	put(&a[1], HOST("a.test"), 80, cfg);
	put(&b[0], HOST("b.test"), 80, cfg);
	put(&b[1], HOST("b.test"), 80, cfg);
	ck_assert_uint_eq(reuse_count(), 4);
	put(&b[2], HOST("b.test"), 80, cfg);
	ck_assert_uint_eq(reuse_count(), 4);
	assert_closed(&a[0], "oldest of all");
	assert_open(&a[1], "second oldest");
	for (i = 0; i < 3; i++)
		assert_open(&b[i], "newest host");
	take_is(&a[1], HOST("a.test"), 80);
	ck_assert_int_eq(reuse_take(HOST("a.test"), 80, NULL, 0, NULL), -1);
	done(a, 2);
	done(b, 3);
}
END_TEST

/*
 * A reload lowered the bounds: the next put brings the pool within them
 * at once, not one eviction at a time.
 */
START_TEST(test_lowered_bounds)
{
	struct conn c[7];
	int i;

	for (i = 0; i < 6; i++)
		put(&c[i], HOST("a.test"), 80, defaults());
	ck_assert_uint_eq(reuse_count(), 6);
	put(&c[6], HOST("a.test"), 80, config(2, 256, 30));
	ck_assert_uint_eq(reuse_count(), 2);
	for (i = 0; i < 5; i++)
		assert_closed(&c[i], "over the lowered per-host bound");
	assert_open(&c[5], "newest but one");
	take_is(&c[6], HOST("a.test"), 80);
	done(c, 7);
	for (i = 0; i < 3; i++)
		put(&c[i], HOST("h.test"), (uint16_t)(80 + i), defaults());
	put(&c[3], HOST("h.test"), 90, config(8, 1, 30));
	ck_assert_uint_eq(reuse_count(), 1);
	for (i = 0; i < 3; i++)
		assert_closed(&c[i], "over the lowered total bound");
	take_is(&c[3], HOST("h.test"), 90);
	done(c, 4);
}
END_TEST

/* Reuse off: a bound of 0 closes the connection at once. */
static const struct {
	unsigned	per_host;
	unsigned	max;
} off[] = {
	{ 0, 256 },
	{ 8, 0 },
	{ 0, 0 },
};

START_TEST(test_off)
{
	struct conn c;

	put(&c, HOST("a.test"), 80, config(off[_i].per_host, off[_i].max,
	    30));
	ck_assert_uint_eq(reuse_count(), 0);
	assert_closed(&c, "reuse off");
	ck_assert_int_eq(reuse_take(HOST("a.test"), 80, NULL, 0, NULL), -1);
	done(&c, 1);
}
END_TEST

/* Hosts at and over the key's 255 bytes: the longer is not pooled. */
static const struct {
	size_t	len;
	bool	pooled;
} lengths[] = {
	{ 1, true },
	{ 254, true },
	{ 255, true },
	{ 256, false },
	{ 257, false },
	{ 4096, false },
};

START_TEST(test_long_host)
{
	static char host[4097];
	size_t len = lengths[_i].len;
	struct conn c;

	memset(host, 'h', sizeof(host));
	put(&c, host, len, 80, defaults());
	if (lengths[_i].pooled) {
		ck_assert_uint_eq(reuse_count(), 1);
		/* One byte off either way is another host. */
		ck_assert_int_eq(reuse_take(host, len - 1, 80, NULL, 0, NULL), -1);
		ck_assert_int_eq(reuse_take(host, len + 1, 80, NULL, 0, NULL), -1);
		take_is(&c, host, len, 80);
	} else {
		ck_assert_uint_eq(reuse_count(), 0);
		assert_closed(&c, "host too long");
		ck_assert_int_eq(reuse_take(host, len, 80, NULL, 0, NULL), -1);
	}
	done(&c, 1);
}
END_TEST

/*
 * What the origin did to an idle connection that makes it unusable:
 * closed it, reset it, or sent bytes nobody asked for.
 */
enum origin_act {
	ORIGIN_CLOSE,
	ORIGIN_RESET,
	ORIGIN_SEND
};

static const char *const acts[] = { "close", "reset", "send" };

static void
origin_do(struct conn *c, enum origin_act act)
{
	struct linger lg = { 1, 0 };

	switch (act) {
	case ORIGIN_CLOSE:
		close(c->far);
		c->far = -1;
		break;
	case ORIGIN_RESET:
		ck_assert_int_eq(setsockopt(c->far, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg)), 0);
		close(c->far);
		c->far = -1;
		break;
	case ORIGIN_SEND:
		ck_assert_int_eq(send(c->far, "HTTP/1.1 408 \r\n\r\n", 17, 0),
		    17);
		break;
	}
	wait_near(c);
}

/*
 * take() passes over the dead connection, closes it, and still finds an
 * older live one. The closing is seen on the fd: nothing between the
 * take and the check opens an fd that could reuse its number.
 */
START_TEST(test_take_dead)
{
	struct conn live, dead;
	int fd;

	put(&live, HOST("a.test"), 80, defaults());
	put(&dead, HOST("a.test"), 80, defaults());
	origin_do(&dead, (enum origin_act)_i);
	take_is(&live, HOST("a.test"), 80);
	ck_assert_msg(fcntl(dead.near, F_GETFD) == -1 && errno == EBADF,
	    "%s: dead connection left open", acts[_i]);
	ck_assert_uint_eq(reuse_count(), 0);
	if (dead.far != -1) {
		assert_closed(&dead, acts[_i]);
		close(dead.far);
	}
	put(&dead, HOST("a.test"), 80, defaults());
	origin_do(&dead, (enum origin_act)_i);
	fd = reuse_take(HOST("a.test"), 80, NULL, 0, NULL);
	ck_assert_msg(fd == -1, "%s: dead connection taken", acts[_i]);
	ck_assert_uint_eq(reuse_count(), 0);
	done(&live, 1);
	if (dead.far != -1)
		close(dead.far);
}
END_TEST

/* sweep() drops each dead connection and keeps the live ones. */
START_TEST(test_sweep)
{
	struct conn live[2], dead[NELEM(acts)];
	int i;

	put(&live[0], HOST("a.test"), 80, defaults());
	for (i = 0; i < NELEM(acts); i++)
		put(&dead[i], HOST("a.test"), 80, defaults());
	put(&live[1], HOST("b.test"), 80, defaults());
	for (i = 0; i < NELEM(acts); i++)
		origin_do(&dead[i], (enum origin_act)i);
	ck_assert_uint_eq(reuse_count(), 2 + NELEM(acts));
	reuse_sweep();
	ck_assert_uint_eq(reuse_count(), 2);
	for (i = 0; i < NELEM(acts); i++)
		if (dead[i].far != -1)
			assert_closed(&dead[i], acts[i]);
	reuse_sweep();
	ck_assert_uint_eq(reuse_count(), 2);
	assert_open(&live[0], "live");
	assert_open(&live[1], "live");
	take_is(&live[0], HOST("a.test"), 80);
	take_is(&live[1], HOST("b.test"), 80);
	done(live, 2);
	for (i = 0; i < NELEM(acts); i++)
		if (dead[i].far != -1)
			close(dead[i].far);
}
END_TEST

/*
 * keepalive_timeout is whole seconds, so this one test sleeps. The
 * newest connection to a.test has expired: take() must pass over it (and
 * close it) to the older one that has not. sweep() closes the expired
 * one take() had no reason to meet.
 */
START_TEST(test_expiry)
{
	static const struct timespec nap = { 1, 100 * 1000 * 1000 };
	struct conn stale, live, newest;

	put(&stale, HOST("s.test"), 80, config(8, 256, 1));
	put(&live, HOST("a.test"), 80, config(8, 256, 30));
	put(&newest, HOST("a.test"), 80, config(8, 256, 1));
	ck_assert_uint_eq(reuse_count(), 3);
	ck_assert_int_eq(nanosleep(&nap, NULL), 0);
	take_is(&live, HOST("a.test"), 80);
	assert_closed(&newest, "expired, met by take");
	reuse_sweep();
	ck_assert_uint_eq(reuse_count(), 0);
	assert_closed(&stale, "expired, swept");
	ck_assert_int_eq(reuse_take(HOST("s.test"), 80, NULL, 0, NULL), -1);
	done(&stale, 1);
	done(&live, 1);
	done(&newest, 1);
}
END_TEST

/*
 * Workers share the pool: threads putting and taking their own hosts at
 * once must each get back exactly what they put.
 */
#define RACE_THREADS	4
#define RACE_CONNS	8
#define RACE_ROUNDS	300

struct racer {
	char			 host[16];
	int			 fd[RACE_CONNS];
	const struct ferry_config *cfg;
	int			 bad;	/* takes missed or foreign */
};

static void *
race_run(void *arg)
{
	struct racer *r = arg;
	int round, i, j, fd;
	bool mine;

	for (round = 0; round < RACE_ROUNDS; round++) {
		for (i = 0; i < RACE_CONNS; i++)
			reuse_put(r->fd[i], HOST(r->host), 80, NULL, NULL,
			    r->cfg);
		for (i = 0; i < RACE_CONNS; i++) {
			fd = reuse_take(HOST(r->host), 80, NULL, 0, NULL);
			for (mine = false, j = 0; j < RACE_CONNS; j++)
				mine = mine || fd == r->fd[j];
			if (!mine)
				r->bad++;
		}
		reuse_sweep();
	}
	return NULL;
}

START_TEST(test_threads)
{
	static struct racer r[RACE_THREADS];
	struct conn c[RACE_THREADS][RACE_CONNS];
	pthread_t t[RACE_THREADS];
	int i, j;

	for (i = 0; i < RACE_THREADS; i++) {
		(void)snprintf(r[i].host, sizeof(r[i].host), "h%d.test", i);
		r[i].cfg = defaults();
		r[i].bad = 0;
		for (j = 0; j < RACE_CONNS; j++) {
			loopback_pair(&c[i][j].near, &c[i][j].far);
			r[i].fd[j] = c[i][j].near;
		}
	}
	for (i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_run, &r[i]),
		    0);
	for (i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_uint_eq(reuse_count(), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		ck_assert_msg(r[i].bad == 0, "%s: %d bad takes", r[i].host,
		    r[i].bad);
		for (j = 0; j < RACE_CONNS; j++) {
			assert_open(&c[i][j], r[i].host);
			close(c[i][j].near);
		}
		done(c[i], RACE_CONNS);
	}
}
END_TEST

Suite *
reuse_suite(void)
{
	Suite *s = suite_create("reuse");
	TCase *tc = tcase_create("core");

	/* Real sockets, threads and one sleep: room for a loaded run. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_put_take);
	tcase_add_loop_test(tc, test_name, 0, NELEM(names));
	tcase_add_loop_test(tc, test_keys, 0, NELEM(keys));
	tcase_add_test(tc, test_lifo);
	tcase_add_test(tc, test_per_host);
	tcase_add_test(tc, test_max);
	tcase_add_test(tc, test_lowered_bounds);
	tcase_add_loop_test(tc, test_off, 0, NELEM(off));
	tcase_add_loop_test(tc, test_long_host, 0, NELEM(lengths));
	tcase_add_loop_test(tc, test_take_dead, 0, NELEM(acts));
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}
