/* The [publishing-point] keys of broadcast points, declared for the
 * configuration reader (server/config_keys.h):
 *
 *   type = on-demand | broadcast      source = push
 *   hls-segment-seconds = 2           hls-window = 6
 *   hls-segment-type = mpegts | fmp4  record = no        takeover = no
 *   burst-bytes = 65536               fanout-bytes = 4194304
 *   ingest-queue-bytes = 1048576      stall-timeout = 10 */
#ifndef GUISE_SERVER_BROADCAST_CONFIG_H
#define GUISE_SERVER_BROADCAST_CONFIG_H

#include "live/options.h"
#include "server/config.h"

#include <stdbool.h>

struct broadcast_config {
    int type; /* 0 on-demand, 1 broadcast */
    int source;
    unsigned segment_seconds, window;
    int segment_type; /* 0 mpegts, 1 fmp4 */
    bool record, takeover;
    unsigned long burst_bytes, fanout_bytes, queue_bytes;
    unsigned stall_seconds;
    struct live_point_options live; /* the above, for src/live */
};

/* Registers the keys; call before the first configuration is read. 0 or -1. */
int broadcast_config_register(void);
/* The point's broadcast settings, NULL for an on-demand point. */
const struct broadcast_config *broadcast_config_of(const struct cfg_point *p);

#endif
