/*
 * fuzz_dest.c: libFuzzer harness for the destination patterns
 * (destpat.c) and the rule set that holds them (dest.c).
 *
 * The input is one pattern as an admin would write it. Invariants, for
 * every input:
 * - a refused pattern says why in a NUL-terminated message that fits;
 * - an accepted one is canonical where it should be (lower-case name of
 *   at most 253 bytes without a dot at either end, no bits past the
 *   prefix, ports 1..65535 with lo <= hi), and its canonical text fits
 *   DESTPAT_TEXT_MAX and parses back to the same pattern;
 * - a set built from it as a deny list denies what the pattern names:
 *   the host (or a name below a suffix) on its lowest port, or the
 *   network's first address;
 * - the input read as a request host: a strict IPv4 literal is one that
 *   inet_pton() takes; a name parses as a pattern naming that host;
 * - nothing leaks and nothing is read past the input.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "dest.h"
#include "destpat.h"
#include "fuzz.h"

/* p is in the form the parser promises. */
static void
check_canonical(const struct destpat *p)
{
	unsigned width = p->family == AF_INET ? 32 : 128, i;

	if (p->has_port)
		FUZZ_CHECK(p->port_lo >= 1 && p->port_lo <= p->port_hi);
	else
		FUZZ_CHECK(p->port_lo == 0 && p->port_hi == 0);
	switch (p->kind) {
	case DESTPAT_EXACT:
	case DESTPAT_SUFFIX:
		FUZZ_CHECK(p->name_len > 0 && p->name_len <= DESTPAT_NAME_MAX);
		FUZZ_CHECK(strlen(p->name) == p->name_len);
		FUZZ_CHECK(p->name[0] != '.' && p->name[p->name_len - 1] != '.');
		for (i = 0; i < p->name_len; i++)
			FUZZ_CHECK(p->name[i] < 'A' || p->name[i] > 'Z');
		break;
	case DESTPAT_ANY:
		break;
	case DESTPAT_NET:
		FUZZ_CHECK(p->family == AF_INET || p->family == AF_INET6);
		FUZZ_CHECK(p->prefix <= width);
		for (i = p->prefix; i < 128; i++)
			FUZZ_CHECK((p->addr[i / 8] & (0x80u >> (i % 8))) == 0);
		break;
	}
}

/* A deny set of the canonical text denies what p names. */
static void
check_set(const struct destpat *p, const char *text)
{
	struct dest_set *s = dest_set_new();
	struct sockaddr_storage ss;
	struct dest_match m;
	char err[256], host[DESTPAT_NAME_MAX + 8];
	uint16_t port = p->has_port ? p->port_lo : 80;
	int n;

	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(dest_add_list(s, DEST_DENY, text, err, sizeof(err)) == 0);
	FUZZ_CHECK(dest_count(s) == 1);
	memset(&ss, 0, sizeof(ss));
	if (p->kind == DESTPAT_NET && p->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, p->addr, 4);
		dest_match_addr(s, (struct sockaddr *)&ss, &m);
	} else if (p->kind == DESTPAT_NET) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, p->addr, 16);
		/* A mapped address matches as IPv4, never an IPv6 rule. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			goto out;
		dest_match_addr(s, (struct sockaddr *)&ss, &m);
	} else {
		/*
		 * A suffix rule matches a name below it, or (when a name
		 * below would pass DESTPAT_NAME_MAX) the name itself.
		 */
		bool below = p->kind == DESTPAT_SUFFIX &&
		    strlen(p->name) + 2 <= DESTPAT_NAME_MAX;

		n = snprintf(host, sizeof(host), "%s%s", below ? "w." : "",
		    p->kind == DESTPAT_ANY ? "any.example" : p->name);
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(host));
		dest_match_name(s, host, (size_t)n, port, &m);
	}
	FUZZ_CHECK(m.verdict == DEST_DENY && strcmp(m.rule, text) == 0);
out:
	dest_set_free(s);
}

/* The input read as a request host. */
static void
check_literal(const char *in, size_t size)
{
	struct destpat p;
	struct in_addr a;
	char err[256], *copy;

	switch (destpat_literal(in, size)) {
	case DESTPAT_LIT_IPV4:
		copy = fuzz_copy((const uint8_t *)in, size, 1);
		FUZZ_CHECK(strlen(copy) == size);
		FUZZ_CHECK(inet_pton(AF_INET, copy, &a) == 1);
		free(copy);
		break;
	case DESTPAT_LIT_NAME:
		FUZZ_CHECK(destpat_parse(in, size, &p, err, sizeof(err)) == 0);
		FUZZ_CHECK(p.kind == DESTPAT_EXACT && !p.has_port);
		FUZZ_CHECK(strncasecmp(p.name, in, p.name_len) == 0);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct destpat p, q;
	char err[128], text[DESTPAT_TEXT_MAX + 1];
	char *in;
	int n;

	in = fuzz_copy(data, size, 0);
	memset(err, 'x', sizeof(err));
	if (destpat_parse(in, size, &p, err, sizeof(err)) == -1) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(err[0] == '\'');
	} else {
		check_canonical(&p);
		n = destpat_format(&p, text, sizeof(text));
		FUZZ_CHECK(n > 0 && (size_t)n <= DESTPAT_TEXT_MAX);
		FUZZ_CHECK(destpat_parse(text, (size_t)n, &q, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(memcmp(&p, &q, sizeof(p)) == 0);
		check_set(&p, text);
	}
	check_literal(in, size);
	free(in);
	return 0;
}
