/* Basic plug-in: a cache of successful password checks, so that a client
 * sending the same credentials on every request costs one PAM conversation
 * or one yescrypt per TTL instead of one per request.
 *
 * No password is stored: an entry is keyed by HMAC-SHA256, under a random
 * key drawn when the cache is made, of user NUL password. Entries expire
 * after the TTL; when the cache is full the oldest entry goes. A failed
 * check of a user drops that user's entries (a changed password must not
 * keep working from the cache). Thread-safe.
 */
#ifndef GUISE_BASIC_CACHE_H
#define GUISE_BASIC_CACHE_H

#include <nettle/sha2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BASIC_CACHE_KEY_SIZE SHA256_DIGEST_SIZE

struct basic_cache;

/* NULL when out of memory or when no random key could be drawn. */
struct basic_cache *basic_cache_new(size_t size, uint64_t ttl_ms);
void basic_cache_free(struct basic_cache *c); /* NULL-safe */
/* The key of user + password. */
void basic_cache_key(const struct basic_cache *c, const char *user, const char *password,
                     size_t password_len, uint8_t key[BASIC_CACHE_KEY_SIZE]);
/* True on a live entry; *name then gets a malloc'd copy of the name the
 * check authenticated (PAM may map the user to another name). False on a
 * miss or out of memory. */
bool basic_cache_lookup(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_SIZE],
                        uint64_t now_ms, char **name);
/* Records a successful check of user, which authenticated as name. */
void basic_cache_insert(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_SIZE],
                        const char *user, const char *name, uint64_t now_ms);
/* Drops every entry of user. */
void basic_cache_forget_user(struct basic_cache *c, const char *user);
/* Drops every entry (the user file changed). */
void basic_cache_clear(struct basic_cache *c);
/* Live and expired entries held (for tests). */
size_t basic_cache_count(struct basic_cache *c);

#endif
