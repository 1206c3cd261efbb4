/*
 * hop.c: reaching the destination through a parent proxy (see hop.h).
 *
 * The reply to CONNECT goes through http_parse_response(), the parser
 * that reads origins' answers, with the same bounds (max_header_bytes,
 * max_headers, the whole head within io_timeout): a parent is no more
 * trusted than an origin. It is parsed as the answer to a HEAD would be,
 * since a 2xx to CONNECT has no body (RFC 9110 §9.3.6) and any other
 * answer ends the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hop.h"
#include "io.h"
#include "log.h"
#include "rewrite.h"
#include "route.h"
#include "socks5.h"
#include "upstream.h"

/*
 * How one address's attempt ended. Only a broken connect or handshake
 * says something about the address; the rest ends the request there.
 */
enum hop_try {
	HOP_TRY_OK,
	HOP_TRY_BROKEN,		/* connect or handshake failed: next one */
	HOP_TRY_FINAL,		/* the parent answered no: stop */
	HOP_TRY_SLOW,		/* no answer about the destination in time */
	HOP_TRY_LOCAL,		/* the CONNECT head does not fit: ours */
	HOP_TRY_SELF		/* the parent's address is ferry's own */
};

/*
 * Write "CONNECT host:port" with Host, Via and a's credentials into
 * h->buf (the reply comes there after); its length into *len. False if
 * it does not fit: a client's long Via, which no address would take.
 */
static bool
hop_build_connect(struct hop *h, const struct parent_addr *a, size_t *len)
{
	if (rewrite_connect(h->dest, h->fields_in, h->nfields_in, h->cfg,
	    a->basic, h->buf, h->cap, len) == 0)
		return true;
	explicit_bzero(h->buf, *len);	/* the credentials leave no copy */
	return false;
}

enum http_result
hop_parse_reply(const char *buf, size_t len, const struct http_limits *lim,
    struct http_field *fields, struct http_response *resp, size_t *end)
{
	size_t off = 0;
	enum http_result r;

	for (;;) {
		/* Parsed as the answer to a HEAD: a 2xx has no body. */
		r = http_parse_response(buf + off, len - off, lim, fields,
		    true, resp);
		if (r != HTTP_DONE)
			return r;
		off += resp->head_len;
		if (resp->code >= 200)
			break;
		/* An interim answer: the final one follows. */
	}
	*end = off;
	return HTTP_DONE;
}

/*
 * Read the parent's reply head to CONNECT into h->buf within io_timeout.
 * Returns HOP_TRY_OK with *resp the final answer and *end where it ends
 * in h->buf (*len bytes read), HOP_TRY_SLOW when none came in time, or
 * HOP_TRY_BROKEN (closed, malformed), with why.
 */
static enum hop_try
hop_read_reply(struct hop *h, struct http_response *resp, size_t *len,
    size_t *end, char *why, size_t whylen)
{
	struct http_limits lim = { h->cfg->max_headers, 0 };
	uint64_t deadline = io_now_ms() + h->cfg->io_timeout * 1000ULL;
	bool line_seen = false, parse = false;
	enum http_result r;
	ssize_t n;

	*len = 0;
	for (;;) {
		r = parse ? hop_parse_reply(h->buf, *len, &lim, h->fields,
		    resp, end) : HTTP_PARTIAL;
		if (r == HTTP_DONE)
			return HOP_TRY_OK;
		if (r == HTTP_BAD || *len == h->cap) {
			snprintf(why, whylen, "malformed reply to CONNECT: %s",
			    r == HTTP_BAD ? resp->error : "head too large");
			return HOP_TRY_BROKEN;
		}
		n = io_recv(h->fd, h->buf + *len, h->cap - *len,
		    io_ms_left(deadline));
		if (n < 0 && errno == ETIMEDOUT) {
			/* It took the CONNECT: the destination is slow. */
			snprintf(why, whylen, "no answer to CONNECT within "
			    "io_timeout (%us)", h->cfg->io_timeout);
			return HOP_TRY_SLOW;
		}
		if (n <= 0) {
			snprintf(why, whylen, "%s before a whole reply to "
			    "CONNECT", n == 0 ? "closed" : strerror(errno));
			return HOP_TRY_BROKEN;
		}
		*len += (size_t)n;
		parse = http_head_worth_parsing(h->buf, *len, (size_t)n,
		    h->cap, &line_seen);
	}
}

