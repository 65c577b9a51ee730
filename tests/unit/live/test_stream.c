/* The demux/remux thread of a live stream, fed with streams that ffmpeg
 * generates (lavfi test pattern and sine, H.264 + AAC in MPEG-TS; MP3):
 * the HLS playlist slides and ends with #EXT-X-ENDLIST, old segments are
 * removed, the recording is complete and playable, the fan-out ring gets
 * whole MPEG-TS packets; a garbage body, a stalled publisher and a
 * directory the kernel refuses end the stream with the right reason. */
#include "live/files.h"
#include "live/format.h"
#include "live/queue.h"
#include "live/ring.h"
#include "live/stream.h"

#include <libavformat/avformat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256], src_ts[300], src_mp3[300];

struct ended {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum live_end why;
    char detail[256];
};

static void on_ended(void *arg, enum live_end why, const char *detail)
{
    struct ended *e = arg;
    pthread_mutex_lock(&e->mu);
    e->done = true;
    e->why = why;
    snprintf(e->detail, sizeof e->detail, "%s", detail);
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void wait_ended(struct ended *e)
{
    pthread_mutex_lock(&e->mu);
    while (!e->done)
        pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

struct feeder {
    struct live_queue *q;
    const char *file;
    bool finish;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool room;
};

static void feeder_wake(void *arg)
{
    struct feeder *f = arg;
    pthread_mutex_lock(&f->mu);
    f->room = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* A producer like the HTTP side: pushes what fits, waits for the wake-up. */
static void *feed(void *arg)
{
    struct feeder *f = arg;
    FILE *in = fopen(f->file, "rb");
    unsigned char buf[7000];
    size_t n;
    while (in && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        size_t off = 0;
        while (off < n && !live_queue_aborted(f->q)) {
            pthread_mutex_lock(&f->mu);
            f->room = false;
            pthread_mutex_unlock(&f->mu);
            size_t k = live_queue_push(f->q, buf + off, n - off, feeder_wake, f);
            off += k;
            if (off < n) {
                pthread_mutex_lock(&f->mu);
                while (!f->room)
                    pthread_cond_wait(&f->cv, &f->mu);
                pthread_mutex_unlock(&f->mu);
            }
        }
    }
    if (in)
        fclose(in);
    if (f->finish)
        live_queue_finish(f->q);
    return NULL;
}

static int run_cmd(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/guise-live-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(src_ts, sizeof src_ts, "%s.src.ts", dir);
    snprintf(src_mp3, sizeof src_mp3, "%s.src.mp3", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=25 "
             "-f lavfi -i sine=frequency=440:sample_rate=44100 -t 7 -c:v libx264 -preset "
             "ultrafast -g 25 -c:a aac -b:a 64k -f mpegts %s && "
             "ffmpeg -nostdin -loglevel error -y -f lavfi -i sine=frequency=440:sample_rate=44100 "
             "-t 5 -c:a libmp3lame -b:a 128k -f mp3 %s",
             src_ts, src_mp3);
    return run_cmd(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s", dir, src_ts, src_mp3);
    run_cmd(cmd);
    return 0;
}

static char *slurp_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY);
    if (fd < 0)
        return NULL;
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Files of subdir whose name starts with prefix (and does not end .part). */
static int files_with(const char *d, const char *prefix, char *first, size_t firstsz)
{
    DIR *dh = opendir(d);
    int n = 0;
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)))
            continue;
        if (first && !n)
            snprintf(first, firstsz, "%s", de->d_name);
        n++;
    }
    if (dh)
        closedir(dh);
    return n;
}

static long packets_of(const char *path, enum AVMediaType type)
{
    AVFormatContext *ic = NULL;
    if (avformat_open_input(&ic, path, NULL, NULL) < 0)
        return -1;
    if (avformat_find_stream_info(ic, NULL) < 0) {
        avformat_close_input(&ic);
        return -1;
    }
    long n = 0;
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(ic, pkt) >= 0) {
        if (ic->streams[pkt->stream_index]->codecpar->codec_type == type)
            n++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    return n;
}

