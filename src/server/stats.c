/* Labelled counters behind one mutex: a handful of increments per request,
 * cheap next to the request itself, and simpler than lock-free tables. */
#include "server/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_MAX 1024

struct stats {
    pthread_mutex_t mu;
    struct stats_entry *v;
    size_t n;
};

struct stats *stats_new(void)
{
    struct stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->v = calloc(STATS_MAX, sizeof *s->v);
    if (!s->v) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->v);
    free(s);
}

void stats_add(struct stats *s, enum stats_kind kind, const char *a, const char *b, uint64_t n)
{
    if (!s)
        return;
    a = a ? a : "";
    b = b ? b : "";
    pthread_mutex_lock(&s->mu);
    size_t i;
    for (i = 0; i < s->n; i++)
        if (s->v[i].kind == kind && !strcmp(s->v[i].a, a) && !strcmp(s->v[i].b, b))
            break;
    if (i == s->n && s->n < STATS_MAX) {
        s->v[i].kind = kind;
        snprintf(s->v[i].a, sizeof s->v[i].a, "%s", a);
        snprintf(s->v[i].b, sizeof s->v[i].b, "%s", b);
        s->n++;
    }
    if (i < s->n)
        s->v[i].value += n;
    pthread_mutex_unlock(&s->mu);
}

size_t stats_snapshot(struct stats *s, struct stats_entry *out, size_t max)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    size_t n = s->n < max ? s->n : max;
    memcpy(out, s->v, n * sizeof *out);
    pthread_mutex_unlock(&s->mu);
    return n;
}
