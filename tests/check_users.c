/*
 * check_users.c: the users file (users.c). Files are written to mkstemp()
 * names with hashes made here by crypt_rn() from crypt_gensalt_rn() salts
 * (bcrypt at cost 4 and sha-crypt at 1000 rounds, to keep the suite
 * fast; one bcrypt at cost 10 for the timing test), and, when
 * apache2-utils is installed, by htpasswd -B itself.
 * Every refusal must name its file and line.
 */
#include <sys/stat.h>

#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "users.h"
#include "suites.h"

/* crypt(3) of pw with a fresh salt of kind prefix at cost count. */
static void
make_hash(const char *prefix, unsigned long count, const char *pw,
    char *out, size_t cap)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;

	ck_assert_ptr_nonnull(cd);
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, count, NULL, 0, salt,
	    (int)sizeof(salt)));
	h = crypt_rn(pw, salt, cd, (int)sizeof(*cd));
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_lt(strlen(h), cap);
	memcpy(out, h, strlen(h) + 1);
	free(cd);
}

/* Write text[0..len) to a new temporary file of the given mode. */
static void
write_file(char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/ferry-users-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Load text as a file; returns users_load()'s result. */
static int
load_text(const char *text, size_t len, struct users *u, char *err,
    size_t errlen, char *path)
{
	char warn[256];
	int rc;

	write_file(path, text, len, 0600);
	rc = users_load(u, path, warn, sizeof(warn), err, errlen);
	ck_assert_str_eq(warn, "");
	unlink(path);
	return rc;
}

static bool
verify(const struct users *u, const char *name, const char *pw)
{
	return users_verify(u, name, strlen(name), pw, strlen(pw));
}

/* Each accepted kind, comments, blank lines, CRLF, ':' in a password. */
START_TEST(test_kinds)
{
	static const struct {
		const char	*prefix;
		unsigned long	 count;
	} kinds[] = {
		{ "$2b$", 4 }, { "$2y$", 4 }, { "$2a$", 4 },
		{ "$5$", 1000 }, { "$6$", 1000 }, { "$y$", 0 },
	};
	char text[4096], hash[CRYPT_OUTPUT_SIZE], path[64], err[256];
	char name[16], pw[32];
	struct users u;
	size_t i, n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "# ferry users\n\n   \n");
	for (i = 0; i < NELEM(kinds); i++) {
		snprintf(pw, sizeof(pw), "pw:%zu:x", i);
		make_hash(kinds[i].prefix, kinds[i].count, pw, hash,
		    sizeof(hash));
		/* Every other line ends in CRLF, as written on Windows. */
		n += (size_t)snprintf(text + n, sizeof(text) - n, "user%zu:%s%s",
		    i, hash, i % 2 ? "\r\n" : "\n");
	}
	ck_assert_uint_lt(n, sizeof(text));
	ck_assert_msg(load_text(text, n, &u, err, sizeof(err), path) == -1,
	    "a line of spaces is not blank");
	ck_assert_msg(strstr(err, ":3: ") != NULL, "%s", err);
	memmove(text + 15, text + 18, n - 18);
	n -= 3;
	ck_assert_msg(load_text(text, n, &u, err, sizeof(err), path) == 0,
	    "%s", err);
	ck_assert_uint_eq(u.count, NELEM(kinds));
	for (i = 0; i < NELEM(kinds); i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		snprintf(pw, sizeof(pw), "pw:%zu:x", i);
		ck_assert_msg(verify(&u, name, pw), "%s", kinds[i].prefix);
		/* Wrong, cut short, empty, or another user's password. */
		ck_assert(!verify(&u, name, "wrong"));
		ck_assert(!users_verify(&u, name, strlen(name), pw,
		    strlen(pw) - 1));
		ck_assert(!verify(&u, name, ""));
		ck_assert(!verify(&u, i == 0 ? "user1" : "user0", pw));
	}
	users_free(&u);
	ck_assert_uint_eq(u.count, 0);
}
END_TEST

