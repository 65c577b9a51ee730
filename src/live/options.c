/* Defaults of a broadcast point's settings (see options.h). */
#include "live/options.h"

void live_point_options_default(struct live_point_options *o)
{
    *o = (struct live_point_options){
        .segment_seconds = 2,
        .window = 6,
        .burst_bytes = 64 * 1024,
        .ring_bytes = 4u << 20,
        .queue_bytes = 1u << 20,
        .stall_seconds = 10,
    };
}
