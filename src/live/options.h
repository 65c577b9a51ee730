/* A broadcast point's settings (docs/BROADCAST.md), filled from its
 * [publishing-point] section by the server (src/server/broadcast_config.c). */
#ifndef GUISE_LIVE_OPTIONS_H
#define GUISE_LIVE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct live_point_options {
    unsigned segment_seconds; /* hls-segment-seconds (default 2) */
    unsigned window;          /* hls-window: segments in the live playlist (default 6) */
    bool fmp4;                /* hls-segment-type = fmp4 */
    bool record;              /* record = yes: keep the whole event as one file */
    bool takeover;            /* a new publisher replaces the current one */
    size_t burst_bytes;       /* sent at once to a new progressive listener (default 64 KiB) */
    size_t ring_bytes;        /* fanout-bytes: a listener this far behind is dropped (4 MiB) */
    size_t queue_bytes;       /* ingest-queue-bytes (default 1 MiB) */
    unsigned stall_seconds;   /* stall-timeout: a silent publisher is cut off (default 10) */
};

void live_point_options_default(struct live_point_options *o);

#endif
