/*
 * http.c: the message-head parser (see http.h).
 *
 * Two layers. http_lex() is an explicit state machine over the bytes of a
 * head: it splits the start line into its three parts and the header
 * section into fields, and rejects every byte RFC 9112 does not allow there.
 * http_parse_request() and http_parse_response() then give the parts their
 * meaning: version, target, Host, and body framing (framing.c).
 *
 * The parser is re-run from the start on every call, which keeps it a pure
 * function. Its callers (request heads, response heads) run it again
 * only when http_head_worth_parsing() says the first line or the head
 * may have ended (or the buffer is full), or that the verdict may
 * already be known (the first bytes, a byte no head may hold), so
 * reading a head stays linear in its size however the peer slices it,
 * and a TLS hello sent to the plain port is refused at its first byte.
 */
#include <string.h>
#include <strings.h>

#include "http.h"

enum lex_state {
	S_START,	/* before the start line */
	S_START_LF,	/* CR of an empty line before a request line */
	S_TOK1,		/* method, or response version */
	S_TOK2,		/* request-target, or status code */
	S_TOK3,		/* request version, or reason phrase */
	S_LINE_LF,	/* CR ending the start line seen */
	S_FIELD_START,	/* at the start of a field line or the blank line */
	S_NAME,		/* inside a field name */
	S_VALUE,	/* after the colon */
	S_FIELD_LF,	/* CR ending a field line seen */
	S_END_LF	/* CR of the blank line seen */
};

/*
 * What the lexer hands to the two semantic layers. tok[] points into the
 * buffer being parsed; fields is the caller's array.
 */
struct lex {
	bool			 response;
	size_t			 max_tok2;	/* request-target cap, 0: none */
	const char		*tok[3];
	size_t			 tok_len[3];
	struct http_field	*fields;
	size_t			 max_fields;
	size_t			 nfields;
	size_t			 head_len;
	int			 status;
	const char		*error;
};

/* Leading empty lines before a request line (RFC 9112 §2.2 "SHOULD"). */
#define LEX_MAX_EMPTY_LINES 4

