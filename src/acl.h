/*
 * acl.h: the client whitelist, a list of IPv4/IPv6 addresses and prefixes.
 *
 * Matching is numeric on the address bits, never on the text, so 127.0.0.12
 * does not match an entry for 127.0.0.1. IPv4-mapped IPv6 clients
 * (::ffff:a.b.c.d, seen on a dual-stack listener) match IPv4 entries.
 * Built once from the config, then only read by the acceptor.
 */
#ifndef FERRY_ACL_H
#define FERRY_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct acl_entry {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network bytes, host bits zeroed */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

struct acl {
	struct acl_entry	*entries;
	size_t			 count;
};

/*
 * Parse a list of addresses or CIDR prefixes separated by spaces or commas
 * ("127.0.0.1 ::1, 192.0.2.0/24") and append them to acl. On a bad item
 * returns -1 with the item named in err (earlier items stay appended).
 */
int acl_add_list(struct acl *acl, const char *list, char *err, size_t errlen);

/* True if the client address sa matches an entry. */
bool acl_allows(const struct acl *acl, const struct sockaddr *sa);

/* Free the entries; acl is empty afterwards. */
void acl_free(struct acl *acl);

#endif
