/* A fixed pool of threads draining bounded FIFOs of jobs, in two lanes. */
#include "core/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct guise_work_owner {
    atomic_uint refs;
    atomic_bool cancelled;
};

guise_work_owner *guise_work_owner_new(void)
{
    guise_work_owner *o = malloc(sizeof *o);
    if (!o)
        return NULL;
    atomic_init(&o->refs, 1);
    atomic_init(&o->cancelled, false);
    return o;
}

guise_work_owner *guise_work_owner_ref(guise_work_owner *o)
{
    if (o)
        atomic_fetch_add(&o->refs, 1);
    return o;
}

void guise_work_owner_unref(guise_work_owner *o)
{
    if (o && atomic_fetch_sub(&o->refs, 1) == 1)
        free(o);
}

void guise_work_owner_cancel(guise_work_owner *o)
{
    if (o)
        atomic_store(&o->cancelled, true);
}

bool guise_work_owner_cancelled(const guise_work_owner *o)
{
    return o && atomic_load(&((guise_work_owner *)o)->cancelled);
}

static _Thread_local guise_work_owner *current_owner;

guise_work_owner *guise_work_owner_set_current(guise_work_owner *o)
{
    guise_work_owner *prev = current_owner;
    current_owner = o;
    return prev;
}

guise_work_owner *guise_work_owner_current(void)
{
    return current_owner;
}

struct job {
    guise_work_fn fn;
    void *arg;
    guise_work_owner *owner; /* a reference, or NULL */
};

/* One lane: its queue and its threads. */
struct lane {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct job *q;
    size_t cap, head, len, running;
    uint64_t completed; /* jobs that ran to the end, for /metrics */
    int stopping;
    unsigned nthreads;
    pthread_t *threads;
};

struct guise_workers {
    struct lane lanes[2];
};

static void *worker_main(void *arg)
{
    struct lane *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (l->len == 0 && !l->stopping)
            pthread_cond_wait(&l->nonempty, &l->lock);
        if (l->len == 0 && l->stopping)
            break;
        struct job j = l->q[l->head];
        l->head = (l->head + 1) % l->cap;
        l->len--;
        l->running++;
        pthread_mutex_unlock(&l->lock);
        guise_work_owner_set_current(j.owner);
        j.fn(j.arg);
        guise_work_owner_set_current(NULL);
        guise_work_owner_unref(j.owner);
        pthread_mutex_lock(&l->lock);
        l->running--;
        l->completed++;
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static void lane_stop(struct lane *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_cond_broadcast(&l->nonempty);
    pthread_mutex_unlock(&l->lock);
    for (unsigned i = 0; i < l->nthreads; i++)
        pthread_join(l->threads[i], NULL);
    pthread_cond_destroy(&l->nonempty);
    pthread_mutex_destroy(&l->lock);
    free(l->q);
    free(l->threads);
}

static int lane_start(struct lane *l, unsigned nthreads, size_t cap)
{
    l->cap = cap;
    l->q = calloc(cap, sizeof *l->q);
    l->threads = calloc(nthreads, sizeof *l->threads);
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->nonempty, NULL);
    if (!l->q || !l->threads)
        return -1;
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0)
            break;
        l->nthreads++;
    }
    return l->nthreads ? 0 : -1;
}

guise_result guise_workers_new(unsigned nthreads, size_t queue_max, guise_workers **out)
{
    guise_workers *w = calloc(1, sizeof *w);
    if (!w)
        return GUISE_E_OUTOFMEMORY;
    size_t cap = queue_max ? queue_max : 4096;
    unsigned slow = nthreads ? nthreads : 1;
    unsigned quick = slow / 4 ? slow / 4 : 1;
    int rc_slow = lane_start(&w->lanes[GUISE_LANE_SLOW], slow, cap);
    int rc_quick = lane_start(&w->lanes[GUISE_LANE_QUICK], quick, cap);
    if (rc_slow || rc_quick) {
        guise_workers_free(w);
        return GUISE_E_OUTOFMEMORY;
    }
    *out = w;
    return GUISE_S_OK;
}

guise_result guise_workers_submit_to(guise_workers *w, enum guise_work_lane lane, guise_work_fn fn,
                                     void *arg, guise_work_owner *owner)
{
    struct lane *l = &w->lanes[lane == GUISE_LANE_QUICK ? GUISE_LANE_QUICK : GUISE_LANE_SLOW];
    pthread_mutex_lock(&l->lock);
    if (l->stopping || l->len == l->cap) {
        pthread_mutex_unlock(&l->lock);
        return GUISE_E_BUSY;
    }
    l->q[(l->head + l->len) % l->cap] = (struct job){fn, arg, guise_work_owner_ref(owner)};
    l->len++;
    pthread_cond_signal(&l->nonempty);
    pthread_mutex_unlock(&l->lock);
    return GUISE_S_OK;
}

guise_result guise_workers_submit(guise_workers *w, guise_work_fn fn, void *arg)
{
    return guise_workers_submit_to(w, GUISE_LANE_SLOW, fn, arg, guise_work_owner_current());
}

size_t guise_workers_pending(guise_workers *w)
{
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&w->lanes[i].lock);
        n += w->lanes[i].len + w->lanes[i].running;
        pthread_mutex_unlock(&w->lanes[i].lock);
    }
    return n;
}

uint64_t guise_workers_completed(guise_workers *w)
{
    uint64_t n = 0;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&w->lanes[i].lock);
        n += w->lanes[i].completed;
        pthread_mutex_unlock(&w->lanes[i].lock);
    }
    return n;
}

void guise_workers_free(guise_workers *w)
{
    if (!w)
        return;
    /* The slow lane first: its jobs may still submit quick look-ups. */
    lane_stop(&w->lanes[GUISE_LANE_SLOW]);
    lane_stop(&w->lanes[GUISE_LANE_QUICK]);
    free(w);
}
