/*
 * check_dest.c: destination rules (dest.c) and their patterns
 * (destpat.c).
 *
 * A rule set decides where clients may go, so a pattern that parses to
 * something other than what the admin wrote, or a precedence that
 * depends on the order of the lists, lets traffic through. The tables
 * pin the precedence (exact over suffix over "*", longer prefix over
 * shorter, port over none, deny on a tie), the label boundaries, the
 * strict literals that filters are bypassed with, and every refusal.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "dest.h"
#include "destpat.h"
#include "suites.h"

/* A set from allow and deny lists, which must parse. */
static struct dest_set *
build(const char *allow, const char *deny)
{
	struct dest_set *s = dest_set_new();
	char err[256];

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(dest_add_list(s, DEST_ALLOW, allow, err,
	    sizeof(err)) == 0, "allow '%s': %s", allow, err);
	ck_assert_msg(dest_add_list(s, DEST_DENY, deny, err,
	    sizeof(err)) == 0, "deny '%s': %s", deny, err);
	return s;
}

static const char *
verdict_name(enum dest_verdict v)
{
	return v == DEST_ALLOW ? "allow" : v == DEST_DENY ? "deny" : "none";
}

/* Check m against the wanted verdict and rule text (NULL: no rule). */
static void
assert_match(const char *what, const struct dest_match *m,
    enum dest_verdict verdict, const char *rule)
{
	ck_assert_msg(m->verdict == verdict, "%s: %s, want %s", what,
	    verdict_name(m->verdict), verdict_name(verdict));
	if (rule == NULL)
		ck_assert_msg(m->rule == NULL, "%s: rule '%s', want none",
		    what, m->rule);
	else
		ck_assert_msg(m->rule != NULL && strcmp(m->rule, rule) == 0,
		    "%s: rule '%s', want '%s'", what,
		    m->rule != NULL ? m->rule : "(none)", rule);
}

static const struct {
	const char		*allow;
	const char		*deny;
	const char		*host;
	uint16_t		 port;
	enum dest_verdict	 verdict;
	const char		*rule;
} name_cases[] = {
	/* Nothing listed: no verdict (default decides later). */
	{ "", "", "example.com", 80, DEST_NONE, NULL },
	{ "example.com", "", "example.com", 80, DEST_ALLOW, "example.com" },
	{ "example.com", "", "www.example.com", 80, DEST_NONE, NULL },
	/* Exact over suffix over "*", whichever list holds which. */
	{ "www.example.com", ".example.com", "www.example.com", 80,
	    DEST_ALLOW, "www.example.com" },
	{ ".example.com", "www.example.com", "www.example.com", 80,
	    DEST_DENY, "www.example.com" },
	{ ".example.com", "*", "a.example.com", 80, DEST_ALLOW,
	    ".example.com" },
	{ "*", ".example.com", "a.example.com", 80, DEST_DENY,
	    ".example.com" },
	{ "*", ".example.com", "example.org", 80, DEST_ALLOW, "*" },
	/* Longer suffix over shorter. */
	{ ".a.example.com", ".example.com", "x.a.example.com", 80,
	    DEST_ALLOW, ".a.example.com" },
	{ ".example.com", ".a.example.com", "x.a.example.com", 80,
	    DEST_DENY, ".a.example.com" },
	{ ".example.com", ".a.example.com", "x.b.example.com", 80,
	    DEST_ALLOW, ".example.com" },
	/* Exact "x" over suffix ".x" for the name x itself. */
	{ "example.com", ".example.com", "example.com", 80, DEST_ALLOW,
	    "example.com" },
	/* Label boundaries. */
	{ "", ".example.com", "example.com", 80, DEST_DENY, ".example.com" },
	{ "", ".example.com", "badexample.com", 80, DEST_NONE, NULL },
	{ "", ".example.com", "a.badexample.com", 80, DEST_NONE, NULL },
	{ "", ".example.com", "example.com.evil.net", 80, DEST_NONE, NULL },
	{ "", ".com", "example.com", 80, DEST_DENY, ".com" },
	{ "", "example.com", "xexample.com", 80, DEST_NONE, NULL },
	/* Case and one trailing dot, in rules and in hosts. */
	{ "", "Example.COM", "example.com", 80, DEST_DENY, "example.com" },
	{ "", "example.com.", "EXAMPLE.com", 80, DEST_DENY, "example.com" },
	{ "", ".Example.Com.", "WWW.example.com.", 80, DEST_DENY,
	    ".example.com" },
	{ "", "example.com", "example.com..", 80, DEST_NONE, NULL },
	/* Ports: a rule with a port over the same rule without. */
	{ "example.com", "example.com:25", "example.com", 25, DEST_DENY,
	    "example.com:25" },
	{ "example.com", "example.com:25", "example.com", 80, DEST_ALLOW,
	    "example.com" },
	{ "example.com:443", "example.com", "example.com", 443, DEST_ALLOW,
	    "example.com:443" },
	{ "*", "*:25", "mail.example.com", 25, DEST_DENY, "*:25" },
	{ "*", "*:25", "mail.example.com", 26, DEST_ALLOW, "*" },
	{ "", "*:1-1023", "x.org", 1023, DEST_DENY, "*:1-1023" },
	{ "", "*:1-1023", "x.org", 1024, DEST_NONE, NULL },
	{ "", "*:80-80", "x.org", 80, DEST_DENY, "*:80" },
	/* A port rule that does not match falls through to the next key. */
	{ ".example.com", "www.example.com:25", "www.example.com", 80,
	    DEST_ALLOW, ".example.com" },
	/* The port does not lift a less specific pattern over a closer. */
	{ "www.example.com", ".example.com:80", "www.example.com", 80,
	    DEST_ALLOW, "www.example.com" },
	/* A tie goes to deny. */
	{ "example.com", "example.com", "example.com", 80, DEST_DENY,
	    "example.com" },
	{ "*", "*", "x.org", 80, DEST_DENY, "*" },
	{ "*:80", "*:1-100", "x.org", 80, DEST_DENY, "*:1-100" },
	/* "*" covers IP literals; no name rule does. */
	{ "", "*", "127.0.0.1", 80, DEST_DENY, "*" },
	{ "", "*", "::1", 80, DEST_DENY, "*" },
	{ "", "example.com", "", 80, DEST_NONE, NULL },
	{ "", "*", "", 80, DEST_DENY, "*" },
};