struct run {
    struct live_files files;
    struct live_queue *q;
    struct live_ring *ring;
    struct live_stream_stats stats;
    struct ended e;
    struct feeder f;
    pthread_t feeder;
    int dfd;
};

static void start(struct run *r, const char *sub, const struct live_format *fmt,
                  const struct live_stream_options *o, const char *file, bool finish)
{
    memset(r, 0, sizeof *r);
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    r->dfd = open(path, O_DIRECTORY | O_RDONLY);
    assert_true(r->dfd >= 0);
    r->files.fs = live_fs_plain(&r->dfd);
    r->files.keep = o->window + 3;
    r->q = live_queue_new(64 * 1024);
    r->ring = live_ring_new(1 << 20, 1);
    pthread_mutex_init(&r->e.mu, NULL);
    pthread_cond_init(&r->e.cv, NULL);
    pthread_mutex_init(&r->f.mu, NULL);
    pthread_cond_init(&r->f.cv, NULL);
    struct live_stream *s;
    assert_int_equal(
        live_stream_start(sub, o, fmt, &r->files, r->q, r->ring, &r->stats, on_ended, &r->e, &s),
        0);
    r->f.q = r->q;
    r->f.file = file;
    r->f.finish = finish;
    if (file)
        pthread_create(&r->feeder, NULL, feed, &r->f);
}

static void finish_run(struct run *r)
{
    wait_ended(&r->e);
    if (r->f.file)
        pthread_join(r->feeder, NULL);
    live_files_clear(&r->files);
    live_queue_free(r->q);
    live_ring_unref(r->ring);
    close(r->dfd);
}

