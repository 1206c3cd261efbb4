/*
 * fuzz_acl.c: libFuzzer harness for the whitelist parser (acl.c).
 *
 * The input is a [whitelist] value: addresses and CIDR prefixes separated
 * by spaces or commas. Invariants, for every input:
 * - a rejected list says why in a NUL-terminated message that fits its
 *   buffer;
 * - every entry kept has a family, a prefix within that family's width
 *   and no bits set past the prefix;
 * - an entry allows its own network address and the last address of its
 *   range (unless that is a v4-mapped IPv6 address, which acl.c matches as
 *   IPv4 by design); an address just past a /32 host entry's one is not
 *   allowed by that entry alone;
 * - nothing leaks, whether the list was accepted or not.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "acl.h"
#include "fuzz.h"

/* e's address as a sockaddr; last sets every bit past the prefix. */
static void
entry_addr(const struct acl_entry *e, bool last, struct sockaddr_storage *ss)
{
	uint8_t a[16];
	unsigned bits = e->family == AF_INET ? 32 : 128, i;

	memcpy(a, e->addr, sizeof(a));
	for (i = e->prefix; last && i < bits; i++)
		a[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	memset(ss, 0, sizeof(*ss));
	if (e->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
	}
}

static bool
v4mapped(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);
}

static void
check_entry(const struct acl_entry *e)
{
	struct acl one = { (struct acl_entry *)e, 1 };
	struct sockaddr_storage ss;
	unsigned bits, i;

	FUZZ_CHECK(e->family == AF_INET || e->family == AF_INET6);
	bits = e->family == AF_INET ? 32 : 128;
	FUZZ_CHECK(e->prefix <= bits);
	for (i = e->prefix; i < 128; i++)
		FUZZ_CHECK((e->addr[i / 8] & (0x80u >> (i % 8))) == 0);
	entry_addr(e, false, &ss);
	FUZZ_CHECK(acl_allows(&one, (struct sockaddr *)&ss) || v4mapped(&ss));
	entry_addr(e, true, &ss);
	FUZZ_CHECK(acl_allows(&one, (struct sockaddr *)&ss) || v4mapped(&ss));
	if (e->family == AF_INET && e->prefix == 32) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		((uint8_t *)&sin->sin_addr)[3] ^= 1;
		FUZZ_CHECK(!acl_allows(&one, (struct sockaddr *)&ss));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl acl = { NULL, 0 };
	char err[128];
	char *list;
	size_t i;

	list = fuzz_copy(data, size, 1);
	memset(err, 'x', sizeof(err));
	if (acl_add_list(&acl, list, err, sizeof(err)) == -1) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(err[0] != '\0');
	}
	for (i = 0; i < acl.count; i++)
		check_entry(&acl.entries[i]);
	acl_free(&acl);
	FUZZ_CHECK(acl.count == 0 && acl.entries == NULL);
	free(list);
	return 0;
}
