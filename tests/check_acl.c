/*
 * check_acl.c: the client whitelist (acl.c).
 *
 * The whitelist must match IPv4 and IPv6 addresses and CIDR prefixes on
 * their bits, never on their text: an entry for 127.0.0.1 must not admit
 * 127.0.0.12, which a string-prefix compare would. Every entry that is not
 * exactly an address or a prefix must be refused when the config loads,
 * because a silently dropped entry changes who may use the proxy.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "acl.h"
#include "suites.h"

/* Fill ss with the client address text (IPv4 or IPv6). */
static void
client_addr(const char *client, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, client, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, client, &s6->sin6_addr) == 1,
	    "bad test address %s", client);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(40000);
}

/* Does a whitelist built from list allow the client address text? */
static bool
allows(const char *list, const char *client)
{
	struct sockaddr_storage ss;
	struct acl acl = { NULL, 0 };
	char err[160];
	bool ok;

	client_addr(client, &ss);
	ck_assert_msg(acl_add_list(&acl, list, err, sizeof(err)) == 0,
	    "list '%s' refused: %s", list, err);
	ok = acl_allows(&acl, (struct sockaddr *)&ss);
	acl_free(&acl);
	return ok;
}

static const struct {
	const char	*list;
	const char	*client;
	bool		 allowed;
} match_cases[] = {
	/* Exact hosts. */
	{ "127.0.0.1", "127.0.0.1", true },
	{ "127.0.0.1", "127.0.0.2", false },
	{ "127.0.0.1/32", "127.0.0.1", true },
	/* The string-prefix trap: "127.0.0.1" is a prefix of these texts. */
	{ "127.0.0.1", "127.0.0.12", false },
	{ "127.0.0.1", "127.0.0.10", false },
	{ "127.0.0.1", "127.0.0.100", false },
	{ "127.0.0.1/32", "127.0.0.12", false },
	{ "127.0.0.10", "127.0.0.1", false },
	{ "10.0.0.1", "110.0.0.1", false },
	{ "::1", "::11", false },
	/* /8 on a byte boundary. */
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "192.0.2.0/24", "192.0.2.200", true },
	{ "192.0.2.0/24", "192.0.3.1", false },
	/* /31 and /32: the smallest prefixes. */
	{ "192.0.2.4/31", "192.0.2.4", true },
	{ "192.0.2.4/31", "192.0.2.5", true },
	{ "192.0.2.4/31", "192.0.2.6", false },
	{ "192.0.2.4/31", "192.0.2.3", false },
	{ "192.0.2.4/32", "192.0.2.4", true },
	{ "192.0.2.4/32", "192.0.2.5", false },
	{ "255.255.255.255/32", "255.255.255.255", true },
	{ "255.255.255.255/32", "255.255.255.254", false },
	{ "127.0.0.0/30", "127.0.0.3", true },
	{ "127.0.0.0/30", "127.0.0.4", false },
	/* Prefix lengths that do not fall on a byte boundary. */
	{ "172.16.0.0/12", "172.16.0.0", true },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "172.16.0.0/12", "172.15.255.255", false },
	{ "128.0.0.0/1", "255.1.2.3", true },
	{ "128.0.0.0/1", "127.255.255.255", false },
	/* /0 admits every IPv4 client, the extremes included. */
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	/* Host bits in the entry are masked off: the prefix is what counts. */
	{ "192.0.2.77/24", "192.0.2.1", true },
	{ "192.0.2.77/24", "192.0.3.77", false },
	{ "10.9.9.9/0", "192.0.2.1", true },
	/* Leading zeros in the prefix length are plain decimal: 08 is 8. */
	{ "10.0.0.0/08", "10.200.0.1", true },
	{ "10.0.0.0/08", "11.0.0.1", false },
	/* IPv6. */
	{ "::1", "::1", true },
	{ "::1", "::2", false },
	{ "::1", "::", false },
	{ "::1/128", "::1", true },
	{ "::/128", "::", true },
	{ "::/128", "::1", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "2001:DB8::/32", "2001:db8::5", true },
	{ "2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/64", "2001:db8:0:1::", false },
	{ "2001:db8::/63", "2001:db8:0:1::", true },
	{ "2001:db8::/63", "2001:db8:0:2::", false },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1/128", "2001:db8::2", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "2001:db8::1234/112", "2001:db8::ffff", true },
	{ "2001:db8::1234/112", "2001:db8::1:0", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	/* Families do not mix... */
	{ "127.0.0.1", "::1", false },
	{ "::1", "127.0.0.1", false },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "::/0", "192.0.2.1", false },
	/* ...except v4-mapped clients, as a dual-stack listener sees them. */
	{ "127.0.0.1", "::ffff:127.0.0.1", true },
	{ "127.0.0.1", "::ffff:127.0.0.12", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "0.0.0.0/0", "::ffff:198.51.100.1", true },
	{ "::1", "::ffff:127.0.0.1", false },
	/* A v4-compatible address (::a.b.c.d) is not a v4 client. */
	{ "127.0.0.1", "::127.0.0.1", false },
	/* Lists: spaces, tabs, commas; any entry matches. */
	{ "192.0.2.1 127.0.0.1", "127.0.0.1", true },
	{ "192.0.2.1,127.0.0.1", "127.0.0.1", true },
	{ "192.0.2.1\t127.0.0.1", "127.0.0.1", true },
	{ " 192.0.2.1 ,  ::1 ,127.0.0.0/8 ", "127.9.9.9", true },
	{ ",,192.0.2.1,,,::1,,", "::1", true },
	{ "192.0.2.1, ::1", "127.0.0.1", false },
	{ "192.0.2.1, ::1", "192.0.2.1", true },
};

