/*
 * addr.c: socket addresses as bytes and text (see addr.h).
 *
 * Everything goes through addr_bytes(), so the mapped-IPv4 rule is written
 * once, and the text forms come from inet_ntop() on those bytes. The
 * network parser is here, not in acl.c, because both the whitelist and
 * the destination rules (dest.c) read the same "addr/prefix" syntax.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "num.h"

/* Longest "addr/prefix" text: an IPv6 address, '/', three digits. */
#define ADDR_NET_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

void
addr_mask(uint8_t *a, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;

		if (bits >= 8)
			continue;
		a[i] &= (uint8_t)(0xff00 >> bits);
	}
}

int
addr_parse_net(const char *s, size_t len, struct addr_net *out)
{
	char text[ADDR_NET_TEXT_MAX];
	const char *slash;
	size_t addr_len;
	unsigned max;
	uint64_t prefix;

	/* inet_pton() wants a string: copy, bounded, never read past len. */
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	addr_len = slash != NULL ? (size_t)(slash - text) : len;
	text[addr_len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL && num_parse_dec(slash + 1, len - addr_len - 1, max,
	    &prefix) == -1)
		return -1;
	out->prefix = (unsigned)prefix;
	return 0;
}

int
addr_bytes(const struct sockaddr *sa, uint8_t out[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		memcpy(out, &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(out, sin6->sin6_addr.s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(out, &sin6->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

void
addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	uint8_t a[16];
	int family = addr_bytes(sa, a, NULL);

	if (cap == 0)
		return;
	if (family == AF_UNSPEC ||
	    inet_ntop(family, a, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
}

void
addr_text_port(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	uint8_t a[16];
	uint16_t port = 0;
	int family = addr_bytes(sa, a, &port), n;

	if (cap == 0)
		return;
	if (family == AF_UNSPEC ||
	    inet_ntop(family, a, ip, sizeof(ip)) == NULL) {
		snprintf(buf, cap, "?");
		return;
	}
	n = snprintf(buf, cap, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    (unsigned)port);
	if (n < 0 || (size_t)n >= cap)
		snprintf(buf, cap, "?");
}

/* Set *block to bits and return kind: addr_internal_kind()'s answer. */
static const char *
addr_block(const char *kind, unsigned bits, unsigned *block)
{
	*block = bits;
	return kind;
}

const char *
addr_internal_kind(const struct sockaddr *sa, unsigned *block)
{
	static const uint8_t v6_unspec[16], v6_loop[16] = { [15] = 1 };
	uint8_t a[16];

	*block = 0;
	switch (addr_bytes(sa, a, NULL)) {
	case AF_INET:
		if (a[0] == 127)
			return addr_block("loopback", 8, block);
		if (a[0] == 0)
			return addr_block("unspecified", 8, block);
		if (a[0] == 169 && a[1] == 254)
			return addr_block("link-local", 16, block);
		return (a[0] & 0xf0) == 224 ?
		    addr_block("multicast", 4, block) : NULL;
	case AF_INET6:
		if (memcmp(a, v6_loop, 16) == 0)
			return addr_block("loopback", 128, block);
		if (memcmp(a, v6_unspec, 16) == 0)
			return addr_block("unspecified", 128, block);
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			return addr_block("link-local", 10, block);
		return a[0] == 0xff ? addr_block("multicast", 8, block) : NULL;
	default:
		return "not IP";
	}
}

bool
addr_from_literal(const char *host, size_t len, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char text[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, host, len);
	text[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return true;
	}
	return false;
}
