/*
 * framing.c: body framing from Content-Length and Transfer-Encoding
 * (RFC 9112 §6, RFC 9110 §8.6).
 *
 * Requests are held to the strict reading because ferry and the origin must
 * agree on where a body ends. Responses are framed as RFC 9112 §6.3 says a
 * recipient must, except that the ambiguous cases are refused (502).
 */
#include <string.h>
#include <strings.h>

#include "framing.h"
#include "field.h"
#include "num.h"

/* Largest body ferry will frame; keeps all byte counts in int64 range. */
#define FRAMING_MAX_LENGTH ((uint64_t)INT64_MAX)

enum te_verdict {
	TE_ABSENT,
	TE_CHUNKED,		/* codings end in a single chunked */
	TE_NOT_CHUNKED,		/* chunked missing or not last */
	TE_MALFORMED		/* see framing_te() */
};

/* Transfer codings registered for HTTP/1.1 (RFC 9112 §7). */
static bool
framing_known_coding(const char *s, size_t len)
{
	static const char *const known[] = { "chunked", "gzip", "x-gzip",
	    "deflate", "compress", "x-compress" };
	size_t i;

	for (i = 0; i < nitems(known); i++)
		if (strlen(known[i]) == len && strncasecmp(s, known[i],
		    len) == 0)
			return true;
	return false;
}

/*
 * Judge the Transfer-Encoding field. ferry takes it strictly, so that no
 * next hop can read it another way: in one field line only (a reader
 * that keeps the first or the last line would see other codings), that
 * line naming at least one coding, each element a bare coding name with
 * no parameters (no coding ferry knows takes any, and a quoted parameter
 * can hide a comma from a reader that skips quotes differently), chunked
 * at most once. *coded: an element names a coding other than chunked;
 * *unknown: one ferry does not know.
 */
static enum te_verdict
framing_te(const struct http_field *f, size_t n, bool *coded,
    bool *unknown)
{
	bool last_chunked = false, seen = false;
	unsigned chunked = 0, elements = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *p = f[i].value;
		size_t len = f[i].value_len;

		if (!field_name_is(&f[i], "Transfer-Encoding"))
			continue;
		if (seen)
			return TE_MALFORMED;	/* a second field line */
		seen = true;
		for (j = 0; j < len;) {
			size_t start;

			while (j < len && (p[j] == ' ' || p[j] == '\t' ||
			    p[j] == ','))
				j++;
			if (j == len)
				break;
			start = j;
			while (j < len && field_is_tchar((unsigned char)p[j]))
				j++;
			if (j == start)
				return TE_MALFORMED;
			elements++;
			*unknown |= !framing_known_coding(p + start, j - start);
			last_chunked = j - start == 7 &&
			    strncasecmp(p + start, "chunked", 7) == 0;
			chunked += last_chunked;
			*coded |= !last_chunked;
			while (j < len && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j < len && p[j] != ',')	/* ";param" too */
				return TE_MALFORMED;
		}
	}
	if (!seen)
		return TE_ABSENT;
	if (elements == 0 || chunked > 1)
		return TE_MALFORMED;
	return last_chunked ? TE_CHUNKED : TE_NOT_CHUNKED;
}

/*
 * Content-Length (RFC 9110 §8.6) and Max-Forwards (maxfwd.c) are read
 * alike: every field may be a list, all of whose values must be equal.
 */
int
framing_number(const struct http_field *f, size_t n, const char *name,
    uint64_t max, bool *present, uint64_t *value)
{
	size_t i, j;

	*present = false;
	for (i = 0; i < n; i++) {
		const char *p = f[i].value;
		size_t vlen = f[i].value_len;

		if (!field_name_is(&f[i], name))
			continue;
		for (j = 0; j <= vlen;) {
			size_t start, end;
			uint64_t v;

			while (j < vlen && (p[j] == ' ' || p[j] == '\t'))
				j++;
			start = j;
			while (j < vlen && p[j] != ',')
				j++;
			end = j;
			while (end > start && (p[end - 1] == ' ' ||
			    p[end - 1] == '\t'))
				end--;
			if (num_parse_dec(p + start, end - start, max,
			    &v) == -1)
				return -1;
			if (*present && v != *value)
				return -1;
			*present = true;
			*value = v;
			j++;	/* past the comma, or past the end */
		}
	}
	return 0;
}

