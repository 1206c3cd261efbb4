/*
 * parent.c: parent proxy URLs and their health (see parent.h).
 *
 * The URL reader is strict in the way destpat.c is: every byte is
 * checked against what RFC 3986 allows where it stands, and anything it
 * does not understand is refused at load, naming the URL, rather than
 * guessed at when the first request needs the parent.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io.h"
#include "log.h"
#include "num.h"
#include "parent.h"

/* unreserved and sub-delims (RFC 3986 §2.2, §2.3): raw in userinfo. */
static bool
parent_userinfo_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,;=", ch) != NULL;
}

/*
 * Percent-decode s[0..len) into out (room for PARENT_CRED_MAX + 1) and
 * NUL-end it. Returns the decoded length, or -1: a byte not allowed raw,
 * a bad %XX, a control byte once decoded, too long.
 */
static int
parent_decode(const char *s, size_t len, char *out, const char **why)
{
	size_t i, n = 0;
	int hi, lo;
	unsigned char ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '%') {
			if (len - i < 3 || (hi = num_hex_digit((unsigned char)
			    s[i + 1])) < 0 || (lo = num_hex_digit((unsigned char)
			    s[i + 2])) < 0) {
				*why = "a '%' not followed by two hex digits";
				return -1;
			}
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!parent_userinfo_char(ch)) {
			*why = "a byte that must be percent-encoded";
			return -1;
		}
		if (ch < 0x20 || ch == 0x7f) {
			*why = "a control byte";
			return -1;
		}
		if (n == PARENT_CRED_MAX) {
			*why = "more than 255 bytes";
			return -1;
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return (int)n;
}

/* Read "user[:password]" u[0..len) into a. */
static int
parent_userinfo(const char *u, size_t len, struct parent_addr *a,
    const char **why)
{
	const char *colon = memchr(u, ':', len);
	size_t ulen = colon != NULL ? (size_t)(colon - u) : len;
	int n;

	if ((n = parent_decode(u, ulen, a->user, why)) < 0)
		return -1;
	a->user_len = (size_t)n;
	if (n == 0) {
		*why = "an empty user";
		return -1;
	}
	/* RFC 7617 §2: a user-id with ':' cannot be sent in Basic. */
	if (memchr(a->user, ':', a->user_len) != NULL) {
		*why = "a ':' in the user";
		return -1;
	}
	n = colon == NULL ? 0 : parent_decode(colon + 1, len - ulen - 1,
	    a->pass, why);
	if (n < 0)
		return -1;
	a->pass_len = (size_t)n;
	a->pass[n] = '\0';
	/* RFC 1929 §2: PLEN is 1 to 255. */
	if (a->kind == PARENT_SOCKS5 && n == 0) {
		*why = "an empty password (SOCKS5 needs one)";
		return -1;
	}
	a->has_cred = true;
	return 0;
}

/* Read "host:port" or "[v6]:port", h[0..len), into a. */
static int
parent_hostport(const char *h, size_t len, struct parent_addr *a,
    const char **why)
{
	const char *colon = NULL, *host = h;
	size_t hlen, i;
	uint64_t port;
	enum destpat_literal lit;

	for (i = len; i > 0 && colon == NULL; i--)
		if (h[i - 1] == ':')
			colon = h + i - 1;
		else if (h[i - 1] == ']')
			break;
	if (colon == NULL || num_parse_dec(colon + 1, len - (size_t)(colon -
	    h) - 1, 65535, &port) == -1 || port == 0) {
		*why = "no port, or not one of 1..65535";
		return -1;
	}
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	lit = destpat_literal(host, hlen);
	/* A name may end in a dot, one byte past DESTPAT_NAME_MAX. */
	if (hlen >= sizeof(a->host) || lit == DESTPAT_LIT_NUMERIC ||
	    lit == DESTPAT_LIT_BAD ||
	    (lit == DESTPAT_LIT_IPV6) != (host != h)) {
		*why = "a bad host (a name, four decimal octets, or [IPv6])";
		return -1;
	}
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	a->port = (uint16_t)port;
	return 0;
}

