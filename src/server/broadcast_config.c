/* Broadcast point keys (see broadcast_config.h). */
#include "server/broadcast_config.h"

#include "server/config_keys.h"

#include <stddef.h>

static const char *const type_names[] = {"on-demand", "broadcast", NULL};
static const char *const source_names[] = {"push", NULL};
static const char *const segment_names[] = {"mpegts", "fmp4", NULL};

#define BC(member) offsetof(struct broadcast_config, member)
static const struct cfg_key keys[] = {
    {"type", CFG_ENUM, 0, BC(type), 0, 0, "on-demand or broadcast", type_names, NULL, 0},
    {"source", CFG_ENUM, 0, BC(source), 0, 0, "push (pull and playlist sources are not built yet)",
     source_names, NULL, 0},
    {"hls-segment-seconds", CFG_UINT, 0, BC(segment_seconds), 1, 60, NULL, NULL, NULL, 0},
    {"hls-window", CFG_UINT, 0, BC(window), 2, 50, NULL, NULL, NULL, 0},
    {"hls-segment-type", CFG_ENUM, 0, BC(segment_type), 0, 0, "mpegts or fmp4", segment_names, NULL,
     0},
    {"record", CFG_BOOL, 0, BC(record), 0, 0, NULL, NULL, NULL, 0},
    {"takeover", CFG_BOOL, 0, BC(takeover), 0, 0, NULL, NULL, NULL, 0},
    {"burst-bytes", CFG_ULONG, 0, BC(burst_bytes), 0, 16ul << 20, NULL, NULL, NULL, 0},
    {"fanout-bytes", CFG_ULONG, 0, BC(fanout_bytes), 16384, 256ul << 20, NULL, NULL, NULL, 0},
    {"ingest-queue-bytes", CFG_ULONG, 0, BC(queue_bytes), 4096, 64ul << 20, NULL, NULL, NULL, 0},
    {"stall-timeout", CFG_UINT, 0, BC(stall_seconds), 1, 3600, NULL, NULL, NULL, 0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};
#undef BC

static void defaults(void *values)
{
    struct broadcast_config *b = values;
    live_point_options_default(&b->live);
    b->segment_seconds = b->live.segment_seconds;
    b->window = b->live.window;
    b->burst_bytes = b->live.burst_bytes;
    b->fanout_bytes = b->live.ring_bytes;
    b->queue_bytes = b->live.queue_bytes;
    b->stall_seconds = b->live.stall_seconds;
}

static int check(const char *point, void *values, char *why, size_t whysz)
{
    struct broadcast_config *b = values;
    b->live = (struct live_point_options){
        .segment_seconds = b->segment_seconds,
        .window = b->window,
        .fmp4 = b->segment_type == 1,
        .record = b->record,
        .takeover = b->takeover,
        .burst_bytes = b->burst_bytes,
        .ring_bytes = b->fanout_bytes,
        .queue_bytes = b->queue_bytes,
        .stall_seconds = b->stall_seconds,
    };
    return 0;
}

static const struct cfg_point_keys broadcast_keys = {
    .owner = "live",
    .keys = keys,
    .size = sizeof(struct broadcast_config),
    .defaults = defaults,
    .check = check,
};

int broadcast_config_register(void)
{
    return guise_config_register_point_keys(&broadcast_keys);
}

const struct broadcast_config *broadcast_config_of(const struct cfg_point *p)
{
    const struct broadcast_config *b = p ? guise_config_point_values(p, &broadcast_keys) : NULL;
    return b && b->type == 1 ? b : NULL;
}
