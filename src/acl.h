/*
 * acl.h: the client whitelist, a list of IPv4/IPv6 addresses and prefixes.
 *
 * Path: admit: the whitelist verdict on each client, new or woken; a
 * worker answers 403 to one that is not listed.
 *
 * Matching is numeric on the address bits, never on the text, so 127.0.0.12
 * does not match an entry for 127.0.0.1. IPv4-mapped IPv6 clients
 * (::ffff:a.b.c.d, seen on a dual-stack listener) match IPv4 entries.
 * Built once with the config, then only read.
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

/* entries is a heap array owned by the acl: acl_free() frees it. */
struct acl {
	struct acl_entry	*entries;
	size_t			 count;
};

/*
 * Parse a list of addresses or CIDR prefixes separated by spaces or commas
 * ("127.0.0.1 ::1, 192.0.2.0/24") and append them to acl, which starts
 * zeroed or holds earlier entries. Returns 0, or -1 with the bad item (or
 * "out of memory") in err; earlier items stay appended. Not thread-safe:
 * the acl is built while the config loads, before anyone shares it.
 */
int acl_add_list(struct acl *acl, const char *list, char *err, size_t errlen);

/*
 * True if the client address sa (AF_INET or AF_INET6; any other family is
 * refused) matches an entry. Only reads: any number of threads may call
 * it at once (the acceptor's and the idle watcher's, through pool.c).
 */
bool acl_allows(const struct acl *acl, const struct sockaddr *sa);

/* Free the entries; acl is empty afterwards and may be filled again. */
void acl_free(struct acl *acl);

#endif