/* The Proxy-Authorization value for an HTTP parent with credentials. */
static void
parent_basic(struct parent_addr *a)
{
	unsigned char pair[2 * PARENT_CRED_MAX + 1];
	size_t n = 0;

	a->basic[0] = '\0';
	if (!a->has_cred || a->kind != PARENT_HTTP)
		return;
	memcpy(pair, a->user, a->user_len);
	n = a->user_len;
	pair[n++] = ':';
	memcpy(pair + n, a->pass, a->pass_len);
	n += a->pass_len;
	/* RFC 7617 §2: the scheme is spelled Basic; some parents insist. */
	memcpy(a->basic, "Basic ", 6);
	sodium_bin2base64(a->basic + 6, sizeof(a->basic) - 6, pair, n,
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(pair, sizeof(pair));
}

/* The scheme of s[0..len) into a; the length of "scheme://", or 0. */
static size_t
parent_scheme(const char *s, size_t len, struct parent_addr *a)
{
	if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
		a->kind = PARENT_HTTP;
		return 7;
	}
	if (len > 9 && strncasecmp(s, "socks5://", 9) == 0) {
		a->kind = PARENT_SOCKS5;
		return 9;
	}
	return 0;
}

/*
 * What a message may quote of the URL after its scheme, rest[0..n), into
 * buf: what follows the last '@', or, with no '@' (a typo may have cut
 * the URL inside its credentials: a raw ';', '#' or blank), the host up
 * to its ':' only. Never a byte of a user or a password.
 */
static void
parent_quotable(const char *scheme, const char *rest, size_t n, char *buf,
    size_t cap)
{
	const char *last = memrchr(rest, '@', n), *end;
	size_t keep, digits = 0;

	if (last != NULL) {
		keep = n - (size_t)(last + 1 - rest);
		snprintf(buf, cap, "%s://...@%.*s", scheme, (int)(keep <
		    DESTPAT_NAME_MAX + 8 ? keep : DESTPAT_NAME_MAX + 8),
		    last + 1);
		return;
	}
	end = n > 0 && rest[0] == '[' ? memchr(rest, ']', n) : NULL;
	end = end != NULL ? end + 1 : memchr(rest, ':', n);
	keep = end != NULL ? (size_t)(end - rest) : n;
	/* After the ':', a port's digits at most: a password is no port. */
	if (keep < n && rest[keep] == ':')
		for (digits = 1; digits <= 5 && keep + digits < n &&
		    rest[keep + digits] >= '0' && rest[keep + digits] <= '9';
		    digits++)
			;
	keep += digits;
	if (keep > DESTPAT_NAME_MAX + 8)
		keep = DESTPAT_NAME_MAX + 8;
	snprintf(buf, cap, "%s://%.*s%s", scheme, (int)keep, rest,
	    keep < n ? "..." : "");
}

/*
 * The message for a word that is no URL of a scheme ferry speaks. A
 * "scheme://" is quoted as parent_quotable() allows; a word without one
 * may be a piece of a password cut off by a blank: it is not quoted.
 */
static void
parent_bad_scheme(const char *s, size_t len, char *err, size_t errlen)
{
	const char *sep = len >= 3 ? memmem(s, len, "://", 3) : NULL;
	char scheme[17], shown[PARENT_TEXT_MAX + 8];
	size_t n = sep != NULL ? (size_t)(sep - s) : 0;

	if (sep == NULL || n == 0 || n >= sizeof(scheme) ||
	    memchr(s, '@', n) != NULL || memchr(s, ':', n) != NULL) {
		snprintf(err, errlen, "not a proxy URL: expected "
		    "http://host:port or socks5://host:port");
		return;
	}
	memcpy(scheme, s, n);
	scheme[n] = '\0';
	parent_quotable(scheme, sep + 3, len - n - 3, shown, sizeof(shown));
	snprintf(err, errlen, "'%s': expected http://host:port or "
	    "socks5://host:port", shown);
}