START_TEST(test_match_name)
{
	struct dest_set *s = build(name_cases[_i].allow, name_cases[_i].deny);
	struct dest_match m;
	char what[256];

	dest_match_name(s, name_cases[_i].host, strlen(name_cases[_i].host),
	    name_cases[_i].port, &m);
	snprintf(what, sizeof(what), "allow '%s' deny '%s' host '%s:%u'",
	    name_cases[_i].allow, name_cases[_i].deny, name_cases[_i].host,
	    (unsigned)name_cases[_i].port);
	assert_match(what, &m, name_cases[_i].verdict, name_cases[_i].rule);
	dest_set_free(s);
}
END_TEST

static const struct {
	const char		*allow;
	const char		*deny;
	const char		*addr;
	uint16_t		 port;
	enum dest_verdict	 verdict;
	const char		*rule;
} addr_cases[] = {
	{ "", "", "10.1.2.3", 80, DEST_NONE, NULL },
	{ "", "10.0.0.0/8", "10.1.2.3", 80, DEST_DENY, "10.0.0.0/8" },
	{ "", "10.0.0.0/8", "11.0.0.0", 80, DEST_NONE, NULL },
	{ "", "10.0.0.0/8", "9.255.255.255", 80, DEST_NONE, NULL },
	/* Longest prefix wins, whichever list. */
	{ "10.1.0.0/16", "10.0.0.0/8", "10.1.2.3", 80, DEST_ALLOW,
	    "10.1.0.0/16" },
	{ "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", 80, DEST_DENY,
	    "10.1.0.0/16" },
	{ "10.0.0.0/8", "10.1.0.0/16", "10.2.0.1", 80, DEST_ALLOW,
	    "10.0.0.0/8" },
	{ "10.1.2.3", "10.0.0.0/8", "10.1.2.3", 80, DEST_ALLOW, "10.1.2.3" },
	{ "10.1.2.3/32", "0.0.0.0/0", "10.1.2.4", 80, DEST_DENY,
	    "0.0.0.0/0" },
	/* Text prefixes are not network prefixes. */
	{ "", "127.0.0.1", "127.0.0.12", 80, DEST_NONE, NULL },
	/* Port over no port, then tie to deny. */
	{ "10.0.0.0/8:443", "10.0.0.0/8", "10.0.0.1", 443, DEST_ALLOW,
	    "10.0.0.0/8:443" },
	{ "10.0.0.0/8:443", "10.0.0.0/8", "10.0.0.1", 80, DEST_DENY,
	    "10.0.0.0/8" },
	{ "10.0.0.0/8", "10.0.0.0/8", "10.0.0.1", 80, DEST_DENY,
	    "10.0.0.0/8" },
	/* IPv6, with and without brackets. */
	{ "", "2001:db8::/32", "2001:db8:1::1", 443, DEST_DENY,
	    "2001:db8::/32" },
	{ "", "[2001:db8::]/32", "2001:db9::1", 443, DEST_NONE, NULL },
	{ "2001:db8:1::/48", "2001:db8::/32", "2001:db8:1::1", 443,
	    DEST_ALLOW, "2001:db8:1::/48" },
	{ "", "[::1]:8080", "::1", 8080, DEST_DENY, "[::1]:8080" },
	{ "", "[::1]:8080", "::1", 8081, DEST_NONE, NULL },
	{ "", "[2001:db8::]/32:1-1023", "2001:db8::5", 22, DEST_DENY,
	    "[2001:db8::]/32:1-1023" },
	{ "", "::/0", "::2", 80, DEST_DENY, "::/0" },
	/* IPv4-mapped addresses match IPv4 rules, never IPv6 ones. */
	{ "", "127.0.0.0/8", "::ffff:127.0.0.1", 80, DEST_DENY,
	    "127.0.0.0/8" },
	{ "", "::/0", "::ffff:127.0.0.1", 80, DEST_NONE, NULL },
	/* A mapped rule is stored as the IPv4 network it names. */
	{ "", "::ffff:10.0.0.0/104", "10.9.9.9", 80, DEST_DENY,
	    "10.0.0.0/8" },
	{ "", "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 80, DEST_DENY,
	    "10.0.0.0/8" },
	/* Families do not mix. */
	{ "", "0.0.0.0/0", "::1", 80, DEST_NONE, NULL },
	/* Name rules say nothing about addresses; "*" is a name rule. */
	{ "", "* example.com", "10.0.0.1", 80, DEST_NONE, NULL },
};

