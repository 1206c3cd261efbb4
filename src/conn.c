/*
 * conn.c: a client connection's state and shared services (see conn.h).
 *
 * Closing after an error page is "lingering": ferry stops writing, then
 * drains what the client still sends for a moment, because closing a
 * socket with unread input makes the kernel send RST, which can destroy
 * the error page before the client reads it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "conn.h"
#include "destpat.h"
#include "errpage.h"
#include "hop.h"
#include "io.h"
#include "metrics.h"
#include "policy.h"
#include "reuse.h"
#include "upstream.h"

/* The relay buffer: big enough for throughput, and for a rewritten head. */
#define CONN_RELAY_MIN		((size_t)64 * 1024)
/* Room the rewritten head may need beyond the received one. */
#define CONN_REWRITE_SLACK	1024
/* Lingering close: how long and how much to drain. */
#define CONN_LINGER_MS		1000
#define CONN_LINGER_BYTES	((size_t)256 * 1024)

const struct ferry_config *
conn_rules(const struct conn *c)
{
	return c->newer != NULL ? c->newer : c->cfg;
}

void
conn_refresh_rules(struct conn *c)
{
	const struct ferry_config *live;

	if (conn_rules(c)->generation == config_live_generation() ||
	    (live = config_acquire()) == NULL)
		return;
	config_release(c->newer);
	c->newer = live;
	c->allowed = acl_allows(&live->whitelist,
	    (const struct sockaddr *)&c->peer);
	trace_stage(&c->trace, "a reload made new rules live: this request "
	    "is checked against them (whitelist %s)", c->allowed ?
	    "allows" : "refuses");
}

int
conn_client_timeout_ms(const struct conn *c)
{
	return (int)c->cfg->idle_timeout * 1000;
}

int
conn_upstream_timeout_ms(const struct conn *c)
{
	return (int)c->cfg->io_timeout * 1000;
}

int
conn_send_client(struct conn *c, const char *buf, size_t len)
{
	if (io_send_all(c->client_fd, buf, len,
	    conn_client_timeout_ms(c)) == -1) {
		c->x.err = errno;
		return -1;
	}
	c->x.bytes_out += len;
	return 0;
}

bool
conn_body_in_hand(const struct conn *c)
{
	const struct framing *fr = &c->x.req.framing;

	return fr->kind == BODY_NONE || (fr->kind == BODY_LENGTH &&
	    fr->length <= c->req_len - c->x.req.head_len);
}

/* Send the error page for status, saying what *o says of the connection. */
static void
conn_send_page(struct conn *c, int status, const char *detail,
    const struct errpage_opts *o)
{
	char page[2048];
	size_t len;

	c->x.head_sent = true;
	len = errpage_format_opts(status, detail, c->x.req_parsed &&
	    c->x.req.is_head, o, time(NULL), page, sizeof(page));
	if (len == 0 || conn_send_client(c, page, len) == -1)
		c->x.keep = false;
}

void
conn_fail(struct conn *c, int status, const char *detail)
{
	struct errpage_opts o = { ERRPAGE_CLOSE, NULL };

	if (c->x.status == 0)
		c->x.status = status;
	c->x.keep = false;
	trace_stage(&c->trace, "failed with %d%s%s%s", status,
	    c->x.head_sent ? " after the response head went out" : "",
	    c->x.why[0] ? ": " : "", c->x.why);
	if (c->x.head_sent)
		return;
	c->x.linger = true;
	conn_send_page(c, status, detail, &o);
}

void
conn_refuse(struct conn *c, int status, const char *detail,
    const char *fields)
{
	struct errpage_opts o = { ERRPAGE_CLOSE, fields };

	if (c->x.head_sent) {
		conn_fail(c, status, detail);
		return;
	}
	if (c->x.status == 0)
		c->x.status = status;
	if (c->x.keep && conn_body_in_hand(c)) {
		if (c->x.req.framing.kind == BODY_LENGTH)
			c->x.body_used = (size_t)c->x.req.framing.length;
		o.conn = c->x.req.minor == 0 ? ERRPAGE_KEEP_ALIVE :
		    ERRPAGE_KEEP;
	} else {
		c->x.keep = false;
		c->x.linger = true;	/* a body may be on its way */
	}
	trace_stage(&c->trace, "refused with %d%s: %s", status, c->x.keep ?
	    " (the connection stays open)" : "", c->x.why);
	conn_send_page(c, status, detail, &o);
}

