/*
 * destpat.h: destination rule patterns (issue 16 section 3) and the
 * strict reading of a request's host as a name or an IP literal.
 *
 * Path: start-up (allow and deny patterns are read into a rule set);
 * parse, later: the request's host is checked for inet_aton() forms
 * before any rule or resolver sees it.
 *
 * Patterns: "example.com" (that host), ".example.com" (it and every name
 * below it, on label boundaries), "*" (everything, IP literals included),
 * an IPv4/IPv6 address or CIDR ("10.0.0.0/8", "::1", "2001:db8::/32",
 * "[::1]", "[2001:db8::]/32"), each optionally followed by ":PORT" or
 * ":LOW-HIGH"; an IPv6 pattern needs its brackets before a port. Names
 * are kept lower-cased without a trailing dot. Pure and allocation-free:
 * any thread.
 */
#ifndef FERRY_DESTPAT_H
#define FERRY_DESTPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A host name: RFC 1035 section 2.3.4, 253 bytes without the last dot. */
#define DESTPAT_NAME_MAX	253
/* Longest canonical text: ".name:65535-65535" or "[v6]/128:...". */
#define DESTPAT_TEXT_MAX	(DESTPAT_NAME_MAX + 16)
/* Longest pattern as written, and longest line of a pattern file. */
#define DESTPAT_LINE_MAX	512

enum destpat_kind {
	DESTPAT_EXACT,		/* "example.com" */
	DESTPAT_SUFFIX,		/* ".example.com" */
	DESTPAT_ANY,		/* "*" */
	DESTPAT_NET		/* an address or CIDR, either family */
};

/* One pattern as parsed: a value, no pointers; zeroed where unused. */
struct destpat {
	enum destpat_kind kind;
	char		name[DESTPAT_NAME_MAX + 1];  /* EXACT, SUFFIX:
							lower-case, no dot
							at either end */
	size_t		name_len;
	int		family;		/* NET: AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* NET: network bytes, host bits 0 */
	unsigned	prefix;		/* NET: 0..32 or 0..128 */
	bool		has_port;
	uint16_t	port_lo;	/* has_port: 1..65535, lo <= hi */
	uint16_t	port_hi;
};

/* How a request's host reads (issue 16 section 3, "Strict literals"). */
enum destpat_literal {
	DESTPAT_LIT_NAME,	/* a host name */
	DESTPAT_LIT_IPV4,	/* four decimal octets, no leading zeros */
	DESTPAT_LIT_IPV6,	/* an IPv6 address, without brackets */
	DESTPAT_LIT_NUMERIC,	/* another inet_aton() form: answer 400 */
	DESTPAT_LIT_BAD		/* empty, too long, bad characters */
};

/*
 * Parse one pattern s[0..len) into *p. Returns 0, or -1 with the reason
 * (quoting the pattern) in err[0..errlen); *p is then undefined.
 * Refused: empty labels, bytes outside [A-Za-z0-9_-], a label over 63 or
 * a name over 253 bytes, "*.x" (write ".x"), an IPv4 address that is not
 * four decimal octets (2130706433, 0x7f.1, 0177.0.0.1, 127.1), a name
 * whose last label is a number, a prefix on a name, address bits past
 * the prefix, port 0, a range LOW > HIGH, a port after an unbracketed
 * IPv6 address. An IPv4-mapped network (::ffff:a.b.c.d/96+n) is stored
 * as the IPv4 network a.b.c.d/n, which is how addresses are matched.
 */
int destpat_parse(const char *s, size_t len, struct destpat *p, char *err,
    size_t errlen);

/*
 * Write p's canonical text into buf[0..cap): lower-case, brackets around
 * an IPv6 address only before a port, no "/32" or "/128" on one address,
 * ":80" for "80-80". Parsing that text gives *p again. Returns its
 * length, or -1 if cap is too small (DESTPAT_TEXT_MAX + 1 is enough).
 */
int destpat_format(const struct destpat *p, char *buf, size_t cap);

/*
 * How host[0..len) reads as a request's destination, given as uri.c
 * splits it (an IPv6 literal without brackets). Any form inet_aton()
 * would take as an address other than four decimal octets (a name whose
 * last label is a decimal or 0x number; a number with a trailing dot) is
 * DESTPAT_LIT_NUMERIC: the resolver would turn it into an address that
 * no rule saw.
 */
enum destpat_literal destpat_literal(const char *host, size_t len);

#endif
