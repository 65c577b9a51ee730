/* guise: tokens - immutable, reference-counted account credentials. */
#include "token/token_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct guise_token {
    atomic_uint_fast32_t refs;
    uint64_t serial;
    char *name;
    uid_t uid;
    gid_t gid;
    bool is_group;
    size_t ngroups;
    gid_t groups[]; /* sorted, unique, contains gid */
};

/* Serial numbers start at 1 so that 0 can mean "no token" in caches. */
static atomic_uint_fast64_t next_serial = 1;

static int cmp_gid(const void *a, const void *b)
{
    gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
    return (x > y) - (x < y);
}

guise_token *guise_token_make(const char *name, uid_t uid, gid_t gid, const gid_t *groups,
                              size_t ngroups, bool is_group)
{
    if (!name || (ngroups && !groups) || ngroups > 65536) {
        errno = EINVAL;
        return NULL;
    }
    if (uid == 0 || gid == 0) {
        errno = EPERM;
        return NULL;
    }
    for (size_t i = 0; i < ngroups; i++) {
        if (groups[i] == 0) {
            errno = EPERM;
            return NULL;
        }
    }

    guise_token *t = calloc(1, sizeof(*t) + (ngroups + 1) * sizeof(gid_t));
    if (!t)
        return NULL;
    t->name = strdup(name);
    if (!t->name) {
        free(t);
        return NULL;
    }
    /* The primary gid is part of the group list handed to setgroups(), as
     * initgroups() would make it, so rights granted to it hold however the
     * kernel is asked. */
    if (ngroups)
        memcpy(t->groups, groups, ngroups * sizeof(gid_t));
    t->groups[ngroups] = gid;
    size_t n = ngroups + 1;
    qsort(t->groups, n, sizeof(gid_t), cmp_gid);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out == 0 || t->groups[out - 1] != t->groups[i])
            t->groups[out++] = t->groups[i];
    }
    t->ngroups = out;
    t->uid = uid;
    t->gid = gid;
    t->is_group = is_group;
    t->serial = atomic_fetch_add(&next_serial, 1);
    atomic_init(&t->refs, 1);
    return t;
}

guise_token *guise_token_ref(guise_token *t)
{
    if (t)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void guise_token_unref(guise_token *t)
{
    if (!t)
        return;
    /* acq_rel: the freeing thread must see every write made before the other
     * threads dropped their references. */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(t->name);
    free(t);
}

unsigned guise_token_refs(const guise_token *t)
{
    return (unsigned)atomic_load(&((guise_token *)t)->refs);
}

const char *guise_token_name(const guise_token *t)
{
    return t->name;
}

uid_t guise_token_uid(const guise_token *t)
{
    return t->uid;
}

gid_t guise_token_gid(const guise_token *t)
{
    return t->gid;
}

size_t guise_token_groups(const guise_token *t, const gid_t **groups)
{
    if (groups)
        *groups = t->groups;
    return t->ngroups;
}

bool guise_token_is_group(const guise_token *t)
{
    return t->is_group;
}

bool guise_token_in_group(const guise_token *t, gid_t gid)
{
    return bsearch(&gid, t->groups, t->ngroups, sizeof(gid_t), cmp_gid) != NULL;
}

uint64_t guise_token_serial(const guise_token *t)
{
    return t->serial;
}