/* Visible ASCII or obs-text: what a field value may hold besides SP/HTAB. */
static bool
http_is_vchar_or_obs(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* Fail the lexer with status and message; returns HTTP_BAD. */
static enum http_result
lex_fail(struct lex *lx, int status, const char *error)
{
	lx->status = status;
	lx->error = error;
	return HTTP_BAD;
}

/*
 * A byte no head may hold anywhere (RFC 9110 §5.5, RFC 9112 §2.2): a
 * control other than HTAB, CR and LF, or DEL. http_lex() refuses each of
 * them wherever it stands, which http_head_worth_parsing() relies on.
 */
static bool
http_never_in_head(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

/* Whether p[0..n) holds a byte that http_never_in_head(). */
static bool
http_holds_never_in_head(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (http_never_in_head((unsigned char)p[i]))
			return true;
	return false;
}

/* Name the problem with a byte that is not allowed where it stands. */
static enum http_result
lex_bad_byte(struct lex *lx, unsigned char c, const char *where)
{
	if (c == '\n')
		return lex_fail(lx, 400, "bare LF: lines must end in CRLF");
	if (c == '\r')
		return lex_fail(lx, 400, "bare CR inside a line");
	if (c == '\0')
		return lex_fail(lx, 400, "NUL byte in the request head");
	if (c < 0x20 || c == 0x7f)
		return lex_fail(lx, 400, "control character in the head");
	return lex_fail(lx, 400, where);
}

/*
 * A first byte that cannot start a start line. Name the usual cause when
 * it is one: a TLS handshake record (type 0x16, RFC 8446 §5.1) sent to a
 * port that speaks plain HTTP.
 */
static enum http_result
lex_bad_start(struct lex *lx, unsigned char c)
{
	if (c == 0x16)
		return lex_fail(lx, 400, lx->response ?
		    "TLS where a status line should start: the origin speaks "
		    "https" :
		    "This looks like TLS (its first byte is 0x16, a TLS "
		    "handshake) sent to a plain HTTP proxy port. Speak HTTP to "
		    "the proxy (an http:// proxy URL); https goes through it "
		    "with CONNECT.");
	if (lx->response)
		return lex_bad_byte(lx, c, "malformed start line");
	return lex_bad_byte(lx, c, "This is not an HTTP request: it does "
	    "not start with a method name.");
}

/* End the token that started at mark, at position i. */
static void
lex_token(struct lex *lx, int n, const char *buf, size_t mark, size_t i)
{
	lx->tok[n] = buf + mark;
	lx->tok_len[n] = i - mark;
}

/* Start a new field whose name begins at p. */
static enum http_result
lex_field_start(struct lex *lx, const char *p)
{
	struct http_field *f;

	if (lx->nfields == lx->max_fields)
		return lex_fail(lx, 431, "too many header fields");
	f = &lx->fields[lx->nfields++];
	f->name = p;
	f->name_len = 0;
	f->value = p;
	f->value_len = 0;
	return HTTP_PARTIAL;
}

/* One byte of the start line in state *s. */
static enum http_result
lex_start_line(struct lex *lx, enum lex_state *s, const char *buf, size_t i,
    size_t *mark)
{
	unsigned char c = (unsigned char)buf[i];

	switch (*s) {
	case S_TOK1:
		if (c == ' ') {
			lex_token(lx, 0, buf, *mark, i);
			*mark = i + 1;
			*s = S_TOK2;
		} else if (!lx->response && !field_is_tchar(c))
			return lex_bad_byte(lx, c, "method is not a token");
		else if (lx->response && !http_is_vchar_or_obs(c))
			return lex_bad_byte(lx, c, "malformed status line");
		return HTTP_PARTIAL;
	case S_TOK2:
		if (c == ' ' && i > *mark) {
			lex_token(lx, 1, buf, *mark, i);
			*mark = i + 1;
			*s = S_TOK3;
		} else if (c == '\r' && lx->response) {
			/* "HTTP/1.1 200" without SP and reason: tolerated. */
			lex_token(lx, 1, buf, *mark, i);
			lex_token(lx, 2, buf, i, i);
			*s = S_LINE_LF;
		} else if (c <= 0x20 || c >= 0x7f)
			return lex_bad_byte(lx, c,
			    "invalid byte in the request-target");
		else if (lx->max_tok2 && i - *mark + 1 > lx->max_tok2)
			return lex_fail(lx, 414, "request-target too long");
		return HTTP_PARTIAL;
	case S_TOK3:
		if (c == '\r') {
			lex_token(lx, 2, buf, *mark, i);
			*s = S_LINE_LF;
		} else if (!lx->response && !http_is_vchar_or_obs(c))
			return lex_bad_byte(lx, c, "malformed request line");
		else if (lx->response && c != ' ' && c != '\t' &&
		    !http_is_vchar_or_obs(c))
			return lex_bad_byte(lx, c, "bad byte in reason phrase");
		return HTTP_PARTIAL;
	default:
		return lex_fail(lx, 400, "parser state error");
	}
}

/*
 * One byte of the header section in state *s. f_start/f_end track where
 * the current value's first and last non-blank bytes are.
 */
static enum http_result
lex_field(struct lex *lx, enum lex_state *s, const char *buf, size_t i,
    size_t mark)
{
	unsigned char c = (unsigned char)buf[i];
	struct http_field *f = &lx->fields[lx->nfields - 1];

	switch (*s) {
	case S_NAME:
		if (c == ':') {
			f->name_len = i - mark;
			f->value = buf + i + 1;
			*s = S_VALUE;
		} else if (c == ' ' || c == '\t')
			return lex_fail(lx, 400,
			    "whitespace between field name and colon");
		else if (!field_is_tchar(c))
			return lex_bad_byte(lx, c, "field name is not a token");
		return HTTP_PARTIAL;
	case S_VALUE:
		if (c == '\r') {
			*s = S_FIELD_LF;
		} else if (c == ' ' || c == '\t') {
			/* Leading whitespace is not part of the value. */
			if (f->value_len == 0)
				f->value = buf + i + 1;
		} else if (http_is_vchar_or_obs(c)) {
			/* The value ends at its last non-blank byte. */
			f->value_len = (size_t)(buf + i + 1 - f->value);
		} else
			return lex_bad_byte(lx, c, "bad byte in field value");
		return HTTP_PARTIAL;
	default:
		return lex_fail(lx, 400, "parser state error");
	}
}

/* Expect LF after a CR; move to next. */
static enum http_result
lex_lf(struct lex *lx, unsigned char c, enum lex_state *s,
    enum lex_state next)
{
	if (c != '\n')
		return lex_fail(lx, 400, "bare CR: lines must end in CRLF");
	*s = next;
	return HTTP_PARTIAL;
}

/* The state machine: split buf into start line and fields. */
static enum http_result
http_lex(const char *buf, size_t len, struct lex *lx)
{
	enum lex_state s = S_START;
	enum http_result r = HTTP_PARTIAL;
	size_t i, mark = 0, empty_lines = 0;

	for (i = 0; i < len && r == HTTP_PARTIAL; i++) {
		unsigned char c = (unsigned char)buf[i];

		switch (s) {
		case S_START:
			if (c == '\r' && !lx->response &&
			    empty_lines++ < LEX_MAX_EMPTY_LINES)
				s = S_START_LF;
			else if (field_is_tchar(c)) {
				mark = i;
				s = S_TOK1;
			} else
				r = lex_bad_start(lx, c);
			break;
		case S_START_LF:
			r = lex_lf(lx, c, &s, S_START);
			break;
		case S_TOK1:
		case S_TOK2:
		case S_TOK3:
			r = lex_start_line(lx, &s, buf, i, &mark);
			break;
		case S_LINE_LF:
			r = lex_lf(lx, c, &s, S_FIELD_START);
			break;
		case S_FIELD_START:
			if (c == '\r')
				s = S_END_LF;
			else if (c == ' ' || c == '\t')
				r = lex_fail(lx, 400, "obsolete line folding");
			else if (!field_is_tchar(c))
				r = lex_bad_byte(lx, c,
				    "field name is not a token");
			else {
				r = lex_field_start(lx, buf + i);
				mark = i;
				s = S_NAME;
			}
			break;
		case S_NAME:
		case S_VALUE:
			r = lex_field(lx, &s, buf, i, mark);
			break;
		case S_FIELD_LF:
			r = lex_lf(lx, c, &s, S_FIELD_START);
			break;
		case S_END_LF:
			r = lex_lf(lx, c, &s, S_END_LF);
			if (r == HTTP_PARTIAL) {
				lx->head_len = i + 1;
				r = HTTP_DONE;
			}
			break;
		}
	}
	return r;
}

/*
 * Parse "HTTP/1.x" into *minor (0, or 1 for any later 1.x). Returns 0,
 * 400 if malformed, or 505 if it is another major version (RFC 9110
 * §15.6.6), with *why set.
 */
static int
http_version(const char *v, size_t len, int *minor, const char **why)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') {
		*why = "malformed HTTP version";
		return 400;
	}
	if (v[5] != '1') {
		*why = "only HTTP/1.0 and 1.1 are spoken";
		return 505;
	}
	*minor = v[7] == '0' ? 0 : 1;
	return 0;
}

