/* Basic plug-in: parsing and lookup of htpasswd files. */
#include "plugins/basic/basic_htpasswd.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct basic_user {
    char *name;
    char *hash;
    enum basic_hash_kind kind;
    size_t line;
};

struct basic_userdb {
    atomic_int refs;
    size_t n;
    struct basic_user *users; /* sorted by name */
};

static void free_users(struct basic_user *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(u[i].name);
        if (u[i].hash) {
            explicit_bzero(u[i].hash, strlen(u[i].hash));
            free(u[i].hash);
        }
    }
    free(u);
}

static bool name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return n > 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct basic_user *)a)->name, ((const struct basic_user *)b)->name);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One line (without its newline), blanks around it already stripped.
 * Returns NULL or the reason it is bad. */
static const char *parse_line(const char *s, size_t n, struct basic_user *u)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return "no ':' between user and hash";
    size_t ulen = (size_t)(colon - s);
    const char *h = colon + 1;
    const char *end = memchr(h, ':', n - ulen - 1);
    size_t hlen = end ? (size_t)(end - h) : n - ulen - 1;
    if (!name_ok(s, ulen))
        return "empty user name or control character in it";
    if (hlen == 0)
        return "empty hash";
    if (memchr(h, '\0', hlen) || memchr(s, '\0', ulen))
        return "NUL byte";
    u->name = strndup(s, ulen);
    u->hash = strndup(h, hlen);
    if (!u->name || !u->hash)
        return "out of memory";
    u->kind = basic_hash_classify(u->hash);
    return NULL;
}

guise_result basic_userdb_parse(const char *buf, size_t len, struct basic_userdb **out, char *err,
                                size_t err_size)
{
    struct basic_user *users = NULL;
    size_t n = 0, cap = 0, line = 0;
    const char *why = NULL;
    *out = NULL;
    for (size_t pos = 0; pos < len && !why;) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + 1;
        line++;
        /* Apache's reader strips blanks at both ends of every line. */
        while (l && is_blank(*s)) {
            s++;
            l--;
        }
        while (l && is_blank(s[l - 1]))
            l--;
        if (l == 0 || s[0] == '#')
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            struct basic_user *nu = realloc(users, ncap * sizeof *nu);
            if (!nu) {
                why = "out of memory";
                break;
            }
            users = nu;
            cap = ncap;
        }
        memset(&users[n], 0, sizeof users[n]);
        users[n].line = line;
        why = parse_line(s, l, &users[n]);
        n++;
    }
    if (!why && n > 1) {
        qsort(users, n, sizeof *users, by_name);
        for (size_t i = 1; i < n && !why; i++)
            if (strcmp(users[i - 1].name, users[i].name) == 0) {
                size_t a = users[i - 1].line, b = users[i].line;
                line = a > b ? a : b;
                why = "user listed twice";
            }
    }
    if (why) {
        snprintf(err, err_size, "line %zu: %s", line, why);
        free_users(users, n);
        return strcmp(why, "out of memory") == 0 ? GUISE_E_OUTOFMEMORY : GUISE_E_BAD_FORMAT;
    }
    struct basic_userdb *db = calloc(1, sizeof *db);
    if (!db) {
        free_users(users, n);
        snprintf(err, err_size, "out of memory");
        return GUISE_E_OUTOFMEMORY;
    }
    atomic_init(&db->refs, 1);
    db->n = n;
    db->users = users;
    *out = db;
    return GUISE_S_OK;
}

struct basic_userdb *basic_userdb_ref(struct basic_userdb *db)
{
    if (db)
        atomic_fetch_add(&db->refs, 1);
    return db;
}

void basic_userdb_unref(struct basic_userdb *db)
{
    if (!db || atomic_fetch_sub(&db->refs, 1) != 1)
        return;
    free_users(db->users, db->n);
    free(db);
}

size_t basic_userdb_count(const struct basic_userdb *db)
{
    return db ? db->n : 0;
}

const char *basic_userdb_find(const struct basic_userdb *db, const char *user,
                              enum basic_hash_kind *kind)
{
    if (!db || !db->n)
        return NULL;
    struct basic_user key = {.name = (char *)user};
    const struct basic_user *u = bsearch(&key, db->users, db->n, sizeof key, by_name);
    if (!u)
        return NULL;
    if (kind)
        *kind = u->kind;
    return u->hash;
}

const char *basic_userdb_sample_hash(const struct basic_userdb *db)
{
    for (size_t i = 0; db && i < db->n; i++)
        if (db->users[i].kind != BASIC_HASH_UNSUPPORTED)
            return db->users[i].hash;
    return NULL;
}

size_t basic_userdb_unusable(const struct basic_userdb *db, char *names, size_t size)
{
    size_t count = 0, pos = 0;
    if (size)
        names[0] = '\0';
    for (size_t i = 0; db && i < db->n; i++) {
        if (db->users[i].kind != BASIC_HASH_UNSUPPORTED)
            continue;
        if (pos < size) {
            int w = snprintf(names + pos, size - pos, "%s%s", count ? ", " : "", db->users[i].name);
            pos += w > 0 ? (size_t)w : 0;
        }
        count++;
    }
    return count;
}
