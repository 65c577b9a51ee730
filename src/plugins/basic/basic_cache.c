/* Basic plug-in: the credentials cache. Slots form a ring in insertion
 * order (the next slot to fill is the oldest); a hash table of chains over
 * the slots finds a key without scanning. The keys are HMAC outputs, so the
 * chain a key falls in tells nothing about the password; the key itself is
 * still compared in constant time. */
#include "plugins/basic/basic_cache.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct slot {
    bool used;
    uint8_t key[BASIC_CACHE_KEY_SIZE];
    uint64_t expires_ms;
    uint32_t next; /* in its chain */
    char *user;
    char *name;
};

struct basic_cache {
    uint8_t hmac_key[32];
    uint64_t ttl_ms;
    pthread_mutex_t lock;
    size_t size;
    size_t oldest; /* the ring's next slot to fill */
    struct slot *slots;
    size_t nchains; /* a power of two */
    uint32_t *chains;
};

struct basic_cache *basic_cache_new(size_t size, uint64_t ttl_ms)
{
    if (size == 0 || size >= NONE)
        return NULL;
    struct basic_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nchains = 1;
    while (c->nchains < size)
        c->nchains <<= 1;
    c->slots = calloc(size, sizeof *c->slots);
    c->chains = malloc(c->nchains * sizeof *c->chains);
    if (!c->slots || !c->chains || gnutls_rnd(GNUTLS_RND_KEY, c->hmac_key, sizeof c->hmac_key)) {
        free(c->slots);
        free(c->chains);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nchains; i++)
        c->chains[i] = NONE;
    c->size = size;
    c->ttl_ms = ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void slot_clear(struct slot *s)
{
    free(s->user);
    free(s->name);
    explicit_bzero(s, sizeof *s);
}

void basic_cache_free(struct basic_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->size; i++)
        slot_clear(&c->slots[i]);
    free(c->slots);
    free(c->chains);
    pthread_mutex_destroy(&c->lock);
    explicit_bzero(c->hmac_key, sizeof c->hmac_key);
    free(c);
}

void basic_cache_key(const struct basic_cache *c, const char *user, const char *password,
                     size_t password_len, uint8_t key[BASIC_CACHE_KEY_SIZE])
{
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, sizeof c->hmac_key, c->hmac_key);
    /* The NUL keeps ("ab", "c") and ("a", "bc") apart. */
    hmac_sha256_update(&h, strlen(user) + 1, (const uint8_t *)user);
    hmac_sha256_update(&h, password_len, (const uint8_t *)password);
    hmac_sha256_digest(&h, BASIC_CACHE_KEY_SIZE, key);
    explicit_bzero(&h, sizeof h);
}

static uint32_t *chain_of(struct basic_cache *c, const uint8_t *key)
{
    uint32_t h;
    memcpy(&h, key, sizeof h);
    return &c->chains[h & (c->nchains - 1)];
}

static void unlink_slot(struct basic_cache *c, uint32_t i)
{
    for (uint32_t *p = chain_of(c, c->slots[i].key); *p != NONE; p = &c->slots[*p].next)
        if (*p == i) {
            *p = c->slots[i].next;
            break;
        }
    slot_clear(&c->slots[i]);
}

static uint32_t find(struct basic_cache *c, const uint8_t *key)
{
    for (uint32_t i = *chain_of(c, key); i != NONE; i = c->slots[i].next)
        if (memeql_sec(c->slots[i].key, key, BASIC_CACHE_KEY_SIZE))
            return i;
    return NONE;
}

bool basic_cache_lookup(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_SIZE],
                        uint64_t now_ms, char **name)
{
    bool hit = false;
    *name = NULL;
    pthread_mutex_lock(&c->lock);
    uint32_t i = find(c, key);
    if (i != NONE && now_ms < c->slots[i].expires_ms) {
        *name = strdup(c->slots[i].name);
        hit = *name != NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void basic_cache_insert(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_SIZE],
                        const char *user, const char *name, uint64_t now_ms)
{
    char *u = strdup(user), *n = strdup(name);
    if (!u || !n) {
        free(u);
        free(n);
        return;
    }
    pthread_mutex_lock(&c->lock);
    uint32_t i = find(c, key);
    if (i != NONE)
        unlink_slot(c, i);
    i = (uint32_t)c->oldest;
    c->oldest = (c->oldest + 1) % c->size;
    if (c->slots[i].used)
        unlink_slot(c, i);
    struct slot *s = &c->slots[i];
    s->used = true;
    memcpy(s->key, key, BASIC_CACHE_KEY_SIZE);
    s->expires_ms = now_ms + c->ttl_ms;
    s->user = u;
    s->name = n;
    uint32_t *chain = chain_of(c, key);
    s->next = *chain;
    *chain = i;
    pthread_mutex_unlock(&c->lock);
}

void basic_cache_forget_user(struct basic_cache *c, const char *user)
{
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < c->size; i++)
        if (c->slots[i].used && strcmp(c->slots[i].user, user) == 0)
            unlink_slot(c, i);
    pthread_mutex_unlock(&c->lock);
}

void basic_cache_clear(struct basic_cache *c)
{
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < c->size; i++)
        if (c->slots[i].used)
            unlink_slot(c, i);
    pthread_mutex_unlock(&c->lock);
}

size_t basic_cache_count(struct basic_cache *c)
{
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->size; i++)
        n += c->slots[i].used;
    pthread_mutex_unlock(&c->lock);
    return n;
}