const char *
conn_denied_detail(const struct conn *c, char *buf, size_t cap)
{
	const struct uri *u = &c->x.req.uri;

	snprintf(buf, cap, "The proxy's rules do not allow requests to %.*s "
	    "port %u.", (int)u->host_len, u->host, (unsigned)u->port);
	return buf;
}

/* The origin's address as "ip:port" or "[ip6]:port" in name, "" if none. */
static void
conn_upstream_name(struct conn *c)
{
	struct sockaddr_storage *ss = &c->x.upstream_addr;
	socklen_t len = sizeof(*ss);

	c->x.upstream_name[0] = '\0';
	if (getpeername(c->upstream_fd, (struct sockaddr *)ss, &len) == 0)
		addr_text_port((const struct sockaddr *)ss,
		    c->x.upstream_name, sizeof(c->x.upstream_name));
	else
		ss->ss_family = AF_UNSPEC;
}

/*
 * Take an idle kept connection to the request's origin, if there is one
 * and the policy still allows its address: the rules may have changed by
 * reload since it was made. Returns true with c->upstream_fd set.
 */
static bool
conn_take_kept(struct conn *c)
{
	const struct uri *u = &c->x.req.uri;
	struct sockaddr_storage *ss = &c->x.upstream_addr;
	char why[256] = "its address is unknown";

	/* The address comes from reuse.c: no getpeername() per request. */
	c->upstream_fd = reuse_take(u->host, u->host_len, u->port,
	    c->x.upstream_name, sizeof(c->x.upstream_name), ss);
	if (c->upstream_fd == -1)
		return false;
	if (ss->ss_family == AF_UNSPEC ||
	    policy_addr_verdict(&conn_rules(c)->policy, &c->x.dest_name,
	    (const struct sockaddr *)ss, why, sizeof(why)) != POLICY_ALLOW) {
		trace_stage(&c->trace, "origin: not reusing the idle "
		    "connection to %s: %s", c->x.upstream_name, why);
		io_close(&c->upstream_fd);
		return false;
	}
	trace_stage(&c->trace, "origin: reusing an idle connection to %s",
	    c->x.upstream_name);
	metrics_add(METRICS_UPSTREAM_REUSES, 1);
	return true;
}

/* "NAME@ip:port" of the parent connection in c->x.upstream_name. */
static void
conn_parent_name(struct conn *c)
{
	char addr[ADDR_TEXT_MAX];
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);

	addr[0] = '\0';
	if (getpeername(c->upstream_fd, (struct sockaddr *)&ss, &len) == 0)
		addr_text_port((const struct sockaddr *)&ss, addr,
		    sizeof(addr));
	snprintf(c->x.upstream_name, sizeof(c->x.upstream_name), "%s@%s",
	    c->x.route.parent->name, addr[0] != '\0' ? addr : "?");
}

bool
conn_to_http_parent(const struct conn *c)
{
	return c->x.parent_addr != NULL && !c->x.req.is_connect &&
	    c->x.parent_addr->kind == PARENT_HTTP;
}

/*
 * The access rules for a destination a parent will reach: its name
 * alone, and an IP literal's address, guard included, since that much
 * ferry can see. Returns 0, or -1 after answering 403.
 */
