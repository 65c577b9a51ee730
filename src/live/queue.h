/* A bounded byte queue between one producer (an HTTP request body arriving
 * on a libmicrohttpd thread) and one consumer (a live point's demux thread).
 *
 * The producer never blocks: it gives what fits and, when not everything
 * fitted, names a wake-up that the consumer calls once there is room again
 * (half the queue free) or when the consumer stops. The HTTP side suspends
 * its connection meanwhile: that is the back-pressure, and memory stays
 * bounded by the capacity whatever the publisher sends. */
#ifndef GUISE_LIVE_QUEUE_H
#define GUISE_LIVE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct live_queue;

/* A queue of capacity bytes (at least 4096). NULL when out of memory. */
struct live_queue *live_queue_new(size_t capacity);
void live_queue_free(struct live_queue *q);

/* Copies up to len bytes in; returns how many. When that is less than len,
 * wake(arg) is called once, on the consumer's thread and outside the lock,
 * when half the queue is free again or the consumer aborts. Returns 0 and
 * never arms wake once the queue is finished or aborted. */
size_t live_queue_push(struct live_queue *q, const void *data, size_t len, void (*wake)(void *),
                       void *arg);
/* The producer has no more bytes: the consumer reads the rest, then EOF. */
void live_queue_finish(struct live_queue *q);
/* The consumer stops: later pushes take nothing; an armed wake is called. */
void live_queue_abort(struct live_queue *q);
/* True after live_queue_abort. */
bool live_queue_aborted(struct live_queue *q);

#define LIVE_QUEUE_EOF     0
#define LIVE_QUEUE_TIMEOUT (-1)
#define LIVE_QUEUE_ABORTED (-2)
/* Takes up to max bytes, waiting at most timeout_ms for the first one.
 * Returns the count, LIVE_QUEUE_EOF after finish and the last byte,
 * LIVE_QUEUE_TIMEOUT (a stalled publisher) or LIVE_QUEUE_ABORTED. */
ssize_t live_queue_pop(struct live_queue *q, void *dst, size_t max, unsigned timeout_ms);

#endif
