/* The small-file cache: per-thread direct-mapped tables of refcounted
 * entries (see content_cache.h for what keeps it safe). */
#include "server/content_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cc_table {
    unsigned mask; /* slots - 1 */
    struct cc_entry **slot;
};

static _Thread_local struct cc_table *tls_table;
static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static bool table_key_ok;
static _Atomic uint64_t n_hits, n_misses, n_inserts;

static uint64_t now_ns(void)
{
    /* The coarse clock is read from the vDSO without a system call; its few
     * milliseconds of granularity are nothing against a TTL. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct cc_entry *cc_ref(struct cc_entry *e)
{
    if (e)
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

void cc_unref(struct cc_entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(e->path);
    free(e);
}

struct cc_entry *cc_read(int fd, const struct stat *st)
{
    if (st->st_size < 0 || st->st_size > CC_MAX_FILE_SIZE) {
        errno = EFBIG;
        return NULL;
    }
    size_t len = (size_t)st->st_size;
    struct cc_entry *e = malloc(sizeof *e + len);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    atomic_init(&e->refs, 1);
    atomic_init(&e->owner, NULL);
    e->st = *st;
    e->len = len;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, e->body + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != len) {
        free(e);
        errno = EIO;
        return NULL;
    }
    return e;
}

/* The table lets go of slot i's entry: the attachment is detached first
 * (it may hold references to the entry, like a response holding its bytes). */
static void drop_slot(struct cc_table *t, unsigned i)
{
    struct cc_entry *e = t->slot[i];
    if (!e)
        return;
    t->slot[i] = NULL;
    atomic_store_explicit(&e->owner, NULL, memory_order_relaxed);
    void *obj = e->attached;
    e->attached = NULL;
    if (obj)
        e->detach(obj);
    cc_unref(e);
}

static void table_free(struct cc_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i <= t->mask; i++)
        drop_slot(t, i);
    free(t->slot);
    free(t);
}

static void table_thread_exit(void *p)
{
    if (tls_table == p)
        tls_table = NULL;
    table_free(p);
}

static void table_once_init(void)
{
    table_key_ok = pthread_key_create(&table_key, table_thread_exit) == 0;
}

/* The calling thread's table with `slots` slots (made or remade). */
static struct cc_table *table_get(unsigned slots)
{
    unsigned n = 16;
    while (n < slots && n < (1u << 20))
        n <<= 1;
    struct cc_table *t = tls_table;
    if (t && t->mask == n - 1)
        return t;
    pthread_once(&table_once, table_once_init);
    if (!table_key_ok)
        return NULL;
    cc_thread_flush();
    t = calloc(1, sizeof *t);
    if (!t || !(t->slot = calloc(n, sizeof *t->slot))) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    if (pthread_setspecific(table_key, t) != 0) {
        table_free(t);
        return NULL;
    }
    tls_table = t;
    return t;
}

/* FNV-1a over the path, mixed with the point and the serial. Written here
 * because it is a few lines and no library the project uses offers a plain
 * string hash. Paths come from clients, but a table slot holds one entry:
 * colliding keys only evict each other, they never make a lookup slower. */
static unsigned slot_of(const struct cc_table *t, uint64_t point, uint64_t serial, const char *path)
{
    uint64_t h = 1469598103934665603ull ^ (point * 0x9E3779B97F4A7C15ull) ^ serial;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    h ^= h >> 32;
    return (unsigned)h & t->mask;
}

struct cc_entry *cc_lookup(uint64_t point, uint64_t serial, const char *path)
{
    struct cc_table *t = tls_table;
    if (!t) {
        atomic_fetch_add_explicit(&n_misses, 1, memory_order_relaxed);
        return NULL;
    }
    unsigned i = slot_of(t, point, serial, path);
    struct cc_entry *e = t->slot[i];
    if (e && e->point == point && e->serial == serial && !strcmp(e->path, path)) {
        if (now_ns() < e->expires_ns) {
            atomic_fetch_add_explicit(&n_hits, 1, memory_order_relaxed);
            return cc_ref(e);
        }
        drop_slot(t, i); /* expired: the slot is free again */
    }
    atomic_fetch_add_explicit(&n_misses, 1, memory_order_relaxed);
    return NULL;
}

void cc_insert(struct cc_entry *e, uint64_t point, uint64_t serial, const char *path,
               unsigned ttl_ms, unsigned slots)
{
    if (!e || ttl_ms == 0 || e->path)
        return;
    struct cc_table *t = table_get(slots);
    if (!t || !(e->path = strdup(path)))
        return;
    e->point = point;
    e->serial = serial;
    e->expires_ns = now_ns() + (uint64_t)ttl_ms * 1000000u;
    unsigned i = slot_of(t, point, serial, path);
    drop_slot(t, i);
    t->slot[i] = cc_ref(e);
    e->slot = i;
    atomic_store_explicit(&e->owner, t, memory_order_relaxed);
    atomic_fetch_add_explicit(&n_inserts, 1, memory_order_relaxed);
}

/* e is in the calling thread's table. Only that thread stores the owner
 * field with its own table, so a match cannot be a stale read. */
static bool mine(struct cc_entry *e)
{
    struct cc_table *t = tls_table;
    return t && atomic_load_explicit(&e->owner, memory_order_relaxed) == t && e->slot <= t->mask &&
           t->slot[e->slot] == e;
}

void *cc_attachment(struct cc_entry *e)
{
    return e && mine(e) ? e->attached : NULL;
}

bool cc_attach(struct cc_entry *e, void *obj, void (*detach)(void *obj))
{
    if (!e || !mine(e))
        return false;
    void *old = e->attached;
    void (*old_detach)(void *) = e->detach;
    e->attached = obj;
    e->detach = detach;
    if (old)
        old_detach(old);
    return true;
}

void cc_thread_flush(void)
{
    struct cc_table *t = tls_table;
    if (!t)
        return;
    tls_table = NULL;
    if (table_key_ok)
        pthread_setspecific(table_key, NULL);
    table_free(t);
}

void cc_counters(uint64_t *hits, uint64_t *misses, uint64_t *inserts)
{
    *hits = atomic_load_explicit(&n_hits, memory_order_relaxed);
    *misses = atomic_load_explicit(&n_misses, memory_order_relaxed);
    *inserts = atomic_load_explicit(&n_inserts, memory_order_relaxed);
}