int
parent_parse_url(const char *s, size_t len, struct parent_addr *a,
    char *err, size_t errlen)
{
	const char *why = NULL, *rest, *at;
	size_t skip, n;
	bool v6;

	memset(a, 0, sizeof(*a));
	if ((skip = parent_scheme(s, len, a)) == 0) {
		parent_bad_scheme(s, len, err, errlen);
		return -1;
	}
	rest = s + skip;
	n = len - skip;
	if (n > 0 && rest[n - 1] == '/')	/* "http://proxy:3128/" */
		n--;
	at = memchr(rest, '@', n);
	/* For a message: never a byte of the credentials, whatever the typo. */
	parent_quotable(a->kind == PARENT_HTTP ? "http" : "socks5", rest, n,
	    a->text, sizeof(a->text));
	if (at != NULL) {
		n -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	if (memchr(rest, '@', n) != NULL || memchr(rest, '/', n) != NULL ||
	    memchr(rest, '?', n) != NULL || memchr(rest, '#', n) != NULL)
		why = "a path, a query or a second at sign";
	else if (at == NULL || parent_userinfo(s + skip, (size_t)(at - s -
	    skip), a, &why) == 0)
		(void)parent_hostport(rest, n, a, &why);
	if (why != NULL) {
		snprintf(err, errlen, "'%s': %s", a->text, why);
		sodium_memzero(a, sizeof(*a));
		return -1;
	}
	/* The text logs show, canonical: "01" was read as port 1. */
	v6 = strchr(a->host, ':') != NULL;
	snprintf(a->text, sizeof(a->text), "%s://%s%s%s:%u",
	    a->kind == PARENT_HTTP ? "http" : "socks5", v6 ? "[" : "", a->host,
	    v6 ? "]" : "", (unsigned)a->port);
	parent_basic(a);
	atomic_init(&a->fails, 0);
	atomic_init(&a->down_until, 0);
	return 0;
}

/* A parent's name: a key iniparser lower-cased, of [a-z0-9_-]. */
static bool
parent_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > PARENT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' &&
		    name[i] <= '9') || name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

int
parent_parse(struct parent *p, const char *name, const char *list,
    char *err, size_t errlen)
{
	static const char blanks[] = " \t";
	const char *s = list;
	char why[PARENT_TEXT_MAX + 96];
	size_t len;

	memset(p, 0, sizeof(*p));
	if (!parent_name_ok(name) || strcmp(name, "direct") == 0 ||
	    strcmp(name, "default") == 0) {
		snprintf(err, errlen, "'%s': a parent's name is 1 to %d of "
		    "a-z 0-9 _ -, and not direct or default", name,
		    PARENT_NAME_MAX);
		return -1;
	}
	strcpy(p->name, name);
	for (s += strspn(s, blanks); *s != '\0'; s += len,
	    s += strspn(s, blanks)) {
		len = strcspn(s, blanks);
		if (p->naddrs == PARENT_ADDRS_MAX) {
			snprintf(err, errlen, "more than %d URLs",
			    PARENT_ADDRS_MAX);
			return -1;
		}
		if (parent_parse_url(s, len, &p->addr[p->naddrs], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "URL %zu: %s", p->naddrs + 1, why);
			sodium_memzero(p, sizeof(*p));
			return -1;
		}
		p->naddrs++;
	}
	if (p->naddrs == 0) {
		snprintf(err, errlen, "no proxy URL");
		return -1;
	}
	return 0;
}

bool
parent_addr_up(const struct parent_addr *a, uint64_t now)
{
	return atomic_load(&a->down_until) <= now;
}

bool
parent_addr_claim(struct parent_addr *a, uint64_t now, unsigned retry_after,
    bool *probe)
{
	uint_least64_t until = atomic_load(&a->down_until);

	*probe = false;
	if (until == 0)
		return true;
	if (until > now)
		return false;
	/* Expired: the first to move the mark on probes, alone. */
	*probe = atomic_compare_exchange_strong(&a->down_until, &until,
	    now + retry_after * 1000ULL);
	return *probe;
}

void
parent_addr_release(struct parent_addr *a)
{
	/* Expired again (1 is long past), unless a verdict came meanwhile. */
	uint_least64_t until = atomic_load(&a->down_until);

	if (until > 1)
		(void)atomic_compare_exchange_strong(&a->down_until, &until, 1);
}

void
parent_addr_failed(struct parent_addr *a, const char *pname,
    unsigned down_after, unsigned retry_after)
{
	unsigned fails = atomic_fetch_add(&a->fails, 1) + 1;

	if (fails < down_after)
		return;
	atomic_store(&a->down_until, io_now_ms() + retry_after * 1000ULL);
	log_msg(LOGL_WARN, "parent %s: %s is down after %u failed attempt%s "
	    "in a row; trying it again in %us", pname, a->text, fails,
	    fails == 1 ? "" : "s", retry_after);
}

void
parent_addr_ok(struct parent_addr *a, const char *pname)
{
	unsigned fails = atomic_exchange(&a->fails, 0);

	if (atomic_exchange(&a->down_until, 0) != 0)
		log_msg(LOGL_INFO, "parent %s: %s is up again after %u failed "
		    "attempt%s", pname, a->text, fails, fails == 1 ? "" : "s");
}
