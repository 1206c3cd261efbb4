/*
 * proxyproto.c: the PROXY protocol header parser (see proxyproto.h),
 * after HAProxy's doc/proxy-protocol.txt ("the spec" below).
 *
 * Owns nothing and keeps no state: each call reads buf[0..len) from the
 * start. Every check uses only bytes already present, and none is put
 * off to the end, so a prefix of a valid header is PARTIAL, a fault is
 * BAD on the first call that holds the byte that shows it, and the
 * verdict cannot depend on how the input was split. Must not allocate,
 * do I/O or read past len.
 *
 * v1 (spec §2.1) is read strictly: the spec says "any sequence which
 * does not exactly match the protocol must be discarded", so single
 * spaces, upper-case keywords, addresses of the announced family with no
 * leading zeros in IPv4 octets, ports 0..65535 without leading zeros,
 * and CRLF within 107 bytes. v2 (spec §2.2) is checked field by field,
 * its length capped at PROXYPROTO_V2_MAX, its TLVs walked and bounded.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyproto.h"

#define PP_V1_SIG		"PROXY "
#define PP_V1_SIG_LEN		6
#define PP_V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define PP_V2_SIG_LEN		12
#define PP_V2_HEAD_LEN		16	/* signature, ver/cmd, family, length */
#define PP_V2_CMD_LOCAL		0x0
#define PP_V2_CMD_PROXY		0x1
#define PP_V2_TCP4		0x11
#define PP_V2_TCP6		0x21
#define PP_V2_TLV_HEAD		3	/* type, 16-bit length */

/* The longest text of a v1 field: a dotted quad, IPv6 text, a port. */
#define PP_V1_ADDR4_MAX		15
#define PP_V1_ADDR6_MAX		(INET6_ADDRSTRLEN - 1)
#define PP_V1_PORT_MAX		5

enum pp_v1_kind {
	PP_ADDR4,
	PP_ADDR6,
	PP_PORT
};

/*
 * The v1 fields after "PROXY TCP4 " or "PROXY TCP6 ", in order, with the
 * fault each one reports.
 */
static const char *const pp_v1_field_why[4] = {
	"v1: bad source address",
	"v1: bad destination address",
	"v1: bad source port",
	"v1: bad destination port"
};

/*
 * Compare buf[0..len) with the first bytes of sig[0..n): -1 on a
 * mismatch, 0 if buf is shorter than sig but matches so far, 1 if all of
 * sig matched.
 */
static int
pp_match(const uint8_t *buf, size_t len, const char *sig, size_t n)
{
	size_t m = len < n ? len : n;

	if (memcmp(buf, sig, m) != 0)
		return -1;
	return m == n ? 1 : 0;
}

static bool
pp_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
pp_hex(uint8_t c)
{
	return pp_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether c may appear in a v1 field of kind k. */
static bool
pp_v1_char(enum pp_v1_kind k, uint8_t c)
{
	switch (k) {
	case PP_ADDR4:
		return pp_digit(c) || c == '.';
	case PP_ADDR6:
		/* '.': an IPv4 tail, as inet_pton() reads it. */
		return pp_hex(c) || c == ':' || c == '.';
	default:
		return pp_digit(c);
	}
}

/*
 * A v1 dotted quad p[0..n) into out: exactly four decimal numbers 0..255
 * with single dots and no leading zero (spec §2.1, "to avoid any possible
 * confusion with octal numbers"). Returns 0, or -1.
 */
static int
pp_v1_ipv4(const uint8_t *p, size_t n, struct in_addr *out)
{
	uint8_t b[4];
	size_t i = 0, start;
	int octet;

	for (octet = 0; octet < 4; octet++) {
		unsigned v = 0;

		if (octet > 0) {
			if (i >= n || p[i] != '.')
				return -1;
			i++;
		}
		start = i;
		while (i < n && pp_digit(p[i]) && i - start < 3)
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == start || v > 255 || (p[start] == '0' && i - start > 1))
			return -1;
		b[octet] = (uint8_t)v;
	}
	if (i != n)
		return -1;
	memcpy(out, b, sizeof(b));
	return 0;
}

