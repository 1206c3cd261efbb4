/*
 * upstream.c: getaddrinfo() and connect with timeout and retry (see
 * upstream.h).
 *
 * A connect runs on a non-blocking socket and waits in poll() for at most
 * connect_timeout; the socket stays non-blocking, since io.c and splice.c
 * poll before every wait. getaddrinfo() itself has no timeout knob; it is
 * bounded by the resolver's own settings in /etc/resolv.conf.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "destpat.h"
#include "io.h"
#include "log.h"
#include "loopguard.h"
#include "metrics.h"
#include "upstream.h"
#include "uri.h"

/* Addresses tried per round: a name with hundreds would stall a worker. */
#define UPSTREAM_MAX_ADDRS	8
/* Pause before retry round n is UPSTREAM_BACKOFF_MS << (n - 1), capped. */
#define UPSTREAM_BACKOFF_MS	100
#define UPSTREAM_BACKOFF_MAX_MS	1000

static int
upstream_wait_connect(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t deadline = io_now_ms() + (uint64_t)timeout_ms;
	socklen_t len = sizeof(int);
	int n, err = 0;

	for (;;) {
		uint64_t now = io_now_ms();

		if (now >= deadline)
			return ETIMEDOUT;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			break;
		if (n == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

/* One connect attempt to ai; returns the socket, or -1 with *err set. */
static int
upstream_try(const struct addrinfo *ai, int timeout_ms, int *err)
{
	int fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		*err = 0;
	else if (errno == EINPROGRESS)
		*err = upstream_wait_connect(fd, timeout_ms);
	else
		*err = errno;
	/* The socket stays non-blocking: io.c and splice.c poll first. */
	if (*err != 0) {
		close(fd);
		return -1;
	}
	io_nodelay(fd);
	return fd;
}

/*
 * One round over the n addresses the policy allowed, each attempt a trace
 * stage of who ("origin", "parent"). Returns the socket or -1; on failure
 * *timed_out says whether the last failure was a timeout.
 */
static int
upstream_round(const struct addrinfo *const *ais, size_t n,
    const struct ferry_config *cfg, struct trace *t, const char *who,
    bool *timed_out, char *why, size_t whylen)
{
	const struct addrinfo *ai;
	char addr[ADDR_TEXT_MAX];
	size_t i;
	int fd, err;

	for (i = 0; i < n; i++) {
		ai = ais[i];
		if (trace_on(t)) {
			addr_text_port(ai->ai_addr, addr, sizeof(addr));
			trace_stage(t, "%s: trying %s", who, addr);
		}
		fd = upstream_try(ai, (int)cfg->connect_timeout * 1000, &err);
		if (fd >= 0)
			return fd;
		if (!trace_on(t))	/* else it is written already */
			addr_text_port(ai->ai_addr, addr, sizeof(addr));
		*timed_out = err == ETIMEDOUT;
		if (*timed_out)
			snprintf(why, whylen, "connect to %s timed out after "
			    "%us", addr, cfg->connect_timeout);
		else
			snprintf(why, whylen, "connect to %s: %s", addr,
			    strerror(err));
		log_msg(LOGL_DEBUG, "%s", why);
		trace_stage(t, "%s: %s", who, why);
	}
	return -1;
}

/* Would any of the addresses reach ferry itself? */
static bool
upstream_is_self(const struct addrinfo *res, const struct ferry_config *cfg)
{
	const struct addrinfo *ai;
	int n = 0;

	for (ai = res; ai != NULL && n < UPSTREAM_MAX_ADDRS; ai = ai->ai_next,
	    n++)
		if (loopguard_is_self(ai->ai_addr, cfg))
			return true;
	return false;
}

/*
 * Keep in ais the first UPSTREAM_MAX_ADDRS addresses of res that the
 * policy allows for a destination whose name matched *name; each refused
 * one is a trace stage, and the last refusal is left in why. Returns how
 * many were kept.
 */
static size_t
upstream_allowed(const struct addrinfo *res, const struct dest_match *name,
    const struct policy *p, struct trace *t,
    const struct addrinfo *ais[UPSTREAM_MAX_ADDRS],
    enum policy_verdict *last, char *why, size_t whylen)
{
	const struct addrinfo *ai;
	enum policy_verdict v;
	size_t n = 0, seen = 0;

	for (ai = res; ai != NULL && seen < UPSTREAM_MAX_ADDRS;
	    ai = ai->ai_next, seen++) {
		v = policy_addr_verdict(p, name, ai->ai_addr, why, whylen);
		if (v == POLICY_ALLOW) {
			ais[n++] = ai;
			continue;
		}
		*last = v;
		trace_stage(t, "origin: skipping %s", why);
	}
	return n;
}

void
upstream_count(enum upstream_result r)
{
	static const enum metrics_connect kind[] = {
		[UPSTREAM_OK] = METRICS_CONNECT_OK,
		[UPSTREAM_UNRESOLVED] = METRICS_CONNECT_DNS,
		[UPSTREAM_FAILED] = METRICS_CONNECT_REFUSED,
		[UPSTREAM_TIMEDOUT] = METRICS_CONNECT_TIMEOUT,
		[UPSTREAM_LOOP] = METRICS_CONNECT_LOOP,
		[UPSTREAM_DENIED] = METRICS_CONNECT_DENIED,
		[UPSTREAM_INTERNAL] = METRICS_CONNECT_DENIED,
	};

	metrics_upstream(kind[r]);
}

void
upstream_pause(unsigned round)
{
	unsigned ms;

	if (round == 0)
		return;
	ms = UPSTREAM_BACKOFF_MS << (round - 1);
	io_pause_ms(ms < UPSTREAM_BACKOFF_MAX_MS ? ms :
	    UPSTREAM_BACKOFF_MAX_MS);
}

/*
 * A client's destination name is looked up as written, never through
 * the search list of /etc/resolv.conf: the [destinations] and [routes]
 * rules judged the name the client wrote, and with "search corp.example"
 * the resolver would turn "wiki" into wiki.corp.example, a host that a
 * "deny = .corp.example" was written to keep out. (squid does the same:
 * dns_defnames off.) Names in /etc/hosts are not affected.
 *
 * glibc keeps the resolver's options per thread in _res: each thread
 * clears RES_DEFNAMES and RES_DNSRCH for a client's name and puts them
 * back afterwards (a parent's name, from the admin's config, may rely on
 * the search list). glibc does not reload a state a program changed, so
 * the thread re-reads /etc/resolv.conf itself when the file changes. An
 * IP literal needs none of this: no resolver is asked.
 */
static _Thread_local bool upstream_res_ready;
static _Thread_local struct stat upstream_res_seen; /* when last read */
/*
 * res_init() updates a configuration glibc shares between threads under
 * a lock of its own that ThreadSanitizer cannot see; this one makes the
 * order visible. It is taken once per thread and per change of the file.
 */
static pthread_mutex_t upstream_res_lock = PTHREAD_MUTEX_INITIALIZER;

static void
upstream_res_refresh(void)
{
	struct stat st;

	if (stat(_PATH_RESCONF, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (upstream_res_ready && st.st_ino == upstream_res_seen.st_ino &&
	    st.st_size == upstream_res_seen.st_size &&
	    st.st_mtim.tv_sec == upstream_res_seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == upstream_res_seen.st_mtim.tv_nsec)
		return;
	pthread_mutex_lock(&upstream_res_lock);
	(void)res_init();
	pthread_mutex_unlock(&upstream_res_lock);
	upstream_res_seen = st;
	upstream_res_ready = true;
}

/*
 * getaddrinfo() for name:port, TCP only; as_written: without the search
 * list (a client's name). Returns 0 with *res (the caller frees it), or
 * -1 with the cause in why.
 */
static int
upstream_resolve(const char *name, uint16_t port, bool as_written,
    struct addrinfo **res, char *why, size_t whylen)
{
	const unsigned long search = RES_DEFNAMES | RES_DNSRCH;
	struct sockaddr_storage literal;
	struct addrinfo hints;
	unsigned long saved = 0;
	char serv[8];
	int rc;

	if (as_written && addr_from_literal(name, strlen(name), port, &literal))
		as_written = false;	/* nothing to search for */

	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (as_written) {
		upstream_res_refresh();
		saved = _res.options & search;
		_res.options &= ~search;
	}
	rc = getaddrinfo(name, serv, &hints, res);
	if (as_written)
		_res.options |= saved;
	if (rc == 0)
		return 0;
	snprintf(why, whylen, "cannot resolve %s: %s", name,
	    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	*res = NULL;
	return -1;
}

int
upstream_dial(const char *host, uint16_t port,
    const struct ferry_config *cfg, struct trace *t,
    enum upstream_result *res, char *why, size_t whylen)
{
	const struct addrinfo *ais[UPSTREAM_MAX_ADDRS], *ai;
	struct addrinfo *ai_list = NULL;
	bool timed_out = false;
	size_t n = 0;
	int fd;

	*res = UPSTREAM_UNRESOLVED;
	if (upstream_resolve(host, port, false, &ai_list, why, whylen) == -1)
		return -1;
	*res = UPSTREAM_LOOP;
	if (upstream_is_self(ai_list, cfg)) {
		snprintf(why, whylen, "%s port %u is this proxy's own address",
		    host, (unsigned)port);
		freeaddrinfo(ai_list);
		return -1;
	}
	for (ai = ai_list; ai != NULL && n < UPSTREAM_MAX_ADDRS;
	    ai = ai->ai_next)
		ais[n++] = ai;
	fd = upstream_round(ais, n, cfg, t, "parent", &timed_out, why, whylen);
	freeaddrinfo(ai_list);
	*res = fd >= 0 ? UPSTREAM_OK : timed_out ? UPSTREAM_TIMEDOUT :
	    UPSTREAM_FAILED;
	return fd;
}

enum upstream_result
upstream_connect(const struct uri *u, const struct policy *p,
    const struct dest_match *match, const struct ferry_config *cfg,
    struct trace *t, int *fd, char *why, size_t whylen)
{
	const struct addrinfo *ais[UPSTREAM_MAX_ADDRS];
	struct addrinfo *res = NULL;
	char name[URI_HOST_MAX + 1];
	char refused[ADDR_TEXT_MAX + DESTPAT_TEXT_MAX + 64];
	enum policy_verdict last = POLICY_DENY_RULE;
	bool timed_out = false;
	unsigned round;
	size_t len, n;

	*fd = -1;
	if (u->host_len >= sizeof(name)) {
		snprintf(why, whylen, "host name too long");
		return UPSTREAM_UNRESOLVED;
	}
	memcpy(name, u->host, u->host_len);
	name[u->host_len] = '\0';
	if (upstream_resolve(name, u->port, true, &res, why, whylen) == -1)
		return UPSTREAM_UNRESOLVED;
	if (upstream_is_self(res, cfg)) {
		snprintf(why, whylen, "%s port %u is this proxy's own address",
		    name, (unsigned)u->port);
		freeaddrinfo(res);
		return UPSTREAM_LOOP;
	}
	if ((n = upstream_allowed(res, match, p, t, ais, &last, refused,
	    sizeof(refused))) == 0) {
		snprintf(why, whylen, "no address left: %s", refused);
		freeaddrinfo(res);
		return last == POLICY_DENY_INTERNAL ? UPSTREAM_INTERNAL :
		    UPSTREAM_DENIED;
	}
	for (round = 0; round <= cfg->retries && *fd < 0; round++) {
		upstream_pause(round);
		*fd = upstream_round(ais, n, cfg, t, "origin", &timed_out, why,
		    whylen);
	}
	freeaddrinfo(res);
	if (*fd >= 0)
		return UPSTREAM_OK;
	len = strlen(why);
	snprintf(why + len, whylen - len, " (%u attempt%s)", round,
	    round == 1 ? "" : "s");
	return timed_out ? UPSTREAM_TIMEDOUT : UPSTREAM_FAILED;
}