static int
conn_parent_allowed(struct conn *c)
{
	const struct policy *p = &conn_rules(c)->policy;
	const struct uri *u = &c->x.req.uri;
	char detail[URI_HOST_MAX + 96], why[ADDR_TEXT_MAX + DESTPAT_TEXT_MAX +
	    96];
	struct sockaddr_storage ss;
	enum policy_verdict v = POLICY_DENY_RULE;
	bool literal = addr_from_literal(u->host, u->host_len, u->port, &ss);

	/*
	 * why is cut to fit x.why: the rule's text comes last in it. A
	 * literal's address is in hand, so address rules may allow it, as
	 * on a direct route; a name is judged by its name alone.
	 */
	if (literal ? policy_name_refused(p, &c->x.dest_name, why,
	    sizeof(why)) : !policy_name_allows_alone(p, &c->x.dest_name, why,
	    sizeof(why)))
		snprintf(c->x.why, sizeof(c->x.why), "destination refused%s%.340s",
		    why[0] == ':' ? "" : " ", why);
	else if (literal && (v = policy_addr_verdict(p, &c->x.dest_name,
	    (const struct sockaddr *)&ss, why, sizeof(why))) != POLICY_ALLOW)
		snprintf(c->x.why, sizeof(c->x.why), "destination refused: "
		    "%.340s", why);
	else
		return 0;
	metrics_refused(v == POLICY_DENY_INTERNAL ? METRICS_REFUSED_INTERNAL :
	    METRICS_REFUSED_DESTINATION);
	conn_refuse(c, 403, conn_denied_detail(c, detail, sizeof(detail)),
	    NULL);
	return -1;
}

/*
 * An idle kept connection to the parent's first address that is up (an
 * HTTP parent's, for a plain request): keyed by the address's URL, which
 * no origin's name can equal. Returns true with c->upstream_fd set.
 */
static bool
conn_take_kept_parent(struct conn *c)
{
	struct parent *p = c->x.route.parent;
	struct parent_addr *a = NULL;
	size_t i;

	for (i = 0; i < p->naddrs && a == NULL; i++)
		if (parent_addr_up(&p->addr[i], io_now_ms()))
			a = &p->addr[i];
	if (a == NULL || a->kind != PARENT_HTTP || c->x.req.is_connect)
		return false;
	c->upstream_fd = reuse_take(a->text, strlen(a->text), a->port,
	    c->x.upstream_name, sizeof(c->x.upstream_name), NULL);
	if (c->upstream_fd == -1)
		return false;
	c->x.parent_addr = a;
	trace_stage(&c->trace, "parent %s: reusing an idle connection to %s",
	    p->name, c->x.upstream_name);
	metrics_add(METRICS_UPSTREAM_REUSES, 1);
	return true;
}

/* Answer a hop that failed (hop.h) with its status and page. */
static void
conn_hop_failed(struct conn *c, enum hop_result r, const struct hop *h)
{
	char detail[PARENT_NAME_MAX + URI_HOST_MAX + 128];
	const char *name = c->x.route.parent->name;
	const struct uri *u = &c->x.req.uri;
	int status = 502;

	switch (r) {
	case HOP_CREDENTIALS:
		snprintf(detail, sizeof(detail), "The parent proxy %s refused "
		    "this proxy's credentials.", name);
		break;
	case HOP_REFUSED:
		snprintf(detail, sizeof(detail), "The parent proxy %s refused "
		    "to reach %.*s port %u (it answered %d).", name,
		    (int)u->host_len, u->host, (unsigned)u->port, h->status);
		/* A loop of parents stays a loop all the way back. */
		if (h->status == 508) {
			status = 508;
			snprintf(detail, sizeof(detail), "The request looped "
			    "back through the parent proxy %s (it answered "
			    "508).", name);
		}
		break;
	case HOP_TIMEDOUT:
		status = 504;
		snprintf(detail, sizeof(detail), "The parent proxy %s did not "
		    "reach %.*s port %u in time.", name, (int)u->host_len,
		    u->host, (unsigned)u->port);
		break;
	case HOP_TOO_LARGE:
		status = 431;
		snprintf(detail, sizeof(detail), "The request head is too "
		    "large to forward.");
		break;
	case HOP_LOOP:
		status = 508;
		snprintf(detail, sizeof(detail), "The parent proxy %s is this "
		    "proxy itself; forwarding would loop.", name);
		break;
	default:
		snprintf(detail, sizeof(detail), "No parent proxy is "
		    "available: every address of the parent proxy %s is down "
		    "or failed.", name);
		break;
	}
	conn_fail(c, status, detail);
}

