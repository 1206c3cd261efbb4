/*
 * authcache.h: credentials that were verified lately, so that a logged-in
 * client pays the password hash once per cache_ttl, not once per request.
 *
 * Path: credentials, between parsing them (cred.c) and hashing them
 * (users.c): a hit skips the hash.
 *
 * The cache never holds a password, nor anything that would let one be
 * tested offline faster than the users file allows: each entry is a
 * keyed BLAKE2b tag (libsodium's crypto_generichash) of "user:password",
 * keyed with 32 random bytes drawn once per process. Tags are compared in
 * constant time. bcrypt at cost 10 takes about 50 ms a check; a tag takes
 * well under a microsecond.
 *
 * One cache belongs to one config snapshot (policy.c), so a reload that
 * changes a password starts with an empty cache. Slots are direct-mapped
 * by the tag: a clash evicts the older entry, which only costs a hash.
 * Any thread; one mutex guards the slots for the few nanoseconds of a
 * copy.
 */
#ifndef FERRY_AUTHCACHE_H
#define FERRY_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots in a cache: logged-in users the cache remembers at once. */
#define AUTHCACHE_SLOTS		4096

struct authcache;

/*
 * A new empty cache whose entries live ttl_s seconds (0: a cache that
 * remembers nothing). Returns NULL if memory or the random key could not
 * be had. Free it with authcache_free().
 */
struct authcache *authcache_new(unsigned ttl_s);

/* Free c (NULL is fine). No other thread may use it any more. */
void authcache_free(struct authcache *c);

/*
 * True if user:password was stored within the last ttl as of now_ms (a
 * monotonic clock in milliseconds). user holds no ':' (cred.c sees to
 * it), so "user:password" names one pair only. Both are borrowed.
 */
bool authcache_hit(struct authcache *c, const char *user, size_t user_len,
    const char *password, size_t pw_len, uint64_t now_ms);

/* Remember user:password as verified at now_ms. */
void authcache_store(struct authcache *c, const char *user,
    size_t user_len, const char *password, size_t pw_len, uint64_t now_ms);

#endif
