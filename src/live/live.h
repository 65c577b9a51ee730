/* Broadcast publishing points: the live state of every point, kept by the
 * server across configuration reloads (a SIGHUP never cuts a stream).
 *
 * The server authenticates and authorizes a publisher (the WRITE event)
 * like any request, then asks the hub to admit it (live_publish): one
 * publisher per point (a second is refused, or replaces the first with
 * takeover), a content type the point takes, and - before a byte of the
 * body is read - a file created as the publisher in the point's directory,
 * so the kernel's refusal is a 403 up front. The request body then feeds
 * the publisher's ingest queue (live_publisher_upload) with back-pressure:
 * the connection is suspended while the queue is full. A thread per
 * publisher demuxes and remuxes (stream.h) into HLS files, the recording
 * and the fan-out ring that progressive listeners (live_listen) read.
 *
 * Viewers of the HLS files are not served here: they are plain files in
 * the point's directory, opened as each viewer's own account by the
 * on-demand path. */
#ifndef GUISE_LIVE_LIVE_H
#define GUISE_LIVE_LIVE_H

#include "live/files.h"
#include "live/options.h"

#include <guise/events.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Event ids of the live subsystem (source "live"). */
enum {
    LIVE_EV_PUBLISHER_CONNECTED = 500,
    LIVE_EV_PUBLISHER_REFUSED = 501,
    LIVE_EV_PUBLISHER_DISCONNECTED = 502,
    LIVE_EV_LISTENER_DROPPED = 503,
};

struct live_hub;
struct live_publisher;

struct live_hub *live_hub_new(guise_eventlog *log);
/* Ends every stream (publishers are answered, listeners get the end of the
 * stream, recordings are closed) and waits up to timeout_ms for the
 * threads to finish. For SIGTERM; the hub stays usable (all offline). */
void live_hub_stop_all(struct live_hub *hub, const char *why, unsigned timeout_ms);
/* After live_hub_stop_all. */
void live_hub_free(struct live_hub *hub);

enum live_admit {
    LIVE_ADMIT_OK,
    LIVE_ADMIT_BUSY,        /* 409: the point has a publisher */
    LIVE_ADMIT_UNSUPPORTED, /* 415: a content type broadcast points do not take */
    LIVE_ADMIT_REFUSED,     /* 403: the kernel refused creating a file as the publisher */
    LIVE_ADMIT_STOPPING,    /* 503: the server is stopping */
    LIVE_ADMIT_ERROR,       /* 500 */
};

struct live_publish_request {
    const char *point;
    const struct live_point_options *opt;
    const char *content_type; /* NULL: none sent */
    /* Creates files as the publisher beneath the point's directory; the
     * hub calls fs_free(fs.cls) once the stream no longer needs it. */
    struct live_fs fs;
    void (*fs_free)(void *cls);
    const char *user, *account, *client_ip;
    const char *agent; /* User-Agent, or an Icecast source's ice-name */
    /* An Icecast source's ice-name, ice-description, ice-genre (NULL: not
     * sent): the listeners' icy-* headers and the ICY StreamTitle. */
    const char *ice_name, *ice_description, *ice_genre;
    int conn_fd; /* the socket, shut down to cut a stalled publisher */
    struct MHD_Connection *mc;
};

/* Admits a publisher. On LIVE_ADMIT_OK *out holds the request's
 * reference; otherwise why says it for the answer's body (an event has
 * been logged) and fs_free has been called. */
enum live_admit live_publish(struct live_hub *hub, const struct live_publish_request *rq,
                             struct live_publisher **out, char *why, size_t whysz);

/* Feeds the body. Takes what the queue holds and leaves the rest in
 * *size; when the queue is full the connection is suspended and resumed
 * once the demuxer drained it (or the stream ended). Returns false once
 * the stream has ended: answer with live_publisher_answer. Call it from
 * libmicrohttpd's access handler only. */
bool live_publisher_upload(struct live_publisher *p, const char *data, size_t *size);
/* The body is complete (the handler's last call): the demuxer reads the
 * rest, then ends the stream with #EXT-X-ENDLIST. Returns true when the
 * stream has ended (answer now); otherwise the connection is suspended
 * and resumed once it has, so that the answer says how it ended. */
bool live_publisher_finish(struct live_publisher *p);
/* The status and a sentence for the publisher once its stream ended (or
 * its body is complete): 200, 400 (not the stream it claimed), 403 (a
 * file the kernel refused), 409 (replaced by another publisher), 408
 * (stalled), 503 (server stopping). */
unsigned live_publisher_answer(struct live_publisher *p, char *why, size_t whysz);
/* The request is over (answered, or its connection died): a stream still
 * reading is stopped ("the publisher vanished"). Drops the reference. */
void live_publisher_release(struct live_publisher *p);

/* A progressive listener of point: a response streaming the live bytes
 * (its Content-Type set) after a burst, or NULL with *status (404: no such
 * broadcast point, 503: offline) and why. user and client_ip name the
 * listener in events. icy: the listener sent "Icy-MetaData: 1"; an audio
 * stream then carries Icecast's in-band metadata every LIVE_ICY_METAINT
 * bytes (the StreamTitle is the source's ice-name). */
#define LIVE_ICY_METAINT 16000
struct MHD_Response *live_listen(struct live_hub *hub, const char *point,
                                 const struct live_point_options *opt, struct MHD_Connection *mc,
                                 const char *user, const char *client_ip, bool icy,
                                 unsigned *status, char *why, size_t whysz);

/* What the admin interface shows of one point. */
struct live_point_info {
    bool live;
    time_t since; /* live since, or offline since (0: never live) */
    char last_end[300];
    char user[128], account[128], client_ip[48], agent[128];
    char format[16], codecs[128];
    uint64_t bytes_in, bytes_out, segments_written, listeners_dropped, publishes;
    long listeners;
    uint64_t publisher_id;
};
/* false when the point was never seen by the hub (nothing published). */
bool live_point_info(struct live_hub *hub, const char *point, struct live_point_info *out);
/* Cuts the point's publisher (admin): 0, or -1 when none. */
int live_disconnect_publisher(struct live_hub *hub, const char *point, const char *why);

#endif
