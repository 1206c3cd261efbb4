/*
 * acl.c: whitelist parsing and matching (see acl.h).
 *
 * Each entry stores its network bytes with the host bits cleared, so a match
 * is a masked compare of the client's bytes against the entry. A bare address
 * is a /32 or /128 prefix. The item syntax is addr_parse_net()'s.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "addr.h"

/* Parse one "addr" or "addr/prefix" item of length len into e. */
static int
acl_parse_item(const char *item, size_t len, struct acl_entry *e)
{
	struct addr_net net;

	if (addr_parse_net(item, len, &net) == -1)
		return -1;
	e->family = net.family;
	memcpy(e->addr, net.bytes, sizeof(e->addr));
	e->prefix = net.prefix;
	/* The whitelist has always accepted host bits and ignored them. */
	addr_mask(e->addr, e->family == AF_INET ? 4 : 16, e->prefix);
	return 0;
}

/* Append e to acl, growing the array. */
static int
acl_append(struct acl *acl, const struct acl_entry *e)
{
	struct acl_entry *n;

	n = realloc(acl->entries, (acl->count + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	acl->entries = n;
	acl->entries[acl->count++] = *e;
	return 0;
}

int
acl_add_list(struct acl *acl, const char *list, char *err, size_t errlen)
{
	static const char seps[] = " \t,";
	const char *p = list;
	size_t len;

	for (p += strspn(p, seps); *p != '\0'; p += len, p += strspn(p, seps)) {
		struct acl_entry e;

		len = strcspn(p, seps);
		if (acl_parse_item(p, len, &e) == -1) {
			snprintf(err, errlen, "'%.*s' is not an IPv4/IPv6 "
			    "address or CIDR prefix", (int)(len > 64 ? 64 : len),
			    p);
			return -1;
		}
		if (acl_append(acl, &e) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Does the client address (family, bytes) fall inside entry e? */
static bool
acl_entry_matches(const struct acl_entry *e, int family, const uint8_t *addr)
{
	uint8_t masked[16];
	size_t len = family == AF_INET ? 4 : 16;

	if (e->family != family)
		return false;
	memcpy(masked, addr, len);
	addr_mask(masked, len, e->prefix);
	return memcmp(masked, e->addr, len) == 0;
}

bool
acl_allows(const struct acl *acl, const struct sockaddr *sa)
{
	uint8_t addr[16];
	int family = addr_bytes(sa, addr, NULL);
	size_t i;

	if (family == AF_UNSPEC)
		return false;
	for (i = 0; i < acl->count; i++)
		if (acl_entry_matches(&acl->entries[i], family, addr))
			return true;
	return false;
}

void
acl_free(struct acl *acl)
{
	free(acl->entries);
	acl->entries = NULL;
	acl->count = 0;
}
