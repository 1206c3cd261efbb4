/*
 * check_policy.c: a snapshot's access policy (policy.c): building it from
 * the [auth] and [destinations] values, its warnings and errors, and the
 * verdict on each address ferry is about to connect to: the rules of both
 * families together, then the internal-address guard, which only an
 * allow CIDR rule opens.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "num.h"
#include "policy.h"
#include "suites.h"

/* A spec with everything empty: no auth, no rules, guard on. */
static struct policy_spec
spec_empty(void)
{
	struct policy_spec s = {
		.users = "", .realm = "ferry", .cache_ttl = 300,
		.allow = "", .deny = "", .allow_file = "", .deny_file = "",
		.dflt = DEST_ALLOW, .internal_allowed = false
	};

	return s;
}

static char warned[1024];

static void
note_warning(void *arg, const char *msg)
{
	size_t len = strlen(warned);

	(void)arg;
	snprintf(warned + len, sizeof(warned) - len, "%s\n", msg);
}

static void
load_ok(struct policy *p, const struct policy_spec *s)
{
	char err[512];

	warned[0] = '\0';
	ck_assert_msg(policy_load(p, s, note_warning, NULL, err,
	    sizeof(err)) == 0, "policy_load: %s", err);
}

/* What the last allowed() call's verdict said refused it. */
static enum policy_verdict verdict;

/* The verdict on ip:port for a destination named host. */
static bool
allowed(const struct policy *p, const char *host, const char *ip,
    uint16_t port, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	struct dest_match name;

	dest_match_name(p->dest, host, strlen(host), port, &name);
	sockaddr_of(ip, port, &ss);
	why[0] = '\0';
	verdict = policy_addr_verdict(p, &name, (const struct sockaddr *)&ss,
	    why, whylen);
	return verdict == POLICY_ALLOW;
}

/* The shipped defaults: everything but internal addresses. */
START_TEST(test_guard_by_default)
{
	static const char *const internal[] = {
		"127.0.0.1", "127.255.0.9", "::1", "0.0.0.0", "::",
		"169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254"
	};
	static const char *const outside[] = {
		"10.0.0.1", "172.16.5.4", "192.168.1.1", "fd00::1",
		"93.184.216.34", "2001:db8::1"
	};
	struct policy_spec s = spec_empty();
	struct policy p;
	char why[256];
	size_t i;

	load_ok(&p, &s);
	ck_assert(!p.auth);
	ck_assert_str_eq(warned, "");
	for (i = 0; i < nitems(internal); i++) {
		ck_assert_msg(!allowed(&p, "h.test", internal[i], 80, why,
		    sizeof(why)), "%s allowed", internal[i]);
		ck_assert_msg(strstr(why, "internal") != NULL, "%s", why);
		ck_assert_int_eq(verdict, POLICY_DENY_INTERNAL);
	}
	for (i = 0; i < nitems(outside); i++)
		ck_assert_msg(allowed(&p, "h.test", outside[i], 80, why,
		    sizeof(why)), "%s refused: %s", outside[i], why);
	policy_free(&p);

	s.internal_allowed = true;
	load_ok(&p, &s);
	ck_assert(allowed(&p, "localhost", "127.0.0.1", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "169.254.169.254", 80, why, sizeof(why)));
	policy_free(&p);
}
END_TEST

