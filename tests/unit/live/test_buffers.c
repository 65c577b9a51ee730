/* The live subsystem's buffers: the ingest queue's back-pressure (what
 * does not fit is left, the wake-up comes once half is free, abort wakes
 * the producer), the fan-out ring's burst, header, wake-ups and overrun,
 * and the content types a broadcast point takes. */
#include "live/format.h"
#include "live/queue.h"
#include "live/ring.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int wakes;
static void count_wake(void *arg)
{
    (void)arg;
    wakes++;
}

static void test_queue_backpressure(void **state)
{
    (void)state;
    struct live_queue *q = live_queue_new(4096);
    unsigned char in[6000], out[8192];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7);
    wakes = 0;
    assert_int_equal(live_queue_push(q, in, sizeof in, count_wake, NULL), 4096);
    assert_int_equal(live_queue_push(q, in + 4096, 10, count_wake, NULL), 0);
    /* 1000 bytes out leave it more than half full: no wake yet. */
    assert_int_equal(live_queue_pop(q, out, 1000, 100), 1000);
    assert_int_equal(wakes, 0);
    assert_int_equal(live_queue_pop(q, out + 1000, 1500, 100), 1500);
    assert_int_equal(wakes, 1);
    /* wraps around the end of the ring */
    assert_int_equal(live_queue_push(q, in + 4096, 1904, count_wake, NULL), 1904);
    ssize_t total = 2500, n;
    while (total < 6000 &&
           (n = live_queue_pop(q, out + total, sizeof out - (size_t)total, 100)) > 0)
        total += n;
    assert_int_equal(total, 6000);
    assert_memory_equal(in, out, 6000);
    assert_int_equal(live_queue_pop(q, out, 10, 20), LIVE_QUEUE_TIMEOUT);
    live_queue_finish(q);
    assert_int_equal(live_queue_pop(q, out, 10, 20), LIVE_QUEUE_EOF);
    assert_int_equal(live_queue_push(q, in, 10, count_wake, NULL), 0);
    live_queue_free(q);
}

static void test_queue_abort_wakes_producer(void **state)
{
    (void)state;
    struct live_queue *q = live_queue_new(4096);
    unsigned char in[5000] = {0}, out[16];
    wakes = 0;
    assert_int_equal(live_queue_push(q, in, sizeof in, count_wake, NULL), 4096);
    live_queue_abort(q);
    assert_int_equal(wakes, 1);
    assert_true(live_queue_aborted(q));
    assert_int_equal(live_queue_pop(q, out, sizeof out, 10), LIVE_QUEUE_ABORTED);
    assert_int_equal(live_queue_push(q, in, 10, count_wake, NULL), 0);
    live_queue_free(q);
}

static int parks;
static void park(void *arg)
{
    (void)arg;
    parks++;
}

static void test_ring_burst_header_wake(void **state)
{
    (void)state;
    struct live_ring *r = live_ring_new(1000, 1);
    assert_int_equal(live_ring_set_header(r, "HDR", 3), 0);
    char unit[100];
    for (int i = 0; i < 20; i++) { /* 2000 bytes: the ring keeps the last 1000 */
        memset(unit, 'a' + i, sizeof unit);
        live_ring_write(r, unit, sizeof unit, true);
    }
    struct live_reader rd;
    wakes = parks = 0;
    /* a burst of 250 bytes starts at the first whole unit within it */
    live_ring_reader_start(r, 250, &rd, count_wake, NULL, NULL);
    char buf[2048];
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 3);
    assert_memory_equal(buf, "HDR", 3);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 200);
    assert_int_equal(buf[0], 'a' + 18);
    assert_int_equal(buf[199], 'a' + 19);
    /* at the live edge: parked, woken by the next write */
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 0);
    assert_int_equal(parks, 1);
    assert_int_equal(wakes, 0);
    live_ring_write(r, "xyz", 3, true);
    assert_int_equal(wakes, 1);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 3);
    /* a burst larger than the ring starts at the oldest unit kept */
    struct live_reader old;
    live_ring_reader_start(r, 1u << 20, &old, count_wake, NULL, NULL);
    assert_int_equal(live_ring_read(r, &old, buf, 3, park), 3);
    ssize_t n = live_ring_read(r, &old, buf, sizeof buf, park);
    assert_true(n > 0 && n <= 1000);
    assert_int_equal(live_ring_written(r), 2003);
    live_ring_end(r);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), LIVE_RING_END);
    live_ring_unref(r);
}