/* Unknown names, names that are prefixes, NUL and over-long passwords. */
START_TEST(test_verify_edges)
{
	char text[512], hash[CRYPT_OUTPUT_SIZE], path[64], err[256];
	static char big[USERS_PASSWORD_MAX + 2];
	struct users u;
	int n;

	make_hash("$2b$", 4, "secret", hash, sizeof(hash));
	n = snprintf(text, sizeof(text), "alice:%s\nbob:%s\n", hash, hash);
	ck_assert_int_eq(load_text(text, (size_t)n, &u, err, sizeof(err),
	    path), 0);
	ck_assert(verify(&u, "alice", "secret"));
	ck_assert(verify(&u, "bob", "secret"));
	/* Unknown: checked against the dummy, a hash of the same setting. */
	ck_assert(!verify(&u, "carol", "secret"));
	ck_assert(!verify(&u, "alic", "secret"));
	ck_assert(!verify(&u, "alicex", "secret"));
	ck_assert(!verify(&u, "", "secret"));
	ck_assert(!users_verify(&u, "alice", 5, "secret\0x", 8));
	ck_assert(!users_verify(&u, "alice\0", 6, "secret", 6));
	memset(big, 'a', sizeof(big));
	ck_assert(!users_verify(&u, "alice", 5, big, sizeof(big)));
	users_free(&u);
	ck_assert(!verify(&u, "alice", "secret"));
	users_free(NULL);
}
END_TEST

/* Nanoseconds one users_verify() of name and pw takes; *ok its answer. */
static uint64_t
timed_verify(const struct users *u, const char *name, const char *pw,
    bool *ok)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*ok = verify(u, name, pw);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
}

/*
 * Mixed costs: cheap (bcrypt 4, first in the file, so it would have been
 * the old dummy) and dear (bcrypt 10). The dummy is the dear setting and
 * a failure for the cheap user or an unknown name lasts at least as long
 * as the dear hash did at load; lower bounds only, which the padding
 * guarantees however slow the machine (ASan, TSan).
 */
START_TEST(test_mixed_costs)
{
	static const char *misses[][2] = {
		{ "cheap", "wrong" }, { "nobody", "wrong" },
		{ "nobody", "cheap-pw" }, { "dear", "wrong" },
	};
	char text[512], h4[CRYPT_OUTPUT_SIZE], h10[CRYPT_OUTPUT_SIZE];
	char path[64], err[256];
	struct users u;
	uint64_t ns;
	size_t i;
	bool ok;
	int n;

	make_hash("$2b$", 4, "cheap-pw", h4, sizeof(h4));
	make_hash("$2b$", 10, "dear-pw", h10, sizeof(h10));
	n = snprintf(text, sizeof(text), "cheap:%s\ndear:%s\n", h4, h10);
	ck_assert_int_eq(load_text(text, (size_t)n, &u, err, sizeof(err),
	    path), 0);
	ck_assert_msg(strncmp(u.dummy, "$2b$10$", 7) == 0, "%s", u.dummy);
	ck_assert_uint_gt(u.slowest_ns, 0);
	for (i = 0; i < NELEM(misses); i++) {
		ns = timed_verify(&u, misses[i][0], misses[i][1], &ok);
		ck_assert(!ok);
		ck_assert_msg(ns >= u.slowest_ns / 10 * 9,
		    "%s/%s: %llu ns, slowest hash %llu ns", misses[i][0],
		    misses[i][1], (unsigned long long)ns,
		    (unsigned long long)u.slowest_ns);
	}
	ck_assert(verify(&u, "cheap", "cheap-pw"));
	ck_assert(verify(&u, "dear", "dear-pw"));
	/* Refused by the cheap checks: at once, whatever the file. */
	ck_assert(!users_verify(&u, "cheap", 5, "a\0b", 3));
	users_free(&u);
	ck_assert_ptr_null(u.dummy);
	ck_assert_uint_eq(u.slowest_ns, 0);
}
END_TEST

