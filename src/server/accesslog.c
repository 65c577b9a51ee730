/* Access log writer: one write(2) per line on an O_APPEND descriptor, so
 * lines from many threads never interleave, and a full disk loses lines
 * (counted) instead of blocking the server. */
#include "server/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct accesslog {
    char *path;
    pthread_rwlock_t lock; /* writers share; reopen is exclusive */
    int fd;
    unsigned long lost;
};

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

struct accesslog *accesslog_open(const char *path)
{
    struct accesslog *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fd = -1;
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
    pthread_rwlock_rdlock(&a->lock);
    if (write(a->fd, line, (size_t)(p - line)) < 0)
        __atomic_add_fetch(&a->lost, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&a->lock);
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