static int drops;
static void count_drop(void *arg)
{
    (void)arg;
    drops++;
}

static void test_ring_wake_bytes(void **state)
{
    (void)state;
    struct live_ring *r = live_ring_new(1 << 16, 4096);
    struct live_reader rd;
    char buf[8192] = {0};
    wakes = parks = 0;
    live_ring_reader_start(r, 0, &rd, count_wake, NULL, NULL);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 0);
    /* frames of 418 bytes (128 kbit/s MP3): one wake-up per 4 KiB */
    for (int i = 0; i < 9; i++)
        live_ring_write(r, buf, 418, true);
    assert_int_equal(wakes, 0);
    live_ring_write(r, buf, 418, true);
    assert_int_equal(wakes, 1);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 4180);
    assert_int_equal(live_ring_read(r, &rd, buf, sizeof buf, park), 0);
    live_ring_end(r); /* the end wakes at once */
    assert_int_equal(wakes, 2);
    live_ring_reader_stop(r, &rd);
    live_ring_unref(r);
}

static void test_ring_overrun(void **state)
{
    (void)state;
    struct live_ring *r = live_ring_new(1000, 1);
    struct live_reader slow, fast;
    drops = 0;
    /* the writer drops the slow reader itself, once: its connection may
     * never ask again */
    live_ring_reader_start(r, 0, &slow, count_wake, count_drop, NULL);
    live_ring_reader_start(r, 0, &fast, count_wake, count_drop, NULL);
    char unit[300] = {0}, buf[4096];
    for (int i = 0; i < 5; i++) {
        live_ring_write(r, unit, sizeof unit, true);
        assert_true(live_ring_read(r, &fast, buf, sizeof buf, park) > 0);
    }
    /* the slow reader is 1500 bytes behind a 1000-byte ring; the fast one
     * is unaffected */
    assert_int_equal(drops, 1);
    assert_true(slow.overrun);
    assert_false(fast.overrun);
    assert_int_equal(live_ring_read(r, &slow, buf, sizeof buf, park), LIVE_RING_OVERRUN);
    live_ring_reader_stop(r, &slow);
    parks = 0;
    assert_int_equal(live_ring_read(r, &fast, buf, sizeof buf, park), 0);
    assert_int_equal(parks, 1);
    live_ring_reader_stop(r, &fast);
    wakes = 0;
    live_ring_write(r, unit, 10, true);
    assert_int_equal(wakes, 0); /* a stopped reader is never woken */
    live_ring_unref(r);
}

static void test_formats(void **state)
{
    (void)state;
    int probe;
    const struct live_format *f = live_format_for_type("video/MP2T", &probe);
    assert_non_null(f);
    assert_string_equal(f->demuxer, "mpegts");
    f = live_format_for_type("audio/mpeg; charset=x", &probe);
    assert_non_null(f);
    assert_string_equal(f->muxer, "mp3");
    f = live_format_for_type("audio/aac", &probe);
    assert_string_equal(f->muxer, "adts");
    f = live_format_for_type("application/ogg", &probe);
    assert_string_equal(f->demuxer, "ogg");
    assert_null(live_format_for_type(NULL, &probe));
    assert_true(probe);
    assert_null(live_format_for_type("application/octet-stream", &probe));
    assert_true(probe);
    assert_null(live_format_for_type("text/html", &probe));
    assert_false(probe);
    assert_null(live_format_for_type("video/mp2tx", &probe));
    assert_false(probe);
    assert_non_null(live_format_for_demuxer("aac"));
    assert_null(live_format_for_demuxer("matroska,webm"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_backpressure),
        cmocka_unit_test(test_queue_abort_wakes_producer),
        cmocka_unit_test(test_ring_burst_header_wake),
        cmocka_unit_test(test_ring_wake_bytes),
        cmocka_unit_test(test_ring_overrun),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
