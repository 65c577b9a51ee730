/* Failure counting per address (a small open hash) and the timer thread that
 * delays answers without holding an I/O or worker thread. */
#include "server/throttle.h"

#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FORGET_AFTER_S 60
#define MAX_DELAY_MS   4000

struct entry {
    char ip[128]; /* the key */
    unsigned failures;
    time_t last;
    time_t locked_until;
};

/* One client's rate-limited event (or jobs-in-flight count): a separate
 * small table, so that neither touches the failure slots' fast path. */
struct evslot {
    char key[128];
    time_t last;         /* when tokens were last refilled */
    unsigned tokens;     /* lines that may still be written now */
    unsigned suppressed; /* since the last line written */
};

/* A burst of EVENT_BURST lines, then EVENT_RATE a second: a client
 * looping at thousands of requests a second writes a few lines a second. */
#define EVENT_BURST 64
#define EVENT_RATE  5

struct jobslot {
    char key[128];
    unsigned inflight;
};

#define EVENT_SLOTS 1024
#define JOB_SLOTS   1024

struct timer {
    struct timespec due;
    void (*fn)(void *);
    void *arg;
    struct timer *next;
};

struct throttle {
    /* Slots in use. Zero - no client has failed lately, the usual state of
     * a busy server - lets throttle_locked and throttle_success answer
     * without the lock (they ran on every authenticated request). Written
     * under the lock only. */
    _Atomic unsigned live;
    time_t next_sweep; /* when stale slots are next cleared (under lock) */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct throttle_policy policy;
    struct entry *table;
    unsigned cap;
    struct timer *timers; /* sorted by due */
    struct evslot events[EVENT_SLOTS];
    struct jobslot jobs[JOB_SLOTS];
    bool stopping;
    pthread_t thread;
};