/* Only an allow CIDR rule naming the address opens the guard. */
START_TEST(test_guard_opened_by_cidr_only)
{
	struct policy_spec s = spec_empty();
	struct policy p;
	char why[256];

	s.allow = "127.0.0.1 ::1/128 localhost *";
	load_ok(&p, &s);
	ck_assert(allowed(&p, "localhost", "127.0.0.1", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "localhost", "::1", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "::ffff:127.0.0.1", 80, why, sizeof(why)));
	/* The name rule "localhost" and "*" do not open 127.0.0.2. */
	ck_assert(!allowed(&p, "localhost", "127.0.0.2", 80, why,
	    sizeof(why)));
	ck_assert(strstr(why, "127.0.0.2:80 refused as internal") != NULL);
	ck_assert(!allowed(&p, "x", "169.254.169.254", 80, why, sizeof(why)));
	policy_free(&p);

	/* A rule wider than the internal block only covers it: no lift. */
	s.allow = "0.0.0.0/0 ::/0 160.0.0.0/4 fe80::/9";
	load_ok(&p, &s);
	ck_assert(!allowed(&p, "x", "127.0.0.1", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "0.0.0.0", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "::1", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "169.254.169.254", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "fe80::1", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "192.0.2.1", 80, why, sizeof(why)));
	policy_free(&p);

	/* The whole block, or a part of it, is explicit enough. */
	s.allow = "127.0.0.0/8 169.254.169.0/24 fe80::/10";
	load_ok(&p, &s);
	ck_assert(allowed(&p, "x", "127.9.9.9", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "::ffff:127.0.0.2", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "169.254.169.254", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "169.254.1.1", 80, why, sizeof(why)));
	ck_assert(allowed(&p, "x", "fe80::1", 80, why, sizeof(why)));
	ck_assert(!allowed(&p, "x", "::1", 80, why, sizeof(why)));
	policy_free(&p);
}
END_TEST

/* A deny in either family refuses; default decides only alone. */
START_TEST(test_families)
{
	struct policy_spec s = spec_empty();
	struct policy p;
	char why[256];

	s.allow = ".corp.test";
	s.deny = "10.9.0.0/16 *:25";
	load_ok(&p, &s);
	ck_assert(allowed(&p, "a.corp.test", "10.1.2.3", 80, why,
	    sizeof(why)));
	ck_assert(!allowed(&p, "a.corp.test", "10.9.2.3", 80, why,
	    sizeof(why)));
	ck_assert_str_eq(why, "10.9.2.3:80 refused by deny rule "
	    "\"10.9.0.0/16\"");
	/* "*:25" is less specific than ".corp.test": it loses there. */
	ck_assert(allowed(&p, "a.corp.test", "10.1.2.3", 25, why,
	    sizeof(why)));
	ck_assert(!allowed(&p, "mail.test", "10.1.2.3", 25, why,
	    sizeof(why)));
	ck_assert_str_eq(why, "10.1.2.3:25 refused by deny rule \"*:25\"");
	ck_assert_int_eq(verdict, POLICY_DENY_RULE);
	policy_free(&p);

	s = spec_empty();
	s.dflt = DEST_DENY;
	s.allow = ".corp.test 192.0.2.0/24";
	load_ok(&p, &s);
	ck_assert(allowed(&p, "a.corp.test", "198.51.100.1", 80, why,
	    sizeof(why)));
	/* No name rule, but the address is allowed by CIDR. */
	ck_assert(allowed(&p, "other.test", "192.0.2.7", 80, why,
	    sizeof(why)));
	ck_assert(!allowed(&p, "other.test", "198.51.100.1", 80, why,
	    sizeof(why)));
	ck_assert_str_eq(why, "198.51.100.1:80 refused: no rule matched, "
	    "default = deny");
	policy_free(&p);
}
END_TEST

START_TEST(test_name_refused)
{
	struct policy_spec s = spec_empty();
	struct dest_match m;
	struct policy p;
	char why[128];

	s.deny = ".ads.test";
	s.allow = "good.test";
	s.dflt = DEST_DENY;
	load_ok(&p, &s);
	dest_match_name(p.dest, "x.ads.test", 10, 80, &m);
	ck_assert(policy_name_refused(&p, &m, why, sizeof(why)));
	ck_assert_str_eq(why, "by deny rule \".ads.test\"");
	dest_match_name(p.dest, "good.test", 9, 80, &m);
	ck_assert(!policy_name_refused(&p, &m, why, sizeof(why)));
	/* No rule and default = deny: only names can allow, so refused. */
	dest_match_name(p.dest, "ok.test", 7, 80, &m);
	ck_assert(policy_name_refused(&p, &m, why, sizeof(why)));
	ck_assert_str_eq(why, ": no rule matched, default = deny");
	policy_free(&p);

	/* A deny address rule cannot allow it: still refused before DNS. */
	s.deny = ".ads.test 10.0.0.0/8";
	load_ok(&p, &s);
	dest_match_name(p.dest, "ok.test", 7, 80, &m);
	ck_assert(policy_name_refused(&p, &m, why, sizeof(why)));
	policy_free(&p);

	/* An allow address rule might: DNS must tell. */
	s.allow = "good.test 192.0.2.0/24";
	load_ok(&p, &s);
	dest_match_name(p.dest, "ok.test", 7, 80, &m);
	ck_assert(!policy_name_refused(&p, &m, why, sizeof(why)));
	/* With default = allow a name no rule matched goes on. */
	policy_free(&p);
	s.dflt = DEST_ALLOW;
	load_ok(&p, &s);
	ck_assert(!policy_name_refused(&p, &m, why, sizeof(why)));
	policy_free(&p);
}
END_TEST

