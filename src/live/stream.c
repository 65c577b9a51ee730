/* The demux/remux thread of a live stream (see stream.h). */
#include "live/stream.h"

#include "live/queue.h"
#include "live/ring.h"

#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IN_BUFFER 32768
/* 348 MPEG-TS packets: a flush of the progressive muxer is whole packets. */
#define FAN_BUFFER (188 * 348)

enum { OUT_HLS, OUT_RECORD, OUT_FAN, NOUT };

struct live_stream {
    pthread_t thread;
    char point[128];
    struct live_stream_options o;
    const struct live_format *fmt;
    struct live_files *files;
    struct live_queue *q;
    struct live_ring *ring;
    struct live_stream_stats *stats;
    live_stream_ended_fn ended;
    void *arg;

    enum live_end why;
    bool why_set;
    char detail[256];

    AVFormatContext *in;
    AVIOContext *in_pb; /* ours: libavformat never frees a custom context */
    AVFormatContext *out[NOUT];
    int map[8]; /* input stream index -> output stream index, -1: dropped */
    AVIOContext *record_pb;
    char record_name[96];
    /* the progressive muxer's header, collected before the first packet */
    unsigned char *header;
    size_t header_len;
    bool in_header;
    bool fan_key; /* the next write into the ring starts a key unit */
    bool has_video;
};

const char *live_end_name(enum live_end why)
{
    switch (why) {
    case LIVE_END_FINISHED:
        return "finished";
    case LIVE_END_STOPPED:
        return "stopped";
    case LIVE_END_STALLED:
        return "stalled";
    case LIVE_END_BAD_STREAM:
        return "bad-stream";
    case LIVE_END_WRITE:
        return "write-failed";
    }
    return "?";
}

