/* The small-file cache: the bytes and metadata of small regular files as one
 * identity opened them, kept for a short time so that a media player's many
 * requests for playlists, segments' indexes and thumbnails do not each pay an
 * impersonated open, an fstat, a read and a close.
 *
 * What keeps it safe:
 * - An entry is keyed by the token's serial (never reused), the publishing
 *   point of one generation, and the path inside it. It is only ever found by
 *   the identity whose token opened the file, so it can never hand one
 *   account's bytes to another; a reload or a token refresh (new serial)
 *   starts over.
 * - Only successful opens of regular files are kept: a denial or a missing
 *   file is looked up again on every request, so a new grant shows at once.
 * - An entry lives at most `content-cache-ttl` milliseconds: a revoked
 *   permission, a replaced or edited file is seen by then.
 *
 * Each thread has its own table (no locks on the request path). Entries are
 * reference-counted: a response being sent keeps its entry alive after the
 * table has dropped it.
 *
 * While an entry is in a table, the table's thread may attach one object to
 * it (guised attaches the finished HTTP response, so that the identity's
 * next identical request reuses it instead of building it again). The
 * attachment is only ever touched by that thread, and the table detaches it
 * when it drops the entry (expiry, eviction, flush, thread exit). */
#ifndef GUISE_SERVER_CONTENT_CACHE_H
#define GUISE_SERVER_CONTENT_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Files up to this size are read whole into one entry (and sent with the
 * response header in one segment, cached or not). */
#define CC_MAX_FILE_SIZE 16384

struct cc_table;

struct cc_entry {
    _Atomic unsigned refs;
    /* The table holding the entry (NULL before cc_insert and after the
     * table dropped it) and its slot there. Atomic because other threads
     * may ask (cc_attachment) while the owner drops the entry. */
    struct cc_table *_Atomic owner;
    unsigned slot;
    void *attached;
    void (*detach)(void *attached);
    uint64_t point, serial; /* the key, with path */
    uint64_t expires_ns;    /* CLOCK_MONOTONIC_COARSE */
    char *path;
    struct stat st; /* as fstat(2) saw the file when it was read */
    /* ETag and Last-Modified of st, formatted once by whoever fills the
     * entry (empty until then). */
    char etag[64], last_modified[40];
    size_t len; /* bytes in body: st.st_size */
    unsigned char body[];
};

/* Reads the whole regular file fd (st from fstat of fd, st_size at most
 * CC_MAX_FILE_SIZE) into a new entry with one reference; NULL with errno set
 * when out of memory or when the file is shorter than st said (EIO: it
 * changed while read). */
struct cc_entry *cc_read(int fd, const struct stat *st);

/* The calling thread's live entry for the key: a new reference, or NULL. */
struct cc_entry *cc_lookup(uint64_t point, uint64_t serial, const char *path);

/* Publishes e under the key in the calling thread's table for ttl_ms; the
 * table keeps its own reference. slots (rounded up to a power of two, at
 * least 16) sizes the table; a different value than the table's empties it. */
void cc_insert(struct cc_entry *e, uint64_t point, uint64_t serial, const char *path,
               unsigned ttl_ms, unsigned slots);

struct cc_entry *cc_ref(struct cc_entry *e);
void cc_unref(struct cc_entry *e);

/* The object attached to e, when e is in the calling thread's table; NULL
 * otherwise (on any other thread, or once the table dropped e). */
void *cc_attachment(struct cc_entry *e);
/* Attaches obj to e, detaching the previous attachment, when e is in the
 * calling thread's table: true, and the table now owns obj (detach(obj)
 * runs when the table drops e). False otherwise: obj stays the caller's. */
bool cc_attach(struct cc_entry *e, void *obj, void (*detach)(void *obj));

/* Drops every entry of the calling thread's table. */
void cc_thread_flush(void);

/* Process-wide counters (for /metrics): lookups that found an entry,
 * lookups that did not, entries published. */
void cc_counters(uint64_t *hits, uint64_t *misses, uint64_t *inserts);

#endif
