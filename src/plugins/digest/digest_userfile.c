/* Digest access authentication: parsing the user file into a user table. */
#include "plugins/digest/digest_userfile.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct digest_user {
    char *name;
    bool has[DIGEST_HASH_COUNT];
    char ha1[DIGEST_HASH_COUNT][DIGEST_MAX_HEX + 1];
    size_t line[DIGEST_HASH_COUNT]; /* where each came from, for duplicates */
};

/* One userhash index entry. */
struct hashed {
    char hex[DIGEST_MAX_HEX + 1];
    const struct digest_user *user;
};

struct digest_userdb {
    _Atomic unsigned refs;
    char *realm;
    struct digest_user *users; /* sorted by name */
    size_t count, cap;
    struct hashed *index[DIGEST_HASH_COUNT]; /* sorted by hex */
    size_t index_count[DIGEST_HASH_COUNT];
};

bool digest_userfile_name_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == ':')
            return false;
    }
    return true;
}

enum digest_line_kind digest_line_parse(const char *line, size_t len, struct digest_line *out,
                                        const char **why)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return DIGEST_LINE_EMPTY;
    if (len > DIGEST_USERFILE_MAX_LINE) {
        *why = "line too long";
        return DIGEST_LINE_BAD;
    }

    const char *field[5];
    size_t flen[5];
    size_t n = 0;
    const char *start = line;
    for (size_t k = 0; k <= len; k++) {
        if (k == len || line[k] == ':') {
            if (n == 4) {
                *why = "too many ':' separated fields";
                return DIGEST_LINE_BAD;
            }
            field[n] = start;
            flen[n] = (size_t)(line + k - start);
            n++;
            start = line + k + 1;
        }
    }
    if (n < 3) {
        *why = "expected user:realm:HA1 or user:realm:HASH:HA1";
        return DIGEST_LINE_BAD;
    }
    if (flen[0] == 0) {
        *why = "empty user name";
        return DIGEST_LINE_BAD;
    }
    if (!digest_userfile_name_ok(field[0], flen[0]) ||
        !digest_userfile_name_ok(field[1], flen[1])) {
        *why = "control character in user name or realm";
        return DIGEST_LINE_BAD;
    }
    out->user = field[0];
    out->user_len = flen[0];
    out->realm = field[1];
    out->realm_len = flen[1];
    out->ha1 = field[n - 1];
    out->ha1_len = flen[n - 1];
    out->marked = n == 4;
    if (!digest_is_hex(out->ha1, out->ha1_len)) {
        *why = "HA1 is not hex";
        return DIGEST_LINE_BAD;
    }
    if (out->marked) {
        if (!digest_hash_parse(field[2], flen[2], &out->hash)) {
            *why = "unknown hash marker (MD5, SHA-256 or SHA-512-256)";
            return DIGEST_LINE_BAD;
        }
        if (out->ha1_len != digest_hash_hex_len(out->hash)) {
            *why = "HA1 length does not match the hash marker";
            return DIGEST_LINE_BAD;
        }
    } else if (out->ha1_len == 32) {
        out->hash = DIGEST_HASH_MD5;
    } else if (out->ha1_len == 64) {
        out->hash = DIGEST_HASH_SHA256;
    } else {
        *why = "HA1 must have 32 (MD5) or 64 (SHA-256) hex digits";
        return DIGEST_LINE_BAD;
    }
    return DIGEST_LINE_ENTRY;
}

size_t digest_line_format(char *out, size_t size, const char *user, const char *realm,
                          enum digest_hash hash, const char *ha1_hex)
{
    int n;
    if (hash == DIGEST_HASH_SHA512_256)
        n = snprintf(out, size, "%s:%s:%s:%s", user, realm, digest_hash_name(hash), ha1_hex);
    else
        n = snprintf(out, size, "%s:%s:%s", user, realm, ha1_hex);
    if (n < 0 || (size_t)n >= size)
        return 0;
    return (size_t)n;
}

/* ---- user table ---- */

struct pending {
    struct digest_line l;
    size_t lineno;
};

static int cmp_pending(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    size_t n = x->l.user_len < y->l.user_len ? x->l.user_len : y->l.user_len;
    int c = memcmp(x->l.user, y->l.user, n);
    if (c != 0)
        return c;
    if (x->l.user_len != y->l.user_len)
        return x->l.user_len < y->l.user_len ? -1 : 1;
    if (x->l.hash != y->l.hash)
        return x->l.hash < y->l.hash ? -1 : 1;
    return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int cmp_hashed(const void *a, const void *b)
{
    return strcmp(((const struct hashed *)a)->hex, ((const struct hashed *)b)->hex);
}

static void db_free(struct digest_userdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->count; i++) {
        free(db->users[i].name);
        explicit_bzero(db->users[i].ha1, sizeof db->users[i].ha1);
    }
    free(db->users);
    for (int h = 0; h < DIGEST_HASH_COUNT; h++)
        free(db->index[h]);
    free(db->realm);
    free(db);
}

static guise_result build_index(struct digest_userdb *db)
{
    for (int h = 0; h < DIGEST_HASH_COUNT; h++) {
        size_t n = 0;
        for (size_t i = 0; i < db->count; i++)
            n += db->users[i].has[h];
        db->index[h] = calloc(n ? n : 1, sizeof *db->index[h]);
        if (!db->index[h])
            return GUISE_E_OUTOFMEMORY;
        n = 0;
        for (size_t i = 0; i < db->count; i++) {
            if (!db->users[i].has[h])
                continue;
            digest_userhash((enum digest_hash)h, db->users[i].name, db->realm, db->index[h][n].hex);
            db->index[h][n].user = &db->users[i];
            n++;
        }
        qsort(db->index[h], n, sizeof *db->index[h], cmp_hashed);
        db->index_count[h] = n;
    }
    return GUISE_S_OK;
}

