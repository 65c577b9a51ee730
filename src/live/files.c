/* Files of a live stream through the io_open/io_close2 hooks of libavformat
 * (see files.h). */
#include "live/files.h"

#include <libavformat/avformat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IO_BUFFER 65536

struct open_file {
    struct live_files *lf;
    int fd;
    char name[96];
    char tmp[104]; /* non-empty: rename tmp to name when closed */
    int is_segment;
};

static int plain_create(void *cls, const char *name)
{
    int fd = openat(*(int *)cls, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    return fd >= 0 ? fd : -errno;
}

static int plain_rename(void *cls, const char *from, const char *to)
{
    return renameat(*(int *)cls, from, *(int *)cls, to) == 0 ? 0 : -errno;
}

static int plain_unlink(void *cls, const char *name)
{
    return unlinkat(*(int *)cls, name, 0) == 0 ? 0 : -errno;
}

struct live_fs live_fs_plain(int *dir_fd)
{
    return (struct live_fs){dir_fd, plain_create, plain_rename, plain_unlink};
}

int live_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > 80 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int write_fd(void *opaque, uint8_t *buf, int len)
{
    struct open_file *f = opaque;
    int done = 0;
    while (done < len) {
        ssize_t w = write(f->fd, buf + done, (size_t)(len - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            f->lf->last_errno = e;
            snprintf(f->lf->last_name, sizeof f->lf->last_name, "%s", f->name);
            return AVERROR(e);
        }
        done += (int)w;
    }
    atomic_fetch_add_explicit(&f->lf->bytes_written, (uint64_t)len, memory_order_relaxed);
    return len;
}

static int open_named(struct live_files *lf, const char *name, int atomic, AVIOContext **pb)
{
    if (!live_name_ok(name))
        return AVERROR(EINVAL);
    struct open_file *f = calloc(1, sizeof *f);
    if (!f)
        return AVERROR(ENOMEM);
    f->lf = lf;
    snprintf(f->name, sizeof f->name, "%s", name);
    if (atomic)
        snprintf(f->tmp, sizeof f->tmp, "%s.%s", name, has_suffix(name, ".m3u8") ? "tmp" : "part");
    f->is_segment = has_suffix(name, ".ts") || has_suffix(name, ".m4s");
    f->fd = lf->fs.create(lf->fs.cls, atomic ? f->tmp : f->name);
    if (f->fd < 0) {
        lf->last_errno = -f->fd;
        snprintf(lf->last_name, sizeof lf->last_name, "%s", atomic ? f->tmp : f->name);
        int e = -f->fd;
        free(f);
        return AVERROR(e);
    }
    unsigned char *buf = av_malloc(IO_BUFFER);
    *pb = buf ? avio_alloc_context(buf, IO_BUFFER, 1, f, NULL, write_fd, NULL) : NULL;
    if (!*pb) {
        av_free(buf);
        close(f->fd);
        free(f);
        return AVERROR(ENOMEM);
    }
    return 0;
}

int live_files_open(struct live_files *lf, const char *name, int atomic, AVIOContext **pb)
{
    return open_named(lf, name, atomic, pb);
}

void live_files_trim(struct live_files *lf, unsigned keep)
{
    while (lf->nsegments > keep) {
        lf->fs.unlink(lf->fs.cls, lf->segments[0]);
        free(lf->segments[0]);
        memmove(lf->segments, lf->segments + 1, (lf->nsegments - 1) * sizeof lf->segments[0]);
        lf->nsegments--;
    }
}

static void remember_segment(struct live_files *lf, const char *name)
{
    for (unsigned i = 0; i < lf->nsegments; i++)
        if (!strcmp(lf->segments[i], name))
            return;
    if (lf->nsegments == LIVE_MAX_SEGMENTS)
        live_files_trim(lf, LIVE_MAX_SEGMENTS - 1);
    char *copy = strdup(name);
    if (copy)
        lf->segments[lf->nsegments++] = copy;
}

int live_files_close(struct live_files *lf, AVIOContext *pb)
{
    if (!pb)
        return 0;
    struct open_file *f = pb->opaque;
    avio_flush(pb);
    int ret = pb->error;
    if (close(f->fd) != 0 && !ret)
        ret = AVERROR(errno);
    if (!ret && f->tmp[0]) {
        int rc = lf->fs.rename(lf->fs.cls, f->tmp, f->name);
        if (rc) {
            lf->last_errno = -rc;
            snprintf(lf->last_name, sizeof lf->last_name, "%s", f->name);
            ret = AVERROR(-rc);
        }
    }
    if (!ret && f->is_segment) {
        atomic_fetch_add(&lf->segments_written, 1);
        remember_segment(lf, f->name);
    }
    /* A new playlist no longer names the oldest segments: remove them. */
    if (!ret && has_suffix(f->name, ".m3u8") && lf->keep)
        live_files_trim(lf, lf->keep);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
    free(f);
    return ret;
}

void live_files_clear(struct live_files *lf)
{
    for (unsigned i = 0; i < lf->nsegments; i++)
        free(lf->segments[i]);
    lf->nsegments = 0;
}

/* libavformat's hooks: the hls muxer opens its playlist and every segment
 * through these, with names built from the ones it was given. */
static int io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                   AVDictionary **options)
{
    struct live_files *lf = s->opaque;
    if (!(flags & AVIO_FLAG_WRITE))
        return AVERROR(EPERM);
    if (!strncmp(url, LIVE_URL_SCHEME, strlen(LIVE_URL_SCHEME)))
        url += strlen(LIVE_URL_SCHEME);
    return open_named(lf, url, has_suffix(url, ".m3u8"), pb);
}

static int io_close2(struct AVFormatContext *s, AVIOContext *pb)
{
    return live_files_close(s->opaque, pb);
}

void live_files_attach(struct live_files *lf, struct AVFormatContext *oc)
{
    oc->opaque = lf;
    oc->io_open = io_open;
    oc->io_close2 = io_close2;
}
