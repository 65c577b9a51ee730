/* The stream formats a broadcast point accepts, by the Content-Type a
 * publisher sends and by what libavformat's demuxer found. Pure functions. */
#ifndef GUISE_LIVE_FORMAT_H
#define GUISE_LIVE_FORMAT_H

struct live_format {
    const char *demuxer;   /* libavformat input format name */
    const char *muxer;     /* the progressive stream's (and recording's) muxer */
    const char *mime;      /* Content-Type of the progressive stream */
    const char *extension; /* of the recording */
    int video;             /* may carry video (HLS with video) */
};

/* The format for a request's Content-Type (parameters and case ignored).
 * No Content-Type, or application/octet-stream, means "probe what comes":
 * *probe is set and NULL returned. Returns
 * NULL with *probe clear for a type no broadcast point takes (415). */
const struct live_format *live_format_for_type(const char *content_type, int *probe);
/* The format whose demuxer libavformat names demuxer ("mpegts", "mp3",
 * "aac", "ogg"), NULL when broadcast points do not take it. */
const struct live_format *live_format_for_demuxer(const char *demuxer);

#endif