/* CONNECT through an HTTP parent, on h->fd; the head is in h->buf. */
static enum hop_try
hop_http_connect(struct hop *h, size_t head, char *why, size_t whylen)
{
	struct http_response resp;
	enum hop_try r;
	size_t len, end = 0;
	int sent;

	sent = io_send_all(h->fd, h->buf, head, (int)h->cfg->io_timeout *
	    1000);
	if (sent == -1)
		snprintf(why, whylen, "sending CONNECT: %s", strerror(errno));
	explicit_bzero(h->buf, head);	/* the credentials leave no copy */
	if (sent == -1)
		return HOP_TRY_BROKEN;
	memset(&resp, 0, sizeof(resp));
	if ((r = hop_read_reply(h, &resp, &len, &end, why, whylen)) !=
	    HOP_TRY_OK)
		return r;
	h->status = resp.code;
	if (resp.code < 200 || resp.code > 299) {
		snprintf(why, whylen, "answered %d %.*s to CONNECT", resp.code,
		    (int)(resp.reason_len < 64 ? resp.reason_len : 64),
		    resp.reason);
		return HOP_TRY_FINAL;
	}
	/* The far side may speak first: its bytes are the tunnel's. */
	h->extra = len - end;
	memmove(h->buf, h->buf + end, h->extra);
	return HOP_TRY_OK;
}

/* The SOCKS5 handshake to the destination, on h->fd. */
static enum hop_try
hop_socks5(struct hop *h, const struct parent_addr *a, char *why,
    size_t whylen)
{
	struct socks5_auth auth;
	enum socks5_status st;
	int rep = 0;

	if (a->has_cred) {
		memcpy(auth.user, a->user, a->user_len);
		auth.user_len = a->user_len;
		memcpy(auth.pass, a->pass, a->pass_len);
		auth.pass_len = a->pass_len;
	}
	st = socks5_handshake(h->fd, a->has_cred ? &auth : NULL,
	    h->dest->host, h->dest->host_len, h->dest->port,
	    (int)h->cfg->io_timeout * 1000, &rep, why, whylen);
	explicit_bzero(&auth, sizeof(auth));
	h->status = rep;
	switch (st) {
	case SOCKS5_HS_OK:
		return HOP_TRY_OK;
	case SOCKS5_HS_AUTH:
		h->status = 407;	/* told apart by hop_round() */
		return HOP_TRY_FINAL;
	case SOCKS5_HS_REFUSED:
		return HOP_TRY_FINAL;
	case SOCKS5_HS_TIMEOUT:
		/* Most likely the destination, as for an HTTP parent. */
		return HOP_TRY_SLOW;
	case SOCKS5_HS_INVALID:
		return HOP_TRY_LOCAL;
	default:	/* SILENT, PROTOCOL: the parent itself, next address */
		return HOP_TRY_BROKEN;
	}
}

