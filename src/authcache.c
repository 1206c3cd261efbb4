/*
 * authcache.c: verified credentials as keyed tags (see authcache.h).
 *
 * The key is made once per process, on first use, under pthread_once():
 * sodium_init() seeds libsodium's generator, randombytes_buf() fills the
 * key. A process that restarts forgets every entry, which is the point.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authcache.h"

#define AUTHCACHE_TAG	crypto_generichash_BYTES	/* 32 */

struct authcache_slot {
	unsigned char	 tag[AUTHCACHE_TAG];
	uint64_t	 expires_ms;	/* 0: empty */
};

struct authcache {
	pthread_mutex_t		 lock;
	uint64_t		 ttl_ms;
	struct authcache_slot	 slots[AUTHCACHE_SLOTS];
};

static pthread_once_t authcache_once = PTHREAD_ONCE_INIT;
static unsigned char authcache_key[crypto_generichash_KEYBYTES];
static bool authcache_keyed;

static void
authcache_make_key(void)
{
	if (sodium_init() < 0)
		return;
	randombytes_buf(authcache_key, sizeof(authcache_key));
	authcache_keyed = true;
}

struct authcache *
authcache_new(unsigned ttl_s)
{
	struct authcache *c;

	(void)pthread_once(&authcache_once, authcache_make_key);
	if (!authcache_keyed || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->ttl_ms = (uint64_t)ttl_s * 1000;
	return c;
}

void
authcache_free(struct authcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* The tag of user:password, and the slot it goes in. */
static size_t
authcache_tag(const char *user, size_t user_len, const char *password,
    size_t pw_len, unsigned char tag[AUTHCACHE_TAG])
{
	crypto_generichash_state st;
	size_t slot;

	crypto_generichash_init(&st, authcache_key, sizeof(authcache_key),
	    AUTHCACHE_TAG);
	crypto_generichash_update(&st, (const unsigned char *)user, user_len);
	crypto_generichash_update(&st, (const unsigned char *)":", 1);
	crypto_generichash_update(&st, (const unsigned char *)password,
	    pw_len);
	crypto_generichash_final(&st, tag, AUTHCACHE_TAG);
	sodium_memzero(&st, sizeof(st));
	memcpy(&slot, tag, sizeof(slot));
	return slot % AUTHCACHE_SLOTS;
}

bool
authcache_hit(struct authcache *c, const char *user, size_t user_len,
    const char *password, size_t pw_len, uint64_t now_ms)
{
	unsigned char tag[AUTHCACHE_TAG];
	struct authcache_slot s;
	size_t i;

	if (c->ttl_ms == 0)
		return false;
	i = authcache_tag(user, user_len, password, pw_len, tag);
	pthread_mutex_lock(&c->lock);
	s = c->slots[i];
	pthread_mutex_unlock(&c->lock);
	/* Compare the whole tag in constant time, expired or not. */
	return (sodium_memcmp(s.tag, tag, AUTHCACHE_TAG) == 0) &
	    (s.expires_ms > now_ms);
}

void
authcache_store(struct authcache *c, const char *user, size_t user_len,
    const char *password, size_t pw_len, uint64_t now_ms)
{
	struct authcache_slot s;
	size_t i;

	if (c->ttl_ms == 0)
		return;
	i = authcache_tag(user, user_len, password, pw_len, s.tag);
	s.expires_ms = now_ms + c->ttl_ms;
	pthread_mutex_lock(&c->lock);
	c->slots[i] = s;
	pthread_mutex_unlock(&c->lock);
}
