/*
 * check_route.c: parent proxies and routes (parent.c, route.c): reading
 * proxy URLs (schemes, ports, hosts, percent-decoded credentials, the
 * Basic value sent to an HTTP parent), the health of an address (down
 * after down_after failures, up again after retry_after or a success),
 * and the [routes] table: the most specific pattern wins, the default,
 * direct, CIDR patterns for IP literals only, and the errors and warning
 * of a table that cannot be built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "parent.h"
#include "route.h"
#include "suites.h"

/* --- proxy URLs --- */

static const struct {
	const char	*url;
	int		 kind;		/* -1: refused */
	const char	*host;
	unsigned	 port;
	const char	*user;		/* NULL: no credentials */
	const char	*pass;
	const char	*text;		/* as logs show it */
	const char	*basic;		/* "" when none */
} urls[] = {
	{ "http://proxy.corp.example:3128", PARENT_HTTP, "proxy.corp.example",
	    3128, NULL, NULL, "http://proxy.corp.example:3128", "" },
	{ "HTTP://p:1/", PARENT_HTTP, "p", 1, NULL, NULL, "http://p:1", "" },
	{ "socks5://127.0.0.1:9050", PARENT_SOCKS5, "127.0.0.1", 9050, NULL,
	    NULL, "socks5://127.0.0.1:9050", "" },
	{ "socks5://[::1]:1080", PARENT_SOCKS5, "::1", 1080, NULL, NULL,
	    "socks5://[::1]:1080", "" },
	/* RFC 7617's example: "Aladdin:open sesame". */
	{ "http://Aladdin:open%20sesame@p:8080", PARENT_HTTP, "p", 8080,
	    "Aladdin", "open sesame", "http://p:8080",
	    "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" },
	/* A ';' is an INI comment, so it is written %3B. */
	{ "http://u:s%3Bcret@p:1", PARENT_HTTP, "p", 1, "u", "s;cret",
	    "http://p:1", "Basic dTpzO2NyZXQ=" },
	{ "http://u%40corp:p%3Aw@p:1", PARENT_HTTP, "p", 1, "u@corp", "p:w",
	    "http://p:1", "Basic dUBjb3JwOnA6dw==" },
	{ "http://u@p:1", PARENT_HTTP, "p", 1, "u", "", "http://p:1",
	    "Basic dTo=" },
	{ "socks5://u:p@h:1", PARENT_SOCKS5, "h", 1, "u", "p", "socks5://h:1",
	    "" },
	/* refused */
	{ "https://p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "socks4://p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "p:3128", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http:/p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:0", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:65536", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:80x", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:1/path", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:1?q", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://p:1#f", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://::1:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://[p]:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://0x7f.1:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://a..b:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://:pw@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u:p@w@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u:p%2@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u:p%zz@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u:p%0a@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u%3a:p@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "http://u:p w@p:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "socks5://u@h:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "socks5://u:@h:1", -1, NULL, 0, NULL, NULL, NULL, NULL },
	{ "", -1, NULL, 0, NULL, NULL, NULL, NULL },
};

START_TEST(test_url)
{
	struct parent_addr a;
	char err[512];
	int rc = parent_parse_url(urls[_i].url, strlen(urls[_i].url), &a, err,
	    sizeof(err));

	if (urls[_i].kind < 0) {
		ck_assert_msg(rc == -1, "%s: accepted", urls[_i].url);
		ck_assert_msg(err[0] != '\0', "%s: no reason", urls[_i].url);
		/* A password never reaches the message. */
		ck_assert_msg(strstr(err, ":p@") == NULL && strstr(err,
		    "pw@") == NULL, "%s: %s", urls[_i].url, err);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", urls[_i].url, err);
	ck_assert_int_eq(a.kind, urls[_i].kind);
	ck_assert_str_eq(a.host, urls[_i].host);
	ck_assert_uint_eq(a.port, urls[_i].port);
	ck_assert_str_eq(a.text, urls[_i].text);
	ck_assert_str_eq(a.basic, urls[_i].basic);
	ck_assert(a.has_cred == (urls[_i].user != NULL));
	if (urls[_i].user != NULL) {
		ck_assert_str_eq(a.user, urls[_i].user);
		ck_assert_uint_eq(a.user_len, strlen(urls[_i].user));
		ck_assert_str_eq(a.pass, urls[_i].pass);
		ck_assert_uint_eq(a.pass_len, strlen(urls[_i].pass));
	}
	ck_assert(parent_addr_up(&a, io_now_ms()));
}
END_TEST

/* Credentials of 255 bytes pass; 256 do not (RFC 1929's limit). */
START_TEST(test_url_lengths)
{
	char url[1024], user[300], err[512];
	struct parent_addr a;

	memset(user, 'u', 255);
	user[255] = '\0';
	snprintf(url, sizeof(url), "socks5://%s:%s@h:1", user, user);
	ck_assert_int_eq(parent_parse_url(url, strlen(url), &a, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(a.user_len, 255);
	ck_assert_uint_eq(a.pass_len, 255);
	snprintf(url, sizeof(url), "http://%s:%s@h:1", user, user);
	ck_assert_int_eq(parent_parse_url(url, strlen(url), &a, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(strlen(a.basic), 6 + (511 + 2) / 3 * 4);
	snprintf(url, sizeof(url), "socks5://%su:p@h:1", user);
	ck_assert_int_eq(parent_parse_url(url, strlen(url), &a, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "255"));
	/* Only the given length is read: no terminator needed. */
	ck_assert_int_eq(parent_parse_url("http://p:12345", 12, &a, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(a.port, 123);
}
END_TEST

/*
 * A typo may cut a URL inside its credentials (a raw ';' or '#' ends
 * the value, a blank splits it in two): no message quotes a byte of the
 * password, nor of a word that may be a piece of one.
 */
static const char *const typos[] = {
	"http://alice:s3cr3t",
	"http://alice:s3cr3t@proxy",
	"http://alice:s3cr3t@proxy:0",
	"http://alice:s3cr3t@proxy:3128/x",
	"http://alice:s3cr3t@@proxy:3128",
	"http://alice:s3cr3t%zz@proxy:3128",
	"socks5://alice:s3cr3t",
	"s3cr3t@proxy:3128",
	"alice:s3cr3t@proxy:3128",
	"s3cr3t",
	"htp://alice:s3cr3t@proxy:3128",
	"http://[::1:s3cr3t",
};

START_TEST(test_url_typo_keeps_password)
{
	struct parent_addr a;
	char err[512];

	ck_assert_int_eq(parent_parse_url(typos[_i], strlen(typos[_i]), &a,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "s3cr3t") == NULL, "%s: %s", typos[_i], err);
}
END_TEST

/* A name ending in a dot may be one byte longer: never past host[]. */
START_TEST(test_url_long_host)
{
	char url[600], name[300], err[512];
	struct parent_addr a;
	size_t i;

	for (i = 0; i < 253; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[253] = '\0';
	snprintf(url, sizeof(url), "http://%s:3128", name);
	ck_assert_msg(parent_parse_url(url, strlen(url), &a, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(strlen(a.host), 253);
	ck_assert_uint_eq(a.port, 3128);
	snprintf(url, sizeof(url), "http://%s.:3128", name);
	ck_assert_int_eq(parent_parse_url(url, strlen(url), &a, err,
	    sizeof(err)), -1);
}
END_TEST

/*
 * After retry_after, one caller probes a down address; the others skip
 * it until the probe's outcome is known.
 */
START_TEST(test_claim)
{
	struct parent_addr a;
	char err[256];
	uint64_t now;
	bool probe;

	ck_assert_int_eq(parent_parse_url("http://h:1", 10, &a, err,
	    sizeof(err)), 0);
	ck_assert(parent_addr_claim(&a, io_now_ms(), 1, &probe) && !probe);
	parent_addr_failed(&a, "corp", 1, 1);
	now = io_now_ms();
	ck_assert(!parent_addr_claim(&a, now, 1, &probe));
	ck_assert(parent_addr_claim(&a, now + 1001, 1, &probe) && probe);
	ck_assert(!parent_addr_claim(&a, now + 1002, 1, &probe));
	/* No verdict: the next one may probe at once. */
	parent_addr_release(&a);
	ck_assert(parent_addr_claim(&a, now + 1003, 1, &probe) && probe);
	parent_addr_ok(&a, "corp");
	ck_assert(parent_addr_claim(&a, now + 1004, 1, &probe) && !probe);
	ck_assert(parent_addr_up(&a, now));
}
END_TEST

START_TEST(test_parent_list)
{
	struct parent p;
	char err[512], list[1024];
	size_t i;

	ck_assert_int_eq(parent_parse(&p, "corp", " http://a:1\thttp://b:2 ",
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(p.naddrs, 2);
	ck_assert_str_eq(p.addr[0].host, "a");
	ck_assert_str_eq(p.addr[1].host, "b");
	ck_assert_int_eq(parent_parse(&p, "corp", "", err, sizeof(err)), -1);
	ck_assert_int_eq(parent_parse(&p, "direct", "http://a:1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(parent_parse(&p, "default", "http://a:1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(parent_parse(&p, "Corp", "http://a:1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(parent_parse(&p, "a.b", "http://a:1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(parent_parse(&p, "corp", "http://a:1 bogus", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "URL 2: not a proxy URL"));
	list[0] = '\0';
	for (i = 0; i <= PARENT_ADDRS_MAX; i++)
		strcat(list, "http://a:1 ");
	ck_assert_int_eq(parent_parse(&p, "corp", list, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
}
END_TEST

/* down_after failures in a row put an address down for retry_after. */
START_TEST(test_health)
{
	struct parent_addr a;
	char err[256];
	uint64_t now;

	ck_assert_int_eq(parent_parse_url("http://h:1", 10, &a, err,
	    sizeof(err)), 0);
	parent_addr_failed(&a, "corp", 3, 1);
	parent_addr_failed(&a, "corp", 3, 1);
	ck_assert(parent_addr_up(&a, io_now_ms()));
	parent_addr_ok(&a, "corp");		/* the count starts again */
	parent_addr_failed(&a, "corp", 3, 1);
	parent_addr_failed(&a, "corp", 3, 1);
	ck_assert(parent_addr_up(&a, io_now_ms()));
	parent_addr_failed(&a, "corp", 3, 1);
	now = io_now_ms();
	ck_assert(!parent_addr_up(&a, now));
	ck_assert(!parent_addr_up(&a, now + 900));
	ck_assert(parent_addr_up(&a, now + 1001));
	/* Retried after retry_after: one more failure, down at once. */
	parent_addr_failed(&a, "corp", 3, 1);
	ck_assert(!parent_addr_up(&a, io_now_ms()));
	/* A success brings it up whatever the time. */
	parent_addr_ok(&a, "corp");
	ck_assert(parent_addr_up(&a, io_now_ms()));
	parent_addr_failed(&a, "corp", 1, 1);
	ck_assert(!parent_addr_up(&a, io_now_ms()));
}
END_TEST

/* --- the routes table --- */

static char warned[512];

static void
note(void *arg, const char *msg)
{
	size_t len = strlen(warned);

	(void)arg;
	snprintf(warned + len, sizeof(warned) - len, "%s\n", msg);
}

/* Build t from "name=value" lines, [parents] first. */
static int
build(struct route_table *t, const char *const *parents,
    const char *const *routes, char *err, size_t errlen)
{
	char name[64];
	const char *eq;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->down_after = 3;
	t->retry_after = 30;
	warned[0] = '\0';
	for (i = 0; parents != NULL && parents[i] != NULL; i++) {
		eq = strchr(parents[i], '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq - parents[i]),
		    parents[i]);
		if (route_add_parent(t, name, eq + 1, err, errlen) == -1)
			return -1;
	}
	for (i = 0; routes != NULL && routes[i] != NULL; i++) {
		eq = strchr(routes[i], '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq - routes[i]),
		    routes[i]);
		if (route_add_line(t, name, eq + 1, err, errlen) == -1)
			return -1;
	}
	return route_finish(t, note, NULL, err, errlen);
}

static const char *const parents[] = {
	"corp=http://proxy1:3128 http://proxy2:3128",
	"tor=socks5://127.0.0.1:9050",
	NULL
};

static const char *const routes[] = {
	"default=direct",
	"corp=.corp.example 10.0.0.0/8 [2001:db8::]/32 *:8080",
	"tor=.onion",
	"direct=intranet.corp.example 10.1.0.0/16 .corp.example:8080",
	NULL
};

static const struct {
	const char	*host;
	unsigned	 port;
	const char	*want;		/* NULL: direct */
	const char	*rule;		/* NULL: the default */
} lookups[] = {
	{ "www.corp.example", 80, "corp", ".corp.example" },
	{ "WWW.Corp.Example.", 80, "corp", ".corp.example" },
	{ "corp.example", 443, "corp", ".corp.example" },
	{ "intranet.corp.example", 80, NULL, "intranet.corp.example" },
	{ "a.intranet.corp.example", 80, "corp", ".corp.example" },
	{ "notcorp.example", 80, NULL, NULL },
	{ "x.onion", 80, "tor", ".onion" },
	{ "example.com", 80, NULL, NULL },
	/* a port rule over the same pattern without one */
	{ "www.corp.example", 8080, NULL, ".corp.example:8080" },
	/* "*:8080" is less specific than any suffix */
	{ "example.com", 8080, "corp", "*:8080" },
	{ "x.onion", 8080, "tor", ".onion" },
	/* CIDR: literals only, the longest prefix wins */
	{ "10.2.3.4", 80, "corp", "10.0.0.0/8" },
	{ "10.1.3.4", 80, NULL, "10.1.0.0/16" },
	{ "2001:db8::1", 443, "corp", "2001:db8::/32" },
	{ "192.0.2.1", 80, NULL, NULL },
	{ "192.0.2.1", 8080, "corp", "*:8080" },
	{ "10.2.3.4.nip.example", 80, NULL, NULL },
};

START_TEST(test_lookup)
{
	struct route_table t;
	struct route r;
	char err[512], name[64];

	ck_assert_msg(build(&t, parents, routes, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(warned, "");
	route_lookup(&t, lookups[_i].host, strlen(lookups[_i].host),
	    (uint16_t)lookups[_i].port, &r);
	ck_assert_msg((r.parent == NULL) == (lookups[_i].want == NULL),
	    "%s:%u: %s", lookups[_i].host, lookups[_i].port,
	    route_name(&r, name, sizeof(name)));
	if (lookups[_i].want != NULL)
		ck_assert_str_eq(r.parent->name, lookups[_i].want);
	if (lookups[_i].rule == NULL)
		ck_assert_ptr_null(r.rule);
	else
		ck_assert_str_eq(r.rule, lookups[_i].rule);
	route_free(&t);
}
END_TEST

/* No [routes]: everything direct; a parent default takes the rest. */
START_TEST(test_default)
{
	static const char *const to_tor[] = { "default=tor", "direct=.lan",
	    NULL };
	struct route_table t;
	struct route r;
	char err[512], name[64];

	ck_assert_int_eq(build(&t, NULL, NULL, err, sizeof(err)), 0);
	route_lookup(&t, "example.com", 11, 80, &r);
	ck_assert_ptr_null(r.parent);
	ck_assert_str_eq(route_name(&r, name, sizeof(name)), "direct");
	route_free(&t);
	ck_assert_int_eq(build(&t, parents, to_tor, err, sizeof(err)), 0);
	route_lookup(&t, "example.com", 11, 80, &r);
	ck_assert_str_eq(route_name(&r, name, sizeof(name)), "parent tor");
	ck_assert_ptr_null(r.rule);
	route_lookup(&t, "nas.lan", 7, 80, &r);
	ck_assert_ptr_null(r.parent);
	/* corp is used by no route: a warning, not an error. */
	ck_assert_str_eq(warned, "[parents] corp: no route uses it\n");
	route_free(&t);
	/* A zeroed table (no config loaded) routes direct. */
	memset(&t, 0, sizeof(t));
	route_lookup(&t, "example.com", 11, 80, &r);
	ck_assert_ptr_null(r.parent);
}
END_TEST

static const struct {
	const char	*parents[3];
	const char	*routes[4];
	const char	*words[3];	/* the message has each */
} bad[] = {
	{ { "corp=http://p:1" }, { "default=nowhere" },
	    { "default = nowhere", "no parent" } },
	{ { "corp=http://p:1" }, { "proxy=.example" },
	    { "[routes] proxy = .example", "no parent" } },
	{ { "corp=http://p:1" }, { "corp=.a .b", "direct=x .b" },
	    { "direct = x .b", "'.b'", "corp" } },
	{ { "corp=http://p:1" }, { "corp=*.example" },
	    { "corp = *.example", "*.example" } },
	{ { "corp=http://p:1", "corp=http://q:1" }, { NULL },
	    { "corp", "twice" } },
	{ { "corp=ftp://p:1" }, { NULL }, { "corp", "'ftp://p:1'" } },
	{ { "corp=http://p" }, { NULL }, { "corp", "port" } },
	{ { "corp=http://p:1/x" }, { NULL }, { "corp", "path" } },
};

START_TEST(test_bad)
{
	struct route_table t;
	char err[512];
	size_t i;

	ck_assert_int_eq(build(&t, bad[_i].parents, bad[_i].routes, err,
	    sizeof(err)), -1);
	for (i = 0; i < 3 && bad[_i].words[i] != NULL; i++)
		ck_assert_msg(strstr(err, bad[_i].words[i]) != NULL,
		    "row %d: '%s' not in: %s", _i, bad[_i].words[i], err);
	route_free(&t);
}
END_TEST

/* The same pattern twice for one route is no clash. */
START_TEST(test_same_route_twice)
{
	static const char *const twice[] = { "corp=.a .a", "tor=.b:443 .b",
	    NULL };
	struct route_table t;
	struct route r;
	char err[512];

	ck_assert_msg(build(&t, parents, twice, err, sizeof(err)) == 0, "%s",
	    err);
	route_lookup(&t, "x.b", 3, 443, &r);
	ck_assert_str_eq(r.parent->name, "tor");
	ck_assert_str_eq(r.rule, ".b:443");
	route_free(&t);
}
END_TEST

Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_url, 0, NELEM(urls));
	tcase_add_test(tc, test_url_lengths);
	tcase_add_loop_test(tc, test_url_typo_keeps_password, 0,
	    NELEM(typos));
	tcase_add_test(tc, test_url_long_host);
	tcase_add_test(tc, test_claim);
	tcase_add_test(tc, test_parent_list);
	tcase_add_test(tc, test_health);
	tcase_add_loop_test(tc, test_lookup, 0, NELEM(lookups));
	tcase_add_test(tc, test_default);
	tcase_add_loop_test(tc, test_bad, 0, NELEM(bad));
	tcase_add_test(tc, test_same_route_twice);
	suite_add_tcase(s, tc);
	return s;
}