bool
http_head_worth_parsing(const char *buf, size_t len, size_t n, size_t cap,
    bool *line_seen)
{
	size_t from = len - n;
	const char *nl;

	if (!*line_seen && memchr(buf + from, '\n', n) != NULL) {
		*line_seen = true;
		return true;
	}
	/*
	 * A verdict may be there before any line ends: a TLS hello to the
	 * plain port is refused at its first byte, not at header_timeout.
	 */
	if (len == cap || from < HTTP_HEAD_PEEK ||
	    http_holds_never_in_head(buf + from, n))
		return true;
	/*
	 * An empty line is LF LF or LF CR LF; it may straddle packets.
	 * (from >= HTTP_HEAD_PEEK here, so two bytes back are in buf.)
	 */
	from -= 2;
	while ((nl = memchr(buf + from, '\n', len - from)) != NULL) {
		size_t i = (size_t)(nl - buf) + 1;

		if (i < len && (buf[i] == '\n' || (buf[i] == '\r' &&
		    i + 1 < len && buf[i + 1] == '\n')))
			return true;
		from = i;
	}
	return false;
}

/*
 * ferry caps the options (HTTP_CONNECTION_MAX) so that dropping the fields
 * they name stays linear in the head's size (rewrite.c).
 */
size_t
http_connection_options(const struct http_field *f, size_t n,
    struct http_options *out)
{
	const char *t;
	size_t i, pos, len, count = 0;