/* conn_connect_upstream() through the parent of c->x.route. */
static int
conn_connect_parent(struct conn *c, bool reuse)
{
	struct hop h = { .parent = c->x.route.parent, .dest = &c->x.req.uri,
	    .tunnel = c->x.req.is_connect, .fields_in = c->x.req.fields,
	    .nfields_in = c->x.req.nfields, .cfg = c->cfg,
	    .table = &conn_rules(c)->routes, .trace = &c->trace,
	    .buf = c->resp_buf, .cap = c->resp_cap, .fields = c->resp_fields };
	enum hop_result r;

	if (conn_parent_allowed(c) == -1)
		return -1;
	if (reuse && conn_take_kept_parent(c)) {
		c->x.upstream_reused = true;
		return 0;
	}
	r = hop_open(&h, c->x.why, sizeof(c->x.why));
	if (r != HOP_OK) {
		if (h.addr != NULL)
			c->x.parent_addr = h.addr;
		conn_hop_failed(c, r, &h);
		return -1;
	}
	c->upstream_fd = h.fd;
	c->x.parent_addr = h.addr;
	c->x.resp_len = h.extra;
	conn_parent_name(c);
	trace_stage(&c->trace, "parent %s: connected to %s (%s)%s",
	    h.parent->name, h.addr->text, c->x.upstream_name,
	    h.addr->kind == PARENT_SOCKS5 ? ", SOCKS5 handshake done" :
	    c->x.req.is_connect ? ", tunnel granted" : "");
	return 0;
}

/* Find the request's route, once an exchange, and trace it. */
static void
conn_route(struct conn *c)
{
	const struct uri *u = &c->x.req.uri;
	char name[PARENT_NAME_MAX + 16];

	route_lookup(&conn_rules(c)->routes, u->host, u->host_len, u->port,
	    &c->x.route);
	c->x.parent_addr = NULL;
	trace_stage(&c->trace, "route: %s (%s%s%s)", route_name(&c->x.route,
	    name, sizeof(name)), c->x.route.rule != NULL ? "rule \"" :
	    "default", c->x.route.rule != NULL ? c->x.route.rule : "",
	    c->x.route.rule != NULL ? "\"" : "");
}

int
conn_connect_upstream(struct conn *c, bool reuse)
{
	const struct uri *u = &c->x.req.uri;
	char detail[URI_HOST_MAX + 96];
	enum upstream_result r;

	c->x.upstream_reused = false;
	conn_route(c);
	if (c->x.route.parent != NULL)
		return conn_connect_parent(c, reuse);
	if (reuse && conn_take_kept(c)) {
		c->x.upstream_reused = true;
		return 0;
	}
	r = upstream_connect(u, &conn_rules(c)->policy, &c->x.dest_name,
	    c->cfg, &c->trace, &c->upstream_fd, c->x.why, sizeof(c->x.why));
	upstream_count(r);
	switch (r) {
	case UPSTREAM_OK:
		conn_upstream_name(c);
		trace_stage(&c->trace, "origin: connected to %s",
		    c->x.upstream_name);
		return 0;
	case UPSTREAM_UNRESOLVED:
		conn_fail(c, 502, "The origin server's name could not be "
		    "resolved.");
		break;
	case UPSTREAM_TIMEDOUT:
		conn_fail(c, 504, "The origin server did not accept the "
		    "connection in time.");
		break;
	case UPSTREAM_LOOP:
		conn_fail(c, 508, "The request is addressed to this proxy "
		    "itself; forwarding it would loop.");
		break;
	case UPSTREAM_DENIED:
	case UPSTREAM_INTERNAL:
		metrics_refused(r == UPSTREAM_INTERNAL ?
		    METRICS_REFUSED_INTERNAL : METRICS_REFUSED_DESTINATION);
		conn_refuse(c, 403, conn_denied_detail(c, detail,
		    sizeof(detail)), NULL);
		break;
	case UPSTREAM_FAILED:
		conn_fail(c, 502, "The proxy could not connect to the origin "
		    "server: the connection was refused or the host is "
		    "unreachable.");
		break;
	}
	return -1;
}