START_TEST(test_match_addr)
{
	struct dest_set *s = build(addr_cases[_i].allow, addr_cases[_i].deny);
	struct sockaddr_storage ss;
	struct dest_match m;
	char what[256];

	sockaddr_of(addr_cases[_i].addr, addr_cases[_i].port, &ss);
	dest_match_addr(s, (struct sockaddr *)&ss, &m);
	snprintf(what, sizeof(what), "allow '%s' deny '%s' addr %s port %u",
	    addr_cases[_i].allow, addr_cases[_i].deny, addr_cases[_i].addr,
	    (unsigned)addr_cases[_i].port);
	assert_match(what, &m, addr_cases[_i].verdict, addr_cases[_i].rule);
	dest_set_free(s);
}
END_TEST

START_TEST(test_match_other_family)
{
	struct dest_set *s = build("*", "0.0.0.0/0 ::/0");
	struct sockaddr_un sun;
	struct dest_match m;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	dest_match_addr(s, (struct sockaddr *)&sun, &m);
	assert_match("AF_UNIX", &m, DEST_NONE, NULL);
	dest_set_free(s);
}
END_TEST

static const struct {
	enum dest_verdict	name;
	enum dest_verdict	addr;	/* DEST_NONE + 3: no address yet */
	enum dest_verdict	dflt;
	enum dest_verdict	want;
	int			why;	/* 0 default, 1 name, 2 addr */
} decide_cases[] = {
	{ DEST_NONE, DEST_NONE, DEST_ALLOW, DEST_ALLOW, 0 },
	{ DEST_NONE, DEST_NONE, DEST_DENY, DEST_DENY, 0 },
	{ DEST_ALLOW, DEST_NONE, DEST_DENY, DEST_ALLOW, 1 },
	{ DEST_NONE, DEST_ALLOW, DEST_DENY, DEST_ALLOW, 2 },
	{ DEST_DENY, DEST_ALLOW, DEST_ALLOW, DEST_DENY, 1 },
	{ DEST_ALLOW, DEST_DENY, DEST_ALLOW, DEST_DENY, 2 },
	{ DEST_ALLOW, DEST_ALLOW, DEST_DENY, DEST_ALLOW, 1 },
	{ DEST_DENY, DEST_DENY, DEST_ALLOW, DEST_DENY, 1 },
	{ DEST_NONE, DEST_DENY, DEST_ALLOW, DEST_DENY, 2 },
	{ DEST_ALLOW, DEST_NONE + 3, DEST_DENY, DEST_ALLOW, 1 },
	{ DEST_NONE, DEST_NONE + 3, DEST_DENY, DEST_DENY, 0 },
};

