/* Where a live stream's files go: the HLS playlist and segments and the
 * recording, written through AVFormatContext.io_open/io_close2 into a
 * point's directory by a small file interface (struct live_fs). guised's
 * interface creates every file AS THE PUBLISHER beneath the point's
 * directory (the impersonation engine), so the kernel decides whether this
 * publisher may write there; live_fs_plain is the same with the server's
 * own credentials, for tests.
 *
 * Playlists are replaced atomically: written to NAME.tmp, renamed over
 * NAME when closed, so a viewer never reads half a playlist. Segments older
 * than the sliding window (plus a margin for players that have just read
 * the playlist) are unlinked after each playlist update. */
#ifndef GUISE_LIVE_FILES_H
#define GUISE_LIVE_FILES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct AVFormatContext;
struct AVIOContext;

struct live_fs {
    void *cls;
    /* Creates NAME (a plain file name) for writing, truncating it: a
     * descriptor, or -errno (the kernel's refusal). */
    int (*create)(void *cls, const char *name);
    /* Renames FROM over TO; 0 or -errno. */
    int (*rename)(void *cls, const char *from, const char *to);
    /* Removes NAME; 0 or -errno. */
    int (*unlink)(void *cls, const char *name);
};

/* A live_fs writing beneath dir_fd with the caller's own credentials
 * (the descriptor is borrowed). */
struct live_fs live_fs_plain(int *dir_fd);

#define LIVE_MAX_SEGMENTS 64
/* The scheme of the names given to muxers; io_open strips it. */
#define LIVE_URL_SCHEME "guise:"

struct live_files {
    struct live_fs fs;
    unsigned keep;                     /* segments kept: the window plus a margin */
    char *segments[LIVE_MAX_SEGMENTS]; /* written, oldest first */
    unsigned nsegments;
    _Atomic uint64_t segments_written, bytes_written;
    int last_errno;      /* the last refusal or write error */
    char last_name[112]; /* the file it concerned */
};

/* True for a name the stream may create: [A-Za-z0-9._-], no leading dot,
 * at most 80 bytes. */
int live_name_ok(const char *name);

/* Makes oc (a muxer) write its files through lf (oc->opaque = lf). */
void live_files_attach(struct live_files *lf, struct AVFormatContext *oc);
/* Opens NAME through lf as an AVIOContext; atomic: written as NAME.part,
 * renamed to NAME by live_files_close. 0 or an AVERROR. */
int live_files_open(struct live_files *lf, const char *name, int atomic, struct AVIOContext **pb);
/* Flushes and closes what live_files_open opened (NULL-safe). 0 or AVERROR. */
int live_files_close(struct live_files *lf, struct AVIOContext *pb);
/* Unlinks the remembered segments beyond the window (all with keep 0). */
void live_files_trim(struct live_files *lf, unsigned keep);
void live_files_clear(struct live_files *lf);

#endif
