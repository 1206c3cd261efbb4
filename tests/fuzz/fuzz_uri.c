/*
 * fuzz_uri.c: libFuzzer harness for request-target parsing (uri.c).
 *
 * The first input byte picks the form: absolute-form ("http://h:p/x", for
 * ordinary requests), authority-form ("h:p", for CONNECT) or a Host field
 * value. Invariants, for every input:
 * - a rejected target has a reason;
 * - an accepted one has a host of 1..255 bytes and an authority, a host
 *   and a path that all lie inside the target, and a port that is not 0
 *   (so no port can wrap past 65535 into the CONNECT port list);
 * - the port is exactly the decimal number written, or the default;
 * - the accepted authority is also a valid Host field value, and an
 *   accepted target rebuilt from its parts parses to the same parts.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "uri.h"

static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* The port written after the host in authority, or 0 if none. */
static unsigned long
written_port(const struct uri *u)
{
	const char *end = u->authority + u->authority_len;
	const char *p = u->host + u->host_len;
	unsigned long port = 0;

	if (p < end && *p == ']')
		p++;
	if (p >= end || *p != ':')
		return 0;
	for (p++; p < end; p++) {
		FUZZ_CHECK(*p >= '0' && *p <= '9');
		port = port * 10 + (unsigned long)(*p - '0');
		FUZZ_CHECK(port <= 65535);
	}
	return port;
}

static void
check_parts(const struct uri *u, const char *t, size_t len, bool absolute)
{
	unsigned long port;

	FUZZ_CHECK(u->host_len >= 1 && u->host_len <= URI_HOST_MAX);
	FUZZ_CHECK(fuzz_inside(u->authority, u->authority_len, t, len));
	FUZZ_CHECK(fuzz_inside(u->host, u->host_len, u->authority,
	    u->authority_len));
	FUZZ_CHECK(u->port != 0);
	port = written_port(u);
	FUZZ_CHECK(port == u->port || (port == 0 && absolute &&
	    u->port == 80));
	if (absolute) {
		FUZZ_CHECK(fuzz_inside(u->path, u->path_len, t, len));
		FUZZ_CHECK(u->path_len == 0 || u->path[0] == '/' ||
		    u->path[0] == '?');
	} else {
		FUZZ_CHECK(u->authority == t && u->authority_len == len);
	}
	FUZZ_CHECK(uri_check_host_field(u->authority, u->authority_len) == 0);
}

/* Rebuild "http://" authority path and parse it again. */
static void
check_rebuilt(const struct uri *u)
{
	struct uri v;
	const char *why = NULL;
	size_t n = 7 + u->authority_len + u->path_len;
	char *t = malloc(n);

	FUZZ_CHECK(t != NULL);
	memcpy(t, "http://", 7);
	memcpy(t + 7, u->authority, u->authority_len);
	if (u->path_len > 0)
		memcpy(t + 7 + u->authority_len, u->path, u->path_len);
	FUZZ_CHECK(uri_parse_absolute(t, n, &v, &why) == 0);
	FUZZ_CHECK(v.port == u->port);
	FUZZ_CHECK(same(v.host, v.host_len, u->host, u->host_len));
	FUZZ_CHECK(same(v.path, v.path_len, u->path, u->path_len));
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uri u;
	const char *why = NULL;
	char *t;
	int rc;

	if (size == 0)
		return 0;
	t = fuzz_copy(data + 1, size - 1, 0);
	size--;
	switch (data[0] % 3) {
	case 0:
		rc = uri_parse_absolute(t, size, &u, &why);
		FUZZ_CHECK(rc == 0 || (rc == 400 && why != NULL));
		if (rc == 0) {
			check_parts(&u, t, size, true);
			check_rebuilt(&u);
		}
		break;
	case 1:
		rc = uri_parse_authority(t, size, &u, &why);
		FUZZ_CHECK(rc == 0 || (rc == 400 && why != NULL));
		if (rc == 0) {
			check_parts(&u, t, size, false);
			u.path_len = 0;
			check_rebuilt(&u);
		}
		break;
	default:
		rc = uri_check_host_field(t, size);
		FUZZ_CHECK(rc == 0 || rc == 400);
		break;
	}
	free(t);
	return 0;
}