START_TEST(test_decide)
{
	struct dest_match name = { decide_cases[_i].name, "n", 0, 0 };
	struct dest_match addr = { decide_cases[_i].addr, "a", 0, 0 };
	const struct dest_match *why = &name, *want;
	bool none = decide_cases[_i].addr == DEST_NONE + 3;

	ck_assert_int_eq(dest_decide(&name, none ? NULL : &addr,
	    decide_cases[_i].dflt, &why), decide_cases[_i].want);
	want = decide_cases[_i].why == 0 ? NULL :
	    decide_cases[_i].why == 1 ? &name : &addr;
	ck_assert_ptr_eq(why, want);
}
END_TEST

static const struct {
	const char	*in;
	const char	*canon;
} good_patterns[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.com.", "example.com" },
	{ ".Example.com", ".example.com" },
	{ ".example.com.:443", ".example.com:443" },
	{ "*", "*" },
	{ "*:25", "*:25" },
	{ "*:1-65535", "*:1-65535" },
	{ "*:80-80", "*:80" },
	{ "a-b_c.example", "a-b_c.example" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "localhost", "localhost" },
	{ "1e100.net", "1e100.net" },
	{ "0x.example", "0x.example" },
	{ "10.0.0.0/8", "10.0.0.0/8" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "127.0.0.1/32", "127.0.0.1" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "10.0.0.0/8:443", "10.0.0.0/8:443" },
	{ "::1", "::1" },
	/* Without brackets every colon is the address's own. */
	{ "::1:80", "::0.1.0.128" },
	{ "[::1]", "::1" },
	{ "[::1]:8080", "[::1]:8080" },
	{ "2001:DB8::/32", "2001:db8::/32" },
	{ "[2001:db8::]/32", "2001:db8::/32" },
	{ "[2001:db8::]/32:1-1023", "[2001:db8::]/32:1-1023" },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8" },
	{ "::ffff:1.2.3.4", "1.2.3.4" },
	{ "[::ffff:1.2.3.4]:80", "1.2.3.4:80" },
};

START_TEST(test_good_pattern)
{
	const char *in = good_patterns[_i].in;
	struct destpat p, q;
	char err[256], text[DESTPAT_TEXT_MAX + 1];
	int n;

	ck_assert_msg(destpat_parse(in, strlen(in), &p, err,
	    sizeof(err)) == 0, "'%s' refused: %s", in, err);
	n = destpat_format(&p, text, sizeof(text));
	ck_assert_int_ge(n, 0);
	ck_assert_str_eq(text, good_patterns[_i].canon);
	ck_assert_int_eq(destpat_parse(text, (size_t)n, &q, err,
	    sizeof(err)), 0);
	ck_assert(memcmp(&p, &q, sizeof(p)) == 0);
	/* Too small a buffer is refused, never cut. */
	ck_assert_int_eq(destpat_format(&p, text, (size_t)n), -1);
}
END_TEST

