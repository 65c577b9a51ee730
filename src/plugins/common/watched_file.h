/* Configuration files of plug-ins that are re-read when they change on disk
 * (user files, account maps), without a restart.
 *
 * pk_file_read reads a whole (small) regular file and returns its stat, so
 * that the watch records exactly the version that was parsed.
 * pk_file_watch_poll stats the path at most once per interval and says
 * whether it is no longer that version (device, inode, size, mtime or ctime
 * differ, or the file is gone). One stat per second is cheap enough to do on
 * the request path.
 */
#ifndef GUISE_PLUGINS_WATCHED_FILE_H
#define GUISE_PLUGINS_WATCHED_FILE_H

#include <guise/result.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Reads path (a regular file of at most max bytes) into a malloc'd buffer
 * with a NUL after the last byte. On failure err holds "path: reason". */
guise_result pk_file_read(const char *path, size_t max, char **data, size_t *len, struct stat *st,
                          char *err, size_t err_size);

struct pk_file_watch {
    uint64_t next_check_ms; /* CLOCK_MONOTONIC */
    bool present;           /* the fields below describe the version last read */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

void pk_file_watch_init(struct pk_file_watch *w);
/* Records the version just read (st from pk_file_read), whether its
 * contents parsed or not: a bad version is retried only once it changes. */
void pk_file_watch_seen(struct pk_file_watch *w, const struct stat *st);
/* Records the version of path now on disk, or its absence: for a file that
 * could not be read (missing, unreadable), so that it is retried only once
 * it changes. */
void pk_file_watch_stat(struct pk_file_watch *w, const char *path);
/* True when interval_ms have passed since the last check and path now differs
 * from the recorded version. Not thread-safe: callers hold their own lock. */
bool pk_file_watch_poll(struct pk_file_watch *w, const char *path, unsigned interval_ms);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t pk_monotonic_ms(void);

#endif
