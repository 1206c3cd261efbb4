/*
 * fuzz_response.c: libFuzzer harness for the response-head parser and the
 * response rewrite (http_parse_response, rewrite_response).
 *
 * The first input byte chooses whether the response answers a HEAD
 * request and whether the client gets the body dechunked; the rest is the
 * head. Invariants, for every input:
 * - a rejected head carries a reason; an accepted one lies inside the
 *   input, ends in a blank line at head_len, and every shorter prefix is
 *   incomplete;
 * - an accepted head written out again in canonical form parses to the
 *   same response (version, code, reason, fields, framing, persistence);
 * - the head ferry sends the client parses, keeps code and reason, has no
 *   hop-by-hop field, and frames the body the same way (or by close when
 *   ferry dechunks it for an HTTP/1.0 client).
 */
#include <stdbool.h>

#include "config.h"
#include "fuzz_head.h"
#include "http.h"
#include "rewrite.h"

#define FIELDS	64

static const struct http_limits lim = { FIELDS, 8192 };

/* Write r in canonical form into out (big enough); returns the length. */
static size_t
serialise(const struct http_response *r, char *out)
{
	size_t n;

	n = (size_t)sprintf(out, "HTTP/1.%d %03d ", r->minor, r->code);
	memcpy(out + n, r->reason, r->reason_len);
	n += r->reason_len;
	out[n++] = '\r';
	out[n++] = '\n';
	return fuzz_put_fields(out, n, r->fields, r->nfields);
}

static void
check_same(const struct http_response *a, const struct http_response *b)
{
	FUZZ_CHECK(a->minor == b->minor && a->code == b->code);
	FUZZ_CHECK(fuzz_same(a->reason, a->reason_len, b->reason,
	    b->reason_len));
	FUZZ_CHECK(a->framing.kind == b->framing.kind);
	FUZZ_CHECK(a->framing.length == b->framing.length);
	FUZZ_CHECK(a->keep_alive == b->keep_alive);
	fuzz_check_same_fields(a->fields, a->nfields, b->fields, b->nfields);
}

/* What the client receives: well-formed, same status and framing. */
static void
check_rewrite(const struct http_response *resp, bool head, bool dechunk,
    size_t cap)
{
	static const char *const hop[] = { "Keep-Alive", "Proxy-Connection",
	    "Proxy-Authorization", "TE", "Trailer", "Upgrade" };
	struct ferry_config cfg;
	struct http_field fields[FIELDS + 4];
	struct http_limits wide = { FIELDS + 4, 8192 };
	struct http_response down;
	char *out;
	size_t len = 0, i, j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.via = true;
	out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	dechunk = dechunk && resp->framing.kind == BODY_CHUNKED;
	FUZZ_CHECK(rewrite_response(resp, &cfg, dechunk, "close", out, cap,
	    &len) == 0);
	FUZZ_CHECK(http_parse_response(out, len, &wide, fields, head,
	    &down) == HTTP_DONE);
	FUZZ_CHECK(down.head_len == len);
	FUZZ_CHECK(down.code == resp->code && down.minor == 1);
	FUZZ_CHECK(fuzz_same(down.reason, down.reason_len, resp->reason,
	    resp->reason_len));
	FUZZ_CHECK(!down.keep_alive);
	for (i = 0; i < down.nfields; i++)
		for (j = 0; j < sizeof(hop) / sizeof(hop[0]); j++)
			FUZZ_CHECK(!field_name_is(&fields[i], hop[j]));
	if (dechunk) {
		FUZZ_CHECK(down.framing.kind == BODY_CLOSE);
	} else {
		FUZZ_CHECK(down.framing.kind == resp->framing.kind);
		FUZZ_CHECK(down.framing.length == resp->framing.length);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_field f1[FIELDS], f2[FIELDS];
	struct http_response a, b;
	enum http_result r;
	bool head, dechunk;
	char *buf, *canon;
	size_t n;

	if (size == 0)
		return 0;
	head = (data[0] & 1) != 0;
	dechunk = (data[0] & 2) != 0;
	data++;
	size--;
	buf = fuzz_copy(data, size, 0);
	r = http_parse_response(buf, size, &lim, f1, head, &a);
	if (r == HTTP_BAD)
		FUZZ_CHECK(a.error != NULL && a.error[0] != '\0');
	if (r != HTTP_DONE) {
		free(buf);
		return 0;
	}
	FUZZ_CHECK(a.head_len >= 4 && a.head_len <= size);
	FUZZ_CHECK(buf[a.head_len - 1] == '\n');
	FUZZ_CHECK(a.code >= 100 && a.code <= 599);
	FUZZ_CHECK(fuzz_inside(a.reason, a.reason_len, buf, a.head_len));
	FUZZ_CHECK(http_parse_response(buf, a.head_len - 1, &lim, f2, head,
	    &b) == HTTP_PARTIAL);
	FUZZ_CHECK(http_parse_response(buf, a.head_len / 2, &lim, f2, head,
	    &b) == HTTP_PARTIAL);

	canon = malloc(a.head_len * 2 + 64);
	FUZZ_CHECK(canon != NULL);
	n = serialise(&a, canon);
	FUZZ_CHECK(http_parse_response(canon, n, &lim, f2, head, &b) ==
	    HTTP_DONE);
	FUZZ_CHECK(b.head_len == n);
	check_same(&a, &b);
	free(canon);

	check_rewrite(&a, head, dechunk, a.head_len * 2 + 256);
	free(buf);
	return 0;
}
