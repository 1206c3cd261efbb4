/*
 * rewrite.c: building forwarded heads (see rewrite.h).
 *
 * The output is assembled in a caller's buffer through a tiny append-only
 * writer that remembers overflow, so each step stays one line and the size
 * check happens once at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "field.h"
#include "maxfwd.h"
#include "num.h"
#include "rewrite.h"

/* An append-only writer over the caller's buffer p[0..cap). */
struct out {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 overflow;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* Append "Name: value\r\n". */
static void
out_field(struct out *o, const struct http_field *f)
{
	out_add(o, f->name, f->name_len);
	out_add(o, ": ", 2);
	out_add(o, f->value, f->value_len);
	out_add(o, "\r\n", 2);
}

/* Append "Name: N\r\n" for a number ferry writes itself. */
static void
out_number(struct out *o, const char *name, uint64_t n)
{
	char line[64];

	snprintf(line, sizeof(line), "%s: %" PRIu64 "\r\n", name, n);
	out_str(o, line);
}

/*
 * Append "Via: 1.x NAME": the version of the message received, and this
 * instance's name, which loopguard.c looks for (RFC 9110 §7.6.3).
 */
static void
out_via(struct out *o, int minor, const struct ferry_config *cfg)
{
	out_str(o, minor ? "Via: 1.1 " : "Via: 1.0 ");
	out_str(o, cfg->via_name);
	out_add(o, "\r\n", 2);
}

/* Fields that only make sense on one connection (RFC 9110 §7.6.1). */
static const char *const hop_by_hop[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
	"TE", "Trailer", "Upgrade"
};

static bool
rewrite_name_in(const struct http_field *f, const char *const *names,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (field_name_is(f, names[i]))
			return true;
	return false;
}

/*
 * Is f hop-by-hop, given the head's Connection options h (gathered once by
 * http_connection_options(); the parser caps them, so none is missing)?
 */
static bool
rewrite_hop(const struct http_options *h, const struct http_field *f)
{
	size_t i;

	if (rewrite_name_in(f, hop_by_hop, nitems(hop_by_hop)))
		return true;
	if (field_name_frames(f->name, f->name_len))
		return false;	/* a Connection option may not remove it */
	for (i = 0; i < h->n; i++)
		if (h->len[i] == f->name_len &&
		    strncasecmp(h->name[i], f->name, f->name_len) == 0)
			return true;
	return false;
}

bool
rewrite_is_hop_by_hop(const struct http_field *f,
    const struct http_field *fields, size_t n)
{
	struct http_options h;

	(void)http_connection_options(fields, n, &h);
	return rewrite_hop(&h, f);
}

/*
 * The request line in origin-form (RFC 9112 §3.2.1, §3.2.4), or for a
 * parent proxy in absolute-form (§3.2.2), where an OPTIONS for the whole
 * server keeps its empty path: the last proxy makes it "*".
 */
static void
rewrite_request_line(struct out *o, const struct http_request *req,
    bool absolute)
{
	const struct uri *u = &req->uri;
	bool options = req->method_len == 7 &&
	    memcmp(req->method, "OPTIONS", 7) == 0;

	out_add(o, req->method, req->method_len);
	out_add(o, " ", 1);
	if (absolute) {
		out_str(o, "http://");
		out_add(o, u->authority, u->authority_len);
	}
	if (u->path_len == 0 && !(absolute && options))
		out_str(o, options && !absolute ? "*" : "/");
	else if (u->path_len > 0 && u->path[0] == '?')
		out_add(o, "/", 1);
	out_add(o, u->path, u->path_len);
	out_str(o, " HTTP/1.1\r\nHost: ");
	out_add(o, u->authority, u->authority_len);
	out_add(o, "\r\n", 2);
}

int
rewrite_request(const struct http_request *req,
    const struct ferry_config *cfg, const char *client_ip,
    const char *parent_auth, char *buf, size_t cap, size_t *len)
{
	struct out o = { buf, 0, cap, false };
	struct http_options h;
	const char *why = NULL;
	uint64_t hops = 0;
	size_t i;
	/* TRACE and OPTIONS count Max-Forwards down (RFC 9110 §7.6.2). */
	bool count_down = maxfwd_check(req, &hops, &why) == MAXFWD_FORWARD;

	(void)http_connection_options(req->fields, req->nfields, &h);
	rewrite_request_line(&o, req, parent_auth != NULL);
	for (i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];

		/* Host comes from the URL; the length is written once below. */
		if (field_name_is(f, "Host") ||
		    field_name_is(f, "Content-Length") ||
		    (count_down && field_name_is(f, "Max-Forwards")) ||
		    rewrite_hop(&h, f) ||
		    config_strips_header(cfg, f->name, f->name_len))
			continue;
		out_field(&o, f);
	}
	if (req->framing.kind == BODY_LENGTH)
		out_number(&o, "Content-Length", req->framing.length);
	if (count_down)
		out_number(&o, "Max-Forwards", hops - 1);
	if (cfg->via)
		out_via(&o, req->minor, cfg);
	if (cfg->forwarded_for) {
		out_str(&o, "X-Forwarded-For: ");
		out_str(&o, client_ip);
		out_add(&o, "\r\n", 2);
	}
	/* ferry's own credentials; the client's never pass (hop_by_hop). */
	if (parent_auth != NULL && parent_auth[0] != '\0') {
		out_str(&o, "Proxy-Authorization: ");
		out_str(&o, parent_auth);
		out_add(&o, "\r\n", 2);
	}
	/* HTTP/1.1 upstream connections persist by default (reuse.c). */
	out_add(&o, "\r\n", 2);
	*len = o.len;
	return o.overflow ? -1 : 0;
}