int
framing_request(const struct http_field *f, size_t n, int minor,
    struct framing *out, const char **why)
{
	bool has_cl, coded = false, unknown = false;
	enum te_verdict te = framing_te(f, n, &coded, &unknown);

	out->kind = BODY_NONE;
	out->length = 0;
	out->length_given = false;
	out->te_over_cl = false;
	out->coded = false;	/* requests: the codings go on as they came */
	if (framing_number(f, n, "Content-Length", FRAMING_MAX_LENGTH,
	    &has_cl, &out->length) == -1) {
		*why = "invalid or conflicting Content-Length";
		return 400;
	}
	if (te == TE_ABSENT) {
		out->kind = has_cl ? BODY_LENGTH : BODY_NONE;
		return 0;
	}
	if (has_cl) {
		*why = "both Content-Length and Transfer-Encoding";
		return 400;
	}
	if (minor == 0) {
		/*
		 * RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is
		 * faulty framing, whatever it says; the caller closes after.
		 */
		*why = "Transfer-Encoding in an HTTP/1.0 request: HTTP/1.0 "
		    "has no transfer codings; send Content-Length instead";
		return 400;
	}
	if (te != TE_MALFORMED && unknown) {
		*why = "unknown transfer coding";
		return 501;
	}
	if (te == TE_CHUNKED) {
		out->kind = BODY_CHUNKED;
		return 0;
	}
	*why = "Transfer-Encoding must be one field line of codings without "
	    "parameters, ending in a single chunked";
	return 400;
}

int
framing_response(const struct http_field *f, size_t n, int minor, int code,
    bool head_request, struct framing *out, const char **why)
{
	bool has_cl, coded = false, unknown = false;
	enum te_verdict te = framing_te(f, n, &coded, &unknown);

	out->kind = BODY_NONE;
	out->length = 0;
	out->te_over_cl = false;
	out->coded = false;
	/*
	 * Read even where it frames nothing (HEAD, 304): a Content-Length
	 * that does not match the grammar may not be passed on (RFC 9110
	 * §8.6), and one that does is sent on as one plain number.
	 */
	if (framing_number(f, n, "Content-Length", FRAMING_MAX_LENGTH,
	    &has_cl, &out->length) == -1) {
		*why = "invalid or conflicting Content-Length from origin";
		return 502;
	}
	out->length_given = has_cl;
	/* RFC 9112 §6.3 rule 1: these never carry a body. */
	if (head_request || code < 200 || code == 204 || code == 304)
		return 0;
	/* §6.1: HTTP/1.0 has no transfer codings; the framing is faulty. */
	if (te != TE_ABSENT && minor == 0) {
		*why = "Transfer-Encoding in an HTTP/1.0 response";
		return 502;
	}
	/*
	 * §6.3 rule 3: Transfer-Encoding overrides Content-Length. The pair
	 * hints at response splitting, so the length goes and so does the
	 * connection after this response.
	 */
	if (te != TE_ABSENT && has_cl) {
		out->te_over_cl = true;
		out->length_given = false;
		out->length = 0;
	}
	if (te == TE_MALFORMED) {
		*why = "malformed Transfer-Encoding from origin";
		return 502;
	}
	/*
	 * §6.3 rule 4: chunked last frames the body, whatever codings came
	 * before it (unknown ones are the client's to undo).
	 */
	out->coded = coded;
	if (te == TE_CHUNKED)
		out->kind = BODY_CHUNKED;
	else if (te != TE_ABSENT)
		out->kind = BODY_CLOSE;
	else
		out->kind = has_cl ? BODY_LENGTH : BODY_CLOSE;
	return 0;
}