/* Collects the entries of realm, line by line. */
static guise_result collect(const char *buf, size_t len, const char *realm, struct pending **out,
                            size_t *count, char *err, size_t err_size)
{
    size_t rlen = strlen(realm);
    struct pending *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        struct digest_line l;
        const char *why = NULL;
        lineno++;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            snprintf(err, err_size, "line %zu: NUL byte", lineno);
            free(v);
            return GUISE_E_BAD_FORMAT;
        }
        switch (digest_line_parse(p, (size_t)(eol - p), &l, &why)) {
        case DIGEST_LINE_BAD:
            snprintf(err, err_size, "line %zu: %s", lineno, why);
            free(v);
            return GUISE_E_BAD_FORMAT;
        case DIGEST_LINE_EMPTY:
            break;
        case DIGEST_LINE_ENTRY:
            if (l.realm_len != rlen || memcmp(l.realm, realm, rlen) != 0)
                break;
            if (n == cap) {
                size_t ncap = cap ? 2 * cap : 64;
                struct pending *nv = realloc(v, ncap * sizeof *v);
                if (!nv) {
                    free(v);
                    return GUISE_E_OUTOFMEMORY;
                }
                v = nv;
                cap = ncap;
            }
            v[n].l = l;
            v[n].lineno = lineno;
            n++;
            break;
        }
        p = nl ? nl + 1 : end;
    }
    *out = v;
    *count = n;
    return GUISE_S_OK;
}

guise_result digest_userdb_parse(const char *buf, size_t len, const char *realm,
                                 struct digest_userdb **out, char *err, size_t err_size)
{
    struct pending *v = NULL;
    size_t n = 0;
    *out = NULL;
    if (len > DIGEST_USERFILE_MAX_SIZE) {
        snprintf(err, err_size, "file larger than %u bytes", DIGEST_USERFILE_MAX_SIZE);
        return GUISE_E_BAD_FORMAT;
    }
    guise_result r = collect(buf, len, realm, &v, &n, err, err_size);
    if (r != GUISE_S_OK)
        return r;

    struct digest_userdb *db = calloc(1, sizeof *db);
    if (!db || !(db->realm = strdup(realm)) ||
        !(db->users = calloc(n ? n : 1, sizeof *db->users))) {
        free(v);
        db_free(db);
        return GUISE_E_OUTOFMEMORY;
    }
    atomic_init(&db->refs, 1);

    /* Sorted by user then hash: a user's lines are adjacent, duplicates too. */
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_pending);
    for (size_t i = 0; i < n; i++) {
        const struct digest_line *l = &v[i].l;
        struct digest_user *u = db->count ? &db->users[db->count - 1] : NULL;
        if (!u || strlen(u->name) != l->user_len || memcmp(u->name, l->user, l->user_len) != 0) {
            u = &db->users[db->count];
            u->name = strndup(l->user, l->user_len);
            if (!u->name) {
                r = GUISE_E_OUTOFMEMORY;
                break;
            }
            db->count++;
        }
        if (u->has[l->hash]) {
            snprintf(err, err_size, "line %zu: second %s entry for user '%s' (first on line %zu)",
                     v[i].lineno, digest_hash_name(l->hash), u->name, u->line[l->hash]);
            r = GUISE_E_BAD_FORMAT;
            break;
        }
        u->has[l->hash] = true;
        u->line[l->hash] = v[i].lineno;
        for (size_t k = 0; k < l->ha1_len; k++)
            u->ha1[l->hash][k] = (char)tolower((unsigned char)l->ha1[k]);
        u->ha1[l->hash][l->ha1_len] = '\0';
    }
    free(v);
    if (r == GUISE_S_OK)
        r = build_index(db);
    if (r != GUISE_S_OK) {
        if (r == GUISE_E_OUTOFMEMORY)
            snprintf(err, err_size, "out of memory");
        db_free(db);
        return r;
    }
    *out = db;
    return GUISE_S_OK;
}

struct digest_userdb *digest_userdb_ref(struct digest_userdb *db)
{
    if (db)
        atomic_fetch_add(&db->refs, 1);
    return db;
}

void digest_userdb_unref(struct digest_userdb *db)
{
    if (db && atomic_fetch_sub(&db->refs, 1) == 1)
        db_free(db);
}

size_t digest_userdb_count(const struct digest_userdb *db)
{
    return db->count;
}

const struct digest_user *digest_userdb_find(const struct digest_userdb *db, const char *name)
{
    size_t lo = 0, hi = db->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, db->users[mid].name);
        if (c == 0)
            return &db->users[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct digest_user *digest_userdb_find_hashed(const struct digest_userdb *db,
                                                    enum digest_hash hash, const char *hex)
{
    struct hashed key;
    size_t len = strlen(hex);
    if (len != digest_hash_hex_len(hash))
        return NULL;
    for (size_t i = 0; i <= len; i++)
        key.hex[i] = (char)tolower((unsigned char)hex[i]);
    const struct hashed *found =
        bsearch(&key, db->index[hash], db->index_count[hash], sizeof key, cmp_hashed);
    return found ? found->user : NULL;
}

const char *digest_user_name(const struct digest_user *u)
{
    return u->name;
}

const char *digest_user_ha1(const struct digest_user *u, enum digest_hash hash)
{
    return u->has[hash] ? u->ha1[hash] : NULL;
}