/* IPv6 text p[0..n) (n <= PP_V1_ADDR6_MAX) into out, by inet_pton(). */
static int
pp_v1_ipv6(const uint8_t *p, size_t n, struct in6_addr *out)
{
	char text[PP_V1_ADDR6_MAX + 1];

	memcpy(text, p, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

/*
 * The port digits p[0..n), which may be only the start of the field:
 * -1 if they already cannot be a port (a leading zero, more than five
 * digits, above 65535), else 0 with the value in *port.
 */
static int
pp_v1_port(const uint8_t *p, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (n > PP_V1_PORT_MAX || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++)
		v = v * 10 + (uint32_t)(p[i] - '0');
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Out of v1 bytes: PARTIAL, or BAD once the line cap is used up. */
static enum proxyproto_result
pp_v1_short(size_t len, const char **why)
{
	if (len < PROXYPROTO_V1_MAX)
		return PROXYPROTO_PARTIAL;
	*why = "v1: no CRLF within 107 bytes";
	return PROXYPROTO_BAD;
}

/*
 * The CRLF that ends a v1 line, at buf[pos] of buf[0..n) (n = the input
 * up to the line cap; len = the whole input). DONE with *end set past it.
 * A lone CR or LF never ends the line (spec §2.1).
 */
static enum proxyproto_result
pp_v1_crlf(const uint8_t *buf, size_t n, size_t len, size_t pos, size_t *end,
    const char **why)
{
	if (pos >= n)
		return pp_v1_short(len, why);
	if (buf[pos] != '\r') {
		*why = "v1: bad line end";
		return PROXYPROTO_BAD;
	}
	if (pos + 1 >= n)
		return pp_v1_short(len, why);
	if (buf[pos + 1] != '\n') {
		*why = "v1: CR without LF";
		return PROXYPROTO_BAD;
	}
	*end = pos + 2;
	return PROXYPROTO_DONE;
}

/*
 * After "PROXY UNKNOWN" at buf[pos]: CRLF, or a space and anything up to
 * CRLF, which the spec says the receiver must ignore. A bare LF is still
 * bad: only CRLF ends the line.
 */
static enum proxyproto_result
pp_v1_unknown(const uint8_t *buf, size_t n, size_t len, size_t pos,
    size_t *end, const char **why)
{
	if (pos < n && buf[pos] == ' ') {
		for (pos++; pos < n && buf[pos] != '\r'; pos++) {
			if (buf[pos] == '\n') {
				*why = "v1: bare LF";
				return PROXYPROTO_BAD;
			}
		}
	}
	return pp_v1_crlf(buf, n, len, pos, end, why);
}

/*
 * One field of a TCP4/TCP6 line at buf[pos] of buf[0..n): a run of the
 * characters of kind k, at most max long, then term. DONE with *flen =
 * the run's length (the value is not checked yet, except a port's, whose
 * value goes into *port); PARTIAL, or BAD with *why = fault.
 */
static enum proxyproto_result
pp_v1_field(const uint8_t *buf, size_t n, size_t len, size_t pos,
    enum pp_v1_kind k, uint8_t term, const char *fault, size_t *flen,
    uint16_t *port, const char **why)
{
	size_t max = k == PP_PORT ? PP_V1_PORT_MAX :
	    k == PP_ADDR4 ? PP_V1_ADDR4_MAX : PP_V1_ADDR6_MAX;
	size_t i = 0;

	while (pos + i < n && i <= max && pp_v1_char(k, buf[pos + i]))
		i++;
	if (i > max || (k == PP_PORT && pp_v1_port(buf + pos, i, port) != 0))
		goto bad;
	if (pos + i >= n)
		return pp_v1_short(len, why);
	/* i == 0: an empty field, as two spaces make. */
	if (i == 0 || buf[pos + i] != term)
		goto bad;
	*flen = i;
	return PROXYPROTO_DONE;
bad:
	*why = fault;
	return PROXYPROTO_BAD;
}

/*
 * The four fields of a TCP4/TCP6 line from buf[pos] (source and
 * destination address, source and destination port), each ended by one
 * space, the last by CRLF, into pp->src and pp->dst (zeroed, family af
 * set). DONE with *end past the CRLF.
 */
static enum proxyproto_result
pp_v1_fields(const uint8_t *buf, size_t n, size_t len, size_t pos, int af,
    struct proxyproto *pp, size_t *end, const char **why)
{
	struct sockaddr_in *s4[2] = { (struct sockaddr_in *)&pp->src,
	    (struct sockaddr_in *)&pp->dst };
	struct sockaddr_in6 *s6[2] = { (struct sockaddr_in6 *)&pp->src,
	    (struct sockaddr_in6 *)&pp->dst };
	enum pp_v1_kind ak = af == AF_INET ? PP_ADDR4 : PP_ADDR6;
	enum proxyproto_result r;
	int f, bad;

	for (f = 0; f < 4; f++) {
		size_t flen = 0;
		uint16_t port = 0;

		r = pp_v1_field(buf, n, len, pos, f < 2 ? ak : PP_PORT,
		    f < 3 ? ' ' : '\r', pp_v1_field_why[f], &flen, &port, why);
		if (r != PROXYPROTO_DONE)
			return r;
		bad = 0;
		if (f < 2 && af == AF_INET)
			bad = pp_v1_ipv4(buf + pos, flen,
			    &s4[f]->sin_addr) != 0;
		else if (f < 2)
			bad = pp_v1_ipv6(buf + pos, flen,
			    &s6[f]->sin6_addr) != 0;
		else if (af == AF_INET)
			s4[f - 2]->sin_port = htons(port);
		else
			s6[f - 2]->sin6_port = htons(port);
		if (bad) {
			*why = pp_v1_field_why[f];
			return PROXYPROTO_BAD;
		}
		pos += flen + (f < 3);
	}
	return pp_v1_crlf(buf, n, len, pos, end, why);
}

/*
 * The protocol word at buf[pos] ("TCP4", "TCP6" or "UNKNOWN"): *af gets
 * AF_INET, AF_INET6 or AF_UNSPEC and *pos moves past the word. DONE once
 * the byte after the word is seen (checked by the caller), PARTIAL or BAD
 * as soon as the word can no longer be one of the three.
 */
static enum proxyproto_result
pp_v1_proto(const uint8_t *buf, size_t n, size_t len, size_t *pos, int *af,
    const char **why)
{
	static const struct {
		const char	*word;
		int		 af;
	} protos[] = {
		{ "TCP4", AF_INET }, { "TCP6", AF_INET6 },
		{ "UNKNOWN", AF_UNSPEC }
	};
	size_t i = 0, p, w;
	bool maybe = false;

	while (*pos + i < n && ((buf[*pos + i] >= 'A' &&
	    buf[*pos + i] <= 'Z') || pp_digit(buf[*pos + i])))
		i++;
	p = *pos + i;
	for (w = 0; w < sizeof(protos) / sizeof(protos[0]); w++) {
		size_t wl = strlen(protos[w].word);

		if (i > wl || memcmp(buf + *pos, protos[w].word, i) != 0)
			continue;
		maybe = true;
		if (p < n && i == wl) {
			*af = protos[w].af;
			*pos = p;
			return PROXYPROTO_DONE;
		}
	}
	if (maybe && p >= n)
		return pp_v1_short(len, why);
	*why = "v1: bad protocol";
	return PROXYPROTO_BAD;
}

/* A v1 line (spec §2.1); buf[0] is 'P'. */
static enum proxyproto_result
pp_v1(const uint8_t *buf, size_t len, struct proxyproto *out,
    const char **why)
{
	struct proxyproto pp;
	size_t n = len < PROXYPROTO_V1_MAX ? len : PROXYPROTO_V1_MAX;
	size_t pos = PP_V1_SIG_LEN, end = 0;
	enum proxyproto_result r;
	int af = AF_UNSPEC;

	switch (pp_match(buf, n, PP_V1_SIG, PP_V1_SIG_LEN)) {
	case -1:
		*why = "v1: bad signature";
		return PROXYPROTO_BAD;
	case 0:
		return PROXYPROTO_PARTIAL;
	default:
		break;
	}
	r = pp_v1_proto(buf, n, len, &pos, &af, why);
	if (r != PROXYPROTO_DONE)
		return r;
	memset(&pp, 0, sizeof(pp));
	pp.version = 1;
	if (af == AF_UNSPEC) {
		/* Spec §2.1: use the real connection's addresses. */
		pp.local = true;
		r = pp_v1_unknown(buf, n, len, pos, &end, why);
	} else if (buf[pos] != ' ') {
		*why = "v1: bad protocol";
		return PROXYPROTO_BAD;
	} else {
		pp.src.ss_family = (sa_family_t)af;
		pp.dst.ss_family = (sa_family_t)af;
		r = pp_v1_fields(buf, n, len, pos + 1, af, &pp, &end, why);
	}
	if (r != PROXYPROTO_DONE)
		return r;
	pp.len = end;
	*out = pp;
	return PROXYPROTO_DONE;
}

/*
 * The bytes of addresses a v2 family/transport byte announces (spec
 * §2.2), or -1 for a value the spec does not list, which "must be
 * rejected as invalid by receivers".
 */
static int
pp_v2_addr_len(uint8_t fam)
{
	switch (fam) {
	case 0x00:			/* UNSPEC */
		return 0;
	case 0x11: case 0x12:		/* TCP, UDP over IPv4 */
		return 12;
	case 0x21: case 0x22:		/* TCP, UDP over IPv6 */
		return 36;
	case 0x31: case 0x32:		/* UNIX stream, datagram */
		return 216;
	default:
		return -1;
	}
}

/*
 * Walk the TLVs in buf[off..end) (spec §2.2: type, 16-bit length, value)
 * as far as buf[0..len) goes, only to check that each one lies inside the
 * header: ferry uses none of them. A TLV whose head or value would cross
 * end is BAD, and that is known from the lengths alone, before its bytes
 * arrive. PP2_TYPE_CRC32C is not verified: the spec asks that only of a
 * receiver that supports it.
 */
static enum proxyproto_result
pp_v2_tlvs(const uint8_t *buf, size_t len, size_t off, size_t end,
    const char **why)
{
	while (off < end) {
		size_t vlen;

		if (end - off < PP_V2_TLV_HEAD) {
			*why = "v2: truncated TLV";
			return PROXYPROTO_BAD;
		}
		if (len < off + PP_V2_TLV_HEAD)
			return PROXYPROTO_PARTIAL;
		vlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (vlen > end - off - PP_V2_TLV_HEAD) {
			*why = "v2: TLV runs past the header";
			return PROXYPROTO_BAD;
		}
		off += PP_V2_TLV_HEAD + vlen;
	}
	return PROXYPROTO_DONE;
}

/* The addresses of a v2 TCP4 or TCP6 header buf[0..16 + alen) into pp. */
static void
pp_v2_addrs(const uint8_t *buf, uint8_t fam, struct proxyproto *pp)
{
	const uint8_t *a = buf + PP_V2_HEAD_LEN;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&pp->src;
	struct sockaddr_in *d4 = (struct sockaddr_in *)&pp->dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&pp->src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&pp->dst;

	/* Ports stay in network order, as the header and sin_port have. */
	if (fam == PP_V2_TCP4) {
		s4->sin_family = AF_INET;
		d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
	} else {
		s6->sin6_family = AF_INET6;
		d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
	}
}

/*
 * A v2 header (spec §2.2); buf[0] is '\r'.
 *
 * Which headers carry an address: PROXY with TCP over IPv4 or IPv6. The
 * spec lets a receiver leave the other transports unimplemented
 * "provided that it automatically falls back to the UNSPEC mode for the
 * valid combinations above that it does not support", and for UNSPEC the
 * receiver "is free to accept the connection anyway and use the real
 * endpoint addresses": so PROXY with UDP or AF_UNIX is accepted as local
 * (HAProxy's receiver does the same), not refused. Such a header is
 * valid; a balancer that sends it is misconfigured for ferry, and the
 * caller can log out->local. For LOCAL the spec says the receiver "must
 * accept this connection as valid" and discard "the protocol block
 * including the family which is ignored", and "must not assume zero is
 * presented": so its family byte is not checked and its length is only
 * skipped (its bytes may be addresses, not TLVs). PROXY with UNSPEC is
 * skipped the same way, since nothing says where its addresses end.
 */
static enum proxyproto_result
pp_v2(const uint8_t *buf, size_t len, struct proxyproto *out,
    const char **why)
{
	struct proxyproto pp;
	size_t blen, end;
	uint8_t cmd, fam = 0;
	int alen = 0;
	enum proxyproto_result r;

	switch (pp_match(buf, len, PP_V2_SIG, PP_V2_SIG_LEN)) {
	case -1:
		*why = "v2: bad signature";
		return PROXYPROTO_BAD;
	case 0:
		return PROXYPROTO_PARTIAL;
	default:
		break;
	}
	if (len <= PP_V2_SIG_LEN)
		return PROXYPROTO_PARTIAL;
	if (buf[12] >> 4 != 2) {
		*why = "v2: bad version";
		return PROXYPROTO_BAD;
	}
	cmd = buf[12] & 0x0f;
	if (cmd != PP_V2_CMD_LOCAL && cmd != PP_V2_CMD_PROXY) {
		*why = "v2: bad command";
		return PROXYPROTO_BAD;
	}
	if (len <= 13)
		return PROXYPROTO_PARTIAL;
	if (cmd == PP_V2_CMD_PROXY) {
		fam = buf[13];
		alen = pp_v2_addr_len(fam);
		if (alen < 0) {
			*why = "v2: bad family";
			return PROXYPROTO_BAD;
		}
	}
	if (len < PP_V2_HEAD_LEN)
		return PROXYPROTO_PARTIAL;
	blen = (size_t)buf[14] << 8 | buf[15];
	end = PP_V2_HEAD_LEN + blen;
	if (end > PROXYPROTO_V2_MAX) {
		*why = "v2: oversized";
		return PROXYPROTO_BAD;
	}
	if (blen < (size_t)alen) {
		*why = "v2: length too short for the addresses";
		return PROXYPROTO_BAD;
	}
	if (cmd == PP_V2_CMD_PROXY && fam != 0x00) {
		r = pp_v2_tlvs(buf, len, PP_V2_HEAD_LEN + (size_t)alen, end,
		    why);
		if (r != PROXYPROTO_DONE)
			return r;
	}
	if (len < end)
		return PROXYPROTO_PARTIAL;
	memset(&pp, 0, sizeof(pp));
	pp.version = 2;
	pp.len = end;
	pp.local = !(cmd == PP_V2_CMD_PROXY &&
	    (fam == PP_V2_TCP4 || fam == PP_V2_TCP6));
	if (!pp.local)
		pp_v2_addrs(buf, fam, &pp);
	*out = pp;
	return PROXYPROTO_DONE;
}

enum proxyproto_result
proxyproto_parse(const uint8_t *buf, size_t len, struct proxyproto *out,
    const char **why)
{
	*why = NULL;
	if (len == 0)
		return PROXYPROTO_PARTIAL;
	if (buf[0] == 'P')
		return pp_v1(buf, len, out, why);
	if (buf[0] == '\r')
		return pp_v2(buf, len, out, why);
	*why = "not a PROXY header";
	return PROXYPROTO_BAD;
}
