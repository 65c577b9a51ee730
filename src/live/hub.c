/* The live state of broadcast points (see live.h): admission of
 * publishers, the body's way into the ingest queue, stream endings, and
 * progressive listeners reading the fan-out ring. */
#include "live/live.h"

#include "live/format.h"
#include "live/queue.h"
#include "live/ring.h"
#include "live/stream.h"

#include <libavutil/log.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SRC             "live"
#define LISTENER_SNDBUF (256 * 1024)
/* Listeners waiting at the live edge are resumed per 4 KiB of stream (a
 * quarter of a second of 128 kbit/s audio, 30 ms of 1 Mbit/s video). */
#define LISTENER_WAKE_BYTES 4096

struct live_point {
    struct live_point *next;
    char name[128];
    struct live_publisher *pub;     /* streaming (or about to) */
    struct live_publisher *waiting; /* a takeover waiting for pub's stream to end */
    time_t since;
    char last_end[300];
    struct live_files files; /* the segment list survives publishers */
    _Atomic uint64_t bytes_out, dropped, publishes;
    _Atomic long listeners;
};

struct live_hub {
    guise_eventlog *log;
    pthread_mutex_t mu;
    pthread_cond_t idle; /* signalled when a stream ends */
    struct live_point *points;
    long running;
    uint64_t next_id;
    bool stopping; /* live_hub_stop_all: no new publisher */
};

struct live_publisher {
    _Atomic long refs;
    struct live_hub *hub;
    struct live_point *pt;
    uint64_t id;
    struct live_point_options opt;
    const struct live_format *fmt;
    struct live_queue *q;
    struct live_ring *ring;
    struct live_stream_stats stats;
    struct live_fs fs;
    void (*fs_free)(void *cls);
    char user[128], account[128], client_ip[48], agent[128];
    char ice_name[128], ice_description[256], ice_genre[64];
    time_t since;

    pthread_mutex_t mu; /* everything below */
    struct MHD_Connection *mc;
    int conn_fd;
    bool suspended, wake_pending, finished, released, started;
    bool ended;
    enum live_end why;
    char detail[256];
    int last_errno;
    const char *stop_reason; /* set before the queue is aborted by the hub */
    char stop_buf[256];      /* stop_reason's copy */
    unsigned stop_status;
};

struct live_hub *live_hub_new(guise_eventlog *log)
{
    struct live_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->log = log;
    /* Why a stream ended is an event of ours; libavformat's own messages
     * (a resync per garbage packet) only on request. */
    if (!getenv("GUISE_AV_LOG"))
        av_log_set_level(AV_LOG_FATAL);
    pthread_mutex_init(&hub->mu, NULL);
    pthread_cond_init(&hub->idle, NULL);
    return hub;
}

