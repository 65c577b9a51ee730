/* Ends answers whose file shrank while it was being sent (see
 * shrink_watch.h for why libmicrohttpd needs this). */
#include "server/shrink_watch.h"
#include "server/request.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct shrink_watch {
    struct server *srv;
    unsigned interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

void shrink_watch_conn_stream(struct server *srv, struct conn *c, int fd, uint64_t end,
                              const char *what)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return; /* not watched: idle-timeout remains the backstop */
    pthread_mutex_lock(&srv->conns_lock);
    int old = c->stream_fd;
    c->streaming = true;
    c->stream_fd = dfd;
    c->stream_end = end;
    snprintf(c->stream_what, sizeof c->stream_what, "%s", what);
    pthread_mutex_unlock(&srv->conns_lock);
    if (old >= 0)
        close(old);
}

void shrink_watch_conn_done(struct server *srv, struct conn *c)
{
    if (!c->streaming) /* owned by this connection's thread: no lock */
        return;
    c->streaming = false;
    pthread_mutex_lock(&srv->conns_lock);
    int fd = c->stream_fd;
    c->stream_fd = -1;
    pthread_mutex_unlock(&srv->conns_lock);
    if (fd >= 0)
        close(fd);
}

struct shrunk {
    char client[48], what[160];
    uint64_t size, end;
};

/* One pass over the live connections: shuts down every one whose streamed
 * file shrank below the promised end, then logs them (outside the lock). */
static void shrink_watch_scan(struct server *srv)
{
    struct shrunk found[16];
    unsigned n = 0;
    pthread_mutex_lock(&srv->conns_lock);
    for (struct conn *c = srv->conns; c; c = c->next) {
        if (c->stream_fd < 0)
            continue;
        struct stat st;
        if (fstat(c->stream_fd, &st) != 0 || (uint64_t)st.st_size >= c->stream_end)
            continue;
        /* libmicrohttpd sees the end of the stream and closes it itself;
         * the descriptor is released when the answer ends. */
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
        if (n < sizeof found / sizeof found[0]) {
            snprintf(found[n].client, sizeof found[n].client, "%s", c->client_ip);
            snprintf(found[n].what, sizeof found[n].what, "%s", c->stream_what);
            found[n].size = (uint64_t)st.st_size;
            found[n].end = c->stream_end;
            n++;
        }
        int fd = c->stream_fd;
        c->stream_fd = -1;
        close(fd);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    for (unsigned i = 0; i < n; i++)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR,
                             GUISE_RESULT_FROM_ERRNO(EIO),
                             "client %s: %.160s shrank to %" PRIu64
                             " bytes while being sent (the answer promised bytes up to %" PRIu64
                             "): connection closed",
                             found[i].client, found[i].what, found[i].size, found[i].end);
}

static void *watch_main(void *arg)
{
    struct shrink_watch *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += w->interval_ms / 1000;
        until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
            ;
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        shrink_watch_scan(w->srv);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct shrink_watch *shrink_watch_start(struct server *srv, unsigned interval_ms)
{
    struct shrink_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->srv = srv;
    w->interval_ms = interval_ms ? interval_ms : 1000;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void shrink_watch_stop(struct shrink_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