/* Files that must be refused, and the line and words of the refusal. */
static const struct {
	const char	*text;		/* "%s": a valid bcrypt hash */
	size_t		 len;		/* 0: strlen after formatting */
	const char	*where;		/* ":N: " or ": " */
	const char	*why;
} bad[] = {
	{ "", 0, ": ", "no users" },
	{ "# only a comment\n\n", 0, ": ", "no users" },
	{ "alice\n", 0, ":1: ", "no ':'" },
	{ "a:%s\n:%s\n", 0, ":2: ", "empty user name" },
	{ "alice:\n", 0, ":1: ", "empty hash" },
	{ "alice:secret\n", 0, ":1: ", "clear text or DES" },
	{ "alice:abDEF12345678\n", 0, ":1: ", "clear text or DES" },
	{ "alice:$1$abcdefgh$0123456789012345678901\n", 0, ":1: ", "$1$" },
	{ "alice:$apr1$abcdefgh$012345678901234567890\n", 0, ":1: ",
	    "$apr1$" },
	{ "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", 0, ":1: ", "{SHA}" },
	{ "alice:$7$abc$def\n", 0, ":1: ", "unknown hash kind" },
	{ "alice:$2x$04$abcdefghijklmnopqrstuu\n", 0, ":1: ",
	    "unknown hash kind" },
	/* A bare setting, a cut hash, a hash with a stray character. */
	{ "alice:$6$saltsalt$\n", 0, ":1: ", "malformed hash" },
	{ "alice:$2b$04$mVYtNAXSQdM/8SMcvx1EGOgT97aiC46cBOW9PUvOnu0Jn\n", 0,
	    ":1: ", "malformed hash" },
	{ "alice:$2b$04$mVYtNAXSQdM/8SMcvx1EGOgT97aiC46cBOW9PUvOnu0JnLH71KI!"
	    "\n", 0, ":1: ", "malformed hash" },
	{ "alice:$2b$99$mVYtNAXSQdM/8SMcvx1EGOgT97aiC46cBOW9PUvOnu0JnLH71KIkS"
	    "\n", 0, ":1: ", "malformed hash" },
	{ "alice:%s:extra\n", 0, ":1: ", "':'" },
	{ "alice :%s\n", 0, ":1: ", "space" },
	{ "al\tice:%s\n", 0, ":1: ", "control" },
	{ "alice:%s \n", 0, ":1: ", "space" },
	{ "a:%s\nb:%s\na:%s\n", 0, ":3: ", "user a also on line 1" },
	{ "# x\nb:%s\nc:%s\n\nb:%s\n", 0, ":5: ", "user b also on line 2" },
	{ "a:%s\nb:%s\rc:%s\n", 0, ":2: ", "CR inside a line" },
	{ "a:%s\nb\0:%s\n", 0, ":2: ", "NUL" },
	{ "a:%s\n\r\r\n", 0, ":2: ", "CR inside" },
};

START_TEST(test_refused)
{
	char hash[CRYPT_OUTPUT_SIZE], text[1024], path[64], err[512];
	char want[256];
	struct users u;
	size_t n;

	make_hash("$2b$", 4, "pw", hash, sizeof(hash));
	/* The NUL case: format up to the NUL, then splice the rest. */
	n = (size_t)snprintf(text, sizeof(text), bad[_i].text, hash, hash,
	    hash);
	if (strstr(bad[_i].why, "NUL") != NULL) {
		n = (size_t)snprintf(text, sizeof(text), "a:%s\nb", hash);
		text[n++] = '\0';
		n += (size_t)snprintf(text + n, sizeof(text) - n, ":%s\n",
		    hash);
	}
	ck_assert_int_eq(load_text(text, n, &u, err, sizeof(err), path), -1);
	snprintf(want, sizeof(want), "%s%s", path, bad[_i].where);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "\"%s\": got \"%s\", want \"%s...\"", bad[_i].text, err, want);
	ck_assert_msg(strstr(err, bad[_i].why) != NULL,
	    "\"%s\": got \"%s\", want \"%s\"", bad[_i].text, err, bad[_i].why);
	ck_assert_ptr_null(u.entries);
	ck_assert_uint_eq(u.count, 0);
}
END_TEST

/*
 * Lines of USERS_LINE_MAX bytes load, with LF or CRLF; one byte more is
 * refused on its line, however long. Names likewise at USERS_NAME_MAX.
 */
