/*
 * fuzz_request.c: libFuzzer harness for the request-head parser and the
 * request rewrite that follows it (http_parse_request, rewrite_request).
 *
 * Invariants, for every input:
 * - every pointer the parser returns lies inside the head it parsed;
 * - a rejected head carries a status and a reason; an accepted one ends
 *   in a blank line at head_len, and every shorter prefix is incomplete;
 * - a parsed head written out again in canonical form parses to the same
 *   request (method, target, version, fields, framing, persistence);
 * - the head ferry would send upstream parses, keeps the framing of the
 *   received one (so `Connection: Content-Length` cannot unframe a body,
 *   CVE-2023-49606's class), has exactly one Host and no hop-by-hop field.
 */
#include <stdbool.h>

#include "config.h"
#include "fuzz_head.h"
#include "http.h"
#include "rewrite.h"

#define FIELDS	64
#define URI_MAX	8192

static const struct http_limits lim = { FIELDS, URI_MAX };

static void
check_pointers(const struct http_request *r, const char *buf)
{
	size_t i;

	FUZZ_CHECK(fuzz_inside(r->method, r->method_len, buf, r->head_len));
	FUZZ_CHECK(fuzz_inside(r->target, r->target_len, buf, r->head_len));
	FUZZ_CHECK(r->nfields <= FIELDS);
	for (i = 0; i < r->nfields; i++) {
		FUZZ_CHECK(r->fields[i].name_len > 0);
		FUZZ_CHECK(fuzz_inside(r->fields[i].name,
		    r->fields[i].name_len, buf, r->head_len));
		FUZZ_CHECK(fuzz_inside(r->fields[i].value,
		    r->fields[i].value_len, buf, r->head_len));
	}
	if (r->uri.host_len > 0)
		FUZZ_CHECK(fuzz_inside(r->uri.host, r->uri.host_len, buf,
		    r->head_len));
}

/* Write r in canonical form into out (big enough); returns the length. */
static size_t
serialise(const struct http_request *r, char *out)
{
	size_t n = 0;

	memcpy(out + n, r->method, r->method_len);
	n += r->method_len;
	out[n++] = ' ';
	memcpy(out + n, r->target, r->target_len);
	n += r->target_len;
	n += (size_t)sprintf(out + n, " HTTP/1.%d\r\n", r->minor);
	return fuzz_put_fields(out, n, r->fields, r->nfields);
}

static void
check_same(const struct http_request *a, const struct http_request *b)
{
	FUZZ_CHECK(fuzz_same(a->method, a->method_len, b->method,
	    b->method_len));
	FUZZ_CHECK(fuzz_same(a->target, a->target_len, b->target,
	    b->target_len));
	FUZZ_CHECK(a->minor == b->minor);
	FUZZ_CHECK(a->is_connect == b->is_connect);
	FUZZ_CHECK(a->is_head == b->is_head);
	FUZZ_CHECK(a->expect_continue == b->expect_continue);
	FUZZ_CHECK(a->keep_alive == b->keep_alive);
	FUZZ_CHECK(a->framing.kind == b->framing.kind);
	FUZZ_CHECK(a->framing.length == b->framing.length);
	FUZZ_CHECK(a->uri.port == b->uri.port);
	FUZZ_CHECK(fuzz_same(a->uri.host, a->uri.host_len, b->uri.host,
	    b->uri.host_len));
	FUZZ_CHECK(fuzz_same(a->uri.path, a->uri.path_len, b->uri.path,
	    b->uri.path_len));
	fuzz_check_same_fields(a->fields, a->nfields, b->fields, b->nfields);
}

/*
 * The upstream head for req, read back with the response lexer (it is in
 * origin-form, which ferry's request parser refuses): it must be
 * well-formed, carry one Host equal to the URL's authority, no hop-by-hop
 * field, and frame the body exactly as the received head did.
 */
static void
check_rewrite(const struct http_request *req, size_t cap)
{
	static const char *const hop[] = { "Connection", "Keep-Alive",
	    "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer",
	    "Upgrade" };
	static const char fake[] = "HTTP/1.1 200 OK\r\n";
	struct ferry_config cfg;
	struct http_field fields[FIELDS + 4];
	struct http_limits wide = { FIELDS + 4, URI_MAX };
	struct http_response up;
	struct framing fr;
	const char *why = NULL, *eol;
	char *out, *resp;
	size_t len = 0, i, j, hosts = 0, rest;

	if (req->is_connect)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.via = true;
	cfg.forwarded_for = true;
	out = malloc(cap);
	resp = malloc(cap + sizeof(fake));
	FUZZ_CHECK(out != NULL && resp != NULL);
	FUZZ_CHECK(rewrite_request(req, &cfg, "192.0.2.1", NULL, out, cap,
	    &len) ==
	    0);
	eol = memchr(out, '\n', len);
	FUZZ_CHECK(eol != NULL);
	rest = len - (size_t)(eol + 1 - out);
	memcpy(resp, fake, sizeof(fake) - 1);
	memcpy(resp + sizeof(fake) - 1, eol + 1, rest);
	FUZZ_CHECK(http_parse_response(resp, sizeof(fake) - 1 + rest, &wide,
	    fields, false, &up) == HTTP_DONE);
	for (i = 0; i < up.nfields; i++) {
		if (field_name_is(&fields[i], "Host")) {
			hosts++;
			FUZZ_CHECK(fuzz_same(fields[i].value,
			    fields[i].value_len, req->uri.authority,
			    req->uri.authority_len));
		}
		for (j = 0; j < sizeof(hop) / sizeof(hop[0]); j++)
			FUZZ_CHECK(!field_name_is(&fields[i], hop[j]));
	}
	FUZZ_CHECK(hosts == 1);
	FUZZ_CHECK(framing_request(fields, up.nfields, 1, &fr, &why) == 0);
	FUZZ_CHECK(fr.kind == req->framing.kind);
	FUZZ_CHECK(fr.length == req->framing.length);
	free(resp);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_field f1[FIELDS], f2[FIELDS];
	struct http_request a, b;
	enum http_result r;
	char *buf, *canon;
	size_t n;

	buf = fuzz_copy(data, size, 0);
	r = http_parse_request(buf, size, &lim, f1, &a);
	if (r == HTTP_BAD) {
		FUZZ_CHECK(a.status >= 400 && a.status <= 599);
		FUZZ_CHECK(a.error != NULL && a.error[0] != '\0');
	}
	if (r != HTTP_DONE) {
		free(buf);
		return 0;
	}
	FUZZ_CHECK(a.head_len >= 4 && a.head_len <= size);
	FUZZ_CHECK(buf[a.head_len - 1] == '\n');
	check_pointers(&a, buf);
	FUZZ_CHECK(http_parse_request(buf, a.head_len - 1, &lim, f2, &b) ==
	    HTTP_PARTIAL);
	FUZZ_CHECK(http_parse_request(buf, a.head_len / 2, &lim, f2, &b) ==
	    HTTP_PARTIAL);

	canon = malloc(a.head_len * 2 + 64);
	FUZZ_CHECK(canon != NULL);
	n = serialise(&a, canon);
	FUZZ_CHECK(http_parse_request(canon, n, &lim, f2, &b) == HTTP_DONE);
	FUZZ_CHECK(b.head_len == n);
	check_same(&a, &b);
	free(canon);

	check_rewrite(&a, a.head_len * 2 + 512);
	free(buf);
	return 0;
}
