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

#include "field.h"
#include "hop.h"
#include "io.h"
#include "log.h"
#include "route.h"
#include "socks5.h"
#include "upstream.h"

/* How one address's attempt ended. */
enum hop_try {
	HOP_TRY_OK,
	HOP_TRY_BROKEN,		/* connect or handshake failed: next one */
	HOP_TRY_FINAL		/* the parent answered no: stop */
};

/* Append s[0..n) to buf[0..cap) at *len; false once it does not fit. */
static bool
hop_add(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n > cap - *len)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

/*
 * The Via of the CONNECT ferry sends: the client's Via values, then this
 * instance (RFC 9110 §7.6.3). Without the chain, two ferries that are
 * each other's parent would never see their own name, and a CONNECT
 * would circle until every worker of both waited on it.
 */
static bool
hop_add_via(const struct hop *h, char *buf, size_t cap, size_t *len)
{
	bool ok = true, first = true;
	size_t i;

	if (!h->cfg->via)
		return true;
	ok = hop_add(buf, cap, len, "Via: ", 5);
	for (i = 0; i < h->nfields_in && ok; i++) {
		if (!field_name_is(&h->fields_in[i], "Via"))
			continue;
		if (!first)
			ok = hop_add(buf, cap, len, ", ", 2);
		ok = ok && hop_add(buf, cap, len, h->fields_in[i].value,
		    h->fields_in[i].value_len);
		first = false;
	}
	if (!first)
		ok = ok && hop_add(buf, cap, len, ", ", 2);
	return ok && hop_add(buf, cap, len, "1.1 ", 4) &&
	    hop_add(buf, cap, len, h->cfg->via_name,
	    strlen(h->cfg->via_name)) && hop_add(buf, cap, len, "\r\n", 2);
}

/*
 * Send "CONNECT host:port" with Host, ferry's credentials and Via,
 * written in h->buf (the reply comes there after).
 */
static int
hop_send_connect(struct hop *h, const struct parent_addr *a, char *why,
    size_t whylen)
{
	const struct uri *d = h->dest;
	size_t len = 0;
	bool ok;

	ok = hop_add(h->buf, h->cap, &len, "CONNECT ", 8) &&
	    hop_add(h->buf, h->cap, &len, d->authority, d->authority_len) &&
	    hop_add(h->buf, h->cap, &len, " HTTP/1.1\r\nHost: ", 17) &&
	    hop_add(h->buf, h->cap, &len, d->authority, d->authority_len) &&
	    hop_add(h->buf, h->cap, &len, "\r\n", 2) &&
	    hop_add_via(h, h->buf, h->cap, &len);
	if (ok && a->basic[0] != '\0')
		ok = hop_add(h->buf, h->cap, &len, "Proxy-Authorization: ",
		    21) && hop_add(h->buf, h->cap, &len, a->basic,
		    strlen(a->basic)) && hop_add(h->buf, h->cap, &len, "\r\n",
		    2);
	if (!ok || !hop_add(h->buf, h->cap, &len, "\r\n", 2)) {
		snprintf(why, whylen, "CONNECT head too long");
		return -1;
	}
	if (io_send_all(h->fd, h->buf, len, (int)h->cfg->io_timeout *
	    1000) == -1) {
		snprintf(why, whylen, "sending CONNECT: %s", strerror(errno));
		explicit_bzero(h->buf, len);
		return -1;
	}
	/* The credentials leave no copy in the buffer. */
	explicit_bzero(h->buf, len);
	return 0;
}

/*
 * Read the parent's reply head to CONNECT into h->buf within io_timeout.
 * Returns 0 with *resp parsed (1xx skipped), or -1 with why.
 */
static int
hop_read_reply(struct hop *h, struct http_response *resp, size_t *len,
    char *why, size_t whylen)
{
	struct http_limits lim = { h->cfg->max_headers, 0 };
	uint64_t deadline = io_now_ms() + h->cfg->io_timeout * 1000ULL;
	bool line_seen = false, parse = false;
	enum http_result r;
	ssize_t n;

	*len = 0;
	for (;;) {
		r = parse ? http_parse_response(h->buf, *len, &lim, h->fields,
		    true, resp) : HTTP_PARTIAL;
		if (r == HTTP_DONE && resp->code < 200) {
			/* An interim answer: the final one follows. */
			memmove(h->buf, h->buf + resp->head_len, *len -
			    resp->head_len);
			*len -= resp->head_len;
			line_seen = memchr(h->buf, '\n', *len) != NULL;
			parse = *len > 0;
			continue;
		}
		if (r == HTTP_DONE)
			return 0;
		if (r == HTTP_BAD || *len == h->cap) {
			snprintf(why, whylen, "malformed reply to CONNECT: %s",
			    r == HTTP_BAD ? resp->error : "head too large");
			return -1;
		}
		n = io_recv(h->fd, h->buf + *len, h->cap - *len,
		    io_ms_left(deadline));
		if (n <= 0) {
			snprintf(why, whylen, "%s before a whole reply to "
			    "CONNECT", n == 0 ? "closed" : errno == ETIMEDOUT ?
			    "no answer within io_timeout" : strerror(errno));
			return -1;
		}
		*len += (size_t)n;
		parse = http_head_worth_parsing(h->buf, *len, (size_t)n,
		    h->cap, &line_seen);
	}
}