START_TEST(test_match)
{
	ck_assert_msg(allows(match_cases[_i].list, match_cases[_i].client) ==
	    match_cases[_i].allowed, "list '%s' client %s: want %s",
	    match_cases[_i].list, match_cases[_i].client,
	    match_cases[_i].allowed ? "allowed" : "denied");
}
END_TEST

/*
 * Lists that must be refused, with the item the message must name. The
 * item is the text between separators, so it is what the admin typed.
 */
static const struct {
	const char	*list;
	const char	*item;
} bad_lists[] = {
	{ "256.0.0.1", "256.0.0.1" },
	{ "1.2.3", "1.2.3" },
	{ "1.2.3.4.5", "1.2.3.4.5" },
	{ "127.1", "127.1" },
	{ "1.2.3.-4", "1.2.3.-4" },
	/* Leading zeros read as octal by some parsers: refuse, never guess. */
	{ "010.0.0.1", "010.0.0.1" },
	{ "0x7f.0.0.1", "0x7f.0.0.1" },
	{ "1.2.3.4/33", "1.2.3.4/33" },
	{ "::1/129", "::1/129" },
	{ "2001:db8::/200", "2001:db8::/200" },
	{ "/", "/" },
	{ "/8", "/8" },
	{ "1.2.3.4/", "1.2.3.4/" },
	{ "1.2.3.4/-1", "1.2.3.4/-1" },
	{ "1.2.3.4/+8", "1.2.3.4/+8" },
	{ "1.2.3.4/8x", "1.2.3.4/8x" },
	{ "1.2.3.4/0x8", "1.2.3.4/0x8" },
	{ "1.2.3.4//8", "1.2.3.4//8" },
	{ "1.2.3.4/8/8", "1.2.3.4/8/8" },
	{ "1.2.3.4/99999999999999999999", "1.2.3.4/99999999999999999999" },
	/* A space splits "1.2.3.4 /8" into two items; "/8" alone is bad. */
	{ "1.2.3.4 /8", "/8" },
	{ "localhost", "localhost" },
	{ "::g", "::g" },
	{ ":::1", ":::1" },
	{ "1::2::3", "1::2::3" },
	{ "::ffff:1.2.3.256", "::ffff:1.2.3.256" },
	/* Zone ids name an interface, not a network. */
	{ "fe80::1%lo", "fe80::1%lo" },
	{ "[::1]", "[::1]" },
	{ "1.2.3.4;5.6.7.8", "1.2.3.4;5.6.7.8" },
	{ "1.2.3.4\n", "1.2.3.4\n" },
	{ "127.0.0.1 bogus", "bogus" },
	{ "::1, 10.0.0.0/8, 10.0.0.0/33", "10.0.0.0/33" },
	/* Longer than any address: must fail cleanly, not overflow. */
	{ "1111111111111111111111111111111111111111111111111111111111111111"
	    "1111111111111111", "11111111111111111111" },
};

START_TEST(test_bad_list)
{
	struct acl acl = { NULL, 0 };
	char err[160] = "";

	ck_assert_msg(acl_add_list(&acl, bad_lists[_i].list, err,
	    sizeof(err)) == -1, "accepted: '%s'", bad_lists[_i].list);
	ck_assert_msg(strstr(err, bad_lists[_i].item) != NULL,
	    "message for '%s' does not name '%s': %s", bad_lists[_i].list,
	    bad_lists[_i].item, err);
	acl_free(&acl);
}
END_TEST

/* Empty lists and separators alone are not errors and add nothing. */
static const char *const empty_lists[] = {
	"", " ", ",", " , ,\t", "\t\t",
};

