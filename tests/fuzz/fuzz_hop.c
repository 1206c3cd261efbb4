/*
 * fuzz_hop.c: libFuzzer harness for the reading of a parent's reply to
 * CONNECT (hop_parse_reply(): interim heads skipped, the final head
 * parsed by the strict response parser as a HEAD answer). The input is
 * what the parent sends. Invariants, for every input:
 * - a refused reply has a reason; an accepted one ends inside the input,
 *   has a final status (200..999), and its fields lie inside the input;
 * - the verdict does not depend on how the bytes arrive: every prefix
 *   shorter than the end of an accepted reply is incomplete, a prefix of
 *   a refused one is incomplete or refused, and once accepted, more bytes
 *   (the tunnel's) change nothing.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "hop.h"
#include "http.h"

#define FIELDS	64

static const struct http_limits lim = { FIELDS, 0 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_field fields[FIELDS];
	struct http_response resp, again;
	enum http_result r, p;
	char *in = fuzz_copy(data, size, 0);
	size_t end = 0, end2 = 0, i, n;

	r = hop_parse_reply(in, size, &lim, fields, &resp, &end);
	if (r == HTTP_BAD)
		FUZZ_CHECK(resp.error != NULL && resp.error[0] != '\0');
	if (r == HTTP_DONE) {
		FUZZ_CHECK(end > 0 && end <= size);
		FUZZ_CHECK(resp.code >= 200 && resp.code <= 999);
		for (i = 0; i < resp.nfields; i++)
			FUZZ_CHECK(fuzz_inside(resp.fields[i].name,
			    resp.fields[i].name_len, in, size) &&
			    fuzz_inside(resp.fields[i].value,
			    resp.fields[i].value_len, in, size));
	}
	/* Prefixes, as a parent that sends a byte at a time gives them. */
	for (n = 0; n < size; n++) {
		char *part = fuzz_copy(data, n, 0);

		p = hop_parse_reply(part, n, &lim, fields, &again, &end2);
		if (r == HTTP_DONE && n < end)
			FUZZ_CHECK(p == HTTP_PARTIAL);
		else if (r == HTTP_DONE)
			FUZZ_CHECK(p == HTTP_DONE && end2 == end &&
			    again.code == resp.code);
		else if (r == HTTP_BAD)
			FUZZ_CHECK(p == HTTP_PARTIAL || p == HTTP_BAD);
		else
			FUZZ_CHECK(p == HTTP_PARTIAL);
		free(part);
	}
	free(in);
	return 0;
}
