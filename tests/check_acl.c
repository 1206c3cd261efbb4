/*
 * check_acl.c: the client whitelist (acl.c): IPv4 and IPv6 addresses and
 * CIDR prefixes, matched on address bits, never on text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "suites.h"

/* Does a whitelist built from list allow the client address text? */
static bool
allows(const char *list, const char *client)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct acl acl = { NULL, 0 };
	char err[160];
	bool ok;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, client, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert_msg(inet_pton(AF_INET6, client, &s6->sin6_addr) == 1,
		    "bad test address %s", client);
		s6->sin6_family = AF_INET6;
	}
	ck_assert_msg(acl_add_list(&acl, list, err, sizeof(err)) == 0,
	    "%s: %s", list, err);
	ok = acl_allows(&acl, (struct sockaddr *)&ss);
	acl_free(&acl);
	return ok;
}

static const struct {
	const char	*list;
	const char	*client;
	bool		 allowed;
} cases[] = {
	{ "127.0.0.1", "127.0.0.1", true },
	/* The string-prefix trap: text "127.0.0.1" begins "127.0.0.12". */
	{ "127.0.0.1", "127.0.0.12", false },
	{ "127.0.0.1", "127.0.0.10", false },
	{ "127.0.0.1", "127.0.0.2", false },
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "192.0.2.0/24", "192.0.2.200", true },
	{ "192.0.2.0/24", "192.0.3.1", false },
	{ "192.0.2.4/31", "192.0.2.4", true },
	{ "192.0.2.4/31", "192.0.2.5", true },
	{ "192.0.2.4/31", "192.0.2.6", false },
	{ "192.0.2.4/31", "192.0.2.3", false },
	{ "192.0.2.4/32", "192.0.2.4", true },
	{ "192.0.2.4/32", "192.0.2.5", false },
	{ "127.0.0.0/30", "127.0.0.3", true },
	{ "127.0.0.0/30", "127.0.0.4", false },
	/* Prefix lengths that do not fall on a byte boundary. */
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	/* Host bits in the entry are ignored: the prefix is what counts. */
	{ "192.0.2.77/24", "192.0.2.1", true },
	{ "::1", "::1", true },
	{ "::1", "::2", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/64", "2001:db8:0:1::", false },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1/128", "2001:db8::2", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
	{ "::/0", "2001:db8::1", true },
	/* Families do not mix, except v4-mapped clients on a v6 socket. */
	{ "127.0.0.1", "::1", false },
	{ "::1", "127.0.0.1", false },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "::/0", "192.0.2.1", false },
	{ "127.0.0.1", "::ffff:127.0.0.1", true },
	{ "127.0.0.1", "::ffff:127.0.0.12", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	/* Lists: spaces, commas, both; any entry matches. */
	{ "192.0.2.1 127.0.0.1", "127.0.0.1", true },
	{ "192.0.2.1,127.0.0.1", "127.0.0.1", true },
	{ " 192.0.2.1 ,  ::1 ,127.0.0.0/8 ", "127.9.9.9", true },
	{ "192.0.2.1, ::1", "127.0.0.1", false },
};

START_TEST(test_match)
{
	ck_assert_msg(allows(cases[_i].list, cases[_i].client) ==
	    cases[_i].allowed, "list '%s' client %s: want %s", cases[_i].list,
	    cases[_i].client, cases[_i].allowed ? "allowed" : "denied");
}
END_TEST

static const char *const bad_lists[] = {
	"256.0.0.1", "1.2.3", "1.2.3.4.5", "1.2.3.4/33", "::1/129", "/",
	"/8", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8x",
	"1.2.3.4/99999999999999999999", "localhost", "01.2.3.4x", "::g",
	"1.2.3.4 bogus", "1.2.3.4;5.6.7.8", "[::1]",
};

START_TEST(test_bad_list)
{
	struct acl acl = { NULL, 0 };
	char err[160] = "";

	ck_assert_msg(acl_add_list(&acl, bad_lists[_i], err, sizeof(err)) ==
	    -1, "accepted: %s", bad_lists[_i]);
	/* The message names the item at fault. */
	ck_assert_msg(err[0] != '\0', "no message for %s", bad_lists[_i]);
	acl_free(&acl);
}
END_TEST

START_TEST(test_empty_acl_denies)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_in s4;
	char err[160];

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&s4));
	/* An empty list adds nothing and is not an error. */
	ck_assert_int_eq(acl_add_list(&acl, "", err, sizeof(err)), 0);
	ck_assert_uint_eq(acl.count, 0);
	ck_assert_int_eq(acl_add_list(&acl, "127.0.0.1 ::1", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(acl.count, 2);
	ck_assert(acl_allows(&acl, (struct sockaddr *)&s4));
	acl_free(&acl);
	ck_assert_uint_eq(acl.count, 0);
}
END_TEST

Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_match, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_bad_list, 0,
	    (int)(sizeof(bad_lists) / sizeof(bad_lists[0])));
	tcase_add_test(tc, test_empty_acl_denies);
	suite_add_tcase(s, tc);
	return s;
}