static uint64_t hash_ip(const char *s)
{
    /* FNV-1a: only spreads addresses over buckets; not a security hash. */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* A slot nobody has failed from for FORGET_AFTER_S and that is not locked:
 * it may be reused or cleared. */
static bool stale(const struct entry *e, time_t now)
{
    return now - e->last > FORGET_AFTER_S && now >= e->locked_until;
}

/* Finds ip's entry, or the slot to reuse: an empty or stale one, else the
 * oldest among the probed ones (bounded memory under address churn). */

static struct entry *slot_for(struct throttle *t, const char *ip, time_t now)
{
    uint64_t h = hash_ip(ip);
    struct entry *victim = NULL;
    for (unsigned i = 0; i < 8; i++) {
        struct entry *e = &t->table[(h + i) % t->cap];
        if (!strcmp(e->ip, ip))
            return e;
        if (!e->ip[0] || stale(e, now)) {
            if (!victim || victim->ip[0])
                victim = e;
        } else if (!victim || (victim->ip[0] && e->last < victim->last)) {
            victim = e;
        }
    }
    if (!victim->ip[0])
        atomic_fetch_add(&t->live, 1);
    memset(victim, 0, sizeof *victim);
    strncpy(victim->ip, ip, sizeof victim->ip - 1);
    return victim;
}

static void clear_slot(struct throttle *t, struct entry *e)
{
    memset(e, 0, sizeof *e);
    atomic_fetch_sub(&t->live, 1);
}

/* Clears slots nobody has failed from for FORGET_AFTER_S (and not locked),
 * so that the lock-free fast path comes back once failures stop. At most
 * every 10 s, under the lock: a pass over 4096 slots is a few microseconds. */
static void sweep(struct throttle *t, time_t now)
{
    if (now < t->next_sweep)
        return;
    t->next_sweep = now + 10;
    for (unsigned i = 0; i < t->cap && atomic_load(&t->live) > 0; i++) {
        if (t->table[i].ip[0] && stale(&t->table[i], now))
            clear_slot(t, &t->table[i]);
    }
}

void throttle_sweep_at(struct throttle *t, time_t now)
{
    pthread_mutex_lock(&t->lock);
    t->next_sweep = 0;
    sweep(t, now);
    pthread_mutex_unlock(&t->lock);
}

unsigned throttle_live(struct throttle *t)
{
    return atomic_load(&t->live);
}

unsigned throttle_failure_scaled(struct throttle *t, const char *key, unsigned scale)
{
    if (scale == 0)
        scale = 1;
    time_t now = time(NULL);
    pthread_mutex_lock(&t->lock);
    struct entry *e = slot_for(t, key, now);
    if (now - e->last > FORGET_AFTER_S)
        e->failures = 0;
    e->failures++;
    e->last = now;
    if (t->policy.lockout_after && e->failures >= t->policy.lockout_after * scale) {
        e->locked_until = now + (time_t)t->policy.lockout_seconds;
        e->failures = 0;
    }
    unsigned long d =
        (unsigned long)t->policy.base_delay_ms * (e->failures > 1 ? e->failures - 1 : 0) / scale;
    pthread_mutex_unlock(&t->lock);
    return d > MAX_DELAY_MS ? MAX_DELAY_MS : (unsigned)d;
}

unsigned throttle_failure(struct throttle *t, const char *key)
{
    return throttle_failure_scaled(t, key, 1);
}

bool throttle_failing(struct throttle *t, const char *key)
{
    if (atomic_load(&t->live) == 0)
        return false;
    time_t now = time(NULL);
    bool failing = false;
    pthread_mutex_lock(&t->lock);
    uint64_t h = hash_ip(key);
    for (unsigned i = 0; i < 8; i++) {
        struct entry *e = &t->table[(h + i) % t->cap];
        if (!strcmp(e->ip, key) && !stale(e, now) && (e->failures > 0 || e->locked_until > now))
            failing = true;
    }
    pthread_mutex_unlock(&t->lock);
    return failing;
}

unsigned throttle_event(struct throttle *t, const char *key)
{
    time_t now = time(NULL);
    unsigned out;
    pthread_mutex_lock(&t->lock);
    struct evslot *e = &t->events[hash_ip(key) % EVENT_SLOTS];
    if (strcmp(e->key, key) != 0) {
        /* Another key had the slot: it starts over (a suppressed count of
         * the evicted key is lost, never a line of this one). */
        snprintf(e->key, sizeof e->key, "%s", key);
        e->last = now;
        e->tokens = EVENT_BURST;
        e->suppressed = 0;
    }
    if (now > e->last) {
        time_t add = now - e->last;
        e->tokens = add >= EVENT_BURST ? EVENT_BURST : e->tokens + (unsigned)add * EVENT_RATE;
        if (e->tokens > EVENT_BURST)
            e->tokens = EVENT_BURST;
        e->last = now;
    }
    if (e->tokens > 0) {
        e->tokens--;
        out = 1 + e->suppressed;
        e->suppressed = 0;
    } else {
        e->suppressed++;
        out = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return out;
}

bool throttle_job_begin(struct throttle *t, const char *key, unsigned max)
{
    bool ok = false;
    pthread_mutex_lock(&t->lock);
    uint64_t h = hash_ip(key);
    struct jobslot *free_slot = NULL;
    for (unsigned i = 0; i < 16; i++) {
        struct jobslot *j = &t->jobs[(h + i) % JOB_SLOTS];
        if (!strcmp(j->key, key)) {
            if (j->inflight < max) {
                j->inflight++;
                ok = true;
            }
            pthread_mutex_unlock(&t->lock);
            return ok;
        }
        if (!free_slot && j->inflight == 0)
            free_slot = j;
    }
    if (free_slot && max > 0) {
        snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
        free_slot->inflight = 1;
        ok = true;
    }
    /* No slot among the probed ones: 16 keys with calls in flight share
     * these buckets; refusing is the bounded answer. */
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void throttle_job_end(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    uint64_t h = hash_ip(key);
    for (unsigned i = 0; i < 16; i++) {
        struct jobslot *j = &t->jobs[(h + i) % JOB_SLOTS];
        if (j->inflight && !strcmp(j->key, key)) {
            if (--j->inflight == 0)
                j->key[0] = '\0';
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

unsigned throttle_locked(struct throttle *t, const char *key)
{
    if (atomic_load(&t->live) == 0)
        return 0;
    time_t now = time(NULL);
    unsigned left = 0;
    pthread_mutex_lock(&t->lock);
    sweep(t, now);
    uint64_t h = hash_ip(key);
    for (unsigned i = 0; i < 8; i++) {
        struct entry *e = &t->table[(h + i) % t->cap];
        if (!strcmp(e->ip, key) && e->locked_until > now)
            left = (unsigned)(e->locked_until - now);
    }
    pthread_mutex_unlock(&t->lock);
    return left;
}

void throttle_success(struct throttle *t, const char *ip)
{
    /* Nothing to forget. A failure recorded concurrently is ordered after
     * this success, as if it had come a moment later. */
    if (atomic_load(&t->live) == 0)
        return;
    time_t now = time(NULL);
    pthread_mutex_lock(&t->lock);
    uint64_t h = hash_ip(ip);
    for (unsigned i = 0; i < 8; i++) {
        struct entry *e = &t->table[(h + i) % t->cap];
        /* A success does not lift a lockout: the guesser may have found it. */
        if (e->ip[0] && !strcmp(e->ip, ip) && e->locked_until <= now)
            clear_slot(t, e);
    }
    pthread_mutex_unlock(&t->lock);
}

void throttle_set_policy(struct throttle *t, const struct throttle_policy *p)
{
    pthread_mutex_lock(&t->lock);
    t->policy = *p;
    pthread_mutex_unlock(&t->lock);
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *timer_main(void *arg)
{
    struct throttle *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping || t->timers) {
        if (!t->timers) {
            pthread_cond_wait(&t->wake, &t->lock);
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timer *first = t->timers;
        if (!t->stopping && before(&now, &first->due)) {
            pthread_cond_timedwait(&t->wake, &t->lock, &first->due);
            continue;
        }
        t->timers = first->next;
        pthread_mutex_unlock(&t->lock);
        first->fn(first->arg);
        free(first);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int throttle_after(struct throttle *t, unsigned delay_ms, void (*fn)(void *), void *arg)
{
    struct timer *tm = calloc(1, sizeof *tm);
    if (!tm)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &tm->due);
    tm->due.tv_sec += delay_ms / 1000;
    tm->due.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
    if (tm->due.tv_nsec >= 1000000000L) {
        tm->due.tv_sec++;
        tm->due.tv_nsec -= 1000000000L;
    }
    tm->fn = fn;
    tm->arg = arg;
    pthread_mutex_lock(&t->lock);
    struct timer **pp = &t->timers;
    while (*pp && !before(&tm->due, &(*pp)->due))
        pp = &(*pp)->next;
    tm->next = *pp;
    *pp = tm;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

struct throttle *throttle_new(const struct throttle_policy *p, unsigned max_entries)
{
    struct throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    atomic_init(&t->live, 0);
    t->cap = max_entries ? max_entries : 4096;
    t->table = calloc(t->cap, sizeof *t->table);
    t->policy = *p;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (!t->table || pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        free(t->table);
        free(t);
        return NULL;
    }
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true; /* due timers still fire: their requests must finish */
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t->table);
    free(t);
}
