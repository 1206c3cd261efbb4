/*
 * check_authcache.c: the verified-credentials cache (authcache.c): hits
 * only for the very pair stored, misses after the ttl, remembers nothing
 * at ttl 0, and holds under many threads at once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "authcache.h"
#include "suites.h"

static bool
hit(struct authcache *c, const char *user, const char *pw, uint64_t now)
{
	return authcache_hit(c, user, strlen(user), pw, strlen(pw), now);
}

static void
store(struct authcache *c, const char *user, const char *pw, uint64_t now)
{
	authcache_store(c, user, strlen(user), pw, strlen(pw), now);
}

START_TEST(test_pair_only)
{
	struct authcache *c = authcache_new(300);

	ck_assert_ptr_nonnull(c);
	ck_assert(!hit(c, "alice", "secret", 1000));
	store(c, "alice", "secret", 1000);
	ck_assert(hit(c, "alice", "secret", 1000));
	ck_assert(hit(c, "alice", "secret", 1000 + 299999));
	/* Anything else misses: another password, user, or a prefix. */
	ck_assert(!hit(c, "alice", "secreT", 1000));
	ck_assert(!hit(c, "alice", "secre", 1000));
	ck_assert(!hit(c, "alice", "secret ", 1000));
	ck_assert(!hit(c, "alic", "esecret", 1000));
	ck_assert(!hit(c, "bob", "secret", 1000));
	ck_assert(!hit(c, "alice", "", 1000));
	/* Lengths count, not NULs: an empty password is its own pair. */
	store(c, "carol", "", 1000);
	ck_assert(hit(c, "carol", "", 1000));
	ck_assert(!hit(c, "carol", "x", 1000));
	authcache_free(c);
}
END_TEST

START_TEST(test_ttl)
{
	struct authcache *c = authcache_new(2);

	store(c, "alice", "secret", 5000);
	ck_assert(hit(c, "alice", "secret", 6999));
	ck_assert(!hit(c, "alice", "secret", 7000));
	/* Storing again starts a new ttl. */
	store(c, "alice", "secret", 7000);
	ck_assert(hit(c, "alice", "secret", 8500));
	authcache_free(c);

	c = authcache_new(0);
	ck_assert_ptr_nonnull(c);
	store(c, "alice", "secret", 5000);
	ck_assert(!hit(c, "alice", "secret", 5000));
	authcache_free(c);
	authcache_free(NULL);
}
END_TEST

/* Two caches share the process key but nothing else. */
START_TEST(test_caches_apart)
{
	struct authcache *a = authcache_new(60), *b = authcache_new(60);

	store(a, "alice", "secret", 1);
	ck_assert(hit(a, "alice", "secret", 2));
	ck_assert(!hit(b, "alice", "secret", 2));
	authcache_free(a);
	authcache_free(b);
}
END_TEST

/* More users than slots: clashes evict, but never give a false hit. */
START_TEST(test_many_users)
{
	struct authcache *c = authcache_new(60);
	char user[32];
	unsigned i, hits = 0;

	for (i = 0; i < 3 * AUTHCACHE_SLOTS; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		store(c, user, "pw", 1);
	}
	for (i = 0; i < 3 * AUTHCACHE_SLOTS; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		hits += hit(c, user, "pw", 2);
		ck_assert(!hit(c, user, "pX", 2));
	}
	/* The last ones stored mostly survive; far from all fit. */
	ck_assert_uint_gt(hits, AUTHCACHE_SLOTS / 2);
	ck_assert_uint_le(hits, AUTHCACHE_SLOTS);
	authcache_free(c);
}
END_TEST

static void *
hammer(void *arg)
{
	struct authcache *c = arg;
	char user[32];
	unsigned i;

	for (i = 0; i < 20000; i++) {
		snprintf(user, sizeof(user), "u%u", i % 64);
		store(c, user, "pw", 10);
		ck_assert(!hit(c, user, "wrong", 10));
		(void)hit(c, user, "pw", 10);
	}
	return NULL;
}

/* Threads storing and looking up at once (TSan watches the lock). */
START_TEST(test_threads)
{
	struct authcache *c = authcache_new(60);
	pthread_t t[4];
	size_t i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, c), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert(hit(c, "u1", "pw", 11));
	authcache_free(c);
}
END_TEST

Suite *
authcache_suite(void)
{
	Suite *s = suite_create("authcache");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pair_only);
	tcase_add_test(tc, test_ttl);
	tcase_add_test(tc, test_caches_apart);
	tcase_add_test(tc, test_many_users);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}
