/* The fan-out ring: the live bytes of one stream, written once by the
 * stream's thread and read by every progressive listener from the same
 * memory (no copy per listener).
 *
 * Offsets are absolute (bytes written since the stream began); the ring
 * keeps the last `capacity` of them. The writer never waits for a reader:
 * a reader whose position falls out of the ring is overrun (a listener too
 * slow for the stream) and is dropped by its caller. Each write is one unit
 * that starts on a packet boundary (whole MPEG-TS packets, whole audio
 * frames); a key unit is one a decoder can start at (a video keyframe, any
 * audio frame). A new reader starts at the oldest key unit within its
 * burst (or the newest one before it), after the
 * stream's header (what the muxer wrote before the first packet, e.g. Ogg's
 * header pages), which every reader gets first. */
#ifndef GUISE_LIVE_RING_H
#define GUISE_LIVE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct live_ring;

/* A reader's place. Its wake-up is called under the ring's lock, so a
 * reader that parked (suspended its connection) under that same lock is
 * always parked before it is woken. */
struct live_reader {
    uint64_t pos;
    size_t header_sent;
    bool waiting, overrun;
    void (*wake)(void *arg);
    /* Called once, under the ring's lock, by the write that leaves this
     * reader behind the ring (a listener whose socket does not drain is
     * never called back by its own connection): NULL for none. */
    void (*drop)(void *arg);
    void *arg;
    struct live_reader *prev, *next;   /* waiting readers */
    struct live_reader *aprev, *anext; /* every reader */
};

/* A ring of capacity bytes. Waiting readers are woken once wake_bytes
 * have arrived since the last wake-up (and at the end): a resumed
 * connection sends a few KiB instead of one audio frame, which is most of
 * the cost of a listener (1: every write). */
struct live_ring *live_ring_new(size_t capacity, size_t wake_bytes);
struct live_ring *live_ring_ref(struct live_ring *r);
void live_ring_unref(struct live_ring *r);

/* Writer side (one thread). set_header may be called before the first write. */
int live_ring_set_header(struct live_ring *r, const void *data, size_t len);
void live_ring_write(struct live_ring *r, const void *data, size_t len, bool key);
/* No more bytes: waiting readers are woken and read LIVE_RING_END. */
void live_ring_end(struct live_ring *r);

/* Places a new reader at a key unit about burst_bytes behind the live edge. */
void live_ring_reader_start(struct live_ring *r, size_t burst_bytes, struct live_reader *rd,
                            void (*wake)(void *), void (*drop)(void *), void *arg);
/* Stops a reader: it is never woken after this returns. */
void live_ring_reader_stop(struct live_ring *r, struct live_reader *rd);

#define LIVE_RING_END     (-1)
#define LIVE_RING_OVERRUN (-2)
/* Copies up to max bytes for the reader. Returns the count, or 0 when
 * nothing is there yet: then park(arg) has been called under the ring's
 * lock and the reader's wake will be called once bytes arrive or the
 * stream ends. LIVE_RING_END after the end, LIVE_RING_OVERRUN when the
 * reader fell out of the ring. */
ssize_t live_ring_read(struct live_ring *r, struct live_reader *rd, void *dst, size_t max,
                       void (*park)(void *));

/* The ring's lock, for a reader's own bookkeeping shared with its drop. */
void live_ring_lock(struct live_ring *r);
void live_ring_unlock(struct live_ring *r);

/* Bytes written so far (the live edge), readers counted by the caller. */
uint64_t live_ring_written(struct live_ring *r);

#endif
