/* A fixed pool of threads draining a bounded FIFO of jobs. */
#include "core/workers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct job {
    guise_work_fn fn;
    void *arg;
};

struct guise_workers {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct job *q;
    size_t cap, head, len, running;
    uint64_t completed; /* jobs that ran to the end, for /metrics */
    int stopping;
    unsigned nthreads;
    pthread_t *threads;
};

static void *worker_main(void *p)
{
    guise_workers *w = p;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->len == 0 && !w->stopping)
            pthread_cond_wait(&w->nonempty, &w->lock);
        if (w->len == 0 && w->stopping)
            break;
        struct job j = w->q[w->head];
        w->head = (w->head + 1) % w->cap;
        w->len--;
        w->running++;
        pthread_mutex_unlock(&w->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&w->lock);
        w->running--;
        w->completed++;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

guise_result guise_workers_new(unsigned nthreads, size_t queue_max, guise_workers **out)
{
    guise_workers *w = calloc(1, sizeof *w);
    if (!w)
        return GUISE_E_OUTOFMEMORY;
    w->cap = queue_max ? queue_max : 4096;
    w->q = calloc(w->cap, sizeof *w->q);
    w->threads = calloc(nthreads ? nthreads : 1, sizeof *w->threads);
    if (!w->q || !w->threads) {
        free(w->q);
        free(w->threads);
        free(w);
        return GUISE_E_OUTOFMEMORY;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->nonempty, NULL);
    for (unsigned i = 0; i < (nthreads ? nthreads : 1); i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->nthreads++;
    }
    if (w->nthreads == 0) {
        guise_workers_free(w);
        return GUISE_E_OUTOFMEMORY;
    }
    *out = w;
    return GUISE_S_OK;
}

guise_result guise_workers_submit(guise_workers *w, guise_work_fn fn, void *arg)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->len == w->cap) {
        pthread_mutex_unlock(&w->lock);
        return GUISE_E_OUTOFMEMORY;
    }
    w->q[(w->head + w->len) % w->cap] = (struct job){fn, arg};
    w->len++;
    pthread_cond_signal(&w->nonempty);
    pthread_mutex_unlock(&w->lock);
    return GUISE_S_OK;
}

size_t guise_workers_pending(guise_workers *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->len + w->running;
    pthread_mutex_unlock(&w->lock);
    return n;
}

uint64_t guise_workers_completed(guise_workers *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->completed;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void guise_workers_free(guise_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->nonempty);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->nonempty);
    pthread_mutex_destroy(&w->lock);
    free(w->q);
    free(w->threads);
    free(w);
}