static void test_mpegts_to_hls_and_recording(void **state)
{
    (void)state;
    struct live_stream_options o = {.segment_seconds = 1, .window = 3, .record = true};
    int probe;
    struct run r;
    start(&r, "ts", live_format_for_type("video/mp2t", &probe), &o, src_ts, true);
    wait_ended(&r.e);
    assert_int_equal(r.e.why, LIVE_END_FINISHED);
    assert_true(atomic_load(&r.stats.probed));
    assert_non_null(strstr(r.stats.codecs, "h264 160x120"));
    assert_non_null(strstr(r.stats.codecs, "aac"));

    char *pl = slurp_at(r.dfd, "index.m3u8");
    assert_non_null(pl);
    assert_non_null(strstr(pl, "#EXT-X-ENDLIST"));
    assert_int_equal(count(pl, "#EXTINF"), 3); /* the sliding window */
    assert_non_null(strstr(pl, "#EXT-X-PROGRAM-DATE-TIME"));
    char sub[400], first[256];
    snprintf(sub, sizeof sub, "%s/ts", dir);
    int segs = files_with(sub, "seg-", NULL, 0);
    /* 7 seconds in 1-second segments: the oldest were unlinked */
    assert_true(segs >= 3 && segs <= 6);
    assert_true(atomic_load(&r.files.segments_written) >= 6);
    assert_int_equal(files_with(sub, "index.m3u8.tmp", NULL, 0), 0);
    /* every segment the playlist names exists and is MPEG-TS */
    for (char *line = strtok(pl, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char seg[700];
        snprintf(seg, sizeof seg, "%s/%s", sub, line);
        assert_true(packets_of(seg, AVMEDIA_TYPE_VIDEO) > 0);
    }
    /* the recording has its final name and all 175 frames */
    assert_int_equal(files_with(sub, "recording-", first, sizeof first), 1);
    assert_null(strstr(first, ".part"));
    char rec[700];
    snprintf(rec, sizeof rec, "%s/%s", sub, first);
    assert_int_equal(packets_of(rec, AVMEDIA_TYPE_VIDEO), 175);
    /* the progressive stream is whole MPEG-TS packets */
    struct live_reader rd;
    live_ring_reader_start(r.ring, 1 << 20, &rd, NULL, NULL, NULL);
    assert_true(live_ring_written(r.ring) > 0);
    assert_int_equal(live_ring_written(r.ring) % 188, 0);
    unsigned char b[1];
    assert_int_equal(live_ring_read(r.ring, &rd, b, 1, NULL), 1);
    assert_int_equal(b[0], 0x47);
    finish_run(&r);
}

static void test_mp3_probed(void **state)
{
    (void)state;
    struct live_stream_options o = {.segment_seconds = 1, .window = 2};
    struct run r;
    start(&r, "mp3", NULL, &o, src_mp3, true);
    wait_ended(&r.e);
    assert_int_equal(r.e.why, LIVE_END_FINISHED);
    assert_string_equal(r.stats.format, "mp3");
    assert_non_null(strstr(r.stats.codecs, "mp3 44100 Hz"));
    /* the progressive stream is MP3 frames: an MPEG audio sync word first */
    struct live_reader rd;
    live_ring_reader_start(r.ring, 1 << 20, &rd, NULL, NULL, NULL);
    unsigned char b[4];
    assert_int_equal(live_ring_read(r.ring, &rd, b, sizeof b, NULL), 4);
    assert_int_equal(b[0], 0xff);
    assert_int_equal(b[1] & 0xe0, 0xe0);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/mp3", dir);
    assert_true(files_with(sub, "seg-", NULL, 0) >= 2);
    finish_run(&r);
}

static void test_garbage_is_refused(void **state)
{
    (void)state;
    char garbage[300];
    snprintf(garbage, sizeof garbage, "%s.garbage", dir);
    FILE *g = fopen(garbage, "wb");
    for (int i = 0; i < 3 << 20; i++)
        fputc("guise live!\n"[i % 12], g);
    fclose(g);
    struct live_stream_options o = {.segment_seconds = 1, .window = 3, .garbage_bytes = 1 << 20};
    int probe;
    struct run r;
    start(&r, "garbage", live_format_for_type("video/mp2t", &probe), &o, garbage, true);
    finish_run(&r);
    unlink(garbage);
    assert_int_equal(r.e.why, LIVE_END_BAD_STREAM);
}

static void test_stalled_publisher(void **state)
{
    (void)state;
    struct live_stream_options o = {.segment_seconds = 1, .window = 3, .stall_ms = 300};
    struct run r;
    start(&r, "stalled", NULL, &o, NULL, false);
    finish_run(&r);
    assert_int_equal(r.e.why, LIVE_END_STALLED);
    assert_non_null(strstr(r.e.detail, "300 ms"));
}

static int refusing_create(void *cls, const char *name)
{
    (void)cls;
    (void)name;
    return -EACCES;
}

static void test_refused_directory(void **state)
{
    (void)state;
    struct live_stream_options o = {.segment_seconds = 1, .window = 3};
    int probe;
    struct run r;
    start(&r, "refused", live_format_for_type("video/mp2t", &probe), &o, NULL, false);
    /* a file interface the "kernel" refuses, swapped in before any data
     * (the stream's thread waits for its first bytes) */
    r.files.fs.create = refusing_create;
    r.f.file = src_ts;
    r.f.finish = true;
    pthread_create(&r.feeder, NULL, feed, &r.f);
    finish_run(&r);
    assert_int_equal(r.e.why, LIVE_END_WRITE);
    assert_non_null(strstr(r.e.detail, "Permission denied"));
    assert_int_equal(r.files.last_errno, EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpegts_to_hls_and_recording),
        cmocka_unit_test(test_mp3_probed),
        cmocka_unit_test(test_garbage_is_refused),
        cmocka_unit_test(test_stalled_publisher),
        cmocka_unit_test(test_refused_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