START_TEST(test_empty_list)
{
	struct acl acl = { NULL, 0 };
	char err[160];

	ck_assert_int_eq(acl_add_list(&acl, empty_lists[_i], err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(acl.count, 0);
	acl_free(&acl);
}
END_TEST

/* An empty whitelist admits nobody, loopback included. */
START_TEST(test_empty_acl_denies)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_storage ss;

	client_addr("127.0.0.1", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("::1", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	acl_free(&acl);
	ck_assert_uint_eq(acl.count, 0);
	ck_assert_ptr_null(acl.entries);
}
END_TEST

/* Lists add up across calls, as the [whitelist] labels do. */
START_TEST(test_lists_accumulate)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_storage ss;
	char err[160];

	ck_assert_int_eq(acl_add_list(&acl, "127.0.0.1", err, sizeof(err)),
	    0);
	ck_assert_int_eq(acl_add_list(&acl, "::1 192.0.2.0/24", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(acl.count, 3);
	client_addr("127.0.0.1", &ss);
	ck_assert(acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("::1", &ss);
	ck_assert(acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("192.0.2.99", &ss);
	ck_assert(acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("198.51.100.1", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	acl_free(&acl);
	ck_assert_uint_eq(acl.count, 0);
}
END_TEST

/* The contract: items before a bad one stay appended; the bad one is not. */
START_TEST(test_partial_append)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_storage ss;
	char err[160];

	ck_assert_int_eq(acl_add_list(&acl, "127.0.0.1 10.0.0.0/33 ::1", err,
	    sizeof(err)), -1);
	ck_assert_uint_eq(acl.count, 1);
	client_addr("::1", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	acl_free(&acl);
}
END_TEST

/* Entries are stored with their host bits cleared and the right prefix. */
static const struct {
	const char	*item;
	int		 family;
	const char	*network;
	unsigned	 prefix;
} stored_cases[] = {
	{ "192.0.2.77/24", AF_INET, "192.0.2.0", 24 },
	{ "192.0.2.77", AF_INET, "192.0.2.77", 32 },
	{ "172.31.255.255/12", AF_INET, "172.16.0.0", 12 },
	{ "10.9.9.9/0", AF_INET, "0.0.0.0", 0 },
	{ "255.255.255.255/31", AF_INET, "255.255.255.254", 31 },
	{ "2001:db8::1", AF_INET6, "2001:db8::1", 128 },
	{ "2001:db8:ffff::1/33", AF_INET6, "2001:db8:8000::", 33 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64", AF_INET6,
	    "ffff:ffff:ffff:ffff::", 64 },
	{ "::1/0", AF_INET6, "::", 0 },
};

START_TEST(test_stored_masked)
{
	struct acl acl = { NULL, 0 };
	uint8_t want[16];
	char err[160];

	memset(want, 0, sizeof(want));
	ck_assert_int_eq(inet_pton(stored_cases[_i].family,
	    stored_cases[_i].network, want), 1);
	ck_assert_int_eq(acl_add_list(&acl, stored_cases[_i].item, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(acl.count, 1);
	ck_assert_int_eq(acl.entries[0].family, stored_cases[_i].family);
	ck_assert_uint_eq(acl.entries[0].prefix, stored_cases[_i].prefix);
	ck_assert_msg(memcmp(acl.entries[0].addr, want,
	    stored_cases[_i].family == AF_INET ? 4 : 16) == 0,
	    "%s not stored as %s", stored_cases[_i].item,
	    stored_cases[_i].network);
	acl_free(&acl);
}
END_TEST

/* A client that is neither IPv4 nor IPv6 never matches, even /0. */
START_TEST(test_other_family_denied)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_un sun;
	char err[160];

	ck_assert_int_eq(acl_add_list(&acl, "0.0.0.0/0 ::/0", err,
	    sizeof(err)), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/tmp/x");
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&sun));
	acl_free(&acl);
}
END_TEST

/* Many entries: the array grows and the last entry still matches. */
START_TEST(test_many_entries)
{
	struct acl acl = { NULL, 0 };
	struct sockaddr_storage ss;
	char err[160], item[32];
	int i;

	for (i = 0; i < 250; i++) {
		snprintf(item, sizeof(item), "10.0.%d.1", i);
		ck_assert_int_eq(acl_add_list(&acl, item, err, sizeof(err)),
		    0);
	}
	ck_assert_uint_eq(acl.count, 250);
	client_addr("10.0.249.1", &ss);
	ck_assert(acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("10.0.250.1", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	client_addr("10.0.0.2", &ss);
	ck_assert(!acl_allows(&acl, (struct sockaddr *)&ss));
	acl_free(&acl);
}
END_TEST

/* A tiny message buffer truncates the message but stays terminated. */
START_TEST(test_small_err_buffer)
{
	struct acl acl = { NULL, 0 };
	char err[8];

	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(acl_add_list(&acl, "not-an-address", err, 5), -1);
	ck_assert_uint_eq(strlen(err), 4);
	ck_assert_int_eq(err[5], 'Z');
	acl_free(&acl);
}
END_TEST

Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_match, 0, NELEM(match_cases));
	tcase_add_loop_test(tc, test_bad_list, 0, NELEM(bad_lists));
	tcase_add_loop_test(tc, test_empty_list, 0, NELEM(empty_lists));
	tcase_add_loop_test(tc, test_stored_masked, 0, NELEM(stored_cases));
	tcase_add_test(tc, test_empty_acl_denies);
	tcase_add_test(tc, test_lists_accumulate);
	tcase_add_test(tc, test_partial_append);
	tcase_add_test(tc, test_other_family_denied);
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_small_err_buffer);
	suite_add_tcase(s, tc);
	return s;
}
