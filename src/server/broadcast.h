/* guised's side of broadcast publishing points (src/live): which requests
 * are a publisher's (PUT, POST or SOURCE on a broadcast point) and which a
 * progressive listener's (GET POINT/live), the content phase of both after
 * the pipeline has authenticated and authorized them, and the publisher's
 * body. HLS viewers need nothing here: the playlist and segments are files
 * of the point, served by the on-demand path as the viewer. */
#ifndef GUISE_SERVER_BROADCAST_H
#define GUISE_SERVER_BROADCAST_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct request;

enum live_kind {
    LIVE_NONE = 0,
    LIVE_INGEST, /* a publisher: authorized for GUISE_AUTHZ_WRITE */
    LIVE_LISTEN, /* a progressive listener: GUISE_AUTHZ_READ */
};

/* Cache-Control of a broadcast point's HLS files, chosen at routing: the
 * live playlist changes every segment (no-cache, never from the small-file
 * cache), a segment's name is never reused (immutable). */
enum live_cache {
    LIVE_CACHE_NONE = 0,
    LIVE_CACHE_PLAYLIST,
    LIVE_CACHE_SEGMENT,
};

/* The progressive stream's name inside a broadcast point. */
#define BROADCAST_LIVE_NAME "live"
/* The live playlist the stream writes (src/live/stream.c). */
#define BROADCAST_PLAYLIST "index.m3u8"

/* PUT, POST and SOURCE (Icecast's legacy method). */
bool broadcast_ingest_method(const char *method);
/* Called by routing once the point is known: marks live requests (their
 * authorization event, content phase and body consumer: request.h) and
 * the caching of the HLS files, refuses a publishing method anywhere else
 * (405) and below the point (404). false when the request was answered. */
bool broadcast_route(struct request *r);
/* A publisher is authenticated before its body is read (routing's first
 * call starts the pipeline for it). */
bool broadcast_is_ingest(const struct request *r);
/* The request is over (request_completed): releases the publisher. */
void broadcast_request_done(struct request *r);

#endif
