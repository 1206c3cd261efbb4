/*
 * uri.c: absolute-form and authority-form targets (see uri.h).
 *
 * Hosts are checked character by character: a reg-name may hold letters,
 * digits, '-', '.', '_' and '~'; an IP literal must be a valid IPv6 address
 * in brackets. Userinfo ("user:pass@host") is refused: RFC 9110 §4.2.4
 * deprecates it and it is a classic way to disguise the real host.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "uri.h"

static bool
uri_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
uri_is_regname_char(unsigned char c)
{
	return uri_is_alpha(c) || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.' || c == '_' || c == '~';
}

static bool
uri_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Check "[v6]" (brackets included) and point u->host inside them. */
static int
uri_ip_literal(const char *a, size_t len, struct uri *u)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	size_t i;

	if (len < 3 || a[len - 1] != ']' || len - 2 >= sizeof(text))
		return -1;
	/*
	 * inet_pton() stops at a NUL, so "[::\0junk]" would pass as "::":
	 * allow only what an IPv6 address is written with (RFC 3986 §3.2.2).
	 */
	for (i = 1; i < len - 1; i++)
		if (!uri_is_hex((unsigned char)a[i]) && a[i] != ':' &&
		    a[i] != '.')
			return -1;
	memcpy(text, a + 1, len - 2);
	text[len - 2] = '\0';
	if (inet_pton(AF_INET6, text, &addr) != 1)
		return -1;
	u->host = a + 1;
	u->host_len = len - 2;
	return 0;
}

/*
 * Split authority a[0..len) into host and port. Without a port, port is
 * def_port, or an error if def_port is 0. Returns 0 or -1 with *why.
 */
static int
uri_host_port(const char *a, size_t len, uint16_t def_port, struct uri *u,
    const char **why)
{
	const char *colon;
	size_t hlen, i;
	uint64_t port = def_port;

	if (memchr(a, '@', len) != NULL) {
		*why = "userinfo (user@host) in the URL is not allowed";
		return -1;
	}
	colon = len > 0 && a[0] == '[' ? memchr(a, ']', len) : a;
	colon = colon != NULL ? memchr(colon, ':', len - (size_t)(colon - a)) :
	    NULL;
	hlen = colon != NULL ? (size_t)(colon - a) : len;
	*why = "invalid host";
	if (hlen == 0 || hlen > URI_HOST_MAX)
		return -1;
	if (a[0] == '[') {
		if (uri_ip_literal(a, hlen, u) == -1)
			return -1;
	} else {
		for (i = 0; i < hlen; i++)
			if (!uri_is_regname_char((unsigned char)a[i]))
				return -1;
		u->host = a;
		u->host_len = hlen;
	}
	*why = "invalid port";
	if (colon != NULL && (num_parse_dec(colon + 1, len - hlen - 1, 65535,
	    &port) == -1))
		return -1;
	if (port == 0) {
		*why = def_port ? "invalid port" : "CONNECT needs host:port";
		return -1;
	}
	u->authority = a;
	u->authority_len = len;
	u->port = (uint16_t)port;
	return 0;
}

int
uri_parse_absolute(const char *t, size_t len, struct uri *u,
    const char **why)
{
	const char *sep, *end;
	size_t slen, alen;

	memset(u, 0, sizeof(*u));
	if (len > 0 && (t[0] == '/' || (len == 1 && t[0] == '*'))) {
		*why = "ferry is a forward proxy: requests must use an "
		    "absolute http:// URL";
		return 400;
	}
	sep = len >= 3 ? memmem(t, len, "://", 3) : NULL;
	slen = sep != NULL ? (size_t)(sep - t) : 0;
	if (slen == 0 || !uri_is_alpha((unsigned char)t[0])) {
		*why = "malformed request-target";
		return 400;
	}
	if (slen != 4 || strncasecmp(t, "http", 4) != 0) {
		*why = "only http:// URLs are proxied (https goes by CONNECT)";
		return 400;
	}
	if (memchr(t, '#', len) != NULL) {
		*why = "fragment (#) in the request-target";
		return 400;
	}
	t += slen + 3;
	len -= slen + 3;
	for (end = t; end < t + len && *end != '/' && *end != '?'; end++)
		;
	alen = (size_t)(end - t);
	if (uri_host_port(t, alen, 80, u, why) == -1)
		return 400;
	u->path = end;
	u->path_len = len - alen;
	return 0;
}

int
uri_parse_authority(const char *t, size_t len, struct uri *u,
    const char **why)
{
	memset(u, 0, sizeof(*u));
	if (uri_host_port(t, len, 0, u, why) == -1)
		return 400;
	return 0;
}

int
uri_check_host_field(const char *v, size_t len)
{
	struct uri u;
	const char *why = NULL;

	if (len == 0)
		return 0;
	return uri_host_port(v, len, 80, &u, &why) == 0 ? 0 : 400;
}
