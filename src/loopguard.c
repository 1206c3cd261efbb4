/*
 * loopguard.c: forwarding-loop detection (see loopguard.h).
 *
 * Both checks are cheap in the common case: the Via check reads fields
 * already parsed, and the address check returns at once unless the port is
 * ferry's own, so the interface list is read only for such rare requests.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "loopguard.h"

/*
 * Does the Via element value[0..len) ("1.1 ferry", "HTTP/1.1 name:port
 * (comment)") have name as its received-by part?
 */
static bool
loopguard_via_element(const char *v, size_t len, const char *name)
{
	size_t i = 0, start;
	const size_t name_len = strlen(name);

	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (i < len && v[i] != ' ' && v[i] != '\t')	/* the protocol */
		i++;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	start = i;
	while (i < len && v[i] != ' ' && v[i] != '\t')	/* received-by */
		i++;
	return i - start == name_len &&
	    strncasecmp(v + start, name, name_len) == 0;
}

/* Split a Via value at commas outside comments and check each element. */
static bool
loopguard_via_value(const char *v, size_t len, const char *name)
{
	size_t i, start = 0;
	int depth = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && v[i] == '(')
			depth++;
		else if (i < len && v[i] == ')' && depth > 0)
			depth--;
		else if (i == len || (v[i] == ',' && depth == 0)) {
			if (loopguard_via_element(v + start, i - start, name))
				return true;
			start = i + 1;
		}
	}
	return false;
}

bool
loopguard_via_seen(const struct http_field *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (field_name_is(&f[i], "Via") &&
		    loopguard_via_value(f[i].value, f[i].value_len, name))
			return true;
	return false;
}

/* All zeros: "0.0.0.0" or "::", which connect() takes as this host. */
static bool
loopguard_unspecified(int family, const unsigned char *a)
{
	static const unsigned char zero[16];

	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

/* 127.0.0.0/8 or ::1: always this host. */
static bool
loopguard_loopback(int family, const unsigned char *a)
{
	static const unsigned char one[16] = { [15] = 1 };

	return family == AF_INET ? a[0] == 127 : memcmp(a, one, 16) == 0;
}

/* Is family/a one of this host's interface addresses? */
static bool
loopguard_local_address(int family, const unsigned char *a)
{
	struct ifaddrs *list = NULL, *i;
	uint8_t b[16];
	bool found = false;

	if (loopguard_unspecified(family, a) || loopguard_loopback(family, a))
		return true;
	if (getifaddrs(&list) == -1)
		return false;
	for (i = list; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL &&
		    addr_bytes(i->ifa_addr, b, NULL) == family)
			found = memcmp(a, b, family == AF_INET ? 4 : 16) == 0;
	freeifaddrs(list);
	return found;
}

/* Would connecting to sa reach the listening address me? */
static bool
loopguard_is_listener(const struct sockaddr *sa,
    const struct sockaddr_storage *me_sa)
{
	uint8_t to[16], me[16];
	uint16_t to_port = 0, my_port = 0;
	int to_family, my_family;

	to_family = addr_bytes(sa, to, &to_port);
	my_family = addr_bytes((const struct sockaddr *)me_sa, me, &my_port);
	if (to_family == AF_UNSPEC || my_family == AF_UNSPEC ||
	    to_port != my_port)
		return false;
	if (loopguard_unspecified(my_family, me)) {
		/* "0.0.0.0" takes IPv4 only; "[::]" both (acceptor.c). */
		if (my_family == AF_INET && to_family != AF_INET)
			return false;
		return loopguard_local_address(to_family, to);
	}
	if (to_family != my_family)
		return false;
	if (loopguard_unspecified(to_family, to)) {
		/* connect() to "0.0.0.0" or "::" reaches 127.0.0.1 or ::1. */
		memset(to, 0, sizeof(to));
		if (to_family == AF_INET) {
			to[0] = 127;
			to[3] = 1;
		} else
			to[15] = 1;
	}
	return memcmp(to, me, to_family == AF_INET ? 4 : 16) == 0;
}

bool
loopguard_is_self(const struct sockaddr *sa, const struct ferry_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nlistens; i++)
		if (loopguard_is_listener(sa, &cfg->listens[i].addr))
			return true;
	return false;
}
