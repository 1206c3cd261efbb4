/*
 * destpat.c: destination rule patterns and the strict literal check (see
 * destpat.h). The rule set and its lookups are in dest.c.
 *
 * The pattern parser is pure and allocation-free: a byte loop over an
 * explicit state enum splits "host[/prefix][:lo[-hi]]" (or "[v6]...")
 * into spans, then each span is checked on its own. Every refusal has
 * a fixed reason, so that an admin sees why a rule was not taken rather
 * than a rule that silently never matches.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "destpat.h"
#include "num.h"

/* RFC 1035 section 2.3.4: a label is at most 63 octets. */
#define DESTPAT_LABEL_MAX	63

enum destpat_error {
	DESTPAT_OK,
	DESTPAT_E_EMPTY,
	DESTPAT_E_TOO_LONG,
	DESTPAT_E_BRACKET,
	DESTPAT_E_AFTER_BRACKET,
	DESTPAT_E_BRACKET_V4,
	DESTPAT_E_V6_PORT,
	DESTPAT_E_STAR,
	DESTPAT_E_NAME,
	DESTPAT_E_NUMERIC,
	DESTPAT_E_SUFFIX_ADDR,
	DESTPAT_E_ADDR,
	DESTPAT_E_PREFIX_NAME,
	DESTPAT_E_PREFIX,
	DESTPAT_E_HOST_BITS,
	DESTPAT_E_PORT,
	DESTPAT_E_RANGE
};

static const char *const destpat_error_text[] = {
	[DESTPAT_OK] = "ok",
	[DESTPAT_E_EMPTY] = "empty pattern",
	[DESTPAT_E_TOO_LONG] = "pattern too long",
	[DESTPAT_E_BRACKET] = "'[' without its ']'",
	[DESTPAT_E_AFTER_BRACKET] = "only /PREFIX or :PORT may follow ']'",
	[DESTPAT_E_BRACKET_V4] = "brackets hold only an IPv6 address",
	[DESTPAT_E_V6_PORT] = "an IPv6 address needs brackets before a port "
	    "([::1]:80)",
	[DESTPAT_E_STAR] = "'*' stands alone; for a domain and every name "
	    "below it write '.example.com'",
	[DESTPAT_E_NAME] = "not a host name (letters, digits, '-', '_'; labels "
	    "of 1 to 63 bytes, 253 in all)",
	[DESTPAT_E_NUMERIC] = "an IPv4 address is four decimal octets "
	    "(a.b.c.d, no leading zeros); other inet_aton forms are refused",
	[DESTPAT_E_SUFFIX_ADDR] = "a '.suffix' must be a name, not an address",
	[DESTPAT_E_ADDR] = "not an IPv4 or IPv6 address",
	[DESTPAT_E_PREFIX_NAME] = "a /PREFIX applies only to an address",
	[DESTPAT_E_PREFIX] = "bad /PREFIX (0-32 for IPv4, 0-128 for IPv6)",
	[DESTPAT_E_HOST_BITS] = "address bits set past the /PREFIX",
	[DESTPAT_E_PORT] = "bad port (1-65535)",
	[DESTPAT_E_RANGE] = "port range LOW-HIGH with LOW above HIGH"
};

/* Where a pattern's parts are; a span with has_x false is absent. */
struct destpat_spans {
	const char	*host;
	size_t		 host_len;
	bool		 bracket;
	bool		 has_prefix;
	const char	*prefix;
	size_t		 prefix_len;
	bool		 has_port;
	const char	*lo;
	size_t		 lo_len;
	bool		 has_hi;
	const char	*hi;
	size_t		 hi_len;
};

enum destpat_state {
	DP_HOST,	/* a name, "*", or an address without brackets */
	DP_BRACKET,	/* inside "[...]" */
	DP_CLOSED,	/* just after ']' */
	DP_PREFIX,	/* after '/' */
	DP_PORT_LO,	/* after ':' */
	DP_PORT_HI	/* after '-' in a port range */
};