START_TEST(test_caps)
{
	static char text[4 * USERS_LINE_MAX];
	static const size_t extra[] = { 0, 1, 2 * USERS_LINE_MAX };
	char hash[CRYPT_OUTPUT_SIZE], path[64], err[256];
	struct users u;
	size_t i, n, crlf;

	make_hash("$2b$", 4, "pw", hash, sizeof(hash));
	for (i = 0; i < NELEM(extra); i++) {
		for (crlf = 0; crlf <= 1; crlf++) {
			n = (size_t)snprintf(text, sizeof(text), "a:%s\n",
			    hash);
			memset(text + n, '#', USERS_LINE_MAX + extra[i]);
			n += USERS_LINE_MAX + extra[i];
			memcpy(text + n, crlf ? "\r\n" : "\n", 1 + crlf);
			n += 1 + crlf;
			ck_assert_int_eq(load_text(text, n, &u, err,
			    sizeof(err), path), extra[i] == 0 ? 0 : -1);
			if (extra[i] != 0)
				ck_assert_msg(strstr(err, ":2: line too long")
				    != NULL, "%s", err);
			users_free(&u);
		}
	}
	for (i = USERS_NAME_MAX; i <= USERS_NAME_MAX + 1; i++) {
		memset(text, 'n', i);
		n = i + (size_t)snprintf(text + i, sizeof(text) - i, ":%s\n",
		    hash);
		ck_assert_int_eq(load_text(text, n, &u, err, sizeof(err),
		    path), i == USERS_NAME_MAX ? 0 : -1);
		if (i == USERS_NAME_MAX)
			ck_assert(users_verify(&u, text, i, "pw", 2));
		else
			ck_assert_msg(strstr(err, ":1: user name too long") !=
			    NULL, "%s", err);
		users_free(&u);
	}
}
END_TEST

/* A file others can read loads, with a warning; a missing one fails. */
START_TEST(test_mode_and_missing)
{
	char hash[CRYPT_OUTPUT_SIZE], text[256], path[64], err[256];
	char warn[256];
	struct users u;
	int n;

	make_hash("$5$", 1000, "pw", hash, sizeof(hash));
	n = snprintf(text, sizeof(text), "a:%s\n", hash);
	write_file(path, text, (size_t)n, 0644);
	ck_assert_int_eq(users_load(&u, path, warn, sizeof(warn), err,
	    sizeof(err)), 0);
	ck_assert_msg(strstr(warn, "group or others") != NULL, "%s", warn);
	users_free(&u);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(users_load(&u, path, warn, sizeof(warn), err,
	    sizeof(err)), 0);
	ck_assert_msg(warn[0] != '\0', "0640 is readable by the group");
	users_free(&u);
	unlink(path);
	ck_assert_int_eq(users_load(&u, path, warn, sizeof(warn), err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
	    strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

/* A file made by htpasswd -B (apache2-utils), as the docs will say. */
START_TEST(test_htpasswd)
{
	char path[64], cmd[256], err[256], warn[256];
	struct users u;

	if (access("/usr/bin/htpasswd", X_OK) != 0)
		return;
	write_file(path, "", 0, 0600);
	snprintf(cmd, sizeof(cmd), "htpasswd -bB -C 4 %s alice 'p:w d' "
	    ">/dev/null 2>&1 && htpasswd -bB -C 4 %s bob x >/dev/null 2>&1",
	    path, path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(users_load(&u, path, warn, sizeof(warn), err,
	    sizeof(err)), 0);
	ck_assert(verify(&u, "alice", "p:w d"));
	ck_assert(!verify(&u, "alice", "p:w"));
	ck_assert(verify(&u, "bob", "x"));
	users_free(&u);
	/* Its default, MD5 ($apr1$), is refused. */
	snprintf(cmd, sizeof(cmd), "htpasswd -bm %s carol y >/dev/null 2>&1",
	    path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(users_load(&u, path, warn, sizeof(warn), err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":3: Apache MD5") != NULL, "%s", err);
	unlink(path);
}
END_TEST

Suite *
users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("load");

	/* yescrypt and the htpasswd runs take a moment under ASan. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_verify_edges);
	tcase_add_test(tc, test_mixed_costs);
	tcase_add_loop_test(tc, test_refused, 0, NELEM(bad));
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_mode_and_missing);
	tcase_add_test(tc, test_htpasswd);
	suite_add_tcase(s, tc);
	return s;
}