static void set_end(struct live_stream *s, enum live_end why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_end(struct live_stream *s, enum live_end why, const char *fmt, ...)
{
    if (s->why_set)
        return;
    s->why_set = true;
    s->why = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
}

static int read_queue(void *opaque, uint8_t *buf, int size)
{
    struct live_stream *s = opaque;
    ssize_t n = live_queue_pop(s->q, buf, (size_t)size, s->o.stall_ms);
    if (n > 0) {
        atomic_fetch_add_explicit(&s->stats->bytes_in, (uint64_t)n, memory_order_relaxed);
        return (int)n;
    }
    if (n == LIVE_QUEUE_EOF)
        return AVERROR_EOF;
    if (n == LIVE_QUEUE_TIMEOUT) {
        set_end(s, LIVE_END_STALLED, "no data from the publisher for %u ms", s->o.stall_ms);
        return AVERROR(ETIMEDOUT);
    }
    set_end(s, LIVE_END_STOPPED, "the publisher's request ended");
    return AVERROR_EXIT;
}

static int write_ring(void *opaque, uint8_t *buf, int size)
{
    struct live_stream *s = opaque;
    if (s->in_header) {
        unsigned char *h = realloc(s->header, s->header_len + (size_t)size);
        if (!h)
            return AVERROR(ENOMEM);
        memcpy(h + s->header_len, buf, (size_t)size);
        s->header = h;
        s->header_len += (size_t)size;
        return size;
    }
    live_ring_write(s->ring, buf, (size_t)size, s->fan_key);
    s->fan_key = false;
    return size;
}

static void describe_codecs(struct live_stream *s)
{
    char *p = s->stats->codecs;
    size_t left = sizeof s->stats->codecs;
    p[0] = '\0';
    for (unsigned i = 0; i < s->in->nb_streams && i < 8; i++) {
        if (s->map[i] < 0)
            continue;
        const AVCodecParameters *cp = s->in->streams[i]->codecpar;
        int n;
        if (cp->codec_type == AVMEDIA_TYPE_VIDEO)
            n = snprintf(p, left, "%s%s %dx%d", p == s->stats->codecs ? "" : ", ",
                         avcodec_get_name(cp->codec_id), cp->width, cp->height);
        else
            n = snprintf(p, left, "%s%s %d Hz", p == s->stats->codecs ? "" : ", ",
                         avcodec_get_name(cp->codec_id), cp->sample_rate);
        if (n < 0 || (size_t)n >= left)
            break;
        p += n;
        left -= (size_t)n;
    }
    snprintf(s->stats->format, sizeof s->stats->format, "%s", s->fmt->demuxer);
    atomic_store(&s->stats->probed, true);
}

static int open_input(struct live_stream *s)
{
    unsigned char *buf = av_malloc(IN_BUFFER);
    AVIOContext *pb = buf ? avio_alloc_context(buf, IN_BUFFER, 0, s, read_queue, NULL, NULL) : NULL;
    if (!pb) {
        av_free(buf);
        return AVERROR(ENOMEM);
    }
    s->in_pb = pb;
    s->in = avformat_alloc_context();
    if (!s->in)
        return AVERROR(ENOMEM);
    s->in_pb = pb;
    s->in->pb = pb;
    s->in->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* Bounded probing: a live point must start within a few seconds. */
    s->in->probesize = 1 << 20;
    s->in->max_analyze_duration = 3 * AV_TIME_BASE;
    const AVInputFormat *ifmt = s->fmt ? av_find_input_format(s->fmt->demuxer) : NULL;
    int ret = avformat_open_input(&s->in, NULL, ifmt, NULL);
    if (ret < 0) {
        char e[96];
        av_strerror(ret, e, sizeof e);
        set_end(s, LIVE_END_BAD_STREAM, "the body is not a media stream (%s)", e);
        return ret;
    }
    if (!s->fmt && !(s->fmt = live_format_for_demuxer(s->in->iformat->name))) {
        set_end(s, LIVE_END_BAD_STREAM, "the body is %s, which broadcast points do not take",
                s->in->iformat->name);
        return AVERROR_INVALIDDATA;
    }
    if ((ret = avformat_find_stream_info(s->in, NULL)) < 0) {
        set_end(s, LIVE_END_BAD_STREAM, "no stream information in the body");
        return ret;
    }
    int nv = 0, na = 0, n = 0;
    for (unsigned i = 0; i < s->in->nb_streams && i < 8; i++) {
        const AVCodecParameters *cp = s->in->streams[i]->codecpar;
        s->map[i] = -1;
        if (cp->codec_id == AV_CODEC_ID_NONE)
            continue;
        if (cp->codec_type == AVMEDIA_TYPE_VIDEO && !nv && s->fmt->video) {
            nv++;
            s->has_video = true;
            s->map[i] = n++;
        } else if (cp->codec_type == AVMEDIA_TYPE_AUDIO && !na) {
            na++;
            s->map[i] = n++;
        }
    }
    if (!n) {
        set_end(s, LIVE_END_BAD_STREAM, "the body has no audio or video stream");
        return AVERROR_INVALIDDATA;
    }
    describe_codecs(s);
    return 0;
}

static int add_streams(struct live_stream *s, AVFormatContext *oc)
{
    for (unsigned i = 0; i < s->in->nb_streams && i < 8; i++) {
        if (s->map[i] < 0)
            continue;
        AVStream *os = avformat_new_stream(oc, NULL);
        if (!os)
            return AVERROR(ENOMEM);
        int ret = avcodec_parameters_copy(os->codecpar, s->in->streams[i]->codecpar);
        if (ret < 0)
            return ret;
        os->codecpar->codec_tag = 0;
        os->time_base = s->in->streams[i]->time_base;
    }
    return 0;
}

static void write_failure(struct live_stream *s, const char *what, int ret)
{
    if (s->files->last_errno)
        set_end(s, LIVE_END_WRITE, "cannot write %s in the point's directory: %s",
                s->files->last_name, strerror(s->files->last_errno));
    else {
        char e[96];
        av_strerror(ret, e, sizeof e);
        set_end(s, LIVE_END_WRITE, "%s: %s", what, e);
    }
}

static int open_hls(struct live_stream *s)
{
    AVFormatContext *oc = NULL;
    /* Not a file: URL, so that the muxer leaves the atomic replacement of
     * the playlist to files.c (it would rename as the server, through the
     * file protocol): io_open strips the scheme. */
    int ret = avformat_alloc_output_context2(&oc, NULL, "hls", LIVE_URL_SCHEME "index.m3u8");
    if (ret < 0)
        return ret;
    s->out[OUT_HLS] = oc;
    live_files_attach(s->files, oc);
    if ((ret = add_streams(s, oc)) < 0)
        return ret;
    char seg[64], init[64], num[16];
    time_t t = time(NULL);
    snprintf(seg, sizeof seg, "seg-%lld-%%05d.%s", (long long)t, s->o.fmp4 ? "m4s" : "ts");
    snprintf(init, sizeof init, "init-%lld.mp4", (long long)t);
    AVDictionary *opt = NULL;
    snprintf(num, sizeof num, "%u", s->o.segment_seconds);
    av_dict_set(&opt, "hls_time", num, 0);
    snprintf(num, sizeof num, "%u", s->o.window);
    av_dict_set(&opt, "hls_list_size", num, 0);
    av_dict_set(&opt, "hls_segment_filename", seg, 0);
    av_dict_set(&opt, "hls_segment_type", s->o.fmp4 ? "fmp4" : "mpegts", 0);
    if (s->o.fmp4)
        av_dict_set(&opt, "hls_fmp4_init_filename", init, 0);
    /* program_date_time: players (and the latency bench) see wall-clock time. */
    av_dict_set(&opt, "hls_flags", "independent_segments+program_date_time", 0);
    ret = avformat_write_header(oc, &opt);
    av_dict_free(&opt);
    if (ret < 0)
        write_failure(s, "the HLS muxer refused the stream", ret);
    return ret;
}

static int open_record(struct live_stream *s)
{
    AVFormatContext *oc = NULL;
    int ret = avformat_alloc_output_context2(&oc, NULL, s->fmt->muxer, NULL);
    if (ret < 0)
        return ret;
    s->out[OUT_RECORD] = oc;
    if ((ret = add_streams(s, oc)) < 0)
        return ret;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(s->record_name, sizeof s->record_name, "recording-%s.%s", stamp, s->fmt->extension);
    if ((ret = live_files_open(s->files, s->record_name, 1, &s->record_pb)) < 0) {
        write_failure(s, "cannot create the recording", ret);
        return ret;
    }
    oc->pb = s->record_pb;
    oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary *opt = NULL;
    if (!strcmp(s->fmt->muxer, "mp3")) {
        av_dict_set(&opt, "id3v2_version", "0", 0);
        av_dict_set(&opt, "write_xing", "0", 0);
    }
    ret = avformat_write_header(oc, &opt);
    av_dict_free(&opt);
    if (ret < 0)
        write_failure(s, "the recording's muxer refused the stream", ret);
    return ret;
}

static int open_fan(struct live_stream *s)
{
    AVFormatContext *oc = NULL;
    int ret = avformat_alloc_output_context2(&oc, NULL, s->fmt->muxer, NULL);
    if (ret < 0)
        return ret;
    s->out[OUT_FAN] = oc;
    if ((ret = add_streams(s, oc)) < 0)
        return ret;
    unsigned char *buf = av_malloc(FAN_BUFFER);
    oc->pb = buf ? avio_alloc_context(buf, FAN_BUFFER, 1, s, NULL, write_ring, NULL) : NULL;
    if (!oc->pb) {
        av_free(buf);
        return AVERROR(ENOMEM);
    }
    oc->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
    AVDictionary *opt = NULL;
    if (!strcmp(s->fmt->muxer, "mp3")) {
        /* A stream has no length: no Xing frame, no ID3 tag to repeat. */
        av_dict_set(&opt, "id3v2_version", "0", 0);
        av_dict_set(&opt, "write_xing", "0", 0);
    }
    s->in_header = true;
    ret = avformat_write_header(oc, &opt);
    av_dict_free(&opt);
    if (ret >= 0) {
        avio_flush(oc->pb);
        s->in_header = false;
        live_ring_set_header(s->ring, s->header, s->header_len);
    }
    return ret;
}

static void close_outputs(struct live_stream *s)
{
    for (int i = 0; i < NOUT; i++) {
        AVFormatContext *oc = s->out[i];
        if (!oc)
            continue;
        if (oc->pb || i == OUT_HLS) {
            int ret = av_write_trailer(oc);
            if (ret < 0 && i != OUT_FAN)
                write_failure(
                    s, i == OUT_HLS ? "cannot end the HLS playlist" : "cannot finish the recording",
                    ret);
        }
        if (i == OUT_RECORD) {
            if (live_files_close(s->files, s->record_pb) < 0)
                write_failure(s, "cannot close the recording", 0);
            s->record_pb = NULL;
            oc->pb = NULL;
        } else if (i == OUT_FAN && oc->pb) {
            avio_flush(oc->pb);
            av_freep(&oc->pb->buffer);
            avio_context_free(&oc->pb);
        }
        avformat_free_context(oc);
        s->out[i] = NULL;
    }
    live_ring_end(s->ring);
}

static void run(struct live_stream *s)
{
    if (open_input(s) < 0)
        return;
    if (open_hls(s) < 0) {
        /* Only a refused file ends the stream; a codec the HLS muxer does
         * not take (Ogg Vorbis) leaves the progressive stream. */
        if (s->why_set)
            return;
        avformat_free_context(s->out[OUT_HLS]);
        s->out[OUT_HLS] = NULL;
    }
    if (s->o.record && open_record(s) < 0)
        return;
    if (open_fan(s) < 0) {
        set_end(s, LIVE_END_BAD_STREAM, "the progressive muxer refused the stream");
        return;
    }
    AVPacket *pkt = av_packet_alloc(), *copy = av_packet_alloc();
    if (!pkt || !copy) {
        av_packet_free(&pkt);
        av_packet_free(&copy);
        return;
    }
    uint64_t in_at_packet = 0;
    for (;;) {
        int ret = av_read_frame(s->in, pkt);
        if (ret < 0) {
            if (ret == AVERROR_EOF)
                set_end(s, LIVE_END_FINISHED, "the publisher ended the stream");
            else {
                char e[96];
                av_strerror(ret, e, sizeof e);
                set_end(s, LIVE_END_BAD_STREAM, "demuxing failed: %s", e);
            }
            break;
        }
        uint64_t in = atomic_load_explicit(&s->stats->bytes_in, memory_order_relaxed);
        int idx = pkt->stream_index < 8 ? s->map[pkt->stream_index] : -1;
        if (idx < 0 || pkt->size == 0) {
            av_packet_unref(pkt);
            if (in - in_at_packet > s->o.garbage_bytes) {
                set_end(s, LIVE_END_BAD_STREAM, "%llu bytes without a packet of the stream",
                        (unsigned long long)(in - in_at_packet));
                break;
            }
            continue;
        }
        in_at_packet = in;
        atomic_fetch_add_explicit(&s->stats->packets, 1, memory_order_relaxed);
        AVRational itb = s->in->streams[pkt->stream_index]->time_base;
        bool failed = false;
        for (int i = 0; i < NOUT && !failed; i++) {
            if (!s->out[i])
                continue;
            if (av_packet_ref(copy, pkt) < 0)
                continue;
            copy->stream_index = idx;
            av_packet_rescale_ts(copy, itb, s->out[i]->streams[idx]->time_base);
            copy->pos = -1;
            if (i == OUT_FAN) {
                /* One packet per write, in the demuxer's order: the ring
                 * learns where a decoder can start. */
                bool video =
                    s->in->streams[pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
                s->fan_key = s->has_video ? video && (pkt->flags & AV_PKT_FLAG_KEY) : true;
                ret = av_write_frame(s->out[i], copy);
            } else
                ret = av_interleaved_write_frame(s->out[i], copy);
            av_packet_unref(copy);
            if (ret < 0 && i != OUT_FAN) {
                write_failure(
                    s, i == OUT_HLS ? "cannot write the HLS output" : "cannot write the recording",
                    ret);
                failed = true;
            }
        }
        av_packet_unref(pkt);
        if (failed)
            break;
    }
    av_packet_free(&pkt);
    av_packet_free(&copy);
}

static void *thread_main(void *arg)
{
    struct live_stream *s = arg;
    char name[16];
    snprintf(name, sizeof name, "live:%.10s", s->point);
    pthread_setname_np(pthread_self(), name);
    run(s);
    close_outputs(s);
    /* avformat_open_input frees the context when it fails, never the
     * custom I/O context (whose buffer it may have reallocated). */
    avformat_close_input(&s->in);
    if (s->in_pb) {
        av_freep(&s->in_pb->buffer);
        avio_context_free(&s->in_pb);
    }
    /* The demuxer is gone: the producer must not wait for room any more. */
    live_queue_abort(s->q);
    if (!s->why_set)
        set_end(s, LIVE_END_STOPPED, "the stream could not start");
    live_stream_ended_fn ended = s->ended;
    void *ended_arg = s->arg;
    char detail[sizeof s->detail];
    memcpy(detail, s->detail, sizeof detail);
    enum live_end why = s->why;
    free(s->header);
    free(s);
    ended(ended_arg, why, detail);
    return NULL;
}

int live_stream_start(const char *point, const struct live_stream_options *o,
                      const struct live_format *fmt, struct live_files *files, struct live_queue *q,
                      struct live_ring *ring, struct live_stream_stats *stats,
                      live_stream_ended_fn ended, void *arg, struct live_stream **out)
{
    struct live_stream *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    snprintf(s->point, sizeof s->point, "%s", point);
    s->o = *o;
    if (!s->o.stall_ms)
        s->o.stall_ms = 10000;
    if (!s->o.garbage_bytes)
        s->o.garbage_bytes = 4u << 20;
    s->fmt = fmt;
    s->files = files;
    s->q = q;
    s->ring = ring;
    s->stats = stats;
    s->ended = ended;
    s->arg = arg;
    for (int i = 0; i < 8; i++)
        s->map[i] = -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&s->thread, &attr, thread_main, s);
    pthread_attr_destroy(&attr);
    if (rc) {
        free(s);
        return -rc;
    }
    *out = s;
    return 0;
}
