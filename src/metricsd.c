/*
 * metricsd.c: the metrics endpoint's thread (see metricsd.h).
 *
 * Owns its listening socket and, one at a time, the scraper's socket. The
 * loop waits in poll() with a short timeout so that a stop is seen
 * promptly, like acceptor.c. Each connection carries one request: the head
 * is read within METRICSD_DEADLINE_MS and METRICSD_HEAD_MAX bytes, then
 * answered (200, 400, 404 or 405) with Connection: close. Error answers
 * never echo the request.
 *
 * Must not use the worker pool or anything that waits without a bound.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "metricsd.h"

#define METRICSD_POLL_MS	250
#define METRICSD_PAUSE_MS	100
/* The exposition's buffer: its first size, and the most it may grow to. */
#define METRICSD_BODY_FIRST	((size_t)64 * 1024)
#define METRICSD_BODY_MAX	((size_t)16 * 1024 * 1024)

int
metricsd_listen(const struct sockaddr *addr, socklen_t len, const char *name,
    char *err, size_t errlen)
{
	int fd, one = 1, zero = 0, saved;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "cannot listen on %s for [metrics]: "
		    "socket: %s", name, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "*:port" is [::] and should take IPv4 scrapers too (acceptor.c). */
	if (addr->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(fd, addr, len) == -1 || listen(fd, 16) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot listen on %s for [metrics]: %s",
		    name, strerror(saved));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send a whole short answer (status line, fields, body) and give up. */
static void
metricsd_send_status(int fd, const char *status, const char *extra)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n%s"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n", status,
	    extra, strlen(status) + 1, status);
	if (n > 0 && (size_t)n < sizeof(head))
		(void)io_send_all(fd, head, (size_t)n, METRICSD_DEADLINE_MS);
}

/*
 * The exposition in a heap buffer (the caller frees *out), growing it
 * until metrics_format() fits. Returns its length, 0 if out of memory or
 * over METRICSD_BODY_MAX.
 */
static size_t
metricsd_render(char **out)
{
	size_t cap, len = 0;
	char *buf = NULL, *bigger;

	for (cap = METRICSD_BODY_FIRST; cap <= METRICSD_BODY_MAX; cap *= 2) {
		bigger = realloc(buf, cap);
		if (bigger == NULL)
			break;
		buf = bigger;
		len = metrics_format(buf, cap);
		if (len > 0)
			break;
	}
	if (len == 0) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	return len;
}