/* Close the span that state st was reading, s[mark..i). */
static void
destpat_span_end(struct destpat_spans *sp, enum destpat_state st, const char *s,
    size_t mark, size_t i)
{
	switch (st) {
	case DP_HOST:
	case DP_BRACKET:
		sp->host = s + mark;
		sp->host_len = i - mark;
		break;
	case DP_PREFIX:
		sp->prefix = s + mark;
		sp->prefix_len = i - mark;
		break;
	case DP_PORT_LO:
		sp->lo = s + mark;
		sp->lo_len = i - mark;
		break;
	case DP_PORT_HI:
		sp->hi = s + mark;
		sp->hi_len = i - mark;
		break;
	case DP_CLOSED:
		break;
	}
}

/*
 * Split s[0..len) into spans. Without brackets, two colons or more can
 * only be an IPv6 address, so no ':' there starts a port: that is why
 * issue 16 requires brackets before an IPv6 address's port.
 */
static enum destpat_error
destpat_split(const char *s, size_t len, struct destpat_spans *sp)
{
	enum destpat_state st = DP_HOST, next;
	size_t i, mark = 0, colons = 0;
	bool bare6;

	memset(sp, 0, sizeof(*sp));
	for (i = 0; i < len; i++)
		colons += s[i] == ':';
	if (len > 0 && s[0] == '[') {
		st = DP_BRACKET;
		sp->bracket = true;
		mark = 1;
	}
	bare6 = !sp->bracket && colons > 1;
	for (i = mark; i < len; i++) {
		next = st;
		switch (st) {
		case DP_HOST:
			if (s[i] == '/')
				next = DP_PREFIX;
			else if (s[i] == ':' && !bare6)
				next = DP_PORT_LO;
			break;
		case DP_BRACKET:
			if (s[i] == ']')
				next = DP_CLOSED;
			break;
		case DP_CLOSED:
			if (s[i] == '/')
				next = DP_PREFIX;
			else if (s[i] == ':')
				next = DP_PORT_LO;
			else
				return DESTPAT_E_AFTER_BRACKET;
			break;
		case DP_PREFIX:
			if (s[i] == ':' && bare6)
				return DESTPAT_E_V6_PORT;
			if (s[i] == ':')
				next = DP_PORT_LO;
			break;
		case DP_PORT_LO:
			if (s[i] == '-')
				next = DP_PORT_HI;
			break;
		case DP_PORT_HI:
			break;
		}
		if (next == st)
			continue;
		destpat_span_end(sp, st, s, mark, i);
		sp->has_prefix |= next == DP_PREFIX;
		sp->has_port |= next == DP_PORT_LO;
		sp->has_hi |= next == DP_PORT_HI;
		st = next;
		mark = i + 1;
	}
	if (st == DP_BRACKET)
		return DESTPAT_E_BRACKET;
	destpat_span_end(sp, st, s, mark, len);
	return DESTPAT_OK;
}

/* A decimal or 0x number: the last label of what inet_aton() reads. */
static bool
destpat_numeric_label(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++)
			if (num_hex_digit((unsigned char)s[i]) == -1)
				return false;
		return true;
	}
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* Four decimal octets, 0-255, no leading zero: the one IPv4 form taken. */
static bool
destpat_is_quad(const char *s, size_t len)
{
	size_t i, digits = 0, dots = 0;
	unsigned v = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (digits == 0 || v > 255)
				return false;
			if (i < len && ++dots > 3)
				return false;
			digits = 0;
			v = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++digits > 3 ||
		    (digits == 2 && v == 0))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return dots == 3;
}

/* An IPv6 address as inet_pton() reads it, with no zone. */
static bool
destpat_is_v6(const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(AF_INET6, text, &a) == 1;
}

