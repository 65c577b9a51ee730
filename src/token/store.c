/* guise: the token store - resolves accounts through NSS and caches tokens.
 *
 * Lookups go to NSS outside the store's lock, so that a slow directory
 * (LDAP, sssd) never serialises the workers; only the cache is locked.
 * Cached tokens expire after the store's TTL, so a group added to or removed
 * from an account takes effect without a restart. Refusals are not cached:
 * they are cheap to recompute and caching them would let a client fill the
 * cache with invented names.
 */
#include "token/token_internal.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_DEFAULT_MIN_UID 1000
/* As Apache's suexec (AP_GID_MIN): "users" (100) is an ordinary group. */
#define STORE_DEFAULT_MIN_GID 100
#define STORE_DEFAULT_TTL     60
#define STORE_BUCKETS         256
/* Bounds memory whatever names clients make the server resolve; the oldest
 * entry is dropped first (all entries share one TTL, so oldest = soonest
 * to expire). */
#define STORE_MAX_ENTRIES 4096
#define NAME_MAX_LEN      255
/* NSS entries larger than this are refused rather than grown into. */
#define NSS_BUF_MAX (1u << 20)

/* KIND_ACCOUNT caches what guise_token_for_account() resolved a name to (a
 * user, else a group), so that a cached answer for a name is always the one
 * that function would give. KIND_GUEST caches guise_token_for_guest()'s
 * answers apart, so that a guest resolved below the minimums is never
 * handed out by the other lookups. */
enum account_kind { KIND_USER, KIND_GROUP, KIND_ACCOUNT, KIND_GUEST };

struct entry {
    struct entry *hnext;       /* hash bucket chain */
    struct entry *prev, *next; /* age list, oldest first */
    unsigned bucket;
    enum account_kind kind;
    uint64_t expires_ns;
    guise_token *token;
    char name[];
};