static const struct {
	const char	*in;
	const char	*why;	/* a part of the error text */
} bad_patterns[] = {
	{ "", "empty" },
	{ ":80", "empty" },
	{ "/8", "empty" },
	{ "*.example.com", "stands alone" },
	{ "**", "stands alone" },
	{ "*/8", "applies only to an address" },
	{ "example.com/8", "applies only to an address" },
	{ "a..b", "not a host name" },
	{ ".", "not a host name" },
	{ "..example.com", "not a host name" },
	{ "exa mple", "not a host name" },
	{ "exa\"mple", "not a host name" },
	{ "caf\xc3\xa9.example", "not a host name" },
	{ "a.example.com..", "not a host name" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
	    "not a host name" },
	/* The inet_aton forms that filters are bypassed with. */
	{ "2130706433", "four decimal octets" },
	{ "0x7f.1", "four decimal octets" },
	{ "0x7f000001", "four decimal octets" },
	{ "0177.0.0.1", "four decimal octets" },
	{ "127.1", "four decimal octets" },
	{ "127.0.1", "four decimal octets" },
	{ "1.2.3.4.5", "four decimal octets" },
	{ "256.0.0.1", "four decimal octets" },
	{ "127.0.0.01", "four decimal octets" },
	{ "127.0.0.1.", "four decimal octets" },
	{ "example.123", "four decimal octets" },
	{ ".10.0.0.0", "must be a name" },
	{ ".1.2.3.4:80", "must be a name" },
	{ "10.0.0.1/8", "bits set past" },
	{ "2001:db8::1/32", "bits set past" },
	{ "10.0.0.0/33", "bad /PREFIX" },
	{ "10.0.0.0/", "bad /PREFIX" },
	{ "10.0.0.0/-1", "bad /PREFIX" },
	{ "10.0.0.0/0x8", "bad /PREFIX" },
	{ "::/129", "bad /PREFIX" },
	{ "2001:db8::/32:80", "needs brackets" },
	{ "2001:db8::1%eth0", "not an IPv4 or IPv6" },
	{ "[::1", "without its ']'" },
	{ "[::1]x", "may follow ']'" },
	{ "[127.0.0.1]", "only an IPv6" },
	{ "[example.com]:80", "only an IPv6" },
	{ "[]", "empty" },
	{ "[[::1]]", "may follow ']'" },
	{ "a:b:c", "not an IPv4 or IPv6" },
	{ "example.com:0", "bad port" },
	{ "example.com:65536", "bad port" },
	{ "example.com:", "bad port" },
	{ "example.com:80x", "bad port" },
	{ "example.com:+80", "bad port" },
	{ "example.com:80-", "bad port" },
	{ "example.com:-80", "bad port" },
	{ "example.com:1-2-3", "bad port" },
	{ "example.com:443-80", "LOW above HIGH" },
};

START_TEST(test_bad_pattern)
{
	const char *in = bad_patterns[_i].in;
	struct destpat p;
	char err[256];

	memset(err, 'x', sizeof(err));
	ck_assert_msg(destpat_parse(in, strlen(in), &p, err, sizeof(err)) ==
	    -1, "'%s' was accepted", in);
	ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
	ck_assert_msg(bad_patterns[_i].why == NULL ||
	    strstr(err, bad_patterns[_i].why) != NULL,
	    "'%s': error '%s' lacks '%s'", in, err, bad_patterns[_i].why);
}
END_TEST

static const struct {
	const char		*host;
	enum destpat_literal	 kind;
} literal_cases[] = {
	{ "127.0.0.1", DESTPAT_LIT_IPV4 },
	{ "0.0.0.0", DESTPAT_LIT_IPV4 },
	{ "255.255.255.255", DESTPAT_LIT_IPV4 },
	{ "::1", DESTPAT_LIT_IPV6 },
	{ "2001:db8::1", DESTPAT_LIT_IPV6 },
	{ "::ffff:127.0.0.1", DESTPAT_LIT_IPV6 },
	{ "example.com", DESTPAT_LIT_NAME },
	{ "example.com.", DESTPAT_LIT_NAME },
	{ "EXAMPLE.com", DESTPAT_LIT_NAME },
	{ "localhost", DESTPAT_LIT_NAME },
	{ "1e100.net", DESTPAT_LIT_NAME },
	{ "0x7f.example", DESTPAT_LIT_NAME },
	{ "127.0.0.1.example", DESTPAT_LIT_NAME },
	/* inet_aton() would read each of these as 127.0.0.1 or another. */
	{ "2130706433", DESTPAT_LIT_NUMERIC },
	{ "0x7f.1", DESTPAT_LIT_NUMERIC },
	{ "0x7F000001", DESTPAT_LIT_NUMERIC },
	{ "0177.0.0.1", DESTPAT_LIT_NUMERIC },
	{ "127.1", DESTPAT_LIT_NUMERIC },
	{ "127.0.1", DESTPAT_LIT_NUMERIC },
	{ "1.2.3.4.5", DESTPAT_LIT_NUMERIC },
	{ "127.0.0.01", DESTPAT_LIT_NUMERIC },
	{ "256.1.1.1", DESTPAT_LIT_NUMERIC },
	{ "127.0.0.1.", DESTPAT_LIT_NUMERIC },
	{ "1.2.3.0x4", DESTPAT_LIT_NUMERIC },
	{ "0x", DESTPAT_LIT_NUMERIC },
	{ "example.123", DESTPAT_LIT_NUMERIC },
	{ "", DESTPAT_LIT_BAD },
	{ ".", DESTPAT_LIT_BAD },
	{ "a..b", DESTPAT_LIT_BAD },
	{ ".example.com", DESTPAT_LIT_BAD },
	{ "exa mple.com", DESTPAT_LIT_BAD },
	{ "fe80::1%eth0", DESTPAT_LIT_BAD },
	{ "[::1]", DESTPAT_LIT_BAD },
	{ "example.com:80", DESTPAT_LIT_BAD },
};

