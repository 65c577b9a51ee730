/* One publisher's stream: a thread that demuxes the bytes of an ingest
 * queue with libavformat and remuxes them, packet for packet (no
 * transcoding), into
 *   - the HLS muxer: a live playlist with a sliding window and MPEG-TS or
 *     fMP4 segments, written through files.h (as the publisher),
 *   - the recording (record = yes): one file of the whole event, written
 *     as RECORDING.part and renamed when the stream ends,
 *   - the progressive stream: the source's container (MPEG-TS, MP3, ADTS,
 *     Ogg) written into the fan-out ring (ring.h).
 * The thread never touches the network: the ingest queue is its only
 * input, so a slow disk or a burst of packets never blocks an HTTP thread. */
#ifndef GUISE_LIVE_STREAM_H
#define GUISE_LIVE_STREAM_H

#include "live/files.h"
#include "live/format.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct live_queue;
struct live_ring;
struct live_stream;

struct live_stream_options {
    unsigned segment_seconds; /* hls_time */
    unsigned window;          /* hls_list_size */
    bool fmp4;                /* fMP4/CMAF segments instead of MPEG-TS */
    bool record;
    unsigned stall_ms; /* no byte for this long: the publisher stalled */
    /* A publisher sending this many bytes without one packet coming out of
     * the demuxer is not sending the stream it claims. */
    size_t garbage_bytes;
};

/* Why a stream ended (the event says it in words, with detail). */
enum live_end {
    LIVE_END_FINISHED,   /* the publisher ended its body */
    LIVE_END_STOPPED,    /* stopped: publisher gone, replaced, disconnected, shutdown */
    LIVE_END_STALLED,    /* no bytes within stall_ms */
    LIVE_END_BAD_STREAM, /* not a stream a broadcast point takes */
    LIVE_END_WRITE,      /* a file could not be written (the kernel's refusal, a full disk) */
};
const char *live_end_name(enum live_end why);

/* What the admin interface shows of a running stream. */
struct live_stream_stats {
    _Atomic uint64_t bytes_in, packets;
    char format[16];
    char codecs[128]; /* "h264 320x240, aac 44100 Hz" once probed */
    _Atomic bool probed;
};

/* Called once, on the stream's thread, after everything is closed (the
 * playlist carries #EXT-X-ENDLIST, the recording has its final name). */
typedef void (*live_stream_ended_fn)(void *arg, enum live_end why, const char *detail);

/* Starts the (detached) thread. fmt NULL: probe the input (then only the
 * formats of format.h are taken). files, q, ring and stats stay the
 * caller's and must live until ended has been called; q is read until EOF
 * or abort. The stream frees itself after calling ended. 0, or -errno. */
int live_stream_start(const char *point, const struct live_stream_options *o,
                      const struct live_format *fmt, struct live_files *files, struct live_queue *q,
                      struct live_ring *ring, struct live_stream_stats *stats,
                      live_stream_ended_fn ended, void *arg, struct live_stream **out);

#endif