struct guise_token_store {
    pthread_mutex_t lock;
    uid_t min_uid;
    gid_t min_gid;
    uint64_t ttl_ns;
    char **allow;  /* NULL-terminated copy */
    char **guests; /* NULL-terminated copy */
    gid_t *allow_groups;
    size_t nallow_groups;
    struct entry *buckets[STORE_BUCKETS];
    struct entry *oldest, *newest;
    size_t count;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned hash_key(enum account_kind kind, const char *name)
{
    /* FNV-1a: names are short and the table is small. */
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % STORE_BUCKETS;
}

static void entry_unlink(guise_token_store *s, struct entry *e)
{
    struct entry **pp = &s->buckets[e->bucket];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        s->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->newest = e->prev;
    s->count--;
    guise_token_unref(e->token);
    free(e);
}

static struct entry *entry_find(guise_token_store *s, enum account_kind kind, const char *name,
                                unsigned bucket)
{
    for (struct entry *e = s->buckets[bucket]; e; e = e->hnext) {
        if (e->kind == kind && strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

/* Caches token under (kind, name) until expires_ns; takes a new reference.
 * Called locked. */
static void entry_insert(guise_token_store *s, enum account_kind kind, const char *name,
                         guise_token *token, uint64_t expires_ns)
{
    unsigned bucket = hash_key(kind, name);
    struct entry *old = entry_find(s, kind, name, bucket);
    if (old)
        entry_unlink(s, old);
    uint64_t now = now_ns();
    while (s->oldest && (s->oldest->expires_ns <= now || s->count >= STORE_MAX_ENTRIES))
        entry_unlink(s, s->oldest);

    size_t len = strlen(name);
    struct entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return; /* caching is an optimisation; the caller still has its token */
    memcpy(e->name, name, len + 1);
    e->kind = kind;
    e->bucket = bucket;
    e->expires_ns = expires_ns;
    e->token = guise_token_ref(token);
    e->hnext = s->buckets[bucket];
    s->buckets[bucket] = e;
    e->next = NULL;
    e->prev = s->newest;
    if (s->newest)
        s->newest->next = e;
    else
        s->oldest = e;
    s->newest = e;
    s->count++;
}

static bool name_is_valid(const char *name)
{
    if (!name || !*name)
        return false;
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, len++) {
        /* ':' and control characters cannot be part of an NSS name and would
         * only serve to confuse logs. */
        if (*p < 0x20 || *p == 0x7f || *p == ':' || len >= NAME_MAX_LEN)
            return false;
    }
    return true;
}

static bool name_in(char *const *list, const char *name)
{
    for (char *const *a = list; a && *a; a++) {
        if (strcmp(*a, name) == 0)
            return true;
    }
    return false;
}

static bool group_is_allowed(const guise_token_store *s, gid_t gid)
{
    for (size_t i = 0; i < s->nallow_groups; i++) {
        if (s->allow_groups[i] == gid)
            return true;
    }
    return false;
}

/* Whether a token may carry gid as a group: never 0; below min_gid only
 * when the administrator listed it. */
static bool group_may_be_held(const guise_token_store *s, gid_t gid)
{
    return gid != 0 && (gid >= s->min_gid || group_is_allowed(s, gid));
}

/* The store's policy: never uid 0 or gid 0; no uid below min_uid and no
 * primary gid below min_gid (unless allow_groups lists it) unless the
 * account is named in the allow list, or is a guest asked for as one. A
 * group account has no uid of its own (it runs as nobody), so only its gid
 * is checked. */
static guise_result check_ids(const guise_token_store *s, const char *name, uid_t uid, gid_t gid,
                              bool is_group, bool as_guest)
{
    if ((!is_group && uid == 0) || gid == 0)
        return GUISE_E_ACCESSDENIED;
    bool excepted = as_guest || name_in(s->allow, name);
    if (!is_group && uid < s->min_uid && !excepted)
        return GUISE_E_ACCESSDENIED;
    if (!group_may_be_held(s, gid) && !excepted)
        return GUISE_E_ACCESSDENIED;
    return GUISE_S_OK;
}

/* getpwnam_r and getgrnam_r report "no such entry" with 0, or with one of
 * these on some NSS modules (see getpwnam_r(3)). */
static bool is_not_found_errno(int err)
{
    return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM;
}

/* Returns the account's groups without gid 0 - membership of the root group
 * is never handed to a token - and without system groups below min_gid the
 * administrator did not list (a user in "disk" or "shadow" must not read as
 * them through the server), in a malloc'd array. The primary gid, already
 * checked, is added back by guise_token_make(). */
static guise_result user_groups(const guise_token_store *s, const char *name, gid_t gid,
                                gid_t **out, size_t *n_out)
{
    int n = 32;
    gid_t *groups = NULL;
    for (;;) {
        gid_t *grown = realloc(groups, (size_t)n * sizeof(gid_t));
        if (!grown) {
            free(groups);
            return GUISE_E_OUTOFMEMORY;
        }
        groups = grown;
        int want = n;
        if (getgrouplist(name, gid, groups, &want) >= 0) {
            n = want;
            break;
        }
        if (want <= n || want > 65536) {
            free(groups);
            return GUISE_E_FAIL;
        }
        n = want;
    }
    size_t kept = 0;
    for (int i = 0; i < n; i++) {
        if (group_may_be_held(s, groups[i]))
            groups[kept++] = groups[i];
    }
    *out = groups;
    *n_out = kept;
    return GUISE_S_OK;
}

static guise_result token_from_errno(guise_token *t)
{
    if (t)
        return GUISE_S_OK;
    if (errno == ENOMEM)
        return GUISE_E_OUTOFMEMORY;
    if (errno == EPERM)
        return GUISE_E_ACCESSDENIED;
    return GUISE_E_FAIL;
}

static guise_result resolve_user(const guise_token_store *s, const char *name, bool as_guest,
                                 guise_token **out)
{
    struct passwd pw, *found = NULL;
    char *buf = NULL;
    size_t len = 1024;
    int err;
    for (;;) {
        char *grown = realloc(buf, len);
        if (!grown) {
            free(buf);
            return GUISE_E_OUTOFMEMORY;
        }
        buf = grown;
        err = getpwnam_r(name, &pw, buf, len, &found);
        if (err != ERANGE || len >= NSS_BUF_MAX)
            break;
        len *= 2;
    }
    guise_result r;
    if (!found) {
        r = is_not_found_errno(err) ? GUISE_E_NOT_FOUND : GUISE_RESULT_FROM_ERRNO(err);
        goto out;
    }
    r = check_ids(s, pw.pw_name, pw.pw_uid, pw.pw_gid, false, as_guest);
    if (r != GUISE_S_OK)
        goto out;
    gid_t *groups;
    size_t ngroups;
    r = user_groups(s, pw.pw_name, pw.pw_gid, &groups, &ngroups);
    if (r != GUISE_S_OK)
        goto out;
    *out = guise_token_make(pw.pw_name, pw.pw_uid, pw.pw_gid, groups, ngroups, false);
    r = token_from_errno(*out);
    free(groups);
out:
    free(buf);
    return r;
}

static guise_result resolve_group(const guise_token_store *s, const char *name, bool as_guest,
                                  guise_token **out)
{
    struct group gr, *found = NULL;
    char *buf = NULL;
    size_t len = 1024;
    int err;
    for (;;) {
        char *grown = realloc(buf, len);
        if (!grown) {
            free(buf);
            return GUISE_E_OUTOFMEMORY;
        }
        buf = grown;
        err = getgrnam_r(name, &gr, buf, len, &found);
        if (err != ERANGE || len >= NSS_BUF_MAX)
            break;
        len *= 2;
    }
    guise_result r;
    if (!found) {
        r = is_not_found_errno(err) ? GUISE_E_NOT_FOUND : GUISE_RESULT_FROM_ERRNO(err);
    } else {
        r = check_ids(s, gr.gr_name, GUISE_NOBODY_UID, gr.gr_gid, true, as_guest);
        if (r == GUISE_S_OK) {
            *out = guise_token_make(gr.gr_name, GUISE_NOBODY_UID, gr.gr_gid, NULL, 0, true);
            r = token_from_errno(*out);
        }
    }
    free(buf);
    return r;
}

/* A fresh cached token for (kind, name), with its expiry; drops a stale
 * one. Called unlocked. */
static guise_token *cache_get(guise_token_store *s, enum account_kind kind, const char *name,
                              uint64_t *expires_ns)
{
    guise_token *t = NULL;
    unsigned bucket = hash_key(kind, name);
    pthread_mutex_lock(&s->lock);
    struct entry *e = entry_find(s, kind, name, bucket);
    if (e && e->expires_ns > now_ns()) {
        t = guise_token_ref(e->token);
        *expires_ns = e->expires_ns;
    } else if (e) {
        entry_unlink(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    return t;
}

static void cache_put(guise_token_store *s, enum account_kind kind, const char *name,
                      guise_token *t, uint64_t expires_ns)
{
    pthread_mutex_lock(&s->lock);
    entry_insert(s, kind, name, t, expires_ns);
    pthread_mutex_unlock(&s->lock);
}

static guise_result check_args(guise_token_store *s, const char *name, guise_token **out)
{
    if (!s || !out)
        return GUISE_E_POINTER;
    *out = NULL;
    if (!name_is_valid(name))
        return GUISE_E_INVALIDARG;
    return GUISE_S_OK;
}

/* A user or group token from the cache, else from NSS (and then cached). */
static guise_result store_lookup(guise_token_store *s, enum account_kind kind, const char *name,
                                 guise_token **out, uint64_t *expires_ns)
{
    *out = cache_get(s, kind, name, expires_ns);
    if (*out)
        return GUISE_S_OK;
    guise_token *t = NULL;
    guise_result r =
        kind == KIND_USER ? resolve_user(s, name, false, &t) : resolve_group(s, name, false, &t);
    if (r != GUISE_S_OK)
        return r;
    *expires_ns = now_ns() + s->ttl_ns;
    cache_put(s, kind, name, t, *expires_ns);
    *out = t;
    return GUISE_S_OK;
}

guise_result guise_token_for_user(guise_token_store *s, const char *name, guise_token **out)
{
    uint64_t expires;
    guise_result r = check_args(s, name, out);
    return r != GUISE_S_OK ? r : store_lookup(s, KIND_USER, name, out, &expires);
}

guise_result guise_token_for_group(guise_token_store *s, const char *name, guise_token **out)
{
    uint64_t expires;
    guise_result r = check_args(s, name, out);
    return r != GUISE_S_OK ? r : store_lookup(s, KIND_GROUP, name, out, &expires);
}

guise_result guise_token_for_account(guise_token_store *s, const char *name, guise_token **out)
{
    uint64_t expires;
    guise_result r = check_args(s, name, out);
    if (r != GUISE_S_OK)
        return r;
    *out = cache_get(s, KIND_ACCOUNT, name, &expires);
    if (*out)
        return GUISE_S_OK;
    r = store_lookup(s, KIND_USER, name, out, &expires);
    /* Only an unknown user falls through: a refused user must not be
     * reachable again through a group of the same name. */
    if (r == GUISE_E_NOT_FOUND)
        r = store_lookup(s, KIND_GROUP, name, out, &expires);
    /* The answer lives no longer than the entry it came from. */
    if (r == GUISE_S_OK)
        cache_put(s, KIND_ACCOUNT, name, *out, expires);
    return r;
}

guise_result guise_token_for_guest(guise_token_store *s, const char *name, guise_token **out)
{
    guise_result r = check_args(s, name, out);
    if (r != GUISE_S_OK)
        return r;
    if (!name_in(s->guests, name))
        return guise_token_for_account(s, name, out);
    uint64_t expires;
    *out = cache_get(s, KIND_GUEST, name, &expires);
    if (*out)
        return GUISE_S_OK;
    /* A guest the ordinary policy accepts (nobody, 65534) gets the very
     * token everyone else mapped to the account gets: one identity, one
     * token, one entry in the caches keyed by token. Only a refusal by
     * the minimums makes it a guest token of its own. */
    r = guise_token_for_account(s, name, out);
    if (r != GUISE_E_ACCESSDENIED)
        return r;
    guise_token *t = NULL;
    r = resolve_user(s, name, true, &t);
    if (r == GUISE_E_NOT_FOUND)
        r = resolve_group(s, name, true, &t);
    if (r != GUISE_S_OK)
        return r;
    cache_put(s, KIND_GUEST, name, t, now_ns() + s->ttl_ns);
    *out = t;
    return GUISE_S_OK;
}

guise_result guise_token_store_lookup_cached_guest(guise_token_store *s, const char *name,
                                                   guise_token **out)
{
    guise_result r = check_args(s, name, out);
    if (r != GUISE_S_OK)
        return r;
    uint64_t expires;
    if (name_in(s->guests, name) && (*out = cache_get(s, KIND_GUEST, name, &expires)))
        return GUISE_S_OK;
    return guise_token_store_lookup_cached(s, name, out);
}

guise_result guise_token_store_lookup_cached(guise_token_store *s, const char *name,
                                             guise_token **out)
{
    uint64_t expires;
    guise_result r = check_args(s, name, out);
    if (r != GUISE_S_OK)
        return r;
    /* What guise_token_for_account() would answer: its own cached answer,
     * or a cached user (a user wins over a group of the same name). A
     * cached group alone proves nothing - the user may exist uncached. */
    *out = cache_get(s, KIND_ACCOUNT, name, &expires);
    if (!*out)
        *out = cache_get(s, KIND_USER, name, &expires);
    /* Refusals are not cached (see above): only NSS can answer them. */
    return *out ? GUISE_S_OK : GUISE_E_PENDING;
}

void guise_token_store_flush(guise_token_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    while (s->oldest)
        entry_unlink(s, s->oldest);
    pthread_mutex_unlock(&s->lock);
}

static void free_names(char **names)
{
    for (char **a = names; a && *a; a++)
        free(*a);
    free(names);
}

static void store_free_parts(guise_token_store *s)
{
    free_names(s->allow);
    free_names(s->guests);
    free(s->allow_groups);
    free(s);
}

/* A NULL-terminated copy of names (NULL: an empty list). */
static char **copy_names(const char *const *names)
{
    size_t n = 0;
    while (names && names[n])
        n++;
    char **copy = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; copy && i < n; i++) {
        copy[i] = strdup(names[i]);
        if (!copy[i]) {
            free_names(copy);
            return NULL;
        }
    }
    return copy;
}

/* A decimal gid, or a group name resolved through NSS. */
static guise_result resolve_gid(const char *name, gid_t *gid)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(name, &end, 10);
    if (*name >= '0' && *name <= '9' && !*end && errno == 0 && v < (gid_t)-1) {
        *gid = (gid_t)v;
        return GUISE_S_OK;
    }
    struct group gr, *found = NULL;
    char buf[4096];
    int err = getgrnam_r(name, &gr, buf, sizeof(buf), &found);
    if (!found)
        return is_not_found_errno(err) ? GUISE_E_NOT_FOUND : GUISE_RESULT_FROM_ERRNO(err);
    *gid = gr.gr_gid;
    return GUISE_S_OK;
}

static guise_result copy_allow_groups(guise_token_store *s, const char *const *names)
{
    size_t n = 0;
    while (names && names[n])
        n++;
    s->allow_groups = calloc(n + 1, sizeof(gid_t));
    if (!s->allow_groups)
        return GUISE_E_OUTOFMEMORY;
    for (size_t i = 0; i < n; i++) {
        gid_t gid;
        guise_result r = resolve_gid(names[i], &gid);
        if (r != GUISE_S_OK)
            return r;
        if (gid == 0) /* root's group is never handed out, listed or not */
            continue;
        s->allow_groups[s->nallow_groups++] = gid;
    }
    return GUISE_S_OK;
}

guise_result guise_token_store_new(const struct guise_token_store_options *opt,
                                   guise_token_store **out)
{
    if (!out)
        return GUISE_E_POINTER;
    *out = NULL;
    guise_token_store *s = calloc(1, sizeof(*s));
    if (!s)
        return GUISE_E_OUTOFMEMORY;
    /* Zero means "default" so that a zero-initialised options struct is the
     * safe configuration rather than "no minimum". */
    s->min_uid = opt && opt->min_uid ? opt->min_uid : STORE_DEFAULT_MIN_UID;
    s->min_gid = opt && opt->min_gid ? opt->min_gid : STORE_DEFAULT_MIN_GID;
    unsigned ttl = opt && opt->ttl_seconds ? opt->ttl_seconds : STORE_DEFAULT_TTL;
    s->ttl_ns = (uint64_t)ttl * 1000000000u;

    s->allow = copy_names(opt ? opt->allow : NULL);
    s->guests = copy_names(opt ? opt->guests : NULL);
    if (!s->allow || !s->guests) {
        store_free_parts(s);
        return GUISE_E_OUTOFMEMORY;
    }
    guise_result r = copy_allow_groups(s, opt ? opt->allow_groups : NULL);
    if (r != GUISE_S_OK) {
        store_free_parts(s);
        return r;
    }
    int err = pthread_mutex_init(&s->lock, NULL);
    if (err) {
        store_free_parts(s);
        return GUISE_RESULT_FROM_ERRNO(err);
    }
    *out = s;
    return GUISE_S_OK;
}

void guise_token_store_free(guise_token_store *s)
{
    if (!s)
        return;
    guise_token_store_flush(s);
    pthread_mutex_destroy(&s->lock);
    store_free_parts(s);
}
