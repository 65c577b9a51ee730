/* Digest access authentication: the nonce-count replay cache. */
#include "plugins/digest/digest_replay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct entry {
    uint8_t id[DIGEST_NONCE_ID_SIZE];
    uint64_t stamp_us;
    uint64_t base;         /* lowest count the window can still accept */
    uint64_t bits;         /* bit i: count base + i was accepted */
    uint32_t hnext;        /* next in the bucket chain, or in the free list */
    uint32_t newer, older; /* LRU list */
};

struct digest_replay {
    pthread_mutex_t lock;
    struct entry *entries;
    uint32_t *buckets;
    size_t capacity, used;
    uint32_t nbuckets_mask;
    uint32_t free_head;
    uint32_t newest, oldest;
    uint64_t watermark; /* highest stamp of an evicted nonce */
};

struct digest_replay *digest_replay_new(size_t capacity)
{
    if (capacity == 0 || capacity >= NIL / 2)
        return NULL;
    struct digest_replay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t nb = 1;
    while (nb < capacity)
        nb <<= 1;
    r->entries = calloc(capacity, sizeof *r->entries);
    r->buckets = malloc(nb * sizeof *r->buckets);
    if (!r->entries || !r->buckets) {
        digest_replay_free(r);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++)
        r->buckets[i] = NIL;
    for (size_t i = 0; i < capacity; i++)
        r->entries[i].hnext = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
    r->capacity = capacity;
    r->nbuckets_mask = (uint32_t)(nb - 1);
    r->free_head = 0;
    r->newest = r->oldest = NIL;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void digest_replay_free(struct digest_replay *r)
{
    if (!r)
        return;
    if (r->entries && r->buckets)
        pthread_mutex_destroy(&r->lock);
    free(r->entries);
    free(r->buckets);
    free(r);
}

/* The random part of the id is uniform and chosen by the server (the nonce's
 * MAC was checked before), so it needs no keyed hash against flooding. */
static uint32_t bucket_of(const struct digest_replay *r, const uint8_t *id)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | id[8 + i];
    h ^= h >> 29;
    return (uint32_t)h & r->nbuckets_mask;
}

static void lru_unlink(struct digest_replay *r, uint32_t i)
{
    struct entry *e = &r->entries[i];
    if (e->newer != NIL)
        r->entries[e->newer].older = e->older;
    else
        r->newest = e->older;
    if (e->older != NIL)
        r->entries[e->older].newer = e->newer;
    else
        r->oldest = e->newer;
}

static void lru_push_newest(struct digest_replay *r, uint32_t i)
{
    struct entry *e = &r->entries[i];
    e->newer = NIL;
    e->older = r->newest;
    if (r->newest != NIL)
        r->entries[r->newest].newer = i;
    r->newest = i;
    if (r->oldest == NIL)
        r->oldest = i;
}

static void evict_oldest(struct digest_replay *r)
{
    uint32_t i = r->oldest;
    struct entry *e = &r->entries[i];
    uint32_t *link = &r->buckets[bucket_of(r, e->id)];
    while (*link != i)
        link = &r->entries[*link].hnext;
    *link = e->hnext;
    lru_unlink(r, i);
    if (e->stamp_us > r->watermark)
        r->watermark = e->stamp_us;
    e->hnext = r->free_head;
    r->free_head = i;
    r->used--;
}

static enum digest_replay_verdict window_accept(struct entry *e, uint64_t nc)
{
    if (nc < e->base)
        return DIGEST_REPLAY_TOO_OLD;
    if (nc >= e->base + DIGEST_REPLAY_WINDOW) {
        /* Slide so that nc is the highest count of the window. */
        uint64_t shift = nc - (e->base + DIGEST_REPLAY_WINDOW - 1);
        e->bits = shift >= DIGEST_REPLAY_WINDOW ? 0 : e->bits >> shift;
        e->base += shift;
    }
    uint64_t bit = UINT64_C(1) << (nc - e->base);
    if (e->bits & bit)
        return DIGEST_REPLAY_SEEN;
    e->bits |= bit;
    return DIGEST_REPLAY_FRESH;
}

enum digest_replay_verdict digest_replay_check(struct digest_replay *r,
                                               const uint8_t id[DIGEST_NONCE_ID_SIZE],
                                               uint64_t stamp_us, uint32_t nc)
{
    enum digest_replay_verdict v;
    pthread_mutex_lock(&r->lock);
    uint32_t b = bucket_of(r, id);
    uint32_t i = r->buckets[b];
    while (i != NIL && memcmp(r->entries[i].id, id, DIGEST_NONCE_ID_SIZE) != 0)
        i = r->entries[i].hnext;

    if (i != NIL) {
        v = window_accept(&r->entries[i], nc);
        lru_unlink(r, i);
        lru_push_newest(r, i);
    } else if (stamp_us <= r->watermark) {
        v = DIGEST_REPLAY_FORGOTTEN;
    } else {
        if (r->used == r->capacity)
            evict_oldest(r);
        /* The eviction may have raised the watermark above this nonce (when
         * it was issued before the evicted one): forgetting must stay safe. */
        if (stamp_us <= r->watermark) {
            v = DIGEST_REPLAY_FORGOTTEN;
        } else {
            i = r->free_head;
            struct entry *e = &r->entries[i];
            r->free_head = e->hnext;
            memcpy(e->id, id, DIGEST_NONCE_ID_SIZE);
            e->stamp_us = stamp_us;
            e->base = 1;
            e->bits = 0;
            e->hnext = r->buckets[b];
            r->buckets[b] = i;
            lru_push_newest(r, i);
            r->used++;
            v = window_accept(e, nc);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return v;
}

void digest_replay_forget_until(struct digest_replay *r, uint64_t stamp_us)
{
    pthread_mutex_lock(&r->lock);
    if (stamp_us > r->watermark)
        r->watermark = stamp_us;
    pthread_mutex_unlock(&r->lock);
}

size_t digest_replay_size(struct digest_replay *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->used;
    pthread_mutex_unlock(&r->lock);
    return n;
}