int
rewrite_connect(const struct uri *dest, const struct http_field *fields,
    size_t nfields, const struct ferry_config *cfg, const char *parent_auth,
    char *buf, size_t cap, size_t *len)
{
	struct out o = { buf, 0, cap, false };
	struct http_options h;
	size_t i;

	(void)http_connection_options(fields, nfields, &h);
	out_str(&o, "CONNECT ");
	out_add(&o, dest->authority, dest->authority_len);
	out_str(&o, " HTTP/1.1\r\nHost: ");
	out_add(&o, dest->authority, dest->authority_len);
	out_add(&o, "\r\n", 2);
	/* The client's Via chain, then this instance: see rewrite.h. */
	for (i = 0; i < nfields && cfg->via; i++) {
		const struct http_field *f = &fields[i];

		if (field_name_is(f, "Via") && !rewrite_hop(&h, f) &&
		    !config_strips_header(cfg, f->name, f->name_len))
			out_field(&o, f);
	}
	if (cfg->via)
		out_via(&o, 1, cfg);
	if (parent_auth[0] != '\0') {
		out_str(&o, "Proxy-Authorization: ");
		out_str(&o, parent_auth);
		out_add(&o, "\r\n", 2);
	}
	out_add(&o, "\r\n", 2);
	*len = o.len;
	return o.overflow ? -1 : 0;
}

int
rewrite_response(const struct http_response *resp,
    const struct ferry_config *cfg, bool drop_te, const char *connection,
    char *buf, size_t cap, size_t *len)
{
	struct out o = { buf, 0, cap, false };
	struct http_options h;
	char line[32];
	bool cl_sent = false;
	size_t i;

	(void)http_connection_options(resp->fields, resp->nfields, &h);
	/* A proxy sends its own version (RFC 9110 §6.2). */
	snprintf(line, sizeof(line), "HTTP/1.1 %03d ", resp->code);
	out_str(&o, line);
	out_add(&o, resp->reason, resp->reason_len);
	out_add(&o, "\r\n", 2);
	for (i = 0; i < resp->nfields; i++) {
		const struct http_field *f = &resp->fields[i];

		if (rewrite_hop(&h, f) ||
		    (drop_te && field_name_is(f, "Transfer-Encoding")))
			continue;
		/*
		 * The length goes on once, where it first stood, as a plain
		 * number ("5, 5" or a repeated field may not be passed on,
		 * RFC 9110 §8.6); not at all if Transfer-Encoding won.
		 */
		if (field_name_is(f, "Content-Length")) {
			if (resp->framing.length_given && !cl_sent) {
				out_number(&o, "Content-Length",
				    resp->framing.length);
				cl_sent = true;
			}
			continue;
		}
		out_field(&o, f);
	}
	if (cfg->via)
		out_via(&o, resp->minor, cfg);
	if (connection != NULL) {
		out_str(&o, "Connection: ");
		out_str(&o, connection);
		out_add(&o, "\r\n", 2);
	}
	out_add(&o, "\r\n", 2);
	*len = o.len;
	return o.overflow ? -1 : 0;
}