void
conn_new_exchange(struct conn *c)
{
	c->x = (struct exchange){ 0 };
	c->x.start_ms = io_now_ms();
	c->x.start_time = time(NULL);
}

int
conn_init(struct conn *c, struct admit_job *job)
{
	const struct ferry_config *cfg = job->cfg;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->client_fd = job->fd;
	c->upstream_fd = -1;
	c->allowed = job->allowed;
	c->peer = job->peer;
	c->trace = job->trace;
	splice_pipe_init(&c->pipe);
	conn_new_exchange(c);
	addr_text((const struct sockaddr *)&c->peer, c->client_ip,
	    sizeof(c->client_ip));
	c->req_cap = cfg->max_header_bytes;
	c->resp_cap = cfg->max_header_bytes;
	c->work_cap = c->req_cap + CONN_REWRITE_SLACK;
	if (c->work_cap < CONN_RELAY_MIN)
		c->work_cap = CONN_RELAY_MIN;
	/*
	 * The head the watcher gathered, in a buffer of this very config's
	 * max_header_bytes (the job carries the config it was gathered by):
	 * taken over, not copied.
	 */
	c->req_buf = job->head;
	c->req_len = job->head_len;
	job->head = NULL;
	if (c->req_buf == NULL)
		c->req_buf = malloc(c->req_cap);
	c->resp_buf = malloc(c->resp_cap);
	c->work = malloc(c->work_cap);
	c->req_fields = calloc(cfg->max_headers, sizeof(struct http_field));
	c->resp_fields = calloc(cfg->max_headers, sizeof(struct http_field));
	if (c->req_buf == NULL || c->resp_buf == NULL || c->work == NULL ||
	    c->req_fields == NULL || c->resp_fields == NULL)
		return -1;
	c->x.bytes_in = c->req_len;
	return 0;
}

/*
 * Close gently: stop writing, drain the client briefly, close. After an
 * error page the client may still be sending a body we never read, so
 * drain always; after a full exchange only if input is already waiting.
 * A client that stalled mid-response is reset instead: the bytes still
 * queued for it are of no use cut short, and would keep kernel memory
 * for as long as it reads at its pace.
 */
static void
conn_linger_close(struct conn *c)
{
	uint64_t deadline = io_now_ms() + CONN_LINGER_MS;
	struct linger reset = { 1, 0 };
	size_t drained = 0;
	char buf[4096];
	ssize_t n;

	if (c->x.stalled) {
		(void)setsockopt(c->client_fd, SOL_SOCKET, SO_LINGER, &reset,
		    sizeof(reset));
		io_close(&c->client_fd);
		return;
	}
	if (!c->x.linger && io_peek(c->client_fd) != IO_PEEK_DATA) {
		io_close(&c->client_fd);
		return;
	}
	if (shutdown(c->client_fd, SHUT_WR) == 0) {
		while (drained < CONN_LINGER_BYTES) {
			int left = io_ms_left(deadline);

			if (left == 0)
				break;
			n = io_recv(c->client_fd, buf, sizeof(buf), left);
			if (n <= 0)
				break;
			drained += (size_t)n;
		}
	}
	io_close(&c->client_fd);
}

void
conn_finish(struct conn *c)
{
	io_close(&c->upstream_fd);
	if (c->client_fd >= 0)
		conn_linger_close(c);
	splice_pipe_close(&c->pipe);
	free(c->carry);
	free(c->req_buf);
	free(c->resp_buf);
	free(c->work);
	free(c->req_fields);
	free(c->resp_fields);
	config_release(c->newer);
	c->newer = NULL;
}
