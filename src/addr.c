/*
 * addr.c: socket addresses as bytes and text (see addr.h).
 *
 * Everything goes through addr_bytes(), so the mapped-IPv4 rule is written
 * once, and the text forms come from inet_ntop() on those bytes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

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
