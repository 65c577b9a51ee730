/* The fan-out ring (see ring.h). One mutex guards everything: readers copy
 * out under it, which keeps the writer from overwriting what they copy. */
#include "live/ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define UNITS 1024 /* start offsets of the last writes, for new readers */

struct live_ring {
    _Atomic long refs;
    pthread_mutex_t mu;
    unsigned char *buf;
    size_t cap;
    uint64_t written;
    unsigned char *header;
    size_t header_len;
    uint64_t units[UNITS];    /* offsets of key units */
    size_t nunits, unit_next; /* circular */
    bool ended;
    size_t wake_bytes;
    uint64_t woken_at; /* written at the last wake-up */
    struct live_reader *waiting;
    struct live_reader *readers;
};

struct live_ring *live_ring_new(size_t capacity, size_t wake_bytes)
{
    struct live_ring *r = calloc(1, sizeof *r);
    if (!r || !(r->buf = malloc(capacity ? capacity : 1))) {
        free(r);
        return NULL;
    }
    r->cap = capacity;
    r->wake_bytes = wake_bytes ? wake_bytes : 1;
    r->refs = 1;
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

struct live_ring *live_ring_ref(struct live_ring *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

void live_ring_unref(struct live_ring *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->header);
    free(r->buf);
    free(r);
}

int live_ring_set_header(struct live_ring *r, const void *data, size_t len)
{
    unsigned char *h = len ? malloc(len) : NULL;
    if (len && !h)
        return -1;
    if (len)
        memcpy(h, data, len);
    pthread_mutex_lock(&r->mu);
    free(r->header);
    r->header = h;
    r->header_len = len;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* Called with the lock held. */
static void wake_all(struct live_ring *r)
{
    struct live_reader *rd = r->waiting;
    r->waiting = NULL;
    while (rd) {
        struct live_reader *next = rd->next;
        rd->waiting = false;
        rd->prev = rd->next = NULL;
        rd->wake(rd->arg);
        rd = next;
    }
}

void live_ring_write(struct live_ring *r, const void *data, size_t len, bool key)
{
    if (!len || !r->cap)
        return;
    pthread_mutex_lock(&r->mu);
    if (len > r->cap) { /* only the newest capacity bytes can be kept */
        data = (const unsigned char *)data + (len - r->cap);
        r->written += len - r->cap;
        len = r->cap;
    }
    if (key) {
        r->units[r->unit_next] = r->written;
        r->unit_next = (r->unit_next + 1) % UNITS;
        if (r->nunits < UNITS)
            r->nunits++;
    }
    size_t at = (size_t)(r->written % r->cap);
    size_t first = r->cap - at < len ? r->cap - at : len;
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, (const unsigned char *)data + first, len - first);
    r->written += len;
    /* Readers the ring no longer holds: dropped now, not when (if ever)
     * their connection asks for more. */
    if (r->written > r->cap)
        for (struct live_reader *rd = r->readers; rd; rd = rd->anext)
            if (!rd->overrun && rd->pos + r->cap < r->written) {
                rd->overrun = true;
                if (rd->drop)
                    rd->drop(rd->arg);
            }
    if (r->written - r->woken_at >= r->wake_bytes) {
        r->woken_at = r->written;
        wake_all(r);
    }
    pthread_mutex_unlock(&r->mu);
}

void live_ring_end(struct live_ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->ended = true;
    wake_all(r);
    pthread_mutex_unlock(&r->mu);
}

void live_ring_reader_start(struct live_ring *r, size_t burst_bytes, struct live_reader *rd,
                            void (*wake)(void *), void (*drop)(void *), void *arg)
{
    memset(rd, 0, sizeof *rd);
    rd->wake = wake;
    rd->drop = drop;
    rd->arg = arg;
    pthread_mutex_lock(&r->mu);
    rd->anext = r->readers;
    if (r->readers)
        r->readers->aprev = rd;
    r->readers = rd;
    uint64_t oldest = r->written > r->cap ? r->written - r->cap : 0;
    uint64_t want = r->written > burst_bytes ? r->written - burst_bytes : 0;
    if (want < oldest)
        want = oldest;
    /* The oldest key unit within the burst, else the newest one still in
     * the ring (a keyframe further back), else the next write. */
    rd->pos = r->written;
    uint64_t before = UINT64_MAX;
    for (size_t i = 0; i < r->nunits; i++) {
        uint64_t u = r->units[(r->unit_next + UNITS - r->nunits + i) % UNITS];
        if (u < oldest)
            continue;
        if (u >= want) {
            rd->pos = u;
            before = UINT64_MAX;
            break;
        }
        before = u;
    }
    if (before != UINT64_MAX)
        rd->pos = before;
    pthread_mutex_unlock(&r->mu);
}

void live_ring_reader_stop(struct live_ring *r, struct live_reader *rd)
{
    pthread_mutex_lock(&r->mu);
    if (rd->aprev)
        rd->aprev->anext = rd->anext;
    else if (r->readers == rd)
        r->readers = rd->anext;
    if (rd->anext)
        rd->anext->aprev = rd->aprev;
    rd->aprev = rd->anext = NULL;
    if (rd->waiting) {
        if (rd->prev)
            rd->prev->next = rd->next;
        else
            r->waiting = rd->next;
        if (rd->next)
            rd->next->prev = rd->prev;
        rd->waiting = false;
        rd->prev = rd->next = NULL;
    }
    pthread_mutex_unlock(&r->mu);
}

ssize_t live_ring_read(struct live_ring *r, struct live_reader *rd, void *dst, size_t max,
                       void (*park)(void *))
{
    pthread_mutex_lock(&r->mu);
    size_t n = 0;
    if (rd->header_sent < r->header_len) {
        n = r->header_len - rd->header_sent;
        if (n > max)
            n = max;
        memcpy(dst, r->header + rd->header_sent, n);
        rd->header_sent += n;
        pthread_mutex_unlock(&r->mu);
        return (ssize_t)n;
    }
    if (rd->overrun || (r->written > r->cap && rd->pos < r->written - r->cap)) {
        rd->overrun = true;
        pthread_mutex_unlock(&r->mu);
        return LIVE_RING_OVERRUN;
    }
    if (rd->pos == r->written) {
        if (r->ended) {
            pthread_mutex_unlock(&r->mu);
            return LIVE_RING_END;
        }
        if (!rd->waiting) {
            rd->waiting = true;
            rd->prev = NULL;
            rd->next = r->waiting;
            if (r->waiting)
                r->waiting->prev = rd;
            r->waiting = rd;
        }
        park(rd->arg);
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    n = (size_t)(r->written - rd->pos);
    if (n > max)
        n = max;
    size_t at = (size_t)(rd->pos % r->cap);
    size_t first = r->cap - at < n ? r->cap - at : n;
    memcpy(dst, r->buf + at, first);
    memcpy((unsigned char *)dst + first, r->buf, n - first);
    rd->pos += n;
    pthread_mutex_unlock(&r->mu);
    return (ssize_t)n;
}

uint64_t live_ring_written(struct live_ring *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t w = r->written;
    pthread_mutex_unlock(&r->mu);
    return w;
}

void live_ring_lock(struct live_ring *r)
{
    pthread_mutex_lock(&r->mu);
}

void live_ring_unlock(struct live_ring *r)
{
    pthread_mutex_unlock(&r->mu);
}
