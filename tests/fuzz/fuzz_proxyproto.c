/*
 * fuzz_proxyproto.c: libFuzzer harness for the PROXY protocol header
 * parser (proxyproto.c). The input is the first bytes of a connection.
 * Invariants, for every input:
 * - the verdict is PARTIAL, DONE or BAD, and why is set exactly for BAD;
 * - PARTIAL only while the input is shorter than PROXYPROTO_MAX;
 * - DONE: 0 < len <= the input (v1: <= 107), and the input cut to len
 *   gives the same header; one byte less is PARTIAL; a local header has
 *   no address, another has two of one family (AF_INET or AF_INET6);
 *   a v1 TCP4 line is exactly what its addresses and ports print as
 *   (the spec's IPv4 form has one spelling), and a v2 header carries its
 *   addresses and ports at bytes 16.. as they were parsed;
 * - prefixes agree: a prefix of a DONE input is PARTIAL before len and
 *   the same DONE after it, a prefix of a PARTIAL input is PARTIAL, and
 *   no prefix of a BAD input is DONE.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "proxyproto.h"

/* Parse an exact-size heap copy of data[0..size). */
static enum proxyproto_result
parse(const uint8_t *data, size_t size, struct proxyproto *pp)
{
	char *buf = fuzz_copy(data, size, 0);
	const char *why = "unset";
	enum proxyproto_result r;

	r = proxyproto_parse((const uint8_t *)buf, size, pp, &why);
	FUZZ_CHECK(r == PROXYPROTO_PARTIAL || r == PROXYPROTO_DONE ||
	    r == PROXYPROTO_BAD);
	FUZZ_CHECK((r == PROXYPROTO_BAD) == (why != NULL));
	FUZZ_CHECK(r != PROXYPROTO_PARTIAL || size < PROXYPROTO_MAX);
	free(buf);
	return r;
}

/* The addresses of a DONE header against the bytes they came from. */
static void
check_addrs(const uint8_t *data, const struct proxyproto *pp)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&pp->src;
	const struct sockaddr_in *d4 = (const struct sockaddr_in *)&pp->dst;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&pp->src;
	const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)&pp->dst;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], line[128];
	int n;

	if (pp->local) {
		FUZZ_CHECK(pp->src.ss_family == AF_UNSPEC &&
		    pp->dst.ss_family == AF_UNSPEC);
		return;
	}
	FUZZ_CHECK(pp->src.ss_family == pp->dst.ss_family);
	FUZZ_CHECK(pp->src.ss_family == AF_INET ||
	    pp->src.ss_family == AF_INET6);
	if (pp->version == 2 && pp->src.ss_family == AF_INET) {
		FUZZ_CHECK(pp->len >= 16 + 12 && data[13] == 0x11);
		FUZZ_CHECK(memcmp(data + 16, &s4->sin_addr, 4) == 0 &&
		    memcmp(data + 20, &d4->sin_addr, 4) == 0 &&
		    memcmp(data + 24, &s4->sin_port, 2) == 0 &&
		    memcmp(data + 26, &d4->sin_port, 2) == 0);
	} else if (pp->version == 2) {
		FUZZ_CHECK(pp->len >= 16 + 36 && data[13] == 0x21);
		FUZZ_CHECK(memcmp(data + 16, &s6->sin6_addr, 16) == 0 &&
		    memcmp(data + 32, &d6->sin6_addr, 16) == 0 &&
		    memcmp(data + 48, &s6->sin6_port, 2) == 0 &&
		    memcmp(data + 50, &d6->sin6_port, 2) == 0);
	} else if (pp->src.ss_family == AF_INET) {
		FUZZ_CHECK(inet_ntop(AF_INET, &s4->sin_addr, src,
		    sizeof(src)) != NULL);
		FUZZ_CHECK(inet_ntop(AF_INET, &d4->sin_addr, dst,
		    sizeof(dst)) != NULL);
		n = snprintf(line, sizeof(line), "PROXY TCP4 %s %s %u %u\r\n",
		    src, dst, (unsigned)ntohs(s4->sin_port),
		    (unsigned)ntohs(d4->sin_port));
		FUZZ_CHECK(n > 0 && (size_t)n == pp->len &&
		    memcmp(line, data, pp->len) == 0);
	} else {
		FUZZ_CHECK(memcmp(data, "PROXY TCP6 ", 11) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto pp, again;
	enum proxyproto_result r = parse(data, size, &pp), rk;
	size_t cuts[3], i, k;

	if (r == PROXYPROTO_DONE) {
		FUZZ_CHECK(pp.len > 0 && pp.len <= size);
		FUZZ_CHECK(pp.version == 2 ||
		    (pp.version == 1 && pp.len <= PROXYPROTO_V1_MAX));
		FUZZ_CHECK(pp.len <= PROXYPROTO_MAX);
		FUZZ_CHECK(parse(data, pp.len, &again) == PROXYPROTO_DONE);
		FUZZ_CHECK(memcmp(&pp, &again, sizeof(pp)) == 0);
		FUZZ_CHECK(parse(data, pp.len - 1, &again) ==
		    PROXYPROTO_PARTIAL);
		check_addrs(data, &pp);
	}
	cuts[0] = size > 0 ? size - 1 : 0;
	cuts[1] = size / 2;
	cuts[2] = size > 0 ? data[size - 1] % size : 0;
	for (i = 0; i < 3; i++) {
		k = cuts[i];
		rk = parse(data, k, &again);
		if (r == PROXYPROTO_PARTIAL)
			FUZZ_CHECK(rk == PROXYPROTO_PARTIAL);
		else if (r == PROXYPROTO_BAD)
			FUZZ_CHECK(rk != PROXYPROTO_DONE);
		else if (k < pp.len)
			FUZZ_CHECK(rk == PROXYPROTO_PARTIAL);
		else
			FUZZ_CHECK(rk == PROXYPROTO_DONE &&
			    memcmp(&pp, &again, sizeof(pp)) == 0);
	}
	return 0;
}