/* Write text to a new file of mode; path receives its name. */
static void
write_tmp(char *path, const char *text, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/ferry-policy-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(test_auth)
{
	struct policy_spec s = spec_empty();
	struct crypt_data cd;
	char path[64], line[256], err[512];
	const char *h;
	struct policy p;

	memset(&cd, 0, sizeof(cd));
	h = crypt_rn("secret", "$5$rounds=1000$abcdefgh$", &cd,
	    (int)sizeof(cd));
	ck_assert_ptr_nonnull(h);
	snprintf(line, sizeof(line), "alice:%s\n", h);
	write_tmp(path, line, 0640);
	s.users = path;
	s.realm = "Office proxy";
	load_ok(&p, &s);
	ck_assert(p.auth);
	ck_assert_ptr_nonnull(p.cache);
	ck_assert_str_eq(p.realm, "Office proxy");
	ck_assert_msg(strstr(warned, path) != NULL, "no warning: %s", warned);
	ck_assert(users_verify(&p.users, "alice", 5, "secret", 6));
	policy_free(&p);
	ck_assert(!p.auth);

	/* A bad users file names itself and the line. */
	write_tmp(path, "# users\nbob:plaintext\n", 0600);
	ck_assert_int_eq(policy_load(&p, &s, note_warning, NULL, err,
	    sizeof(err)), -1);
	snprintf(line, sizeof(line), "[auth] users: %s:2: ", path);
	ck_assert_msg(strncmp(err, line, strlen(line)) == 0, "%s", err);
	unlink(path);
}
END_TEST

START_TEST(test_bad_values)
{
	char long_realm[POLICY_REALM_MAX + 2];
	const char *const realms[] = {
		"", "a\"b", "a\\b", "tab\there", long_realm
	};
	struct policy_spec s = spec_empty();
	struct policy p;
	char err[512];
	size_t i;

	memset(long_realm, 'r', sizeof(long_realm) - 1);
	long_realm[sizeof(long_realm) - 1] = '\0';

	for (i = 0; i < nitems(realms); i++) {
		s.realm = realms[i];
		ck_assert_int_eq(policy_load(&p, &s, note_warning, NULL, err,
		    sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "[auth] realm: ", 14) == 0, "%s",
		    err);
	}
	s = spec_empty();
	s.deny = "good.test *.bad.test";
	ck_assert_int_eq(policy_load(&p, &s, note_warning, NULL, err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "[destinations] deny: ", 21) == 0, "%s",
	    err);
	s = spec_empty();
	s.allow_file = "/nonexistent/ferry-allow";
	ck_assert_int_eq(policy_load(&p, &s, note_warning, NULL, err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "[destinations] allow_file: ", 27) == 0,
	    "%s", err);
}
END_TEST

/* Rules that never apply are warned about, not refused. */
START_TEST(test_warnings)
{
	struct policy_spec s = spec_empty();
	struct policy p;
	char path[64];

	write_tmp(path, "# blocked\n\nads.test\n.track.test\n", 0644);
	s.deny_file = path;
	s.allow = "ads.test";
	load_ok(&p, &s);
	ck_assert_msg(strstr(warned, "ads.test") != NULL, "%s", warned);
	ck_assert_uint_eq(dest_count(p.dest), 3);
	policy_free(&p);
	unlink(path);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_guard_by_default);
	tcase_add_test(tc, test_guard_opened_by_cidr_only);
	tcase_add_test(tc, test_families);
	tcase_add_test(tc, test_name_refused);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_warnings);
	suite_add_tcase(s, tc);
	return s;
}
