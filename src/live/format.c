/* Content types and demuxers of live streams (see format.h). */
#include "live/format.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct live_format formats[] = {
    {"mpegts", "mpegts", "video/mp2t", "ts", 1},
    {"mp3", "mp3", "audio/mpeg", "mp3", 0},
    {"aac", "adts", "audio/aac", "aac", 0},
    {"ogg", "ogg", "audio/ogg", "ogg", 0},
};

static const struct {
    const char *type;
    size_t format;
} types[] = {
    {"video/mp2t", 0},   {"video/mpeg", 0},  {"video/mpegts", 0},    {"audio/mpeg", 1},
    {"audio/mp3", 1},    {"audio/mpeg3", 1}, {"audio/aac", 2},       {"audio/aacp", 2},
    {"audio/x-aac", 2},  {"audio/ogg", 3},   {"application/ogg", 3}, {"audio/opus", 3},
    {"audio/vorbis", 3}, {"video/ogg", 3},
};

const struct live_format *live_format_for_type(const char *content_type, int *probe)
{
    *probe = 0;
    if (!content_type) {
        *probe = 1;
        return NULL;
    }
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strcspn(content_type, "; \t");
    if (!n || (n == 24 && !strncasecmp(content_type, "application/octet-stream", n))) {
        *probe = 1;
        return NULL;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == n && !strncasecmp(types[i].type, content_type, n))
            return &formats[types[i].format];
    return NULL;
}

const struct live_format *live_format_for_demuxer(const char *demuxer)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (demuxer && !strcmp(formats[i].demuxer, demuxer))
            return &formats[i];
    return NULL;
}
