/* Access log writer: one write(2) per line on an O_APPEND descriptor, so
 * lines from many threads never interleave, and a full disk loses lines
 * (counted, and said in the event log) instead of blocking the server. */
#include "server/accesslog.h"

#include <guise/result.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct accesslog {
    char *path;
    pthread_rwlock_t lock; /* writers share; reopen is exclusive */
    int fd;
    guise_eventlog *log;
    unsigned long lost;  /* lines lost since the start (atomic) */
    int failing;         /* the last write failed (atomic) */
    long long report_at; /* monotonic second of the next "still losing" event (atomic) */
};

/* Seconds between two reminders that lines are still being lost. */
#define LOST_REMINDER_S 60

static long long mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* A line did not make it (whole): count it; the first loss after a good
 * write is an event, later ones a reminder at most once a minute. */
static void note_lost(struct accesslog *a, int err)
{
    unsigned long lost = __atomic_add_fetch(&a->lost, 1, __ATOMIC_RELAXED);
    long long now = mono_seconds();
    if (__atomic_exchange_n(&a->failing, 1, __ATOMIC_ACQ_REL) == 0) {
        __atomic_store_n(&a->report_at, now + LOST_REMINDER_S, __ATOMIC_RELAXED);
        guise_eventlog_write(a->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR,
                             GUISE_RESULT_FROM_ERRNO(err),
                             "access log %s: write failed (%s): lines are lost until it "
                             "can be written again",
                             a->path, strerrordesc_np(err));
        return;
    }
    long long at = __atomic_load_n(&a->report_at, __ATOMIC_RELAXED);
    if (now >= at && __atomic_compare_exchange_n(&a->report_at, &at, now + LOST_REMINDER_S, false,
                                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        guise_eventlog_write(a->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR,
                             GUISE_RESULT_FROM_ERRNO(err),
                             "access log %s: still failing (%s): %lu line(s) lost so far", a->path,
                             strerrordesc_np(err), lost);
}

static void note_written(struct accesslog *a)
{
    if (__atomic_load_n(&a->failing, __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&a->failing, 0, __ATOMIC_ACQ_REL))
        guise_eventlog_write(a->log, GUISE_EVENT_INFORMATION, "server", GUISE_EV_IO_ERROR,
                             GUISE_S_OK, "access log %s: written again after %lu lost line(s)",
                             a->path, __atomic_load_n(&a->lost, __ATOMIC_RELAXED));
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

struct accesslog *accesslog_open(const char *path, guise_eventlog *log)
{
    struct accesslog *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fd = -1;
    a->log = log;
    pthread_rwlock_init(&a->lock, NULL);
    if (path) {
        if (!(a->path = strdup(path)) || (a->fd = open_log(path)) < 0) {
            int e = errno;
            free(a->path);
            free(a);
            errno = e;
            return NULL;
        }
    }
    return a;
}

int accesslog_reopen(struct accesslog *a)
{
    if (!a || !a->path)
        return 0;
    int fd = open_log(a->path);
    if (fd < 0)
        return -1;
    pthread_rwlock_wrlock(&a->lock);
    int old = a->fd;
    a->fd = fd;
    pthread_rwlock_unlock(&a->lock);
    if (old >= 0)
        close(old);
    return 0;
}

/* Quotes a client-supplied field: no spaces/quotes/controls break the line. */
static void put_field(char **p, char *end, const char *s, int quoted)
{
    if (!s || !*s)
        s = "-";
    if (quoted && *p < end)
        *(*p)++ = '"';
    for (; *s && *p < end - 4; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (!quoted && c == ' ')) {
            *p += snprintf(*p, (size_t)(end - *p), "\\x%02x", c);
        } else {
            *(*p)++ = (char)c;
        }
    }
    if (quoted && *p < end)
        *(*p)++ = '"';
    if (*p < end)
        *(*p)++ = ' ';
}

void accesslog_write(struct accesslog *a, const struct access_entry *e)
{
    if (!a || a->fd < 0)
        return;
    char line[4096], ts[64];
    char *p = line, *end = line + sizeof line - 2;
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    localtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "[%d/%b/%Y:%H:%M:%S %z]", &tm);
    put_field(&p, end, e->client, 0);
    put_field(&p, end, e->user, 0);
    put_field(&p, end, e->account, 0);
    p += snprintf(p, (size_t)(end - p), "%s ", ts);
    char req[2048];
    snprintf(req, sizeof req, "%s %s %s", e->method ? e->method : "-", e->target ? e->target : "-",
             e->proto ? e->proto : "-");
    put_field(&p, end, req, 1);
    p += snprintf(p, (size_t)(end - p), "%u %llu ", e->status, (unsigned long long)e->bytes);
    put_field(&p, end, e->referer, 1);
    put_field(&p, end, e->agent, 1);
    put_field(&p, end, e->scheme, 0);
    put_field(&p, end, e->point, 0);
    if (p > end)
        p = end;
    p += snprintf(p, (size_t)(end + 2 - p), "%llu\n", (unsigned long long)e->micros);
    size_t len = (size_t)(p - line);
    pthread_rwlock_rdlock(&a->lock);
    ssize_t n = write(a->fd, line, len);
    int err = n < 0 ? errno : ENOSPC; /* a short write: the disk filled up mid-line */
    pthread_rwlock_unlock(&a->lock);
    if (n == (ssize_t)len)
        note_written(a);
    else
        note_lost(a, err);
}

void accesslog_close(struct accesslog *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    pthread_rwlock_destroy(&a->lock);
    free(a->path);
    free(a);
}