	if (out != NULL)
		out->n = 0;
	for (i = 0; i < n; i++) {
		if (!field_name_is(&f[i], "Connection"))
			continue;
		pos = 0;
		while (field_list_next(f[i].value, f[i].value_len, &pos, &t,
		    &len)) {
			if (out != NULL && count < HTTP_CONNECTION_MAX) {
				out->name[count] = t;
				out->len[count] = len;
				out->n = count + 1;
			}
			count++;
		}
	}
	return count;
}

/* Fail a request with status and message. */
static enum http_result
req_fail(struct http_request *req, int status, const char *error)
{
	req->status = status;
	req->error = error;
	return HTTP_BAD;
}

/* Host rules of RFC 9112 §3.2: exactly one, valid, in HTTP/1.1. */
static enum http_result
req_check_host(struct http_request *req)
{
	const struct http_field *host = NULL;
	size_t i;

	for (i = 0; i < req->nfields; i++) {
		if (!field_name_is(&req->fields[i], "Host"))
			continue;
		if (host != NULL)
			return req_fail(req, 400, "more than one Host field");
		host = &req->fields[i];
	}
	if (host == NULL && req->minor >= 1)
		return req_fail(req, 400, "HTTP/1.1 request without Host");
	if (host != NULL &&
	    uri_check_host_field(host->value, host->value_len) != 0)
		return req_fail(req, 400, "invalid Host field");
	return HTTP_DONE;
}

/* Parse the request-target according to the method. */
static enum http_result
req_target(struct http_request *req)
{
	const char *why = NULL;
	int status;

	if (req->is_connect)
		status = uri_parse_authority(req->target, req->target_len,
		    &req->uri, &why);
	else
		status = uri_parse_absolute(req->target, req->target_len,
		    &req->uri, &why);
	return status == 0 ? HTTP_DONE : req_fail(req, status, why);
}

/* Expect: 100-continue, honoured only from HTTP/1.1 clients (§10.1.1). */
static bool
req_expects_continue(const struct http_request *req)
{
	size_t i;

	if (req->minor < 1)
		return false;
	for (i = 0; i < req->nfields; i++)
		if (field_name_is(&req->fields[i], "Expect") &&
		    field_list_has(req->fields[i].value,
		    req->fields[i].value_len, "100-continue", 12))
			return true;
	return false;
}

/*
 * Whether the sender of a head wants its connection kept open after this
 * message (RFC 9112 §9.3): HTTP/1.1 unless it says "close", HTTP/1.0 only
 * if it says "keep-alive" (RFC 9112 §C.2.2).
 */
static bool
http_persistent(int minor, const struct http_field *f, size_t n)
{
	bool close = false, keep = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!field_name_is(&f[i], "Connection"))
			continue;
		close |= field_list_has(f[i].value, f[i].value_len, "close", 5);
		keep |= field_list_has(f[i].value, f[i].value_len,
		    "keep-alive", 10);
	}
	return !close && (minor >= 1 || keep);
}