static void pub_unref(struct live_publisher *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    live_queue_free(p->q);
    live_ring_unref(p->ring);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Stops p's stream (hub lock held or not: only p->mu is taken). */
static void pub_stop(struct live_publisher *p, const char *reason, unsigned status, bool cut)
{
    pthread_mutex_lock(&p->mu);
    if (!p->stop_reason) {
        snprintf(p->stop_buf, sizeof p->stop_buf, "%s", reason);
        p->stop_reason = p->stop_buf;
        p->stop_status = status;
    }
    if (cut && p->conn_fd >= 0)
        shutdown(p->conn_fd, SHUT_RDWR);
    pthread_mutex_unlock(&p->mu);
    live_queue_abort(p->q);
}

void live_hub_stop_all(struct live_hub *hub, const char *why, unsigned timeout_ms)
{
    pthread_mutex_lock(&hub->mu);
    hub->stopping = true;
    for (struct live_point *pt = hub->points; pt; pt = pt->next) {
        if (pt->waiting)
            pub_stop(pt->waiting, why, 503, false);
        if (pt->pub)
            pub_stop(pt->pub, why, 503, false);
    }
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += timeout_ms / 1000 + 1;
    while (hub->running > 0)
        if (pthread_cond_timedwait(&hub->idle, &hub->mu, &end) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&hub->mu);
}

void live_hub_free(struct live_hub *hub)
{
    if (!hub)
        return;
    struct live_point *pt = hub->points;
    while (pt) {
        struct live_point *next = pt->next;
        live_files_clear(&pt->files);
        free(pt);
        pt = next;
    }
    pthread_mutex_destroy(&hub->mu);
    pthread_cond_destroy(&hub->idle);
    free(hub);
}

/* hub->mu held. */
static struct live_point *point_get(struct live_hub *hub, const char *name, bool create)
{
    for (struct live_point *pt = hub->points; pt; pt = pt->next)
        if (!strcmp(pt->name, name))
            return pt;
    if (!create)
        return NULL;
    struct live_point *pt = calloc(1, sizeof *pt);
    if (!pt)
        return NULL;
    snprintf(pt->name, sizeof pt->name, "%s", name);
    pt->next = hub->points;
    hub->points = pt;
    return pt;
}

/* ---- the stream's end ---- */

static void start_stream(struct live_publisher *p);

static void stream_ended(void *arg, enum live_end why, const char *detail)
{
    struct live_publisher *p = arg;
    struct live_hub *hub = p->hub;
    struct live_point *pt = p->pt;
    pthread_mutex_lock(&p->mu);
    p->ended = true;
    p->why = why;
    p->last_errno = pt->files.last_errno;
    if (why == LIVE_END_STOPPED && p->stop_reason)
        snprintf(p->detail, sizeof p->detail, "%s", p->stop_reason);
    else
        snprintf(p->detail, sizeof p->detail, "%s", detail);
    /* A stalled publisher sends nothing that would wake its request. */
    if (why == LIVE_END_STALLED && p->conn_fd >= 0)
        shutdown(p->conn_fd, SHUT_RDWR);
    /* A request waiting for the end (its body complete) is answered now. */
    if (p->suspended && p->mc) {
        p->suspended = false;
        MHD_resume_connection(p->mc);
    }
    pthread_mutex_unlock(&p->mu);

    guise_eventlog_write(
        hub->log,
        why == LIVE_END_FINISHED || why == LIVE_END_STOPPED ? GUISE_EVENT_INFORMATION
                                                            : GUISE_EVENT_WARNING,
        SRC, LIVE_EV_PUBLISHER_DISCONNECTED, GUISE_S_OK,
        "point %s: publisher %s (account %s) from %s disconnected (%s): %s", pt->name, p->user,
        p->account, p->client_ip, live_end_name(why), p->detail);
    if (p->fs_free)
        p->fs_free(p->fs.cls);
    p->fs_free = NULL;

    pthread_mutex_lock(&hub->mu);
    struct live_publisher *next = NULL;
    if (pt->pub == p) {
        pt->pub = NULL;
        pt->since = time(NULL);
        snprintf(pt->last_end, sizeof pt->last_end, "%s: %s", live_end_name(why), p->detail);
        if ((next = pt->waiting)) {
            pt->waiting = NULL;
            pt->pub = next;
        }
    }
    hub->running--;
    pthread_cond_broadcast(&hub->idle);
    if (next)
        start_stream(next); /* under the hub's lock: running is counted with it */
    pthread_mutex_unlock(&hub->mu);
    pub_unref(p); /* the stream's reference */
}

/* hub->mu held. */
static void start_stream(struct live_publisher *p)
{
    struct live_point *pt = p->pt;
    struct live_stream_options so = {
        .segment_seconds = p->opt.segment_seconds,
        .window = p->opt.window,
        .fmp4 = p->opt.fmp4,
        .record = p->opt.record,
        .stall_ms = p->opt.stall_seconds * 1000u,
    };
    pt->files.fs = p->fs;
    pt->files.keep = p->opt.window + 3;
    pt->files.last_errno = 0;
    pt->since = time(NULL);
    p->since = pt->since;
    p->started = true;
    p->hub->running++;
    atomic_fetch_add(&pt->publishes, 1);
    struct live_stream *s;
    int rc = live_stream_start(pt->name, &so, p->fmt, &pt->files, p->q, p->ring, &p->stats,
                               stream_ended, p, &s);
    if (rc) {
        p->hub->running--;
        pt->pub = NULL;
        pthread_mutex_lock(&p->mu);
        p->ended = true;
        p->why = LIVE_END_STOPPED;
        snprintf(p->detail, sizeof p->detail, "cannot start the stream's thread: %s",
                 strerror(-rc));
        pthread_mutex_unlock(&p->mu);
        live_queue_abort(p->q);
        if (p->fs_free)
            p->fs_free(p->fs.cls);
        p->fs_free = NULL;
        pub_unref(p);
    }
}

/* ---- admission ---- */

static void refused(struct live_hub *hub, const struct live_publish_request *rq, char *why,
                    size_t whysz, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void refused(struct live_hub *hub, const struct live_publish_request *rq, char *why,
                    size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    guise_eventlog_write(hub->log, GUISE_EVENT_WARNING, SRC, LIVE_EV_PUBLISHER_REFUSED,
                         GUISE_E_ACCESSDENIED,
                         "point %s: publisher %s (account %s) from %s refused: %s", rq->point,
                         rq->user ? rq->user : "-", rq->account ? rq->account : "-",
                         rq->client_ip ? rq->client_ip : "-", why);
    if (rq->fs_free)
        rq->fs_free(rq->fs.cls);
}

#define PROBE_NAME ".guise-publish-check"

enum live_admit live_publish(struct live_hub *hub, const struct live_publish_request *rq,
                             struct live_publisher **out, char *why, size_t whysz)
{
    int probe = 0;
    const struct live_format *fmt = live_format_for_type(rq->content_type, &probe);
    if (!fmt && !probe) {
        refused(hub, rq, why, whysz,
                "a broadcast point takes MPEG-TS (video/mp2t), MP3 (audio/mpeg), AAC "
                "(audio/aac) or Ogg (audio/ogg), not %.80s",
                rq->content_type);
        return LIVE_ADMIT_UNSUPPORTED;
    }
    /* The kernel decides first: a file created as the publisher. */
    int fd = rq->fs.create(rq->fs.cls, PROBE_NAME);
    if (fd < 0) {
        refused(hub, rq, why, whysz,
                "the kernel refused creating a file in the point's directory as account %s: %s",
                rq->account ? rq->account : "-", strerror(-fd));
        return LIVE_ADMIT_REFUSED;
    }
    close(fd);
    rq->fs.unlink(rq->fs.cls, PROBE_NAME);

    struct live_publisher *p = calloc(1, sizeof *p);
    if (p) {
        p->q = live_queue_new(rq->opt->queue_bytes);
        size_t ring = rq->opt->ring_bytes;
        if (ring < 2 * rq->opt->burst_bytes)
            ring = 2 * rq->opt->burst_bytes;
        p->ring = live_ring_new(ring, LISTENER_WAKE_BYTES);
    }
    if (!p || !p->q || !p->ring) {
        if (p) {
            live_queue_free(p->q);
            live_ring_unref(p->ring);
            free(p);
        }
        refused(hub, rq, why, whysz, "out of memory");
        return LIVE_ADMIT_ERROR;
    }
    p->refs = 2; /* the request's and the stream's */
    p->hub = hub;
    p->opt = *rq->opt;
    p->fmt = fmt;
    p->fs = rq->fs;
    p->fs_free = rq->fs_free;
    p->mc = rq->mc;
    p->conn_fd = rq->conn_fd;
    snprintf(p->user, sizeof p->user, "%s", rq->user ? rq->user : "-");
    snprintf(p->account, sizeof p->account, "%s", rq->account ? rq->account : "-");
    snprintf(p->client_ip, sizeof p->client_ip, "%s", rq->client_ip ? rq->client_ip : "-");
    snprintf(p->agent, sizeof p->agent, "%s", rq->agent ? rq->agent : "");
    snprintf(p->ice_name, sizeof p->ice_name, "%s", rq->ice_name ? rq->ice_name : "");
    snprintf(p->ice_description, sizeof p->ice_description, "%s",
             rq->ice_description ? rq->ice_description : "");
    snprintf(p->ice_genre, sizeof p->ice_genre, "%s", rq->ice_genre ? rq->ice_genre : "");
    pthread_mutex_init(&p->mu, NULL);

    pthread_mutex_lock(&hub->mu);
    struct live_point *pt = point_get(hub, rq->point, true);
    if (!pt) {
        pthread_mutex_unlock(&hub->mu);
        p->fs_free = NULL;
        pub_unref(p);
        pub_unref(p);
        refused(hub, rq, why, whysz, "out of memory");
        return LIVE_ADMIT_ERROR;
    }
    p->pt = pt;
    p->id = ++hub->next_id;
    if (hub->stopping) {
        pthread_mutex_unlock(&hub->mu);
        p->fs_free = NULL;
        pub_unref(p);
        pub_unref(p);
        refused(hub, rq, why, whysz, "the server is stopping");
        return LIVE_ADMIT_STOPPING;
    }
    if (pt->pub && (!rq->opt->takeover || pt->waiting)) {
        struct live_publisher *cur = pt->pub;
        char who[320];
        snprintf(who, sizeof who, "%s (account %s) from %s", cur->user, cur->account,
                 cur->client_ip);
        pthread_mutex_unlock(&hub->mu);
        p->fs_free = NULL;
        pub_unref(p);
        pub_unref(p);
        refused(hub, rq, why, whysz, "the point already has a publisher: %s", who);
        return LIVE_ADMIT_BUSY;
    }
    if (pt->pub) {
        /* takeover: the new publisher's stream starts when the old one's
         * has closed its files (two muxers never write one playlist). */
        pt->waiting = p;
        guise_eventlog_write(hub->log, GUISE_EVENT_INFORMATION, SRC, LIVE_EV_PUBLISHER_CONNECTED,
                             GUISE_S_OK,
                             "point %s: publisher %s (account %s) from %s takes over from %s",
                             pt->name, p->user, p->account, p->client_ip, pt->pub->user);
        pub_stop(pt->pub, "replaced by another publisher (takeover)", 409, false);
    } else {
        pt->pub = p;
        guise_eventlog_write(hub->log, GUISE_EVENT_INFORMATION, SRC, LIVE_EV_PUBLISHER_CONNECTED,
                             GUISE_S_OK, "point %s: publisher %s (account %s) from %s connected",
                             pt->name, p->user, p->account, p->client_ip);
        start_stream(p);
    }
    pthread_mutex_unlock(&hub->mu);
    *out = p;
    return LIVE_ADMIT_OK;
}

/* ---- the body ---- */

/* The queue has room again (or the stream ended): called on the stream's
 * thread. */
static void upload_wake(void *arg)
{
    struct live_publisher *p = arg;
    pthread_mutex_lock(&p->mu);
    if (p->suspended && p->mc) {
        p->suspended = false;
        MHD_resume_connection(p->mc);
    } else
        p->wake_pending = true;
    pthread_mutex_unlock(&p->mu);
}

bool live_publisher_upload(struct live_publisher *p, const char *data, size_t *size)
{
    for (;;) {
        if (live_queue_aborted(p->q))
            return false;
        size_t n = live_queue_push(p->q, data, *size, upload_wake, p);
        data += n;
        *size -= n;
        if (!*size)
            return true;
        pthread_mutex_lock(&p->mu);
        if (p->wake_pending) {
            p->wake_pending = false;
            pthread_mutex_unlock(&p->mu);
            continue;
        }
        p->suspended = true;
        MHD_suspend_connection(p->mc);
        pthread_mutex_unlock(&p->mu);
        return true;
    }
}

bool live_publisher_finish(struct live_publisher *p)
{
    pthread_mutex_lock(&p->mu);
    bool first = !p->finished;
    p->finished = true;
    pthread_mutex_unlock(&p->mu);
    if (first)
        live_queue_finish(p->q);
    pthread_mutex_lock(&p->mu);
    bool ended = p->ended;
    if (!ended && p->mc) {
        p->suspended = true;
        p->wake_pending = false;
        MHD_suspend_connection(p->mc);
    }
    pthread_mutex_unlock(&p->mu);
    return ended;
}

unsigned live_publisher_answer(struct live_publisher *p, char *why, size_t whysz)
{
    pthread_mutex_lock(&p->mu);
    unsigned status = 200;
    if (!p->ended) {
        snprintf(why, whysz, "The stream was received; the point goes offline once it is written.");
    } else {
        snprintf(why, whysz, "%s", p->detail);
        switch (p->why) {
        case LIVE_END_FINISHED:
            break;
        case LIVE_END_STOPPED:
            status = p->stop_status ? p->stop_status : 503;
            break;
        case LIVE_END_STALLED:
            status = 408;
            break;
        case LIVE_END_BAD_STREAM:
            status = 400;
            break;
        case LIVE_END_WRITE:
            status = p->last_errno == EACCES || p->last_errno == EPERM    ? 403
                     : p->last_errno == ENOSPC || p->last_errno == EDQUOT ? 507
                                                                          : 500;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return status;
}

void live_publisher_release(struct live_publisher *p)
{
    if (!p)
        return;
    struct live_hub *hub = p->hub;
    pthread_mutex_lock(&p->mu);
    p->mc = NULL;
    p->conn_fd = -1;
    p->released = true;
    bool stop = !p->finished && !p->ended;
    pthread_mutex_unlock(&p->mu);
    if (stop) {
        pub_stop(p, "the publisher's connection closed", 0, false);
        /* A takeover still waiting never started its stream. */
        pthread_mutex_lock(&hub->mu);
        bool waiting = p->pt->waiting == p;
        if (waiting)
            p->pt->waiting = NULL;
        pthread_mutex_unlock(&hub->mu);
        if (waiting) {
            if (p->fs_free)
                p->fs_free(p->fs.cls);
            p->fs_free = NULL;
            pub_unref(p); /* the stream's, never taken */
        }
    }
    pub_unref(p);
}

/* ---- progressive listeners ---- */

struct listener {
    struct live_hub *hub;
    struct live_point *pt;
    struct live_publisher *p;
    struct live_ring *ring;
    struct live_reader rd;
    struct MHD_Connection *mc;
    int fd;
    bool dropped; /* under the ring's lock */
    char user[128], client_ip[48];
    /* ICY metadata (Icy-MetaData: 1): stream bytes left before the next
     * block, and the block being sent (a length byte in 16-byte units,
     * then "StreamTitle='...';" padded with NULs; a lone 0 byte when the
     * title has not changed since the last block). */
    size_t metaint, meta_left;
    bool meta_sent;
    char title[160];
    unsigned char block[1 + 255 * 16];
    size_t block_len, block_off;
};

/* The next ICY block: the title once, then empty blocks (Icecast sends
 * the title again only when it changes). A quote in the title cannot be
 * escaped in this format: it becomes a blank. */
static void icy_block(struct listener *l)
{
    memset(l->block, 0, sizeof l->block);
    size_t len = 0;
    if (!l->meta_sent) {
        char text[sizeof l->title + 20];
        int n = snprintf(text, sizeof text, "StreamTitle='%s';", l->title);
        len = n > 0 ? (size_t)n : 0;
        if (len > 255 * 16)
            len = 255 * 16;
        memcpy(l->block + 1, text, len);
        l->meta_sent = true;
    }
    size_t units = (len + 15) / 16;
    l->block[0] = (unsigned char)units;
    l->block_len = 1 + units * 16;
    l->block_off = 0;
}

/* A listener too slow for the stream: counted and logged once. Called
 * under the ring's lock (by the writer or by the listener's own read). */
static void listener_dropped(struct listener *l)
{
    if (l->dropped)
        return;
    l->dropped = true;
    atomic_fetch_add(&l->pt->dropped, 1);
    guise_eventlog_write(l->hub->log, GUISE_EVENT_WARNING, SRC, LIVE_EV_LISTENER_DROPPED,
                         GUISE_S_OK,
                         "point %s: listener %s from %s dropped: too slow for the stream",
                         l->pt->name, l->user, l->client_ip);
}

/* The writer left the listener behind: its connection is ended (it may
 * never ask for more bytes while its socket does not drain). The response
 * - and this listener - lives until libmicrohttpd has closed the
 * connection, and its free callback stops the reader under the same lock,
 * so the descriptor is still the connection's. */
static void listener_drop(void *arg)
{
    struct listener *l = arg;
    listener_dropped(l);
    if (l->fd >= 0)
        shutdown(l->fd, SHUT_RDWR);
}

static void listener_park(void *arg)
{
    struct listener *l = arg;
    MHD_suspend_connection(l->mc);
}

static void listener_wake(void *arg)
{
    struct listener *l = arg;
    MHD_resume_connection(l->mc);
}

static ssize_t listener_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct listener *l = cls;
    if (l->block_off < l->block_len) { /* an ICY block is due */
        size_t k = l->block_len - l->block_off;
        if (k > max)
            k = max;
        memcpy(buf, l->block + l->block_off, k);
        l->block_off += k;
        return (ssize_t)k;
    }
    if (l->metaint && max > l->meta_left)
        max = l->meta_left;
    ssize_t n = live_ring_read(l->ring, &l->rd, buf, max, listener_park);
    if (n > 0) {
        atomic_fetch_add_explicit(&l->pt->bytes_out, (uint64_t)n, memory_order_relaxed);
        if (l->metaint && (l->meta_left -= (size_t)n) == 0) {
            icy_block(l);
            l->meta_left = l->metaint;
        }
        return n;
    }
    if (n == 0)
        return 0; /* parked: resumed by the next write */
    if (n == LIVE_RING_OVERRUN) {
        live_ring_lock(l->ring);
        listener_dropped(l);
        live_ring_unlock(l->ring);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void listener_free(void *cls)
{
    struct listener *l = cls;
    live_ring_reader_stop(l->ring, &l->rd);
    atomic_fetch_sub(&l->pt->listeners, 1);
    live_ring_unref(l->ring);
    pub_unref(l->p);
    free(l);
}

struct MHD_Response *live_listen(struct live_hub *hub, const char *point,
                                 const struct live_point_options *opt, struct MHD_Connection *mc,
                                 const char *user, const char *client_ip, bool icy,
                                 unsigned *status, char *why, size_t whysz)
{
    pthread_mutex_lock(&hub->mu);
    struct live_point *pt = point_get(hub, point, false);
    struct live_publisher *p = pt ? pt->pub : NULL;
    if (!p || !p->started || !atomic_load(&p->stats.probed)) {
        pthread_mutex_unlock(&hub->mu);
        *status = 503;
        snprintf(why, whysz, "The point %s is offline: no stream is being published.", point);
        return NULL;
    }
    struct listener *l = calloc(1, sizeof *l);
    if (!l) {
        pthread_mutex_unlock(&hub->mu);
        *status = 500;
        snprintf(why, whysz, "Out of memory.");
        return NULL;
    }
    atomic_fetch_add(&p->refs, 1);
    l->hub = hub;
    l->pt = pt;
    l->p = p;
    l->ring = live_ring_ref(p->ring);
    l->mc = mc;
    snprintf(l->user, sizeof l->user, "%s", user ? user : "-");
    snprintf(l->client_ip, sizeof l->client_ip, "%s", client_ip ? client_ip : "-");
    atomic_fetch_add(&pt->listeners, 1);
    const char *mime = p->fmt ? p->fmt->mime : "application/octet-stream";
    /* In-band metadata only in audio: a video player would take it for
     * stream bytes. */
    if (icy && p->fmt && !p->fmt->video) {
        l->metaint = l->meta_left = LIVE_ICY_METAINT;
        snprintf(l->title, sizeof l->title, "%s", p->ice_name[0] ? p->ice_name : point);
        for (char *c = l->title; *c; c++)
            if (*c == '\'' || (unsigned char)*c < 0x20)
                *c = ' ';
    }
    char ice_name[sizeof p->ice_name], ice_desc[sizeof p->ice_description],
        ice_genre[sizeof p->ice_genre];
    snprintf(ice_name, sizeof ice_name, "%s", p->ice_name);
    snprintf(ice_desc, sizeof ice_desc, "%s", p->ice_description);
    snprintf(ice_genre, sizeof ice_genre, "%s", p->ice_genre);
    pthread_mutex_unlock(&hub->mu);

    l->fd = -1;
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fi)
        l->fd = fi->connect_fd;
    live_ring_reader_start(l->ring, opt->burst_bytes, &l->rd, listener_wake, listener_drop, l);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                                                  listener_read, l, listener_free);
    if (!resp) {
        listener_free(l);
        *status = 500;
        snprintf(why, whysz, "Out of memory.");
        return NULL;
    }
    /* A bounded socket buffer per listener: kernel memory stays small with
     * many listeners, and one that stops reading falls out of the ring
     * (and is dropped) instead of hiding in a buffer of megabytes. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        int sndbuf = LISTENER_SNDBUF;
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, no-store");
    /* What an Icecast listener is told of the station. */
    if (ice_name[0])
        MHD_add_response_header(resp, "icy-name", ice_name);
    if (ice_desc[0])
        MHD_add_response_header(resp, "icy-description", ice_desc);
    if (ice_genre[0])
        MHD_add_response_header(resp, "icy-genre", ice_genre);
    if (l->metaint) {
        char v[16];
        snprintf(v, sizeof v, "%d", LIVE_ICY_METAINT);
        MHD_add_response_header(resp, "icy-metaint", v);
    }
    *status = 200;
    return resp;
}

/* ---- administration ---- */

bool live_point_info(struct live_hub *hub, const char *point, struct live_point_info *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&hub->mu);
    struct live_point *pt = point_get(hub, point, false);
    if (!pt) {
        pthread_mutex_unlock(&hub->mu);
        return false;
    }
    struct live_publisher *p = pt->pub;
    out->live = p && p->started;
    out->since = pt->since;
    snprintf(out->last_end, sizeof out->last_end, "%s", pt->last_end);
    out->bytes_out = atomic_load(&pt->bytes_out);
    out->listeners_dropped = atomic_load(&pt->dropped);
    out->publishes = atomic_load(&pt->publishes);
    out->listeners = atomic_load(&pt->listeners);
    out->segments_written = atomic_load(&pt->files.segments_written);
    if (out->live) {
        snprintf(out->user, sizeof out->user, "%s", p->user);
        snprintf(out->account, sizeof out->account, "%s", p->account);
        snprintf(out->client_ip, sizeof out->client_ip, "%s", p->client_ip);
        snprintf(out->agent, sizeof out->agent, "%s", p->agent);
        if (atomic_load(&p->stats.probed)) {
            snprintf(out->format, sizeof out->format, "%s", p->stats.format);
            snprintf(out->codecs, sizeof out->codecs, "%s", p->stats.codecs);
        }
        out->bytes_in = atomic_load(&p->stats.bytes_in);
        out->publisher_id = p->id;
    }
    pthread_mutex_unlock(&hub->mu);
    return true;
}

int live_disconnect_publisher(struct live_hub *hub, const char *point, const char *why)
{
    pthread_mutex_lock(&hub->mu);
    struct live_point *pt = point_get(hub, point, false);
    struct live_publisher *p = pt ? pt->pub : NULL;
    if (p)
        pub_stop(p, why, 503, true);
    pthread_mutex_unlock(&hub->mu);
    return p ? 0 : -1;
}
