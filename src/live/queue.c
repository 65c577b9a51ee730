/* The ingest queue: a ring of bytes under one mutex and one condition
 * variable (only the consumer ever waits). */
#include "live/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct live_queue {
    pthread_mutex_t mu;
    pthread_cond_t readable;
    unsigned char *buf;
    size_t cap, head, len; /* head: index of the oldest byte */
    bool finished, aborted;
    void (*wake)(void *);
    void *wake_arg;
};

struct live_queue *live_queue_new(size_t capacity)
{
    if (capacity < 4096)
        capacity = 4096;
    struct live_queue *q = calloc(1, sizeof *q);
    if (!q || !(q->buf = malloc(capacity))) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->readable, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void live_queue_free(struct live_queue *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->readable);
    free(q->buf);
    free(q);
}

size_t live_queue_push(struct live_queue *q, const void *data, size_t len, void (*wake)(void *),
                       void *arg)
{
    pthread_mutex_lock(&q->mu);
    if (q->finished || q->aborted) {
        pthread_mutex_unlock(&q->mu);
        return 0;
    }
    size_t n = q->cap - q->len;
    if (n > len)
        n = len;
    size_t tail = (q->head + q->len) % q->cap;
    size_t first = q->cap - tail < n ? q->cap - tail : n;
    memcpy(q->buf + tail, data, first);
    memcpy(q->buf, (const unsigned char *)data + first, n - first);
    q->len += n;
    if (n < len) {
        q->wake = wake;
        q->wake_arg = arg;
    }
    if (n)
        pthread_cond_signal(&q->readable);
    pthread_mutex_unlock(&q->mu);
    return n;
}

void live_queue_finish(struct live_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->finished = true;
    pthread_cond_signal(&q->readable);
    pthread_mutex_unlock(&q->mu);
}

void live_queue_abort(struct live_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->aborted = true;
    void (*wake)(void *) = q->wake;
    void *arg = q->wake_arg;
    q->wake = NULL;
    pthread_cond_signal(&q->readable);
    pthread_mutex_unlock(&q->mu);
    if (wake)
        wake(arg);
}

bool live_queue_aborted(struct live_queue *q)
{
    pthread_mutex_lock(&q->mu);
    bool a = q->aborted;
    pthread_mutex_unlock(&q->mu);
    return a;
}

ssize_t live_queue_pop(struct live_queue *q, void *dst, size_t max, unsigned timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->len && !q->finished && !q->aborted) {
        if (pthread_cond_timedwait(&q->readable, &q->mu, &deadline) == ETIMEDOUT && !q->len &&
            !q->finished && !q->aborted) {
            pthread_mutex_unlock(&q->mu);
            return LIVE_QUEUE_TIMEOUT;
        }
    }
    if (q->aborted) {
        pthread_mutex_unlock(&q->mu);
        return LIVE_QUEUE_ABORTED;
    }
    size_t n = q->len < max ? q->len : max;
    size_t first = q->cap - q->head < n ? q->cap - q->head : n;
    memcpy(dst, q->buf + q->head, first);
    memcpy((unsigned char *)dst + first, q->buf, n - first);
    q->head = (q->head + n) % q->cap;
    q->len -= n;
    void (*wake)(void *) = NULL;
    void *arg = NULL;
    if (q->wake && q->len <= q->cap / 2) {
        wake = q->wake;
        arg = q->wake_arg;
        q->wake = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    if (wake)
        wake(arg);
    return (ssize_t)n;
}
