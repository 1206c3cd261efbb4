/*
 * fuzz_errpage.c: libFuzzer harness for ferry's own error pages
 * (errpage.c), the class of tinyproxy's CVE-2022-40468 (uninitialised
 * memory sent in an error page).
 *
 * The first bytes pick an error status (4xx or 5xx), HEAD or not, the
 * date (from 1970 to past year 9999, which gets no Date) and the output
 * buffer's size; the rest is the detail text. Invariants, for
 * every input:
 * - a page that does not fit is refused (length 0), never cut short;
 * - a page is a parseable response with the asked status, a correct
 *   Content-Length and "Connection: close", and the whole output is made
 *   of text (every byte is read and checked, so MSan, where used, would
 *   see an uninitialised one);
 * - the detail appears only HTML-escaped: no <, >, " or ' from it, and
 *   every & starts an entity.
 */
#include <stdbool.h>

#include "errpage.h"
#include "fuzz.h"
#include "http.h"

/* Read every byte of out[0..n): none may be NUL (the detail has none). */
static void
check_text(const char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		FUZZ_CHECK(c != '\0');
	}
}

/* The detail paragraph holds no markup of its own. */
static void
check_escaped(const char *body, size_t len)
{
	const char *p = memmem(body, len, "<p>", 3), *end, *q;

	FUZZ_CHECK(p != NULL);
	p += 3;
	end = memmem(p, len - (size_t)(p - body), "</p>\n<hr>", 9);
	FUZZ_CHECK(end != NULL);
	for (q = p; q < end; q++) {
		FUZZ_CHECK(*q != '<' && *q != '>' && *q != '"' && *q != '\'');
		if (*q == '&')
			FUZZ_CHECK(memchr(q, ';', (size_t)(end - q)) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_field fields[16];
	struct http_limits lim = { 16, 8192 };
	struct http_response resp;
	char *detail, *out;
	size_t n, cap;
	time_t now;
	bool head;
	int status;

	if (size < 4)
		return 0;
	status = 400 + (data[0] | data[1] << 8) % 200;
	head = (data[2] & 1) != 0;
	now = (time_t)(data[2] >> 1) * 2000000000;
	cap = 1 + (size_t)data[3] * 8;
	detail = fuzz_copy(data + 4, size - 4, 1);
	out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	n = errpage_format(status, detail, head, now, out, cap);
	if (n == 0) {
		free(out);
		free(detail);
		return 0;
	}
	FUZZ_CHECK(n < cap);
	check_text(out, n);
	FUZZ_CHECK(http_parse_response(out, n, &lim, fields, head,
	    &resp) == HTTP_DONE);
	FUZZ_CHECK(resp.code == status && !resp.keep_alive);
	if (head) {
		/* The same page as for GET, less the body. */
		char *full = malloc(cap);
		size_t fn;

		FUZZ_CHECK(full != NULL);
		fn = errpage_format(status, detail, false, now, full, cap);
		FUZZ_CHECK(resp.head_len == n);
		FUZZ_CHECK(fn == 0 || (fn > n && memcmp(full, out, n) == 0));
		free(full);
	} else {
		FUZZ_CHECK(resp.framing.kind == BODY_LENGTH);
		FUZZ_CHECK(resp.framing.length == n - resp.head_len);
		check_escaped(out + resp.head_len, n - resp.head_len);
	}
	free(out);
	free(detail);
	return 0;
}