/* Answer a GET (with the body) or a HEAD (without) for /metrics. */
static void
metricsd_send_metrics(int fd, bool with_body)
{
	char head[256], *body = NULL;
	size_t len;
	int n;

	len = metricsd_render(&body);
	if (len == 0) {
		log_msg(LOGL_ERROR, "metrics: out of memory for a scrape");
		metricsd_send_status(fd, "500 Internal Server Error", "");
		return;
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
	if (n > 0 && (size_t)n < sizeof(head) &&
	    io_send_all(fd, head, (size_t)n, METRICSD_DEADLINE_MS) == 0 &&
	    with_body)
		(void)io_send_all(fd, body, len, METRICSD_DEADLINE_MS);
	free(body);
}

/*
 * Read a request head into buf[0..cap) within the deadline. Returns its
 * length (through the blank line), 0 if the peer left or went quiet, or
 * -1 if no head ended within cap bytes.
 */
static ssize_t
metricsd_read_head(int fd, char *buf, size_t cap)
{
	uint64_t deadline = io_now_ms() + METRICSD_DEADLINE_MS;
	size_t len = 0;
	ssize_t n;
	char *end;

	while (len < cap - 1) {
		n = io_recv(fd, buf + len, cap - 1 - len,
		    io_ms_left(deadline));
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			return end + 4 - buf;
		if ((end = strstr(buf, "\n\n")) != NULL)
			return end + 2 - buf;
	}
	return -1;
}

/* True if target is the path /metrics, with or without a query. */
static bool
metricsd_is_metrics(const char *target, size_t len)
{
	return len >= 8 && memcmp(target, "/metrics", 8) == 0 &&
	    (len == 8 || target[8] == '?');
}

/*
 * Judge the request line at head (NUL-terminated) and answer it: "METHOD
 * SP TARGET SP HTTP/1.x" (RFC 9112 §3), else 400.
 */
static void
metricsd_answer(int fd, const char *head)
{
	size_t mlen = strcspn(head, " \r\n"), tlen;
	const char *target, *version;

	target = head + mlen;
	if (mlen == 0 || *target != ' ')
		goto bad;
	target++;
	tlen = strcspn(target, " \r\n");
	version = target + tlen;
	if (tlen == 0 || *version != ' ' ||
	    (strncmp(version + 1, "HTTP/1.1", 8) != 0 &&
	    strncmp(version + 1, "HTTP/1.0", 8) != 0) ||
	    strchr("\r\n", version[9]) == NULL || version[9] == '\0')
		goto bad;
	if (!(mlen == 3 && memcmp(head, "GET", 3) == 0) &&
	    !(mlen == 4 && memcmp(head, "HEAD", 4) == 0)) {
		metricsd_send_status(fd, "405 Method Not Allowed",
		    "Allow: GET, HEAD\r\n");
		return;
	}
	if (!metricsd_is_metrics(target, tlen)) {
		metricsd_send_status(fd, "404 Not Found", "");
		return;
	}
	metricsd_send_metrics(fd, head[0] == 'G');
	return;
bad:
	metricsd_send_status(fd, "400 Bad Request", "");
}

/*
 * A scraper not in [metrics] allow: closed without an answer, but logged
 * at warn with its address and counted, as every other refusal is, so an
 * admin sees a Prometheus server that was left out of the list.
 */
static void
metricsd_refuse(const struct sockaddr_storage *peer)
{
	char ip[ADDR_TEXT_MAX];

	addr_text((const struct sockaddr *)peer, ip, sizeof(ip));
	log_msg(LOGL_WARN, "metrics: %s is not in [metrics] allow: closed",
	    ip);
	metrics_refused(METRICS_REFUSED_SCRAPER);
}

/* Serve one accepted scraper on fd (blocking; every wait bounded). */
static void
metricsd_serve(struct metricsd *m, int fd,
    const struct sockaddr_storage *peer)
{
	char head[METRICSD_HEAD_MAX + 1];
	ssize_t n;

	if (!acl_allows(m->allow, (const struct sockaddr *)peer)) {
		metricsd_refuse(peer);
		return;
	}
	n = metricsd_read_head(fd, head, sizeof(head));
	if (n == -1)
		metricsd_send_status(fd, "400 Bad Request", "");
	else if (n > 0)
		metricsd_answer(fd, head);
}

static void *
metricsd_loop(void *arg)
{
	struct metricsd *m = arg;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;

	while (!atomic_load(&m->stop)) {
		if (io_wait(m->lfd, POLLIN, METRICSD_POLL_MS) == -1)
			continue;
		len = sizeof(peer);
		fd = accept4(m->lfd, (struct sockaddr *)&peer, &len,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			log_msg(LOGL_WARN, "metrics: accept: %s",
			    strerror(errno));
			io_pause_ms(METRICSD_PAUSE_MS);
			continue;
		}
		metricsd_serve(m, fd, &peer);
		io_close(&fd);
	}
	return NULL;
}

int
metricsd_start(struct metricsd *m, int lfd, const struct acl *allow,
    char *err, size_t errlen)
{
	int rc;

	m->lfd = lfd;
	m->allow = allow;
	atomic_init(&m->stop, false);
	rc = pthread_create(&m->thread, NULL, metricsd_loop, m);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the metrics thread: %s",
		    strerror(rc));
		return -1;
	}
	return 0;
}

void
metricsd_stop(struct metricsd *m)
{
	atomic_store(&m->stop, true);
	pthread_join(m->thread, NULL);
	io_close(&m->lfd);
}
