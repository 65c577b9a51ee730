/* Labelled counters. Label pairs are only ever added (at most STATS_MAX),
 * so an index, once found, stays valid: each thread remembers where its
 * recent label pairs live and adds with an atomic increment, without the
 * lock or a search. The mutex only orders the rare insertion of a new pair
 * and the snapshot. */
#include "server/stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_MAX  1024
#define MEMO_SLOTS 64

struct stats {
    pthread_mutex_t mu;
    struct stats_entry *v;    /* labels (value unused here) */
    _Atomic uint64_t *values; /* the counters */
    _Atomic size_t n;         /* published entries: v[0..n) are immutable */
    uint64_t id;              /* tells thread memos of different sets apart */
};

/* A thread's memo: the index of a label pair it added to recently. */
struct memo {
    uint64_t stats_id;
    uint32_t index;
};
static _Thread_local struct memo memo[MEMO_SLOTS];
static _Atomic uint64_t next_stats_id = 1;

struct stats *stats_new(void)
{
    struct stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->v = calloc(STATS_MAX, sizeof *s->v);
    s->values = calloc(STATS_MAX, sizeof *s->values);
    if (!s->v || !s->values) {
        free(s->v);
        free(s->values);
        free(s);
        return NULL;
    }
    s->id = atomic_fetch_add(&next_stats_id, 1);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->v);
    free(s->values);
    free(s);
}

static bool same(const struct stats_entry *e, enum stats_kind kind, const char *a, const char *b)
{
    return e->kind == kind && !strncmp(e->a, a, sizeof e->a - 1) &&
           !strncmp(e->b, b, sizeof e->b - 1);
}

static unsigned memo_slot(enum stats_kind kind, const char *a, const char *b)
{
    /* Not a security boundary: a collision only costs a locked search. */
    unsigned h = 2166136261u ^ (unsigned)kind;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % MEMO_SLOTS;
}

void stats_add(struct stats *s, enum stats_kind kind, const char *a, const char *b, uint64_t n)
{
    if (!s)
        return;
    a = a ? a : "";
    b = b ? b : "";
    struct memo *m = &memo[memo_slot(kind, a, b)];
    if (m->stats_id == s->id && same(&s->v[m->index], kind, a, b)) {
        atomic_fetch_add_explicit(&s->values[m->index], n, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&s->mu);
    size_t count = atomic_load_explicit(&s->n, memory_order_relaxed), i;
    for (i = 0; i < count; i++)
        if (same(&s->v[i], kind, a, b))
            break;
    if (i == count && count < STATS_MAX) {
        s->v[i].kind = kind;
        snprintf(s->v[i].a, sizeof s->v[i].a, "%s", a);
        snprintf(s->v[i].b, sizeof s->v[i].b, "%s", b);
        atomic_store_explicit(&s->n, count + 1, memory_order_release);
    }
    pthread_mutex_unlock(&s->mu);
    if (i >= STATS_MAX)
        return; /* full: a new pair is dropped, as documented */
    atomic_fetch_add_explicit(&s->values[i], n, memory_order_relaxed);
    m->stats_id = s->id;
    m->index = (uint32_t)i;
}

size_t stats_snapshot(struct stats *s, struct stats_entry *out, size_t max)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    size_t count = atomic_load_explicit(&s->n, memory_order_acquire);
    size_t n = count < max ? count : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = s->v[i];
        out[i].value = atomic_load_explicit(&s->values[i], memory_order_relaxed);
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}