/* Give the lexed request line and fields their meaning. */
static enum http_result
req_interpret(struct http_request *req, const struct lex *lx)
{
	const char *why = NULL;
	int status;

	req->method = lx->tok[0];
	req->method_len = lx->tok_len[0];
	req->target = lx->tok[1];
	req->target_len = lx->tok_len[1];
	req->nfields = lx->nfields;
	req->head_len = lx->head_len;
	status = http_version(lx->tok[2], lx->tok_len[2], &req->minor, &why);
	if (status != 0)
		return req_fail(req, status, why);
	req->is_connect = req->method_len == 7 &&
	    memcmp(req->method, "CONNECT", 7) == 0;
	req->is_head = req->method_len == 4 &&
	    memcmp(req->method, "HEAD", 4) == 0;
	if (req_target(req) != HTTP_DONE || req_check_host(req) != HTTP_DONE)
		return HTTP_BAD;
	if (http_connection_options(req->fields, req->nfields, NULL) >
	    HTTP_CONNECTION_MAX)
		return req_fail(req, 400, "too many Connection options");
	status = framing_request(req->fields, req->nfields, req->minor,
	    &req->framing, &why);
	if (status != 0)
		return req_fail(req, status, why);
	if (req->is_connect && req->framing.kind != BODY_NONE &&
	    !(req->framing.kind == BODY_LENGTH && req->framing.length == 0))
		return req_fail(req, 400, "CONNECT request with a body");
	req->expect_continue = req_expects_continue(req);
	req->keep_alive = http_persistent(req->minor, req->fields,
	    req->nfields);
	return HTTP_DONE;
}

enum http_result
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
    struct http_field *fields, struct http_request *req)
{
	struct lex lx;
	enum http_result r;

	memset(req, 0, sizeof(*req));
	memset(&lx, 0, sizeof(lx));
	req->fields = fields;
	lx.fields = fields;
	lx.max_fields = lim->max_fields;
	lx.max_tok2 = lim->max_uri;
	r = http_lex(buf, len, &lx);
	if (r == HTTP_BAD)
		return req_fail(req, lx.status, lx.error);
	if (r == HTTP_PARTIAL)
		return r;
	return req_interpret(req, &lx);
}

/* Status code: three digits, 100..599. */
static int
http_status_code(const char *s, size_t len, int *code)
{
	if (len != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9')
		return -1;
	*code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

enum http_result
http_parse_response(const char *buf, size_t len, const struct http_limits *lim,
    struct http_field *fields, bool head_request, struct http_response *resp)
{
	struct lex lx;
	enum http_result r;

	memset(resp, 0, sizeof(*resp));
	memset(&lx, 0, sizeof(lx));
	resp->fields = fields;
	lx.response = true;
	lx.fields = fields;
	lx.max_fields = lim->max_fields;
	r = http_lex(buf, len, &lx);
	if (r == HTTP_BAD)
		resp->error = lx.error;
	if (r != HTTP_DONE)
		return r;
	resp->nfields = lx.nfields;
	resp->head_len = lx.head_len;
	resp->reason = lx.tok[2];
	resp->reason_len = lx.tok_len[2];
	if (http_version(lx.tok[0], lx.tok_len[0], &resp->minor,
	    &resp->error) != 0 ||
	    http_status_code(lx.tok[1], lx.tok_len[1], &resp->code) != 0) {
		resp->error = "malformed status line";
		return HTTP_BAD;
	}
	if (http_connection_options(fields, lx.nfields, NULL) >
	    HTTP_CONNECTION_MAX) {
		resp->error = "too many Connection options";
		return HTTP_BAD;
	}
	if (framing_response(fields, lx.nfields, resp->minor, resp->code,
	    head_request, &resp->framing, &resp->error) != 0)
		return HTTP_BAD;
	resp->keep_alive = http_persistent(resp->minor, fields, lx.nfields) &&
	    !resp->framing.te_over_cl;
	return HTTP_DONE;
}