enum destpat_literal
destpat_literal(const char *host, size_t len)
{
	size_t i, n = len, label = 0, last = 0;

	if (len == 0 || len > DESTPAT_NAME_MAX + 1)
		return DESTPAT_LIT_BAD;
	if (memchr(host, ':', len) != NULL)
		return destpat_is_v6(host, len) ? DESTPAT_LIT_IPV6 : DESTPAT_LIT_BAD;
	if (host[n - 1] == '.')
		n--;
	if (n == 0 || n > DESTPAT_NAME_MAX)
		return DESTPAT_LIT_BAD;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c == '.') {
			if (label == 0)
				return DESTPAT_LIT_BAD;
			label = 0;
			last = i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return DESTPAT_LIT_BAD;
		if (++label > DESTPAT_LABEL_MAX)
			return DESTPAT_LIT_BAD;
	}
	if (label == 0)
		return DESTPAT_LIT_BAD;
	/* No top-level domain is a number (RFC 3696 section 2). */
	if (!destpat_numeric_label(host + last, n - last))
		return DESTPAT_LIT_NAME;
	if (n == len && destpat_is_quad(host, n))
		return DESTPAT_LIT_IPV4;
	return DESTPAT_LIT_NUMERIC;
}

/* Parse an address host[0..hlen) with the optional prefix into p. */
static enum destpat_error
destpat_parse_net(const struct destpat_spans *sp, struct destpat *p)
{
	char text[INET6_ADDRSTRLEN + 8];
	struct addr_net net;
	uint8_t masked[16];
	size_t len, blen;
	int n;

	n = snprintf(text, sizeof(text), "%.*s%s%.*s", (int)sp->host_len,
	    sp->host, sp->has_prefix ? "/" : "", (int)sp->prefix_len,
	    sp->prefix);
	if (n < 0 || (size_t)n >= sizeof(text))
		return DESTPAT_E_ADDR;
	len = (size_t)n;
	if (sp->has_prefix && (sp->prefix_len == 0 || sp->prefix_len > 3))
		return DESTPAT_E_PREFIX;
	if (addr_parse_net(text, len, &net) == -1)
		return sp->has_prefix && addr_parse_net(text, sp->host_len,
		    &net) == 0 ? DESTPAT_E_PREFIX : DESTPAT_E_ADDR;
	blen = net.family == AF_INET ? 4 : 16;
	memcpy(masked, net.bytes, sizeof(masked));
	addr_mask(masked, blen, net.prefix);
	if (memcmp(masked, net.bytes, blen) != 0)
		return DESTPAT_E_HOST_BITS;
	p->kind = DESTPAT_NET;
	p->family = net.family;
	p->prefix = net.prefix;
	memcpy(p->addr, net.bytes, sizeof(p->addr));
	/* ::ffff:a.b.c.d/96+n is a.b.c.d/n: addresses match that way. */
	if (net.family == AF_INET6 && net.prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)net.bytes)) {
		p->family = AF_INET;
		p->prefix = net.prefix - 96;
		memset(p->addr, 0, sizeof(p->addr));
		memcpy(p->addr, net.bytes + 12, 4);
	}
	return DESTPAT_OK;
}

