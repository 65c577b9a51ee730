/* Configuration files re-read when they change. */
#include "plugins/common/watched_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

guise_result pk_file_read(const char *path, size_t max, char **data, size_t *len, struct stat *st,
                          char *err, size_t err_size)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_size, "%s: %s", path, strerror(e));
        return GUISE_RESULT_FROM_ERRNO(e);
    }
    guise_result r = GUISE_S_OK;
    char *buf = NULL;
    if (fstat(fd, st) != 0) {
        r = GUISE_RESULT_FROM_ERRNO(errno);
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st->st_mode)) {
        r = GUISE_E_BAD_FORMAT;
        snprintf(err, err_size, "%s: not a regular file", path);
    } else if ((uintmax_t)st->st_size > max) {
        r = GUISE_E_BAD_FORMAT;
        snprintf(err, err_size, "%s: larger than %zu bytes", path, max);
    } else if (!(buf = malloc((size_t)st->st_size + 1))) {
        r = GUISE_E_OUTOFMEMORY;
        snprintf(err, err_size, "%s: out of memory", path);
    }
    /* Read up to the size fstat gave; a file growing meanwhile is read again
     * on the next change. */
    size_t got = 0;
    while (r == GUISE_S_OK && got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = GUISE_RESULT_FROM_ERRNO(errno);
            snprintf(err, err_size, "%s: %s", path, strerror(errno));
        } else if (n == 0) {
            break;
        } else {
            got += (size_t)n;
        }
    }
    close(fd);
    if (r != GUISE_S_OK) {
        free(buf);
        return r;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return GUISE_S_OK;
}

uint64_t pk_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pk_file_watch_init(struct pk_file_watch *w)
{
    memset(w, 0, sizeof *w);
}

void pk_file_watch_seen(struct pk_file_watch *w, const struct stat *st)
{
    w->present = true;
    w->dev = st->st_dev;
    w->ino = st->st_ino;
    w->size = st->st_size;
    w->mtime = st->st_mtim;
    w->ctime = st->st_ctim;
}

void pk_file_watch_stat(struct pk_file_watch *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        pk_file_watch_seen(w, &st);
    else
        w->present = false;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool pk_file_watch_poll(struct pk_file_watch *w, const char *path, unsigned interval_ms)
{
    uint64_t now = pk_monotonic_ms();
    if (now < w->next_check_ms)
        return false;
    w->next_check_ms = now + interval_ms;
    struct stat st;
    if (stat(path, &st) != 0) {
        /* Gone: a change if it was there. Still missing is no news. */
        return w->present;
    }
    if (!w->present)
        return true;
    return st.st_dev != w->dev || st.st_ino != w->ino || st.st_size != w->size ||
           !same_time(&st.st_mtim, &w->mtime) || !same_time(&st.st_ctim, &w->ctime);
}