START_TEST(test_literal)
{
	const char *h = literal_cases[_i].host;

	ck_assert_msg(destpat_literal(h, strlen(h)) == literal_cases[_i].kind,
	    "'%s': %d, want %d", h, (int)destpat_literal(h, strlen(h)),
	    (int)literal_cases[_i].kind);
}
END_TEST

START_TEST(test_literal_length)
{
	char host[300];

	/* 253 bytes (plus a dot) is a name; 254 is not. */
	memset(host, 'a', sizeof(host));
	host[63] = host[127] = host[191] = '.';
	ck_assert_int_eq(destpat_literal(host, 253), DESTPAT_LIT_NAME);
	host[253] = '.';
	ck_assert_int_eq(destpat_literal(host, 254), DESTPAT_LIT_NAME);
	host[253] = 'a';
	ck_assert_int_eq(destpat_literal(host, 254), DESTPAT_LIT_BAD);
	ck_assert_int_eq(destpat_literal(host, sizeof(host)),
	    DESTPAT_LIT_BAD);
	/* A label of 64 bytes is too long. */
	ck_assert_int_eq(destpat_literal(host + 192, 64), DESTPAT_LIT_BAD);
	ck_assert_int_eq(destpat_literal(host + 192, 63), DESTPAT_LIT_NAME);
}
END_TEST