/* CONNECT through an HTTP parent, on h->fd. */
static enum hop_try
hop_http_connect(struct hop *h, struct parent_addr *a, char *why,
    size_t whylen)
{
	struct http_response resp;
	size_t len;

	memset(&resp, 0, sizeof(resp));
	if (hop_send_connect(h, a, why, whylen) == -1 ||
	    hop_read_reply(h, &resp, &len, why, whylen) == -1)
		return HOP_TRY_BROKEN;
	h->status = resp.code;
	if (resp.code < 200 || resp.code > 299) {
		snprintf(why, whylen, "answered %d %.*s to CONNECT", resp.code,
		    (int)(resp.reason_len < 64 ? resp.reason_len : 64),
		    resp.reason);
		return HOP_TRY_FINAL;
	}
	/* The far side may speak first: its bytes are the tunnel's. */
	h->extra = len - resp.head_len;
	memmove(h->buf, h->buf + resp.head_len, h->extra);
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
		h->status = 407;	/* told apart by hop_attempt() */
		return HOP_TRY_FINAL;
	case SOCKS5_HS_REFUSED:
		return HOP_TRY_FINAL;
	default:
		return HOP_TRY_BROKEN;
	}
}

/* One attempt on address a: connect, then the handshake the hop needs. */
static enum hop_try
hop_attempt(struct hop *h, struct parent_addr *a, bool *timed_out,
    char *why, size_t whylen)
{
	enum hop_try r = HOP_TRY_OK;

	trace_stage(h->trace, "parent %s: trying %s", h->parent->name,
	    a->text);
	h->fd = upstream_dial(a->host, a->port, h->cfg, h->trace, timed_out,
	    why, whylen);
	if (h->fd < 0)
		return HOP_TRY_BROKEN;
	if (a->kind == PARENT_SOCKS5)
		r = hop_socks5(h, a, why, whylen);
	else if (h->tunnel)
		r = hop_http_connect(h, a, why, whylen);
	if (r != HOP_TRY_OK)
		io_close(&h->fd);
	return r;
}

/*
 * One round over the addresses that are up. Returns HOP_OK, a final
 * answer, HOP_FAILED, or HOP_NONE_UP when every address was down.
 */
static enum hop_result
hop_round(struct hop *h, char *why, size_t whylen)
{
	struct parent *p = h->parent;
	struct parent_addr *a;
	bool tried = false, timed_out;
	size_t i;

	for (i = 0; i < p->naddrs; i++) {
		a = &p->addr[i];
		if (!parent_addr_up(a, io_now_ms())) {
			trace_stage(h->trace, "parent %s: skipping %s: down",
			    p->name, a->text);
			continue;
		}
		tried = true;
		switch (hop_attempt(h, a, &timed_out, why, whylen)) {
		case HOP_TRY_OK:
			parent_addr_ok(a, p->name);
			h->addr = a;
			return HOP_OK;
		case HOP_TRY_FINAL:
			/* It answered: it is up, whatever it said. */
			parent_addr_ok(a, p->name);
			h->addr = a;
			return h->status == 407 ? HOP_CREDENTIALS : HOP_REFUSED;
		case HOP_TRY_BROKEN:
			log_msg(LOGL_DEBUG, "parent %s: %s: %s", p->name,
			    a->text, why);
			trace_stage(h->trace, "parent %s: %s: %s", p->name,
			    a->text, why);
			parent_addr_failed(a, p->name, h->table->down_after,
			    h->table->retry_after);
			break;
		}
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
	why[0] = '\0';
	for (round = 0; round <= h->cfg->retries; round++) {
		upstream_pause(round);
		r = hop_round(h, why, whylen);
		if (r != HOP_FAILED)
			break;
	}
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
