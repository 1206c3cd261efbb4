/*
 * check_addr.c: socket addresses as bytes and text, and the internal-
 * address guard (addr.c).
 *
 * One table of addresses as the kernel hands them over (IPv4, IPv6, an
 * IPv4 client on a dual-stack socket, another family), each with the
 * family, bytes and text that every user of addr.c (the whitelist, the
 * loop check, the logs) must see alike; then the buffer edges.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "suites.h"

static const struct {
	int		 family;	/* of the sockaddr */
	const char	*ip;		/* inet_pton() input */
	unsigned	 port;
	int		 want_family;	/* addr_bytes() result */
	size_t		 want_len;	/* bytes it fills */
	const char	*want_text;
	const char	*want_text_port;
} cases[] = {
	{ AF_INET, "192.0.2.7", 80, AF_INET, 4, "192.0.2.7", "192.0.2.7:80" },
	{ AF_INET, "0.0.0.0", 0, AF_INET, 4, "0.0.0.0", "0.0.0.0:0" },
	{ AF_INET6, "2001:db8::1", 443, AF_INET6, 16, "2001:db8::1",
	    "[2001:db8::1]:443" },
	{ AF_INET6, "::1", 65535, AF_INET6, 16, "::1", "[::1]:65535" },
	/* A mapped IPv4 client is IPv4 everywhere. */
	{ AF_INET6, "::ffff:198.51.100.9", 3128, AF_INET, 4, "198.51.100.9",
	    "198.51.100.9:3128" },
	/* Not mapped: the IPv4-compatible form stays IPv6. */
	{ AF_INET6, "::198.51.100.9", 1, AF_INET6, 16, "::198.51.100.9",
	    "[::198.51.100.9]:1" },
};

/* Build the sockaddr of cases[i] into ss. */
static void
make(struct sockaddr_storage *ss, size_t i)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)cases[i].family;
	if (cases[i].family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		ck_assert_int_eq(inet_pton(AF_INET, cases[i].ip,
		    &s4->sin_addr), 1);
		s4->sin_port = htons((uint16_t)cases[i].port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		ck_assert_int_eq(inet_pton(AF_INET6, cases[i].ip,
		    &s6->sin6_addr), 1);
		s6->sin6_port = htons((uint16_t)cases[i].port);
	}
}

START_TEST(test_forms)
{
	const struct sockaddr *sa;
	struct sockaddr_storage ss;
	char text[ADDR_TEXT_MAX], want[16];
	uint8_t bytes[16];
	uint16_t port = 0;
	int family;

	make(&ss, (size_t)_i);
	sa = (const struct sockaddr *)&ss;
	memset(bytes, 0xee, sizeof(bytes));
	family = addr_bytes(sa, bytes, &port);
	ck_assert_int_eq(family, cases[_i].want_family);
	ck_assert_uint_eq(port, cases[_i].port);
	ck_assert_int_eq(inet_pton(family, cases[_i].want_text, want), 1);
	ck_assert(memcmp(bytes, want, cases[_i].want_len) == 0);
	/* An IPv4 result fills 4 bytes and leaves the rest alone. */
	if (cases[_i].want_len == 4)
		ck_assert_uint_eq(bytes[4], 0xee);
	ck_assert_int_eq(addr_bytes(sa, bytes, NULL), family);
	addr_text(sa, text, sizeof(text));
	ck_assert_str_eq(text, cases[_i].want_text);
	addr_text_port(sa, text, sizeof(text));
	ck_assert_str_eq(text, cases[_i].want_text_port);
}
END_TEST

/* Another family: no bytes, and "?" as text. */
START_TEST(test_other_family)
{
	struct sockaddr_un un;
	uint8_t bytes[16] = { 7 };
	uint16_t port = 9;
	char text[ADDR_TEXT_MAX];

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	ck_assert_int_eq(addr_bytes((const struct sockaddr *)&un, bytes,
	    &port), AF_UNSPEC);
	ck_assert_uint_eq(bytes[0], 7);
	ck_assert_uint_eq(port, 9);
	addr_text((const struct sockaddr *)&un, text, sizeof(text));
	ck_assert_str_eq(text, "?");
	addr_text_port((const struct sockaddr *)&un, text, sizeof(text));
	ck_assert_str_eq(text, "?");
}
END_TEST

/* Buffers too small give "?" (or nothing at all for 0), never a cut. */
START_TEST(test_small_buffers)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	char text[64];

	make(&ss, 2);		/* [2001:db8::1]:443 */
	memset(text, 'x', sizeof(text));
	addr_text_port(sa, text, 0);
	ck_assert_int_eq(text[0], 'x');
	addr_text_port(sa, text, 17);	/* one short of the 17 + NUL */
	ck_assert_str_eq(text, "?");
	addr_text_port(sa, text, 18);
	ck_assert_str_eq(text, "[2001:db8::1]:443");
	addr_text(sa, text, 5);
	ck_assert_str_eq(text, "?");
	addr_text(sa, text, 1);
	ck_assert_str_eq(text, "");
}
END_TEST

/*
 * The internal-address guard (issue 16 section 4): each range, its
 * IPv4-mapped form, and the neighbours on either side of it.
 */
static const struct {
	const char	*addr;
	bool		 internal;
} internal_cases[] = {
	{ "127.0.0.1", true },
	{ "127.255.255.254", true },
	{ "0.0.0.0", true },
	{ "0.1.2.3", true },
	{ "169.254.169.254", true },
	{ "224.0.0.1", true },
	{ "239.255.255.255", true },
	{ "::1", true },
	{ "::", true },
	{ "fe80::1", true },
	{ "febf::1", true },
	{ "ff02::1", true },
	{ "::ffff:127.0.0.1", true },
	{ "::ffff:169.254.169.254", true },
	{ "::ffff:0.0.0.0", true },
	/* Private ranges are for deny rules, not the guard. */
	{ "10.0.0.1", false },
	{ "172.16.0.1", false },
	{ "192.168.1.1", false },
	{ "fc00::1", false },
	{ "fd12::1", false },
	{ "::ffff:10.0.0.1", false },
	/* The neighbours of each range. */
	{ "126.255.255.255", false },
	{ "128.0.0.1", false },
	{ "1.0.0.0", false },
	{ "169.253.255.255", false },
	{ "169.255.0.0", false },
	{ "223.255.255.255", false },
	{ "240.0.0.1", false },
	{ "fec0::1", false },
	{ "fe7f::1", false },
	{ "::2", false },
	{ "2001:db8::1", false },
	{ "93.184.216.34", false },
};

START_TEST(test_internal)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const char *ip = internal_cases[_i].addr;
	unsigned block;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1);
		s6->sin6_family = AF_INET6;
	}
	ck_assert_msg((addr_internal_kind((struct sockaddr *)&ss, &block) !=
	    NULL) == internal_cases[_i].internal, "%s: want %s",
	    internal_cases[_i].addr,
	    internal_cases[_i].internal ? "internal" : "not internal");
}
END_TEST

START_TEST(test_internal_other_family)
{
	struct sockaddr_un sun;
	unsigned block;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_str_eq(addr_internal_kind((struct sockaddr *)&sun, &block),
	    "not IP");
}
END_TEST

Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_forms, 0, NELEM(cases));
	tcase_add_test(tc, test_other_family);
	tcase_add_test(tc, test_small_buffers);
	tcase_add_loop_test(tc, test_internal, 0, NELEM(internal_cases));
	tcase_add_test(tc, test_internal_other_family);
	suite_add_tcase(s, tc);
	return s;
}