/* One attempt on address a: connect, then the handshake the hop needs. */
static enum hop_try
hop_attempt(struct hop *h, struct parent_addr *a, char *why, size_t whylen)
{
	enum upstream_result res;
	enum hop_try r = HOP_TRY_OK;
	size_t head = 0;

	trace_stage(h->trace, "parent %s: trying %s", h->parent->name,
	    a->text);
	/* Built first: a head that cannot go out is no address's fault. */
	if (h->tunnel && a->kind == PARENT_HTTP && !hop_build_connect(h, a,
	    &head)) {
		snprintf(why, whylen, "the CONNECT head for the parent does "
		    "not fit in max_header_bytes");
		return HOP_TRY_LOCAL;
	}
	h->fd = upstream_dial(a->host, a->port, h->cfg, h->trace, &res, why,
	    whylen);
	h->dialed = true;
	h->dial = res;
	if (h->fd < 0) {
		explicit_bzero(h->buf, head);
		return res == UPSTREAM_LOOP ? HOP_TRY_SELF : HOP_TRY_BROKEN;
	}
	if (a->kind == PARENT_SOCKS5)
		r = hop_socks5(h, a, why, whylen);
	else if (h->tunnel)
		r = hop_http_connect(h, head, why, whylen);
	if (r != HOP_TRY_OK)
		io_close(&h->fd);
	return r;
}

/* What a final attempt means for the whole hop. */
static enum hop_result
hop_final(const struct hop *h, enum hop_try r)
{
	switch (r) {
	case HOP_TRY_OK:
		return HOP_OK;
	case HOP_TRY_SLOW:
		return HOP_TIMEDOUT;
	case HOP_TRY_LOCAL:
		return HOP_TOO_LARGE;
	case HOP_TRY_SELF:
		return HOP_LOOP;
	default:
		return h->status == 407 ? HOP_CREDENTIALS : HOP_REFUSED;
	}
}

/*
 * One round over the addresses that are up. Returns HOP_OK, a final
 * outcome, HOP_FAILED, or HOP_NONE_UP when every address was down.
 */
static enum hop_result
hop_round(struct hop *h, char *why, size_t whylen)
{
	struct parent *p = h->parent;
	const struct route_table *t = h->table;
	struct parent_addr *a;
	enum hop_try r;
	bool tried = false, probe;
	size_t i;

	for (i = 0; i < p->naddrs; i++) {
		a = &p->addr[i];
		if (!parent_addr_claim(a, io_now_ms(), t->retry_after, &probe)) {
			trace_stage(h->trace, "parent %s: skipping %s: down",
			    p->name, a->text);
			continue;
		}
		tried = true;
		r = hop_attempt(h, a, why, whylen);
		if (r != HOP_TRY_BROKEN) {
			/* It answered (or we stopped): no failure of its. */
			if (r == HOP_TRY_OK || r == HOP_TRY_FINAL)
				parent_addr_ok(a, p->name);
			else if (probe)
				parent_addr_release(a);
			h->addr = a;
			return hop_final(h, r);
		}
		log_msg(LOGL_DEBUG, "parent %s: %s: %s", p->name, a->text, why);
		trace_stage(h->trace, "parent %s: %s: %s", p->name, a->text,
		    why);
		parent_addr_failed(a, p->name, t->down_after, t->retry_after);
	}
	return tried ? HOP_FAILED : HOP_NONE_UP;
}

enum hop_result
hop_open(struct hop *h, char *why, size_t whylen)
{
	enum hop_result r = HOP_FAILED;
	unsigned round;
	size_t len;

	h->fd = -1;
	h->addr = NULL;
	h->status = 0;
	h->extra = 0;
	h->dialed = false;
	why[0] = '\0';
	for (round = 0; round <= h->cfg->retries; round++) {
		upstream_pause(round);
		r = hop_round(h, why, whylen);
		if (r != HOP_FAILED)
			break;
	}
	/* As for an origin: one connect per request, whatever it took. */
	if (h->dialed)
		upstream_count(h->dial);
	if (r == HOP_NONE_UP && round == 0)
		snprintf(why, whylen, "parent %s: every address is down",
		    h->parent->name);
	else if (r == HOP_FAILED || r == HOP_NONE_UP) {
		len = strlen(why);
		snprintf(why + len, whylen - len, " (parent %s, %u round%s)",
		    h->parent->name, round, round == 1 ? "" : "s");
		r = HOP_FAILED;
	}
	return r;
}