/* Parse the host span: "*", a name, ".suffix" or an address. */
static enum destpat_error
destpat_parse_host(const struct destpat_spans *sp, struct destpat *p)
{
	const char *h = sp->host;
	size_t i, n = sp->host_len;
	bool suffix;

	if (n == 0)
		return DESTPAT_E_EMPTY;
	if (sp->bracket)
		return memchr(h, ':', n) != NULL ? destpat_parse_net(sp, p) :
		    DESTPAT_E_BRACKET_V4;
	if (h[0] == '*' && (n > 1 || sp->has_prefix))
		return n > 1 ? DESTPAT_E_STAR : DESTPAT_E_PREFIX_NAME;
	if (h[0] == '*') {
		p->kind = DESTPAT_ANY;
		return DESTPAT_OK;
	}
	suffix = h[0] == '.';
	switch (destpat_literal(h + suffix, n - suffix)) {
	case DESTPAT_LIT_IPV4:
	case DESTPAT_LIT_IPV6:
		return suffix ? DESTPAT_E_SUFFIX_ADDR : destpat_parse_net(sp, p);
	case DESTPAT_LIT_NUMERIC:
		return DESTPAT_E_NUMERIC;
	case DESTPAT_LIT_BAD:
		return memchr(h, ':', n) != NULL ? DESTPAT_E_ADDR : DESTPAT_E_NAME;
	case DESTPAT_LIT_NAME:
		break;
	}
	if (sp->has_prefix)
		return DESTPAT_E_PREFIX_NAME;
	h += suffix;
	n -= suffix;
	n -= h[n - 1] == '.';
	p->kind = suffix ? DESTPAT_SUFFIX : DESTPAT_EXACT;
	for (i = 0; i < n; i++)
		p->name[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ?
		    h[i] - 'A' + 'a' : h[i]);
	p->name[n] = '\0';
	p->name_len = n;
	return DESTPAT_OK;
}

/* Parse the optional ":lo[-hi]" into p. */
static enum destpat_error
destpat_parse_port(const struct destpat_spans *sp, struct destpat *p)
{
	uint64_t lo, hi;

	if (!sp->has_port)
		return DESTPAT_OK;
	if (num_parse_dec(sp->lo, sp->lo_len, 65535, &lo) == -1 || lo == 0)
		return DESTPAT_E_PORT;
	hi = lo;
	if (sp->has_hi && (num_parse_dec(sp->hi, sp->hi_len, 65535, &hi) ==
	    -1 || hi == 0))
		return DESTPAT_E_PORT;
	if (lo > hi)
		return DESTPAT_E_RANGE;
	p->has_port = true;
	p->port_lo = (uint16_t)lo;
	p->port_hi = (uint16_t)hi;
	return DESTPAT_OK;
}

int
destpat_parse(const char *s, size_t len, struct destpat *p,
    char *err, size_t errlen)
{
	struct destpat_spans sp;
	enum destpat_error e;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		e = DESTPAT_E_EMPTY;
	else if (len > DESTPAT_LINE_MAX)
		e = DESTPAT_E_TOO_LONG;
	else if ((e = destpat_split(s, len, &sp)) == DESTPAT_OK &&
	    (e = destpat_parse_host(&sp, p)) == DESTPAT_OK)
		e = destpat_parse_port(&sp, p);
	if (e == DESTPAT_OK)
		return 0;
	/* The pattern is quoted, cut to 64 bytes: enough to find it. */
	snprintf(err, errlen, "'%.*s': %s", (int)(len > 64 ? 64 : len), s,
	    destpat_error_text[e]);
	return -1;
}

int
destpat_format(const struct destpat *p, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8], port[16];
	unsigned full = p->family == AF_INET ? 32 : 128;
	int n = 0;

	port[0] = '\0';
	if (p->has_port && p->port_lo == p->port_hi)
		snprintf(port, sizeof(port), ":%u", (unsigned)p->port_lo);
	else if (p->has_port)
		snprintf(port, sizeof(port), ":%u-%u", (unsigned)p->port_lo,
		    (unsigned)p->port_hi);
	switch (p->kind) {
	case DESTPAT_EXACT:
	case DESTPAT_SUFFIX:
		n = snprintf(buf, cap, "%s%s%s",
		    p->kind == DESTPAT_SUFFIX ? "." : "", p->name, port);
		break;
	case DESTPAT_ANY:
		n = snprintf(buf, cap, "*%s", port);
		break;
	case DESTPAT_NET:
		if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL)
			return -1;
		net[0] = '\0';
		if (p->prefix < full)
			snprintf(net, sizeof(net), "/%u", p->prefix);
		n = snprintf(buf, cap, p->family == AF_INET6 && p->has_port ?
		    "[%s]%s%s" : "%s%s%s", a, net, port);
		break;
	}
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}