/* Write text to a new temporary file; its path into path[0..cap). */
static void
temp_file(const char *text, char *path, size_t cap)
{
	FILE *f;
	int fd;

	snprintf(path, cap, "/tmp/ferry-check-dest-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_file)
{
	struct dest_set *s = dest_set_new();
	struct dest_match m;
	char path[64], err[512], want[128];

	temp_file("# block list\n\n  ads.example   # trailing comment\n"
	    "\t.tracker.example\r\n10.0.0.0/8\nlast.example", path,
	    sizeof(path));
	ck_assert_msg(dest_add_file(s, DEST_DENY, path, err, sizeof(err)) ==
	    0, "%s", err);
	unlink(path);
	ck_assert_uint_eq(dest_count(s), 4);
	dest_match_name(s, "x.tracker.example", 17, 443, &m);
	assert_match("suffix from file", &m, DEST_DENY, ".tracker.example");
	dest_match_name(s, "last.example", 12, 443, &m);
	assert_match("last line, no newline", &m, DEST_DENY, "last.example");
	dest_set_free(s);

	s = dest_set_new();
	temp_file("ok.example\n# comment\n\nbad..example\n", path,
	    sizeof(path));
	ck_assert_int_eq(dest_add_file(s, DEST_DENY, path, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:4: 'bad..example'", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	unlink(path);
	dest_set_free(s);

	s = dest_set_new();
	temp_file("a.example b.example\n", path, sizeof(path));
	ck_assert_int_eq(dest_add_file(s, DEST_ALLOW, path, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, ":1: one pattern a line") != NULL, "%s",
	    err);
	unlink(path);
	dest_set_free(s);
}
END_TEST

START_TEST(test_file_limits)
{
	struct dest_set *s = dest_set_new();
	char path[64], err[512], *text;

	/* A line too long is refused with its number, never split. */
	text = malloc(DESTPAT_LINE_MAX + 16);
	ck_assert_ptr_nonnull(text);
	memset(text, 'a', DESTPAT_LINE_MAX + 10);
	memcpy(text, "x\n", 2);
	text[DESTPAT_LINE_MAX + 10] = '\0';
	temp_file(text, path, sizeof(path));
	free(text);
	ck_assert_int_eq(dest_add_file(s, DEST_DENY, path, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, ":2: line longer") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(dest_add_file(s, DEST_DENY, path, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	dest_set_free(s);
}
END_TEST

START_TEST(test_list_errors)
{
	struct dest_set *s = dest_set_new();
	char err[256], many[DEST_KEY_RULES_MAX * 12 + 16];
	size_t n = 0;
	int i;

	ck_assert_int_eq(dest_add_list(s, DEST_DENY, " a.example\t127.1 ",
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "'127.1'") != NULL, "%s", err);
	ck_assert_uint_eq(dest_count(s), 1);
	/* One pattern holds a bounded number of port rules. */
	for (i = 1; i <= DEST_KEY_RULES_MAX + 1; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "*:%d ", i);
	ck_assert_int_eq(dest_add_list(s, DEST_DENY, many, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "more than") != NULL, "%s", err);
	dest_set_free(s);
	dest_set_free(NULL);
}
END_TEST

/* Collects dest_warnings() lines, joined by '|'. */
static void
collect(void *arg, const char *msg)
{
	char *buf = arg;

	strncat(buf, msg, 1023 - strlen(buf));
	strncat(buf, "|", 1023 - strlen(buf));
}

START_TEST(test_warnings)
{
	struct dest_set *s = build("a.example B.example. *:25 10.0.0.0/8",
	    "b.example a.example:80 c.example c.example *:1-1023");
	char buf[1024] = "";

	ck_assert_uint_eq(dest_warnings(s, collect, buf), 2);
	ck_assert_msg(strstr(buf, "'b.example' is in both allow and deny") !=
	    NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "'c.example' is listed twice in deny") !=
	    NULL, "%s", buf);
	dest_set_free(s);
	s = build("", "");
	ck_assert_uint_eq(dest_warnings(s, collect, buf), 0);
	dest_set_free(s);
}
END_TEST

/* Many keys: the table grows and every one is still found. */
START_TEST(test_many)
{
	struct dest_set *s = dest_set_new();
	struct sockaddr_storage ss;
	struct dest_match m;
	char name[64], err[256], ip[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		ck_assert_int_eq(dest_add_list(s, i % 2 ? DEST_DENY :
		    DEST_ALLOW, name, err, sizeof(err)), 0);
		snprintf(ip, sizeof(ip), "10.%d.%d.0/24", i / 256, i % 256);
		ck_assert_int_eq(dest_add_list(s, DEST_DENY, ip, err,
		    sizeof(err)), 0);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		dest_match_name(s, name, strlen(name), 80, &m);
		assert_match(name, &m, i % 2 ? DEST_DENY : DEST_ALLOW, name);
		snprintf(ip, sizeof(ip), "10.%d.%d.7", i / 256, i % 256);
		sockaddr_of(ip, 80, &ss);
		dest_match_addr(s, (struct sockaddr *)&ss, &m);
		ck_assert_int_eq(m.verdict, DEST_DENY);
	}
	dest_match_name(s, "host5000.example", 16, 80, &m);
	ck_assert_int_eq(m.verdict, DEST_NONE);
	ck_assert_uint_eq(dest_count(s), 10000);
	dest_set_free(s);
}
END_TEST

Suite *
dest_suite(void)
{
	Suite *s = suite_create("dest");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_match_name, 0, NELEM(name_cases));
	tcase_add_loop_test(tc, test_match_addr, 0, NELEM(addr_cases));
	tcase_add_test(tc, test_match_other_family);
	tcase_add_loop_test(tc, test_decide, 0, NELEM(decide_cases));
	tcase_add_loop_test(tc, test_good_pattern, 0, NELEM(good_patterns));
	tcase_add_loop_test(tc, test_bad_pattern, 0, NELEM(bad_patterns));
	tcase_add_loop_test(tc, test_literal, 0, NELEM(literal_cases));
	tcase_add_test(tc, test_literal_length);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_file_limits);
	tcase_add_test(tc, test_list_errors);
	tcase_add_test(tc, test_warnings);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}
